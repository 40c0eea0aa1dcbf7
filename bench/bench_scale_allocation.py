"""Allocation at 1,000,000 leads against 10,000 (``--size N`` for the large side).

Two databases made alike (the benchmark database and a copy of it): 300 salespeople (weights
1 to 3, a daily cap of 1,000 each, so that the daily-cap count is read) in 40 teams, one with
10,000 leads, the other with 1,000,000 (scale_data.py). The same leads, one per transaction
and in batches of 100, are created by the rotation in both, round after round, alternating
which database goes first; the ratio is the per-lead cost at 1,000,000 leads over the cost
at 10,000 (goal <= 1.1: the cost does not grow with the database). Then, on the large
database, the server time of the Lead Allocations page as a Sales Administrator opens it:
``lead.allocation.pool.get_preview_data`` (40 pools) and the list's ``web_search_read``
(300 salespeople, 80 a page), and the EXPLAIN (ANALYZE) of the daily-cap count.
"""

import contextlib
import sys
import time

import psycopg2
from common import DB, report
from scale_data import populate, size

from odoo import SUPERUSER_ID, api
from odoo.addons.lead_allocation.tests.test_scale_queries import PAGE_SPEC
from odoo.modules.registry import Registry
from odoo.tests import new_test_user
from odoo.tools import SQL

SMALL, ROUNDS, PER_TRANSACTION, BATCH = 10_000, 10, 30, 100
COPY = f"{DB}_small"


@contextlib.contextmanager
def environment(db, uid=SUPERUSER_ID):
    with Registry(db).cursor() as cr:
        yield api.Environment(cr, uid, {})


def admin(create):
    cnx = psycopg2.connect(dbname="postgres")
    cnx.autocommit = True
    with cnx.cursor() as cur:
        if create:
            cur.execute(f'CREATE DATABASE "{COPY}" TEMPLATE "{DB}"')
        else:
            cur.execute(f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')
    cnx.close()


def setup(db, leads):
    with environment(db) as env:
        users, teams = populate(env, leads)
        for weight in (1, 2, 3):
            users.filtered(lambda u, w=weight: u.id % 3 == w - 1).write(
                {"allocation_weight": weight, "allocation_daily_cap": 1000}
            )
        env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", True)
        return teams.ids


def create(db, vals_list, batch):
    start = time.perf_counter()
    if batch:
        with environment(db) as env:
            env["crm.lead"].create(vals_list)
    else:
        for vals in vals_list:
            with environment(db) as env:
                env["crm.lead"].create(vals)
    return time.perf_counter() - start


def compare(large, team_ids):
    dbs = {"large": DB, "small": COPY}
    for label, batch, count in (
        ("one lead per transaction", False, PER_TRANSACTION),
        ("batches of 100", True, BATCH),
    ):
        totals = dict.fromkeys(dbs, 0.0)
        for name in dbs:  # warm
            create(dbs[name], [{"name": "warm", "team_id": team_ids[0]}], batch)
        for r in range(ROUNDS):
            vals = [
                {"name": f"{label} {r}-{i}", "team_id": team_ids[(r * count + i) % len(team_ids)]}
                for i in range(count)
            ]
            for name in ("large", "small") if r % 2 else ("small", "large"):
                totals[name] += create(dbs[name], vals, batch)
        report(
            f"allocation, {label}, per lead at {large:,} leads vs {SMALL:,}",
            f"{large:,} leads",
            totals["large"] / ROUNDS / count,
            f"{SMALL:,} leads",
            totals["small"] / ROUNDS / count,
            goal=1.1,
            size="300 salespeople, 40 teams, daily caps",
        )


def page(db):
    """Server time of the Lead Allocations page, best of 3, as a Sales Administrator."""
    with environment(db) as env:
        manager = new_test_user(env, "bench_manager", groups="sales_team.group_sale_manager")
        action = env.ref("lead_allocation.res_users_action_lead_allocation")
        domain = eval(action.domain)
        menv = env(user=manager.id, context={"active_test": True})
        for name, call in (
            ("get_preview_data", lambda: menv["lead.allocation.pool"].get_preview_data()),
            (
                "list web_search_read",
                lambda: menv["res.users"].web_search_read(domain, PAGE_SPEC, limit=80),
            ),
        ):
            best = None
            for _i in range(3):
                menv.invalidate_all()
                before, start = env.cr.sql_log_count, time.perf_counter()
                result = call()
                elapsed = time.perf_counter() - start
                best = elapsed if best is None else min(best, elapsed)
            queries = env.cr.sql_log_count - before
            shown = len(result["pools"]) if "pools" in result else result["length"]
            print(
                f"Lead Allocations page, {name}: {best * 1000:.0f} ms ({shown} shown,"
                f" {queries} queries)"
            )
        env.cr.rollback()


def explain_daily_cap(db):
    with environment(db) as env:
        users = env["res.users"].search([("allocation_daily_cap", ">", 0)], limit=8)
        Members = env["lead.allocation.members"]
        queries = []

        class Recorder:
            def execute(self, query, params=None):
                queries.append(env.cr.mogrify(query, params).decode())
                env.cr.execute(query, params)

            def fetchall(self):
                return env.cr.fetchall()

        Members._received(users, Recorder())
        rows = env.execute_query(
            SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) %s", SQL(queries[0].replace("%", "%%")))
        )
        print("-- EXPLAIN (ANALYZE, BUFFERS), the daily-cap count of 8 salespeople:")
        print("\n".join(row[0] for row in rows), flush=True)


def main(argv):
    large = size(argv, 1_000_000)
    admin(create=True)
    try:
        setup(COPY, SMALL)
        team_ids = setup(DB, large)
        compare(large, team_ids)
        page(DB)
        explain_daily_cap(DB)
    finally:
        Registry.delete(COPY)
        admin(create=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
