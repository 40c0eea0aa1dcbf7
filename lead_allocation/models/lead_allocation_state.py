import json
import logging
import zlib

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import api, fields, models, sql_db
from odoo.sql_db import Cursor

from ..allocation import Rotation

_logger = logging.getLogger(__name__)

# First key of the advisory locks taken on allocation pools (any constant of our own).
LOCK_NAMESPACE = 0x1EAD


class LeadAllocationState(models.Model):
    """Storage of the rotation of the allocation pools (``lead.allocation.pool``), shared
    by every worker.

    The newest row of a pool is its live state; rows are only ever
    inserted, so parallel transactions never update the same row (no serialization
    failure, no replayed request). Allocations to one pool are serialized by a
    transaction-level advisory lock, and the newest committed row is read through a
    separate READ COMMITTED connection when this transaction's snapshot may be older
    than the last allocation, so it still continues from it. Superseded rows are pruned
    by a cron.
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
    date = fields.Datetime(default=fields.Datetime.now, readonly=True)

    _pool_key_id_idx = models.Index("(pool_key, id)")

    @api.model
    def _acquire(self, pool_key):
        """Lock the pool until the end of the transaction and return its rotation."""
        self.env.cr.execute(
            "SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, _lock_key(pool_key))
        )
        return self._read(pool_key)

    @api.model
    def _read(self, pool_key):
        """The pool's rotation as the last allocation left it; neither locks nor stores."""
        cr = self.env.cr
        # The newest row this transaction sees, and whether a row exists that it cannot
        # see: the id sequence is not transactional, so an id above the highest visible
        # one means a row committed after this transaction's snapshot (or rolled back).
        cr.execute(
            """
            SELECT s.id, s.signature, s.counts,
                   seq.last_value > COALESCE((SELECT max(id) FROM lead_allocation_state), 0)
              FROM lead_allocation_state_id_seq seq
              LEFT JOIN LATERAL (
                   SELECT id, signature, counts FROM lead_allocation_state
                    WHERE pool_key = %s ORDER BY id DESC LIMIT 1) s ON TRUE
            """,
            (pool_key,),
        )
        *row, hidden = cr.fetchone()
        committed = self._read_committed(pool_key) if hidden else None
        if committed and (row[0] is None or committed[0] > row[0]):
            row = committed
        if row[0] is None:
            return Rotation()
        return Rotation(row[1], {int(key): count for key, count in (row[2] or {}).items()})

    @api.model
    def _store(self, pool_key, rotation):
        self.env.cr.execute(
            "INSERT INTO lead_allocation_state (pool_key, signature, counts, date)"
            " VALUES (%s, %s, %s, now() AT TIME ZONE 'UTC')",
            (pool_key, rotation.signature, json.dumps(rotation.counts)),
        )

    @api.model
    def _read_committed(self, pool_key):
        """The newest committed row, seen past this transaction's snapshot.

        Only a real database cursor has a snapshot to look past; inside a test cursor
        (the registry in test mode) everything already runs in one transaction.
        """
        if not isinstance(self.env.cr, Cursor):
            return None
        with sql_db.db_connect(self.env.cr.dbname).cursor() as cr:
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            cr.execute(
                "SELECT id, signature, counts FROM lead_allocation_state"
                " WHERE pool_key = %s ORDER BY id DESC LIMIT 1",
                (pool_key,),
            )
            return cr.fetchone()

    @api.model
    def _gc_states(self):
        """Delete the rows that a newer row of the same pool supersedes."""
        self.env.cr.execute(
            """
            DELETE FROM lead_allocation_state old
             WHERE EXISTS (SELECT 1 FROM lead_allocation_state new
                            WHERE new.pool_key = old.pool_key AND new.id > old.id)
            """
        )
        _logger.info("Pruned %s superseded lead allocation states", self.env.cr.rowcount)


def _lock_key(pool_key):
    """A signed 32-bit integer for ``pg_advisory_xact_lock(int, int)``."""
    return zlib.crc32(pool_key.encode()) - 2**31
