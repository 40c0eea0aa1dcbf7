from psycopg2.errors import CheckViolation

from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LeadAllocationCase


@tagged("post_install", "-at_install")
class TestInstall(LeadAllocationCase):
    def test_public_names_exist(self):
        """Groups, fields, settings and menus that users and integrators rely on."""
        group = self.env.ref("lead_allocation.group_trusted_employee")
        self.assertEqual(group.name, "Trusted Employee")
        self.assertIn(self.env.ref("sales_team.group_sale_salesman"), group.implied_ids)
        self.assertEqual(group.privilege_id.category_id, self.env.ref("base.module_category_sales"))
        for model, fname in [
            ("res.users", "allocation_weight"),
            ("res.users", "allocation_paused"),
            ("res.config.settings", "lead_auto_allocation_enabled"),
            ("res.config.settings", "lead_isolation_enabled"),
            ("crm.lead", "allocation_method"),
        ]:
            with self.subTest(model=model, field=fname):
                self.assertIn(fname, self.env[model]._fields)
        methods = dict(self.env["crm.lead"]._fields["allocation_method"].selection)
        self.assertLessEqual({"round_robin", "webhook", "manual"}, set(methods))
        menu = self.env.ref("lead_allocation.res_users_menu_lead_allocation")
        self.assertEqual(menu.name, "Lead Allocations")
        self.assertEqual(menu.parent_id, self.env.ref("crm.crm_menu_config"))

    def test_settings_defaults_after_install(self):
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.lead_auto_allocation_enabled)
        self.assertFalse(settings.lead_isolation_enabled)
        self.assertEqual(
            self.env["ir.config_parameter"].get_param("lead_allocation.auto_allocation_enabled"),
            "True",
        )

    def test_weight_defaults_and_never_negative(self):
        user = self.env["res.users"].create({"name": "New", "login": "la_new"})
        self.assertEqual(user.allocation_weight, 0)
        self.assertFalse(user.allocation_paused)
        with mute_logger("odoo.sql_db"), self.assertRaises(CheckViolation), self.cr.savepoint():
            user.allocation_weight = -1
            user.flush_recordset()
