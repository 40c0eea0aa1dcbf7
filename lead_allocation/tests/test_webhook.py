import json

from odoo.exceptions import AccessError, ConcurrencyError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from ..controllers.webhook import MAX_BODY_SIZE
from ..intake import parse_lead_payload
from .common import LeadAllocationCase, set_isolation

URL = "/lead_allocation/webhook"


class WebhookCase(HttpCase, LeadAllocationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.integration = new_test_user(
            cls.env,
            "la_integration",
            groups="sales_team.group_sale_salesman_all_leads",
            name="Website Integration",
        )
        cls.key = cls._api_key(cls.integration)

    @classmethod
    def _api_key(cls, user):
        return cls.env["res.users.apikeys"].with_user(user).sudo()._generate("rpc", "test", None)

    def post(self, body, key=None, content_type="application/json", headers=None):
        headers = dict(headers or {})
        if content_type:
            headers["Content-Type"] = content_type
        if key is not False:
            headers["Authorization"] = f"Bearer {key or self.key}"
        if content_type == "application/json" and not isinstance(body, str | bytes):
            body = json.dumps(body)
        return self.url_open(URL, data=body, headers=headers)

    def _counts(self):
        env = self.env(context=dict(self.env.context, active_test=False))
        return {
            model: env[model].search_count([])
            for model in (
                "crm.lead",
                "res.partner",
                "crm.tag",
                "utm.source",
                "utm.medium",
                "utm.campaign",
            )
        }

    def assertError(self, response, status, code, field=None):
        self.assertEqual(response.status_code, status, response.text)
        self.assertTrue(response.headers["Content-Type"].startswith("application/json"))
        error = response.json()["error"]
        self.assertEqual((error["code"], error["field"]), (code, field), error)
        self.assertTrue(error["message"])


@tagged("post_install", "-at_install")
class TestWebhook(WebhookCase):
    def test_assign_to_named_agent(self):
        """The named agent wins over weights and pause; the chatter names the integration."""
        self.junior_1.write({"allocation_paused": True, "allocation_weight": 0})
        response = self.post(
            {
                "name": "Quote for 40 seats",
                "email_from": "ann@buyer.example",
                "user_id": self.junior_1.id,
                "team_id": self.team.id,
                "favourite_colour": "blue",
            }
        )
        self.assertEqual(response.status_code, 201, response.text)
        data = response.json()
        lead = self.env["crm.lead"].browse(data["id"])
        self.assertEqual(
            data,
            {
                "id": lead.id,
                "user_id": self.junior_1.id,
                "allocation_method": "webhook",
                "ignored_fields": ["favourite_colour"],
                "agent_available": True,
            },
        )
        self.assertEqual(lead.user_id, self.junior_1)
        self.assertEqual(lead.allocation_method, "webhook")
        self.assertEqual(lead.create_uid, self.integration)
        self.assertEqual(lead.email_from, "ann@buyer.example")
        self.assertIn(
            "Assigned to Jo Junior by webhook (integration: Website Integration)",
            "".join(lead.message_ids.mapped("body")),
        )

    def test_round_robin_without_agent(self):
        response = self.post({"contact_name": "Ann Buyer", "team_id": self.team.id})
        self.assertEqual(response.status_code, 201, response.text)
        data = response.json()
        lead = self.env["crm.lead"].browse(data["id"])
        self.assertEqual(data["allocation_method"], "round_robin")
        self.assertIn(lead.user_id, self.salespeople)
        self.assertEqual(data["user_id"], lead.user_id.id)
        self.assertEqual(lead.allocation_method, "round_robin")
        self.assertEqual(lead.name, "Ann Buyer")
        self.assertEqual(data["ignored_fields"], [])

    def test_form_post(self):
        """Form tools send strings; tags and UTM records are found or created by name."""
        existing = self.env["crm.tag"].create({"name": "Website"})
        response = self.post(
            {
                "partner_name": "Buyer Ltd",
                "phone": "+32 2 555 00 00",
                "user_id": str(self.senior.id),
                "tag_names": "website, Hot lead",
                "source": "Landing page",
                "medium": "Form",
                "campaign": "Spring",
            },
            content_type=None,  # requests encodes the dict as a form
        )
        self.assertEqual(response.status_code, 201, response.text)
        lead = self.env["crm.lead"].browse(response.json()["id"])
        self.assertEqual(lead.user_id, self.senior)
        self.assertEqual(lead.name, "Buyer Ltd")
        self.assertIn(existing, lead.tag_ids)
        self.assertEqual(sorted(lead.tag_ids.mapped("name")), ["Hot lead", "Website"])
        self.assertEqual(
            (lead.source_id.name, lead.medium_id.name, lead.campaign_id.name),
            ("Landing page", "Form", "Spring"),
        )

    def test_idempotent_retry(self):
        body = {"name": "Retry me", "user_id": self.junior_2.id, "tag_names": ["Retry"]}
        first = self.post(body, headers={"Idempotency-Key": "order-1"})
        self.assertEqual(first.status_code, 201, first.text)
        counts = self._counts()
        for again in (
            self.post(body, headers={"Idempotency-Key": "order-1"}),
            self.post(dict(body, external_id="order-1")),
            self.post(
                {"name": "Retry me", "user_id": str(self.junior_2.id), "tag_names": "Retry"},
                content_type=None,
                headers={"Idempotency-Key": "order-1"},
            ),
        ):
            with self.subTest(body=again.request.body):
                self.assertEqual(again.status_code, 200, again.text)
                self.assertEqual(again.json(), first.json())
        self.assertEqual(self._counts(), counts)
        # a different lead under the same key is refused
        conflict = self.post(dict(body, name="Other"), headers={"Idempotency-Key": "order-1"})
        self.assertError(conflict, 409, "idempotency_conflict", "external_id")
        self.assertEqual(self._counts(), counts)
        # keys belong to one integration: another integration may use the same key
        other = new_test_user(
            self.env, "la_other_integration", groups="sales_team.group_sale_salesman_all_leads"
        )
        response = self.post(body, key=self._api_key(other), headers={"Idempotency-Key": "order-1"})
        self.assertEqual(response.status_code, 201, response.text)
        self.assertNotEqual(response.json()["id"], first.json()["id"])

    def test_unique_key_at_database_level(self):
        """A second insert of a key raises ConcurrencyError (the request is replayed)."""
        payload = parse_lead_payload({"name": "Once", "external_id": "k-1"})
        Intake = self.env["lead.allocation.intake"].with_user(self.integration)
        values = Intake._prepare_lead_values(payload)
        lead = Intake._create([values], "webhook", "test")
        counts = self._counts()
        with self.assertRaises(ConcurrencyError), Intake._savepoint({}):
            Intake._create([values], "webhook", "test")
        self.assertEqual(self._counts(), counts)
        self.assertEqual(Intake._find_existing_leads([payload]), {payload.external_id: lead.sudo()})

    def test_receive_says_what_happened(self):
        """The one intake entry point: created, replayed (same data), conflict (other data)."""
        Intake = self.env["lead.allocation.intake"].with_user(self.integration)
        payload = parse_lead_payload({"name": "Once", "external_id": "k-3"})
        lead, outcome = Intake._receive(payload)
        self.assertEqual(outcome, "created")
        self.assertEqual(Intake._receive(payload), (lead.sudo(), "replayed"))
        other = parse_lead_payload({"name": "Other", "external_id": "k-3"})
        counts = self._counts()
        self.assertEqual(Intake._receive(other), (lead.sudo(), "conflict"))
        self.assertEqual(self._counts(), counts)

    def test_receive_batch_refuses_items_alone(self):
        """One refused item (by the checks or at its creation) leaves nothing behind and
        does not stop the others, which keep their order."""
        Intake = self.env["lead.allocation.intake"].with_user(self.integration)
        payloads = [
            parse_lead_payload(data)
            for data in (
                {"name": "A", "team_id": self.team.id},
                {"name": "B", "user_id": 999999, "tag_names": ["Only B"]},
                {"name": "C", "team_id": self.team.id, "external_id": "b-1"},
            )
        ]
        received = Intake._receive_batch(payloads)
        self.assertEqual([r.outcome for r in received], ["created", "refused", "created"])
        self.assertEqual(received[1].error.code, "invalid_agent")
        self.assertEqual([r.lead.name for r in received if r.lead], ["A", "C"])
        self.assertEqual([r.outcome for r in Intake._receive_batch(payloads[2:])], ["replayed"])
        # refused at creation: a record rule the checks cannot foresee (on the name)
        self.env["ir.rule"].create(
            {
                "name": "No lead named Refused",
                "model_id": self.env["ir.model"]._get_id("crm.lead"),
                "domain_force": "[('name', '!=', 'Refused')]",
                "perm_read": False,
                "perm_write": False,
                "perm_unlink": False,
            }
        )
        payloads = [
            parse_lead_payload({"name": "Mine"}),
            parse_lead_payload({"name": "Refused", "user_id": self.senior.id, "tag_names": ["Y"]}),
        ]
        with mute_logger("odoo.addons.base.models.ir_rule"):
            received = Intake._receive_batch(payloads)
        self.assertEqual([r.outcome for r in received], ["created", "refused"])
        self.assertIsInstance(received[1].error, AccessError)
        self.assertEqual(received[0].lead.name, "Mine")
        self.assertFalse(self.env["crm.tag"].search([("name", "in", ("Only B", "Y"))]))
        self.assertFalse(self.env["crm.lead"].search([("name", "=", "Refused")]))

    def test_checks_query_count(self):
        """The checks done before creating a lead cost a fixed, small number of queries."""
        payload = parse_lead_payload(
            {"name": "x", "external_id": "k-2", "user_id": self.senior.id, "team_id": self.team.id}
        )
        Intake = self.env["lead.allocation.intake"].with_user(self.integration)

        def checks():
            Intake._find_existing_leads([payload])
            Check = Intake.env["lead.allocation.intake.check"]
            team = Check._team(payload.team_id)
            Check._agent(payload.user_id, Check._lead_company(team))

        checks()  # the first call fills the registry caches (access rights, rules)
        # idempotency key, team, agent (its all_group_ids domain reads the groups first)
        with self.assertQueryCount(4):
            checks()

    def test_authentication(self):
        cases = [
            (False, "missing_api_key"),
            ("not-a-key", "invalid_api_key"),
            (self.key + "x", "invalid_api_key"),
        ]
        for key, code in cases:
            with self.subTest(key=key):
                response = self.post({"name": "x"}, key=key)
                self.assertError(response, 401, code)
                self.assertEqual(response.headers.get("WWW-Authenticate"), "Bearer")
        response = self.url_open(
            URL, data="{}", headers={"Authorization": "Basic abc", "Content-Type": "x/y"}
        )
        self.assertError(response, 401, "invalid_api_key")

    def test_user_without_crm_rights(self):
        reader = new_test_user(self.env, "la_reader", groups="base.group_user")
        counts = self._counts()
        response = self.post({"name": "x"}, key=self._api_key(reader))
        self.assertError(response, 403, "forbidden")
        self.assertEqual(self._counts(), counts)

    def test_own_documents_user_names_another_agent(self):
        """An integration user with "Own Documents" (or an isolated Trusted Employee) who
        names another agent is refused before anything is created, with what to change."""
        own = new_test_user(
            self.env, "la_own", groups="sales_team.group_sale_salesman", name="Own Integration"
        )
        trusted = new_test_user(
            self.env,
            "la_trusted_integration",
            groups="sales_team.group_sale_salesman_all_leads,lead_allocation.group_trusted_employee",
            name="Trusted Integration",
        )
        set_isolation(self.env, True)
        cases = [
            (own, "give it the role Sales / User: All Documents"),
            (trusted, "remove its role Trusted Employee"),
        ]
        for user, change in cases:
            with self.subTest(user=user.name):
                counts = self._counts()
                response = self.post(
                    {"name": "x", "user_id": self.senior.id, "tag_names": ["New"], "source": "New"},
                    key=self._api_key(user),
                )
                self.assertError(response, 403, "agent_not_allowed", "user_id")
                message = response.json()["error"]["message"]
                self.assertIn(
                    f"The integration user {user.name} may only create leads for", message
                )
                self.assertIn(change, message)
                self.assertEqual(self._counts(), counts)
                # naming itself, or nobody, is allowed: the lead is its own
                for body in ({"name": "Mine", "user_id": user.id}, {"name": "Mine too"}):
                    response = self.post(body, key=self._api_key(user))
                    self.assertEqual(response.status_code, 201, response.text)
                    self.assertEqual(response.json()["user_id"], user.id)

    def test_invalid_agent(self):
        inactive = self._salesperson("la_gone", "Gone", 1)
        inactive.active = False
        other_company = self.env["res.company"].create({"name": "Other Company"})
        elsewhere = new_test_user(
            self.env,
            "la_elsewhere",
            groups="sales_team.group_sale_salesman",
            company_id=other_company.id,
            company_ids=[(6, 0, other_company.ids)],
        )
        agents = {
            "inactive": inactive.id,
            "portal": new_test_user(self.env, "la_portal", groups="base.group_portal").id,
            "no CRM access": new_test_user(self.env, "la_employee", groups="base.group_user").id,
            "other company": elsewhere.id,
            "missing": 2**31 - 1,
        }
        counts = self._counts()
        for label, user_id in agents.items():
            with self.subTest(agent=label):
                response = self.post(
                    {"name": "x", "user_id": user_id, "tag_names": "Fresh", "source": "Fresh"}
                )
                self.assertError(response, 422, "invalid_agent", "user_id")
        response = self.post({"name": "x", "team_id": 2**31 - 1, "tag_names": "Fresh"})
        self.assertError(response, 422, "invalid_team", "team_id")
        self.assertEqual(self._counts(), counts)
        # a Sales Administrator (implied Sales / User) is a valid agent
        response = self.post({"name": "x", "user_id": self.manager.id})
        self.assertEqual(response.status_code, 201, response.text)

    def test_bad_input_leaves_nothing_behind(self):
        counts = self._counts()
        cases = [
            ("{not json", "application/json", 400, "invalid_json", None),
            (b"\xff\xfe", "application/json", 400, "invalid_json", None),
            ("[1, 2]", "application/json", 400, "invalid_body", None),
            ("[" * 5000, "application/json", 400, "invalid_json", None),
            ({"description": "no contact"}, "application/json", 400, "missing_lead_data", None),
            ({"name": 12}, "application/json", 400, "invalid_type", "name"),
            ({"name": "x", "user_id": "seven"}, "application/json", 400, "invalid_type", "user_id"),
            ({"name": "x", "user_id": True}, "application/json", 400, "invalid_type", "user_id"),
            ({"name": "x\u0000"}, "application/json", 400, "invalid_value", "name"),
            ({"name": "x", "tag_names": {"a": 1}}, "application/json", 400, "invalid_type",
             "tag_names"),
            ("name=x&user_id=1&user_id=2", "application/x-www-form-urlencoded", 400,
             "invalid_type", "user_id"),
            ("name=x", "text/plain", 415, "unsupported_media_type", None),
            ("name=x", "multipart/form-data; boundary=x", 415, "unsupported_media_type", None),
            ({"name": "x" * MAX_BODY_SIZE}, "application/json", 413, "payload_too_large", None),
            ("name=" + "x" * MAX_BODY_SIZE, "application/x-www-form-urlencoded", 413,
             "payload_too_large", None),
        ]  # fmt: skip
        for body, content_type, status, code, field in cases:
            with self.subTest(code=code, body=str(body)[:40]):
                response = self.post(body, content_type=content_type)
                self.assertError(response, status, code, field)
        response = self.post({"name": "x", "external_id": "a"}, headers={"Idempotency-Key": "b"})
        self.assertError(response, 400, "idempotency_key_mismatch", "external_id")
        self.assertEqual(self._counts(), counts)

    def test_openapi_description(self):
        response = self.url_open(URL + "/openapi.json")
        self.assertEqual(response.status_code, 200)
        spec = response.json()
        operation = spec["paths"][URL]["post"]
        self.assertLessEqual(
            {"200", "201", "400", "401", "403", "409", "413", "415", "422"},
            set(operation["responses"]),
        )

    def test_names_are_not_patterns(self):
        """Tags and UTM records are found by their exact name: a trailing backslash, '%'
        or '_' are plain characters (they once broke the query or matched other names)."""
        self.env["utm.source"].create({"name": "Fair 2026"})
        self.env["crm.tag"].create({"name": "Hot lead"})
        for name in ("Fair \\", "Fair%", "Fair_2026", "Hot%"):
            with self.subTest(name=name):
                response = self.post({"name": "x", "source": name, "tag_names": [name]})
                self.assertEqual(response.status_code, 201, response.text)
                lead = self.env["crm.lead"].browse(response.json()["id"])
                self.assertEqual(lead.source_id.name, name)
                self.assertEqual(lead.tag_ids.mapped("name"), [name])
