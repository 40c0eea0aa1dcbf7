import json
import logging
import zlib
from contextlib import contextmanager, nullcontext

from odoo import api, fields, models
from odoo.modules import module as odoo_module
from odoo.sql_db import Cursor

from ..allocation import Rotation
from .side_transaction import numbered, side_transaction

_logger = logging.getLogger(__name__)

# First keys of the advisory locks taken on allocation pools and on the tickets of the
# requests running (any constants of our own).
LOCK_NAMESPACE = 0x1EAD
TICKET_NAMESPACE = 0x1EAE


class LeadAllocationState(models.Model):
    """Storage of the rotation of the allocation pools (``lead.allocation.pool``), shared
    by every worker, and its tickets.

    The newest row of a pool is its live state; rows are only ever inserted. A request
    draws its leads in a short transaction of its own (``_locked``): it locks the pool,
    reads the newest row, settles the tickets of the requests that ended, draws, stores
    a new row with its own ticket pending, and commits, which frees the pool for the
    next request at once. The request holds a shared advisory lock on its ticket, the id
    of a claim (``lead.allocation.claim``) it inserts in the same transaction as its
    leads. When the lock is gone the request ended: its ticket was
    used if the claim is there (the leads were saved), else its members are given back,
    to be handed out first (``allocation.Rotation``). Whatever fails, the saved leads
    follow the rotation. Superseded rows and settled claims are pruned by Odoo's
    autovacuum job (``_gc_states``).

    In a test's transaction, which the test rolls back as a whole, the pool is locked
    and the row stored in that transaction, nothing pending (see ``_runs_alone``).
    """

    _name = "lead.allocation.state"
    _description = "Lead Allocation Pool State"
    _log_access = False
    _order = "id desc"

    pool_key = fields.Char(required=True, readonly=True)
    signature = fields.Char(
        required=True, readonly=True, help="Members and weights the counts belong to."
    )
    counts = fields.Json(readonly=True, help="Leads per member since the pool last changed.")
    returned = fields.Json(
        readonly=True, help="Members given back by failed requests, handed out first."
    )
    pending = fields.Json(
        readonly=True, help="Tickets of the requests still running, with their members."
    )
    credits = fields.Json(
        readonly=True,
        help="Part of the leads each member could receive (at work) that their weight gave "
        "them, in units of allocation.rotation.draw.",
    )

    _pool_key_id_idx = models.Index("(pool_key, id)")

    @api.model
    @contextmanager
    def _locked(self, pool_key):
        """Lock the pool and yield ``(rotation, cr)``: its rotation and the cursor of the
        locked transaction. What is drawn from ``rotation`` inside the block is stored on
        leaving it, pending under this transaction's ticket, and the lock is freed.

        Callers flush what ``cr`` must see before entering: in a transaction of its own,
        ``cr`` sees only what committed."""
        ticket = self._take_ticket() if _runs_alone(self.env.cr) else None
        key = (LOCK_NAMESPACE, _lock_key(pool_key), pool_key)
        with _own_transaction(self.env.cr) if ticket else nullcontext(self.env.cr) as cr:
            # One round trip: the lock, then (a statement of its own, which sees what
            # committed while it waited) the newest row with the status of its tickets.
            cr.execute(_LOCK_NEWEST_PREPARED if ticket else _LOCK_NEWEST, key)
            row = cr.fetchone()
            rotation = _rotation(row and row[:-1])
            self._settle(cr, [rotation], row and row[-1])
            yield rotation, cr
            if ticket:
                rotation.reserve(ticket)
                # the new row and the commit in one round trip, the lock freed with it
                cr.commit(_INSERT_PREPARED, _insert_params(pool_key, rotation))
            else:
                self._insert(cr, pool_key, rotation)

    @api.model
    def _take_ticket(self):
        """A ticket of this transaction: the id of a claim inserted in it, and a shared
        lock on it that tells the transaction runs. Both come before the draw: from the
        moment the ticket is stored, others can tell running, used and failed apart."""
        self.env.cr.execute(
            """
            INSERT INTO lead_allocation_claim (id)
                 SELECT ticket FROM nextval('lead_allocation_claim_id_seq') ticket,
                        pg_advisory_xact_lock_shared(%s, ticket::int)
              RETURNING id
            """,
            (TICKET_NAMESPACE,),
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _settle(self, cr, rotations, statuses=None):
        """Settle the pending tickets of the requests that ended, in ``rotations``;
        ``statuses``: ``[[ticket, used, running]]`` of them when read already."""
        tickets = [entry[0] for rotation in rotations for entry in rotation.pending]
        if not tickets:
            return
        if statuses is None:
            cr.execute(
                f"SELECT t, {_TICKET_STATUS} FROM unnest(%s::bigint[]) t",
                (tickets,),
            )
            statuses = cr.fetchall()
        used = {ticket for ticket, is_used, _running in statuses if is_used}
        unseen = [ticket for ticket, is_used, running in statuses if not is_used and not running]
        if unseen:
            # failed, or committed since the statement began: a later statement tells, as a
            # request's commit is seen before its lock is released
            cr.execute("SELECT id FROM lead_allocation_claim WHERE id = ANY(%s)", (unseen,))
            used.update(row[0] for row in cr.fetchall())
        ended = used.union(unseen)
        for rotation in rotations:
            for ticket in [entry[0] for entry in rotation.pending if entry[0] in ended]:
                rotation.settle(ticket, ticket in used)

    @api.model
    def _read(self, pool_keys):
        """``{pool key: rotation}``: the rotations of the pools as the last allocation
        left them, read in a fixed number of queries; neither locks nor stores."""
        cr = self.env.cr
        # The newest rows this transaction sees, and whether a row exists that it cannot
        # see: the id sequence is not transactional, so an id above the highest visible
        # one means a row committed after this transaction's snapshot (or rolled back, or
        # a ticket taken).
        cr.execute(
            "SELECT last_value > COALESCE((SELECT max(id) FROM lead_allocation_state), 0)"
            " FROM lead_allocation_state_id_seq"
        )
        hidden = cr.fetchone()[0]
        rows = self._newest(cr, pool_keys)
        rotations = {key: _rotation(row) for key, row in rows.items()}
        pending = any(rotation.pending for rotation in rotations.values())
        if (hidden or pending) and _runs_alone(cr):
            # the newest committed rows, seen past this transaction's snapshot, with the
            # tickets of the requests that ended settled, as the next draw will
            with _own_transaction(cr) as read_cr:
                for key, committed in self._newest(read_cr, pool_keys).items():
                    if committed and (not rows[key] or committed[0] > rows[key][0]):
                        rotations[key] = _rotation(committed)
                self._settle(read_cr, list(rotations.values()))
        return rotations

    @api.model
    def _newest(self, cr, pool_keys):
        """``{pool key: its newest row that cr sees (_COLUMNS), or None}``."""
        cr.execute(
            f"""
            SELECT key, {_COLUMNS}
              FROM unnest(%s::varchar[]) AS pool(key)
              LEFT JOIN LATERAL (
                   SELECT {_COLUMNS} FROM lead_allocation_state
                    WHERE pool_key = pool.key ORDER BY id DESC LIMIT 1) s ON TRUE
            """,
            (list(pool_keys),),
        )
        return {key: row if row[0] is not None else None for key, *row in cr.fetchall()}

    @api.model
    def _insert(self, cr, pool_key, rotation):
        # under the pool's lock: the ids of a pool's rows follow their commits
        cr.execute(_INSERT, _insert_params(pool_key, rotation))

    @api.autovacuum
    def _gc_states(self):
        """Delete the rows that a newer row of the same pool supersedes, and the claims
        of the tickets no longer pending."""
        cr = self.env.cr
        cr.execute(
            """
            DELETE FROM lead_allocation_state old
             WHERE EXISTS (SELECT 1 FROM lead_allocation_state new
                            WHERE new.pool_key = old.pool_key AND new.id > old.id)
            """
        )
        _logger.info("Pruned %s superseded lead allocation states", cr.rowcount)
        cr.execute("SELECT pending FROM lead_allocation_state WHERE pending IS NOT NULL")
        pending = [entry[0] for (entries,) in cr.fetchall() for entry in entries]
        cr.execute("DELETE FROM lead_allocation_claim WHERE NOT id = ANY(%s)", (pending,))


_COLUMNS = "id, signature, counts, returned, pending, credits"
# Of a pending ticket ``t``: whether its claim is seen (its request committed: used), and
# whether its request still holds the shared lock on it (running): then the exclusive lock
# cannot be taken. Taken, it is held until the reader's transaction ends, harmlessly: the
# request that held the ticket ended. A reader that finds it taken by another reader leaves
# the ticket pending, as if it ran, until a later draw. (Cheaper than reading pg_locks,
# which copies the lock table of every backend.)
_TICKET_STATUS = f"""
    EXISTS (SELECT FROM lead_allocation_claim WHERE id = t),
    NOT pg_try_advisory_xact_lock({TICKET_NAMESPACE}, t::int)
"""
# The draw's statements: the pool's lock; its newest row with the status of its pending
# tickets; a new row. Prepared once per kept connection (``side_transaction``); in a test's
# transaction, run as they are.
_LOCK = "SELECT pg_advisory_xact_lock(%s, %s)"
_NEWEST = f"""
    SELECT {_COLUMNS}, (SELECT jsonb_agg(jsonb_build_array(t, {_TICKET_STATUS}))
                          FROM jsonb_array_elements(pending) e, CAST(e->>0 AS bigint) t)
      FROM lead_allocation_state WHERE pool_key = %s ORDER BY id DESC LIMIT 1
"""
_INSERT = (
    "INSERT INTO lead_allocation_state (pool_key, signature, counts, returned, pending, credits)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)
_PREPARED = {
    "lead_allocation_lock": numbered(_LOCK),
    "lead_allocation_newest": numbered(_NEWEST),
    "lead_allocation_insert": numbered(_INSERT),
}
_LOCK_NEWEST = f"{_LOCK}; {_NEWEST}"
# The commit need not wait for the disk: whatever is saved on the strength of the new row
# commits after it, and a commit writes the log up to itself.
_LOCK_NEWEST_PREPARED = (
    "SET LOCAL synchronous_commit TO OFF;"
    " EXECUTE lead_allocation_lock(%s, %s); EXECUTE lead_allocation_newest(%s)"
)
_INSERT_PREPARED = "EXECUTE lead_allocation_insert(%s, %s, %s, %s, %s, %s)"


def _own_transaction(cr):
    """A transaction of its own, on another connection to the database of ``cr``,
    committed at the end; READ COMMITTED: each statement sees what committed before it,
    the wait for a lock included (``side_transaction``)."""
    return side_transaction(cr.dbname, _PREPARED)


def _runs_alone(cr):
    """Whether the transaction of ``cr`` commits or rolls back on its own, so that what
    it draws may be committed apart. Not a test's: the registry's test cursor, or the
    cursor of a TransactionCase, both rolled back as a whole at the test's end."""
    test = odoo_module.current_test
    return isinstance(cr, Cursor) and not (test and cr is getattr(test, "cr", None))


def _insert_params(pool_key, rotation):
    return (
        pool_key,
        rotation.signature,
        json.dumps(rotation.counts),
        json.dumps(rotation.returned),
        json.dumps(rotation.pending),
        json.dumps(rotation.credits),
    )


def _rotation(row):
    """The ``Rotation`` of a row of ``_COLUMNS`` (none: a new pool)."""
    if not row or row[0] is None:
        return Rotation()
    _id, sig, counts, returned, pending, credits = row
    return Rotation(
        sig,
        {int(key): count for key, count in (counts or {}).items()},
        returned or (),
        pending or (),
        {int(key): credit for key, credit in (credits or {}).items()},
    )


def pool_key(company_id, team_id):
    """The key of the pool of a company and a team (0: the leads without a team)."""
    return f"{company_id}-{team_id}"


def _lock_key(pool_key):
    """A signed 32-bit integer for ``pg_advisory_xact_lock(int, int)``."""
    return zlib.crc32(pool_key.encode()) - 2**31
