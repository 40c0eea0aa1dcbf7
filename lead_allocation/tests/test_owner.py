"""Existing customers go to their salesperson: the setting "Send leads of existing
customers to their salesperson" (``lead_allocation_route_to_owner``), each way a lead is
matched to its customer, who may receive it, and that the rotation is not disturbed."""

from fractions import Fraction

from odoo.tests import new_test_user, tagged

from ..allocation import Rotation
from ..intake import parse_lead_payload
from .common import TRUSTED, LeadAllocationCase, set_isolation, take


@tagged("post_install", "-at_install")
class TestOwnerRouting(LeadAllocationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.config.settings"].create({"lead_allocation_route_to_owner": True}).set_values()
        cls.account_manager = cls._salesperson("la_am", "Ada Account", 0)
        Partner = cls.env["res.partner"]
        cls.acme = Partner.create(
            {
                "name": "Acme Corp",
                "is_company": True,
                "email": "info@acme.example",
                "user_id": cls.senior.id,
            }
        )
        cls.ann = Partner.create(
            {"name": "Ann Acme", "parent_id": cls.acme.id, "email": "Ann@Acme.example"}
        )
        cls.bob = Partner.create(
            {
                "name": "Bob Own",
                "email": "bob@elsewhere.example",
                "user_id": cls.junior_2.id,
            }
        )
        cls.globex = Partner.create(
            {
                "name": "Globex",
                "is_company": True,
                "website": "https://www.globex.example/about",
                "user_id": cls.account_manager.id,
            }
        )

    def _lead(self, **vals):
        return self.env["crm.lead"].with_user(self.manager).create({"name": "Lead", **vals})

    def assertOwner(self, lead, user, reason):
        self.assertEqual(
            (lead.user_id, lead.allocation_method, lead.allocation_reason),
            (user, "owner", reason),
        )

    def test_contact_given_goes_to_its_salesperson(self):
        self.assertOwner(
            self._lead(partner_id=self.bob.id),
            self.junior_2,
            "Assigned to Jay Junior: salesperson of Bob Own (the lead's contact)",
        )

    def test_contact_found_by_email_goes_to_its_company_salesperson(self):
        self.assertOwner(
            self._lead(email_from="ANN@acme.EXAMPLE"),
            self.senior,
            "Assigned to Sam Senior: salesperson of Acme Corp "
            "(matched by e-mail address ann@acme.example)",
        )

    def test_company_by_email_domain_and_by_website(self):
        self.assertOwner(
            self._lead(email_from="Newcomer <new@acme.example>"),
            self.senior,
            "Assigned to Sam Senior: salesperson of Acme Corp "
            "(matched by e-mail domain acme.example)",
        )
        # weight 0: an account manager outside the rotation still gets their customers
        self.assertOwner(
            self._lead(email_from="cto@globex.example"),
            self.account_manager,
            "Assigned to Ada Account: salesperson of Globex "
            "(matched by e-mail domain globex.example)",
        )

    def test_public_domains_never_match(self):
        Partner = self.env["res.partner"]
        for domain in ("gmail.com", "hotmail.fr", "yahoo.co.uk", "mycorp-mail.example"):
            Partner.create(
                {
                    "name": domain,
                    "is_company": True,
                    "email": f"x@{domain}",
                    "user_id": self.senior.id,
                }
            )
        self.env["ir.config_parameter"].set_param(
            "lead_allocation.public_email_domains", "mycorp-mail.example"
        )
        for domain in ("gmail.com", "hotmail.fr", "yahoo.co.uk", "mycorp-mail.example"):
            with self.subTest(domain=domain):
                lead = self._lead(email_from=f"someone@{domain}")
                self.assertEqual(lead.allocation_method, "round_robin")

    def test_ambiguous_domain_leaves_it_to_the_rotation(self):
        self.env["res.partner"].create(
            {
                "name": "Acme Labs",
                "is_company": True,
                "website": "acme.example",
                "user_id": self.junior_1.id,
            }
        )
        lead = self._lead(email_from="new@acme.example")
        self.assertEqual(lead.allocation_method, "round_robin")
        self.assertTrue(
            lead.allocation_reason.endswith(
                "; no existing customer: several customers with different salespeople "
                "match the e-mail domain acme.example"
            ),
            lead.allocation_reason,
        )

    def test_paused_or_archived_owner_is_passed_over_with_the_reason(self):
        self.senior.allocation_paused = True
        lead = self._lead(email_from="new@acme.example")
        self.assertEqual(lead.allocation_method, "round_robin")
        self.assertNotEqual(lead.user_id, self.senior)
        self.assertIn("; Sam Senior, salesperson of Acme Corp, is paused", lead.allocation_reason)
        self.senior.allocation_paused = False
        self.bob.user_id.active = False
        lead = self._lead(partner_id=self.bob.id)
        self.assertEqual(lead.allocation_method, "round_robin")
        self.assertIn(
            "; Jay Junior, salesperson of Bob Own, cannot receive leads of this company",
            lead.allocation_reason,
        )

    def test_contacts_of_another_company_do_not_match(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        self.env["res.partner"].create(
            {
                "name": "Other's Zed",
                "email": "zed@zed.example",
                "company_id": other.id,
                "user_id": self.junior_1.id,
            }
        )
        lead = self._lead(email_from="zed@zed.example")
        self.assertEqual(lead.allocation_method, "round_robin")

    def test_only_the_intake_names_salespeople(self):
        """The context key the intake names agents with says webhook or sheet, nothing else."""
        Lead = self.env["crm.lead"].with_user(self.manager)
        lead = Lead.with_context(lead_allocation_named_by="round_robin").create(
            {"name": "Forged", "user_id": self.junior_1.id}
        )
        self.assertEqual(lead.allocation_method, "manual")

    def test_setting_off_and_explicit_salesperson(self):
        lead = self._lead(email_from="new@acme.example", user_id=self.junior_1.id)
        self.assertEqual((lead.user_id, lead.allocation_method), (self.junior_1, "manual"))
        self.env["ir.config_parameter"].set_param("lead_allocation.route_to_owner", False)
        self.assertEqual(self._lead(email_from="new@acme.example").allocation_method, "round_robin")

    def test_trusted_employee_owner_sees_the_lead_and_nothing_else_moves(self):
        trusted = new_test_user(
            self.env,
            "la_te_owner",
            name="Tia Trusted",
            groups=f"sales_team.group_sale_salesman,{TRUSTED}",
        )
        self.acme.user_id = trusted
        set_isolation(self.env, True)
        earlier = self.env["crm.lead"].create(
            {"name": "Earlier", "partner_id": self.ann.id, "user_id": self.junior_1.id}
        )
        lead = self._lead(email_from="new@acme.example", name="Acme again")
        self.assertEqual(lead.user_id, trusted)
        visible = self.env["crm.lead"].with_user(trusted).search([("name", "=", "Acme again")])
        self.assertEqual(visible, lead)
        self.assertEqual(earlier.user_id, self.junior_1, "an existing lead is not touched")

    def test_batch_matches_in_a_fixed_number_of_queries(self):
        def batch(size):
            return [
                {"name": f"B{i}", "email_from": email}
                for i, email in zip(
                    range(size),
                    ["ann@acme.example", "x@globex.example", "y@gmail.com", "z@nowhere.example"]
                    * size,
                    strict=False,
                )
            ]

        Lead = self.env["crm.lead"].with_user(self.manager)
        Owner = self.env["lead.allocation.owner"]
        Owner._match(batch(4), [self.company.id] * 4)  # the settings cache warm
        self.env.flush_all()
        for size in (4, 40):
            with self.subTest(size=size):
                vals_list = batch(size)
                before = self.env.cr.sql_log_count
                Owner._match(vals_list, [self.company.id] * size)
                self.assertEqual(self.env.cr.sql_log_count - before, 2, "contacts, then domains")
        leads = Lead.create(batch(8))
        self.assertEqual(
            leads.mapped("allocation_method"),
            ["owner", "owner", "round_robin", "round_robin"] * 2,
        )

    def test_rotation_is_not_disturbed(self):
        """Owner-routed leads take no turn: the rotation's leads are its own sequence,
        whatever the interleaving, and stay within the fairness bound."""
        pattern = [True, False, False, True, True, False, True, False, False, False] * 3
        leads = self.env["crm.lead"]
        for index, owned in enumerate(pattern):
            email = "ann@acme.example" if owned else f"p{index}@gmail.com"
            leads |= self._lead(email_from=email, team_id=self.team.id)
        rotated = leads.filtered(lambda lead: lead.allocation_method == "round_robin")
        self.assertEqual(len(rotated), pattern.count(False))
        weights = self._weights()
        self.assertEqual(
            [lead.user_id.id for lead in rotated], take(Rotation(), weights, len(rotated))
        )
        total = sum(weights.values())
        for step in range(1, len(rotated) + 1):
            prefix = rotated[:step]
            for user_id, weight in weights.items():
                deviation = len(prefix.filtered(lambda lead, u=user_id: lead.user_id.id == u))
                self.assertLess(abs(deviation - Fraction(step * weight, total)), 1)

    def test_entry_paths(self):
        """Webhook and batch without an agent, a Google Sheets row, the mail gateway."""
        integration = new_test_user(
            self.env, "la_owner_api", groups="sales_team.group_sale_salesman_all_leads"
        )
        Intake = self.env["lead.allocation.intake"].with_user(integration)
        payloads = [
            parse_lead_payload({"name": "Hook", "email_from": "new@acme.example"}),
            parse_lead_payload({"name": "Hook 2", "email_from": "x@gmail.com"}),
        ]
        for method in ("webhook", "sheet"):
            with self.subTest(method=method):
                received = Intake._receive_batch(payloads, method, "Test")
                first = received[0].lead
                self.assertEqual((first.user_id, first.allocation_method), (self.senior, "owner"))
                self.assertEqual(received[1].lead.allocation_method, "round_robin")
        # an import (base_import loads through the same create)
        result = (
            self.env["crm.lead"]
            .with_user(self.manager)
            .load(["name", "email_from"], [["Imported", "someone@globex.example"]])
        )
        imported = self.env["crm.lead"].browse(result["ids"])
        self.assertEqual(
            (imported.user_id, imported.allocation_method), (self.account_manager, "owner")
        )
        lead = self.env["crm.lead"].message_new(
            {
                "subject": "Question",
                "email_from": "Ann <ann@acme.example>",
                "from": "Ann <ann@acme.example>",
                "to": "sales@company.example",
                "body": "<p>Hello</p>",
            }
        )
        self.assertEqual((lead.user_id, lead.allocation_method), (self.senior, "owner"))
