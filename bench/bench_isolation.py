"""Lead isolation on 100,000 leads.

1. Benchmark: the first page of the lead list (80 leads, default order) as an isolated
   Trusted Employee vs as an "Own Documents" salesperson. Both users hit one record rule
   on ``user_id``; the isolation rule must cost no more than Odoo's own "Personal Leads"
   rule (goal: ratio <= 1.1, an index scan, no sequential scan). The EXPLAIN (ANALYZE) of
   both queries is printed.
2. Check: on a server with 2 workers, switching "Isolate assigned leads from standard
   users" (as an administrator, over /json/2) changes what the Trusted Employee sees on
   the very next request, whichever worker answers it.

The leads are removed afterwards (the other benchmarks share the database).
"""

import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import requests
from common import environment, report, server, timed

from odoo import Command
from odoo.tools import SQL

LEADS = 100_000
SALESPEOPLE = 20  # every salesperson owns 1/21 of the leads, 1/21 are unassigned
PAGE = 80
ROUNDS = 200
SWITCH_REQUESTS = 40  # requests after each switch, 4 at a time


def setup():
    with environment() as env:
        env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", False)
        salesman = env.ref("sales_team.group_sale_salesman")
        all_leads = env.ref("sales_team.group_sale_salesman_all_leads")
        trusted = env.ref("lead_allocation.group_trusted_employee")
        Users = env["res.users"].with_context(no_reset_password=True)
        isolated = Users.create(
            {
                "name": "Bench Trusted",
                "login": "bench_trusted",
                "group_ids": [Command.set([all_leads.id, trusted.id])],
            }
        )
        own_docs = Users.create(
            {
                "name": "Bench Own Documents",
                "login": "bench_own",
                "group_ids": [Command.set([salesman.id])],
            }
        )
        others = Users.create(
            [
                {
                    "name": f"Bench Seller {i}",
                    "login": f"bench_seller_{i}",
                    "group_ids": [Command.set([salesman.id])],
                }
                for i in range(SALESPEOPLE - 2)
            ]
        )
        owners = [isolated.id, own_docs.id, *others.ids, None]
        # One lead made by the ORM, copied 100,000 times by SQL (every NOT NULL column set).
        template = env["crm.lead"].create({"name": "Template", "user_id": isolated.id})
        env.flush_all()
        columns = [
            name
            for (name,) in env.execute_query(
                SQL(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = 'crm_lead' AND column_name NOT IN"
                    " ('id', 'name', 'user_id', 'priority')"
                )
            )
        ]
        env.cr.execute(
            SQL(
                """
                INSERT INTO crm_lead (name, user_id, priority, %(columns)s)
                SELECT 'Bench lead ' || g, (%(owners)s::int[])[1 + g %% %(n)s],
                       ((g %% 4)::text), %(columns)s
                  FROM crm_lead, generate_series(1, %(leads)s) g
                 WHERE crm_lead.id = %(template)s
                """,
                columns=SQL(", ").join(SQL.identifier(c) for c in columns),
                owners=owners,
                n=len(owners),
                leads=LEADS,
                template=template.id,
            )
        )
        env.cr.execute("ANALYZE crm_lead")
        env["res.config.settings"].create({"lead_isolation_enabled": True}).set_values()
        expiration = datetime.now() + timedelta(days=1)
        keys = {
            user.login: env["res.users.apikeys"]
            .with_user(user)
            ._generate(scope="rpc", name="bench", expiration_date=expiration)
            for user in (isolated, env.ref("base.user_admin"))
        }
        return isolated.id, own_docs.id, keys[isolated.login], keys["admin"]


def cleanup():
    with environment() as env:
        env.cr.execute("DELETE FROM crm_lead WHERE name LIKE 'Bench lead %'")
        env["res.config.settings"].create({"lead_isolation_enabled": False}).set_values()


def first_page(uid):
    with environment(uid) as env:
        Lead = env["crm.lead"]
        assert env.user._is_lead_isolated() == env.user.has_group(
            "lead_allocation.group_trusted_employee"
        )

        def run():
            for _i in range(ROUNDS):
                Lead.search([], limit=PAGE)

        seconds = timed(run, repeat=5)
        query = Lead._search([], limit=PAGE, order=Lead._order)
        plan = "\n".join(
            row[0]
            for row in env.execute_query(SQL("EXPLAIN (ANALYZE, COSTS OFF) %s", query.select()))
        )
        count = Lead.search_count([])
        return seconds, plan, count


def check_switch(base, isolated_key, admin_key):
    """Every request after a switch sees the new state, whichever worker answers."""

    def call(key, model, method, **params):
        response = requests.post(
            f"{base}/json/2/{model}/{method}",
            json=params,
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        response.raise_for_status()
        return response.json()

    # every lead of the database (other benchmarks may have created some before)
    total = call(admin_key, "crm.lead", "search_count", domain=[])
    ok = True
    for enabled in (False, True, False, True):
        settings = call(
            admin_key,
            "res.config.settings",
            "create",
            vals_list=[{"lead_isolation_enabled": enabled}],
        )
        call(admin_key, "res.config.settings", "execute", ids=settings)
        # 4 clients at once on 2 workers: both workers answer
        with ThreadPoolExecutor(4) as pool:
            counts = list(
                pool.map(
                    lambda _i: call(isolated_key, "crm.lead", "search_count", domain=[]),
                    range(SWITCH_REQUESTS),
                )
            )
        expected_all = set(counts) == {total}
        good = (not expected_all and max(counts) < total) if enabled else expected_all
        print(
            f"isolation {'on' if enabled else 'off'}: the Trusted Employee sees "
            f"{sorted(set(counts))} leads in {SWITCH_REQUESTS} requests after the switch "
            f"-> {'ok' if good else 'STALE'}",
            flush=True,
        )
        ok = ok and good
    return ok


def main():
    isolated, own_docs, isolated_key, admin_key = setup()
    try:
        return measure(isolated, own_docs, isolated_key, admin_key)
    finally:
        cleanup()


def measure(isolated, own_docs, isolated_key, admin_key):
    # warm both once, then measure side by side
    first_page(isolated)
    first_page(own_docs)
    t_iso, plan_iso, n_iso = first_page(isolated)
    t_own, plan_own, n_own = first_page(own_docs)
    print(f"visible leads: isolated Trusted Employee {n_iso}, Own Documents salesperson {n_own}")
    for label, plan in (("isolated Trusted Employee", plan_iso), ("Own Documents", plan_own)):
        print(f"-- EXPLAIN ANALYZE, {label}:\n{plan}")
    ratio = report(
        f"{ROUNDS} first pages ({PAGE} of {LEADS} leads)",
        "isolated Trusted Employee",
        t_iso,
        "Own Documents salesperson",
        t_own,
        goal=1.1,
    )
    seq_scan = "Seq Scan on crm_lead" in plan_iso
    if seq_scan:
        print("the isolated user's query scans the whole lead table")
    with server(workers=2) as base:
        switch_ok = check_switch(base, isolated_key, admin_key)
    return 0 if ratio <= 1.1 and not seq_scan and switch_ok else 1


if __name__ == "__main__":
    sys.exit(main())
