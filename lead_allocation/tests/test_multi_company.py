import json

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestMultiCompany(HttpCase):
    """A Sales Administrator sees the Google Sheet sources of their companies only, with
    their columns and sync log; the same through the ORM and Odoo's JSON-2 API."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        cls.manager_b = new_test_user(
            cls.env,
            "la_manager_b",
            groups="sales_team.group_sale_manager",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.manager_ab = new_test_user(
            cls.env,
            "la_manager_ab",
            groups="sales_team.group_sale_manager",
            company_id=cls.company_a.id,
            company_ids=[(6, 0, (cls.company_a | cls.company_b).ids)],
        )
        cls.sheet_a = cls._sheet("Sheet of A", cls.company_a)
        cls.sheet_b = cls._sheet("Sheet of B", cls.company_b)

    @classmethod
    def _sheet(cls, name, company):
        sheet = cls.env["lead.allocation.sheet"].create(
            {
                "name": name,
                "company_id": company.id,
                "spreadsheet": f"key-{company.id}",
                "column_ids": [(0, 0, {"header": "Name", "field_name": "name"})],
            }
        )
        cls.env["lead.allocation.sheet.row"].create(
            [
                {
                    "sheet_id": sheet.id,
                    "key": f"{name}-{state}",
                    "state": state,
                    "date": fields.Datetime.now(),
                    "message": "bad row" if state == "error" else False,
                }
                for state in ("imported", "error")
            ]
        )
        return sheet

    def test_orm_search_and_read(self):
        models = {
            "lead.allocation.sheet": (self.sheet_a, self.sheet_b),
            "lead.allocation.sheet.column": (self.sheet_a.column_ids, self.sheet_b.column_ids),
            "lead.allocation.sheet.row": (self.sheet_a.row_ids, self.sheet_b.row_ids),
        }
        for model, (of_a, of_b) in models.items():
            with self.subTest(model=model):
                self.assertEqual(len(of_a), len(of_b))
                self.assertTrue(of_a)
                env_b = self.env(user=self.manager_b)
                found = env_b[model].search([("id", "in", (of_a | of_b).ids)])
                self.assertEqual(found, of_b.with_user(self.manager_b))
                with self.assertRaises(AccessError):
                    of_a.with_user(self.manager_b).read(["id"])
                of_b.with_user(self.manager_b).read(["id"])
                # a user of both companies, working in both, sees both
                env_ab = self.env(
                    user=self.manager_ab,
                    context={"allowed_company_ids": (self.company_a | self.company_b).ids},
                )
                found = env_ab[model].search([("id", "in", (of_a | of_b).ids)])
                self.assertEqual(set(found.ids), set((of_a | of_b).ids))

    def test_source_counts_and_log_of_company_b(self):
        sheet = self.sheet_b.with_user(self.manager_b)
        self.assertEqual((sheet.imported_count, sheet.error_count), (1, 1))
        self.assertEqual(len(sheet.row_ids), 2)

    def test_json2_api(self):
        # sudo: an API key for the test's administrator of company B
        key = (
            self.env["res.users.apikeys"]
            .with_user(self.manager_b)
            .sudo()
            ._generate("rpc", "test", None)
        )
        for model, of_a, of_b in (
            ("lead.allocation.sheet", self.sheet_a, self.sheet_b),
            ("lead.allocation.sheet.row", self.sheet_a.row_ids, self.sheet_b.row_ids),
        ):
            with self.subTest(model=model):
                headers = {"Authorization": f"bearer {key}", "Content-Type": "application/json"}
                response = self.url_open(
                    f"/json/2/{model}/search_read",
                    data=json.dumps({"domain": [], "fields": ["id"]}),
                    headers=headers,
                )
                self.assertEqual(response.status_code, 200, response.text)
                ids = {record["id"] for record in response.json()}
                self.assertLessEqual(set(of_b.ids), ids)
                self.assertFalse(ids & set(of_a.ids))
                response = self.url_open(
                    f"/json/2/{model}/read",
                    data=json.dumps({"ids": of_a.ids, "fields": ["id"]}),
                    headers=headers,
                )
                self.assertEqual(response.status_code, 403, response.text)
