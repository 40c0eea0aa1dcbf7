import json
from unittest.mock import patch

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LeadAllocationCase
from .fake_google import FakeGoogle

HEADERS = ["Name", "Email", "Phone", "Company", "Notes", "Source", "Agent/User ID"]
SHEET_KEY = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def lead_row(i, agent="", notes=""):
    return [f"Lead {i}", f"lead{i}@example.com", f"+32 470 00 00 {i:02d}", f"Co {i}", notes,
            "Facebook", agent]  # fmt: skip


@tagged("post_install", "-at_install")
class TestSheets(LeadAllocationCase):
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

    def leads(self, source=None):
        source = source or self.source
        rows = source.row_ids.filtered(lambda row: row.state == "imported")
        return rows.lead_id

    def test_first_import(self):
        self.rows[3][6] = str(self.junior_2.id)  # "Lead 3" names its agent
        totals = self.sync()
        self.assertEqual(totals, {"imported": 5, "duplicate": 0, "error": 0, "skipped": 0})
        self.assertEqual(self.source.last_sync_state, "ok")
        self.assertEqual(
            dict(self.source.column_ids.mapped(lambda c: (c.header, c.field_name))),
            {
                "Name": "name",
                "Email": "email_from",
                "Phone": "phone",
                "Company": "partner_name",
                "Notes": "description",
                "Source": "medium",
                "Agent/User ID": "user_id",
            },
        )
        leads = self.leads().sorted("name")
        self.assertEqual(leads.mapped("name"), [f"Lead {i}" for i in range(1, 6)])
        self.assertEqual(set(leads.source_id.mapped("name")), {"Spring sheet"})
        self.assertEqual(set(leads.medium_id.mapped("name")), {"Facebook"})
        self.assertEqual(leads.team_id, self.team)
        agent_lead = leads.filtered(lambda lead: lead.name == "Lead 3")
        self.assertEqual(agent_lead.user_id, self.junior_2)
        self.assertEqual(agent_lead.allocation_method, "sheet")
        self.assertIn("Spring sheet", agent_lead.allocation_reason)
        others = leads - agent_lead
        self.assertEqual(set(others.mapped("allocation_method")), {"round_robin"})
        self.assertLessEqual(others.user_id, self.salespeople)
        self.assertEqual(self.source.imported_count, 5)

    def test_incremental_reordered_deleted_and_edited_rows(self):
        self.sync()
        first = self.leads()
        # new rows, the sheet sorted the other way, a row deleted, an imported row edited
        self.rows[1:] = sorted(self.rows[1:], reverse=True)
        del self.rows[2]
        self.rows[1][4] = "Called back, wants a demo"
        self.rows[2:2] = [lead_row(6), lead_row(7)]
        totals = self.sync()
        self.assertEqual(totals, {"imported": 2, "duplicate": 0, "error": 0, "skipped": 4})
        self.assertEqual(sorted((self.leads() - first).mapped("name")), ["Lead 6", "Lead 7"])
        self.assertEqual(len(self.leads()), 7)
        self.assertEqual(self.sync()["imported"], 0)

    def test_id_column_and_duplicates(self):
        self.rows[0].append("Lead ID")
        for i, row in enumerate(self.rows[1:], 1):
            row.append(f"FB-{i}")
        self.rows.append([*lead_row(9), "FB-2"])  # same id as row 3: a duplicate
        totals = self.sync()
        self.assertEqual(totals["imported"], 5)
        self.assertEqual(totals["duplicate"], 1)
        duplicate = self.source.row_ids.filtered(lambda row: row.state == "duplicate")
        self.assertEqual((duplicate.row_number, duplicate.key), (7, "id:FB-2"))
        self.assertIn("row 3", duplicate.message)
        # with an ID column, even an edited e-mail is the same row
        self.rows[1][1] = "new-address@example.com"
        self.assertEqual(self.sync()["imported"], 0)
        self.assertEqual(len(self.source.row_ids.filtered(lambda r: r.state == "duplicate")), 1)

    def test_bad_rows_do_not_stop_good_ones(self):
        portal = self.env["res.users"].create(
            {"name": "Pat Portal", "login": "pat_portal",
             "group_ids": [(6, 0, self.env.ref("base.group_portal").ids)]}
        )  # fmt: skip
        self.rows[1][6] = "not-a-number"
        self.rows[2][6] = str(portal.id)
        self.rows.append(["", "", "", "", "only a note", "", ""])
        totals = self.sync()
        self.assertEqual(totals["imported"], 3)
        self.assertEqual(totals["error"], 3)
        self.assertEqual(self.source.last_sync_state, "partial")
        errors = self.source.row_ids.filtered(lambda row: row.state == "error")
        messages = dict(zip(errors.mapped("row_number"), errors.mapped("message"), strict=True))
        self.assertEqual(set(messages), {2, 3, 7})
        self.assertIn("user_id must be an integer", messages[2])
        self.assertIn("not an active internal user with CRM access", messages[3])
        self.assertIn("Nothing to create a lead from", messages[7])
        # unchanged bad rows are not logged again; fixed rows are picked up
        self.rows[2][6] = str(self.senior.id)
        totals = self.sync()
        self.assertEqual((totals["imported"], totals["error"]), (1, 2))
        self.assertEqual(len(self.source.row_ids.filtered(lambda row: row.state == "error")), 3)
        fixed = self.leads().filtered(lambda lead: lead.name == "Lead 2")
        self.assertEqual((fixed.user_id, fixed.allocation_method), (self.senior, "sheet"))

    def test_resync_cost_does_not_grow_with_the_sheet(self):
        """Rows already imported are skipped with one query per 500-row batch."""

        def resync_queries():
            self.env.flush_all()
            before = self.env.cr.sql_log_count
            self.assertEqual(self.sync()["imported"], 0)
            self.env.flush_all()
            return self.env.cr.sql_log_count - before

        self.sync()
        resync_queries()  # same caches in both measures
        small = resync_queries()
        self.rows.extend(lead_row(i) for i in range(6, 60))
        self.assertEqual(self.sync()["imported"], 54)
        resync_queries()
        # +1 at most: the ORM skips the final UPDATE when the summary and the second of
        # the sync did not change
        self.assertLessEqual(abs(resync_queries() - small), 1)

    def test_rate_limit_then_success(self):
        self.google.inject(429, times=2)
        self.google.inject(503, times=1, path="metadata")
        self.assertEqual(self.sync()["imported"], 5)
        self.assertEqual(self.source.last_sync_state, "ok")

    def test_crash_mid_sync_then_resume(self):
        self.rows.extend(lead_row(i) for i in range(6, 12))
        with patch.object(type(self.Sheet), "_sync_chunk_size", 3):
            # Google keeps failing from row 8: the batches before it are kept
            self.google.inject(500, times=100, from_row=8)
            with mute_logger("odoo.addons.lead_allocation.models.lead_allocation_sheet_sync"):
                self.sync()
            self.assertEqual(self.source.last_sync_state, "failed")
            self.assertIn("500 INTERNAL", self.source.last_sync_message)
            self.assertEqual(len(self.leads()), 6)
            self.google.clear_faults()
            # the process dies while creating the leads of the second batch
            self.rows.extend(lead_row(i) for i in range(12, 15))
            Row = type(self.env["lead.allocation.sheet.row"])
            original = Row._create_leads
            calls = []

            def crash(rows, source, pending, *args):
                calls.extend(pending[:1])
                if len(calls) == 2:
                    raise RuntimeError("worker killed")
                return original(rows, source, pending, *args)

            # (not assertRaises: it would roll back the whole block)
            with patch.object(Row, "_create_leads", crash):
                try:
                    self.sync()
                except RuntimeError:
                    pass
                else:
                    self.fail("the sync did not crash")
            self.source.invalidate_recordset()
            self.assertEqual(len(self.leads()), 9)
            self.sync()
        names = self.leads().mapped("name")
        self.assertEqual(sorted(names), sorted(f"Lead {i}" for i in range(1, 15)))
        self.assertEqual(self.env["crm.lead"].search_count([("name", "=like", "Lead %")]), 14)

    def test_cron_commits_each_batch_and_resumes_when_out_of_time(self):
        self.rows.extend(lead_row(i) for i in range(6, 12))  # 11 rows: batches of 4, 4, 3
        commits = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            commits.append((processed, remaining))
            # the cron's time runs out after the second batch
            return 0 if len(commits) == 3 else 100

        Sheet = self.env["lead.allocation.sheet"].with_context(cron_id=1)
        with (
            patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress),
            patch.object(type(self.Sheet), "_sync_chunk_size", 4),
        ):
            Sheet._cron_sync()
            self.source.invalidate_recordset()
            self.assertEqual(commits, [(0, 1), (0, None), (0, None), (1, None)])
            self.assertEqual(len(self.leads()), 8)
            self.assertEqual(self.source.last_sync_state, "partial")
            self.assertIn("continues on the next run", self.source.last_sync_message)
            self.source.last_sync_date = False  # due again (the cron reschedules at once)
            Sheet._cron_sync()
        self.source.invalidate_recordset()
        self.assertEqual(len(self.leads()), 11)
        self.assertEqual(self.source.last_sync_state, "ok")

    def test_test_connection_reports_title_headers_or_google_error(self):
        action = self.source.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Spring leads", action["params"]["message"])
        self.assertIn("Agent/User ID", action["params"]["message"])
        self.assertEqual(len(self.source.column_ids), 7)
        self.google.spreadsheets[SHEET_KEY].shared_with = {"somebody@else.com"}
        action = self.source.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("403 PERMISSION_DENIED", action["params"]["message"])
        self.source.worksheet = "Nope"
        self.google.spreadsheets[SHEET_KEY].shared_with = None
        self.assertIn(
            "No worksheet named 'Nope'", self.source.action_test_connection()["params"]["message"]
        )

    def test_credentials_are_write_only(self):
        source = self.source
        self.assertEqual(
            source.service_account_email, "lead-import@test-project.iam.gserviceaccount.com"
        )
        self.assertFalse(source.credentials_input)
        with self.assertRaises(AccessError):
            source.read(["credentials_json"])
        self.assertIn("PRIVATE KEY", source.sudo().credentials_json)
        with self.assertRaises(ValidationError):
            source.credentials_input = '{"type": "authorized_user"}'

    def test_cron_syncs_due_sources_only(self):
        other = self.source.copy({"name": "Other sheet", "interval_minutes": 60})
        other.sudo().credentials_json = self.source.sudo().credentials_json
        other.last_sync_date = "2999-01-01 00:00:00"
        self.env["lead.allocation.sheet"]._cron_sync()
        self.assertEqual(len(self.leads()), 5)
        self.assertFalse(self.leads(other))
        self.assertEqual(self.env.ref("lead_allocation.ir_cron_sync_lead_sheets").code,
                         "model._cron_sync()")  # fmt: skip
