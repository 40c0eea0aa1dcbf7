import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.addons.base.models import ir_cron
from odoo.tests import tagged
from odoo.tools import mute_logger

from ..models.lead_allocation_sheet_sync import SYNC_LOCK_NAMESPACE
from .sheet_common import SheetCase, lead_row


@tagged("post_install", "-at_install")
class TestSheetSync(SheetCase):
    """The sync in the scheduled action: Sync now, batches committed, interrupted syncs
    continued, Google faults retried, failing sources backed off."""

    def test_sync_now_queues_and_the_scheduled_action_imports(self):
        self.sync()
        self.rows.extend(lead_row(i) for i in range(6, 10))  # 9 rows: batches of 4, 4, 1
        reads = self.google.count("values")
        action = self.source.action_sync_now()
        self.assertEqual(
            (action["params"]["title"], action["params"]["type"]), ("Sync queued", "info")
        )
        # nothing read nor imported in the request: the scheduled action is triggered
        self.assertEqual((self.google.count("values"), len(self.leads())), (reads, 5))
        self.assertTrue(self.source.sync_requested)
        cron = self.env.ref("lead_allocation.ir_cron_sync_lead_sheets")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        progress = []
        commit_progress = type(self.env["ir.cron"])._commit_progress

        def recording_commit_progress(cron, *args, **kwargs):
            cron.env.flush_all()
            cron.env.cr.execute(
                "SELECT sync_running, sync_rows_done, sync_rows_total "
                "FROM lead_allocation_sheet WHERE id = %s",
                [self.source.id],
            )
            progress.append(cron.env.cr.fetchone())
            return commit_progress(cron, *args, **kwargs)

        self.patch(type(self.env["ir.cron"]), "_commit_progress", recording_commit_progress)
        self.patch(type(self.Sync), "_chunk_size", 4)
        self.run_scheduled_action()  # the polling interval has not elapsed: queued anyway
        self.assertEqual(
            progress,
            [(False, 5, 5), (True, 0, 0), (True, 4, 9), (True, 8, 9), (True, 9, 9),
             (False, 9, 9)],
        )  # fmt: skip
        self.assertEqual(len(self.leads()), 9)
        self.assertFalse(self.source.sync_requested or self.source.sync_running)
        self.assertEqual(self.source.last_sync_state, "ok")
        self.assertTrue(self.source.last_sync_message.startswith("4 imported, "))

    def test_sync_now_while_a_sync_runs(self):
        with self.registry.cursor() as other:  # a sync holding the source's lock
            other.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [SYNC_LOCK_NAMESPACE, self.source.id]
            )
            action = self.source.action_sync_now()
        self.assertEqual(action["params"]["title"], "Sync already running")
        self.assertFalse(self.source.sync_requested)
        self.assertEqual(
            self.source.action_sync_now()["params"]["title"], "Sync queued"
        )  # the lock is free again

    def test_cron_syncs_due_sources_only(self):
        other = self.source.copy({"name": "Other sheet", "interval_minutes": 60})
        other.sudo().credentials_json = self.source.sudo().credentials_json
        other.last_sync_date = "2999-01-01 00:00:00"
        self.Sync._cron_sync()
        self.assertEqual(len(self.leads()), 5)
        self.assertFalse(self.leads(other))
        self.assertEqual(self.env.ref("lead_allocation.ir_cron_sync_lead_sheets").code,
                         "model._cron_sync()")  # fmt: skip

    def test_cron_commits_each_batch_and_resumes_when_out_of_time(self):
        self.rows.extend(lead_row(i) for i in range(6, 12))  # 11 rows: batches of 4, 4, 3
        commits = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            commits.append((processed, remaining))
            # the cron's time runs out after the second batch
            return 0 if len(commits) == 4 else 100

        Sync = self.Sync.with_context(cron_id=1)
        with (
            patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress),
            patch.object(type(self.Sync), "_chunk_size", 4),
        ):
            Sync._cron_sync()
            self.source.invalidate_recordset()
            # sources to do; sync started; two batches; the stopped source still to do
            self.assertEqual(commits, [(0, 1), (0, None), (0, None), (0, None), (0, 1)])
            self.assertEqual(len(self.leads()), 8)
            self.assertEqual(self.source.last_sync_state, "stopped")
            self.assertIn("Stopped after 8 of 11 rows", self.source.last_sync_message)
            self.assertIn("continues at its next run", self.source.last_sync_message)
            self.assertTrue(self.source.sync_running)
            self.assertEqual((self.source.sync_rows_done, self.source.sync_rows_total), (8, 11))
            Sync._cron_sync()  # due although its polling interval has not elapsed
        self.source.invalidate_recordset()
        self.assertEqual(len(self.leads()), 11)
        self.assertEqual(self.source.last_sync_state, "ok")
        self.assertFalse(self.source.sync_running)
        self.assertTrue(self.source.last_sync_message.startswith("11 imported, "))
        self.assertEqual(self.source.row_ids.mapped("sync_number"), [1] * 11)

    def test_interrupted_scheduled_sync_finishes_at_the_next_runs(self):
        """12 rows read 5 at a time, each run of the scheduled action out of time after one
        batch: the sync goes on at each next run (although the source polls every 15
        minutes) until the sheet is done."""
        self.rows.extend(lead_row(i) for i in range(6, 13))
        self.patch(type(self.Sync), "_chunk_size", 5)
        self.patch(ir_cron, "MIN_TIME_PER_JOB", 0)  # the run's time is up after one batch
        self.patch(ir_cron, "MIN_RUNS_PER_JOB", 1)
        imported = []
        for _run in range(4):
            self.run_scheduled_action()
            imported.append(len(self.leads()))
        self.assertEqual(imported, [5, 10, 12, 12])
        self.assertEqual(self.source.last_sync_state, "ok")
        self.assertEqual((self.source.sync_rows_done, self.source.sync_rows_total), (12, 12))
        self.assertEqual(self.env["crm.lead"].search_count([("name", "=like", "Lead %")]), 12)

    def test_crash_mid_sync_then_resume(self):
        self.rows.extend(lead_row(i) for i in range(6, 12))
        with patch.object(type(self.Sync), "_chunk_size", 3):
            # Google keeps failing from row 8: the batches before it are kept
            self.google.inject(500, times=100, from_row=8)
            with mute_logger("odoo.addons.lead_allocation.models.lead_allocation_sheet_sync"):
                self.sync()
            self.assertEqual(self.source.last_sync_state, "failed")
            self.assertIn("500 INTERNAL", self.source.last_sync_message)
            self.assertEqual(len(self.leads()), 6)
            self.google.clear_faults()
            # the process dies while creating the leads of the second batch
            self.rows.extend(lead_row(i) for i in range(12, 15))
            Sync = type(self.Sync)
            original = Sync._create_leads
            calls = []

            def crash(sync, source, pending, *args):
                calls.extend(pending[:1])
                if len(calls) == 2:
                    raise RuntimeError("worker killed")
                return original(sync, source, pending, *args)

            # (not assertRaises: it would roll back the whole block)
            with patch.object(Sync, "_create_leads", crash):
                try:
                    self.sync()
                except RuntimeError:
                    pass
                else:
                    self.fail("the sync did not crash")
            self.source.invalidate_recordset()
            self.assertEqual(len(self.leads()), 9)
            self.sync()
        names = self.leads().mapped("name")
        self.assertEqual(sorted(names), sorted(f"Lead {i}" for i in range(1, 15)))
        self.assertEqual(self.env["crm.lead"].search_count([("name", "=like", "Lead %")]), 14)

    def test_rate_limit_then_success(self):
        self.google.inject(429, times=2)
        self.google.inject(503, times=1, path="metadata")
        self.assertEqual(self.sync()["imported"], 5)
        self.assertEqual(self.source.last_sync_state, "ok")

    def test_failing_source_backs_off_then_recovers(self):
        source, host = self.unreachable_source()
        self.source.last_sync_date = fields.Datetime.now()  # the good source is not due
        attempts = self.count_attempts()
        with mute_logger("odoo.addons.lead_allocation.models.lead_allocation_sheet_sync"):
            self.Sync._cron_sync()
            self.assertEqual(len(attempts), 6)  # scheduled: 5 retries (backoff patched short)
            self.assertEqual(source.last_sync_state, "failed")
            self.assertEqual(
                source.last_sync_message,
                f"Google could not be reached at {host} (connection refused): check the "
                "server's internet access (DNS, firewall, proxy).",
            )
            delays = []
            for _run in range(8):
                delay = source.next_sync_date - source.last_sync_date
                delays.append(delay)
                self.Sync._cron_sync()  # not due: no attempt
                # the wait is over (the last try moved back in time)
                source.last_sync_date -= delay + timedelta(seconds=1)
                self.Sync._cron_sync()  # due: one more failure
        self.assertEqual(len(attempts), 6 * 9)
        self.assertEqual(source.failure_count, 9)
        minutes = [int(delay.total_seconds() // 60) for delay in delays]
        self.assertEqual(minutes, [30, 60, 120, 240, 480, 960, 1440, 1440])
        # fixed (the key of a reachable Google): Test connection ends the backoff
        source.credentials_input = json.dumps(self.google.service_account_info())
        self.assertEqual(source.action_test_connection()["params"]["type"], "success")
        self.assertEqual(source.failure_count, 0)
        self.assertEqual(source.next_sync_date, source.last_sync_date + timedelta(minutes=15))
        source.action_sync_now()  # a queued sync does not wait for the next sync date
        self.Sync._cron_sync()
        self.assertEqual((source.last_sync_state, source.imported_count), ("ok", 5))
