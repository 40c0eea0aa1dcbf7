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

All arithmetic is on integers: no rounding while the same members are drawn among.

Availability: members outside their working hours or on time off are left out of a
draw without a new epoch. Each lead's *credit* (what the exact shares add up) goes to the
members it was drawn among only, and the rule above reads the credits instead of
``n * w_i / W``: a member back at work missed no credit while away, so gets no burst of
catch-up leads, and nobody starves however often the members at work change
(property-tested: within two leads of the share of the leads each could receive).

The rotation state is the counts and credits since the pool last changed.  Any
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


# Credits are counted in units of 1 / (RESOLUTION * W), W the weights of all the members
# of the epoch: exact while every member is drawn among (Tijdeman's case); a share among
# fewer members is rounded to the unit, a billionth of a lead.
RESOLUTION = 10**9


def draw(
    weights: Mapping[Hashable, int], counts: Mapping[Hashable, int], credits: dict, unit: int
) -> Hashable:
    """Tijdeman's rule on *credits*: return who gets the next lead among ``weights`` and
    share its credit among them (``credits`` is updated, in integer units: ``unit`` is
    one lead).

    A member's credit is the part of the leads they could receive that their weight gave
    them: each lead adds ``w_i / W`` to each member of ``weights`` (``W`` their sum). Drawn
    from the start of an epoch among the same members, the credit is ``n * w_i / W`` and
    this is the rule above: *allowed*, ``x_i + 1 - credit_i <= mu``; first *deadline*,
    the lead after which the credit would pass ``x_i + mu``. When the members drawn among change,
    each keeps the credit of the leads they could receive, so the choice follows them.
    """
    if not weights:
        raise ValueError("nobody to allocate to: every weight is zero")
    total = sum(weights.values())
    shares = {key: weight * unit // total for key, weight in weights.items()}
    for key in sorted(weights)[: unit - sum(shares.values())]:  # the rounding, if any
        shares[key] += 1
    scale = max(2 * len(weights) - 2, 1)  # mu = (scale - 1) / scale

    def behind(key):  # (x_i + mu - credit_i) * scale, in units
        return (counts.get(key, 0) * unit - credits.get(key, 0)) * scale + (scale - 1) * unit

    allowed = [
        key
        for key in sorted(weights)
        if ((counts.get(key, 0) + 1) * unit - credits.get(key, 0) - shares[key]) * scale
        <= (scale - 1) * unit
    ]
    best = None
    for key in allowed or sorted(weights):  # the fallback cannot happen among the same members
        # deadline behind(key) / weight, compared as a fraction (ties: the smallest key)
        if best is None or behind(key) * weights[best] < behind(best) * weights[key]:
            best = key
    for key, share in shares.items():
        credits[key] = credits.get(key, 0) + share
    return best


class Rotation:
    """The state of one pool: its signature, the counts of the current epoch, the members
    given back (handed out first) and the pending tickets: ``[ticket, members drawn,
    members drawn in an earlier epoch]``."""

    __slots__ = ("_drawing", "counts", "credits", "pending", "returned", "signature")

    def __init__(
        self,
        sig: str = "",
        counts: Mapping[Hashable, int] | None = None,
        returned: Sequence[Hashable] = (),
        pending: Sequence[Sequence] = (),
        credits: Mapping[Hashable, int] | None = None,
    ):
        self.signature = sig
        self.counts = dict(counts or {})
        self.returned = list(returned)
        self.pending = [[ticket, list(keys), list(earlier)] for ticket, keys, earlier in pending]
        self.credits = dict(credits or {})
        self._drawing = [None, [], []]  # the entry of the draws not reserved yet

    def next(
        self, weights: Mapping[Hashable, int], generation: str = "", available=None
    ) -> Hashable:
        """Pick the member for the next lead among those ``available`` (default: every
        member of ``weights``) and record it.

        Members not available (outside their working hours, on time off) keep their
        place in the epoch, whose signature is that of all the members: only the members
        available share each lead's *credit*, by their weights (see ``draw``). So a member
        back at work has missed no credit while away and gets no catch-up, and nobody
        starves however often the members available change. With every member available,
        the credits are ``n * w_i / W`` and the draw is Tijdeman's."""
        sig = signature(weights, generation)
        if sig != self.signature:  # the pool changed: new epoch, no catch-up
            self.signature, self.counts, self.returned, self.credits = sig, {}, [], {}
            # what running requests drew still counts for daily caps, but is not given
            # back: the new epoch's counts do not include it
            for entry in [*self.pending, self._drawing]:
                entry[1:] = [], entry[2] + entry[1]
        drawing = {
            key: weight
            for key, weight in weights.items()
            if weight > 0 and (available is None or key in available)
        }
        key = next((key for key in self.returned if key in drawing), None)
        if key is not None:  # given back by a failed request: its credit was shared then
            self.returned.remove(key)
        else:
            key = draw(drawing, self.counts, self.credits, RESOLUTION * sum(weights.values()))
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
