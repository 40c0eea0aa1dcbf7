from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..sheets import SheetClient, SheetError, parse_service_account
from ..sheets.rows import normalize_header, suggest_mapping

SYNC_STATES = [("ok", "Done"), ("partial", "Done with errors"), ("failed", "Failed")]


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
        Sync = self.env["lead.allocation.sheet.sync"]
        Sync._commit_progress(0, remaining=len(due))
        for sheet in due:
            sheet._sync()  # None (skipped) when a "Sync now" of it is running
            if Sync._commit_progress(1) <= 0:
                break

    # -- sync ------------------------------------------------------------------
    def _sync(self):
        """Import the new rows of the sheet (see ``lead.allocation.sheet.sync``).

        Returns the outcome counts, or None when another sync of the source is running.
        """
        return self.env["lead.allocation.sheet.sync"]._run(self)

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
