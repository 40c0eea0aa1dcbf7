"""Data of the scale benchmarks: salespeople, teams and up to a million leads, made by SQL.

``populate(env, leads)`` creates 300 salespeople ("Own Documents" salesmen) in 40 teams with
the ORM in batches, then copies one lead made by the ORM ``leads`` times with one
``INSERT ... SELECT generate_series`` (every NOT NULL column set): the leads are shared out
evenly among the salespeople, each in its salesperson's team and its team's first stage,
created over the last 90 days, half of them leads and half opportunities. 1 % of them get an
activity of their salesperson. ``columns`` (column name -> SQL expression of the lead's number
``g``) replaces or adds the values of columns. ``size(argv, default)`` reads ``--size N`` from
the command line, for quick runs.
"""

import argparse
import contextlib
import time

import psycopg2
from common import DB

from odoo import Command, sql_db
from odoo.tools import SQL

SALESPEOPLE, TEAMS = 300, 40


def size(argv, default):
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=default, help="number of leads")
    return parser.parse_args(argv).size


def copy_columns(env, table, skip):
    """The columns of ``table`` other than ``id`` and ``skip``: as a list, and qualified."""
    names = [
        name
        for (name,) in env.execute_query(
            SQL(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = %s AND NOT column_name = ANY(%s)",
                table,
                ["id", *skip],
            )
        )
    ]
    return (
        SQL(", ").join(SQL.identifier(name) for name in names),
        SQL(", ").join(SQL.identifier(table, name) for name in names),
    )


def create_people(env, prefix):
    salesman = env.ref("sales_team.group_sale_salesman")
    users = (
        env["res.users"]
        .with_context(no_reset_password=True, mail_create_nolog=True, tracking_disable=True)
        .create(
            [
                {
                    "name": f"{prefix} Seller {i}",
                    "login": f"{prefix.lower()}_seller_{i}",
                    "group_ids": [Command.set([salesman.id])],
                }
                for i in range(SALESPEOPLE)
            ]
        )
    )
    per_team = -(-SALESPEOPLE // TEAMS)
    teams = env["crm.team"].create(
        [
            {
                "name": f"{prefix} Team {t}",
                "member_ids": [Command.set(users[t * per_team : (t + 1) * per_team].ids)],
            }
            for t in range(TEAMS)
        ]
    )
    team_of = [teams[min(i // per_team, TEAMS - 1)].id for i in range(SALESPEOPLE)]
    return users, teams, team_of


# column -> SQL expression of the lead's number g; {users}, {teams} (the team of each
# salesperson), {n} (the number of salespeople), {stage} (the first stage) and {prefix} are
# filled in; "%%" is a modulo
AGO = "now() at time zone 'UTC' - make_interval(mins => g %% (90 * 24 * 60))"
DEFAULTS = {
    "name": "{prefix} || ' lead ' || g",
    "user_id": "({users})[1 + g %% {n}]",
    "team_id": "({teams})[1 + g %% {n}]",
    "stage_id": "{stage}",
    "priority": "((g %% 4)::text)",
    # half leads, half opportunities for every salesperson (not by the parity of g, which
    # would give each salesperson only one type: n is even)
    "type": "CASE WHEN (g / {n}) %% 2 = 0 THEN 'lead' ELSE 'opportunity' END",
    "create_date": AGO,
    "allocation_method": "'round_robin'",
    "allocation_assigned_at": AGO,
    "email_from": "'lead' || g || '@example.com'",
}


def populate(env, leads, prefix="Scale", columns=None):
    """Create the people and ``leads`` leads; returns ``(users, teams)``. ``columns``: column
    name -> SQL expression of ``g`` (the lead's number), replacing or added to ``DEFAULTS``."""
    started = time.perf_counter()
    env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", False)
    users, teams, team_of = create_people(env, prefix)
    stage = env["crm.lead"]._stage_find(team_id=teams[0].id, domain=[("fold", "=", False)])
    template = env["crm.lead"].create(
        {"name": "Template", "user_id": users[0].id, "team_id": teams[0].id}
    )
    env.flush_all()
    values = dict(DEFAULTS, **(columns or {}))
    fill = {
        "users": f"ARRAY{users.ids}::int[]",
        "teams": f"ARRAY{team_of}::int[]",
        "n": SALESPEOPLE,
        "stage": stage.id,
        "prefix": "'" + prefix.replace("'", "''") + "'",
    }
    copied, source = copy_columns(env, "crm_lead", list(values))
    env.cr.execute(
        SQL(
            """
            INSERT INTO crm_lead (%(names)s, %(copied)s)
            SELECT %(values)s, %(source)s
              FROM crm_lead, generate_series(1, %(leads)s) g
             WHERE crm_lead.id = %(template)s
            """,
            names=SQL(", ").join(SQL.identifier(name) for name in values),
            values=SQL(", ".join(expr.format(**fill) for expr in values.values())),
            copied=copied,
            source=source,
            leads=leads,
            template=template.id,
        )
    )
    template.unlink()
    add_activities(env, prefix)
    env.cr.execute("ANALYZE crm_lead")
    env.cr.execute("ANALYZE mail_activity")
    print(
        f"data: {leads:,} leads, {SALESPEOPLE} salespeople, {TEAMS} teams made in"
        f" {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return users, teams


def vacuum(*tables):
    """VACUUM (ANALYZE) ``tables`` once their data committed, on a connection of its own (not
    in a transaction): as autovacuum keeps the tables of a database in use, the visibility
    map set and the hint bits written, which rows only just inserted do not have."""
    with contextlib.closing(psycopg2.connect(**sql_db.connection_info_for(DB)[1])) as cnx:
        cnx.autocommit = True
        with cnx.cursor() as cr:
            for table in tables:
                cr.execute(f"VACUUM (ANALYZE) {table}")
            cr.execute(
                "SELECT relname, round(100.0 * relallvisible / greatest(relpages, 1))"
                " FROM pg_class WHERE relname = ANY(%s) ORDER BY relname",
                (list(tables),),
            )
            visible = ", ".join(f"{name} {share}%" for name, share in cr.fetchall())
            print(f"vacuumed: pages all-visible {visible}", flush=True)


def add_activities(env, prefix):
    """A to-do of its salesperson on 1 % of the leads (one made by the ORM, copied by SQL):
    on every lead of one run of consecutive leads in 100, each run of ``SALESPEOPLE`` leads
    holding one lead of each salesperson, so that each has activities on 1 % of theirs."""
    lead = env["crm.lead"].search([("name", "=", f"{prefix} lead 1")], limit=1)
    template = lead.activity_schedule("mail.mail_activity_data_todo", user_id=lead.user_id.id)
    env.flush_all()
    columns, source = copy_columns(env, "mail_activity", ["res_id", "user_id", "date_deadline"])
    env.cr.execute(
        SQL(
            """
            INSERT INTO mail_activity (res_id, user_id, date_deadline, %(columns)s)
            SELECT lead.id, lead.user_id, (now() + make_interval(days => lead.id %% 20))::date,
                   %(source)s
              FROM mail_activity, crm_lead lead
             WHERE mail_activity.id = %(template)s AND lead.id / %(n)s %% 100 = 0
               AND lead.name LIKE %(pattern)s AND lead.id != %(lead)s
            """,
            columns=columns,
            source=source,
            template=template.id,
            pattern=f"{prefix} lead %",
            lead=lead.id,
            n=SALESPEOPLE,
        )
    )
