"""The re-allocation of untouched leads at 1,000,000 leads, 1 % past their delay (``--size N``).

300 salespeople in 40 teams, every team with a delay of 24 hours and at most one
re-allocation. Of the leads, most are old and moved on: 91 % out of the first stage, 5 % still
in it but re-allocated already; 2 % in the first stage were assigned within the last 12 hours,
1 % were edited by their salesperson since, and 1 % are untouched in the first stage past
their delay. Printed: the time of the search alone (every batch of ``_untouched``, as one run
reads them: one query for every untouched lead, one per batch of 100 to read them again) with
the add-on's index of the candidate leads and without it, side by side, the EXPLAIN (ANALYZE,
BUFFERS) of the first query with and without, then the time of one run of
``lead.allocation.sla._cron_reallocate`` (every untouched lead moved, batch by batch).
"""

import sys
import time

from common import environment, report
from scale_data import populate, size

from odoo import fields
from odoo.tools import SQL, split_every

INDEX = "crm_lead_allocation_sla_candidate_idx"
DAY = 24 * 60


def columns(env):
    """The leads, by their number g modulo 100 (see the module's docstring)."""
    second = env["crm.stage"].search([("fold", "=", False)], order="sequence, id")[1]
    bucket = "g %% 100"
    return {
        "stage_id": f"CASE WHEN {bucket} < 9 THEN {{stage}} ELSE {second.id} END",
        "allocation_sla_count": f"CASE WHEN {bucket} BETWEEN 4 AND 8 THEN 1 ELSE 0 END",
        "allocation_assigned_at": "now() at time zone 'UTC' - CASE"
        f" WHEN {bucket} IN (1, 2) THEN make_interval(mins => g %% (12 * 60))"
        f" ELSE make_interval(mins => 2 * {DAY} + g %% (88 * {DAY})) END",
        "create_date": "now() at time zone 'UTC' - make_interval(mins => 2 * "
        f"{DAY} + g %% (88 * {DAY}))",
        # edited by the salesperson after the assignment
        "write_uid": f"CASE WHEN {bucket} = 3 THEN ({{users}})[1 + g %% {{n}}] ELSE 1 END",
        "write_date": "now() at time zone 'UTC'",
    }


def setup(leads):
    with environment() as env:
        users, teams = populate(env, leads, columns=columns(env))
        users.allocation_weight = 1  # everyone in the rotation, which gives the leads
        env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", True)
        teams.write({"allocation_sla_hours": 24, "allocation_sla_max": 1})
        env["crm.team"].search([("id", "not in", teams.ids)]).allocation_sla_hours = 0


def search_all(env, first_stages, now):
    """The search of one run: every untouched lead, then each batch read again; returns
    (seconds, leads found)."""
    Sla = env["lead.allocation.sla"]
    start = time.perf_counter()
    candidates = Sla._untouched(first_stages, now)
    found = sum(
        len(Sla._untouched(first_stages, now, ids=batch))
        for batch in split_every(Sla._batch_size, candidates.ids)
    )
    return time.perf_counter() - start, found


def explain(env, first_stages, now):
    """EXPLAIN (ANALYZE, BUFFERS) of the search of every untouched lead (``_untouched``)."""
    query = env["lead.allocation.sla"]._untouched_query(first_stages, now)
    rows = env.execute_query(SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) %s", query))
    return "\n".join(row[0] for row in rows)


def compare(leads):
    """The search with the index, then without it (dropped in a transaction rolled back)."""
    results = {}
    for indexed in (True, False):
        with environment() as env:
            if not indexed:
                env.cr.execute(SQL("DROP INDEX %s", SQL.identifier(INDEX)))
            Sla, now = env["lead.allocation.sla"], fields.Datetime.now()
            first_stages = Sla._first_stages()
            search_all(env, first_stages, now)  # warm the cache
            seconds, found = search_all(env, first_stages, now)
            plan = explain(env, first_stages, now)
            label = "with the index" if indexed else "without the index"
            print(f"search, {label}: {found:,} leads in {seconds:.3f} s")
            print(
                f"-- EXPLAIN (ANALYZE, BUFFERS), the search, {label}:\n{plan}",
                flush=True,
            )
            results[indexed] = seconds, found
            env.cr.rollback()
    report(
        f"SLA job, {leads:,} leads, the search of the untouched leads",
        "with the index",
        results[True][0],
        "without",
        results[False][0],
        goal=1.0,
        size=f"{leads:,} leads, 1 % past their delay, 40 teams",
    )
    return results[True][1]


def main(argv):
    leads = size(argv, 1_000_000)
    setup(leads)
    expected = compare(leads)
    with environment() as env:
        start = time.perf_counter()
        env["lead.allocation.sla"]._cron_reallocate()
        env.flush_all()
        seconds = time.perf_counter() - start
        env.cr.execute("SELECT count(*) FROM crm_lead WHERE allocation_method = 'reallocated'")
        moved = env.cr.fetchone()[0]
    print(f"one run of _cron_reallocate: {moved:,} leads re-allocated in {seconds:.1f} s")
    return 0 if moved == expected == leads // 100 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
