"""How an availability status reads and orders (allocation/availability.py)."""

from datetime import date, datetime

from allocation.availability import (
    AT_WORK,
    AWAY_BACK_AT,
    AWAY_UNTIL,
    OFF,
    OFF_UNTIL,
    OFF_UNTIL_DATE,
    STARTS_AT,
    Status,
    day_back,
    first_to_start,
    local,
    wording,
)

NY = "America/New_York"


def test_local_time_follows_dst():
    assert local(datetime(2026, 3, 7, 14, 0), NY) == datetime(2026, 3, 7, 9, 0)  # EST
    assert local(datetime(2026, 3, 9, 13, 0), NY) == datetime(2026, 3, 9, 9, 0)  # EDT
    assert local(datetime(2026, 10, 25, 8, 0), "Europe/Brussels") == datetime(2026, 10, 25, 9, 0)


def test_wording():
    now = datetime(2026, 3, 6, 22, 0)  # Friday 17:00 in New York
    cases = [
        (Status(True, now, None, NY), AT_WORK, None),
        (Status(False, datetime(2026, 3, 9, 13), None, NY), OFF_UNTIL, datetime(2026, 3, 9, 9)),
        (Status(False, datetime(2026, 3, 6, 23), None, NY), STARTS_AT, datetime(2026, 3, 6, 18)),
        (
            Status(False, datetime(2026, 3, 16, 13), None, NY),
            OFF_UNTIL_DATE,
            datetime(2026, 3, 16, 9),
        ),
        (Status(False, None, None, NY), OFF, None),
        (Status(False, None, date(2026, 4, 1), NY), AWAY_UNTIL, date(2026, 4, 1)),
        (
            Status(False, datetime(2026, 3, 16, 13), date(2026, 3, 16), NY),
            AWAY_UNTIL,
            date(2026, 3, 16),
        ),
        (
            Status(False, datetime(2026, 3, 6, 23), date(2026, 3, 6), NY),
            AWAY_BACK_AT,
            datetime(2026, 3, 6, 18),
        ),
    ]
    for status, kind, when in cases:
        assert wording(status, now) == (kind, when), status


def test_day_back():
    friday_end = datetime(2026, 12, 11, 23, 59, 59)
    assert day_back(friday_end, datetime(2026, 12, 14, 9)) == date(2026, 12, 14)
    assert day_back(friday_end, None) == date(2026, 12, 12)
    assert day_back(datetime(2026, 12, 9, 13), datetime(2026, 12, 9, 13)) == date(2026, 12, 9)
    assert day_back(datetime(2026, 12, 9, 13), None) == date(2026, 12, 9)


def test_first_to_start():
    statuses = {
        1: Status(False, datetime(2026, 3, 9, 13), None, NY),
        2: Status(False, datetime(2026, 3, 9, 8), None, "Europe/Brussels"),
        3: Status(False, None, date(2026, 5, 1), NY),
        4: Status(False, datetime(2026, 3, 9, 8), None, "Europe/Paris"),
    }
    assert first_to_start(statuses) == {2, 4}
    assert first_to_start({3: statuses[3]}) == frozenset()
    assert first_to_start({}) == frozenset()
