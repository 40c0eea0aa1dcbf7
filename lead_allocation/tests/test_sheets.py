from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .sheet_common import SHEET_KEY, SheetCase, lead_row


@tagged("post_install", "-at_install")
class TestSheets(SheetCase):
    """Rows to leads: mapping, agents, duplicates, bad rows, re-syncs, Test connection."""

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

    def test_test_connection_fails_fast_and_plainly_when_google_is_unreachable(self):
        source, host = self.unreachable_source()
        attempts = self.count_attempts()
        action = source.action_test_connection()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(
            action["params"]["message"],
            f"Google could not be reached at {host} (connection refused): check the server's "
            "internet access (DNS, firewall, proxy).",
        )
        self.assertEqual(len(attempts), 1)  # no retry ladder

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
