"""Leads go to people who are at work (setting "Follow working hours and time off"): the
rotation among those at work with the reason naming who was skipped, nobody at work (next
shift, or held and given out by the scheduled job), daily caps from local midnight, the
re-allocation delay in working hours, explicit choices, the customer's owner, and the
webhook's ``agent_available``.

Sam Senior works 9-17 in Brussels, Jo Junior 9-17 in New York, Jay Junior the company's
9-17 in New York (no resource of his own). Times are UTC."""

from datetime import datetime as dt
from unittest.mock import patch

from freezegun import freeze_time

from ..intake import parse_lead_payload
from .common import preview_data
from .test_availability import AvailabilityCase

MONDAY_BRUSSELS_ONLY = dt(2026, 3, 2, 8, 30)  # 9:30 in Brussels, 3:30 in New York
MONDAY_EVERYONE = dt(2026, 3, 2, 14, 30)  # 15:30 in Brussels, 9:30 in New York
MONDAY_NIGHT = dt(2026, 3, 2, 23, 0)  # 0:00 in Brussels, 18:00 in New York: nobody
TUESDAY_MORNING = dt(2026, 3, 3, 8, 30)  # 9:30 in Brussels


class RoutingCase(AvailabilityCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("lead_allocation.follow_availability", True)

    def _leads(self, now, count=1, **vals):
        with freeze_time(now):
            return self._create(count, team_id=self.team.id, **vals)


class TestRotationAtWork(RoutingCase):
    def test_only_those_at_work_draw_and_the_reason_names_the_others(self):
        leads = self._leads(MONDAY_BRUSSELS_ONLY, 3)
        self.assertEqual(leads.user_id, self.senior)
        self.assertEqual(
            leads[0].allocation_reason,
            "Assigned to Sam Senior by round robin (weight 10 of 10); "
            "Jay Junior: starts at 09:00 (America/New_York); "
            "Jo Junior: starts at 09:00 (America/New_York)",
        )
        # everyone at work: the weights as usual, nobody named as skipped
        leads = self._leads(MONDAY_EVERYONE, 4)
        self.assertEqual(set(leads.user_id), set(self.salespeople))
        self.assertNotIn(";", leads[0].allocation_reason)

    def test_preview_is_what_the_next_leads_get(self):
        self.leave(self.junior_1, dt(2026, 3, 1, 23, 0), dt(2026, 3, 6, 22, 59, 59))
        with freeze_time(MONDAY_EVERYONE):
            data = preview_data(self.env, self.team.id, 6)
        self.assertEqual(
            {member["name"]: member["availability"] for member in data["members"]},
            {"Sam Senior": "at work", "Jo Junior": "away until 9 Mar", "Jay Junior": "at work"},
        )
        leads = self._leads(MONDAY_EVERYONE, 6)
        self.assertEqual([pick["id"] for pick in data["next"]], [lead.user_id.id for lead in leads])

    def test_time_off_is_named_but_never_its_type(self):
        self.leave(self.senior, dt(2026, 3, 1, 23, 0), dt(2026, 3, 6, 22, 59, 59))
        leads = self._leads(MONDAY_EVERYONE, 4)
        self.assertEqual(leads.user_id, self.junior_1 | self.junior_2)
        self.assertIn("; Sam Senior: away until 9 Mar", leads[0].allocation_reason)
        self.assertNotIn("Sick", leads[0].allocation_reason)

    def test_back_from_time_off_with_no_catch_up(self):
        """Sam misses a day: when he is back, the rotation starts afresh (a new epoch),
        so he does not get a burst of leads to make up for it."""
        self.leave(self.senior, dt(2026, 3, 1, 23, 0), dt(2026, 3, 2, 22, 59, 59))
        self._leads(MONDAY_EVERYONE, 6)
        back = self._leads(dt(2026, 3, 3, 14, 30), 8)
        self.assertEqual(len(back.filtered(lambda lead: lead.user_id == self.senior)), 4)

    def test_nobody_at_work_goes_to_the_first_one_in(self):
        lead = self._leads(MONDAY_NIGHT)
        self.assertEqual(lead.user_id, self.senior, "Sam starts first, at 9:00 in Brussels")
        self.assertEqual(
            lead.allocation_reason,
            "Assigned to Sam Senior by round robin (weight 10 of 10); nobody is at work now: "
            "the first back gets it; Jay Junior: off until Tue 09:00 (America/New_York); "
            "Jo Junior: off until Tue 09:00 (America/New_York); "
            "Sam Senior: starts at 09:00 (Europe/Brussels)",
        )

    def test_explicit_choices_are_never_blocked(self):
        lead = self._leads(MONDAY_BRUSSELS_ONLY, user_id=self.junior_1.id)
        self.assertEqual((lead.user_id, lead.allocation_method), (self.junior_1, "manual"))


class TestHold(RoutingCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param("lead_allocation.off_hours", "hold")

    def test_held_then_given_out_oldest_first_never_twice(self):
        leads = self._leads(MONDAY_NIGHT, 3)
        self.assertFalse(leads.user_id)
        self.assertEqual(set(leads.mapped("allocation_method")), {"held"})
        self.assertTrue(
            leads[0].allocation_reason.startswith(
                "Held until working hours: nobody in the rotation of the team Allocation Team "
                "is at work; "
            ),
            leads[0].allocation_reason,
        )
        Hold = self.env["lead.allocation.hold"]
        with freeze_time(dt(2026, 3, 3, 3, 0)):  # still night: nothing given out
            Hold._cron_release()
        self.assertFalse(leads.user_id)
        # an interrupted run: the time of the cron runs out after the first batch
        Job = type(self.env["lead.allocation.job"])
        with (
            freeze_time(TUESDAY_MORNING),
            patch.object(type(Hold), "_batch_size", 1),
            patch.object(Job, "_commit_progress", return_value=0),
        ):
            Hold._cron_release()
        self.assertEqual(leads.mapped("allocation_method"), ["round_robin", "held", "held"])
        with freeze_time(TUESDAY_MORNING):
            Hold._cron_release()
            Hold._cron_release()
        self.assertEqual(leads.user_id, self.senior, "only Sam is at work")
        self.assertEqual(leads.company_id, self.company, "held in the company of its pool")
        self.assertEqual(set(leads.mapped("allocation_method")), {"round_robin"})
        self.assertIn("when working hours began (held since", leads[0].allocation_reason)
        self.assertEqual(
            leads.mapped("allocation_sla_count"), [0, 0, 0], "given out, not re-allocated"
        )


class TestCapsAndDelays(RoutingCase):
    def test_daily_cap_counts_the_salesperson_own_day(self):
        Members = self.env["lead.allocation.members"]
        lead = self._leads(MONDAY_EVERYONE, user_id=self.senior.id)
        lead.allocation_method = "round_robin"
        self.senior.allocation_daily_cap = 5
        self.env.flush_all()
        # 22:30 UTC on Monday: 23:30 in Brussels, still Monday for Sam
        given = dt(2026, 3, 2, 22, 30)
        self.env.cr.execute(
            "UPDATE crm_lead SET create_date = %s, allocation_assigned_at = %s WHERE id = %s",
            (given, given, lead.id),
        )
        with freeze_time(dt(2026, 3, 2, 22, 50)):
            self.assertEqual(Members._received(self.senior, self.env.cr)[self.senior.id], 1)
        # 23:30 UTC: still Monday in UTC, but Tuesday 0:30 in Brussels: a new day for Sam
        with freeze_time(dt(2026, 3, 2, 23, 30)):
            self.assertEqual(Members._received(self.senior, self.env.cr)[self.senior.id], 0)
            self.env["ir.config_parameter"].set_param("lead_allocation.follow_availability", False)
            self.assertEqual(Members._received(self.senior, self.env.cr)[self.senior.id], 1)

    def test_untouched_delay_counts_working_hours(self):
        """4 working hours: a lead Sam gets on Friday at 15:30 (Brussels) is his until
        Monday 11:30, and then goes to someone at work: not before New York starts."""
        self.team.allocation_sla_hours = 4
        friday = dt(2026, 3, 6, 14, 30)
        lead = self._leads(friday, user_id=self.senior.id)
        Sla = self.env["lead.allocation.sla"]
        for now, owner in (
            (dt(2026, 3, 6, 20, 30), self.senior),  # Friday night: 1.5 working hours
            (dt(2026, 3, 9, 10, 0), self.senior),  # Monday 11:00: 3.5 working hours
            (dt(2026, 3, 9, 11, 0), self.senior),  # 4.5, but nobody else is at work
            (dt(2026, 3, 9, 14, 0), None),  # 10:00 in New York: moved
        ):
            with self.subTest(now=now), freeze_time(now):
                Sla._cron_reallocate()
                if owner:
                    self.assertEqual(lead.user_id, owner)
        self.assertIn(lead.user_id, self.junior_1 | self.junior_2)
        self.assertEqual(lead.allocation_method, "reallocated")
        self.assertIn("untouched for 4 working hours", lead.allocation_reason)


class TestOwnerAndWebhook(RoutingCase):
    def test_owner_not_at_work_is_passed_over(self):
        self.env["ir.config_parameter"].set_param("lead_allocation.route_to_owner", True)
        self.env["res.partner"].create(
            {
                "name": "Acme",
                "is_company": True,
                "email": "a@acme.example",
                "user_id": self.junior_1.id,
            }
        )
        lead = self._leads(MONDAY_BRUSSELS_ONLY, email_from="x@acme.example")
        self.assertEqual((lead.user_id, lead.allocation_method), (self.senior, "round_robin"))
        self.assertIn(
            "; Jo Junior: starts at 09:00 (America/New_York); "
            "Jo Junior, salesperson of Acme, is not at work",
            lead.allocation_reason,
        )
        lead = self._leads(MONDAY_EVERYONE, email_from="x@acme.example")
        self.assertEqual((lead.user_id, lead.allocation_method), (self.junior_1, "owner"))

    def test_webhook_says_whether_the_named_agent_is_at_work(self):
        Intake = self.env["lead.allocation.intake"]
        payload = parse_lead_payload({"name": "Hook", "user_id": self.junior_1.id})
        with freeze_time(MONDAY_BRUSSELS_ONLY):
            lead, _outcome = Intake._receive(payload)
            at_work = self.env["lead.allocation.availability"]._at_work_ids(lead.user_id)
        self.assertEqual((lead.user_id, lead.allocation_method), (self.junior_1, "webhook"))
        self.assertFalse(at_work, "the lead is Jo's all the same")
