"""Lead isolation at 1,000,000 leads over 300 salespeople (``--size N`` for a quick run).

A Trusted Employee with isolation on (rule ``user_id = uid``) against an "Own Documents"
salesperson (Odoo's "Personal Leads" rule), each owning the same number of leads (1/300), on
what the web client asks for, as it asks: the first page of the pipeline kanban
(``web_read_group`` by stage, unfolded, 80 cards per column), the first page of the lead list
(``web_search_read``, 80 rows, counted up to 10,001), a search by name (``name_search``),
``search_count`` and the activity view (``mail.activity.get_activity_data``). Goal: each
ratio <= 1.0. The EXPLAIN (ANALYZE) of the isolated list query and count is printed. The data
stays in the benchmark database (dropped by bench/run).
"""

import sys

from common import environment, report, timed
from scale_data import populate, size, vacuum

from odoo import Command
from odoo.tools import SQL

ROUNDS, CALLS = 10, 5  # interleaved rounds of 5 calls each side
LIST_SPEC = {
    "name": {},
    "email_from": {},
    "user_id": {"fields": {"display_name": {}}},
    "team_id": {"fields": {"display_name": {}}},
    "priority": {},
    "create_date": {},
}
KANBAN_SPEC = dict(LIST_SPEC, expected_revenue={}, tag_ids={"fields": {"display_name": {}}})


def setup(leads):
    with environment() as env:
        users, _teams = populate(env, leads)
        trusted = env.ref("lead_allocation.group_trusted_employee")
        all_leads = env.ref("sales_team.group_sale_salesman_all_leads")
        users[0].write({"group_ids": [Command.set([all_leads.id, trusted.id])]})
        env["res.config.settings"].create({"lead_isolation_enabled": True}).set_values()
        return users[0].id, users[1].id


def views(Lead):
    """What the web client asks for, by view: name -> callable."""
    Activity = Lead.env["mail.activity"]
    return {
        "pipeline kanban, first page": lambda: Lead.web_read_group(
            [("type", "=", "opportunity")],
            ["stage_id"],
            ["expected_revenue:sum"],
            auto_unfold=True,
            unfold_read_specification=KANBAN_SPEC,
            unfold_read_default_limit=80,
        ),
        "lead list, first page": lambda: Lead.web_search_read(
            [("type", "=", "lead")], LIST_SPEC, limit=80, count_limit=10001
        ),
        "name search": lambda: Lead.name_search("Scale lead 12", limit=8),
        "search_count": lambda: Lead.search_count([]),
        "activity view": lambda: Activity.get_activity_data(
            "crm.lead", [("activity_ids", "!=", False)], limit=80
        ),
    }


def explain(env, query):
    rows = env.execute_query(SQL("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) %s", query))
    return "\n".join(row[0] for row in rows)


def explain_list(env):
    Lead = env["crm.lead"]
    return explain(env, Lead._search([("type", "=", "lead")], limit=80, order=Lead._order).select())


def main(argv):
    leads = size(argv, 1_000_000)
    isolated, own = setup(leads)
    vacuum("crm_lead", "mail_activity")
    ok = True
    with environment(isolated) as env_iso, environment(own) as env_own:
        iso, own_docs = views(env_iso["crm.lead"]), views(env_own["crm.lead"])
        visible = (env_iso["crm.lead"].search_count([]), env_own["crm.lead"].search_count([]))
        print(f"visible leads: Trusted Employee {visible[0]:,}, Own Documents {visible[1]:,}")
        for name in iso:
            iso[name](), own_docs[name]()  # warm both
            t_iso = t_own = 0.0
            for r in range(ROUNDS):  # interleaved, so noise hits both alike
                first, second = (iso, own_docs) if r % 2 else (own_docs, iso)
                t_first = timed(lambda f=first[name]: [f() for _i in range(CALLS)], repeat=1)
                t_second = timed(lambda f=second[name]: [f() for _i in range(CALLS)], repeat=1)
                t_iso += t_first if first is iso else t_second
                t_own += t_second if first is iso else t_first
            ratio = report(
                f"isolation, {leads:,} leads, {name}",
                "Trusted Employee",
                t_iso / ROUNDS / CALLS,
                "Own Documents",
                t_own / ROUNDS / CALLS,
                goal=1.0,
                size=f"{leads:,} leads, 300 salespeople",
            )
            ok = ok and ratio <= 1.0
        plan = explain_list(env_iso)
        print(f"-- EXPLAIN ANALYZE, the isolated lead list (first page):\n{plan}")
        count = explain(env_iso, env_iso["crm.lead"]._search([]).select(SQL("COUNT(*)")))
        print(f"-- EXPLAIN ANALYZE, the isolated search_count:\n{count}")
    return 0 if ok and "Seq Scan on crm_lead" not in plan else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
