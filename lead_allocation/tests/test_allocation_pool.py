"""The pool model (lead.allocation.pool): its preview reads the path that allocation
takes, and allocation costs a fixed number of queries per create call."""

import ast
from collections import Counter

from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..allocation import Rotation
from .common import LeadAllocationCase, preview, take


@tagged("post_install", "-at_install")
class TestAllocationPool(LeadAllocationCase):
    # Preview -------------------------------------------------------------------------

    def test_preview_is_what_the_next_leads_get(self):
        """Weights 10/5/5, fresh pool: the preview reads the sequence the next 10 leads
        then actually get, without consuming it."""
        State = self.env["lead.allocation.state"]
        states = State.search_count([])
        next_ids = preview(self.env, self.team.id)
        self.assertEqual(preview(self.env, self.team.id), next_ids)
        self.assertEqual(State.search_count([]), states, "a preview stores nothing")
        leads = self._create(10, team_id=self.team.id)
        self.assertEqual([lead.user_id.id for lead in leads], next_ids)
        self.assertEqual(Counter(next_ids)[self.senior.id], 5)
        # mid-rotation, with a pause and a cap reached: still the same path
        self.junior_2.allocation_paused = True
        self.senior.allocation_daily_cap = 7
        next_ids = preview(self.env, self.team.id)
        leads = self._create(10, team_id=self.team.id)
        self.assertEqual([lead.user_id.id or False for lead in leads], next_ids)
        self.assertNotIn(self.junior_2.id, next_ids)
        self.assertEqual(next_ids.count(self.senior.id), 2, "5 of 7 already received today")
        # the pool of the leads without a team
        self.assertEqual(preview(self.env, False, 3), [self.junior_1.id] * 3)

    def _pool_data(self, team_id=None, user=None):
        """The Lead Allocations panel's data of the pool of ``team_id`` (default: our team)."""
        Pool = self.env["lead.allocation.pool"].with_user(user or self.manager)
        pools = Pool.get_preview_data()["pools"]
        team_id = self.team.id if team_id is None else team_id
        return next(pool for pool in pools if pool["id"] == team_id)

    def test_preview_data_is_what_the_next_leads_get(self):
        """The page's data, weights 10/5/5 from a fresh pool: shares 50/25/25 % within the
        team, and the next 10 names are those the next 10 leads then get."""
        pool = self._pool_data()
        self.assertEqual(pool["name"], "Allocation Team")
        self.assertFalse(pool["warning"])
        self.assertEqual(
            {member["name"]: member["share"] for member in pool["members"]},
            {"Sam Senior": 50.0, "Jo Junior": 25.0, "Jay Junior": 25.0},
        )
        self.assertEqual(self._pool_data(), pool, "reading the preview consumes nothing")
        leads = self._create(10, team_id=self.team.id)
        self.assertEqual(
            [(lead.user_id.id, lead.user_id.name) for lead in leads],
            [(step["id"], step["name"]) for step in pool["next"]],
        )
        self.assertEqual(Counter(step["name"] for step in pool["next"])["Sam Senior"], 5)
        # What the weights promised is kept on each lead, for the Allocation Analysis.
        self.assertEqual(
            {lead.user_id.name: lead.allocation_expected_share for lead in leads},
            {"Sam Senior": 50.0, "Jo Junior": 25.0, "Jay Junior": 25.0},
        )

    def test_shares_are_per_pool(self):
        """A salesperson in two teams has a share in each; the pool without a team takes
        every salesperson of the company."""
        self.env["ir.config_parameter"].set_param("sales_team.membership_multi", True)
        other = self.env["crm.team"].create(
            {"name": "Second Team", "member_ids": [(6, 0, (self.senior | self.junior_1).ids)]}
        )
        shares = {
            team_id: {
                member["name"]: member["share"] for member in self._pool_data(team_id)["members"]
            }
            for team_id in (self.team.id, other.id, 0)
        }
        self.assertEqual(shares[self.team.id]["Sam Senior"], 50.0)
        self.assertAlmostEqual(shares[other.id]["Sam Senior"], 100.0 * 10 / 15)
        self.assertAlmostEqual(shares[other.id]["Jo Junior"], 100.0 * 5 / 15)
        self.assertEqual(shares[0], shares[self.team.id])
        self.assertEqual(self._pool_data(0)["name"], "Leads without a team")

    def test_preview_warns_when_nobody_can_receive(self):
        """Everyone paused or at weight 0, or every cap reached: the page says the leads
        will be saved unassigned."""
        warning = "Nobody can receive leads of Allocation Team: new leads will be saved unassigned."
        self.junior_1.allocation_weight = 0
        (self.senior | self.junior_2).allocation_paused = True
        pool = self._pool_data()
        self.assertEqual(pool["warning"], warning)
        self.assertEqual(pool["members"], [])
        self.assertEqual({step["id"] for step in pool["next"]}, {False})
        self.assertEqual(
            self._pool_data(0)["warning"],
            "Nobody can receive leads without a team: they will be saved unassigned.",
        )
        # all caps reached
        self.junior_1.allocation_weight = 5
        (self.senior | self.junior_2).allocation_paused = False
        self.salespeople.allocation_daily_cap = 1
        self.assertFalse(self._pool_data()["warning"])
        self._create(3, team_id=self.team.id)
        pool = self._pool_data()
        self.assertEqual(pool["warning"], warning)
        self.assertEqual({member["capped"] for member in pool["members"]}, {True})
        # automatic allocation switched off: the page says so above the pools
        Pool = self.env["lead.allocation.pool"].with_user(self.manager)
        self.assertTrue(Pool.get_preview_data()["enabled"])
        self.env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", False)
        self.assertFalse(Pool.get_preview_data()["enabled"])

    def test_preview_data_access_and_cost(self):
        """Sales Administrators may read it (not salespeople, see test_multi_company); its
        queries do not grow with the number of salespeople."""
        self.assertTrue(self._pool_data(user=self.manager)["members"])
        for user in (
            self.junior_1,
            new_test_user(self.env, "la_outsider", groups="base.group_user"),
        ):
            with self.subTest(user=user.name), self.assertRaises(AccessError):
                self._pool_data(user=user)

        def queries():
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            self._pool_data()
            return self.cr.sql_log_count - before

        self.salespeople.allocation_daily_cap = 9
        queries()
        few = queries()
        more = self._salesperson("la_more1", "More One", 3) | self._salesperson(
            "la_more2", "More Two", 3
        )
        more.allocation_daily_cap = 9
        self.team.member_ids |= more
        queries()
        self.assertEqual(queries(), few)
        self.assertEqual(len(self._pool_data()["members"]), 5)

    # Allocation Analysis ---------------------------------------------------------------

    def test_allocation_analysis(self):
        """The pivot shows, per salesperson, the leads received next to the average
        expected share; the action's default filter exists in its search view."""
        self._create(4)
        groups = self.env["crm.lead"].formatted_read_group(
            [("user_id", "in", self.salespeople.ids)],
            ["user_id"],
            ["__count", "allocation_expected_share:avg"],
        )
        self.assertEqual(
            {g["user_id"][1]: (g["__count"], g["allocation_expected_share:avg"]) for g in groups},
            {"Sam Senior": (2, 50.0), "Jo Junior": (1, 25.0), "Jay Junior": (1, 25.0)},
        )
        action = self.env.ref("lead_allocation.crm_lead_action_allocation_analysis")
        defaults = {
            key.removeprefix("search_default_")
            for key in ast.literal_eval(action.context)
            if key.startswith("search_default_")
        }
        arch = self.env["crm.lead"].get_views([(action.search_view_id.id, "search")])
        names = set(etree.fromstring(arch["views"]["search"]["arch"]).xpath("//filter/@name"))
        self.assertTrue(defaults)
        self.assertLessEqual(defaults, names)

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
        order = take(Rotation(), self._weights(), 21)
        team = self.team.id
        self._queries(
            [{"name": "warm", "team_id": team}, {"name": "warm", "user_id": self.senior.id}]
        )

        def extra(count, weight):
            self.salespeople.allocation_weight = weight  # a new epoch: restarts in order
            # in a team: the pool's company is the team's, read once per call
            manual = self._queries(
                [{"name": "m", "team_id": team, "user_id": uid} for uid in order[:count]]
            )
            auto = self._queries([{"name": "a", "team_id": team} for _i in range(count)])
            return auto - manual

        extra_one, extra_ten, extra_twenty = extra(1, 2), extra(11, 3), extra(21, 4)
        # pool search and weights, lock, state read, state write: a fixed cost per call
        self.assertLessEqual(extra_one, 5)
        self.assertEqual(extra_twenty, extra_ten, "the extra cost does not grow with the batch")
        self.assertLessEqual(extra_twenty, extra_one + 2)
