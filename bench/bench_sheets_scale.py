"""Google Sheets at scale: 100,000 rows (``--size N``) imported by the scheduled action over
many runs, write-back off and on, against plain batch creates of the same leads.

Two sources read a sheet of N rows each from a local fake Google (the real gspread and
google-auth over HTTP) served by a process of its own: one with write-back off, one with it
on. The runs of the scheduled action "import new rows of the Google Sheets" are made as the
scheduler makes them (``ir.cron._process_jobs_loop``: its time limit, its progress, its
commits) in this process, which plays the server's cron worker; they alternate between the
two sources (the other one archived for the run). After each run, the leads of the rows it
imported are created again by plain ``crm.lead.create`` in batches of 500 (the sync's
chunk), each committed, in the same team (3 salespeople, weights 10, 5 and 5), without
Odoo's e-mail per lead (``mail_auto_subscribe_no_notify``: the import sends one message per
salesperson and chunk instead, a cost the import's side keeps). Both sources import the
same rows: each run's time per row is compared with the plain creates' time per row.

Printed: the number of runs, each source's time against the plain creates of the same rows
(goal <= 1.2), the resident memory of this process after the first and the last run of each
source (goal <= 1.1), and the checks: every row imported once (one lead per row, no
duplicate, no row skipped), and with write-back on, every row of the sheet showing the status
and the salesperson of its lead.
"""

import multiprocessing
import re
import sys
import threading
import time

from bench_sheets import HEADERS
from bench_sheets import fake_google as fake_google_module
from common import DB, environment, record, report

from odoo import sql_db
from odoo.addons.base.models.ir_cron import IrCron

ROWS = 100_000
CHUNK = 500
WEIGHTS = (10, 5, 5)


def size():
    """The number of rows: ``--size N`` or ROWS."""
    if "--size" in sys.argv:
        return int(sys.argv[sys.argv.index("--size") + 1])
    return ROWS


def row(i):
    return [f"Scale lead {i}", f"scale{i}@example.com", f"+32 470 {i:06d}",
            f"Company {i % 700}", f"Wants a quote ({i})", "Facebook"]  # fmt: skip


def serve_google(rows, conn):
    """The fake Google of the run, in a process of its own: two sheets of ``rows`` rows;
    answers "written" with the rows of the write-back sheet whose cells were written."""
    with fake_google_module.FakeGoogle() as google:
        for key in ("scale-off", "scale-on"):
            google.add_sheet(key, key, [HEADERS] + [row(i) for i in range(rows)])
        conn.send((google.api_base, google.service_account_info()))
        while (message := conn.recv()) != "stop":
            assert message == "written"
            sheet = google.rows("scale-on")
            status, seller = sheet[0].index("Status"), sheet[0].index("Salesperson")
            done = sum(1 for line in sheet[1:] if max(status, seller) < len(line)
                       and line[status] and line[seller])  # fmt: skip
            conn.send((done, google.count("values"), google.count("write")))


