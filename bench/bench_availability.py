"""Availability: the cost of following working hours and time off when allocating.

Three salespeople in three time zones, each with a calendar and a resource (one of them on
time off), one sales team. The same leads are created with the setting "Follow working hours
and time off" on and off, one lead per transaction and in batches of 100, interleaved in
rounds. The availability is read once per pool and create call: its cost does not grow with
the leads of a batch.
"""

from datetime import timedelta

from ab import compare
from common import environment, sales_team

from odoo import fields

ROUNDS, PER_ROUND = 6, 100


def setup():
    with environment() as env:
        team, users = sales_team(env, "Availability Bench", (5, 5, 5))
        calendar = env.ref("resource.resource_calendar_std")
        for user, tz in zip(users, ("Europe/Brussels", "America/New_York", "UTC"), strict=True):
            user.allocation_calendar_id = False if tz == "UTC" else calendar  # UTC: flexible
            user.allocation_tz = tz
        now = fields.Datetime.now()
        env["resource.calendar.leaves"].create(
            {
                "name": "Bench leave",
                "resource_id": users[0].resource_ids.id,
                "date_from": now - timedelta(days=1),
                "date_to": now + timedelta(days=7),
            }
        )
        return team.id


def main():
    team_id = setup()

    def leads(round_number, side):
        return [{"name": f"{side}{round_number}-{i}", "team_id": team_id} for i in range(PER_ROUND)]

    compare("availability, 3 salespeople", "lead_allocation.follow_availability", leads, ROUNDS)


if __name__ == "__main__":
    main()
