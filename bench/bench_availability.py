"""Availability: the cost of following working hours and time off when allocating.

Three salespeople in three time zones, each with a calendar and a resource (one of them on
time off), one sales team. The same leads are created with the setting "Follow working hours
and time off" on and off, one lead per transaction and in batches of 100, interleaved in
rounds. The availability is read once per pool and create call: its cost does not grow with
the leads of a batch.
"""

from datetime import timedelta

from ab import compare
from common import environment

from odoo import Command, fields

ROUNDS, PER_ROUND = 6, 100


def setup():
    with environment() as env:
        env["res.users"].search([("allocation_weight", ">", 0)]).allocation_weight = 0
        group = env.ref("sales_team.group_sale_salesman")
        calendar = env.ref("resource.resource_calendar_std")
        users = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                [
                    {
                        "name": f"Availability bench {tz}",
                        "login": f"bench_avail_{i}",
                        "group_ids": [Command.set(group.ids)],
                        "allocation_weight": 5,
                    }
                    for i, tz in enumerate(("Europe/Brussels", "America/New_York", "UTC"))
                ]
            )
        )
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
        team = env["crm.team"].create(
            {"name": "Availability Bench", "member_ids": [Command.set(users.ids)]}
        )
        return team.id


def main():
    team_id = setup()

    def leads(round_number, side):
        return [{"name": f"{side}{round_number}-{i}", "team_id": team_id} for i in range(PER_ROUND)]

    compare("availability, 3 salespeople", "lead_allocation.follow_availability", leads, ROUNDS)


if __name__ == "__main__":
    main()
