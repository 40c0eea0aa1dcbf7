import logging

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from ..sheets import SheetError
from ..sheets.rows import normalize_header

_logger = logging.getLogger(__name__)

# First key of the advisory locks that keep two syncs of one source apart.
SYNC_LOCK_NAMESPACE = 0x5EE7
OUTCOMES = ("imported", "duplicate", "error", "skipped")


class LeadAllocationSheetSync(models.AbstractModel):
    """The sync of a Google Sheet source: lock, read the sheet in chunks, hand each chunk
    to the row-import engine (``lead.allocation.sheet.row._import_chunk``), commit the
    progress when run by the cron, and write the outcome on the source."""

    _name = "lead.allocation.sheet.sync"
    _description = "Google Sheet Sync"

    @api.model
    def _run(self, sheet):
        """Import the new rows of ``sheet``; log every row's outcome on the source.

        A sync stopped part-way (time limit of the cron, process killed) is continued
        from the first row not committed, as the same sync. Returns the outcome counts
        of the sync, or None when another sync of the source is running.
        """
        sheet.ensure_one()
        if not self._try_lock(sheet):
            return None
        started = fields.Datetime.now()
        vals = {"sync_requested": False}
        if not sheet.sync_running:  # a new sync
            vals.update(
                sync_count=sheet.sync_count + 1,
                sync_running=True,
                sync_rows_done=0,
                sync_rows_total=0,
                sync_totals=dict.fromkeys(OUTCOMES, 0),
            )
        sheet.write(vals)
        # the form shows the sync as running from now on
        self._commit_progress(0)
        if not self._try_lock(sheet):
            return None
        totals = dict.fromkeys(OUTCOMES, 0) | (sheet.sync_totals or {})
        try:
            state, message = self._import_sheet(sheet, started, totals)
        except SheetError as error:
            state, message = "failed", error.message
            _logger.warning("Google Sheet %s (%s): %s", sheet.name, sheet.id, error.message)
        if state is not None:  # else the lock was lost: the sync continues on the next run
            self._write_outcome(sheet, started, state, message, totals)
        return totals

    @api.model
    def _import_sheet(self, sheet, started, totals):
        """Read and import the rows chunk by chunk from the first row not done yet,
        adding to ``totals``; ``(state, message)``, state None when the lock was lost.
        Raises SheetError when Google fails."""
        state, message = "ok", ""
        cache = {}  # teams, agents, tags and UTM records, looked up once per sync
        worksheet = sheet._open_worksheet()
        headers = worksheet.headers(sheet.header_row)
        columns, missing = self._resolve_columns(sheet, headers)
        if not columns:
            raise SheetError(self.env._("No column of the sheet is mapped to a lead field."))
        Row = self.env["lead.allocation.sheet.row"]
        size, end = sheet._sync_chunk_size, worksheet.row_count
        first = sheet.header_row + 1 + sheet.sync_rows_done
        sheet.sync_rows_total = max(end - sheet.header_row, 0)
        for index, chunk in enumerate(worksheet.iter_chunks(first, size)):
            with self.env.cr.savepoint():
                counts = Row._import_chunk(sheet, chunk, columns, started, cache)
                for outcome, count in counts.items():
                    totals[outcome] += count
            last = min(first + (index + 1) * size - 1, end)
            sheet.write({"sync_rows_done": last - sheet.header_row, "sync_totals": totals})
            if self._commit_progress(0) <= 0 and last < end:
                state = "stopped"
                message = self.env._(
                    "Stopped after %(done)s of %(total)s rows (the scheduled action's time "
                    "was up); continues at its next run.",
                    done=sheet.sync_rows_done,
                    total=sheet.sync_rows_total,
                )
                break
            if not self._try_lock(sheet):
                return None, ""
        if missing:
            message += " " + self.env._(
                "Columns not found in the sheet: %(headers)s.", headers=", ".join(missing)
            )
        return state, message

    @api.model
    def _write_outcome(self, sheet, started, state, message, totals):
        """End the run: the state and message under "Last sync", the failure count of
        the backoff; a stopped sync stays running, to be continued."""
        if state == "ok" and totals["error"]:
            state = "partial"
        summary = self.env._(
            "%(imported)s imported, %(duplicate)s duplicate(s), %(error)s error(s), "
            "%(skipped)s already imported.",
            **totals,
        )
        if state == "failed" and not any(totals.values()):
            summary = ""  # nothing read: the error alone says it
        sheet.write(
            {
                "last_sync_date": started,
                "last_sync_state": state,
                "last_sync_message": (summary + " " + message).strip(),
                "sync_running": state == "stopped",
                "failure_count": sheet.failure_count + 1 if state == "failed" else 0,
            }
        )

    @api.model
    def _is_running(self, sheet):
        """Whether a sync of ``sheet`` holds its lock now (tested without waiting)."""
        self.env.cr.execute(
            SQL("SELECT pg_try_advisory_lock(%s, %s)", SYNC_LOCK_NAMESPACE, sheet.id)
        )
        if not self.env.cr.fetchone()[0]:
            return True
        self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", SYNC_LOCK_NAMESPACE, sheet.id))
        return False

    @api.model
    def _due_sheets(self):
        """The active sources to sync now, queued ones first, then the ones to continue,
        then by next sync date."""
        now = fields.Datetime.now()
        due = self.env["lead.allocation.sheet"].search(
            Domain("sync_requested", "=", True)
            | Domain("sync_running", "=", True)
            | Domain("next_sync_date", "=", False)
            | Domain("next_sync_date", "<=", now)
        )
        return due.sorted(
            lambda s: (not s.sync_requested, not s.sync_running, s.next_sync_date or now, s.id)
        )

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
