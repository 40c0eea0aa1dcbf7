"""Fuzz POST /lead_allocation/webhook with schemathesis, from the OpenAPI description the
module serves (GET /lead_allocation/webhook/openapi.json), on a server with 2 workers.

Positive and negative cases, JSON and form bodies, with a valid API key (and a batch
without any key). Every response goes through all of schemathesis' checks (no 5xx,
documented status codes, content types, headers and schemas, and the checks that send
variants of the request: without authentication, without required headers, other
methods...); and a request answered with anything but 201 must leave the database as it
was (no lead, partner, tag or UTM record created).

Run by ``bench/run`` (or ``bench/run webhook_fuzz``); prints the number of requests (at
least FUZZ_MIN_REQUESTS, default 1,000), exits non-zero on a failure. FUZZ_EXAMPLES sets the
examples per batch (default 300).
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
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.modes import GenerationMode

from odoo import Command

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
MIN_REQUESTS = int(os.environ.get("FUZZ_MIN_REQUESTS", "1000"))
PATH = "/lead_allocation/webhook"
load_all_checks()
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]
# Schema-valid data the webhook may still refuse, as documented: 409 (a key already used
# with other data) and 422 (a user_id or team_id that does not exist or cannot be used).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2XX", "401", "403", "409", "422"]}
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


def fuzz(base, operation, cr, label, mode, media_type, headers):
    stats, failures = Counter(), []

    @settings(
        max_examples=EXAMPLES,
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
        before = counts(cr)
        try:
            response = case.call(base_url=base, headers=headers, timeout=30)
        except (ValueError, UnicodeError):  # not sendable (e.g. a header value)
            stats["not sent"] += 1
            return
        stats[response.status_code] += 1
        try:
            case.validate_response(response, checks=ALL_CHECKS, headers=headers)
        except (Exception, FailureGroup) as error:  # every check failure is reported
            failures.append(f"{response.status_code} {case.body!r:.200}: {error!s:.300}")
        after = counts(cr)
        created = {table: after[table] - before[table] for table in TABLES}
        if response.status_code != 201 and any(created.values()):
            failures.append(f"{response.status_code} left {created} behind: {case.body!r:.200}")

    run()
    print(
        f"{label}: {sum(stats.values())} requests, statuses {dict(sorted(stats.items(), key=str))}"
        f", {len(failures)} failure(s)",
        flush=True,
    )
    for failure in failures[:10]:
        print("  FAIL", failure, flush=True)
    return stats, failures


def main():
    key = setup()
    totals, failed = Counter(), 0
    with server(workers=2) as base:
        schema = schemathesis.openapi.from_url(f"{base}{PATH}/openapi.json", config=CONFIG)
        operation = schema[PATH]["POST"]
        cnx = psycopg2.connect(dbname=DB)
        cnx.autocommit = True
        auth = {"Authorization": f"Bearer {key}"}
        batches = [
            (f"{mode.value} {media_type}", mode, media_type, auth)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for media_type in ("application/json", "application/x-www-form-urlencoded")
        ]
        batches.append(
            ("no API key", GenerationMode.POSITIVE, "application/json", {"Authorization": ""})
        )
        with cnx.cursor() as cr:
            for label, mode, media_type, headers in batches:
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
