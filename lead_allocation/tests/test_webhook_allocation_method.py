"""The webhook answers the ``allocation_method`` stored on the lead, whatever happened:
one case per value the webhook can produce, over real HTTP."""

from odoo.tests import new_test_user, tagged

from .common import TRUSTED, set_isolation
from .test_webhook import WebhookCase


@tagged("post_install", "-at_install")
class TestWebhookAllocationMethod(WebhookCase):
    def _created(self, body, key=None):
        response = self.post(body, key=key)
        self.assertEqual(response.status_code, 201, response.text)
        data = response.json()
        lead = self.env["crm.lead"].browse(data["id"])
        self.assertEqual(data["allocation_method"], lead.allocation_method)
        self.assertEqual(data["user_id"], lead.user_id.id or None)
        self.assertTrue(lead.allocation_reason)
        return data, lead

    def test_webhook_and_round_robin(self):
        data, _lead = self._created({"name": "Named", "user_id": self.junior_1.id})
        self.assertEqual(
            (data["allocation_method"], data["user_id"]), ("webhook", self.junior_1.id)
        )
        data, _lead = self._created({"name": "Rotation", "team_id": self.team.id})
        self.assertEqual(
            (data["allocation_method"], data["user_id"]), ("round_robin", self.senior.id)
        )

    def test_creator_when_allocation_is_off(self):
        self.env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", False)
        data, lead = self._created({"name": "Kept"})
        self.assertEqual(
            (data["allocation_method"], data["user_id"]), ("creator", self.integration.id)
        )
        self.assertEqual(lead.allocation_reason, "Kept by its creator: automatic allocation is off")

    def test_creator_with_own_documents(self):
        own = new_test_user(
            self.env, "la_integration_own", groups="sales_team.group_sale_salesman", name="Own Int"
        )
        data, lead = self._created({"name": "Kept"}, key=self._api_key(own))
        self.assertEqual((data["allocation_method"], data["user_id"]), ("creator", own.id))
        self.assertEqual(
            lead.allocation_reason, "Kept by its creator: they may own only their own leads"
        )

    def test_creator_isolated_trusted_employee(self):
        trusted = new_test_user(
            self.env,
            "la_integration_te",
            groups=f"sales_team.group_sale_salesman_all_leads,{TRUSTED}",
            name="Trusted Int",
        )
        set_isolation(self.env, True)
        data, _lead = self._created({"name": "Kept"}, key=self._api_key(trusted))
        self.assertEqual((data["allocation_method"], data["user_id"]), ("creator", trusted.id))

    def test_unassigned_nobody_eligible(self):
        self.salespeople.allocation_weight = 0
        data, _lead = self._created({"name": "Nobody", "team_id": self.team.id})
        self.assertEqual((data["allocation_method"], data["user_id"]), ("unassigned", None))

    def test_capped(self):
        self.salespeople.allocation_daily_cap = 1
        methods = [
            self._created({"name": f"Lead {i}", "team_id": self.team.id})[0]["allocation_method"]
            for i in range(4)
        ]
        self.assertEqual(methods, ["round_robin"] * 3 + ["capped"])

    def test_replay_answers_the_stored_value(self):
        self.salespeople.allocation_weight = 0
        headers = {"Idempotency-Key": "nobody-1"}
        first = self.post({"name": "Nobody"}, headers=headers)
        again = self.post({"name": "Nobody"}, headers=headers)
        self.assertEqual((first.status_code, again.status_code), (201, 200))
        self.assertEqual(again.json()["allocation_method"], "unassigned")

    def test_openapi_lists_every_value(self):
        description = self.url_open("/lead_allocation/webhook/openapi.json").json()
        created = description["components"]["schemas"]["Created"]["properties"]
        methods = dict(self.env["crm.lead"]._fields["allocation_method"].selection)
        self.assertEqual(set(created["allocation_method"]["enum"]), set(methods))
        for method in methods:
            self.assertIn(f"{method}:", created["allocation_method"]["description"])
