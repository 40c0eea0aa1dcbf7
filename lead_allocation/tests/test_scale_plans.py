"""Queries that must not read every lead of a large database, and the indexes they read
(bench/run scale_sla and scale_allocation measure them at 1,000,000 leads): the search of the
re-allocation of untouched leads reads the teams' first stages only
(``crm_lead_allocation_sla_candidate_idx``), one query for a run and one per batch; the
daily-cap count reads the round-robin leads of the capped salespeople since their midnight
(``crm_lead_allocation_daily_cap_idx``)."""

from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.tests import tagged
from odoo.tools import SQL

from .test_sla import SlaCase

T0 = (datetime.now() - timedelta(days=2)).replace(microsecond=0)
INDEX = "crm_lead_allocation_sla_candidate_idx"
DAILY_CAP_INDEX = "crm_lead_allocation_daily_cap_idx"


class Recorder:
    """A cursor that keeps the queries run on it (and runs them on ``cr``)."""

    def __init__(self, cr):
        self.cr, self.queries = cr, []

    def execute(self, query, params=None):
        self.queries.append(self.cr.mogrify(query, params).decode())
        self.cr.execute(query, params)

    def fetchall(self):
        return self.cr.fetchall()


@tagged("post_install", "-at_install")
class TestScalePlans(SlaCase):
    def _plan(self, query):
        """The plan of ``query`` without sequential scans (too few leads here to choose an
        index over them)."""
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        rows = self.env.execute_query(SQL("EXPLAIN (COSTS OFF) %s", query))
        return "\n".join(row[0] for row in rows)

    def _assigned(self, count, **vals):
        with freeze_time(T0):
            leads = self._create(count, team_id=self.team.id, **vals)
            self.env.flush_all()
        return leads

    def test_the_plan_reads_the_index_of_the_candidate_leads(self):
        """Without a sequential scan (too few leads here to choose it over the index), the
        search reads the index of the leads of the first stages, not every lead."""
        self._assigned(3)
        query = self.Sla._untouched_query(self.Sla._first_stages(), T0 + timedelta(hours=5))
        plan = self._plan(query)
        self.assertRegex(plan, rf"Index Scan (on|using) {INDEX} on crm_lead lead")
        self.assertNotIn("crm_lead_pkey", plan)
        self.assertNotIn("Seq Scan on crm_lead", plan)

    def test_a_run_searches_once_then_once_per_batch(self):
        leads = self._assigned(5)
        calls = []
        original = type(self.Sla)._untouched

        def untouched(sla, *args, **kwargs):
            self.env.flush_all()  # what the previous batch wrote
            with self.assertQueryCount(1):
                found = original(sla, *args, **kwargs)
            calls.append(found.ids)
            return found

        with (
            patch.object(type(self.Sla), "_untouched", untouched),
            patch.object(type(self.Sla), "_batch_size", 2),
            freeze_time(T0 + timedelta(hours=5)),
        ):
            self.Sla._cron_reallocate()
        self.assertEqual(calls, [leads.ids, leads.ids[:2], leads.ids[2:4], leads.ids[4:]])
        self.assertEqual(set(leads.mapped("allocation_method")), {"reallocated"})

    def test_a_lead_touched_during_the_run_stays(self):
        """Each batch is read again before it is moved: a lead its salesperson wrote on
        since the run's first search is left to them."""
        leads = self._assigned(4)
        owner = leads[3].user_id
        original = type(self.Sla)._reallocate

        def reallocate(sla, batch, now):
            if leads[3] not in batch:  # the first batch: meanwhile, leads[3] is touched
                leads[3].with_user(owner).message_post(body="Called", message_type="comment")
            return original(sla, batch, now)

        with (
            patch.object(type(self.Sla), "_reallocate", reallocate),
            patch.object(type(self.Sla), "_batch_size", 2),
            freeze_time(T0 + timedelta(hours=5)),
        ):
            self.Sla._cron_reallocate()
        self.assertEqual(leads[:3].mapped("allocation_method"), ["reallocated"] * 3)
        self.assertEqual(leads[3].user_id, owner)
        self.assertNotEqual(leads[3].allocation_method, "reallocated")

    def test_leads_without_a_stage_count_as_in_the_first_stage(self):
        in_first, without, in_second = self._assigned(3)
        self.env.cr.execute("UPDATE crm_lead SET stage_id = NULL WHERE id = %s", (without.id,))
        in_second.stage_id = self.second_stage
        self.env.invalidate_all()
        # the stage change is the salesperson's touch otherwise: make it someone else's
        self.env.cr.execute(
            "UPDATE crm_lead SET write_uid = %s WHERE id = %s", (self.manager.id, in_second.id)
        )
        first_stages = self.Sla._first_stages()
        found = self.Sla._untouched(first_stages, T0 + timedelta(hours=5))
        self.assertEqual(found.ids, (in_first | without).ids)
        # a team without any stage: only its leads without a stage
        found = self.Sla._untouched(dict.fromkeys(first_stages, False), T0 + timedelta(hours=5))
        self.assertEqual(found.ids, without.ids)

    def test_the_daily_cap_count_reads_its_index(self):
        self._create(4, team_id=self.team.id)
        self.salespeople.allocation_daily_cap = 10
        Members = self.env["lead.allocation.members"]
        members = Members._of(self.company.id, self.team.id)
        recorder = Recorder(self.env.cr)
        self.env.flush_all()
        received = Members._received(members, recorder)
        self.assertEqual(sum(received.values()), 4)
        (query,) = recorder.queries
        plan = self._plan(SQL(query.replace("%", "%%")))
        self.assertRegex(plan, rf"Scan (on|using) {DAILY_CAP_INDEX} on crm_lead lead")
        self.assertNotIn("Seq Scan on crm_lead", plan)
