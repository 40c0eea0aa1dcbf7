"""On screen: a manager sets a team's re-allocation of untouched leads (the tour
static/tests/tours/lead_allocation_sla_setting.js)."""

from odoo.tests import tagged

from .test_tours import TourCase


@tagged("post_install", "-at_install")
class TestSlaTour(TourCase):
    def test_manager_sets_the_team_delay(self):
        url = f"/odoo/action-sales_team.crm_team_action_config/{self.team.id}"
        self.start_tour(url, "lead_allocation_sla_setting", login="admin")
        self.assertEqual(self.team.allocation_sla_hours, 4)
        self.assertEqual(self.team.allocation_sla_max, 2)
