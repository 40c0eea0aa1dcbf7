"""What users see, in a real browser: Odoo's tours (static/tests/tours/*.js) run in Chromium.

The tours trigger on the text a user reads; the checks after each tour only confirm that what
the screen showed was also saved.
"""

import json
import unittest
from datetime import datetime, timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from .fake_google import FakeGoogle, service_account_info


class TourCase(HttpCase):
    """Users and a team of our own (Odoo 19 loads no demo data): Sam Senior (weight 10),
    Jo Junior (5) and Jay Junior (Trusted Employee, 5) in one sales team, and Sue Sales
    (Sales / User: All Documents, outside the rotation) who types leads in."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.senior = cls._user("tour_senior", "Sam Senior", 10)
        cls.junior_1 = cls._user("tour_junior1", "Jo Junior", 5)
        cls.junior_2 = cls._user(
            "tour_junior2",
            "Jay Junior",
            5,
            "lead_allocation.group_trusted_employee,sales_team.group_sale_salesman_all_leads",
        )
        cls.sales = cls._user(
            "tour_sales", "Sue Sales", 0, "sales_team.group_sale_salesman_all_leads"
        )
        rotation = cls.senior | cls.junior_1 | cls.junior_2
        cls.team = cls.env["crm.team"].create(
            {"name": "Tour Team", "member_ids": [(6, 0, rotation.ids)]}
        )
        # Nobody else in the database takes part in the rotation.
        cls.env["res.users"].search(
            [("id", "not in", rotation.ids), ("allocation_weight", ">", 0)]
        ).allocation_weight = 0

    @classmethod
    def _user(cls, login, name, weight, groups="sales_team.group_sale_salesman"):
        user = new_test_user(cls.env, login, groups=groups, name=name, password=login)
        user.allocation_weight = weight
        return user

    def start_tour(self, url_path, tour_name, step_delay=None, **kwargs):
        # Odoo skips a browser test it cannot start (no Chromium, no websocket-client): here
        # that is a failure, or the tours would silently stop counting.
        try:
            return super().start_tour(url_path, tour_name, step_delay, **kwargs)
        except unittest.SkipTest as reason:
            self.fail(f"the tour {tour_name} could not run in Chromium: {reason}")

    def _set_isolation(self, enabled):
        self.env["res.config.settings"].create({"lead_isolation_enabled": enabled}).execute()


@tagged("post_install", "-at_install")
class TestToursAdmin(TourCase):
    def test_admin_sets_weights_and_pauses(self):
        self.start_tour("/odoo", "lead_allocation_weights", login="admin")
        self.assertEqual(self.junior_1.allocation_weight, 15)
        self.assertEqual(
            (self.senior | self.junior_1 | self.junior_2).mapped("allocation_paused"),
            [True, True, True],
        )

    def test_preview_follows_time_off(self):
        """Sam is on time off (flexible hours: the others are at work whatever the hour the
        tour runs): the preview says "away until …" and its next 10 leads, which are what
        the next leads get, skip him."""
        self.env["ir.config_parameter"].set_param("lead_allocation.follow_availability", True)
        for user in (self.senior, self.junior_1, self.junior_2):
            user.allocation_calendar_id = False  # flexible hours: at work unless on leave
        now = datetime.now()
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Holiday in Lisbon",
                "resource_id": self.senior.resource_ids.id,
                "date_from": now - timedelta(days=1),
                "date_to": now + timedelta(days=6),
            }
        )
        url = "/odoo/action-lead_allocation.res_users_action_lead_allocation"
        self.start_tour(url, "lead_allocation_availability", login="admin")
        leads = self.env["crm.lead"].create(
            [{"name": f"Next {i}", "team_id": self.team.id} for i in range(10)]
        )
        self.assertNotIn(self.senior, leads.user_id)
        self.assertIn("Sam Senior: away until", leads[0].allocation_reason)
        self.assertNotIn("Lisbon", leads[0].allocation_reason)

    def test_admin_toggles_isolation(self):
        self._set_isolation(False)
        self.start_tour("/odoo", "lead_allocation_isolation_setting", login="admin")
        self.assertTrue(self.env["res.users"]._lead_isolation_enabled())

    def test_sheet_sync_progress_and_sync_now(self):
        key = service_account_info("http://127.0.0.1:9/token")  # never called here
        source = self.env["lead.allocation.sheet"].create(
            {"name": "Tour sheet", "spreadsheet": "tour-sheet-key",
             "credentials_input": json.dumps(key)}
        )  # fmt: skip
        source.write(
            {
                "sync_running": True,
                "sync_rows_done": 500,
                "sync_rows_total": 1200,
                "last_sync_date": "2026-01-05 10:00:00",
                "last_sync_state": "stopped",
                "last_sync_message": "500 imported, 0 duplicate(s), 0 error(s), 0 already "
                "imported. Stopped after 500 of 1200 rows (the scheduled action's time was "
                "up); continues at its next run.",
            }
        )
        manager = self._user("tour_manager", "Mia Manager", 0, "sales_team.group_sale_manager")
        url = f"/odoo/action-lead_allocation.lead_allocation_sheet_action/{source.id}"
        self.start_tour(url, "lead_allocation_sheet_sync", login=manager.login)
        self.assertTrue(source.sync_requested)
        self.assertFalse(
            self.env["lead.allocation.sheet.row"].search([("sheet_id", "=", source.id)])
        )

    def test_sheet_write_back_form(self):
        google = FakeGoogle().start()
        self.addCleanup(google.stop)
        email = "lead-import@test-project.iam.gserviceaccount.com"
        google.add_sheet("tour-sheet-key", "Tour leads", [["Name", "Email"]], viewers={email})
        self.env["ir.config_parameter"].set_param(
            "lead_allocation.sheets_api_base", google.api_base
        )
        source = self.env["lead.allocation.sheet"].create(
            {"name": "Tour sheet", "spreadsheet": "tour-sheet-key", "write_back": True,
             "credentials_input": json.dumps(google.service_account_info())}
        )  # fmt: skip
        source.write_back_waiting = 3
        manager = self._user("tour_manager", "Mia Manager", 0, "sales_team.group_sale_manager")
        url = f"/odoo/action-lead_allocation.lead_allocation_sheet_action/{source.id}"
        self.start_tour(url, "lead_allocation_sheet_write_back", login=manager.login)
        self.assertEqual(google.writes, [])  # refused: nothing written
        self.assertEqual(google.rows("tour-sheet-key"), [["Name", "Email"]])

    def test_lead_list_shows_allocation(self):
        Lead = self.env["crm.lead"]
        Lead.create({"name": "Lead by rotation", "type": "opportunity"})
        for name, user, named_by in (
            ("Lead by webhook", self.junior_1, ("webhook", "Zapier")),
            ("Lead from a sheet", self.junior_2, ("sheet", "Leads sheet")),
            ("Lead given by hand", self.senior, None),
        ):
            Lead.with_context(lead_allocation_named_by=named_by).create(
                {"name": name, "type": "opportunity", "user_id": user.id}
            )
        for name, user, method in (
            ("Lead kept by its creator", self.junior_1, "creator"),
            ("Lead nobody could take", False, "unassigned"),
            ("Lead over the caps", False, "capped"),
        ):
            lead = Lead.create({"name": name, "type": "opportunity"})
            lead.write({"user_id": user and user.id, "allocation_method": method})
        self.start_tour("/odoo", "lead_allocation_lead_list", login="admin")


@tagged("post_install", "-at_install")
class TestToursSalespeople(TourCase):
    def test_salesperson_creates_leads(self):
        self.senior.allocation_daily_cap = 1
        self.junior_2.allocation_paused = True
        self.start_tour("/odoo", "lead_allocation_salesperson_creates", login="tour_sales")
        self.start_tour("/odoo", "lead_allocation_team_pipeline", login="tour_sales")
        names = ("Quick tour lead", "Form tour lead", "Team quick lead", "Team form lead")
        leads = self.env["crm.lead"].search([("name", "in", names)], order="id")
        self.assertEqual(leads.mapped("name"), list(names))
        self.assertEqual(leads.user_id, self.senior | self.junior_1)
        self.assertEqual(leads[1:].user_id, self.junior_1)
        self.assertEqual(set(leads.mapped("allocation_method")), {"round_robin"})
        self.assertEqual(leads.team_id, self.team)

    def test_existing_customer_goes_to_its_salesperson(self):
        self.env["res.config.settings"].create({"lead_allocation_route_to_owner": True}).execute()
        acme = self.env["res.partner"].create(
            {"name": "Acme Corp", "is_company": True, "user_id": self.junior_1.id}
        )
        self.env["res.partner"].create(
            {"name": "Ann", "parent_id": acme.id, "email": "ann@acme.example"}
        )
        url = "/odoo/action-crm.crm_lead_action_pipeline/new"
        self.start_tour(url, "lead_allocation_existing_customer", login="tour_sales")
        lead = self.env["crm.lead"].search([("name", "=", "Acme wants more")])
        self.assertEqual((lead.user_id, lead.allocation_method), (self.junior_1, "owner"))

    def test_trusted_employee_clears_the_salesperson(self):
        self._set_isolation(True)
        self.start_tour("/odoo", "lead_allocation_trusted_employee_creates", login="tour_junior2")
        lead = self.env["crm.lead"].search([("name", "=", "Lead typed by Jay")])
        self.assertEqual((lead.user_id, lead.allocation_method), (self.junior_2, "creator"))

    def test_trusted_employee_sees_own_leads(self):
        leads = self.env["crm.lead"].create(
            [
                {"name": name, "type": "opportunity", "user_id": user.id}
                for name, user in (
                    ("Lead of Jay", self.junior_2),
                    ("Lead of Sam", self.senior),
                    ("Lead of nobody", self.senior),
                )
            ]
        )
        leads[2].user_id = False  # created unassigned, the rotation would give it away
        self._set_isolation(True)
        self.start_tour("/odoo", "lead_allocation_trusted_employee", login="tour_junior2")
