"""Google Sheets import: 10,000 rows read from a local fake Google (the real gspread and
google-auth over HTTP, 500-row range requests) and turned into leads, vs one plain batch
``crm.lead.create`` of the same 10,000 leads. Both allocate by round robin in the same
team; each runs once in its own transaction, rolled back afterwards.

Goal: ratio <= 1.2 (reading, keying, logging and committing the rows costs at most 20%).

Then the same import with write-back on vs off (salesperson, link, status and date of
each row written back, one values batch update per 500-row chunk). Goal: ratio <= 1.3.
"""

import importlib.util
import json
import pathlib
import time

from common import environment, report

from odoo import Command

ROWS = 10_000
HERE = pathlib.Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "fake_google", HERE.parent / "lead_allocation/tests/fake_google.py"
)
fake_google = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fake_google)

HEADERS = ["Name", "Email", "Phone", "Company", "Notes", "Source"]


def sheet_rows():
    return [HEADERS] + [
        [
            f"Bench lead {i}",
            f"lead{i}@example.com",
            f"+32 470 {i:06d}",
            f"Company {i % 700}",
            f"Wants a quote ({i})",
            "Facebook",
        ]
        for i in range(ROWS)
    ]


def setup(env):
    salesman = env.ref("sales_team.group_sale_salesman")
    users = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            [
                {
                    "name": f"Sheet Seller {i}",
                    "login": f"sheet_seller_{i}",
                    "group_ids": [Command.set([salesman.id])],
                }
                for i in range(3)
            ]
        )
    )
    for user, weight in zip(users, (10, 5, 5), strict=True):
        user.allocation_weight = weight
    return env["crm.team"].create(
        {"name": "Sheet Bench Team", "member_ids": [Command.set(users.ids)]}
    )


def run_import(google, write_back=False):
    with environment() as env:
        team = setup(env)
        env["ir.config_parameter"].set_param("lead_allocation.sheets_api_base", google.api_base)
        source = env["lead.allocation.sheet"].create(
            {
                "name": "Bench sheet",
                "spreadsheet": "bench-sheet-key",
                "team_id": team.id,
                "credentials_input": json.dumps(google.service_account_info()),
                "write_back": write_back,
            }
        )
        env.flush_all()
        start = time.perf_counter()
        totals = source._sync()
        env.flush_all()
        elapsed = time.perf_counter() - start
        assert totals["imported"] == ROWS, totals
        assert source.write_back_waiting == 0 and source.last_sync_state == "ok"
        assert env["crm.lead"].search_count([("team_id", "=", team.id)]) == ROWS
        env.cr.rollback()
    return elapsed


def run_create():
    with environment() as env:
        team = setup(env)
        utm = env["utm.mixin"]
        source = utm._find_or_create_record("utm.source", "Bench sheet")
        medium = utm._find_or_create_record("utm.medium", "Facebook")
        vals_list = [
            {
                "name": name,
                "email_from": email,
                "phone": phone,
                "partner_name": company,
                "description": notes,
                "team_id": team.id,
                "source_id": source.id,
                "medium_id": medium.id,
            }
            for name, email, phone, company, notes, _src in sheet_rows()[1:]
        ]
        env.flush_all()
        start = time.perf_counter()
        env["crm.lead"].create(vals_list)
        env.flush_all()
        elapsed = time.perf_counter() - start
        env.cr.rollback()
    return elapsed


def main():
    with fake_google.FakeGoogle() as google:
        create_time = run_create()
        # write-back off and on, interleaved (off, on, on, off) so that the machine's noise
        # hits both alike
        times = {False: 0.0, True: 0.0}
        for write_back in (False, True, True, False):
            google.add_sheet("bench-sheet-key", "Bench leads", sheet_rows())  # as new
            google.requests.clear()
            google.writes.clear()
            times[write_back] += run_import(google, write_back=write_back)
            if write_back:
                reads, writes = google.count("values"), google.count("write")
                rows = sum(len(body["data"]) for body in google.writes)
            else:
                requests = google.count("values")
    report(
        f"sheets import of {ROWS} rows ({requests} range requests)",
        "import",
        times[False] / 2,
        "batch create",
        create_time,
        goal=1.2,
    )
    report(
        f"sheets write-back of {ROWS} rows ({writes} write requests, {rows} rows written, "
        f"{reads} range requests)",
        "write-back on",
        times[True],
        "off",
        times[False],
        goal=1.3,
    )


if __name__ == "__main__":
    main()
