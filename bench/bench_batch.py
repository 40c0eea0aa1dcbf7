"""Batch intake over HTTP, on a server with 2 workers.

Three ways to send the same leads (half named to an agent, half left to the round robin of
a team with weights 10/5/5), with the same API key, the same concurrent clients, in
interleaved blocks:

- ``POST /lead_allocation/webhook/batch`` with 100 leads per request, each with its
  ``external_id`` (idempotent per lead);
- ``POST /json/2/crm.lead/create`` with ``vals_list`` of the same 100 leads (no
  idempotency, no per-lead result);
- ``POST /lead_allocation/webhook``, one lead per request (with its Idempotency-Key).

Prints leads per second of each, side by side, and two ratios: batch / json2 (goal >= 1.0)
and batch / single webhook (goal >= 5). Every batch must answer 201 with 100 created leads.
"""

import json
import uuid

import requests
from bench_webhook import lead_fields, post_webhook, setup
from common import environment, measure, percentile, server

CLIENTS = 4
BATCH_SIZE = 100
BATCHES = 4  # per endpoint and block
SINGLES = 50  # single webhook requests per block
WARMUP = 2  # requests per endpoint
BLOCKS = 4  # the endpoints alternate, in reversed order every other block


def post_batch(base, key, leads):
    return requests.post(
        f"{base}/lead_allocation/webhook/batch",
        data=json.dumps(leads),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=300,
    )


def post_json2(base, key, leads):
    return requests.post(
        f"{base}/json/2/crm.lead/create",
        data=json.dumps({"vals_list": leads}),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        timeout=300,
    )


def check_batch(response):
    if response.status_code != 201:
        return f"batch: {response.status_code} {response.text[:300]}"
    results = response.json()["results"]
    if len(results) != BATCH_SIZE or any(result["status"] != 201 for result in results):
        return f"batch: not every lead created: {response.text[:300]}"
    return None


def check_json2(response):
    if response.status_code != 200 or len(response.json()) != BATCH_SIZE:
        return f"json2: {response.status_code} {response.text[:300]}"
    return None


def check_single(response):
    if response.status_code != 201:
        return f"webhook: {response.status_code} {response.text[:300]}"
    return None


def endpoints(base, key, agents, team_id, run):
    """``{label: (leads per request, requests per block, call(first lead index), check)}``."""

    def leads(start, count, keyed):
        items = [lead_fields(i, agents, team_id) for i in range(start, start + count)]
        if keyed:
            for i, item in enumerate(items, start):
                item["external_id"] = f"batch-{run}-{i}"
        return items

    def single(i):
        return post_webhook(base, key, lead_fields(i, agents, team_id), f"single-{run}-{i}")

    return {
        "batch": (
            BATCH_SIZE,
            BATCHES,
            lambda i: post_batch(base, key, leads(i, BATCH_SIZE, True)),
            check_batch,
        ),
        "json2": (
            BATCH_SIZE,
            BATCHES,
            lambda i: post_json2(base, key, leads(i, BATCH_SIZE, False)),
            check_json2,
        ),
        "webhook": (1, SINGLES, single, check_single),
    }


def run_block(way, first, requests):
    """``measure`` of ``requests`` requests of ``way``, from lead index ``first``."""
    size, _count, call, check = way
    indexes = range(first, first + requests * size, size)
    return measure(call, indexes, CLIENTS, check=check)


def benchmark(base, key, agents, team_id):
    run = uuid.uuid4().hex[:8]
    ways = endpoints(base, key, agents, team_id, run)
    for way in ways.values():  # warm up both workers and caches
        run_block(way, 10_000_000, WARMUP)
    totals = dict.fromkeys(ways, 0.0)
    leads = dict.fromkeys(ways, 0)
    latencies = {label: [] for label in ways}
    for block in range(BLOCKS):
        order = list(ways.items())
        if block % 2:
            order.reverse()
        for label, way in order:
            size, count, _call, _check = way
            elapsed, lats = run_block(way, (block + 1) * 1_000_000, count)
            totals[label] += elapsed
            leads[label] += size * count
            latencies[label] += lats
    rates = {label: leads[label] / totals[label] for label in ways}
    for label in ways:
        size, count, _call, _check = ways[label]
        print(
            f"{label}: {leads[label]} leads in {BLOCKS * count} requests of {size}, "
            f"{CLIENTS} clients, 2 workers: {rates[label]:.1f} leads/s, "
            f"p50 {percentile(latencies[label], 50) * 1000:.0f} ms, "
            f"p99 {percentile(latencies[label], 99) * 1000:.0f} ms per request",
            flush=True,
        )
    vs_json2 = rates["batch"] / rates["json2"]
    vs_single = rates["batch"] / rates["webhook"]
    print(
        f"batch vs json2 vals_list (100 leads per request): throughput ratio {vs_json2:.3f}"
        f" (goal >= 1.0); batch vs single webhook: leads/s ratio {vs_single:.2f} (goal >= 5)",
        flush=True,
    )
    with environment() as env:
        count = env["crm.lead"].search_count([("intake_external_id", "like", f"batch-{run}-%")])
    expected = (BLOCKS * BATCHES + WARMUP) * BATCH_SIZE
    print(f"leads made by the batches: {count} (expected {expected})", flush=True)
    return count == expected


def main():
    key, agents, team_id = setup()
    with server(workers=2) as base:
        ok = benchmark(base, key, agents, team_id)
    if not ok:
        raise SystemExit("the batches did not make one lead per item")


if __name__ == "__main__":
    main()
