"""Availability of salespeople, in plain Python: what the add-on knows of a person's working
time at one moment (``Status``), how it reads and how members are ordered when nobody is at
work.  The statuses themselves are computed from Odoo's calendars by the
``lead.allocation.availability`` model; nothing here imports Odoo.

Datetimes are naive UTC, as Odoo stores them; local times are computed in the person's own
time zone (an IANA name such as ``"Europe/Brussels"``).
"""

from collections.abc import Hashable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

# How far ahead a next working period is looked for: past it, ``next_start`` is None.
HORIZON = timedelta(days=30)
# Within this many days, "off until Mon 09:00" names the weekday; past it, the date.
WEEKDAY_NAMES_WITHIN = 6

# The kinds of wording (``wording()``); the add-on maps each to a translated sentence.
AT_WORK = "at_work"  # at work
AWAY_UNTIL = "away_until"  # away until 14 Dec  (a leave or public holiday; back that day)
AWAY_BACK_AT = "away_back_at"  # away until 13:00 (Europe/Brussels)  (back later today)
STARTS_AT = "starts_at"  # starts at 09:00 (America/New_York)  (later today)
OFF_UNTIL = "off_until"  # off until Mon 09:00 (America/New_York)  (within the week)
OFF_UNTIL_DATE = "off_until_date"  # off until 14 Dec 09:00 (...)  (later)
OFF = "off"  # no working hours in the next 30 days


class Status(NamedTuple):
    """A salesperson's availability at one moment ``now``.

    ``at_work``: inside their working hours and on no leave or public holiday.
    ``next_start``: naive UTC of the first moment from ``now`` on when they are at work
    (``now`` itself when at work), None when there is none within ``HORIZON``.
    ``away_until``: when a leave or a public holiday covers ``now``, the local day they are
    back; None otherwise.  Never the leave's type or description.
    ``tz``: the time zone their working hours are read in.
    """

    at_work: bool
    next_start: datetime | None
    away_until: date | None
    tz: str


class Wording(NamedTuple):
    """Which sentence describes a status, and the local moment or day it names."""

    kind: str
    when: datetime | date | None = None


def local(moment: datetime, tz: str) -> datetime:
    """The naive local time in ``tz`` of the naive UTC ``moment``."""
    aware = moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz))
    return aware.replace(tzinfo=None)


def day_back(leave_end: datetime, next_start: datetime | None) -> date:
    """The local day someone on leave is back at work.

    ``leave_end`` is the local end of the leave (or the chain of leaves) covering now and
    ``next_start`` the local start of their next working period, when there is one within
    the horizon: the day of that start, or else of the leave's end.  A leave that ends at
    23:59:59 (the whole day off, as Odoo records it) is back the next day.
    """
    back = next_start if next_start is not None and next_start >= leave_end else leave_end
    if back.time() >= time(23, 59):
        return back.date() + timedelta(days=1)
    return back.date()


def wording(status: Status, now: datetime) -> Wording:
    """How ``status`` reads at the naive UTC ``now``, in the person's own time zone."""
    if status.at_work:
        return Wording(AT_WORK)
    today = local(now, status.tz).date()
    start = local(status.next_start, status.tz) if status.next_start else None
    if status.away_until:
        if start and start.date() == today:
            return Wording(AWAY_BACK_AT, start)
        return Wording(AWAY_UNTIL, status.away_until)
    if start is None:
        return Wording(OFF)
    days = (start.date() - today).days
    if days == 0:
        return Wording(STARTS_AT, start)
    if days <= WEEKDAY_NAMES_WITHIN:
        return Wording(OFF_UNTIL, start)
    return Wording(OFF_UNTIL_DATE, start)


def first_to_start(statuses: Mapping[Hashable, Status]) -> frozenset:
    """The keys of the statuses whose next working period starts first (those at work, when
    any is): the members a lead goes to when nobody is at work.  Empty when nobody has a
    working period within the horizon."""
    starts = {key: status.next_start for key, status in statuses.items() if status.next_start}
    if not starts:
        return frozenset()
    first = min(starts.values())
    return frozenset(key for key, start in starts.items() if start == first)
