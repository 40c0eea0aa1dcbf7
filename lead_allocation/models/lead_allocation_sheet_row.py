from odoo import api, fields, models
from odoo.tools import SQL

from ..intake import IntakeError, parse_lead_payload
from ..sheets import map_row, row_key
from ..sheets.rows import ROW_ID_FIELD

ROW_STATES = [
    ("imported", "Imported"),
    ("duplicate", "Skipped (duplicate)"),
    ("error", "Error"),
]


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
                pending.append((number, key, self._payload(sheet, data)))
            except IntakeError as error:
                log.append(
                    self._log_vals(sheet, number, key, "error", started, message=error.message)
                )
        created = self._create_leads(sheet, pending, started, log, cache)
        counts["imported"] = len(created)
        for vals in log:
            if vals["state"] == "duplicate" and not vals["lead_id"]:
                vals["lead_id"] = created.get(vals["key"])
            counts[vals["state"]] += 1
        self._write_log(log)
        return counts

    @api.model
    def _payload(self, sheet, data):
        """The LeadPayload of one mapped row (checked like a webhook payload), with the
        source's name and team; IntakeError when the row cannot be a lead."""
        data = dict(data, source=sheet.name)
        data.pop(ROW_ID_FIELD, None)
        payload = parse_lead_payload(data)
        payload.team_id = sheet.team_id.id or None
        return payload

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
    def _create_leads(self, sheet, pending, started, log, cache=None):
        """Claim the row keys of ``pending`` (``[(number, key, payload)]``), then turn the
        rows claimed into leads through the intake, in one batch; ``{key: lead id}``.

        A key another sync claimed meanwhile is skipped (unique index); a row the intake
        refuses loses its claim and is logged as an error, without stopping the others.
        """
        if not pending:
            return {}
        claimed = self._claim(sheet, pending, started)
        pending = [row for row in pending if row[1] in claimed]
        intake = self.env["lead.allocation.intake"].with_company(sheet.company_id)
        received = intake._receive_batch(
            [payload for _n, _k, payload in pending], "sheet", sheet.name, cache
        )
        created, refused = [], []
        for (number, key, _payload), outcome in zip(pending, received, strict=True):
            if outcome.lead:
                created.append((key, claimed[key], outcome.lead.id))
                continue
            refused.append(claimed[key])
            message = getattr(outcome.error, "message", None) or _error_text(outcome.error)
            log.append(self._log_vals(sheet, number, key, "error", started, message=message))
        self._release(refused)
        self._link_leads([(row_id, lead_id) for _key, row_id, lead_id in created])
        sheet.invalidate_recordset(["row_ids", "imported_count"])
        return {key: lead_id for key, _row_id, lead_id in created}

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


def _error_text(error):
    """The message of an error that refused a row's lead (Odoo's or the database's)."""
    return str(error.args[0]) if error.args else str(error)
