from collections import Counter
from fractions import Fraction
from functools import partial
from unittest.mock import patch

from psycopg2 import errors as pg_errors

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..allocation import Rotation
from ..models import lead_allocation_pool as pool_module
from .common import LeadAllocationCase, real_transaction, run_in_parallel


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
    def _weights(self, users=None):
        return {user.id: user.allocation_weight for user in users or self.salespeople}

    def _create(self, count=1, **vals):
        Lead = self.env["crm.lead"]
        return Lead.concat(*[Lead.create({"name": f"Lead {i}", **vals}) for i in range(count)])

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
            Rotation().take(self._weights(), 6),
        )

    def test_explicit_salesperson_is_kept(self):
        for vals, context in [
            ({"user_id": self.junior_2.id}, {}),
            ({}, {"default_user_id": self.junior_2.id}),
        ]:
            with self.subTest(vals=vals, context=context):
                lead = self.env["crm.lead"].with_context(**context).create({"name": "X", **vals})
                self.assertEqual(lead.user_id, self.junior_2)
                self.assertEqual(lead.allocation_method, "manual")

    def test_batch_create_follows_the_order_of_the_values(self):
        leads = self.env["crm.lead"].create([{"name": f"Batch {i}"} for i in range(40)])
        sequence = [lead.user_id.id for lead in leads]
        self.assertEqual(sequence, Rotation().take(self._weights(), 40))
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
        self.assertEqual(sequence, Rotation().take(self._weights(), 8))

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
        self.assertEqual([lead.user_id.id for lead in leads], Rotation().take(self._weights(), 4))

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
        self.assertFalse(lead.allocation_method)
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

    # Preview -------------------------------------------------------------------------

    def test_preview_is_what_the_next_leads_get(self):
        """Weights 10/5/5, fresh pool: the preview reads the sequence the next 10 leads
        then actually get, without consuming it."""
        Pool, State = self.env["lead.allocation.pool"], self.env["lead.allocation.state"]
        states = State.search_count([])
        preview = Pool._preview(self.company.id, self.team.id, 10)
        self.assertEqual(Pool._preview(self.company.id, self.team.id, 10), preview)
        self.assertEqual(State.search_count([]), states, "a preview stores nothing")
        leads = self._create(10, team_id=self.team.id)
        self.assertEqual([lead.user_id.id for lead in leads], preview)
        self.assertEqual(Counter(preview)[self.senior.id], 5)
        # mid-rotation, with a pause and a cap reached: still the same path
        self.junior_2.allocation_paused = True
        self.senior.allocation_daily_cap = 7
        preview = Pool._preview(self.company.id, self.team.id, 10)
        leads = self._create(10, team_id=self.team.id)
        self.assertEqual([lead.user_id.id or False for lead in leads], preview)
        self.assertNotIn(self.junior_2.id, preview)
        self.assertEqual(preview.count(self.senior.id), 2, "5 of 7 already received today")
        # the pool of the leads without a team
        self.assertEqual(Pool._preview(self.company.id, False, 3), [self.junior_1.id] * 3)

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
        self.assertAlmostEqual(self.senior.allocation_share, 50.0)
        self.assertAlmostEqual(self.junior_1.allocation_share, 25.0)
        self.assertEqual(self.senior.allocation_lead_count, 2)
        self.assertAlmostEqual(self.senior.allocation_received_share, 50.0)
        self.assertAlmostEqual(self.junior_2.allocation_received_share, 25.0)
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

    # SQL cost ------------------------------------------------------------------------

    def _queries(self, vals_list):
        """Queries of one create call, caches cleared (the same state for every call)."""
        self.env.flush_all()
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        self.env["crm.lead"].create(vals_list)
        self.env.flush_all()
        return self.cr.sql_log_count - before

    def test_query_cost_per_lead(self):
        """Allocation adds a fixed number of queries per create call, not per lead."""
        # The baseline gives the same salespeople explicitly, in the rotation's order, so
        # that followers and notifications cost the same on both sides.
        self.salespeople.allocation_weight = 1
        order = Rotation().take(self._weights(), 21)
        self._queries([{"name": "warm"}, {"name": "warm", "user_id": self.senior.id}])

        def extra(count, weight):
            self.salespeople.allocation_weight = weight  # a new epoch: restarts in order
            manual = self._queries([{"name": "m", "user_id": uid} for uid in order[:count]])
            auto = self._queries([{"name": "a"} for _i in range(count)])
            return auto - manual

        extra_one, extra_ten, extra_twenty = extra(1, 2), extra(11, 3), extra(21, 4)
        # pool search and weights, lock, state read, state write: a fixed cost per call
        self.assertLessEqual(extra_one, 5)
        self.assertEqual(extra_twenty, extra_ten, "the extra cost does not grow with the batch")
        self.assertLessEqual(extra_twenty, extra_one + 2)


@tagged("post_install", "-at_install")
class TestAllocationConcurrency(TransactionCase):
    """Parallel transactions on real, committed data (separate connections).

    The test's own transaction writes nothing, so it holds no lock the others could wait on.
    """

    WORKERS = 4
    LEADS_PER_WORKER = 12

    def test_parallel_creations_share_one_rotation(self):
        ids = {}
        with real_transaction(self.registry, {"no_reset_password": True}) as env:
            group = env.ref("sales_team.group_sale_salesman")
            users = env["res.users"].create(
                [
                    {
                        "name": f"Parallel {i}",
                        "login": f"la_parallel_{i}",
                        "group_ids": [Command.set(group.ids)],
                        "allocation_weight": weight,
                    }
                    for i, weight in enumerate((10, 5, 5, 2))
                ]
            )
            team = env["crm.team"].create(
                {"name": "Parallel Team", "member_ids": [Command.set(users.ids)]}
            )
            ids = {"users": users.ids, "team": team.id}
        replays = Counter()

        def work(worker):
            for i in range(self.LEADS_PER_WORKER):
                for _attempt in range(5):
                    try:
                        with real_transaction(self.registry) as env:
                            env["crm.lead"].create(
                                {"name": f"P{worker}-{i}", "team_id": ids["team"]}
                            )
                        break
                    except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                        replays[worker] += 1

        try:
            with mute_logger("odoo.sql_db"):
                run_in_parallel(*(partial(work, w) for w in range(self.WORKERS)))
            with real_transaction(self.registry) as env:
                env.cr.execute(
                    "SELECT user_id, count(*) FROM crm_lead WHERE team_id = %s GROUP BY user_id",
                    (ids["team"],),
                )
                counts = dict(env.cr.fetchall())
            total = self.WORKERS * self.LEADS_PER_WORKER
            self.assertEqual(sum(counts.values()), total)
            weights = dict(zip(ids["users"], (10, 5, 5, 2), strict=True))
            for user_id, weight in weights.items():
                share = Fraction(total * weight, sum(weights.values()))
                self.assertLess(abs(counts.get(user_id, 0) - share), 1, (counts, weights))
            self.assertEqual(sum(replays.values()), 0, "no transaction had to be replayed")
        finally:
            with real_transaction(self.registry) as env:
                env["crm.lead"].with_context(active_test=False).search(
                    [("team_id", "=", ids["team"])]
                ).unlink()
                env["crm.team"].browse(ids["team"]).unlink()
                env["res.users"].browse(ids["users"]).write(
                    {"allocation_weight": 0, "active": False}
                )
