from collections import Counter
from fractions import Fraction
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from ..allocation import Rotation
from ..models import lead_allocation_pool as pool_module
from .common import LeadAllocationCase, take


def assert_fair(case, weights, sequence):
    """Every prefix keeps every count strictly within one lead of n * w / W."""
    total = sum(weights.values())
    counts = Counter()
    for n, user_id in enumerate(sequence, start=1):
        counts[user_id] += 1
        for member, weight in weights.items():
            deviation = abs(counts[member] - Fraction(n * weight, total))
            case.assertLess(deviation, 1, f"after {n} leads, user {member}: {dict(counts)}")


@tagged("post_install", "-at_install")
class TestAllocation(LeadAllocationCase):
    def test_weights_give_proportional_shares(self):
        leads = self._create(20)
        counts = Counter(lead.user_id.id for lead in leads)
        self.assertEqual(counts, {self.senior.id: 10, self.junior_1.id: 5, self.junior_2.id: 5})
        self.assertEqual(set(leads.mapped("allocation_method")), {"round_robin"})
        assert_fair(self, self._weights(), [lead.user_id.id for lead in leads])

    def test_equal_weights_take_turns(self):
        self.salespeople.allocation_weight = 1
        leads = self._create(6)
        self.assertEqual(
            [lead.user_id.id for lead in leads],
            take(Rotation(), self._weights(), 6),
        )

    def test_explicit_salesperson_is_kept(self):
        """A salesperson in the create values is kept; a context default alone is not a
        choice (see test_allocation_method)."""
        lead = self.env["crm.lead"].create({"name": "X", "user_id": self.junior_2.id})
        self.assertEqual(lead.user_id, self.junior_2)
        self.assertEqual(lead.allocation_method, "manual")

    def test_batch_create_follows_the_order_of_the_values(self):
        leads = self.env["crm.lead"].create([{"name": f"Batch {i}"} for i in range(40)])
        sequence = [lead.user_id.id for lead in leads]
        self.assertEqual(sequence, take(Rotation(), self._weights(), 40))
        assert_fair(self, self._weights(), sequence)

    def test_batch_mixes_explicit_and_allocated(self):
        leads = self.env["crm.lead"].create(
            [
                {"name": "A"},
                {"name": "B", "user_id": self.junior_1.id},
                {"name": "C"},
            ]
        )
        self.assertEqual(
            leads.mapped("allocation_method"), ["round_robin", "manual", "round_robin"]
        )
        self.assertEqual(leads[1].user_id, self.junior_1)

    def test_rotation_continues_across_calls(self):
        first = self._create(3)
        second = self.env["crm.lead"].create([{"name": f"B{i}"} for i in range(5)])
        sequence = [lead.user_id.id for lead in first + second]
        self.assertEqual(sequence, take(Rotation(), self._weights(), 8))

    # Entry paths ---------------------------------------------------------------------

    def test_form_leaves_salesperson_empty_and_allocates(self):
        form = Form(self.env["crm.lead"].with_user(self.manager))
        self.assertFalse(form.user_id, "the rotation chooses when nobody is picked")
        form.name = "From the form"
        lead = form.save()
        self.assertIn(lead.user_id, self.salespeople)
        self.assertEqual(lead.allocation_method, "round_robin")

    def test_form_with_chosen_salesperson(self):
        form = Form(self.env["crm.lead"].with_user(self.manager))
        form.name = "Chosen"
        form.user_id = self.junior_2
        lead = form.save()
        self.assertEqual((lead.user_id, lead.allocation_method), (self.junior_2, "manual"))

    def test_quick_create_and_web_save(self):
        Lead = self.env["crm.lead"].with_user(self.manager)
        lead_id, _name = Lead.name_create("Quick")
        saved = Lead.with_context(default_team_id=self.team.id).web_save(
            {"name": "Kanban quick create"}, specification={"user_id": {}}
        )
        for lead in (Lead.browse(lead_id), Lead.browse(saved[0]["id"])):
            with self.subTest(lead=lead.name):
                self.assertIn(lead.user_id, self.salespeople)
                self.assertEqual(lead.allocation_method, "round_robin")

    def test_import(self):
        result = (
            self.env["crm.lead"]
            .with_user(self.manager)
            .load(
                ["name", "email_from"], [[f"Imported {i}", f"i{i}@example.com"] for i in range(4)]
            )
        )
        self.assertFalse(result["messages"])
        leads = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual([lead.user_id.id for lead in leads], take(Rotation(), self._weights(), 4))

    def test_base_import_wizard(self):
        data = b"name,email_from\nCsv one,one@example.com\nCsv two,two@example.com\n"
        wizard = self.env["base_import.import"].create(
            {"res_model": "crm.lead", "file": data, "file_type": "text/csv"}
        )
        result = wizard.execute_import(
            ["name", "email_from"], [], {"has_headers": True, "quoting": '"', "separator": ","}
        )
        leads = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(len(leads), 2)
        self.assertEqual(set(leads.mapped("allocation_method")), {"round_robin"})

    def test_mail_gateway(self):
        email = (
            "From: Prospect <prospect@example.com>\r\n"
            "To: sales@example.com\r\n"
            "Subject: I want a quote\r\n"
            "Message-ID: <la-test-1@example.com>\r\n\r\nHello"
        )
        lead_id = self.env["mail.thread"].message_process("crm.lead", email)
        lead = self.env["crm.lead"].browse(lead_id)
        self.assertIn(lead.user_id, self.salespeople)
        self.assertEqual(lead.allocation_method, "round_robin")

    def test_website_form_as_public_user(self):
        """The website contact form creates leads as the public user, in sudo."""
        public = self.env.ref("base.public_user")
        lead = (
            self.env["crm.lead"]
            .with_user(public)
            .sudo()
            .create({"name": "Contact us", "email_from": "visitor@example.com"})
        )
        self.assertIn(lead.user_id, self.salespeople)
        self.assertEqual(lead.allocation_method, "round_robin")

    def test_integration_user_does_not_keep_its_leads(self):
        integration = new_test_user(
            self.env, "la_integration", groups="sales_team.group_sale_salesman_all_leads"
        )
        lead = self.env["crm.lead"].with_user(integration).create({"name": "Over RPC"})
        self.assertIn(lead.user_id, self.salespeople)
        self.assertEqual(lead.allocation_method, "round_robin")

    def test_own_documents_user_keeps_own_leads(self):
        """Odoo's rules forbid them to create a colleague's lead: the lead stays theirs."""
        own = new_test_user(self.env, "la_own", groups="sales_team.group_sale_salesman")
        Lead = self.env["crm.lead"].with_user(own)
        self.assertEqual(Form(Lead).user_id, own)
        lead = Lead.create({"name": "Mine"})
        self.assertEqual(lead.user_id, own)

    # Who is eligible -----------------------------------------------------------------

    def test_ineligible_users_are_skipped(self):
        portal = new_test_user(self.env, "la_portal", groups="base.group_portal")
        no_crm = new_test_user(self.env, "la_nocrm", groups="base.group_user")
        archived = self._salesperson("la_archived", "Archived", 10)
        archived.active = False
        paused = self._salesperson("la_paused", "Paused", 10)
        paused.allocation_paused = True
        other_company = self.env["res.company"].create({"name": "Other Co"})
        elsewhere = self._salesperson("la_elsewhere", "Elsewhere", 10)
        elsewhere.write(
            {"company_ids": [Command.set(other_company.ids)], "company_id": other_company.id}
        )
        for user in (portal, no_crm):
            user.sudo().allocation_weight = 7
        leads = self._create(30)
        self.assertEqual(set(leads.user_id), set(self.salespeople))

    def test_team_pool_and_global_pool(self):
        outsider = self._salesperson("la_outsider", "Outsider", 20)
        in_team = self._create(8, team_id=self.team.id)
        self.assertEqual(set(in_team.user_id), set(self.salespeople))
        global_leads = self._create(8)
        self.assertIn(outsider, global_leads.user_id)

    def test_nobody_eligible_creates_unassigned(self):
        self.salespeople.allocation_weight = 0
        with patch.object(pool_module._logger, "info") as log_info:
            lead = self._create(1)
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.allocation_method, "unassigned")
        self.assertIn("created unassigned", log_info.call_args.args[0])

    def test_auto_allocation_off_keeps_odoo_behaviour(self):
        self.env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", False)
        lead = self.env["crm.lead"].with_user(self.manager).create({"name": "Mine"})
        self.assertEqual(lead.user_id, self.manager)

    # Changes -------------------------------------------------------------------------

    def test_weight_change_applies_at_once(self):
        before = self._create(5)
        self.senior.allocation_weight = 5  # now everybody 5
        after = self._create(9)
        self.assertEqual(len(before), 5)
        sequence = [lead.user_id.id for lead in after]
        assert_fair(self, self._weights(), sequence)
        self.assertEqual(Counter(sequence), dict.fromkeys(self.salespeople.ids, 3))

    def test_pause_and_return_without_catch_up(self):
        self._create(4)
        self.junior_2.allocation_paused = True
        away = self._create(15)
        self.assertNotIn(self.junior_2, away.user_id)
        self.junior_2.allocation_paused = False
        back = self._create(8)
        counts = Counter(lead.user_id.id for lead in back)
        self.assertEqual(counts[self.junior_2.id], 2, "a plain share, not a burst")
        assert_fair(self, self._weights(), [lead.user_id.id for lead in back])

    def test_new_member_joins_the_rotation(self):
        self._create(3)
        newcomer = self._salesperson("la_newcomer", "Newcomer", 10)
        self.team.member_ids = [Command.link(newcomer.id)]
        leads = self._create(6)
        weights = self._weights(self.salespeople | newcomer)
        assert_fair(self, weights, [lead.user_id.id for lead in leads])

    def test_daily_cap(self):
        self.senior.allocation_daily_cap = 2
        leads = self._create(12)
        counts = Counter(lead.user_id.id for lead in leads)
        self.assertEqual(counts[self.senior.id], 2)
        self.assertEqual(counts[self.junior_1.id] + counts[self.junior_2.id], 10)

    # Audit ---------------------------------------------------------------------------

    def test_chatter_says_who_and_why(self):
        lead = self._create(1)
        bodies = lead.message_ids.mapped("body")
        self.assertTrue(
            any("Sam Senior by round robin (weight 10 of 20)" in str(body) for body in bodies),
            bodies,
        )

    def test_lead_allocations_page(self):
        self._create(4)
        self.assertEqual(self.senior.allocation_lead_count, 2)
        self.assertEqual(self.junior_2.allocation_lead_count, 1)
        # Sales Administrators edit weights; salespeople may not.
        self.junior_1.with_user(self.manager).write({"allocation_weight": 7})
        self.assertEqual(self.junior_1.allocation_weight, 7)
        self.assertTrue(self.junior_1.with_user(self.manager).allocation_editable)
        with self.assertRaises(AccessError):
            self.junior_1.with_user(self.junior_2).write({"allocation_weight": 9})
        self.assertFalse(self.junior_1.with_user(self.junior_2).allocation_editable)

    def test_allocation_method_is_groupable(self):
        self._create(3)
        self.env["crm.lead"].create({"name": "Manual", "user_id": self.senior.id})
        groups = self.env["crm.lead"].formatted_read_group(
            [("user_id", "in", self.salespeople.ids)], ["allocation_method"], ["__count"]
        )
        self.assertEqual(
            {g["allocation_method"]: g["__count"] for g in groups},
            {"round_robin": 3, "manual": 1},
        )
