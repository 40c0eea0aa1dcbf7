"""Webhook intake over HTTP, on a server with 2 workers.

1. Real parallel requests (committed data):
   - the same Idempotency-Key sent by several clients at once creates exactly one lead,
     every other answer is a 200 with that lead (the unique index + replay);
   - requests without a key, all at once, create one lead each, shared out by the
     round robin of the team (weights 10/5/5).
2. Benchmark: ``POST /lead_allocation/webhook`` vs Odoo's own
   ``POST /json/2/crm.lead/create`` with the same leads (half named to an agent, half left
   to the round robin), the same API key, the same concurrent clients, interleaved blocks.
   Goal: throughput ratio (webhook / json2) >= 1.0, p99 latency ratio <= 1.5.
"""

import contextlib
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import requests
from common import environment, measure, percentile, server

from odoo import Command

CLIENTS = 4
REQUESTS = 400  # per endpoint
BLOCKS = 4  # alternate webhook / json2 blocks of REQUESTS / BLOCKS requests
WARMUP = 20
SAME_KEY_CLIENTS = 8
SAME_KEY_ROUNDS = 5
NO_KEY_REQUESTS = 40
WEIGHTS = (10, 5, 5)


def setup():
    with environment() as env:
        env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", True)
        Users = env["res.users"].with_context(no_reset_password=True)
        salesman = env.ref("sales_team.group_sale_salesman")
        integration = Users.create(
            {
                "name": "Bench Website Integration",
                "login": f"bench_integration_{uuid.uuid4().hex[:8]}",
                "group_ids": [
                    Command.set([env.ref("sales_team.group_sale_salesman_all_leads").id])
                ],
            }
        )
        agents = Users.create(
            [
                {
                    "name": f"Bench Agent {i}",
                    "login": f"bench_agent_{i}_{uuid.uuid4().hex[:8]}",
                    "group_ids": [Command.set([salesman.id])],
                    "allocation_weight": weight,
                }
                for i, weight in enumerate(WEIGHTS)
            ]
        )
        team = env["crm.team"].create(
            {"name": "Webhook Bench Team", "member_ids": [Command.set(agents.ids)]}
        )
        # sudo: a persistent key for the benchmark's integration user
        key = env["res.users.apikeys"].with_user(integration).sudo()._generate("rpc", "bench", None)
        return key, agents.ids, team.id


def lead_fields(i, agents, team_id):
    fields = {
        "name": f"Bench webhook lead {i}",
        "contact_name": f"Contact {i}",
        "email_from": f"contact{i}@example.com",
        "phone": f"+32 470 {i:06d}",
        "description": f"Wants a quote ({i})",
        "team_id": team_id,
    }
    if i % 2 == 0:
        fields["user_id"] = agents[i % len(agents)]
    return fields


def post_webhook(base, key, fields, idempotency_key=None):
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return requests.post(
        f"{base}/lead_allocation/webhook", data=json.dumps(fields), headers=headers, timeout=60
    )


def post_json2(base, key, fields):
    return requests.post(
        f"{base}/json/2/crm.lead/create",
        data=json.dumps({"vals_list": [fields]}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=60,
    )


def parallel(calls, clients=None):
    """Run the callables ``clients`` at a time (all at once by default); results in order.

    The server's listen backlog is 8 connections per worker: keep ``clients`` below 16.
    """
    clients = clients or len(calls)
    barrier = threading.Barrier(min(clients, len(calls)))

    def run(call):
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(5)
        return call()

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(run, calls))


def check_parallel(base, key, agents, team_id):
    ok = True
    for round_ in range(SAME_KEY_ROUNDS):
        idem = f"same-key-{uuid.uuid4().hex}"
        # a named agent: the round robin checked below is not advanced
        fields = lead_fields(10_000 + 2 * round_, agents, team_id)
        responses = parallel([partial(post_webhook, base, key, fields, idem)] * SAME_KEY_CLIENTS)
        statuses = sorted(r.status_code for r in responses)
        ids = {r.json()["id"] for r in responses if r.status_code in (200, 201)}
        with environment() as env:
            count = env["crm.lead"].search_count([("intake_external_id", "=", idem)])
        good = statuses == [200] * (SAME_KEY_CLIENTS - 1) + [201] and len(ids) == 1 and count == 1
        ok &= good
        print(
            f"same key x{SAME_KEY_CLIENTS} in parallel: statuses {statuses}, "
            f"{count} lead(s) in the database {'OK' if good else 'FAILED'}",
            flush=True,
        )
    responses = parallel(
        [
            partial(post_webhook, base, key, {"name": f"No key {i}", "team_id": team_id})
            for i in range(NO_KEY_REQUESTS)
        ],
        clients=SAME_KEY_CLIENTS,
    )
    statuses = [r.status_code for r in responses]
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    per_agent = dict.fromkeys(agents, 0)
    for response in responses:
        if response.status_code == 201:
            per_agent[response.json()["user_id"]] += 1
    expected = [NO_KEY_REQUESTS * w / sum(WEIGHTS) for w in WEIGHTS]
    fair = all(
        abs(per_agent[agent] - share) <= 1 for agent, share in zip(agents, expected, strict=True)
    )
    good = statuses.count(201) == NO_KEY_REQUESTS and len(ids) == NO_KEY_REQUESTS and fair
    ok &= good
    print(
        f"{NO_KEY_REQUESTS} requests without key in parallel: {statuses.count(201)} x 201, "
        f"{len(ids)} distinct leads, round robin {list(per_agent.values())} "
        f"(exact shares {expected}) {'OK' if good else 'FAILED'}",
        flush=True,
    )
    return ok


def benchmark(base, key, agents, team_id):
    run = uuid.uuid4().hex[:8]
    endpoints = {
        "webhook": lambda i: post_webhook(
            base, key, lead_fields(i, agents, team_id), f"bench-{run}-{i}"
        ),
        "json2": lambda i: post_json2(base, key, lead_fields(i, agents, team_id)),
    }
    for label, call in endpoints.items():  # warm up both workers and caches
        measure(call, range(100_000, 100_000 + WARMUP), CLIENTS, label)
    totals = dict.fromkeys(endpoints, 0.0)
    latencies = {label: [] for label in endpoints}
    size = REQUESTS // BLOCKS
    for block in range(BLOCKS):
        order = list(endpoints.items())
        if block % 2:
            order.reverse()
        for label, call in order:
            elapsed, lats = measure(call, range(block * size, (block + 1) * size), CLIENTS, label)
            totals[label] += elapsed
            latencies[label] += lats
    stats = {
        label: (
            REQUESTS / totals[label],
            percentile(latencies[label], 50),
            percentile(latencies[label], 99),
        )
        for label in endpoints
    }
    for label, (rps, p50, p99) in stats.items():
        print(
            f"{label}: {REQUESTS} leads, {CLIENTS} clients, 2 workers: {rps:.1f} req/s, "
            f"p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms",
            flush=True,
        )
    throughput = stats["webhook"][0] / stats["json2"][0]
    p99 = stats["webhook"][2] / stats["json2"][2]
    print(
        f"webhook vs json2: throughput ratio {throughput:.3f} (goal >= 1.0), "
        f"p99 ratio {p99:.3f} (goal <= 1.5)",
        flush=True,
    )
    return throughput >= 1.0 and p99 <= 1.5


def main():
    key, agents, team_id = setup()
    with server(workers=2) as base:
        parallel_ok = check_parallel(base, key, agents, team_id)
        benchmark(base, key, agents, team_id)
    if not parallel_ok:
        raise SystemExit("the parallel checks failed")


if __name__ == "__main__":
    main()
