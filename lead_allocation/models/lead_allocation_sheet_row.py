from odoo import api, fields, models
from odoo.tools import SQL

from ..sheets.rows import TAB_KEY_PREFIX

ROW_STATES = [
    ("imported", "Imported"),
    ("duplicate", "Skipped (duplicate)"),
    ("error", "Error"),
]


class LeadAllocationSheetRow(models.Model):
    """Outcome of the sheet rows: the sync log of a source, and its imported row keys.
    Only its own SQL lives here (claim, release, link, log); the sync decides.

    An ``imported`` line is written in the same transaction as its lead, and at most one
    exists per source and row key (unique index): a row is never imported twice, even by
    two syncs running at once. ``duplicate`` and ``error`` lines only inform.
    """

    _name = "lead.allocation.sheet.row"
    _description = "Google Sheet Row"
    _order = "date desc, id desc"
    _log_access = False
    _rec_name = "key"

    sheet_id = fields.Many2one(
        "lead.allocation.sheet", required=True, readonly=True, index=True, ondelete="cascade"
    )
    key = fields.Char(
        required=True,
        readonly=True,
        help="The row's id (ID column) or a hash of who the lead is (no ID column).",
    )
    state = fields.Selection(ROW_STATES, string="Outcome", required=True, readonly=True)
    row_number = fields.Integer(readonly=True, help="Row number in the sheet at that sync.")
    worksheet = fields.Char(string="Tab", readonly=True, help="The tab of the sheet it was in.")
    lead_id = fields.Many2one(
        "crm.lead", readonly=True, index="btree_not_null", ondelete="set null"
    )
    message = fields.Char(readonly=True)
    date = fields.Datetime(required=True, readonly=True, help="Start of the sync.")
    sync_number = fields.Integer(readonly=True, help="The sync of the source that wrote it.")

    _sheet_key_imported_uniq = models.UniqueIndex(
        "(sheet_id, key) WHERE state = 'imported'",
        "This row of the sheet was already imported.",
    )
    _sheet_key_idx = models.Index("(sheet_id, key, id)")

    @api.model
    def _imported_rows(self, sheet_id, keys):
        """``{key: [sync number, row number, lead id]}`` of the rows of ``keys`` imported."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT key, sync_number, row_number, lead_id FROM lead_allocation_sheet_row"
                " WHERE sheet_id = %s AND state = 'imported' AND key = ANY(%s)",
                sheet_id,
                keys,
            )
        )
        return {key: rest for key, *rest in self.env.cr.fetchall()}

    @api.model
    def _claim(self, sheet_id, sync_number, started, worksheet, rows):
        """Insert the ``imported`` lines of ``rows`` (``[(key, row number)]``) of tab
        ``worksheet``, sync ``sync_number``, unless already there; ``{key: id}`` of the
        lines inserted."""
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO lead_allocation_sheet_row
                       (sheet_id, key, state, row_number, date, sync_number, worksheet)
                SELECT %s, v.key, 'imported', v.number, %s, %s, %s
                  FROM unnest(%s::varchar[], %s::int[]) AS v(key, number)
                ON CONFLICT (sheet_id, key) WHERE state = 'imported' DO NOTHING
                RETURNING key, id
                """,
                sheet_id,
                started,
                sync_number,
                worksheet,
                [key for key, _number in rows],
                [number for _key, number in rows],
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _release(self, row_ids):
        """Drop the claims of the rows whose lead could not be created."""
        if row_ids:
            self.env.cr.execute(
                SQL("DELETE FROM lead_allocation_sheet_row WHERE id = ANY(%s)", row_ids)
            )

    @api.model
    def _link_leads(self, pairs):
        """Set the lead of each ``(row id, lead id)`` of ``pairs``."""
        if pairs:
            self.env.cr.execute(
                SQL(
                    """
                    UPDATE lead_allocation_sheet_row r SET lead_id = v.lead_id
                      FROM unnest(%s::int[], %s::int[]) AS v(id, lead_id)
                     WHERE r.id = v.id
                    """,
                    [row_id for row_id, _lead in pairs],
                    [lead for _row_id, lead in pairs],
                )
            )
        self.invalidate_model()

    @api.model
    def _write_log(self, log):
        """Store the duplicate and error lines; an error already logged with the same
        message for the same row key is only dated again."""
        if not log:
            return
        errors = [vals for vals in log if vals["state"] == "error"]
        if errors:
            logged = self._logged_errors(errors[0]["sheet_id"], [vals["key"] for vals in errors])
            repeated = self.browse()
            for vals in errors:
                row_id, message = logged.get(vals["key"], (None, None))
                if message == vals["message"]:
                    repeated |= self.browse(row_id)
                    log.remove(vals)
            # sudo: the log is written by the sync, whoever started it
            repeated.sudo().write({"date": errors[0]["date"]})
        # sudo: the log is written by the sync, whoever started it
        self.sudo().create(log)

    @api.model
    def _logged_errors(self, sheet_id, keys):
        """``{key: (id, message)}`` of the newest error line of each of ``keys``."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT ON (key) key, id, message FROM lead_allocation_sheet_row"
                " WHERE sheet_id = %s AND state = 'error' AND key = ANY(%s)"
                " ORDER BY key, id DESC",
                sheet_id,
                keys,
            )
        )
        return {key: (row_id, message) for key, row_id, message in self.env.cr.fetchall()}

    @api.model
    def _write_back_lines(self, sheet_id, keys):
        """What the sheet shows of each of ``keys``: ``{key: (state, lead id, salesperson
        name, message, date)}`` of its imported line, or else of its newest error line;
        the salesperson is the lead's current one."""
        self.flush_model()
        self.env["crm.lead"].flush_model(["user_id"])
        self.env.cr.execute(
            SQL(
                """
                SELECT DISTINCT ON (r.key) r.key, r.state, r.lead_id, p.name, r.message, r.date
                  FROM lead_allocation_sheet_row r
                  LEFT JOIN crm_lead l ON l.id = r.lead_id
                  LEFT JOIN res_users u ON u.id = l.user_id
                  LEFT JOIN res_partner p ON p.id = u.partner_id
                 WHERE r.sheet_id = %s AND r.key = ANY(%s) AND r.state IN ('imported', 'error')
                 ORDER BY r.key, r.state = 'imported' DESC, r.id DESC
                """,
                sheet_id,
                keys,
            )
        )
        return {key: rest for key, *rest in self.env.cr.fetchall()}

    @api.model
    def _retab_keys(self, sheet_id, tab, several):
        """Keep the keys of ``sheet_id`` in step with the number of tabs it reads: with
        ``several``, give a tab to the keys without one (their tab, or ``tab`` when the
        line does not know it: the one tab read before); else take it off the keys of
        ``tab``. One statement that finds nothing once the keys are in step."""
        if several:
            prefix = SQL("%s || coalesce(worksheet, %s) || '!'", TAB_KEY_PREFIX, tab)
            query = SQL(
                "UPDATE lead_allocation_sheet_row SET key = %s || key,"
                " worksheet = coalesce(worksheet, %s)"
                " WHERE sheet_id = %s AND left(key, %s) != %s",
                prefix, tab, sheet_id, len(TAB_KEY_PREFIX), TAB_KEY_PREFIX,
            )  # fmt: skip
        else:
            prefix = f"{TAB_KEY_PREFIX}{tab}!"
            query = SQL(
                "UPDATE lead_allocation_sheet_row SET key = substr(key, length(%s) + 1)"
                " WHERE sheet_id = %s AND left(key, length(%s)) = %s",
                prefix, sheet_id, prefix, prefix,
            )  # fmt: skip
        self.flush_model()
        self.env.cr.execute(query)
        if self.env.cr.rowcount:
            self.invalidate_model(["key", "worksheet"])
