import logging

from odoo import api, fields, models
from odoo.tools import SQL

from ..sheets import SheetError
from ..sheets.rows import normalize_header

_logger = logging.getLogger(__name__)

# First key of the advisory locks that keep two syncs of one source apart.
SYNC_LOCK_NAMESPACE = 0x5EE7


class LeadAllocationSheetSync(models.AbstractModel):
    """The sync of a Google Sheet source: lock, read the sheet in chunks, hand each chunk
    to the row-import engine (``lead.allocation.sheet.row._import_chunk``), commit the
    progress when run by the cron, and write the outcome on the source."""

    _name = "lead.allocation.sheet.sync"
    _description = "Google Sheet Sync"

    @api.model
    def _run(self, sheet):
        """Import the new rows of ``sheet``; log every row's outcome on the source.

        Returns the outcome counts, or None when another sync of the source is running.
        """
        sheet.ensure_one()
        if not self._try_lock(sheet):
            return None
        started = fields.Datetime.now()
        sheet.sync_count += 1
        totals = {"imported": 0, "duplicate": 0, "error": 0, "skipped": 0}
        try:
            state, message = self._import_sheet(sheet, started, totals)
        except SheetError as error:
            state, message = "failed", error.message
            _logger.warning("Google Sheet %s (%s): %s", sheet.name, sheet.id, error.message)
        if state == "ok" and totals["error"]:
            state = "partial"
        summary = self.env._(
            "%(imported)s imported, %(duplicate)s duplicate(s), %(error)s error(s), "
            "%(skipped)s already imported.",
            **totals,
        )
        sheet.write(
            {
                "last_sync_date": started,
                "last_sync_state": state,
                "last_sync_message": (summary + " " + message).strip(),
            }
        )
        return totals

    @api.model
    def _import_sheet(self, sheet, started, totals):
        """Read and import the rows chunk by chunk, adding to ``totals``; ``(state,
        message)``. Raises SheetError when Google fails."""
        state, message = "ok", ""
        cache = {}  # teams, agents, tags and UTM records, looked up once per sync
        worksheet = sheet._open_worksheet()
        headers = worksheet.headers(sheet.header_row)
        columns, missing = self._resolve_columns(sheet, headers)
        if not columns:
            raise SheetError(self.env._("No column of the sheet is mapped to a lead field."))
        Row = self.env["lead.allocation.sheet.row"]
        for chunk in worksheet.iter_chunks(sheet.header_row + 1, sheet._sync_chunk_size):
            with self.env.cr.savepoint():
                counts = Row._import_chunk(sheet, chunk, columns, started, cache)
                for outcome, count in counts.items():
                    totals[outcome] += count
            if self._commit_progress(0) <= 0 or not self._try_lock(sheet):
                state = "partial"
                message = self.env._("Stopped before the end; continues on the next run.")
                break
        if missing:
            message += " " + self.env._(
                "Columns not found in the sheet: %(headers)s.", headers=", ".join(missing)
            )
        return state, message

    @api.model
    def _try_lock(self, sheet):
        """Take the source's sync lock until the end of the transaction, if free.

        The rows' unique index already prevents double imports; the lock spares a
        parallel sync (the cron and "Sync now") the work and the conflicting writes.
        Re-taken after each commit of the cron.
        """
        self.env.cr.execute(
            SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", SYNC_LOCK_NAMESPACE, sheet.id)
        )
        return self.env.cr.fetchone()[0]

    @api.model
    def _commit_progress(self, processed, remaining=None):
        """Commit the work done when running as the cron; time left for the cron run."""
        if not self.env.context.get("cron_id"):
            return float("inf")
        return self.env["ir.cron"]._commit_progress(processed, remaining=remaining)

    @api.model
    def _resolve_columns(self, sheet, headers):
        """``([(column index, field)], [missing headers])`` for the mapped columns.

        Columns are found by header, so moving a column in the sheet needs no change
        here. Without any mapping yet, the suggestions are saved first.
        """
        if not sheet.column_ids:
            sheet._add_suggested_columns(headers)
        positions = {}
        for index, header in enumerate(headers):
            positions.setdefault(normalize_header(header), index)
        columns, missing = [], []
        for column in sheet.column_ids.filtered("field_name"):
            index = positions.get(normalize_header(column.header))
            if index is None:
                missing.append(column.header)
            else:
                columns.append((index, column.field_name))
        return columns, missing
