"""The webhook when PostgreSQL drops the request's connection, for real.

The requests of this class run as in production: the registry is not in test mode, so
each request opens its own connection from Odoo's pool and commits (the test data is
committed too, and removed at the end). A hook in the lead creation of the request
terminates that connection's backend with ``pg_terminate_backend``, from the connection
itself or from another one, before or after the lead is written, or just before Odoo
commits; everything after it (psycopg2, the ORM, Odoo's request loop) is the real code.
"""

import json
from unittest.mock import patch

from odoo import SUPERUSER_ID, api
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from ..models import ir_http
from ..models.ir_http import RETRY_AFTER_SECONDS

URL = "/lead_allocation/webhook"


@tagged("post_install", "-at_install")
class TestWebhookDatabaseFaults(HttpCase):
    registry_test_mode = False  # real cursors and commits, as in production

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        with cls.registry.cursor() as cr:  # committed: requests see it
            env = api.Environment(cr, SUPERUSER_ID, {})
            user = new_test_user(
                env,
                "la_fault_integration",
                groups="sales_team.group_sale_salesman_all_leads",
                name="Fault Integration",
            )
            cls.integration_id = user.id
            # sudo: a key for the test's integration user
            cls.key = env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "t", None)
        cls.addClassCleanup(cls._remove_committed_data)

    @classmethod
    def _remove_committed_data(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            env["crm.lead"].search([("intake_external_id", "like", "fault-%")]).unlink()
            user = env["res.users"].browse(cls.integration_id)
            env["res.users.apikeys"].search([("user_id", "=", user.id)]).unlink()
            user.active = False

    def _committed(self, key):
        """Leads with idempotency key ``key``, read on a fresh connection."""
        with self.registry.cursor() as cr:
            cr.execute(SQL("SELECT id FROM crm_lead WHERE intake_external_id = %s", key))
            return [row[0] for row in cr.fetchall()]

    def post(self, key):
        body = {"name": f"Lead {key}", "user_id": self.integration_id}
        return self.url_open(
            URL,
            data=json.dumps(body),
            headers={
                "Authorization": f"Bearer {self.key}",
                "Content-Type": "application/json",
                "Idempotency-Key": key,
            },
        )

    def _terminating(self, when, by):
        """Patch the lead creation of the intake to kill its own connection ``when``:
        "before" or "after" the lead is written (the handler then queries again), or
        "at commit" (the handler returns; Odoo's commit finds the connection dead)."""
        Intake = self.registry["lead.allocation.intake"]
        create = Intake._create

        def terminate(env):
            env.cr.execute("SELECT pg_backend_pid()")
            pid = env.cr.fetchone()[0]
            if by == "itself":
                env.cr.execute(SQL("SELECT pg_terminate_backend(%s)", pid))
            else:
                with self.registry.cursor() as other:
                    other.execute(SQL("SELECT pg_terminate_backend(%s)", pid))
                if when != "at commit":
                    env.cr.execute("SELECT 1")  # the handler's next query

        def hooked(intake, values_list, *args):
            if when == "before":
                terminate(intake.env)
            leads = create(intake, values_list, *args)
            intake.env.flush_all()
            terminate(intake.env)
            return leads

        return patch.object(Intake, "_create", hooked)

    def test_lost_connection_answers_503_and_a_retry_creates_one_lead(self):
        cases = [
            (when, by) for when in ("before", "after") for by in ("itself", "another connection")
        ]
        for when, by in [*cases, ("at commit", "another connection")]:
            key = f"fault-{when}-{by}".replace(" ", "-")
            with self.subTest(when=when, by=by):
                with (
                    self._terminating(when, by),
                    mute_logger("odoo.sql_db", "odoo.http", "odoo.service.model"),
                ):
                    response = self.post(key)
                self.assertEqual(response.status_code, 503, response.text)
                self.assertEqual(response.headers["Retry-After"], str(RETRY_AFTER_SECONDS))
                self.assertTrue(response.headers["Content-Type"].startswith("application/json"))
                error = response.json()["error"]
                self.assertEqual(error["code"], "database_unavailable")
                self.assertIn("same Idempotency-Key", error["message"])
                self.assertEqual(self._committed(key), [], "nothing was committed")

                # the database is back (a new connection): the retries make one lead
                first, again = self.post(key), self.post(key)
                self.assertEqual(first.status_code, 201, first.text)
                self.assertEqual(again.status_code, 200, again.text)
                self.assertEqual(first.json()["id"], again.json()["id"])
                self.assertEqual(self._committed(key), [first.json()["id"]])

    def test_odoo_alone_answers_500_html(self):
        """Odoo's own answer to the same fault, the add-on's handling turned off."""
        key = "fault-odoo-alone"
        with (
            self._terminating("after", "itself"),
            patch.object(ir_http, "database_fault", return_value=False),
            mute_logger("odoo.sql_db", "odoo.http", "odoo.service.model"),
        ):
            response = self.post(key)
        self.assertEqual(response.status_code, 500)
        self.assertTrue(response.headers["Content-Type"].startswith("text/html"))
        self.assertEqual(self._committed(key), [])
