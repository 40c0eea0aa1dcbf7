"""Availability of salespeople (lead.allocation.availability): working hours in each
person's time zone across the 2026 DST switches, leaves, public holidays, users without a
resource, local midnights and deadlines in working hours; and setting hours and time off
from the Lead Allocations page without the Employees app."""

from datetime import date, datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, new_test_user, tagged

from ..allocation.availability import Status
from .common import LeadAllocationCase

dt = datetime


def office_hours(env, name="Office 9-17", days=(0, 1, 2, 3, 4)):
    """A calendar of 9:00-17:00 on ``days`` (Monday = 0), in whatever time zone its
    resource has."""
    return env["resource.calendar"].create(
        {
            "name": name,
            "tz": "UTC",
            "attendance_ids": [Command.clear()]
            + [
                Command.create(
                    {
                        "name": f"Day {day}",
                        "dayofweek": str(day),
                        "hour_from": 9,
                        "hour_to": 17,
                        "day_period": "full_day",
                    }
                )
                for day in days
            ],
        }
    )


class AvailabilityCase(LeadAllocationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.calendar = office_hours(cls.env)
        cls.company.resource_calendar_id = cls.calendar
        cls.brussels = cls.senior  # Sam Senior
        cls.new_york = cls.junior_1  # Jo Junior
        cls.home = cls.junior_2  # Jay Junior: no resource, the company's hours, his own tz
        Resource = cls.env["resource.resource"]
        for user, tz in ((cls.brussels, "Europe/Brussels"), (cls.new_york, "America/New_York")):
            Resource.create(
                {"name": user.name, "user_id": user.id, "calendar_id": cls.calendar.id, "tz": tz}
            )
        cls.home.tz = "America/New_York"
        cls.Availability = cls.env["lead.allocation.availability"]

    def status(self, users, now):
        return self.Availability._status(users, now)

    def leave(self, user, start, end, name="Sick leave"):
        return self.env["resource.calendar.leaves"].create(
            {
                "name": name,
                "resource_id": user.resource_ids.id,
                "date_from": start,
                "date_to": end,
            }
        )


@tagged("post_install", "-at_install")
class TestAvailabilityStatus(AvailabilityCase):
    def test_working_hours_across_the_2026_dst_switches(self):
        """9:00-17:00 local, whatever the offset of the day: CET/CEST (29 Mar, 25 Oct) and
        EST/EDT (8 Mar, 1 Nov). Times are UTC."""
        cases = [
            # now (UTC), user, at work, next start (UTC)
            (dt(2026, 3, 2, 8, 30), "brussels", True, dt(2026, 3, 2, 8, 30)),  # 9:30 CET
            (dt(2026, 3, 2, 13, 30), "new_york", False, dt(2026, 3, 2, 14, 0)),  # 8:30 EST
            (dt(2026, 3, 9, 13, 30), "new_york", True, dt(2026, 3, 9, 13, 30)),  # 9:30 EDT
            (dt(2026, 3, 23, 7, 30), "brussels", False, dt(2026, 3, 23, 8, 0)),  # 8:30 CET
            (dt(2026, 3, 30, 7, 30), "brussels", True, dt(2026, 3, 30, 7, 30)),  # 9:30 CEST
            (dt(2026, 10, 19, 15, 30), "brussels", False, dt(2026, 10, 20, 7, 0)),  # 17:30 CEST
            (dt(2026, 10, 26, 15, 30), "brussels", True, dt(2026, 10, 26, 15, 30)),  # 16:30 CET
            (dt(2026, 10, 26, 13, 30), "new_york", True, dt(2026, 10, 26, 13, 30)),  # 9:30 EDT
            (dt(2026, 11, 2, 13, 30), "new_york", False, dt(2026, 11, 2, 14, 0)),  # 8:30 EST
            # Friday evening in Brussels, before the US switch: back on Monday
            (dt(2026, 3, 6, 17, 30), "brussels", False, dt(2026, 3, 9, 8, 0)),
            # Friday 16:00 EST: at work; Saturday: Monday 9:00 EDT (after the switch)
            (dt(2026, 3, 6, 21, 0), "new_york", True, dt(2026, 3, 6, 21, 0)),
            (dt(2026, 3, 7, 12, 0), "new_york", False, dt(2026, 3, 9, 13, 0)),
        ]
        for now, who, at_work, next_start in cases:
            user = getattr(self, who)
            with self.subTest(now=now, who=who):
                status = self.status(user, now)[user.id]
                self.assertEqual(status.at_work, at_work)
                self.assertEqual(status.next_start, next_start)
                self.assertIsNone(status.away_until)
                self.assertEqual(status.tz, user.resource_ids.tz)

    def test_status_of_many_users_at_once(self):
        statuses = self.status(self.salespeople, dt(2026, 3, 2, 13, 30))
        self.assertEqual(
            statuses,
            {
                self.brussels.id: Status(True, dt(2026, 3, 2, 13, 30), None, "Europe/Brussels"),
                self.new_york.id: Status(False, dt(2026, 3, 2, 14, 0), None, "America/New_York"),
                self.home.id: Status(False, dt(2026, 3, 2, 14, 0), None, "America/New_York"),
            },
        )

    def test_user_without_resource_works_company_hours_in_own_tz(self):
        self.assertFalse(self.home.resource_ids)
        for now, at_work in ((dt(2026, 3, 2, 13, 59), False), (dt(2026, 3, 2, 14, 0), True)):
            with self.subTest(now=now):
                self.assertEqual(self.status(self.home, now)[self.home.id].at_work, at_work)
        self.home.tz = False
        status = self.status(self.home, dt(2026, 3, 2, 9, 0))[self.home.id]
        self.assertEqual((status.at_work, status.tz), (True, "UTC"))

    def test_personal_leave(self):
        """A week off (whole local days): away until the Monday they are back, and nothing
        of the leave's name in the words."""
        self.leave(self.brussels, dt(2026, 12, 6, 23, 0), dt(2026, 12, 11, 22, 59, 59))
        now = dt(2026, 12, 9, 10, 0)
        statuses = self.status(self.salespeople, now)
        status = statuses[self.brussels.id]
        self.assertEqual(
            status, Status(False, dt(2026, 12, 14, 8, 0), date(2026, 12, 14), "Europe/Brussels")
        )
        words = self.Availability._describe(self.brussels, status, now)
        self.assertEqual(words, "away until 14 Dec")
        self.assertNotIn("Sick", words)
        self.assertTrue(statuses[self.new_york.id].at_work is False)
        self.assertIsNone(statuses[self.new_york.id].away_until)

    def test_half_day_leave_back_today(self):
        self.leave(self.brussels, dt(2026, 12, 9, 8, 0), dt(2026, 12, 9, 12, 0))
        now = dt(2026, 12, 9, 10, 0)
        status = self.status(self.brussels, now)[self.brussels.id]
        self.assertEqual(
            (status.next_start, status.away_until), (dt(2026, 12, 9, 12, 0), date(2026, 12, 9))
        )
        self.assertEqual(
            self.Availability._describe(self.brussels, status, now),
            "away until 13:00 (Europe/Brussels)",
        )

    def test_public_holiday_of_the_calendar(self):
        """A global leave of the calendar (no resource) covers everyone working those hours,
        with or without a resource of their own."""
        self.env["resource.calendar.leaves"].create(
            {
                "name": "Christmas",
                "calendar_id": self.calendar.id,
                "date_from": dt(2026, 12, 25, 0, 0),
                "date_to": dt(2026, 12, 25, 23, 59, 59),
            }
        )
        statuses = self.status(self.salespeople, dt(2026, 12, 25, 15, 0))
        for user in self.salespeople:
            with self.subTest(user=user.name):
                self.assertFalse(statuses[user.id].at_work)
                self.assertEqual(statuses[user.id].away_until, date(2026, 12, 28))
        other = office_hours(self.env, "Other office")
        self.brussels.resource_ids.calendar_id = other
        status = self.status(self.brussels, dt(2026, 12, 25, 10, 0))[self.brussels.id]
        self.assertEqual((status.at_work, status.away_until), (True, None))

    def test_flexible_hours_at_work_unless_on_leave(self):
        resource = self.brussels.resource_ids
        resource.calendar_id = False
        sunday_night = dt(2026, 3, 8, 2, 0)
        self.assertTrue(self.status(self.brussels, sunday_night)[self.brussels.id].at_work)
        self.leave(self.brussels, dt(2026, 3, 7, 0, 0), dt(2026, 3, 10, 12, 0))
        status = self.status(self.brussels, sunday_night)[self.brussels.id]
        self.assertEqual(
            status, Status(False, dt(2026, 3, 10, 23, 0), date(2026, 3, 11), "Europe/Brussels")
        )
        flexible = office_hours(self.env, "Flexible")
        flexible.flexible_hours = True
        resource.calendar_id = flexible
        status = self.status(self.brussels, dt(2026, 3, 11, 2, 0))[self.brussels.id]
        self.assertTrue(status.at_work)

    def test_two_weeks_off(self):
        """Back after more than the first days read: found up to the horizon."""
        self.leave(self.new_york, dt(2026, 6, 1, 4, 0), dt(2026, 6, 13, 3, 59, 59))
        status = self.status(self.new_york, dt(2026, 6, 2, 15, 0))[self.new_york.id]
        self.assertEqual(
            status, Status(False, dt(2026, 6, 15, 13, 0), date(2026, 6, 15), "America/New_York")
        )

    def test_no_working_period_within_the_horizon(self):
        self.leave(self.new_york, dt(2026, 6, 1, 4, 0), dt(2026, 8, 29, 3, 59, 59))
        now = dt(2026, 6, 10, 15, 0)
        status = self.status(self.new_york, now)[self.new_york.id]
        self.assertEqual((status.at_work, status.next_start), (False, None))
        self.assertEqual(status.away_until, date(2026, 8, 29))  # the day after the leave

    def test_describe(self):
        """The words of a status, in the person's time zone, with the clock frozen."""
        cases = [
            (dt(2026, 3, 2, 13, 30), self.brussels, "at work"),
            (dt(2026, 3, 2, 13, 30), self.new_york, "starts at 09:00 (America/New_York)"),
            (dt(2026, 3, 6, 17, 30), self.brussels, "off until Mon 09:00 (Europe/Brussels)"),
            (dt(2026, 3, 7, 3, 0), self.new_york, "off until Mon 09:00 (America/New_York)"),
        ]
        for now, user, words in cases:
            with self.subTest(now=now, user=user.name), freeze_time(now):
                status = self.Availability._status(user)[user.id]
                self.assertEqual(self.Availability._describe(user, status), words)

    def test_local_midnight(self):
        """Daily caps start at each salesperson's own midnight, DST included (the US switch
        is at 2:00 on 8 Mar 2026)."""
        cases = [
            (dt(2026, 3, 2, 3, 0), self.brussels, dt(2026, 3, 1, 23, 0)),
            (dt(2026, 3, 2, 3, 0), self.new_york, dt(2026, 3, 1, 5, 0)),
            (dt(2026, 3, 8, 12, 0), self.new_york, dt(2026, 3, 8, 5, 0)),
            (dt(2026, 3, 9, 12, 0), self.new_york, dt(2026, 3, 9, 4, 0)),
            (dt(2026, 3, 30, 12, 0), self.brussels, dt(2026, 3, 29, 22, 0)),
            (dt(2026, 3, 2, 3, 0), self.home, dt(2026, 3, 1, 5, 0)),
        ]
        for now, user, midnight in cases:
            with self.subTest(now=now, user=user.name), freeze_time(now):
                self.assertEqual(self.Availability._local_midnight(user)[user.id], midnight)

    def test_work_deadlines_across_a_weekend(self):
        """4 working hours from Friday afternoon end on Monday, after the US DST switch."""
        pairs = [
            (self.brussels, dt(2026, 3, 6, 15, 0)),  # 16:00 CET: 1 h Friday, 3 h Monday
            (self.new_york, dt(2026, 3, 6, 20, 0)),  # 15:00 EST: 2 h Friday, 2 h Monday EDT
            (self.brussels, dt(2026, 3, 9, 8, 0)),  # Monday 9:00: the same day
            (self.home, dt(2026, 3, 7, 12, 0)),  # Saturday: Monday 9:00-13:00 EDT
        ]
        self.leave(self.new_york, dt(2026, 3, 9, 13, 0), dt(2026, 3, 9, 14, 0))  # 1 h off
        self.assertEqual(
            self.Availability._work_deadlines(pairs, 4),
            [
                dt(2026, 3, 9, 11, 0),
                dt(2026, 3, 9, 16, 0),
                dt(2026, 3, 9, 12, 0),
                dt(2026, 3, 9, 17, 0),
            ],
        )
        self.assertEqual(self.Availability._work_deadlines([], 4), [])

    def test_settings(self):
        self.assertFalse(self.Availability._enabled())
        self.assertEqual(self.Availability._off_hours(), "next_shift")
        settings = self.env["res.config.settings"].create({})
        self.assertFalse(settings.lead_allocation_follow_availability)
        self.assertEqual(settings.lead_allocation_off_hours, "next_shift")
        settings.lead_allocation_follow_availability = True
        settings.lead_allocation_off_hours = "hold"
        settings.execute()
        self.assertTrue(self.Availability._enabled())
        self.assertEqual(self.Availability._off_hours(), "hold")

    def test_query_count_does_not_grow_with_users(self):
        """3 users or 30 (with and without resources, two time zones): the same queries."""
        group = self.env.ref("sales_team.group_sale_salesman")
        many = self.env["res.users"].create(
            [
                {
                    "name": f"Member {i}",
                    "login": f"la_member_{i}",
                    "group_ids": [Command.set(group.ids)],
                    "tz": "America/New_York",
                }
                for i in range(27)
            ]
        )
        for index, user in enumerate(many[:18]):
            self.env["resource.resource"].create(
                {
                    "name": user.name,
                    "user_id": user.id,
                    "calendar_id": self.calendar.id,
                    "tz": ("Europe/Brussels", "America/New_York")[index % 2],
                }
            )
        self.leave(self.brussels, dt(2026, 3, 1), dt(2026, 3, 3))
        self.leave(many[0], dt(2026, 3, 1), dt(2026, 3, 3))
        now = dt(2026, 3, 2, 13, 30)
        for users in (self.salespeople, self.salespeople | many):
            with self.subTest(count=len(users)):
                self.env.invalidate_all()
                with self.assertQueryCount(12):
                    statuses = self.status(users, now)
                self.assertEqual(len(statuses), len(users))


@tagged("post_install", "-at_install")
class TestWorkingTimeOnLeadAllocations(AvailabilityCase):
    """A Sales Administrator sets hours, time zones and time off from the Lead Allocations
    page, in a database without the Employees app (no group may create resources)."""

    def test_set_working_hours_creates_the_resource(self):
        self.assertFalse(self.home.resource_ids)
        self.assertEqual(self.home.allocation_calendar_id, self.calendar)  # the company's
        self.assertEqual(self.home.allocation_tz, "America/New_York")
        with self.assertRaises(AccessError):
            self.env["resource.resource"].with_user(self.manager).create(
                {"name": "x", "user_id": self.home.id}
            )
        part_time = office_hours(self.env, "Mon-Wed", days=(0, 1, 2))
        as_manager = self.home.with_user(self.manager)
        as_manager.write({"allocation_calendar_id": part_time.id, "allocation_tz": "Asia/Tokyo"})
        resource = self.home.resource_ids
        self.assertEqual((resource.calendar_id, resource.tz), (part_time, "Asia/Tokyo"))
        self.assertEqual(self.home.tz, "Asia/Tokyo")
        self.home.invalidate_recordset()
        self.assertEqual(as_manager.allocation_calendar_id, part_time)
        self.assertEqual(as_manager.allocation_tz, "Asia/Tokyo")
        # Thursday 10:00 in Tokyo: not a working day any more
        status = self.Availability._status(self.home, dt(2026, 3, 5, 1, 0))[self.home.id]
        self.assertEqual((status.at_work, status.next_start), (False, dt(2026, 3, 9, 0, 0)))

    def test_existing_resource_is_the_one_edited(self):
        """An employee's resource (Employees app) is the same data: no second one."""
        resource = self.brussels.resource_ids
        other = office_hours(self.env, "Other")
        self.brussels.with_user(self.manager).allocation_calendar_id = other
        self.assertEqual(self.brussels.resource_ids, resource)
        self.assertEqual(resource.calendar_id, other)

    def test_salesperson_cannot_set_hours(self):
        with self.assertRaises(AccessError):
            self.home.with_user(self.new_york).allocation_calendar_id = self.calendar
        self.assertFalse(self.home.resource_ids)

    def test_hours_do_not_restart_the_rotation(self):
        self.env.flush_all()
        before = self.brussels.allocation_changed_at
        self.brussels.with_user(self.manager).allocation_tz = "Europe/Paris"
        self.assertEqual(self.brussels.allocation_changed_at, before)

    def test_time_off_from_the_page(self):
        action = self.home.with_user(self.manager).action_lead_allocation_time_off()
        self.assertEqual(action["res_model"], "lead.allocation.time.off")
        Wizard = self.env["lead.allocation.time.off"].with_user(self.manager)
        with Form(Wizard.with_context(**action["context"])) as form:
            form.date_from = date(2026, 12, 7)
            form.date_to = date(2026, 12, 11)
            form.name = "Surgery"
        form.record.action_confirm()
        leave = self.env["resource.calendar.leaves"].search(
            [("resource_id", "=", self.home.resource_ids.id)]
        )
        # whole days in New York (EST)
        self.assertEqual(
            (leave.date_from, leave.date_to, leave.name),
            (dt(2026, 12, 7, 5, 0), dt(2026, 12, 12, 4, 59, 59), "Surgery"),
        )
        now = dt(2026, 12, 9, 15, 0)
        status = self.Availability._status(self.home, now)[self.home.id]
        self.assertEqual(self.Availability._describe(self.home, status, now), "away until 14 Dec")
        wizard = Wizard.create({"user_id": self.home.id})
        self.assertEqual(wizard.planned, "12/07/2026 to 12/11/2026")  # New York days
        with self.assertRaises(AccessError):
            self.env["lead.allocation.time.off"].with_user(self.new_york).create(
                {"user_id": self.home.id}
            )

    def test_time_off_of_another_company(self):
        other = self.env["res.company"].create({"name": "Elsewhere"})
        stranger = new_test_user(
            self.env, "la_stranger", company_id=other.id, company_ids=[Command.set(other.ids)]
        )
        wizard = (
            self.env["lead.allocation.time.off"]
            .with_user(self.manager)
            .create({"user_id": stranger.id})
        )
        with self.assertRaises(AccessError):
            wizard.action_confirm()
        self.assertFalse(stranger.sudo().resource_ids)
