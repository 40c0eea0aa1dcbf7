"""One allocation pool under parallel load: does it serialize the workers?

Two servers on the benchmark database, one with 1 HTTP worker and one with 4, and two ways
to create the same leads, in interleaved blocks:

- ``pool``: ``POST /lead_allocation/webhook`` without an agent: every lead goes through the
  round robin of one team (weights 10/5/5), i.e. through the pool's lock;
- ``json2``: ``POST /json/2/crm.lead/create`` with the salesperson given: no pool at all,
  what the same server does when nothing is shared.

Prints:

1. with 16 clients on the 4-worker server, the share of samples of ``pg_stat_activity``
   (one every 10 ms) in which at least one backend waits on an advisory lock (the pool's:
   nothing else takes one here), and the average number of waiters (goal: <= 30 %);
2. the throughput of each way with 4 workers vs 1 worker (8 clients: the listen backlog
   of one worker), and the pool's ratio over json2's (goal: >= 0.90, within 10 %);
3. the fairness of the committed round-robin leads: per salesperson, the count against the
   exact share (goal: every deviation < 1, plus one per lead given back by a failed request
   and waiting for the pool's next lead), and that every draw of the rotation is a
   committed lead or waiting.
"""

import threading
import time
import uuid
from collections import Counter

import psycopg2
from bench_webhook import WEIGHTS, post_json2, post_webhook, setup
from common import DB, config, measure, percentile, rotation_balance, server

REQUESTS = 160  # per way, server and block
BLOCKS = 4
WARMUP = 16
CLIENTS = 8  # the throughput runs: a 1-worker server listens with a backlog of 8
WAITER_CLIENTS = 16
SAMPLE_EVERY = 0.01  # seconds


def lead(i, team_id, agent=None):
    fields = {
        "name": f"Pool bench lead {i}",
        "contact_name": f"Contact {i}",
        "email_from": f"pool{i}@example.com",
        "team_id": team_id,
    }
    if agent:
        fields["user_id"] = agent
    return fields


class WaiterSampler:
    """Samples ``pg_stat_activity`` of the benchmark database in a thread while in use."""

    def __init__(self):
        self.samples = []
        self.other_locks = Counter()  # waits on other locks: wait_event -> samples
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self):
        cnx = psycopg2.connect(
            dbname=DB,
            host=config["db_host"],
            port=config["db_port"],
            user=config["db_user"],
            password=config["db_password"] or None,
        )
        cnx.autocommit = True
        with cnx, cnx.cursor() as cr:
            while not self._stop.is_set():
                cr.execute(
                    "SELECT wait_event FROM pg_stat_activity WHERE datname = %s"
                    " AND wait_event_type = 'Lock'",
                    (DB,),
                )
                waits = [event for (event,) in cr.fetchall()]
                self.samples.append(waits.count("advisory"))
                self.other_locks.update(event for event in waits if event != "advisory")
                time.sleep(SAMPLE_EVERY)
        cnx.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main():
    key, agents, team_id = setup()
    run = uuid.uuid4().hex[:8]
    counter = iter(range(10**9))

    def ways(base):
        return {
            "pool": lambda i: post_webhook(base, key, lead(i, team_id), f"pool-{run}-{i}"),
            "json2": lambda i: post_json2(base, key, lead(i, team_id, agents[i % len(agents)])),
        }

    def batch(size):
        start = next(counter) * 10_000
        return range(start, start + size)

    with server(workers=1) as base1, server(workers=4) as base4:
        servers = {1: ways(base1), 4: ways(base4)}
        for by_way in servers.values():  # warm up every worker and its caches
            for call in by_way.values():
                measure(call, batch(WARMUP), WAITER_CLIENTS // 2)

        # 1. lock waiters: 16 clients on one pool, 4 workers
        with WaiterSampler() as sampler:
            elapsed, lats = measure(servers[4]["pool"], batch(REQUESTS * 2), WAITER_CLIENTS)
        samples = sampler.samples
        waiting = sum(1 for count in samples if count)
        share = 100.0 * waiting / len(samples)
        print(
            f"pool, {WAITER_CLIENTS} clients, 4 workers: {REQUESTS * 2 / elapsed:.1f} req/s, "
            f"p50 {percentile(lats, 50) * 1000:.0f} ms; a backend waited on the pool's lock in "
            f"{waiting} of {len(samples)} samples of pg_stat_activity: {share:.0f} % "
            f"(goal <= 30 %), {sum(samples) / len(samples):.2f} waiters on average; "
            f"waits on other locks: {dict(sampler.other_locks) or 'none'}",
            flush=True,
        )

        # 2. throughput with 4 workers vs 1
        totals = {(workers, way): 0.0 for workers in servers for way in servers[workers]}
        order = list(totals)
        for block in range(BLOCKS):
            for workers, way in order if block % 2 == 0 else reversed(order):
                elapsed, _lats = measure(servers[workers][way], batch(REQUESTS), CLIENTS)
                totals[workers, way] += elapsed
        rate = {item: BLOCKS * REQUESTS / seconds for item, seconds in totals.items()}
        ratios = {}
        for way in ("pool", "json2"):
            ratios[way] = rate[4, way] / rate[1, way]
            print(
                f"{way}, {CLIENTS} clients: 1 worker {rate[1, way]:.1f} req/s, "
                f"4 workers {rate[4, way]:.1f} req/s: 4-vs-1 ratio {ratios[way]:.2f}",
                flush=True,
            )
        print(
            f"pool's 4-vs-1 ratio over json2's: {ratios['pool'] / ratios['json2']:.3f} "
            "(goal >= 0.90)",
            flush=True,
        )

    # 3. fairness of what was committed
    counts, draws, waiting, deviation = rotation_balance(team_id, agents, WEIGHTS)
    print(
        f"committed round-robin leads: {sum(counts.values())}, per salesperson "
        f"{list(counts.values())} for weights {list(WEIGHTS)}: largest deviation from the "
        f"exact share {deviation:.2f} (goal < 1); rotation: {list(draws.values())} drawn, "
        f"{sum(waiting.values())} given back and waiting",
        flush=True,
    )
    if any(draws[agent] != counts[agent] + waiting[agent] for agent in agents):
        raise SystemExit("the rotation's draws are not the committed leads")
    if deviation >= 1 + sum(waiting.values()):
        raise SystemExit("the committed leads are not shared fairly")


if __name__ == "__main__":
    main()
