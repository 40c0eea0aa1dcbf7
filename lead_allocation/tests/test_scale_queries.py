from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import LeadAllocationCase

PAGE_SPEC = {
    "allocation_editable": {},
    "name": {},
    "crm_team_ids": {"fields": {"display_name": {}}},
    "allocation_weight": {},
    "allocation_paused": {},
    "allocation_daily_cap": {},
    "allocation_lead_count": {},
}


@tagged("post_install", "-at_install")
class TestScaleQueries(LeadAllocationCase):
    """The SQL cost of the counts, the preview and the Lead Allocations page does not grow with
    the number of salespeople (bench/run scale_allocation measures them at 300 salespeople,
    40 teams and 1,000,000 leads)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", True)
        cls.crowd = cls.env["res.users"].concat(
            *[cls._salesperson(f"la_crowd_{i}", f"Crowd {i}", 1 + i % 3) for i in range(27)]
        )
        cls.everyone = cls.salespeople | cls.crowd
        cls.everyone.allocation_daily_cap = 50
        cls.crowd_team = cls.env["crm.team"].create(
            {"name": "Crowd Team", "member_ids": [Command.set(cls.crowd.ids)]}
        )
        leads = [{"name": f"Lead {i}", "team_id": cls.crowd_team.id} for i in range(60)]
        leads += [{"name": f"Lead {i}", "team_id": cls.team.id} for i in range(6)]
        cls.env["crm.lead"].create(leads)
        cls.manager_env = cls.env(
            user=new_test_user(cls.env, "la_scale_manager", groups="sales_team.group_sale_manager")
        )

    def _queries(self, func):
        """Queries of ``func()``, run once before so that only its own cost is counted."""
        func()
        self.env.invalidate_all()
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        func()
        return self.env.cr.sql_log_count - before

    def test_30_day_counts_one_query(self):
        """res.users.allocation_lead_count: one grouped query, for 3 users as for 30."""
        for users in (self.salespeople, self.everyone):
            with self.subTest(users=len(users)):
                users.mapped("allocation_lead_count")
                self.env.invalidate_all()
                with self.assertQueryCount(1):
                    counts = users.mapped("allocation_lead_count")
                self.assertEqual(sum(counts), 6 if users == self.salespeople else 66)

    def test_daily_cap_count_one_query(self):
        """The daily-cap count of a pool: one query, for 3 members as for 30."""
        Members = self.env["lead.allocation.members"]
        for users in (self.salespeople, self.everyone):
            with self.subTest(users=len(users)):
                members = Members._of(self.company.id, 0).filtered(lambda u, us=users: u in us)
                self.assertEqual(len(members), len(users))
                Members._received(members, self.env.cr)  # the settings it reads, cached
                with self.assertQueryCount(1):
                    received = Members._received(members, self.env.cr)
                self.assertEqual(sum(received.values()), 6 if users == self.salespeople else 66)

    def test_preview_does_not_grow_with_salespeople(self):
        """The preview of a pool: the same queries for 3 salespeople as for 27 (and no more
        for more pools: test_preview_does_not_grow_with_pools)."""
        Preview = self.manager_env["lead.allocation.preview"]
        small = self._queries(lambda: Preview._previews([(self.company.id, self.team.id, "t")], 10))
        large = self._queries(
            lambda: Preview._previews([(self.company.id, self.crowd_team.id, "t")], 10)
        )
        self.assertEqual(small, large)
        self.assertEqual(large, 8)

    def test_rotation_draw_queries(self):
        """One lead given by the rotation of a pool of capped salespeople: the team's
        record, the members' settings (who belongs to the pool is kept between requests),
        the pool's lock and newest state with the status of its tickets (one round trip),
        the daily-cap count, the new state and the salesperson's name: 6 queries, for 3
        salespeople as for 27."""
        Pool = self.env["lead.allocation.pool"]
        for team in (self.team, self.crowd_team):
            with self.subTest(members=len(team.member_ids)):
                vals = {"name": "Drawn", "team_id": team.id}
                self.assertEqual(self._queries(lambda v=vals: Pool._assign([dict(v)])), 6)

    def test_members_follow_the_groups(self):
        """Who belongs to a pool is kept per pool and set of Salesman groups
        (``_ids_of``): a group that comes to imply Salesman brings its users into the
        rotation at once."""
        Members = self.env["lead.allocation.members"]
        callers = self.env["res.groups"].create({"name": "Lead Callers"})
        caller = self._salesperson("la_caller", "Cal Caller", 1, groups="base.group_user")
        caller.group_ids += callers
        self.assertNotIn(caller, Members._of(self.company.id, 0))
        callers.implied_ids += self.env.ref("sales_team.group_sale_salesman")
        self.assertIn(caller, Members._of(self.company.id, 0))
        self.assertNotIn(self.env.ref("sales_team.group_sale_salesman"), caller.group_ids)

    def test_members_follow_every_change(self):
        """Who belongs to a pool is kept between requests (``_ids_of``, no query), and
        every change that brings a user in or takes them out is seen by the next draw:
        a new user, a team membership added, archived or removed, a pause, a weight of 0,
        the Salesman group taken away, another company, an archived user."""
        Members = self.env["lead.allocation.members"]
        team = self.env["crm.team"].create({"name": "Changing Team"})

        def in_pool(user, team_id=team.id):
            return user in Members._of(self.company.id, team_id)

        Members._of(self.company.id, 0)  # kept
        newcomer = self._salesperson("la_newcomer", "Nina Newcomer", 2)
        self.assertTrue(in_pool(newcomer, 0), "a new user joins the pool without a team")
        self.assertFalse(in_pool(newcomer))
        Members._of(self.company.id, team.id)
        self.env.invalidate_all()
        with self.assertQueryCount(1):  # the members' settings, not who they are
            Members._of(self.company.id, team.id).mapped("allocation_weight")
        team.member_ids += newcomer
        self.assertTrue(in_pool(newcomer), "membership added")
        membership = team.crm_team_member_ids
        membership.active = False
        self.assertFalse(in_pool(newcomer), "membership archived")
        membership.active = True
        self.assertTrue(in_pool(newcomer), "membership unarchived")
        for field, out, back in (("allocation_paused", True, False), ("allocation_weight", 0, 2)):
            newcomer[field] = out
            self.assertFalse(in_pool(newcomer), field)
            newcomer[field] = back
            self.assertTrue(in_pool(newcomer), field)
        salesman = self.env.ref("sales_team.group_sale_salesman")
        salesman.user_ids -= newcomer
        self.assertFalse(in_pool(newcomer), "Salesman group taken away")
        salesman.user_ids += newcomer
        self.assertTrue(in_pool(newcomer), "Salesman group given back")
        other = self.env["res.company"].create({"name": "Other Company"})
        newcomer.write({"company_ids": [Command.set(other.ids)], "company_id": other.id})
        self.assertFalse(in_pool(newcomer), "works in another company")
        newcomer.write({"company_ids": [Command.link(self.company.id)]})
        self.assertTrue(in_pool(newcomer), "works in the company again")
        newcomer.active = False
        self.assertFalse(in_pool(newcomer), "archived")
        newcomer.active = True
        self.assertTrue(in_pool(newcomer), "unarchived")
        membership.unlink()
        self.assertFalse(in_pool(newcomer), "membership removed")

    def test_members_kept_of_a_deleted_user(self):
        """A pool kept with a user deleted since (by a request of another thread of the
        process, before its commit): the pool is read again, without them."""
        Members = self.env["lead.allocation.members"]
        gone = self._salesperson("la_gone", "Gil Gone", 1)
        self.assertIn(gone, Members._of(self.company.id, 0))
        self.env.flush_all()
        # deleted behind the cache's back, as the other thread's stale read would keep it
        self.env.cr.execute("DELETE FROM res_users WHERE id = %s", (gone.id,))
        self.env.invalidate_all()
        members = Members._of(self.company.id, 0)
        self.assertTrue(members)
        self.assertNotIn(gone.id, members.ids)

    def test_preview_does_not_grow_with_pools(self):
        """get_preview_data reads the members, rotations, daily-cap counts (and, with the
        setting, the availability) of all the pools at once: 40 teams cost what 2 do."""
        Pool = self.manager_env["lead.allocation.pool"]
        for follow in (False, True):
            with self.subTest(follow_availability=follow):
                self.env["ir.config_parameter"].set_param(
                    "lead_allocation.follow_availability", follow
                )
                before = self._queries(Pool.get_preview_data)
                pools = len(Pool.get_preview_data()["pools"])
                teams = self.env["crm.team"].create(
                    [
                        {
                            "name": f"More {follow} {i}",
                            "member_ids": [Command.set(self.crowd[i : i + 3].ids)],
                        }
                        for i in range(20)
                    ]
                )
                self.env["crm.lead"].create(
                    [{"name": f"In {team.name}", "team_id": team.id} for team in teams]
                )
                after = self._queries(Pool.get_preview_data)
                self.assertEqual(len(Pool.get_preview_data()["pools"]), pools + 20)
                self.assertEqual(after, before)

    def test_lead_allocations_page_does_not_grow_with_salespeople(self):
        """The list of the Lead Allocations page, as the web client reads it: the same
        queries for 10 salespeople as for 30."""
        action = self.env.ref("lead_allocation.res_users_action_lead_allocation")
        Users = self.manager_env["res.users"].with_context(active_test=True)
        domain = eval(action.domain)
        costs = []
        for users in (self.salespeople | self.crowd[:7], self.everyone):
            page = [*domain, ("id", "in", users.ids)]
            costs.append(
                self._queries(lambda page=page: Users.web_search_read(page, PAGE_SPEC, limit=80))
            )
        self.assertEqual(costs[0], costs[1])
