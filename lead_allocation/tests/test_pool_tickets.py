"""The pool does not serialize the requests: a request draws its salespeople in a short
transaction of its own and runs on; what a failed request drew is given back to the next
leads (``lead.allocation.state._locked``). Real transactions on their own connections, on
committed data cleaned up afterwards (see ``real_transaction`` in common.py)."""

import os
import threading
import time
from collections import Counter
from contextlib import contextmanager, suppress

import psycopg2

from odoo import SUPERUSER_ID, api, sql_db
from odoo.orm.environments import Transaction
from odoo.tests import TransactionCase, tagged

from ..models import side_transaction
from .common import create_team, preview, real_transaction


@tagged("post_install", "-at_install")
class TestPoolTickets(TransactionCase):
    """Weights 1/1/1: the rotation gives the salespeople in turn, by id."""

    def setUp(self):
        super().setUp()
        with real_transaction(self.registry) as env:
            users, team = create_team(env, "Ticket", (1, 1, 1))
            self.user_ids, self.team_id = users.ids, team.id
        self.addCleanup(self._clean_up)

    def _clean_up(self):
        with real_transaction(self.registry) as env:
            env["crm.lead"].with_context(active_test=False).search(
                [("team_id", "=", self.team_id)]
            ).unlink()
            env["crm.team"].browse(self.team_id).unlink()
            env["res.users"].browse(self.user_ids).write({"allocation_weight": 0, "active": False})

    @contextmanager
    def _open_transaction(self):
        """A real transaction left open for the test to end: ``(cursor, environment)``;
        rolled back if the test did not end it."""
        cr = sql_db.db_connect(self.registry.db_name).cursor()
        try:
            cr.transaction = Transaction(self.registry)
            yield cr, api.Environment(cr, SUPERUSER_ID, {})
        finally:
            # rolls back what was not committed (a killed connection cannot)
            with suppress(psycopg2.OperationalError):
                cr.close()

    def _lead(self, env, name):
        return env["crm.lead"].create({"name": name, "team_id": self.team_id}).user_id.id

    def _committed_lead(self, name, timeout=10):
        """Create a lead in a new transaction, committed, in a thread: its salesperson,
        or None when it did not end within ``timeout`` seconds."""
        result = []

        def run():
            with real_transaction(self.registry) as env:
                result.append(self._lead(env, name))

        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout)
        return result[0] if result else None

    def _kill(self, cr):
        """Terminate the connection of ``cr`` (a worker killed, a connection lost) and
        wait until its server process is gone."""
        pid = cr._cnx.get_backend_pid()
        with real_transaction(self.registry) as env:
            env.cr.execute("SELECT pg_terminate_backend(%s)", (pid,))
        for _i in range(100):
            with real_transaction(self.registry) as env:
                env.cr.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
                if not env.cr.rowcount:
                    return
            time.sleep(0.05)
        self.fail(f"the server process {pid} did not end")

    def _committed_owners(self):
        with real_transaction(self.registry) as env:
            leads = env["crm.lead"].search([("team_id", "=", self.team_id)], order="id")
            return leads.mapped("user_id.id")

    def test_a_running_request_does_not_hold_the_pool(self):
        """While a request that drew a salesperson still runs, the next one draws the next
        salesperson and commits without waiting for it."""
        first, second, third = self.user_ids
        with self._open_transaction() as (cr, env):
            self.assertEqual(self._lead(env, "Running"), first)
            self.assertEqual(self._committed_lead("Meanwhile"), second, "it did not wait")
            cr.commit()
        self.assertEqual(self._committed_lead("After"), third)
        self.assertEqual(Counter(self._committed_owners()), Counter(self.user_ids))

    def test_a_failed_request_gives_its_salesperson_back(self):
        """Rolled back, or its connection killed: the salesperson it drew gets the next
        lead, and the saved leads are shared out as if it had never run."""
        first, second, third = self.user_ids
        with self._open_transaction() as (cr, env):
            self.assertEqual(self._lead(env, "Rolled back"), first)
            cr.rollback()
        self.assertEqual(self._committed_lead("Next"), first)
        with self._open_transaction() as (cr, env):
            self.assertEqual(self._lead(env, "Killed"), second)
            self._kill(cr)
        self.assertEqual(self._committed_lead("After the kill"), second)
        self.assertEqual(self._committed_lead("Then"), third)
        self.assertEqual(self._committed_owners(), [first, second, third])

    def test_a_rolled_back_savepoint_gives_its_salesperson_back(self):
        """A lead created in a savepoint rolled back (an import's failed row, a batch's
        refused item) does not use up its salesperson's turn, in a transaction that goes
        on and commits."""
        with self._open_transaction() as (cr, env):
            with self.assertRaises(ValueError), cr.savepoint():
                self._lead(env, "Refused")
                raise ValueError("the row is refused")
            self._lead(env, "Saved")
            cr.commit()
        self._committed_lead("Next")
        self.assertEqual(Counter(self._committed_owners()), Counter(self.user_ids[:2]))

    def test_daily_cap_counts_the_leads_of_running_requests(self):
        """A salesperson at their daily cap with a lead still being saved gets no more."""
        first, second, _third = self.user_ids
        with real_transaction(self.registry) as env:
            env["res.users"].browse(first).allocation_daily_cap = 1
        with self._open_transaction() as (cr, env):
            self.assertEqual(self._lead(env, "Running"), first)
            self.assertEqual(self._committed_lead("Meanwhile"), second)
            # the third is next, then the first again, but for their cap
            self.assertNotIn(first, [self._committed_lead(f"More {i}") for i in range(3)])
            cr.commit()

    def test_preview_after_the_last_lead(self):
        """The preview settles the tickets of the requests that ended, as the next draw
        does: a lead saved is counted once against its salesperson's daily cap."""
        first, second, third = self.user_ids
        with real_transaction(self.registry) as env:
            env["res.users"].browse(first).allocation_daily_cap = 2
        self.assertEqual(self._committed_lead("Saved"), first)
        with real_transaction(self.registry) as env:
            next_ids = preview(env, self.team_id, 3)
        self.assertEqual(next_ids, [second, third, first], "one lead of two for the first")

    def test_cleanup_keeps_the_claims_of_pending_tickets(self):
        """The cron prunes superseded states and the claims of settled tickets, never the
        claim of a ticket still pending: a saved lead's ticket stays pending until the
        next draw, which must still find it used."""
        first, second, _third = self.user_ids
        self.assertEqual(self._committed_lead("Saved"), first)
        self._clean_states()
        self.assertEqual(self._committed_lead("Next"), second, "the saved lead kept its turn")
        self._clean_states()
        with real_transaction(self.registry) as env:
            env.cr.execute("SELECT pending FROM lead_allocation_state")
            pending = {entry[0] for (entries,) in env.cr.fetchall() for entry in entries}
            env.cr.execute("SELECT id FROM lead_allocation_claim")
            claims = {claim_id for (claim_id,) in env.cr.fetchall()}
        self.assertLessEqual(claims, pending, "the claims of settled tickets are pruned")
        self.assertEqual(self._committed_owners(), [first, second])

    def _kept_backends(self):
        """Server process ids of the draw connections this process keeps idle, alive."""
        kept = side_transaction._kept.get((os.getpid(), self.registry.db_name), [])
        with real_transaction(self.registry) as env:
            env.cr.execute(
                "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)",
                ([cnx.get_backend_pid() for cnx, _used in kept if not cnx.closed],),
            )
            return {pid for (pid,) in env.cr.fetchall()}

    def test_the_draws_connection_is_kept_and_replaced_when_lost(self):
        """Lone requests draw on a connection kept between them, with the draw's statements
        prepared once; a kept connection that the server closed (a restart, the backend
        terminated) is replaced at the next draw, which the request does not notice."""
        first, second, third = self.user_ids
        self.assertEqual(self._committed_lead("One"), first)
        kept = self._kept_backends()
        self.assertTrue(kept, "the draw's connection is kept")
        self.assertEqual(self._committed_lead("Two"), second)
        self.assertLessEqual(self._kept_backends(), kept, "no new connection")
        with real_transaction(self.registry) as env:
            env.cr.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s) pid", (list(kept),))
        for _i in range(100):
            if not self._kept_backends():
                break
            time.sleep(0.05)
        self.assertEqual(self._committed_lead("After the restart"), third)
        self.assertTrue(self._kept_backends(), "a new connection replaced the lost one")
        self.assertEqual(self._committed_owners(), [first, second, third])

    def test_a_kept_connection_without_its_statements_is_replaced(self):
        """A kept connection whose prepared statements are gone (or no longer fit the
        tables after an upgrade) is closed at the next draw, which runs on a new one."""
        first, second, _third = self.user_ids
        self.assertEqual(self._committed_lead("One"), first)
        kept = side_transaction._kept[(os.getpid(), self.registry.db_name)]
        for connection, _used in kept:
            with connection.cursor() as cursor:
                cursor.execute("DEALLOCATE ALL")
        self.assertEqual(self._committed_lead("Two"), second)
        self.assertEqual(self._committed_owners(), [first, second])

    def test_a_failed_draw_frees_the_pool(self):
        """A side transaction that fails halfway is rolled back: the pool's lock is freed at
        once. After an error of the caller's its connection is kept for the next draw;
        after a database error it is closed. The rotation goes on as if neither ran."""
        first, second, _third = self.user_ids
        dbname = self.registry.db_name
        with self.assertRaises(ZeroDivisionError):
            with side_transaction.side_transaction(dbname, {}) as transaction:
                transaction.execute("SELECT pg_advisory_xact_lock(1, 2)")
                raise ZeroDivisionError
        with real_transaction(self.registry) as env:
            env.cr.execute("SELECT pg_try_advisory_xact_lock(1, 2)")
            self.assertTrue(env.cr.fetchone()[0], "the lock was freed")
        self.assertIn(transaction.connection.get_backend_pid(), self._kept_backends())
        self.assertEqual(self._committed_lead("Next"), first)
        with self.assertRaises(psycopg2.errors.UndefinedColumn):
            with side_transaction.side_transaction(dbname, {}) as transaction:
                transaction.execute("SELECT 1")
                transaction.commit("SELECT no_such_column")
        self.assertTrue(transaction.connection.closed, "closed after a database error")
        self.assertEqual(self._committed_lead("Then"), second)

    def _clean_states(self):
        with real_transaction(self.registry) as env:
            env["lead.allocation.state"]._gc_states()
