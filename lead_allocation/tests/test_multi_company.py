import json

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged


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


@tagged("post_install", "-at_install")
class TestMultiCompanyAllocation(TransactionCase):
    """The allocation settings of a user (weight, pause, daily cap) are changed only by a
    Sales Administrator working in one of that user's companies; the Lead Allocations
    page shows the pools of those companies only, and to Sales Administrators only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Company B"})
        both = cls.company_a | cls.company_b

        def user(login, name, companies, groups="sales_team.group_sale_salesman"):
            return new_test_user(
                cls.env,
                login,
                name=name,
                groups=groups,
                company_id=companies[0].id,
                company_ids=[(6, 0, companies.ids)],
            )

        manager = "sales_team.group_sale_manager"
        cls.manager_b = user("la_mc_manager_b", "Bea Manager", cls.company_b, manager)
        cls.manager_ab = user("la_mc_manager_ab", "Abe Manager", both, manager)
        cls.seller_a = user("la_mc_seller_a", "Ann Seller", cls.company_a)
        cls.seller_b = user("la_mc_seller_b", "Ben Seller", cls.company_b)
        cls.seller_ab = user("la_mc_seller_ab", "Bo Both", both)
        cls.sellers = cls.seller_a | cls.seller_b | cls.seller_ab
        cls.sellers.allocation_weight = 1
        # nobody else in the database takes part in the rotation
        cls.env["res.users"].search(
            [("id", "not in", cls.sellers.ids), ("allocation_weight", ">", 0)]
        ).allocation_weight = 0
        cls.team_a = cls.env["crm.team"].create(
            {
                "name": "Team A",
                "company_id": cls.company_a.id,
                "member_ids": [(6, 0, cls.seller_a.ids)],
            }
        )
        cls.team_b = cls.env["crm.team"].create(
            {
                "name": "Team B",
                "company_id": cls.company_b.id,
                "member_ids": [(6, 0, cls.seller_b.ids)],
            }
        )

    def test_write_within_the_companies_of_the_writer(self):
        """Company B's administrator sets the weights of B's users (also of a user of A
        and B), never of a user of A only: refused with the user's name."""
        as_b = self.sellers.with_user(self.manager_b)
        (as_b & (self.seller_b | self.seller_ab)).write({"allocation_weight": 4})
        self.assertEqual((self.seller_b | self.seller_ab).mapped("allocation_weight"), [4, 4])
        for vals in (
            {"allocation_weight": 9},
            {"allocation_paused": True},
            {"allocation_daily_cap": 2},
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(AccessError, "Ann Seller"):
                self.seller_a.with_user(self.manager_b).write(vals)
        with self.assertRaisesRegex(AccessError, "Ann Seller"):
            as_b.write({"allocation_weight": 9})  # one user outside: nothing is written
        self.assertEqual(self.sellers.mapped("allocation_weight"), [1, 4, 4])
        self.assertEqual(
            as_b.mapped("allocation_editable"), [False, True, True], "the page says so too"
        )

    def test_write_follows_the_company_switcher(self):
        """An administrator of A and B changes a user of A only while working in A."""
        in_b = self.env(user=self.manager_ab, context={"allowed_company_ids": self.company_b.ids})
        with self.assertRaisesRegex(AccessError, "Ann Seller"):
            self.seller_a.with_env(in_b).write({"allocation_weight": 3})
        self.assertFalse(self.seller_a.with_env(in_b).allocation_editable)
        self.seller_b.with_env(in_b).allocation_weight = 3
        self.seller_a.with_user(self.manager_ab).allocation_weight = 3  # all their companies
        self.assertEqual((self.seller_a | self.seller_b).mapped("allocation_weight"), [3, 3])

    def test_preview_lists_the_companies_of_the_reader(self):
        """Company B's administrator sees the pools and salespeople of B only; working in
        A and B, both."""

        def pools(env):
            data = env["lead.allocation.pool"].get_preview_data(count=2)
            return {
                pool["name"]: {member["name"] for member in pool["members"]}
                for pool in data["pools"]
            }

        seen = pools(self.env(user=self.manager_b))
        self.assertEqual(seen["Team B"], {"Ben Seller"})
        self.assertNotIn("Team A", seen)
        self.assertEqual(seen["Leads without a team"], {"Ben Seller", "Bo Both"})
        self.assertNotIn("Ann Seller", set().union(*seen.values()))
        both = self.env(
            user=self.manager_ab,
            context={"allowed_company_ids": (self.company_a | self.company_b).ids},
        )
        seen = pools(both)
        self.assertEqual((seen["Team A"], seen["Team B"]), ({"Ann Seller"}, {"Ben Seller"}))

    def test_preview_and_weights_are_for_sales_administrators(self):
        """The page is under CRM > Configuration: salespeople, even with All Documents or
        as Trusted Employees, read neither the preview nor a colleague's weight."""
        for groups in (
            "sales_team.group_sale_salesman",
            "sales_team.group_sale_salesman_all_leads",
            "lead_allocation.group_trusted_employee",
        ):
            with self.subTest(groups=groups):
                reader = new_test_user(self.env, f"la_mc_{groups}", groups=groups)
                with self.assertRaises(AccessError):
                    self.env["lead.allocation.pool"].with_user(reader).get_preview_data()
                with self.assertRaises(AccessError):
                    self.seller_a.with_user(reader).read(["allocation_weight"])
                with self.assertRaises(AccessError):
                    self.env["res.users"].with_user(reader).search_read(
                        [("id", "=", self.seller_a.id)], ["allocation_paused"]
                    )
        self.assertEqual(self.seller_a.with_user(self.manager_ab).allocation_weight, 1)
