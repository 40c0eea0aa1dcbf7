"""Auto-allocation cost: 1,000 leads created with the rotation vs with an explicit salesperson.

Both sides create the same leads for the same salespeople in the same order (the explicit
side is given the rotation's own sequence), so followers and notifications cost the same;
the only difference is the allocation. Measured one lead per transaction (as requests do),
the sides alternating lead by lead, and in one batch, alternating round by round, so that
machine noise hits both sides alike.
"""

import pathlib
import sys

from ab import one_batch, paired_per_transaction
from common import environment, report, sales_team

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "lead_allocation"))
from allocation import Rotation

LEADS, ROUNDS = 1000, 10


def setup():
    with environment() as env:
        team, users = sales_team(env, "Bench", (10, 5, 5))
        return team.id, {u.id: u.allocation_weight for u in users}


def lead_by_lead(auto, manual, _flip):
    return paired_per_transaction(auto, manual)


def batches(auto, manual, flip):
    """One batch of each; ``flip``: the explicit side's first."""
    if flip:
        manual_time = one_batch(manual)
        return one_batch(auto), manual_time
    return one_batch(auto), one_batch(manual)


def main():
    team_id, weights = setup()
    per_round = LEADS // ROUNDS
    # one lead per transaction (the whole cost of the rotation on a lone request, its draw's
    # own transaction included), the two sides alternating lead by lead; then one batch
    # each, alternating round by round
    for label, measure, goal in (
        ("one lead per transaction", lead_by_lead, 1.03),
        ("one batch", batches, 1.05),
    ):
        auto_total = manual_total = 0.0
        with environment() as env:  # warm both paths
            env["crm.lead"].create([{"name": "warm", "team_id": team_id}])
        for r in range(ROUNDS):
            # The rotation restarts when the pool changes: bump a weight so that both sides
            # of the round start from the same, known point of the sequence.
            senior = next(iter(weights))
            weights[senior] = 10 + r % 2
            with environment() as env:
                env["res.users"].browse(senior).allocation_weight = weights[senior]
            rotation = Rotation()
            order = [rotation.next(weights) for _i in range(per_round)]
            auto = [{"name": f"A{r}-{i}", "team_id": team_id} for i in range(per_round)]
            manual = [
                {"name": f"M{r}-{i}", "team_id": team_id, "user_id": uid}
                for i, uid in enumerate(order)
            ]
            auto_time, manual_time = measure(auto, manual, r % 2)
            auto_total += auto_time
            manual_total += manual_time
        report(
            f"allocation, {LEADS} leads, {label}",
            "round robin",
            auto_total,
            "explicit salesperson",
            manual_total,
            goal=goal,
        )


if __name__ == "__main__":
    main()
