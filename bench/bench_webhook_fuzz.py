"""Fuzz POST /lead_allocation/webhook and POST /lead_allocation/webhook/batch with
schemathesis, from the OpenAPI description the module serves
(GET /lead_allocation/webhook/openapi.json), on a server with 2 workers.

Positive and negative cases, JSON and form bodies (JSON arrays for the batch), with a valid
API key (and a run without any key). Every response goes through all of schemathesis'
checks (no 5xx, documented status codes, content types, headers and schemas, and the
checks that send variants of the request: without authentication, without required
headers, other methods...); and a request must leave the database as it was except for
the leads it answers as created (201, or the items of a batch answered 201): no lead,
partner, tag or UTM record created by a refused request or a refused item.

A batch of schema-valid and schema-invalid leads is answered 207 by design (each lead
gets its own result; one bad lead never refuses the others): 207 counts as a rejection
of negative data for the batch, as 413 does (more than 500 leads).

Run by ``bench/run`` (or ``bench/run webhook_fuzz``); prints the number of requests (at
least FUZZ_MIN_REQUESTS, default 1,000), exits non-zero on a failure. FUZZ_EXAMPLES sets the
examples per run of the single endpoint (default 300), FUZZ_BATCH_EXAMPLES per run of the
batch (default 150).
"""

import os
import sys
import uuid
from collections import Counter

import psycopg2
import schemathesis
from common import DB, environment, server
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.config._checks import NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode

from odoo import Command

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
BATCH_EXAMPLES = int(os.environ.get("FUZZ_BATCH_EXAMPLES", "150"))
MIN_REQUESTS = int(os.environ.get("FUZZ_MIN_REQUESTS", "1000"))
PATH = "/lead_allocation/webhook"
BATCH_PATH = "/lead_allocation/webhook/batch"
load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]
# Schema-valid data the webhook may still refuse, as documented: 409 (a key already used
# with other data) and 422 (a user_id or team_id that does not exist or cannot be used).
ACCEPTED = ["2XX", "401", "403", "409", "422"]
CONFIG = SchemathesisConfig.from_dict(
    {"checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}}
)
BATCH_CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            # 413: a lead over 64 KiB (the description cannot say it in JSON Schema)
            "positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "413"]},
            "negative_data_rejection": {
                "expected-statuses": [*NEGATIVE_DATA_REJECTION_EXPECTED_STATUSES, "413", "207"]
            },
        }
    }
)
TABLES = ("crm_lead", "res_partner", "crm_tag", "utm_source", "utm_medium", "utm_campaign")


def setup():
    with environment() as env:
        user = (
            env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Fuzz Integration",
                    "login": f"fuzz_integration_{uuid.uuid4().hex[:8]}",
                    "group_ids": [
                        Command.set([env.ref("sales_team.group_sale_salesman_all_leads").id])
                    ],
                }
            )
        )
        # sudo: a persistent key for the fuzzer's integration user
        return env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "fuzz", None)


def counts(cr):
    cr.execute(" UNION ALL ".join(f"SELECT count(*) FROM {table}" for table in TABLES))
    return dict(zip(TABLES, (row[0] for row in cr.fetchall()), strict=True))


def created_by(path, response):
    """The leads ``response`` says it created."""
    if path == PATH:
        return int(response.status_code == 201)
    try:
        results = response.json().get("results") or []
    except (ValueError, AttributeError):
        return 0
    return sum(1 for result in results if isinstance(result, dict) and result.get("status") == 201)


def fuzz(base, operation, cr, label, mode, media_type, headers):
    stats, failures = Counter(), []
    path = operation.path

    @settings(
        max_examples=EXAMPLES if path == PATH else BATCH_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, media_type=media_type))
    def run(case):
        key = (case.headers or {}).get("Idempotency-Key")
        if mode == GenerationMode.POSITIVE and key is not None and isinstance(case.body, dict):
            # documented: the header and the external_id field, when both sent, are equal
            case.body["external_id"] = key
        sent = headers
        if mode == GenerationMode.NEGATIVE and "Authorization" not in (case.headers or {}):
            sent = {}  # the case leaves the API key out on purpose: so does the request
        before = counts(cr)
        try:
            response = case.call(base_url=base, headers=sent, timeout=60)
        except (ValueError, UnicodeError):  # not sendable (e.g. a header value)
            stats["not sent"] += 1
            return
        stats[response.status_code] += 1
        try:
            case.validate_response(response, checks=ALL_CHECKS, headers=sent)
        except (Exception, FailureGroup) as error:  # every check failure is reported
            failures.append(f"{response.status_code} {case.body!r:.200}: {error!s:.300}")
        after = counts(cr)
        created = {table: after[table] - before[table] for table in TABLES}
        leads = created_by(path, response)
        if created["crm_lead"] != leads or (not leads and any(created.values())):
            failures.append(
                f"{response.status_code} answered {leads} lead(s) created but left {created}:"
                f" {case.body!r:.200}"
            )

    run()
    print(
        f"{label}: {sum(stats.values())} requests, statuses {dict(sorted(stats.items(), key=str))}"
        f", {len(failures)} failure(s)",
        flush=True,
    )
    for failure in failures[:10]:
        print("  FAIL", failure, flush=True)
    return stats, failures


def runs(base, key):
    """``(label, operation, mode, media type, headers)`` of each fuzz run."""
    url = f"{base}{PATH}/openapi.json"
    single = schemathesis.openapi.from_url(url, config=CONFIG)[PATH]["POST"]
    batch = schemathesis.openapi.from_url(url, config=BATCH_CONFIG)[BATCH_PATH]["POST"]
    auth = {"Authorization": f"Bearer {key}"}
    no_key = {"Authorization": ""}
    json_type, form_type = "application/json", "application/x-www-form-urlencoded"
    positive, negative = GenerationMode.POSITIVE, GenerationMode.NEGATIVE
    return [
        *(
            (f"{PATH} {mode.value} {media_type}", single, mode, media_type, auth)
            for mode in (positive, negative)
            for media_type in (json_type, form_type)
        ),
        (f"{PATH} no API key", single, positive, json_type, no_key),
        *(
            (f"{BATCH_PATH} {mode.value}", batch, mode, json_type, auth)
            for mode in (positive, negative)
        ),
        (f"{BATCH_PATH} no API key", batch, positive, json_type, no_key),
    ]


def main():
    key = setup()
    totals, failed = Counter(), 0
    with server(workers=2) as base:
        cnx = psycopg2.connect(dbname=DB)
        cnx.autocommit = True
        with cnx.cursor() as cr:
            for label, operation, mode, media_type, headers in runs(base, key):
                stats, failures = fuzz(base, operation, cr, label, mode, media_type, headers)
                totals.update(stats)
                failed += len(failures)
        cnx.close()
    sent = sum(n for status, n in totals.items() if isinstance(status, int))
    server_errors = sum(
        n for status, n in totals.items() if isinstance(status, int) and status >= 500
    )
    ok = not failed and not server_errors and sent >= MIN_REQUESTS
    print(
        f"webhook fuzz: {sent} requests (goal >= {MIN_REQUESTS}), {server_errors} 5xx, "
        f"{failed} failure(s), checks: {', '.join(check.__name__ for check in ALL_CHECKS)}"
        f" -> {'OK' if ok else 'FAILED'}",
        flush=True,
    )
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
