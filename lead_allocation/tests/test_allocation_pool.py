"""The pool model (lead.allocation.pool): its preview reads the path that allocation
takes, and allocation costs a fixed number of queries per create call."""

from collections import Counter

from odoo.tests import tagged

from ..allocation import Rotation
from .common import LeadAllocationCase


@tagged("post_install", "-at_install")
class TestAllocationPool(LeadAllocationCase):
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
