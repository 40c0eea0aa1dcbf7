"""Coexistence with Odoo's own Rule-Based Assignment (crm: Settings > CRM "Rule-Based
Assignment", the team members' capacity and "Pause assignment", the scheduled action
"CRM: Lead Assignment"), run for real through ``crm.team``'s assignment methods."""

from odoo.tests import tagged

from ..models.crm_team import HELD_METHODS
from .common import LeadAllocationCase


@tagged("post_install", "-at_install")
class TestRuleBasedAssignment(LeadAllocationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # both on: Odoo's scheduled assignment, members able to take many leads a day
        cls.env["res.config.settings"].create(
            {
                "crm_use_auto_assignment": True,
                "crm_auto_assignment_action": "auto",
                "crm_auto_assignment_interval_type": "hours",
                "crm_auto_assignment_interval_number": 1,
            }
        ).execute()
        cls.team.crm_team_member_ids.assignment_max = 3000  # 100 leads a day each
        cls.team.use_leads = True
        # the only team of Odoo's job, which gives a lead without a team to a team drawn
        # at random (weighted by capacity): the default team could draw it too
        cls.env["crm.team"].search([("id", "!=", cls.team.id)]).assignment_optout = True

    def _odoo_assigns(self):
        """Run Odoo's job as its scheduled action does (with the quota left for today)."""
        self.assertTrue(self.env.ref("crm.ir_cron_crm_lead_assign").active)
        self.env["crm.team"]._cron_assign_leads()
        self.env.invalidate_all()

    def test_odoo_never_reassigns_what_the_rotation_gave(self):
        """The rotation assigns at creation; Odoo's job takes only leads without a
        salesperson, so every rotation lead keeps its salesperson, with or without team."""
        leads = self._create(8, team_id=self.team.id) | self._create(4)
        owners = {lead: lead.user_id for lead in leads}
        self.assertTrue(all(owners.values()))
        self._odoo_assigns()
        self.team._action_assign_leads(force_quota=True, creation_delta_days=0)
        self.assertEqual({lead: lead.user_id for lead in leads}, owners)
        self.assertEqual(set(leads.mapped("allocation_method")), {"round_robin"})

    def test_odoo_assigns_what_the_rotation_left(self):
        """Nobody in the rotation: the lead is saved unassigned, then Odoo's job gives it to
        a member with capacity (and gives a team to a lead without one). The lead keeps
        what happened at its creation; its assignment date starts the re-allocation delay."""
        self.salespeople.allocation_weight = 0
        in_team = self._create(1, team_id=self.team.id)
        no_team = self._create(1)
        self.assertEqual((in_team | no_team).mapped("allocation_method"), ["unassigned"] * 2)
        self.assertFalse((in_team | no_team).user_id)
        self._odoo_assigns()
        self.assertIn(in_team.user_id, self.salespeople)
        self.assertEqual(no_team.team_id, self.team)
        self.assertIn(no_team.user_id, self.salespeople)
        self.assertEqual(in_team.allocation_method, "unassigned")
        self.assertTrue(in_team.allocation_assigned_at)

    def test_paused_stops_odoo_assignment_too(self):
        """Paused (Lead Allocations) keeps a salesperson out of Odoo's job as well; Odoo's
        Pause assignment of a team membership does not take them out of the rotation."""
        self.salespeople.allocation_weight = 0  # the rotation leaves every lead to Odoo
        self.senior.allocation_paused = True
        leads = self._create(6, team_id=self.team.id)
        self._odoo_assigns()
        self.assertTrue(all(leads.mapped("user_id")))
        self.assertNotIn(self.senior, leads.user_id)
        # Odoo's own pause, per team membership, is for Odoo's job only
        self.salespeople.write({"allocation_weight": 5, "allocation_paused": False})
        membership = self.team.crm_team_member_ids.filtered(lambda m: m.user_id == self.senior)
        membership.assignment_optout = True
        self.assertIn(self.senior, self._create(3, team_id=self.team.id).user_id)

    def test_held_leads_are_left_to_the_add_on(self):
        """A lead the add-on holds back (``HELD_METHODS``) is not given a salesperson by
        Odoo's job; an unassigned one is."""
        self.assertEqual(HELD_METHODS, ("held",))
        self.salespeople.allocation_weight = 0
        unassigned, held = self._create(2, team_id=self.team.id)
        # no create path writes a held lead yet: the stored value is written directly
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead SET allocation_method = %s WHERE id = %s", (HELD_METHODS[0], held.id)
        )
        self.env.invalidate_all()
        domain = self.team._get_lead_to_assign_domain()
        self.assertEqual(self.env["crm.lead"].search(domain) & (unassigned | held), unassigned)
        self._odoo_assigns()
        self.assertIn(unassigned.user_id, self.salespeople)
        self.env.cr.execute("SELECT user_id FROM crm_lead WHERE id = %s", (held.id,))
        self.assertEqual(self.env.cr.fetchone(), (None,))
