"""Races on real, committed data: parallel transactions on their own connections (see
``real_transaction`` and ``run_in_parallel`` in common.py), cleaned up afterwards."""

import json
import threading
import time
from collections import Counter
from fractions import Fraction
from functools import partial

from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, api, sql_db
from odoo.exceptions import ConcurrencyError
from odoo.orm.environments import Transaction
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..intake import parse_lead_payload
from ..models.lead_allocation_sheet_sync import SYNC_LOCK_NAMESPACE
from .common import create_team, real_transaction, run_in_parallel
from .fake_google import FakeGoogle
from .sheet_common import HEADERS, SHEET_KEY, lead_row


def replaying(func, cr, registry, tries=5):
    """``func(env)`` then commit; on ConcurrencyError roll back and call it again.

    A fresh transaction per try, as ``odoo.service.model.retrying`` does; the registry
    is passed in because the test thread holds the registry lock.
    """
    for tryno in range(1, tries + 1):
        cr.transaction = Transaction(registry)
        env = api.Environment(cr, SUPERUSER_ID, {})
        try:
            result = func(env)
            cr.commit()
            return result
        except ConcurrencyError:
            cr.rollback()
            if tryno == tries:
                raise
    return None


@tagged("post_install", "-at_install")
class TestAllocationConcurrency(TransactionCase):
    """Parallel transactions on real, committed data (separate connections).

    The test's own transaction writes nothing, so it holds no lock the others could wait on.
    """

    WORKERS = 4
    LEADS_PER_WORKER = 20

    def test_parallel_creations_share_one_rotation(self):
        ids = {}
        with real_transaction(self.registry) as env:
            users, team = create_team(env, "Parallel", (10, 5, 5, 2))
            ids = {"users": users.ids, "team": team.id}
        replays = Counter()

        def work(worker):
            for i in range(self.LEADS_PER_WORKER):
                for _attempt in range(5):
                    try:
                        with real_transaction(self.registry) as env:
                            env["crm.lead"].create(
                                {"name": f"P{worker}-{i}", "team_id": ids["team"]}
                            )
                        break
                    except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected):
                        replays[worker] += 1

        try:
            with mute_logger("odoo.sql_db"):
                run_in_parallel(*(partial(work, w) for w in range(self.WORKERS)))
            with real_transaction(self.registry) as env:
                env.cr.execute(
                    "SELECT user_id, count(*) FROM crm_lead WHERE team_id = %s GROUP BY user_id",
                    (ids["team"],),
                )
                counts = dict(env.cr.fetchall())
                key = f"{env.company.id}-{ids['team']}"
                rotation = env["lead.allocation.state"]._read([key])[key]
            # every draw is a saved lead, once each: no state of a parallel draw was lost
            self.assertEqual(rotation.counts, counts)
            self.assertEqual(rotation.returned, [])
            total = self.WORKERS * self.LEADS_PER_WORKER
            self.assertEqual(sum(counts.values()), total)
            weights = dict(zip(ids["users"], (10, 5, 5, 2), strict=True))
            for user_id, weight in weights.items():
                share = Fraction(total * weight, sum(weights.values()))
                self.assertLess(abs(counts.get(user_id, 0) - share), 1, (counts, weights))
            self.assertEqual(sum(replays.values()), 0, "no transaction had to be replayed")
        finally:
            with real_transaction(self.registry) as env:
                env["crm.lead"].with_context(active_test=False).search(
                    [("team_id", "=", ids["team"])]
                ).unlink()
                env["crm.team"].browse(ids["team"]).unlink()
                env["res.users"].browse(ids["users"]).write(
                    {"allocation_weight": 0, "active": False}
                )


