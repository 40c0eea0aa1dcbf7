"""Soak: two Odoo servers (SOAK_WORKERS HTTP workers each, default 4) on one database.

SOAK_POSTS webhook posts (default 10,000) from SOAK_CLIENTS clients (default 32), split
between the servers (loopback only), each with its own Idempotency-Key and no agent (the
round robin of one team, weights 10/5/5, chooses). 10 % are sent twice with the same key:
half one after the other, half at once (one to each server). Meanwhile, at random moments,
an HTTP worker is killed (SIGKILL; SOAK_KILLS times, default 3) and every database
connection of the servers is terminated with ``pg_terminate_backend`` (SOAK_PG_TERMINATIONS
times, default 2); with a private PostgreSQL cluster (``PGPORT=<a closed port> bench/run
soak`` starts one, see bin/_runtime.py), PostgreSQL itself is restarted (``pg_ctl restart
-m fast``; SOAK_PG_RESTARTS times, default 1). The machine's own PostgreSQL is never
restarted. Clients retry with the same key on a broken connection, on ``503``
(after ``Retry-After``) and on any other 5xx or HTML page of Odoo (counted).

Prints posts, leads, lost, duplicated, 5xx, the round robin's deviation (the committed
leads per salesperson against the exact weighted share) and its balance (every draw of the
rotation is a committed lead, or was given back by a failed request and waits for the
pool's next lead), the worst deviation of a prefix of the leads by id (requests draw in
parallel, so ids follow the draws only up to the requests in flight), throughput, p50/p99
latency and the servers' memory (RSS of all their processes) after warm-up and at the end.
Goals: 0 lost, 0 duplicated, 0 5xx but the 503 answers, draws = leads + waiting, deviation
< 1 (plus one per lead waiting), memory flat.
Bounded: SOAK_TIME_LIMIT seconds (default 1800) for the posts; 20 tries per request.

Not part of ``bench/run`` without arguments: ``bench/run soak``.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import psutil
import psycopg2
import requests
from bench_webhook import post_webhook, setup
from common import DB, environment, percentile, rotation_balance, server_process

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bin"))
import _runtime  # bin/ is not a package

POSTS = int(os.environ.get("SOAK_POSTS", "10000"))
CLIENTS = int(os.environ.get("SOAK_CLIENTS", "32"))
WORKERS = int(os.environ.get("SOAK_WORKERS", "4"))
KILLS = int(os.environ.get("SOAK_KILLS", "3"))
PG_TERMINATIONS = int(os.environ.get("SOAK_PG_TERMINATIONS", "2"))
CLUSTER = os.environ.get("LEAD_ALLOCATION_PG_CLUSTER")  # set when bench/run started one
PG_RESTARTS = int(os.environ.get("SOAK_PG_RESTARTS", "1" if CLUSTER else "0"))
TIME_LIMIT = float(os.environ.get("SOAK_TIME_LIMIT", "1800"))
RESENT = 0.10
TRIES = 20
WARMUP = 40  # per server, to a named agent (the rotation is not advanced)
WEIGHTS = (10, 5, 5)  # bench_webhook.setup's agents
BROKEN = (requests.ConnectionError, requests.Timeout)


class Soak:
    def __init__(self, bases, key, team_id):
        self.bases, self.key, self.team_id = bases, key, team_id
        self.run = uuid.uuid4().hex[:8]
        self.lock = threading.Lock()
        self.stats = Counter()
        self.samples = []  # bodies of unexpected answers
        self.latencies = []
        self.answers = {}  # post index -> lead id answered
        self.done = 0
        self.deadline = time.monotonic() + TIME_LIMIT

    def key_of(self, i):
        return f"soak-{self.run}-{i}"

    def count(self, what, sample=None):
        with self.lock:
            self.stats[what] += 1
            if sample and len(self.samples) < 10:
                self.samples.append(sample)

    def send(self, i, server):
        """Post lead ``i`` until it gets a 200/201; its lead id (None if it gave up)."""
        fields = {"name": f"Soak lead {i}", "email_from": f"soak{i}@example.com"}
        fields["team_id"] = self.team_id
        for _try in range(TRIES):
            start = time.perf_counter()
            try:
                response = post_webhook(self.bases[server], self.key, fields, self.key_of(i))
            except BROKEN:
                self.count("broken connection")
                time.sleep(0.2)
                continue
            self.latencies.append(time.perf_counter() - start)
            self.count(response.status_code)
            if response.status_code in (200, 201):
                return response.json()["id"]
            if response.status_code == 503:
                time.sleep(float(response.headers.get("Retry-After", 1)))
                continue
            sample = f"{response.status_code} {response.headers.get('Content-Type')}"
            self.count("unexpected", f"{sample}: {response.text[:150]!r}")
            if response.status_code < 500 and "json" in response.headers.get("Content-Type", ""):
                return None  # the webhook's own refusal; an HTML page is Odoo's: retried
            time.sleep(0.5)
        self.count("gave up")
        return None

    def post(self, i, kind):
        if time.monotonic() > self.deadline:
            self.count("not sent (time limit)")
            return
        server = i % 2
        if kind == "parallel":
            with ThreadPoolExecutor(1) as twin:
                other = twin.submit(self.send, i, 1 - server)
                ids = {self.send(i, server), other.result()}
        else:
            ids = {self.send(i, server)}
            if kind == "sequential":
                ids.add(self.send(i, 1 - server))
        if len(ids) > 1:
            self.count("different ids for one key", f"post {i}: {ids}")
        with self.lock:
            self.answers[i] = ids.pop()
            self.done += 1


def rss(procs):
    """Resident memory (MiB) of the servers: masters, workers, gevent processes."""
    total = 0
    for proc in procs:
        master = psutil.Process(proc.pid)
        for each in [master, *master.children(recursive=True)]:
            try:
                total += each.memory_info().rss
            except psutil.NoSuchProcess:
                pass
    return total / 2**20


def kill_http_worker(procs):
    """SIGKILL one HTTP worker (a leaf process of a server that is not its gevent one)."""
    proc = random.choice(procs)
    workers = [
        child
        for child in psutil.Process(proc.pid).children(recursive=True)
        if not child.children() and "gevent" not in child.cmdline()
    ]
    victim = random.choice(workers)
    os.kill(victim.pid, signal.SIGKILL)
    return f"killed HTTP worker {victim.pid} (of {len(workers)})"


def terminate_connections():
    cnx = psycopg2.connect(dbname=DB)
    cnx.autocommit = True
    with cnx.cursor() as cr:
        cr.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB],
        )
        count = cr.fetchone()[0]
    cnx.close()
    return f"terminated {count} database connection(s)"


def restart_postgresql():
    """Restart the private cluster bench/run started (never the machine's PostgreSQL)."""
    data = os.path.join(CLUSTER, "data")
    pg_ctl = _runtime.server_binaries() / "pg_ctl"
    command = _runtime.as_cluster_owner([pg_ctl, "-D", data, "-m", "fast", "-w", "restart"])
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return f"restarted PostgreSQL ({time.perf_counter() - start:.1f} s)"


def faults(soak, procs, stop):
    """Inject the faults at random moments of the run."""
    events = ["kill"] * KILLS + ["pg"] * PG_TERMINATIONS + ["restart"] * PG_RESTARTS
    moments = sorted(random.uniform(0.1, 0.9) * POSTS for _e in events)
    random.shuffle(events)
    for moment, event in zip(moments, events, strict=True):
        while soak.done < moment and not stop.is_set():
            time.sleep(0.05)
        if stop.is_set():
            return
        inject = {
            "kill": lambda: kill_http_worker(procs),
            "pg": terminate_connections,
            "restart": restart_postgresql,
        }[event]
        print(f"  at post {soak.done}: {inject()}", flush=True)


def plan():
    """Post index -> once / sequential / parallel (10 % resent, half of them at once)."""
    kinds = ["once"] * POSTS
    resent = random.sample(range(POSTS), round(POSTS * RESENT))
    for n, i in enumerate(resent):
        kinds[i] = "parallel" if n % 2 else "sequential"
    return kinds


def outcome(soak, agents):
    with environment() as env:
        env.cr.execute(
            "SELECT id, intake_external_id, user_id FROM crm_lead"
            " WHERE intake_external_id LIKE %s ORDER BY id",
            [f"soak-{soak.run}-%"],
        )
        rows = env.cr.fetchall()
    by_key = Counter(key for _id, key, _user in rows)
    sent = {soak.key_of(i) for i in soak.answers}
    lost = len(sent - set(by_key))
    duplicated = sum(count - 1 for count in by_key.values())
    wrong = sum(1 for i, lead in soak.answers.items() if lead is None)
    counts, worst = dict.fromkeys(agents, 0), 0.0
    for n, (_id, _key, user) in enumerate(rows, start=1):
        counts[user] = counts.get(user, 0) + 1
        for agent, weight in zip(agents, WEIGHTS, strict=True):
            worst = max(worst, abs(counts[agent] - n * weight / sum(WEIGHTS)))
    return len(rows), lost, duplicated, wrong, worst


def main():
    if PG_RESTARTS and not CLUSTER:
        raise SystemExit("PostgreSQL restarts need a private cluster: PGPORT=<closed port>")
    random.seed(int(os.environ.get("SOAK_SEED", "11")))
    key, agents, team_id = setup()
    with ExitStack() as stack:
        started = [stack.enter_context(server_process(WORKERS)) for _server in range(2)]
        bases, procs = [base for base, _p in started], [proc for _b, proc in started]
        warm = {"name": "Soak warm-up", "user_id": agents[0], "team_id": team_id}
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda n: post_webhook(bases[n % 2], key, warm), range(2 * WARMUP)))
        memory_start = rss(procs)
        soak = Soak(bases, key, team_id)
        kinds = plan()
        stop = threading.Event()
        injector = threading.Thread(target=faults, args=(soak, procs, stop))
        injector.start()
        start = time.perf_counter()
        with ThreadPoolExecutor(CLIENTS) as pool:
            list(pool.map(soak.post, range(POSTS), kinds))
        elapsed = time.perf_counter() - start
        stop.set()
        injector.join()
        memory_end = rss(procs)
    leads, lost, duplicated, wrong, by_id = outcome(soak, agents)
    counts, draws, waiting, deviation = rotation_balance(team_id, agents, WEIGHTS)
    balanced = all(draws[agent] == counts[agent] + waiting[agent] for agent in agents)
    server_errors = sum(
        n for status, n in soak.stats.items() if isinstance(status, int) and status >= 500
    )
    five_xx = server_errors - soak.stats[503]
    requests_sent = sum(n for status, n in soak.stats.items() if isinstance(status, int))
    print(
        f"soak: {soak.done} posts ({sum(k != 'once' for k in kinds)} resent), {leads} leads, "
        f"{lost} lost, {duplicated} duplicated, {five_xx} 5xx (+ {soak.stats[503]} x 503 "
        f"retried), {soak.stats['broken connection']} broken connections retried, "
        f"round robin {list(counts.values())}: deviation {deviation:.3f}, "
        f"{sum(waiting.values())} given back and waiting, rotation draws "
        f"{list(draws.values())} {'= leads + waiting' if balanced else 'DIFFER'} "
        f"(worst deviation of a prefix of the leads by id: {by_id:.2f}), "
        f"{soak.done / elapsed:.1f} posts/s ({requests_sent} requests in {elapsed:.0f} s, "
        f"{CLIENTS} clients, 2 servers x {WORKERS} workers), "
        f"p50 {percentile(soak.latencies, 50) * 1000:.0f} ms, "
        f"p99 {percentile(soak.latencies, 99) * 1000:.0f} ms, "
        f"memory {memory_start:.0f} -> {memory_end:.0f} MiB "
        f"(x{memory_end / memory_start:.2f})",
        flush=True,
    )
    print(f"  statuses {dict(sorted(soak.stats.items(), key=str))}", flush=True)
    for sample in soak.samples:
        print("  unexpected:", sample, flush=True)
    ok = (
        soak.done == POSTS
        and not (lost or duplicated or five_xx or wrong)
        and balanced
        and deviation < 1 + sum(waiting.values())
        and not soak.stats["different ids for one key"]
    )
    print(
        "soak goals (0 lost, 0 duplicated, 0 5xx, every draw a lead or waiting, deviation < 1"
        f" + waiting): {'OK' if ok else 'FAILED'}"
    )
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
