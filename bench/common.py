"""Helpers of the benchmarks (run by bench/run, which sets BENCH_DB and the PG* variables)."""

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config

DB = os.environ["BENCH_DB"]
config.parse_config(
    [
        "--db_host",
        os.environ.get("PGHOST", "127.0.0.1"),
        "--db_port",
        os.environ.get("PGPORT", "5432"),
        "--db_user",
        os.environ.get("PGUSER", "root"),
        "--addons-path",
        os.environ["BENCH_ADDONS_PATH"],
        "--http-interface",
        "127.0.0.1",
        "--log-level",
        "warn",
    ],
    setup_logging=True,
)
if os.environ.get("PGPASSWORD"):
    config["db_password"] = os.environ["PGPASSWORD"]


@contextlib.contextmanager
def environment(uid=SUPERUSER_ID, context=None):
    """An Odoo environment on the benchmark database; commits on success."""
    registry = Registry(DB)
    with registry.cursor() as cr:
        yield api.Environment(cr, uid, context or {})


def sales_team(env, name, weights):
    """A sales team of new salespeople with ``weights``, the only ones in the rotation (the
    tests' ``create_team``); returns the team and the users."""
    from odoo.addons.lead_allocation.tests.common import create_team

    env["res.users"].search([("allocation_weight", ">", 0)]).allocation_weight = 0
    users, team = create_team(env, name, weights)
    return team, users


def timed(func, repeat=3):
    """Best wall time of ``repeat`` runs of ``func()`` (noise on shared machines is one-sided)."""
    best = None
    for _i in range(repeat):
        start = time.perf_counter()
        func()
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    return best


def report(name, label_a, seconds_a, label_b, seconds_b, goal=None, size="", at_least=False):
    """Print both measures and their ratio ``a / b`` on one line; keep it for the table."""
    ratio = seconds_a / seconds_b
    sign = ">=" if at_least else "<="
    verdict = "" if goal is None else f"  (goal {sign} {goal})"
    print(
        f"{name}: {label_a} {seconds_a:.3f}s vs {label_b} {seconds_b:.3f}s"
        f" -> ratio {ratio:.3f}{verdict}",
        flush=True,
    )
    record(name, size, ratio, "" if goal is None else f"{sign} {goal}")
    return ratio


def record(scenario, size, ratio, goal):
    """Keep a row of the summary table that ``bench/run all`` prints (bench/table.py)."""
    path = os.environ.get("BENCH_RESULTS")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps([scenario, size, round(ratio, 3), goal]) + "\n")


def rotation_balance(team_id, agents, weights):
    """How the committed round-robin leads of the team's pool stand against its rotation.

    Returns ``(counts, draws, waiting, deviation)``: the committed leads per agent, the
    draws of the rotation (as its newest state says, the tickets of requests that ended
    settled), those given back by failed requests and waiting for the pool's next leads,
    and the largest deviation of the committed counts from the exact weighted shares.
    Nothing lost, nothing doubled: ``draws == counts + waiting``, per agent.
    """
    with environment() as env:
        env.cr.execute(
            "SELECT user_id, count(*) FROM crm_lead WHERE team_id = %s"
            " AND allocation_method = 'round_robin' GROUP BY user_id",
            (team_id,),
        )
        counts = dict.fromkeys(agents, 0) | dict(env.cr.fetchall())
        team = env["crm.team"].browse(team_id)
        # the newest state, the tickets of the requests that ended settled
        key = f"{team.company_id.id or env.company.id}-{team_id}"
        rotation = env["lead.allocation.state"]._read([key])[key]
    total = sum(counts.values())
    deviation = max(
        abs(counts[agent] - total * weight / sum(weights))
        for agent, weight in zip(agents, weights, strict=True)
    )
    draws = {agent: rotation.counts.get(agent, 0) for agent in agents}
    waiting = {agent: rotation.returned.count(agent) for agent in agents}
    return counts, draws, waiting, deviation


def answered(response):
    """None when ``response`` is a 200 or a 201, else what is wrong."""
    if response.status_code not in (200, 201):
        return f"{response.status_code} {response.text[:200]}"
    return None


def measure(call, indexes, clients, label="request", check=answered):
    """Wall time and per-request latencies of ``call(i)`` for ``indexes``, ``clients`` at
    once; raises when ``check(response)`` says an answer is wrong."""
    latencies, errors = [], []

    def one(i):
        start = time.perf_counter()
        response = call(i)
        latencies.append(time.perf_counter() - start)
        if error := check(response):
            errors.append(f"{label} {i}: {error}")

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, indexes))
    elapsed = time.perf_counter() - start
    if errors:
        raise RuntimeError("\n".join(errors[:5]))
    return elapsed, latencies


def percentile(values, pct):
    values = sorted(values)
    return values[min(len(values) - 1, round(pct / 100 * (len(values) - 1)))]


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def server(workers=2):
    """Serve the benchmark database with ``workers`` HTTP workers; yields the base URL."""
    with server_process(workers) as (base, _proc):
        yield base


@contextlib.contextmanager
def server_process(workers=2):
    """Like ``server``; yields the base URL and the server's (master) process."""
    port, gevent_port = _free_port(), _free_port()
    args = [
        os.environ["ODOO_BIN"],
        "server",
        "-d",
        DB,
        "--db-filter",
        f"^{DB}$",
        "--addons-path",
        os.environ["BENCH_ADDONS_PATH"],
        "--db_host",
        config["db_host"],
        "--db_port",
        str(config["db_port"]),
        "--db_user",
        config["db_user"],
        "--http-interface",
        "127.0.0.1",
        "--http-port",
        str(port),
        "--gevent-port",
        str(gevent_port),
        "--workers",
        str(workers),
        "--max-cron-threads",
        "0",
        "--log-level",
        "warn",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=sys.stderr)
    base = f"http://127.0.0.1:{port}"
    try:
        for _i in range(120):
            try:
                urllib.request.urlopen(base + "/web/health", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            raise RuntimeError("the Odoo server did not start")
        yield base, proc
    finally:
        proc.terminate()
        proc.wait(30)


__all__ = [
    "environment",
    "measure",
    "odoo",
    "percentile",
    "record",
    "report",
    "rotation_balance",
    "server",
    "server_process",
    "statistics",
    "timed",
]