@tagged("post_install", "-at_install")
class TestWebhookConcurrency(TransactionCase):
    """Two real transactions insert the same idempotency key at the same time.

    The test cursor of HttpCase runs every request in one transaction, so this test uses
    real database cursors (committed data, cleaned up afterwards) and replays on
    ConcurrencyError the way ``odoo.service.model.retrying`` does for every HTTP request
    (rollback, reset the transaction, call again). ``retrying`` itself is not called: in
    the test process its registry reset waits for the registry lock held by the tests.
    """

    def test_parallel_same_key_creates_one_lead(self):
        key = f"parallel-{time.time_ns()}"
        payload = parse_lead_payload({"name": "Parallel", "external_id": key})
        created = threading.Event()
        started = threading.Barrier(2, timeout=10)

        def handle(name, attempts, env):
            attempts.append(1)
            Intake = env["lead.allocation.intake"]
            if len(attempts) == 1:
                started.wait()  # both see no lead
                if name == "second":
                    created.wait(10)  # insert while the first is not yet committed
            lead, outcome = Intake._receive(payload)
            if outcome == "replayed":
                return lead.id, 200, len(attempts)
            if name == "first":
                created.set()
                time.sleep(0.5)  # the second insert waits on the unique index meanwhile
            return lead.id, 201, len(attempts)

        def run(name):
            with self.registry.cursor() as cr:
                return replaying(partial(handle, name, []), cr, self.registry)

        try:
            with mute_logger("odoo.sql_db", "odoo.service.model"):
                results = dict(
                    zip(
                        ("first", "second"),
                        run_in_parallel(partial(run, "first"), partial(run, "second"), timeout=30),
                        strict=True,
                    )
                )
            first_id, first_status, first_attempts = results["first"]
            second_id, second_status, second_attempts = results["second"]
            self.assertEqual((first_status, first_attempts), (201, 1))
            self.assertEqual((second_id, second_status), (first_id, 200))
            self.assertEqual(second_attempts, 2, "the second request was replayed once")
        finally:
            with real_transaction(self.registry, {"active_test": False}) as env:
                leads = env["crm.lead"].search([("intake_external_id", "=", key)])
                leads.unlink()
            self.assertEqual(len(leads), 1, "exactly one lead per key")

    def test_same_item_in_parallel_batches_creates_one_lead(self):
        """Two batches sharing an item, committed by parallel transactions: one lead for
        the shared key (the later batch replayed once finds it), the others all made."""
        key = f"batch-{time.time_ns()}"
        shared = {"name": "Shared", "external_id": key}
        batches = {
            name: [parse_lead_payload(data) for data in (shared, {"name": f"Own {name}"})]
            for name in ("first", "second")
        }
        created = threading.Event()
        started = threading.Barrier(2, timeout=10)

        def handle(name, attempts, env):
            attempts.append(1)
            if len(attempts) == 1:
                started.wait()  # both see no lead
                if name == "second":
                    created.wait(10)  # insert while the first is not yet committed
            received = env["lead.allocation.intake"]._receive_batch(batches[name])
            if name == "first":
                created.set()
                time.sleep(0.5)  # the second insert waits meanwhile
            return [(r.outcome, r.lead.id) for r in received], len(attempts)

        def run(name):
            with self.registry.cursor() as cr:
                return replaying(partial(handle, name, []), cr, self.registry)

        try:
            with mute_logger("odoo.sql_db", "odoo.service.model"):
                first, second = run_in_parallel(
                    partial(run, "first"), partial(run, "second"), timeout=30
                )
            (shared_first, own_first), first_attempts = first
            (shared_second, own_second), second_attempts = second
            self.assertEqual(
                (shared_first[0], own_first[0], first_attempts), ("created", "created", 1)
            )
            self.assertEqual(shared_second, ("replayed", shared_first[1]))
            self.assertEqual((own_second[0], second_attempts), ("created", 2))
        finally:
            with real_transaction(self.registry, {"active_test": False}) as env:
                leads = env["crm.lead"].search(
                    [
                        "|",
                        ("intake_external_id", "=", key),
                        ("name", "in", ("Own first", "Own second")),
                    ]
                )
                shared_leads = leads.filtered(lambda lead: lead.intake_external_id == key)
                leads.unlink()
            self.assertEqual(len(shared_leads), 1, "exactly one lead per key")


@tagged("post_install", "-at_install")
class TestSheetsConcurrency(TransactionCase):
    """Syncs of one source in parallel transactions, on real, committed data."""

    def _sync_in_new_transaction(self, source_id):
        with real_transaction(self.registry) as env:
            return env["lead.allocation.sheet"].browse(source_id)._sync()

    def test_parallel_syncs_import_each_row_once(self):
        rows = [list(HEADERS)] + [lead_row(i) for i in range(100, 140)]
        with FakeGoogle() as google:
            google.add_sheet(SHEET_KEY, "Parallel leads", rows)
            with real_transaction(self.registry) as env:
                env["ir.config_parameter"].set_param(
                    "lead_allocation.sheets_api_base", google.api_base
                )
                source_id = (
                    env["lead.allocation.sheet"]
                    .create(
                        {
                            "name": "Parallel sheet",
                            "spreadsheet": SHEET_KEY,
                            "credentials_input": json.dumps(google.service_account_info()),
                        }
                    )
                    .id
                )
            try:
                # a sync is running (it holds the lock): another one is refused at once
                with sql_db.db_connect(self.env.cr.dbname).cursor() as holder:
                    holder.execute(
                        "SELECT pg_advisory_xact_lock(%s, %s)", (SYNC_LOCK_NAMESPACE, source_id)
                    )
                    self.assertIsNone(self._sync_in_new_transaction(source_id))
                    holder.rollback()
                # two syncs started together: every row is imported once
                sync = partial(self._sync_in_new_transaction, source_id)
                results = run_in_parallel(sync, sync)
                self.assertEqual(sum(r["imported"] for r in results if r), 40, results)
                with real_transaction(self.registry) as env:
                    env.cr.execute(
                        "SELECT count(*), count(DISTINCT key), count(DISTINCT lead_id)"
                        " FROM lead_allocation_sheet_row"
                        " WHERE sheet_id = %s AND state = 'imported'",
                        (source_id,),
                    )
                    self.assertEqual(env.cr.fetchone(), (40, 40, 40))
            finally:
                with real_transaction(self.registry) as env:
                    source = env["lead.allocation.sheet"].browse(source_id)
                    source.row_ids.lead_id.unlink()
                    source.unlink()
                    env["ir.config_parameter"].set_param("lead_allocation.sheets_api_base", False)
