"""Fuzz POST /lead_allocation/webhook with schemathesis, from the OpenAPI description the
module serves (GET /lead_allocation/webhook/openapi.json), on a server with 2 workers.

Positive and negative cases, JSON and form bodies, with a valid API key (and a batch
without any key). Every response must: not be a 5xx, match the documented status codes,
content type and schemas; and a request answered with anything but 201 must leave the
database as it was (no lead, partner, tag or UTM record created).

Run by ``bench/run`` (or ``bench/run webhook_fuzz``); prints a summary, exits non-zero on a
failure. FUZZ_EXAMPLES sets the examples per batch (default 150).
"""

import os
import sys
import uuid
from collections import Counter

import psycopg2
import schemathesis
from common import DB, environment, server
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from odoo import Command

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
PATH = "/lead_allocation/webhook"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
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
        before = counts(cr)
        try:
            response = case.call(base_url=base, headers=headers, timeout=30)
        except (ValueError, UnicodeError):  # not sendable (e.g. a header value)
            stats["not sent"] += 1
            return
        stats[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as error:  # every check failure is reported
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
    return not failures


def main():
    key = setup()
    ok = True
    with server(workers=2) as base:
        schema = schemathesis.openapi.from_url(f"{base}{PATH}/openapi.json")
        operation = schema[PATH]["POST"]
        cnx = psycopg2.connect(dbname=DB)
        cnx.autocommit = True
        auth = {"Authorization": f"Bearer {key}"}
        with cnx.cursor() as cr:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for media_type in ("application/json", "application/x-www-form-urlencoded"):
                    label = f"{mode.value} {media_type}"
                    ok &= fuzz(base, operation, cr, label, mode, media_type, auth)
            ok &= fuzz(
                base,
                operation,
                cr,
                "no API key",
                GenerationMode.POSITIVE,
                "application/json",
                {"Authorization": ""},
            )
        cnx.close()
    print(f"webhook fuzz: {'no failure' if ok else 'FAILED'}", flush=True)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