def resident_kib():
    """The resident memory of this process (VmRSS), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        return int(re.search(r"VmRSS:\s+(\d+)", status.read()).group(1))


def setup(api_base, credentials):
    import json

    from odoo.addons.lead_allocation.tests.common import create_team

    with environment() as env:
        env["res.users"].search([("allocation_weight", ">", 0)]).allocation_weight = 0
        _users, team = create_team(env, "Sheets scale", WEIGHTS)
        env["ir.config_parameter"].set_param("lead_allocation.sheets_api_base", api_base)
        sources = env["lead.allocation.sheet"].create(
            [
                {
                    "name": f"Scale sheet {key}",
                    "spreadsheet": f"scale-{key}",
                    "team_id": team.id,
                    "credentials_input": json.dumps(credentials),
                    "write_back": key == "on",
                    "active": False,
                }
                for key in ("off", "on")
            ]
        )
        cron = env.ref("lead_allocation.ir_cron_sync_lead_sheets")
        return sources.ids, team.id, cron.id


def cron_run(source_id, cron_id):
    """One run of the scheduled action with only ``source_id`` active, as the scheduler
    runs it; ``(seconds, rows done since the start)``."""
    with environment() as env:
        env["lead.allocation.sheet"].with_context(active_test=False).search(
            [("name", "like", "Scale sheet")]
        ).active = False
        env["lead.allocation.sheet"].browse(source_id).active = True
        env["ir.cron"].browse(cron_id)._trigger()
    threading.current_thread().dbname = DB  # as ir.cron._process_jobs sets it
    start = time.perf_counter()
    with sql_db.db_connect(DB).cursor() as cron_cr:
        IrCron._process_jobs_loop(cron_cr, job_ids=[cron_id])
    elapsed = time.perf_counter() - start
    with environment() as env:
        source = env["lead.allocation.sheet"].browse(source_id)
        done = source.sync_rows_done if source.sync_running else source.sync_rows_total
        return elapsed, done, source.sync_running


def plain_create(team_id, first, last):
    """Create the leads of rows ``first`` to ``last - 1`` by batches of CHUNK, each committed."""
    elapsed = 0.0
    for begin in range(first, last, CHUNK):
        with environment(context={"mail_auto_subscribe_no_notify": True}) as env:
            utm = env["utm.mixin"]
            source = utm._find_or_create_record("utm.source", "Plain creates")
            medium = utm._find_or_create_record("utm.medium", "Facebook")
            fields = ("name", "email_from", "phone", "partner_name", "description")
            vals_list = [
                dict(
                    zip(fields, row(i)[:5], strict=True),
                    team_id=team_id,
                    source_id=source.id,
                    medium_id=medium.id,
                )
                for i in range(begin, min(begin + CHUNK, last))
            ]
            env.flush_all()
            start = time.perf_counter()
            env["crm.lead"].create(vals_list)
            env.flush_all()
            env.cr.commit()
            elapsed += time.perf_counter() - start
    return elapsed


def check(source_ids, rows):
    """Every row imported once: one lead per row and one logged row per key, each lead
    given by the round robin, nothing duplicate nor skipped; the totals of each source."""
    with environment() as env:
        totals = []
        for source in (
            env["lead.allocation.sheet"].with_context(active_test=False).browse(source_ids)
        ):
            env.cr.execute(
                "SELECT count(*), count(DISTINCT row.key), count(DISTINCT row.lead_id),"
                "       count(lead.user_id) FILTER (WHERE lead.allocation_method = 'round_robin')"
                "  FROM lead_allocation_sheet_row row JOIN crm_lead lead ON lead.id = row.lead_id"
                " WHERE row.sheet_id = %s",
                (source.id,),
            )
            logged, keys, leads, allocated = env.cr.fetchone()
            assert logged == keys == leads == allocated == rows, (source.name, logged, keys, leads)
            assert source.sync_totals["imported"] == rows, source.sync_totals
            assert not source.sync_totals["duplicate"] and not source.sync_totals["skipped"]
            assert source.last_sync_state == "ok", source.last_sync_message
            totals.append(source.sync_totals)
        return totals


def main():
    rows = size()
    parent, child = multiprocessing.Pipe()
    google = multiprocessing.get_context("fork").Process(
        target=serve_google, args=(rows, child), daemon=True
    )
    google.start()
    api_base, credentials = parent.recv()
    source_ids, team_id, cron_id = setup(api_base, credentials)
    done = dict.fromkeys(source_ids, 0)
    times = dict.fromkeys((*source_ids, "plain"), 0.0)
    memory = {source_id: [] for source_id in source_ids}
    runs = dict.fromkeys(source_ids, 0)
    running = set(source_ids)
    while running:
        for source_id in sorted(running):
            seconds, rows_done, still = cron_run(source_id, cron_id)
            times[source_id] += seconds
            memory[source_id].append(resident_kib())
            runs[source_id] += 1
            if source_id == source_ids[0]:  # the same rows, created plainly
                times["plain"] += plain_create(team_id, done[source_id], rows_done)
            done[source_id] = rows_done
            if not still:
                running.discard(source_id)
        print(f"  {done} rows done, memory {resident_kib() // 1024} MiB", flush=True)
    check(source_ids, rows)
    parent.send("written")
    written, reads, writes = parent.recv()
    parent.send("stop")
    assert written == rows, f"{written} of {rows} rows written back"
    for source_id, label in zip(source_ids, ("off", "on"), strict=True):
        name = f"sheets at scale, write-back {label}, {runs[source_id]} cron runs"
        report(
            f"{name}: import by the scheduled action vs plain batch create",
            "import",
            times[source_id],
            "batch create",
            times["plain"],
            goal=1.2,
            size=f"{rows:,} rows",
        )
        first, last = memory[source_id][0], memory[source_id][-1]
        print(
            f"{name}: memory after the first run {first // 1024} MiB, after the last "
            f"{last // 1024} MiB -> ratio {last / first:.3f}  (goal <= 1.1)"
        )
        record(f"{name}: memory, last run vs first", f"{rows:,} rows", last / first, "<= 1.1")
    print(f"write-back: {written} rows written in {writes} requests, {reads} range reads")


if __name__ == "__main__":
    main()
