import logging

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from ..intake import IntakeError, parse_lead_payload
from ..sheets import SheetError
from ..sheets.rows import ROW_ID_FIELD, keyed_rows, tab_prefix, triage

_logger = logging.getLogger(__name__)

# First key of the advisory locks that keep two syncs of one source apart.
SYNC_LOCK_NAMESPACE = 0x5EE7
OUTCOMES = ("imported", "duplicate", "error", "skipped")


class LeadAllocationSheetSync(models.AbstractModel):
    """The sync of the Google Sheet sources, top-down: pick the sources due, lock one,
    read its sheet in chunks, turn each chunk's new rows into leads through the intake,
    log the rows (the row log's own SQL), commit, write the outcome on the source."""

    _name = "lead.allocation.sheet.sync"
    _description = "Google Sheet Sync"

    # Rows read (and leads created) per chunk; each chunk is committed by the cron.
    _chunk_size = 500

    @api.model
    def _cron_sync(self):
        """Sync the sources that are due: queued by "Sync now", stopped part-way (they
        continue where they stopped, whatever their polling interval), or whose next sync
        date (polling interval, backoff after failures) has come.

        Progress is committed after each chunk of rows. A source that could not finish
        is counted as remaining, so that the scheduled action runs again at once.
        """
        due = self._due_sheets()
        self.env["lead.allocation.job"]._commit_progress(0, remaining=len(due))
        for index, sheet in enumerate(due):
            # None (skipped) when another sync of the source is running
            if self._run(sheet) is not None and sheet.sync_running:
                self.env["lead.allocation.job"]._commit_progress(0, remaining=len(due) - index)
                break
            if self.env["lead.allocation.job"]._commit_progress(1) <= 0:
                break

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
        self.env["lead.allocation.job"]._commit_progress(0)
        if not self._try_lock(sheet):
            return None
        totals = dict.fromkeys(OUTCOMES, 0) | (sheet.sync_totals or {})
        # what the chunks of this run share: teams, agents, tags and UTM records looked
        # up once, the rows whose cells wait, why the write-back failed
        run = {"sheet": sheet, "started": started, "totals": totals, "cache": {},
               "waiting": 0, "write_error": None}  # fmt: skip
        try:
            state, message = self._import_sheet(sheet, run)
        except SheetError as error:
            state, message = "failed", error.message
            _logger.warning("Google Sheet %s (%s): %s", sheet.name, sheet.id, error.message)
        if state is not None:  # else the lock was lost: the sync continues on the next run
            self._write_outcome(sheet, state, message, run)
        return totals

    @api.model
    def _import_sheet(self, sheet, run):
        """Read and import the rows of each tab chunk by chunk from the first row not
        done yet, adding to ``run["totals"]``; ``(state, message)``, state None when the
        lock was lost. Raises SheetError when Google fails."""
        tabs = self.env["lead.allocation.sheet.google"]._open_tabs(sheet)
        several = sheet._reads_several_tabs()
        self.env["lead.allocation.sheet.row"]._retab_keys(sheet.id, tabs[0].title, several)
        sizes = [max(tab.row_count - sheet.header_row, 0) for tab in tabs]
        sheet.sync_rows_total = sum(sizes)
        state, offset, missing = "ok", 0, []
        for tab, size in zip(tabs, sizes, strict=True):
            if sheet.sync_rows_done < offset + size:
                if offset and self.env["lead.allocation.job"]._commit_progress(0) <= 0:
                    state = "stopped"
                    break
                run["tab"], run["prefix"] = tab.title, tab_prefix(tab.title) if several else ""
                state, lost = self._import_tab(sheet, tab, offset, run)
                missing += [header for header in lost if header not in missing]
                if state != "ok":
                    break
            offset += size
        message = ""
        if state == "stopped":
            message = self.env._(
                "Stopped after %(done)s of %(total)s rows (the scheduled action's time "
                "was up); continues at its next run.",
                done=sheet.sync_rows_done,
                total=sheet.sync_rows_total,
            )
        if missing:
            message += " " + self.env._(
                "Columns not found in the sheet: %(headers)s.", headers=", ".join(missing)
            )
        return state, message

    @api.model
    def _import_tab(self, sheet, tab, offset, run):
        """Import the rows of ``tab`` not done yet (``offset``: the rows of the tabs
        before it), then write back each chunk; ``(state, missing headers)``."""
        Google = self.env["lead.allocation.sheet.google"]
        headers = tab.headers(sheet.header_row)
        run["columns"], missing = Google._resolve_columns(sheet, headers)
        if not run["columns"]:
            raise SheetError(self.env._("No column of the sheet is mapped to a lead field."))
        if sheet.write_back:
            run["timezone"] = tab.timezone
            positions = Google._prepare_write_back(tab, headers, run)
        size, end = self._chunk_size, tab.row_count
        first = sheet.header_row + 1 + sheet.sync_rows_done - offset
        for index, chunk in enumerate(tab.iter_chunks(first, size)):
            with self.env.cr.savepoint():
                counts = self._import_chunk(sheet, chunk, run)
                for outcome, count in counts.items():
                    run["totals"][outcome] += count
            start, last = first + index * size, min(first + (index + 1) * size - 1, end)
            if sheet.write_back:
                Google._write_back(tab, positions, run["prefix"], chunk, (start, last), run)
            sheet.write(
                {"sync_rows_done": offset + last - sheet.header_row, "sync_totals": run["totals"]}
            )
            if self.env["lead.allocation.job"]._commit_progress(0) <= 0 and last < end:
                return "stopped", missing
            if not self._try_lock(sheet):
                return None, missing
        return "ok", missing

    @api.model
    def _write_outcome(self, sheet, state, message, run):
        """End the run: the state and message under "Last sync", the failure count of
        the backoff, the rows whose cells wait; a stopped sync stays running."""
        totals = run["totals"]
        if run["write_error"]:
            message += " " + self.env._(
                "Write-back to the sheet failed: %(error)s %(count)s row(s) wait to be "
                "written at the next sync.",
                error=run["write_error"],
                count=run["waiting"],
            )
        if state == "ok" and (totals["error"] or run["write_error"]):
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
                "last_sync_date": run["started"],
                "write_back_waiting": run["waiting"],
                "last_sync_state": state,
                "last_sync_message": (summary + " " + message).strip(),
                "sync_running": state == "stopped",
                "failure_count": sheet.failure_count + 1 if state == "failed" else 0,
            }
        )

    # -- the rows of a chunk -----------------------------------------------------------

    @api.model
    def _import_chunk(self, sheet, chunk, run):
        """Import one chunk of ``(row number, cells)`` of ``sheet``; the outcome counts.

        A row already imported (by key) is skipped, a row repeating an earlier row of
        this sync is a duplicate, a row refused by the intake checks an error; the other
        rows' leads are created in one batch.
        """
        counts = dict.fromkeys(OUTCOMES, 0)
        rows = keyed_rows(chunk, run["columns"], run["prefix"])
        if not rows:
            return counts
        Row = self.env["lead.allocation.sheet.row"]
        imported = Row._imported_rows(sheet.id, [key for _n, key, _d in rows])
        new, duplicates, counts["skipped"] = triage(rows, imported, sheet.sync_count)
        log = [
            self._log_vals(sheet, run, number, key, "duplicate", *earlier)
            for number, key, *earlier in duplicates
        ]
        pending = []
        for number, key, data in new:
            try:
                # checked like a webhook payload, with the source's name and team
                data = {fname: v for fname, v in data.items() if fname != ROW_ID_FIELD}
                payload = parse_lead_payload(dict(data, source=sheet.name))
                payload.team_id = sheet.team_id.id or None
                pending.append((number, key, payload))
            except IntakeError as error:
                log.append(self._log_vals(sheet, run, number, key, "error", message=error.message))
        created = self._create_leads(sheet, pending, run, log)
        counts["imported"] = len(created)
        for vals in log:
            if vals["state"] == "duplicate" and not vals["lead_id"]:
                vals["lead_id"] = created.get(vals["key"])
            counts[vals["state"]] += 1
        Row._write_log(log)
        return counts

    @api.model
    def _create_leads(self, sheet, pending, run, log):
        """Claim the row keys of ``pending`` (``[(number, key, payload)]``), then turn the
        rows claimed into leads through the intake, in one batch; ``{key: lead id}``.

        A key another sync claimed meanwhile is skipped (unique index); a row the intake
        refuses loses its claim and is logged as an error, without stopping the others.
        """
        if not pending:
            return {}
        Row = self.env["lead.allocation.sheet.row"]
        rows = [(key, number) for number, key, _p in pending]
        claimed = Row._claim(sheet.id, sheet.sync_count, run["started"], run["tab"], rows)
        pending = [row for row in pending if row[1] in claimed]
        intake = self.env["lead.allocation.intake"].with_company(sheet.company_id)
        received = intake._receive_batch(
            [payload for _n, _k, payload in pending], "sheet", sheet.name, run["cache"]
        )
        created, refused = [], []
        for (number, key, _payload), outcome in zip(pending, received, strict=True):
            if outcome.lead:
                created.append((key, claimed[key], outcome.lead.id))
                continue
            refused.append(claimed[key])
            message = getattr(outcome.error, "message", None) or _error_text(outcome.error)
            log.append(self._log_vals(sheet, run, number, key, "error", message=message))
        Row._release(refused)
        Row._link_leads([(row_id, lead_id) for _key, row_id, lead_id in created])
        sheet.invalidate_recordset(["row_ids", "imported_count"])
        return {key: lead_id for key, _row_id, lead_id in created}

    @api.model
    def _log_vals(self, sheet, run, number, key, state, earlier_row=None, lead_id=None, message=""):
        if state == "duplicate":
            message = self.env._("Same row as row %(row)s.", row=earlier_row)
        return {
            "sheet_id": sheet.id, "key": key, "state": state, "row_number": number,
            "lead_id": lead_id, "message": message, "date": run["started"],
            "sync_number": sheet.sync_count, "worksheet": run["tab"],
        }  # fmt: skip

    # -- locks and progress ------------------------------------------------------------

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


def _error_text(error):
    """The message of an error that refused a row's lead (Odoo's or the database's)."""
    return str(error.args[0]) if error.args else str(error)
