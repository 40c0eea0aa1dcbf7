from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL
from odoo.tools.misc import clean_context

from ..intake import IntakeError, parse_lead_payload
from ..sheets import map_row, row_key
from ..sheets.rows import ROW_ID_FIELD

ROW_STATES = [
    ("imported", "Imported"),
    ("duplicate", "Skipped (duplicate)"),
    ("error", "Error"),
]

# What may refuse one row's lead (bad value, constraint): the row is logged as an error.
CREATE_ERRORS = (UserError, ValueError, pg_errors.IntegrityError, pg_errors.DataError)


class LeadAllocationSheetRow(models.Model):
    """Outcome of the sheet rows: the sync log of a source, and its imported row keys.

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

    # -- the row-import engine ---------------------------------------------------------

    @api.model
    def _import_chunk(self, sheet, chunk, columns, started, cache):
        """Import one chunk of ``(row number, cells)`` of ``sheet``; the outcome counts.

        A row already imported (by key) is skipped, a row repeating an earlier row of
        this sync is a duplicate, a row refused by the intake checks an error; the other
        rows' leads are created in one batch.
        """
        counts = {"imported": 0, "duplicate": 0, "error": 0, "skipped": 0}
        rows = []
        for number, cells in chunk:
            data = map_row(cells, columns)
            if key := row_key(data):
                rows.append((number, key, data))
        if not rows:
            return counts
        imported = self._imported_rows(sheet, [key for _n, key, _d in rows])
        log, pending, seen = [], [], {}
        for number, key, data in rows:
            earlier = seen.get(key) or (
                imported[key][1:] if imported.get(key, [None])[0] == sheet.sync_count else None
            )
            if earlier:
                log.append(self._log_vals(sheet, number, key, "duplicate", started, *earlier))
                continue
            if key in imported:
                counts["skipped"] += 1
                continue
            seen[key] = (number, None)
            try:
                pending.append((number, key, self._prepare_lead(sheet, data, cache)))
            except IntakeError as error:
                log.append(
                    self._log_vals(sheet, number, key, "error", started, message=error.message)
                )
        created = self._create_leads(sheet, pending, started, log)
        counts["imported"] = len(created)
        for vals in log:
            if vals["state"] == "duplicate" and not vals["lead_id"]:
                vals["lead_id"] = created.get(vals["key"])
            counts[vals["state"]] += 1
        self._write_log(log)
        return counts

    @api.model
    def _prepare_lead(self, sheet, data, cache):
        """``crm.lead`` create values of one mapped row, through the intake's checks (the
        same as a webhook payload), with the source's name and team."""
        data = dict(data, source=sheet.name)
        data.pop(ROW_ID_FIELD, None)
        payload = parse_lead_payload(data)
        payload.team_id = sheet.team_id.id or None
        intake = self.env["lead.allocation.intake"].with_company(sheet.company_id)
        return intake._prepare_lead_values(payload, "sheet", sheet.name, cache)

    @api.model
    def _log_vals(
        self, sheet, number, key, state, started, earlier_row=None, lead_id=None, message=""
    ):
        if state == "duplicate":
            message = self.env._("Same row as row %(row)s.", row=earlier_row)
        return {
            "sheet_id": sheet.id,
            "key": key,
            "state": state,
            "row_number": number,
            "lead_id": lead_id,
            "message": message,
            "date": started,
            "sync_number": sheet.sync_count,
        }

    @api.model
    def _imported_rows(self, sheet, keys):
        """``{key: [sync number, row number, lead id]}`` of the rows of ``keys`` imported."""
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT key, sync_number, row_number, lead_id FROM lead_allocation_sheet_row"
                " WHERE sheet_id = %s AND state = 'imported' AND key = ANY(%s)",
                sheet.id,
                keys,
            )
        )
        return {key: rest for key, *rest in self.env.cr.fetchall()}

    @api.model
    def _create_leads(self, sheet, pending, started, log):
        """Claim the row keys of ``pending`` (``[(number, key, values)]``), then create the
        leads of the rows claimed, in one batch; ``{key: lead id}``.

        A key another sync claimed meanwhile is skipped (unique index); when the batch
        fails, rows are retried one by one so that one bad row does not stop the others.
        """
        if not pending:
            return {}
        claimed = self._claim(sheet, pending, started)
        pending = [row for row in pending if row[1] in claimed]
        # no default_* keys of the caller's context (e.g. default_user_id) on the leads
        Lead = self.env["crm.lead"].with_env(self.env(context=clean_context(self.env.context)))
        try:
            with self.env.cr.savepoint():
                leads = Lead.create([values for _n, _k, values in pending])
                leads.flush_recordset()
            created = list(zip(pending, leads.ids, strict=True))
        except CREATE_ERRORS:
            created = []
            for row in pending:
                try:
                    with self.env.cr.savepoint():
                        lead = Lead.create(row[2])
                        lead.flush_recordset()
                    created.append((row, lead.id))
                except CREATE_ERRORS as e:
                    message = str(e.args[0]) if e.args else str(e)
                    self._release(claimed[row[1]])
                    log.append(
                        self._log_vals(sheet, row[0], row[1], "error", started, message=message)
                    )
        self._link_leads([(claimed[row[1]], lead) for row, lead in created])
        sheet.invalidate_recordset(["row_ids", "imported_count"])
        return {key: lead for (_number, key, _values), lead in created}

    @api.model
    def _claim(self, sheet, pending, started):
        """Insert the ``imported`` lines of ``pending`` unless already there; ``{key: id}``
        of the lines inserted."""
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO lead_allocation_sheet_row
                       (sheet_id, key, state, row_number, date, sync_number)
                SELECT %s, v.key, 'imported', v.number, %s, %s
                  FROM unnest(%s::varchar[], %s::int[]) AS v(key, number)
                ON CONFLICT (sheet_id, key) WHERE state = 'imported' DO NOTHING
                RETURNING key, id
                """,
                sheet.id,
                started,
                sheet.sync_count,
                [key for _n, key, _v in pending],
                [number for number, _k, _v in pending],
            )
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _release(self, row_id):
        """Drop the claim of a row whose lead could not be created."""
        self.env.cr.execute(SQL("DELETE FROM lead_allocation_sheet_row WHERE id = %s", row_id))

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
