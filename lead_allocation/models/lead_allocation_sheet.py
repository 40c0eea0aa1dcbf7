from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..sheets import SheetError, parse_service_account

SYNC_STATES = [
    ("ok", "Done"),
    ("partial", "Done with errors"),
    ("stopped", "Stopped part-way"),
    ("failed", "Failed"),
]


class LeadAllocationSheet(models.Model):
    _name = "lead.allocation.sheet"
    _description = "Google Sheet Source"
    _order = "name, id"
    _check_company_auto = True

    # A source failing n times in a row is next tried after interval * 2^n, at most this
    # long (or its own interval when longer).
    _sync_backoff_cap_minutes = 24 * 60

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
    worksheet = fields.Char(
        string="Tabs",
        help="The tab to read, or several tabs with the same header separated by commas; "
        "empty: the first tab.",
    )
    all_worksheets = fields.Boolean(
        string="Every Tab", help="Read every tab of the spreadsheet (same header in each)."
    )
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
        help="Share the sheet with this address: as Viewer, or as Editor when the sync "
        "writes back to the sheet.",
    )
    write_back = fields.Boolean(
        string="Write back to the sheet",
        help="Keep four columns of the sheet up to date for each row read: the "
        "salesperson, a link to the lead, the status (imported, duplicate, error) and the "
        "import date. The sheet must be shared with the service account as Editor.",
    )
    write_back_user_header = fields.Char(
        string="Salesperson Column", default="Salesperson", required=True
    )
    write_back_lead_header = fields.Char(string="Lead Column", default="Odoo Lead", required=True)
    write_back_status_header = fields.Char(string="Status Column", default="Status", required=True)
    write_back_date_header = fields.Char(
        string="Import Date Column", default="Imported On", required=True
    )
    write_back_waiting = fields.Integer(
        string="Rows Waiting for Write-Back",
        readonly=True,
        copy=False,
        help="Rows whose cells could not be written at the last sync (Google refused "
        "or failed); they are written at the next sync.",
    )
    last_sync_date = fields.Datetime(readonly=True, copy=False)
    sync_count = fields.Integer(readonly=True, copy=False, help="Number of the last sync.")
    last_sync_state = fields.Selection(SYNC_STATES, readonly=True, copy=False)
    last_sync_message = fields.Text(readonly=True, copy=False)
    next_sync_date = fields.Datetime(
        string="Next Sync",
        compute="_compute_next_sync_date",
        store=True,
        help="From then on the scheduled action reads the sheet again: after the polling "
        "interval, or later after failed syncs (the wait doubles with each failure in a "
        "row, up to a day).",
    )
    failure_count = fields.Integer(string="Failed Syncs in a Row", readonly=True, copy=False)
    sync_requested = fields.Boolean(
        readonly=True,
        copy=False,
        help="Sync now was clicked: the scheduled action syncs the sheet at its next run.",
    )
    sync_running = fields.Boolean(
        string="Sync in Progress",
        readonly=True,
        copy=False,
        help="A sync started and has not reached the end of the sheet yet. Stopped "
        "part-way, it continues at the next run of the scheduled action.",
    )
    sync_rows_done = fields.Integer(string="Rows Read", readonly=True, copy=False)
    sync_rows_total = fields.Integer(string="Rows in the Sheet", readonly=True, copy=False)
    # outcome counts of the sync in progress, committed with each batch
    sync_totals = fields.Json(readonly=True, copy=False)
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

    @api.depends("last_sync_date", "interval_minutes", "failure_count")
    def _compute_next_sync_date(self):
        for sheet in self:
            sheet.next_sync_date = sheet.last_sync_date and sheet.last_sync_date + timedelta(
                minutes=sheet._sync_delay_minutes()
            )

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
        """Open the sheet, report its title and headers, suggest the column mapping.

        Interactive: one attempt with a short timeout, so that an unreachable Google is
        reported at once. A working connection ends the backoff of a failing source.
        """
        self.ensure_one()
        Google = self.env["lead.allocation.sheet.google"]
        try:
            tabs = Google._open_tabs(self, interactive=True)
            sheet = tabs[0]
            headers = sheet.headers(self.header_row)
            if self.write_back:
                Google._check_write_access(self, tabs)
        except SheetError as error:
            return self._notify(self.env._("Connection failed"), error.message, "danger")
        added = self.env["lead.allocation.sheet.column"]._add_suggested(self, headers)
        if self.failure_count:
            self.failure_count = 0
        message = self.env._(
            "Spreadsheet “%(title)s”, worksheet “%(worksheet)s”. Headers: %(headers)s.",
            title=sheet.spreadsheet_title,
            worksheet=", ".join(tab.title for tab in tabs),
            headers=", ".join(headers) or self.env._("none (empty header row)"),
        )
        if added:
            message += " " + self.env._("%(count)s column(s) mapped.", count=added)
        if self.write_back:
            message += " " + self.env._("The service account may write to the sheet.")
        return self._notify(self.env._("Connection works"), message, "success", reload=True)

    def action_sync_now(self):
        """Queue a sync: the scheduled action runs it in the background, batch by batch,
        and the form shows how far it got."""
        self.ensure_one()
        if self.env["lead.allocation.sheet.sync"]._is_running(self):
            return self._notify(
                self.env._("Sync already running"),
                self.env._(
                    "This sheet is being synced right now (%(done)s of %(total)s rows read).",
                    done=self.sync_rows_done,
                    total=self.sync_rows_total,
                ),
                "warning",
            )
        cron = self.env.ref("lead_allocation.ir_cron_sync_lead_sheets")
        # sudo: Sales Administrators may not read scheduled actions; only its state is read
        if not cron.sudo().active:
            return self._notify(
                self.env._("Scheduled action archived"),
                self.env._(
                    "Syncs run in the scheduled action “%(name)s”, which is archived: "
                    "activate it among the scheduled actions (Settings, Technical).",
                    name=cron.sudo().name,
                ),
                "danger",
            )
        self.sync_requested = True
        cron._trigger()
        return self._notify(
            self.env._("Sync queued"),
            self.env._(
                "The sheet is read in the background; this form shows how far the sync got "
                "(reload it to follow), then its result."
            ),
            "info",
            reload=True,
        )

    def action_refresh(self):
        """Re-read the form (the sync's progress)."""
        return True

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

    # -- sync ------------------------------------------------------------------
    def _sync(self):
        """Import the new rows of the sheet now (see ``lead.allocation.sheet.sync``).

        Returns the outcome counts, or None when another sync of the source is running.
        """
        return self.env["lead.allocation.sheet.sync"]._run(self)

    def _sync_delay_minutes(self):
        """Minutes from a sync to the next one: the interval, doubled per failure in a row."""
        if not self.failure_count:
            return self.interval_minutes
        cap = max(self._sync_backoff_cap_minutes, self.interval_minutes)
        return min(self.interval_minutes * 2 ** min(self.failure_count, 20), cap)

    def _tab_names(self):
        """The tabs named in ``worksheet`` (none: the first tab)."""
        return [name.strip() for name in (self.worksheet or "").split(",") if name.strip()]

    def _reads_several_tabs(self):
        """Whether the source reads several tabs: its row keys then name their tab."""
        return self.all_worksheets or len(self._tab_names()) > 1

    def _write_back_names(self):
        """``{column: header}`` of the write-back columns (see sheets.write_back)."""
        return {
            "user": self.write_back_user_header,
            "lead": self.write_back_lead_header,
            "status": self.write_back_status_header,
            "date": self.write_back_date_header,
        }

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
