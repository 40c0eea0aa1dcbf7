import logging
from datetime import timedelta

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.misc import clean_context

from ..intake import IntakeError, parse_lead_payload
from ..sheets import SheetClient, SheetError, map_row, parse_service_account, row_key
from ..sheets.rows import ROW_ID_FIELD, normalize_header, suggest_mapping

_logger = logging.getLogger(__name__)

SYNC_STATES = [("ok", "Done"), ("partial", "Done with errors"), ("failed", "Failed")]
# First key of the advisory locks that keep two syncs of one source apart.
SYNC_LOCK_NAMESPACE = 0x5EE7


class LeadAllocationSheet(models.Model):
    _name = "lead.allocation.sheet"
    _description = "Google Sheet Source"
    _order = "name, id"
    _check_company_auto = True

    # Rows read (and leads created) per batch; each batch is committed by the cron.
    _sync_chunk_size = 500

    name = fields.Char(
        required=True, help="Also the UTM source of the leads imported from this sheet."
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    spreadsheet = fields.Char(
        string="Spreadsheet URL or Key",
        required=True,
        help="The address of the sheet in the browser, or just its key.",
    )
    worksheet = fields.Char(help="The tab to read; empty: the first tab.")
    header_row = fields.Integer(default=1, required=True, help="Row holding the column names.")
    column_ids = fields.One2many(
        "lead.allocation.sheet.column", "sheet_id", string="Columns", copy=True
    )
    team_id = fields.Many2one(
        "crm.team",
        string="Sales Team",
        check_company=True,
        help="Team of the imported leads; round robin then shares them among its members.",
    )
    interval_minutes = fields.Integer(
        string="Poll Every (minutes)",
        default=15,
        required=True,
        help="How often the sheet is read for new rows (the scheduled action runs every "
        "5 minutes).",
    )
    credentials_json = fields.Text(
        string="Service-Account Key", groups="base.group_system", copy=False
    )
    credentials_input = fields.Text(
        string="New Service-Account Key",
        compute="_compute_credentials_input",
        inverse="_inverse_credentials_input",
        help="Paste the JSON key file of the Google service account. It is stored for "
        "administrators only and never shown again.",
    )
    service_account_email = fields.Char(
        readonly=True,
        copy=False,
        help="Share the sheet (Viewer is enough) with this address.",
    )
    last_sync_date = fields.Datetime(readonly=True, copy=False)
    sync_count = fields.Integer(readonly=True, copy=False, help="Number of the last sync.")
    last_sync_state = fields.Selection(SYNC_STATES, readonly=True, copy=False)
    last_sync_message = fields.Text(readonly=True, copy=False)
    row_ids = fields.One2many("lead.allocation.sheet.row", "sheet_id", string="Sync Log")
    imported_count = fields.Integer(compute="_compute_row_counts")
    error_count = fields.Integer(compute="_compute_row_counts")

    _header_row_positive = models.Constraint(
        "CHECK (header_row >= 1)", "The header row is a row number, 1 or more."
    )
    _interval_positive = models.Constraint(
        "CHECK (interval_minutes >= 1)", "The polling interval is at least one minute."
    )

    def _compute_credentials_input(self):
        self.credentials_input = False

    @api.depends("row_ids.state")
    def _compute_row_counts(self):
        counts = {
            (sheet.id, state): count
            for sheet, state, count in self.env["lead.allocation.sheet.row"]._read_group(
                [("sheet_id", "in", self.ids)], ["sheet_id", "state"], ["__count"]
            )
        }
        for sheet in self:
            sheet.imported_count = counts.get((sheet.id, "imported"), 0)
            sheet.error_count = counts.get((sheet.id, "error"), 0)

    def _inverse_credentials_input(self):
        for sheet in self.filtered("credentials_input"):
            try:
                info = parse_service_account(sheet.credentials_input)
            except SheetError as error:
                raise ValidationError(error.message) from None
            # sudo: Sales Administrators may set the key but not read it back
            sheet.sudo().write(
                {
                    "credentials_json": sheet.credentials_input.strip(),
                    "service_account_email": info["client_email"],
                }
            )
        self.invalidate_recordset(["credentials_input"])

    # -- actions ---------------------------------------------------------------
    def action_test_connection(self):
        """Open the sheet, report its title and headers, suggest the column mapping."""
        self.ensure_one()
        try:
            sheet = self._open_worksheet()
            headers = sheet.headers(self.header_row)
        except SheetError as error:
            return self._notify(self.env._("Connection failed"), error.message, "danger")
        added = self._add_suggested_columns(headers)
        message = self.env._(
            "Spreadsheet “%(title)s”, worksheet “%(worksheet)s”. Headers: %(headers)s.",
            title=sheet.spreadsheet_title,
            worksheet=sheet.title,
            headers=", ".join(headers) or self.env._("none (empty header row)"),
        )
        if added:
            message += " " + self.env._("%(count)s column(s) mapped.", count=added)
        return self._notify(self.env._("Connection works"), message, "success", reload=True)

    def action_sync_now(self):
        self.ensure_one()
        if self._sync() is None:
            return self._notify(
                self.env._("Sync already running"),
                self.env._("This sheet is being synced right now; try again in a minute."),
                "warning",
            )
        kind = {"ok": "success", "partial": "warning"}.get(self.last_sync_state, "danger")
        return self._notify(self.env._("Sync done"), self.last_sync_message, kind, reload=True)

    def action_open_leads(self):
        self.ensure_one()
        rows = self.row_ids.filtered(lambda row: row.state == "imported" and row.lead_id)
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Leads from %(sheet)s", sheet=self.name),
            "res_model": "crm.lead",
            "view_mode": "list,form",
            "domain": [("id", "in", rows.lead_id.ids)],
            "context": {"active_test": False},
        }

    @api.model
    def _cron_sync(self):
        """Sync every active source whose polling interval has elapsed.

        Progress is committed after each batch of rows: an interrupted sync starts again
        on the next run and skips the rows already imported.
        """
        now = fields.Datetime.now()
        due = self.search([]).filtered(
            lambda sheet: not sheet.last_sync_date
            or sheet.last_sync_date + timedelta(minutes=sheet.interval_minutes) <= now
        )
        self._commit_progress(0, remaining=len(due))
        for sheet in due:
            sheet._sync()  # None (skipped) when a "Sync now" of it is running
            if self._commit_progress(1) <= 0:
                break

    # -- sync ------------------------------------------------------------------
    def _sync(self):
        """Import the new rows of the sheet; log every row's outcome on the source.

        Returns the outcome counts, or None when another sync of the source is running.
        """
        self.ensure_one()
        if not self._try_lock():
            return None
        started = fields.Datetime.now()
        self.sync_count += 1
        totals = {"imported": 0, "duplicate": 0, "error": 0, "skipped": 0}
        state, message = "ok", ""
        cache = {}  # agents, tags and UTM records, looked up once per sync
        try:
            sheet = self._open_worksheet()
            headers = sheet.headers(self.header_row)
            columns, missing = self._resolve_columns(headers)
            if not columns:
                raise SheetError(self.env._("No column of the sheet is mapped to a lead field."))
            for chunk in sheet.iter_chunks(self.header_row + 1, self._sync_chunk_size):
                with self.env.cr.savepoint():
                    counts = self._import_rows(chunk, columns, started, cache)
                    for outcome, count in counts.items():
                        totals[outcome] += count
                if self._commit_progress(0) <= 0 or not self._try_lock():
                    state = "partial"
                    message = self.env._("Stopped before the end; continues on the next run.")
                    break
            if missing:
                message += " " + self.env._(
                    "Columns not found in the sheet: %(headers)s.", headers=", ".join(missing)
                )
        except SheetError as error:
            state, message = "failed", error.message
            _logger.warning("Google Sheet %s (%s): %s", self.name, self.id, error.message)
        if state == "ok" and totals["error"]:
            state = "partial"
        summary = self.env._(
            "%(imported)s imported, %(duplicate)s duplicate(s), %(error)s error(s), "
            "%(skipped)s already imported.",
            **totals,
        )
        self.write(
            {
                "last_sync_date": started,
                "last_sync_state": state,
                "last_sync_message": (summary + " " + message).strip(),
            }
        )
        return totals

    def _try_lock(self):
        """Take the source's sync lock until the end of the transaction, if free.

        The rows' unique index already prevents double imports; the lock spares a
        parallel sync (the cron and "Sync now") the work and the conflicting writes.
        Re-taken after each commit of the cron.
        """
        self.env.cr.execute(
            SQL("SELECT pg_try_advisory_xact_lock(%s, %s)", SYNC_LOCK_NAMESPACE, self.id)
        )
        return self.env.cr.fetchone()[0]

    def _commit_progress(self, processed, remaining=None):
        """Commit the work done when running as the cron; time left for the cron run."""
        if not self.env.context.get("cron_id"):
            return float("inf")
        return self.env["ir.cron"]._commit_progress(processed, remaining=remaining)

    def _open_worksheet(self):
        # sudo: the key is readable by administrators only; it is used, never shown
        credentials = self.sudo().credentials_json
        if not credentials:
            raise SheetError(self.env._("No service-account key: paste one first."))
        return self._sheet_client(credentials).open(self.spreadsheet, self.worksheet or None)

    @api.model
    def _sheet_client(self, credentials):
        """The Google client; tests point ``lead_allocation.sheets_api_base`` elsewhere."""
        # sudo: reading a technical setting
        param = self.env["ir.config_parameter"].sudo().get_param
        return SheetClient(
            credentials,
            api_base=param("lead_allocation.sheets_api_base") or None,
            timeout=float(param("lead_allocation.sheets_timeout") or 30),
            backoff=float(param("lead_allocation.sheets_backoff") or 1),
        )

    def _add_suggested_columns(self, headers):
        known = {normalize_header(column.header) for column in self.column_ids}
        new = [
            {"sheet_id": self.id, "sequence": index, "header": header, "field_name": fname}
            for index, (header, fname) in enumerate(suggest_mapping(headers))
            if header and normalize_header(header) not in known
        ]
        self.env["lead.allocation.sheet.column"].create(new)
        return sum(1 for vals in new if vals["field_name"])

    def _resolve_columns(self, headers):
        """``([(column index, field)], [missing headers])`` for the mapped columns.

        Columns are found by header, so moving a column in the sheet needs no change
        here. Without any mapping yet, the suggestions are saved first.
        """
        if not self.column_ids:
            self._add_suggested_columns(headers)
        positions = {}
        for index, header in enumerate(headers):
            positions.setdefault(normalize_header(header), index)
        columns, missing = [], []
        for column in self.column_ids.filtered("field_name"):
            index = positions.get(normalize_header(column.header))
            if index is None:
                missing.append(column.header)
            else:
                columns.append((index, column.field_name))
        return columns, missing

    def _import_rows(self, chunk, columns, started, cache):
        """Import one chunk of ``(row number, cells)``; return the outcome counts."""
        Row = self.env["lead.allocation.sheet.row"]
        counts = {"imported": 0, "duplicate": 0, "error": 0, "skipped": 0}
        rows = []
        for number, cells in chunk:
            data = map_row(cells, columns)
            key = row_key(data)
            if key:
                rows.append((number, key, data))
        if not rows:
            return counts
        Row.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT key, sync_number, row_number, lead_id FROM lead_allocation_sheet_row"
                " WHERE sheet_id = %s AND state = 'imported' AND key = ANY(%s)",
                self.id,
                [key for _n, key, _d in rows],
            )
        )
        imported = {key: rest for key, *rest in self.env.cr.fetchall()}
        log, pending, seen = [], [], {}
        for number, key, data in rows:
            earlier = seen.get(key) or (
                imported[key][1:]
                if key in imported and imported[key][0] == self.sync_count
                else None
            )
            if earlier:
                log.append(self._log_vals(number, key, "duplicate", started, *earlier))
                continue
            if key in imported:
                counts["skipped"] += 1
                continue
            seen[key] = (number, None)
            try:
                pending.append((number, key, self._prepare_row_lead(data, cache)))
            except IntakeError as error:
                log.append(self._log_vals(number, key, "error", started, message=error.message))
        created = self._create_row_leads(pending, started, log)
        counts["imported"] = len(created)
        for vals in log:
            if vals["state"] == "duplicate" and not vals["lead_id"]:
                vals["lead_id"] = created.get(vals["key"])
            counts[vals["state"]] += 1
        self._write_log(log)
        return counts

    def _log_vals(self, number, key, state, started, earlier_row=None, lead_id=None, message=""):
        if state == "duplicate":
            message = self.env._("Same row as row %(row)s.", row=earlier_row)
        return {
            "sheet_id": self.id,
            "key": key,
            "state": state,
            "row_number": number,
            "lead_id": lead_id,
            "message": message,
            "date": started,
            "sync_number": self.sync_count,
        }

    def _prepare_row_lead(self, data, cache):
        """``crm.lead`` create values of one mapped row, checked like a webhook payload."""
        data = dict(data, source=self.name)
        data.pop(ROW_ID_FIELD, None)
        payload = parse_lead_payload(data)
        payload.team_id = self.team_id.id or None
        intake = self.env["lead.allocation.intake"].with_company(self.company_id)
        return intake._prepare_lead_values(payload, "sheet", self.name, cache)

    def _create_row_leads(self, pending, started, log):
        """Claim the row keys, then create the leads of the rows claimed, in one batch.

        Returns ``{key: lead id}``. A key another sync claimed meanwhile is
        skipped (unique index); when the batch fails, rows are retried one by one so that
        one bad row does not stop the others.
        """
        if not pending:
            return {}
        cr = self.env.cr
        cr.execute(
            SQL(
                """
                INSERT INTO lead_allocation_sheet_row
                       (sheet_id, key, state, row_number, date, sync_number)
                SELECT %s, v.key, 'imported', v.number, %s, %s
                  FROM unnest(%s::varchar[], %s::int[]) AS v(key, number)
                ON CONFLICT (sheet_id, key) WHERE state = 'imported' DO NOTHING
                RETURNING key, id
                """,
                self.id,
                started,
                self.sync_count,
                [key for _n, key, _v in pending],
                [number for number, _k, _v in pending],
            )
        )
        claimed = dict(cr.fetchall())
        pending = [row for row in pending if row[1] in claimed]
        # no default_* keys of the caller's context (e.g. default_user_id) on the leads
        Lead = self.env["crm.lead"].with_env(self.env(context=clean_context(self.env.context)))
        try:
            with cr.savepoint():
                leads = Lead.create([values for _n, _k, values in pending])
                leads.flush_recordset()
            created = list(zip(pending, leads.ids, strict=True))
        except (UserError, ValueError, pg_errors.IntegrityError, pg_errors.DataError):
            created = []
            for row in pending:
                try:
                    with cr.savepoint():
                        lead = Lead.create(row[2])
                        lead.flush_recordset()
                    created.append((row, lead.id))
                except (UserError, ValueError, pg_errors.IntegrityError, pg_errors.DataError) as e:
                    message = str(e.args[0]) if e.args else str(e)
                    cr.execute(
                        SQL("DELETE FROM lead_allocation_sheet_row WHERE id = %s", claimed[row[1]])
                    )
                    log.append(self._log_vals(row[0], row[1], "error", started, message=message))
        if created:
            cr.execute(
                SQL(
                    """
                    UPDATE lead_allocation_sheet_row r SET lead_id = v.lead_id
                      FROM unnest(%s::int[], %s::int[]) AS v(id, lead_id)
                     WHERE r.id = v.id
                    """,
                    [claimed[row[1]] for row, _lead in created],
                    [lead for _row, lead in created],
                )
            )
        self.env["lead.allocation.sheet.row"].invalidate_model()
        self.invalidate_recordset(["row_ids", "imported_count"])
        return {key: lead for (_number, key, _values), lead in created}

    def _write_log(self, log):
        """Store the duplicate and error lines; an error already logged with the same
        message for the same row key is only dated again."""
        if not log:
            return
        Row = self.env["lead.allocation.sheet.row"]
        errors = [vals for vals in log if vals["state"] == "error"]
        if errors:
            Row.flush_model()
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT ON (key) key, id, message FROM lead_allocation_sheet_row"
                    " WHERE sheet_id = %s AND state = 'error' AND key = ANY(%s)"
                    " ORDER BY key, id DESC",
                    self.id,
                    [vals["key"] for vals in errors],
                )
            )
            logged = {key: (row_id, message) for key, row_id, message in self.env.cr.fetchall()}
            repeated = Row
            for vals in errors:
                row_id, message = logged.get(vals["key"], (None, None))
                if message == vals["message"]:
                    repeated |= Row.browse(row_id)
                    log.remove(vals)
            # sudo: the log is written by the sync, whoever started it
            repeated.sudo().write({"date": errors[0]["date"]})
        # sudo: the log is written by the sync, whoever started it
        Row.sudo().create(log)

    def _notify(self, title, message, kind, reload=False):
        action = {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "type": kind,
                "sticky": kind != "success",
            },
        }
        if reload:
            action["params"]["next"] = {"type": "ir.actions.client", "tag": "soft_reload"}
        return action
