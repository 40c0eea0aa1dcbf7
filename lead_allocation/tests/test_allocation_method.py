"""What every created lead says about its allocation: ``allocation_method`` and
``allocation_reason`` for each way a lead gets (or does not get) its salesperson, the
reason posted where the chatter shows it, the team of a lead the rotation gave away, and
the form of the users whose new leads stay theirs."""

from lxml import etree

from odoo.tests import Form, new_test_user, tagged

from .common import TRUSTED, LeadAllocationCase, set_isolation


@tagged("post_install", "-at_install")
class TestAllocationMethod(LeadAllocationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own_docs = new_test_user(
            cls.env, "la_own_docs", groups="sales_team.group_sale_salesman", name="Olga Own"
        )
        cls.trusted = new_test_user(
            cls.env,
            "la_te",
            groups=f"sales_team.group_sale_salesman_all_leads,{TRUSTED}",
            name="Tina Trusted",
        )

    def _lead(self, user=None, context=None, **vals):
        Lead = self.env["crm.lead"].with_user(user or self.manager)
        return Lead.with_context(**(context or {})).create({"name": "Lead", **vals})

    def assertAllocation(self, lead, user, method, reason):
        self.assertEqual(
            (lead.user_id, lead.allocation_method, lead.allocation_reason),
            (user, method, reason),
        )

    # One case per method --------------------------------------------------------------

    def test_round_robin(self):
        lead = self._lead()
        self.assertAllocation(
            lead,
            self.senior,
            "round_robin",
            "Assigned to Sam Senior by round robin (weight 10 of 20)",
        )

    def test_manual(self):
        lead = self._lead(user_id=self.junior_2.id)
        self.assertAllocation(
            lead, self.junior_2, "manual", "Assigned to Jay Junior when created by Mia Manager"
        )

    def test_context_default_salesperson_is_not_a_choice(self):
        """A sales team's pipeline puts the current user in the context: the rotation of
        the team still chooses, and the form starts empty."""
        context = {
            "default_user_id": self.manager.id,
            "default_team_id": self.team.id,
            "default_type": "opportunity",
        }
        form = Form(self.env["crm.lead"].with_user(self.manager).with_context(**context))
        self.assertFalse(form.user_id)
        form.name = "From the team's pipeline"
        lead = form.save()
        self.assertEqual((lead.user_id, lead.allocation_method), (self.senior, "round_robin"))
        self.assertEqual(lead.team_id, self.team)
        lead = self._lead(context=context)
        self.assertEqual(lead.allocation_method, "round_robin")

    def test_creator_when_allocation_is_off(self):
        self.env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", False)
        self.assertAllocation(
            self._lead(),
            self.manager,
            "creator",
            "Kept by its creator: automatic allocation is off",
        )
        # Odoo's behaviour, described: a salesperson cleared in the form stays empty
        self.assertAllocation(
            self._lead(user_id=False),
            self.env["res.users"],
            "unassigned",
            "Left unassigned: automatic allocation is off",
        )

    def test_creator_with_own_documents(self):
        """They may not create a colleague's lead: theirs stay theirs, even when they
        clear the Salesperson (decided: no lead without an owner while allocation is on)."""
        reason = "Kept by its creator: they may own only their own leads"
        form = Form(self.env["crm.lead"].with_user(self.own_docs))
        self.assertEqual(form.user_id, self.own_docs)
        self.assertTrue(form.allocation_keeps_own)
        form.name = "Mine"
        self.assertAllocation(form.save(), self.own_docs, "creator", reason)
        self.assertAllocation(
            self._lead(self.own_docs, user_id=False), self.own_docs, "creator", reason
        )
        self.assertFalse(Form(self.env["crm.lead"].with_user(self.manager)).allocation_keeps_own)

    def test_trusted_employee_clears_the_salesperson(self):
        """Isolation on: an unassigned lead would be invisible to her (an Access Error on
        save, her input lost); it stays hers."""
        set_isolation(self.env, True)
        form = Form(self.env["crm.lead"].with_user(self.trusted))
        self.assertEqual(form.user_id, self.trusted)
        self.assertTrue(form.allocation_keeps_own)
        form.name = "Typed by Tina"
        form.user_id = self.env["res.users"]
        lead = form.save()
        self.assertAllocation(
            lead,
            self.trusted,
            "creator",
            "Kept by its creator: a Trusted Employee may own only their own leads",
        )
        self.assertEqual(lead.with_user(self.trusted).name, "Typed by Tina")
        # the same with automatic allocation off
        self.env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", False)
        self.assertEqual(self._lead(self.trusted, user_id=False).user_id, self.trusted)

    def test_unassigned_nobody_eligible(self):
        self.salespeople.allocation_paused = True
        self.assertAllocation(
            self._lead(team_id=self.team.id),
            self.env["res.users"],
            "unassigned",
            "Left unassigned: nobody in the rotation of the team Allocation Team "
            "(weight above 0, not paused)",
        )

    def test_capped(self):
        self.salespeople.allocation_daily_cap = 1
        leads = self._create(4)
        self.assertEqual(leads.mapped("allocation_method"), ["round_robin"] * 3 + ["capped"])
        self.assertAllocation(
            leads[3],
            self.env["res.users"],
            "capped",
            "Left unassigned: every salesperson in the rotation of the leads without a "
            "team reached their daily cap",
        )

    def test_every_lead_says_how(self):
        """Whatever the path, no lead is created without a method and a reason."""
        self._lead()
        self._lead(user_id=self.senior.id)
        self._lead(self.own_docs)
        self.salespeople.allocation_weight = 0
        self._lead()
        leads = self.env["crm.lead"].search([("create_uid", "!=", 1)])
        self.assertTrue(all(leads.mapped("allocation_method")))
        self.assertTrue(all(leads.mapped("allocation_reason")))

    # The team of a lead the rotation gave away ---------------------------------------------

    def test_team_from_the_chosen_salesperson(self):
        """The web client sends "team_id": false; the team is still computed from the
        salesperson the rotation chose, as crm does."""
        other = self.env["crm.team"].create({"name": "Other Team"})
        saved = (
            self.env["crm.lead"]
            .with_user(self.manager)
            .web_save({"name": "Typed", "team_id": False}, specification={"team_id": {}})
        )
        lead = self.env["crm.lead"].browse(saved[0]["id"])
        self.assertEqual((lead.user_id, lead.team_id), (self.senior, self.team))
        form = Form(self.env["crm.lead"].with_user(self.manager))
        form.name = "In the form"
        lead = form.save()
        self.assertEqual((lead.user_id, lead.team_id), (self.junior_1, self.team))
        # a team given by the caller is kept
        lead = self._lead(team_id=other.id)
        self.assertEqual(lead.team_id, other)
        self.assertEqual(lead.allocation_method, "unassigned")

    # The chatter -----------------------------------------------------------------------

    def test_reason_is_a_note_of_odoobot(self):
        """The chatter hides the body of the creation message: the reason is a note of
        its own, one per lead (also in a batch), by OdooBot, notifying nobody."""
        self.senior.notification_type = "inbox"
        leads = self.env["crm.lead"].create([{"name": f"Batch {i}"} for i in range(3)])
        for lead in leads:
            notes = lead.message_ids.filtered(
                lambda message: message.subtype_id == self.env.ref("mail.mt_note")
            )
            self.assertEqual(len(notes), 1)
            self.assertEqual(notes.body.striptags(), lead.allocation_reason)
            self.assertEqual(notes.author_id, self.env.ref("base.partner_root"))
            self.assertFalse(notes.notification_ids)
            creation = lead.message_ids - notes
            self.assertNotIn("round robin", "".join(creation.mapped("body")))

    # Searches and reports ----------------------------------------------------------------

    def test_a_filter_per_method(self):
        methods = dict(self.env["crm.lead"]._fields["allocation_method"].selection)
        self.assertEqual(
            set(methods),
            {
                "round_robin",
                "owner",
                "webhook",
                "sheet",
                "manual",
                "creator",
                "unassigned",
                "capped",
                "held",
                "reallocated",
            },
        )
        for view in ("crm.view_crm_case_leads_filter", "crm.view_crm_case_opportunities_filter"):
            arch = self.env["crm.lead"].get_views([(self.env.ref(view).id, "search")])
            search = etree.fromstring(arch["views"]["search"]["arch"])
            domains = [node.get("domain", "") for node in search.iter("filter")]
            for method in methods:
                with self.subTest(view=view, method=method):
                    needle = f"('allocation_method', '=', '{method}')"
                    self.assertTrue(any(needle in domain for domain in domains), domains)
