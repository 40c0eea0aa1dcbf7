from collections import defaultdict
from datetime import datetime, time, timedelta

from pytz import timezone, utc

from odoo import api, fields, models
from odoo.tools.intervals import Intervals
from odoo.tools.misc import format_date, format_datetime

from ..allocation import availability
from ..allocation.availability import HORIZON, Status

# The settings (Settings, CRM), as stored in ir.config_parameter.
FOLLOW_PARAM = "lead_allocation.follow_availability"
OFF_HOURS_PARAM = "lead_allocation.off_hours"
OFF_HOURS = ("next_shift", "hold")
# The windows read, one after the other, for those not yet found at work within the last:
# most salespeople are at work, or next at work, within a day; the others (a weekend, a long
# leave, no hours) are read again further. Python time grows with the days read.
LOOKS = (timedelta(days=1), timedelta(days=7))


class LeadAllocationAvailability(models.AbstractModel):
    """Who is at work, from Odoo's own working time: each salesperson's resource (calendar
    and time zone), their leaves and their calendar's public holidays (where the Time Off
    app writes validated leaves too). A user without a resource of their own works the
    hours of their company, in their own time zone.

    Every method takes many users at once and reads the calendars once per calendar (and
    per time zone of the users without a resource): the number of queries does not grow
    with the number of users.
    """

    _name = "lead.allocation.availability"
    _description = "Lead Allocation: Availability"

    @api.model
    def _enabled(self):
        """Whether "Follow working hours and time off" is on."""
        # sudo: reading a setting reveals nothing
        return bool(self.env["ir.config_parameter"].sudo().get_param(FOLLOW_PARAM))

    @api.model
    def _off_hours(self):
        """What happens to a lead when nobody of its pool is at work: "next_shift" (the
        first ones in draw it) or "hold" (it waits, unassigned)."""
        # sudo: reading a setting reveals nothing
        value = self.env["ir.config_parameter"].sudo().get_param(OFF_HOURS_PARAM)
        return value if value in OFF_HOURS else "next_shift"

    @api.model
    def _status(self, users, now=None):
        """``{user_id: Status}`` of ``users`` at the naive UTC ``now`` (default: now).

        ``Status(at_work, next_start, away_until, tz)``: see allocation/availability.py.
        """
        start = utc.localize(now or fields.Datetime.now())
        result, later = {}, users
        for window in (*LOOKS, HORIZON):
            result.update(self._statuses_within(later, start, window))
            # those without working time in this window (a weekend, a long leave): further
            later = later.filtered(lambda user: result[user.id].next_start is None)
            if not later:
                break
        return result

    @api.model
    def _at_work_ids(self, users):
        """The ids of ``users`` at work now: all of them when the setting is off."""
        if not users or not self._enabled():
            return set(users.ids)
        return {user_id for user_id, status in self._status(users).items() if status.at_work}

    @api.model
    def _statuses_within(self, users, start, window):
        """``{user_id: Status}`` at the aware ``start``, reading ``window`` ahead."""
        result = {}
        for calendar, units in self._units(users).items():
            intervals = self._intervals(calendar, units, start, start + window)
            for user_id, (tz, work, leaves) in intervals.items():
                result[user_id] = self._status_of(start, tz, work, leaves)
        return result

    @api.model
    def _describe(self, user, status, now=None):
        """The words for ``status`` (of ``user``, at ``now``), in the reader's language:
        "at work", "away until 14 Dec", "starts at 09:00 (America/New_York)",
        "off until Mon 09:00 (America/New_York)". Never a leave's type or description."""
        wording = availability.wording(status, now or fields.Datetime.now())
        kind, when, tz = wording.kind, wording.when, status.tz
        if kind == availability.AT_WORK:
            return self.env._("at work")
        if kind == availability.AWAY_UNTIL:
            return self.env._("away until %(day)s", day=format_date(self.env, when, None, "d MMM"))
        if kind == availability.OFF:
            return self.env._("no working hours in the next %(days)s days", days=HORIZON.days)
        start = status.next_start
        hour = format_datetime(self.env, start, tz, "HH:mm")
        if kind == availability.AWAY_BACK_AT:
            return self.env._("away until %(hour)s (%(tz)s)", hour=hour, tz=tz)
        if kind == availability.STARTS_AT:
            return self.env._("starts at %(hour)s (%(tz)s)", hour=hour, tz=tz)
        pattern = "EEE HH:mm" if kind == availability.OFF_UNTIL else "EEE d MMM HH:mm"
        moment = format_datetime(self.env, start, tz, pattern)
        return self.env._("off until %(moment)s (%(tz)s)", moment=moment, tz=tz)

    @api.model
    def _local_midnight(self, users, now=None):
        """``{user_id: naive UTC start of the user's own day at now}``: where a daily cap
        starts counting, in the time zone their working hours are read in."""
        now_utc = utc.localize(now or fields.Datetime.now())
        result = {}
        # sudo: a time zone is not private; the resource may be of another company
        for user in users.sudo():
            tz = timezone(self._tz_of(user))
            midnight = datetime.combine(now_utc.astimezone(tz).date(), time.min)
            result[user.id] = tz.localize(midnight).astimezone(utc).replace(tzinfo=None)
        return result

    @api.model
    def _work_deadlines(self, pairs, hours):
        """For each ``(user, start)`` of ``pairs`` (start a naive UTC datetime), the naive UTC
        moment at which ``hours`` working hours of that user have elapsed since ``start``
        (None when they do not within the horizon after the latest start): a list in the
        order of ``pairs``. Leaves and public holidays do not count as working time.

        ``_work_deadlines([(lead.user_id, lead.date_open) for lead in leads], 4)``
        """
        pairs = list(pairs)
        if not pairs:
            return []
        users = self.env["res.users"].union(*(user for user, _start in pairs))
        start = utc.localize(min(moment for _user, moment in pairs))
        end = utc.localize(max(moment for _user, moment in pairs)) + HORIZON
        work_by_user = {}
        for calendar, units in self._units(users).items():
            for user_id, (_tz, work, _leaves) in self._intervals(
                calendar, units, start, end
            ).items():
                work_by_user[user_id] = work
        return [
            _after_hours(work_by_user[user.id], utc.localize(moment), hours)
            for user, moment in pairs
        ]

    # -- helpers ---------------------------------------------------------------------------

    @api.model
    def _resource_of(self, user):
        """The user's own resource (in their company when they have several), or an empty
        recordset."""
        resources = user.resource_ids
        resources = resources.filtered(lambda r: r.company_id == user.company_id) or resources
        return resources.sorted("id")[-1:]

    @api.model
    def _tz_of(self, user):
        """The time zone the user's working hours are read in."""
        return self._resource_of(user).tz or user.tz or "UTC"

    @api.model
    def _units(self, users):
        """``{calendar: {user_id: (resource, tz)}}``: the users grouped by the calendar whose
        methods compute their hours. A resource without a calendar (fully flexible) is
        computed by its company's calendar, which gives it the whole period."""
        units = defaultdict(dict)
        # sudo: working hours are read for the rotation whoever creates the lead
        for user in users.sudo():
            resource = self._resource_of(user)
            company = resource.company_id or user.company_id
            calendar = resource.calendar_id or company.resource_calendar_id
            units[calendar][user.id] = (resource, self._tz_of(user))
        return units

    @api.model
    def _intervals(self, calendar, units, start, end):
        """``{user_id: (tz, work intervals, leave intervals)}`` between the aware ``start``
        and ``end`` for ``units`` of one calendar, in each unit's time zone: one call of
        the calendar's interval methods for the resources, one per time zone for the users
        without a resource."""
        # sudo: leaves are read for their dates only (private: never their name or type)
        calendar = calendar.sudo()
        resources = (
            self.env["resource.resource"]
            .sudo()
            .union(*(resource for resource, _tz in units.values()))
        )
        by_key = {}
        if resources:
            by_key.update(self._batch(calendar, start, end, resources, None))
        for tz in {tz for resource, tz in units.values() if not resource}:
            by_key[tz] = self._batch(calendar, start, end, None, tz)[False]
        result = {}
        for user_id, (resource, tz) in units.items():
            attendances, leaves = by_key[resource.id if resource else tz]
            if not calendar or calendar.flexible_hours:
                # flexible hours: at work whenever not on leave
                local = timezone(tz)
                attendances = Intervals(
                    [(start.astimezone(local), end.astimezone(local), calendar.attendance_ids)]
                )
            result[user_id] = (tz, attendances - leaves, leaves)
        return result

    @api.model
    def _batch(self, calendar, start, end, resources, tz):
        """``{resource_id: (attendance intervals, leave intervals)}`` of one calendar."""
        if not calendar:
            # no working hours at all (a company without a calendar): no holidays either
            keys = [False, *(resources.ids if resources else [])]
            return {key: (Intervals(), Intervals()) for key in keys}
        zone = timezone(tz) if tz else None
        attendances = calendar._attendance_intervals_batch(start, end, resources, tz=zone)
        leaves = calendar._leave_intervals_batch(start, end, resources, tz=zone)
        return {key: (attendances[key], leaves[key]) for key in attendances}

    @api.model
    def _status_of(self, start, tz, work, leaves):
        """The Status at the aware ``start`` from one user's intervals (aware, local)."""
        now = start.astimezone(timezone(tz))
        at_work, next_start = False, None
        for begin, stop, _meta in work:
            if stop > now:
                at_work, next_start = begin <= now, max(begin, now)
                break
        if next_start and next_start.microsecond:
            # a leave of flexible hours ends at 23:59:59.999999: back at midnight
            next_start += timedelta(microseconds=1_000_000 - next_start.microsecond)
        away_until = None
        for begin, stop, meta in leaves:
            if begin <= now < stop:
                ends = [utc.localize(leave.date_to) for leave in meta if leave.date_to]
                leave_end = max([stop, *ends]).astimezone(now.tzinfo).replace(tzinfo=None)
                back = next_start and next_start.replace(tzinfo=None)
                away_until = availability.day_back(leave_end, back)
                break
        return Status(
            at_work=at_work,
            next_start=next_start and next_start.astimezone(utc).replace(tzinfo=None),
            away_until=away_until,
            tz=tz,
        )


def _after_hours(work, start, hours):
    """The naive UTC moment ``hours`` of ``work`` intervals after the aware ``start``."""
    left = timedelta(hours=hours)
    for begin, stop, _meta in work:
        if stop <= start:
            continue
        begin = max(begin, start)
        if stop - begin >= left:
            return (begin + left).astimezone(utc).replace(tzinfo=None)
        left -= stop - begin
    return None
