import json

from odoo.tests import new_test_user, tagged

from ..intake import MAX_BATCH_ITEMS, MAX_BATCH_SIZE
from .test_allocation import assert_fair
from .test_webhook import WebhookCase

URL = "/lead_allocation/webhook/batch"


@tagged("post_install", "-at_install")
class TestWebhookBatch(WebhookCase):
    def post_batch(self, body, key=None, content_type="application/json", headers=None):
        headers = dict(headers or {}, Authorization=f"Bearer {key or self.key}")
        headers["Content-Type"] = content_type
        if not isinstance(body, str | bytes):
            body = json.dumps(body)
        return self.url_open(URL, data=body, headers=headers)

    def assertResults(self, response, status, statuses):
        self.assertEqual(response.status_code, status, response.text)
        results = response.json()["results"]
        self.assertEqual([result["status"] for result in results], statuses, results)
        return results

    def test_each_salesperson_is_told_once(self):
        """A batch tells each salesperson once: one message listing their leads, Odoo's
        own assignment message for a single lead; the single webhook tells as Odoo does."""
        response = self.post_batch(
            [
                {"name": "Digest 1", "user_id": self.junior_1.id},
                {"name": "Alone", "user_id": self.junior_2.id},
                {"name": "Digest 2", "user_id": self.junior_1.id},
            ]
        )
        self.assertResults(response, 201, [201, 201, 201])

        def told(user):
            return (
                self.env["mail.message"]
                .sudo()
                .search(
                    [
                        ("partner_ids", "in", user.partner_id.ids),
                        ("message_type", "=", "user_notification"),
                    ],
                    order="id",
                )
            )

        digest = told(self.junior_1)
        self.assertEqual(digest.mapped("subject"), ["You have been assigned 2 new leads"])
        self.assertFalse(digest.model, "about both leads, attached to neither")
        self.assertIn("Digest 1", digest.body)
        self.assertIn("Digest 2", digest.body)
        self.assertEqual(told(self.junior_2).mapped("subject"), ["You have been assigned to Alone"])
        self.post({"name": "Single", "user_id": self.junior_1.id})
        self.assertEqual(told(self.junior_1)[-1].subject, "You have been assigned to Single")

    def test_each_item_gets_its_own_result_in_order(self):
        """Created, replayed, conflicting and refused items side by side: one bad item
        refuses nothing else and leaves nothing behind; the answer is a 207."""
        first = self.post({"name": "Sent before", "external_id": "old-1"}).json()
        counts = self._counts()
        response = self.post_batch(
            [
                {"contact_name": "Ann", "team_id": self.team.id, "colour": "blue"},
                {"name": "To Jo", "user_id": self.junior_1.id, "external_id": "n-1"},
                {"description": "nothing to make a lead from", "tag_names": ["Bad 1"]},
                {"name": "Nobody", "user_id": 2**31 - 1, "tag_names": ["Bad 2"], "source": "B2"},
                {"name": "Sent before", "external_id": "old-1"},
                {"name": "Other data", "external_id": "old-1", "tag_names": ["Bad 3"]},
                "not an object",
                {"name": "Last", "team_id": self.team.id, "tag_names": ["Good"]},
            ]
        )
        results = self.assertResults(response, 207, [201, 201, 400, 422, 200, 409, 400, 201])
        leads = self.env["crm.lead"].browse([results[i]["id"] for i in (0, 1, 7)])
        self.assertEqual(leads.mapped("name"), ["Ann", "To Jo", "Last"])
        self.assertEqual(leads.ids, sorted(leads.ids), "created in the order of the array")
        self.assertEqual(
            {key: value for key, value in results[1].items() if key != "id"},
            {
                "status": 201,
                "user_id": self.junior_1.id,
                "allocation_method": "webhook",
                "ignored_fields": [],
                "agent_available": True,
                "external_id": "n-1",
            },
        )
        self.assertEqual(results[0]["ignored_fields"], ["colour"])
        self.assertEqual(results[0]["allocation_method"], "round_robin")
        self.assertIn(results[0]["user_id"], self.salespeople.ids)
        self.assertEqual(
            dict(results[4], status=201, external_id=None),
            dict(first, status=201, external_id=None),
        )
        errors = {
            i: (results[i]["error"]["code"], results[i]["error"]["field"]) for i in (2, 3, 5, 6)
        }
        self.assertEqual(
            errors,
            {
                2: ("missing_lead_data", None),
                3: ("invalid_agent", "user_id"),
                5: ("idempotency_conflict", "external_id"),
                6: ("invalid_body", None),
            },
        )
        self.assertTrue(all(results[i]["error"]["message"] for i in errors))
        after = self._counts()
        self.assertEqual(after["crm.lead"], counts["crm.lead"] + 3)
        self.assertEqual(after["crm.tag"], counts["crm.tag"] + 1)  # "Good" only
        self.assertEqual(after["utm.source"], counts["utm.source"])

    def test_common_status(self):
        """Items that all end alike answer with their common status."""
        batch = [{"name": f"Lead {i}", "external_id": f"c-{i}"} for i in range(3)]
        created = self.assertResults(self.post_batch(batch), 201, [201] * 3)
        counts = self._counts()
        replayed = self.assertResults(self.post_batch(batch), 200, [200] * 3)
        self.assertEqual(
            [result["id"] for result in replayed], [result["id"] for result in created]
        )
        refused = self.post_batch([{"name": 1}, {"phone": None}])
        self.assertResults(refused, 400, [400, 400])
        self.assertEqual(self._counts(), counts)

    def test_same_key_twice_in_one_batch(self):
        """A later item with the key of an earlier one is answered as its retry: the same
        lead (200) with the same data, 409 with other data; one lead is made."""
        counts = self._counts()
        response = self.post_batch(
            [
                {"name": "Twice", "external_id": "t-1", "team_id": self.team.id},
                {"name": "Twice", "external_id": "t-1", "team_id": self.team.id},
                {"name": "Not the same", "external_id": "t-1"},
                {"name": "Refused twice", "user_id": 2**31 - 1, "external_id": "t-2"},
                {"name": "Refused twice", "user_id": 2**31 - 1, "external_id": "t-2"},
            ]
        )
        results = self.assertResults(response, 207, [201, 200, 409, 422, 422])
        self.assertEqual(results[1]["id"], results[0]["id"])
        self.assertEqual(self._counts()["crm.lead"], counts["crm.lead"] + 1)

    def test_round_robin_fair_inside_and_across_batches(self):
        """One decision per pool for the whole batch, in the order of the array: every
        prefix of the leads, across several batches, stays within one lead of its share
        (weights 10/5/5); named agents and refused items do not move the rotation."""
        sequence = []
        for size in (7, 1, 13, 19, 4):
            batch = [
                {"name": f"RR {len(sequence)} {i}", "team_id": self.team.id} for i in range(size)
            ]
            batch[size // 2 : size // 2] = [
                {"name": "Named", "user_id": self.senior.id, "team_id": self.team.id},
                {"name": "Refused", "user_id": 2**31 - 1, "team_id": self.team.id},
            ]
            results = self.post_batch(batch).json()["results"]
            sequence += [
                result["user_id"]
                for result in results
                if result.get("allocation_method") == "round_robin"
            ]
        self.assertEqual(len(sequence), 44)
        assert_fair(self, self._weights(), sequence)

    def test_own_documents_user_in_a_batch(self):
        own = new_test_user(
            self.env, "la_own_batch", groups="sales_team.group_sale_salesman", name="Own Batch"
        )
        counts = self._counts()
        response = self.post_batch(
            [{"name": "Mine"}, {"name": "Theirs", "user_id": self.senior.id, "tag_names": ["T"]}],
            key=self._api_key(own),
        )
        results = self.assertResults(response, 207, [201, 403])
        self.assertEqual(results[0]["user_id"], own.id)
        self.assertEqual(results[1]["error"]["code"], "agent_not_allowed")
        self.assertIn("Sales / User: All Documents", results[1]["error"]["message"])
        self.assertEqual(self._counts()["crm.lead"], counts["crm.lead"] + 1)
        self.assertEqual(self._counts()["crm.tag"], counts["crm.tag"])

    def test_batch_refused_whole(self):
        counts = self._counts()
        lead = {"name": "x", "tag_names": ["Whole"]}
        cases = [
            ({"name": "x"}, "application/json", None, 400, "invalid_body"),
            ([], "application/json", None, 400, "empty_batch"),
            ("[{", "application/json", None, 400, "invalid_json"),
            ([lead] * (MAX_BATCH_ITEMS + 1), "application/json", None, 413, "too_many_items"),
            ([{"name": "x" * 60000}] * 90, "application/json", None, 413, "payload_too_large"),
            ("name=x", "application/x-www-form-urlencoded", None, 415, "unsupported_media_type"),
            ([lead], "application/json", {"Idempotency-Key": "k"}, 400,
             "idempotency_key_not_supported"),
        ]  # fmt: skip
        self.assertGreater(len(json.dumps(cases[4][0])), MAX_BATCH_SIZE)
        for body, content_type, headers, status, code in cases:
            with self.subTest(code=code):
                response = self.post_batch(body, content_type=content_type, headers=headers)
                self.assertError(response, status, code)
        response = self.post_batch([lead], key="wrong")
        self.assertError(response, 401, "invalid_api_key")
        self.assertEqual(self._counts(), counts)
        # an item over the single webhook's 64 KiB is refused alone
        response = self.post_batch([{"name": "x" * 70000}, {"name": "small"}])
        results = self.assertResults(response, 207, [413, 201])
        self.assertEqual(results[0]["error"]["code"], "payload_too_large")

    def test_openapi_describes_the_batch(self):
        spec = self.url_open("/lead_allocation/webhook/openapi.json").json()
        operation = spec["paths"][URL]["post"]
        self.assertLessEqual(
            {"200", "201", "207", "400", "401", "403", "409", "413", "415", "422", "503"},
            set(operation["responses"]),
        )
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        self.assertEqual(body["maxItems"], MAX_BATCH_ITEMS)
