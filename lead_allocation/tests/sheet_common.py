"""The Google Sheet source under test: a fake Google with one sheet, helpers."""

import json
import socket

import requests

from .common import LeadAllocationCase
from .fake_google import FakeGoogle, service_account_info

HEADERS = ["Name", "Email", "Phone", "Company", "Notes", "Source", "Agent/User ID"]
SHEET_KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def lead_row(i, agent="", notes=""):
    return [f"Lead {i}", f"lead{i}@example.com", f"+32 470 00 00 {i:02d}", f"Co {i}", notes,
            "Facebook", agent]  # fmt: skip


def closed_port():
    """A local port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SheetCase(LeadAllocationCase):
    """A source reading a 5-row sheet of a local stand-in for Google (unreachable
    Google: a closed local port)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.google = FakeGoogle().start()
        cls.addClassCleanup(cls.google.stop)
        param = cls.env["ir.config_parameter"].sudo().set_param
        param("lead_allocation.sheets_api_base", cls.google.api_base)
        param("lead_allocation.sheets_backoff", "0.01")
        param("lead_allocation.sheets_timeout", "5")
        cls.Sheet = cls.env["lead.allocation.sheet"].with_user(cls.manager)
        cls.Sync = cls.env["lead.allocation.sheet.sync"]

    def setUp(self):
        super().setUp()
        self.google.clear_faults()
        self.rows = [list(HEADERS)] + [lead_row(i) for i in range(1, 6)]
        self.google.add_sheet(SHEET_KEY, "Spring leads", self.rows)
        self.source = self.Sheet.create(
            {
                "name": "Spring sheet",
                "spreadsheet": f"https://docs.google.com/spreadsheets/d/{SHEET_KEY}/edit#gid=0",
                "team_id": self.team.id,
                "credentials_input": json.dumps(self.google.service_account_info()),
            }
        )

    def sync(self, source=None):
        source = source or self.source
        totals = source._sync()
        source.invalidate_recordset()
        return totals

    def run_scheduled_action(self):
        """One run of the scheduled action, as the cron worker runs it (own transaction)."""
        cron = self.env.ref("lead_allocation.ir_cron_sync_lead_sheets")
        with self.enter_registry_test_mode():
            cron.method_direct_trigger()
        self.source.invalidate_recordset()

    def leads(self, source=None):
        source = source or self.source
        rows = source.row_ids.filtered(lambda row: row.state == "imported")
        return rows.lead_id

    def count_attempts(self):
        """The URLs of the HTTP requests really sent (sending itself is untouched)."""
        sent = []
        send = requests.adapters.HTTPAdapter.send

        def counting_send(adapter, request, *args, **kwargs):
            sent.append(request.url)
            return send(adapter, request, *args, **kwargs)

        self.patch(requests.adapters.HTTPAdapter, "send", counting_send)
        return sent

    def unreachable_source(self):
        port = closed_port()
        info = service_account_info(f"http://127.0.0.1:{port}/token")
        source = self.source.copy({"name": "Unreachable sheet"})
        source.credentials_input = json.dumps(info)
        return source, f"127.0.0.1:{port}"
