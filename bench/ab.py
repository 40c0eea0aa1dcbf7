"""A setting on vs off, on the same leads: the cost of what the setting adds to allocation."""

import time

from common import environment, report


def one_per_transaction(vals_list):
    start = time.perf_counter()
    for vals in vals_list:
        with environment() as env:
            env["crm.lead"].create(vals)
    return time.perf_counter() - start


def paired_per_transaction(vals_a, vals_b):
    """Create the leads of ``vals_a`` and ``vals_b`` one per transaction, in pairs (a then b,
    then b then a), so that what drifts during the run (tables growing, autovacuum, the
    machine's other jobs) weighs on both alike; returns the time of each side."""
    totals = [0.0, 0.0]
    for i, pair in enumerate(zip(vals_a, vals_b, strict=True)):
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            start = time.perf_counter()
            with environment() as env:
                env["crm.lead"].create(pair[side])
            totals[side] += time.perf_counter() - start
    return totals


def one_batch(vals_list):
    start = time.perf_counter()
    with environment() as env:
        env["crm.lead"].create(vals_list)
    return time.perf_counter() - start


def compare(name, param, leads_of_round, rounds, goal=1.10):
    """Create ``leads_of_round(r, side)`` with the system parameter ``param`` on, then off
    (or off, then on: alternate rounds), one lead per transaction and in one batch; print
    the ratio on / off of each."""
    for label, measure in (
        ("one lead per transaction", one_per_transaction),
        (None, one_batch),
    ):
        totals = {True: 0.0, False: 0.0}
        for r in range(rounds):
            for enabled in (r % 2 == 0, r % 2 == 1):
                with environment() as env:
                    env["ir.config_parameter"].set_param(param, enabled)
                vals_list = leads_of_round(r, "on" if enabled else "off")
                totals[enabled] += measure(vals_list)
        label = label or f"batches of {len(vals_list)}"
        report(f"{name}, {label}", "setting on", totals[True], "setting off", totals[False], goal)
