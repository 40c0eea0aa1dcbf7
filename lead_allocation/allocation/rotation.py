"""Weighted round robin with a bounded deviation, in plain Python.

The problem is the *chairman assignment problem*: salespeople ``i`` with weights
``w_i`` (``W`` = their sum) receive leads one at a time; after ``n`` leads the
exact share of ``i`` is ``n * w_i / W`` and the count ``x_i(n)`` must never
stray from it by a whole lead.

We use Tijdeman's earliest-deadline rule (R. Tijdeman, *The chairman assignment
problem*, Discrete Mathematics 32, 1980), which keeps every prefix within
``mu = 1 - 1 / (2k - 2)`` of the exact shares for ``k >= 2`` people:

* a person is *allowed* at step ``n`` when giving them the lead keeps them
  within ``mu`` above their share: ``x_i + 1 - n * w_i / W <= mu``;
* among the allowed, the lead goes to the earliest *deadline*, the step after
  which they would fall ``mu`` below their share if they got nothing:
  ``(x_i + mu) / (w_i / W)``.  Ties go to the smallest key, so the sequence is
  deterministic.

All arithmetic is on integers (scaled by ``W * (2k - 2)``): no rounding.

The rotation state is the counts since the pool last changed.  Any
change of the pool (a weight edit, a pause, a new member, a cap reached) starts
a new *epoch* with zero counts: the bound then holds from that point on, with
the new weights, and nobody receives a burst of catch-up leads.  A change that
is undone before the next lead (a pause and a resume) still counts as one: the
caller passes a ``generation`` that moves with every change of the settings.

Tickets: parallel requests draw from the rotation without waiting for each other's end.
Each draws its leads, keeps them *pending* under a ticket while it runs, then the ticket is
*settled*: used (its leads were saved) or given back (the request failed).  The members
of a ticket given back are handed out again, first, to the next leads.  So whatever
fails, the leads saved are the draws of the sequence above: once nothing is given back
and waiting, their counts are exactly the counts of that sequence, within the bound.
"""

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence


def signature(weights: Mapping[Hashable, int], generation: str = "") -> str:
    """A stable text that changes whenever the pool, a weight or the generation changes."""
    members = ",".join(f"{key}:{weight}" for key, weight in sorted(weights.items()))
    return f"{members}@{generation}" if generation else members


def pick(weights: Mapping[Hashable, int], counts: Mapping[Hashable, int]) -> Hashable:
    """Return who gets the next lead.

    ``weights`` maps each member to a positive integer weight; ``counts`` maps
    members to the leads they received in this epoch (missing means 0; keys
    that are not in ``weights`` are ignored).
    """
    members = sorted(key for key, weight in weights.items() if weight > 0)
    if not members:
        raise ValueError("nobody to allocate to: every weight is zero")
    if len(members) == 1:
        return members[0]
    total = sum(weights[key] for key in members)
    step = sum(counts.get(key, 0) for key in members) + 1  # the step being decided
    scale = 2 * len(members) - 2  # mu = (scale - 1) / scale
    best_key, best_deadline = None, None
    for key in members:
        weight, count = weights[key], counts.get(key, 0)
        # allowed: count + 1 - step * weight / total <= mu, times total * scale
        if (count + 1) * total * scale - step * weight * scale > (scale - 1) * total:
            continue
        # deadline (count + mu) * total / weight, compared as a fraction
        deadline = ((count * scale + scale - 1) * total, weight * scale)
        if best_deadline is None or deadline[0] * best_deadline[1] < best_deadline[0] * deadline[1]:
            best_key, best_deadline = key, deadline
    if best_key is None:  # cannot happen (Tijdeman's theorem), kept as a safety net
        raise AssertionError(f"no member allowed; weights={weights!r} counts={counts!r}")
    return best_key


class Rotation:
    """The state of one pool: its signature, the counts of the current epoch, the members
    given back (handed out first) and the pending tickets: ``[ticket, members drawn,
    members drawn in an earlier epoch]``."""

    __slots__ = ("_drawing", "counts", "pending", "returned", "signature")

    def __init__(
        self,
        sig: str = "",
        counts: Mapping[Hashable, int] | None = None,
        returned: Sequence[Hashable] = (),
        pending: Sequence[Sequence] = (),
    ):
        self.signature = sig
        self.counts = dict(counts or {})
        self.returned = list(returned)
        self.pending = [[ticket, list(keys), list(earlier)] for ticket, keys, earlier in pending]
        self._drawing = [None, [], []]  # the entry of the draws not reserved yet

    def next(self, weights: Mapping[Hashable, int], generation: str = "") -> Hashable:
        """Pick the member for the next lead and record it."""
        sig = signature(weights, generation)
        if sig != self.signature:  # the pool changed: new epoch, no catch-up
            self.signature, self.counts, self.returned = sig, {}, []
            # what running requests drew still counts for daily caps, but is not given
            # back: the new epoch's counts do not include it
            for entry in [*self.pending, self._drawing]:
                entry[1:] = [], entry[2] + entry[1]
        if self.returned:  # same epoch, so the member is in ``weights``
            key = self.returned.pop(0)
        else:
            key = pick(weights, self.counts)
            self.counts[key] = self.counts.get(key, 0) + 1
        self._drawing[1].append(key)
        return key

    def reserve(self, ticket) -> None:
        """Keep the members drawn since the last reservation pending under ``ticket``."""
        if self._drawing[1] or self._drawing[2]:
            self._drawing[0] = ticket
            self.pending.append(self._drawing)
        self._drawing = [None, [], []]

    def settle(self, ticket, used: bool) -> None:
        """End the pending ``ticket``: used, or its members given back, handed out first."""
        for entry in self.pending:
            if entry[0] == ticket:
                self.pending.remove(entry)
                if not used:
                    self.returned.extend(entry[1])
                return

    def in_flight(self) -> Counter:
        """Leads per member drawn under the pending tickets."""
        return Counter(key for _ticket, keys, earlier in self.pending for key in keys + earlier)
