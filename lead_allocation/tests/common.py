from odoo.tests import TransactionCase, new_test_user


class LeadAllocationCase(TransactionCase):
    """Users, a team and weights of our own: Odoo 19 loads no demo data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.company = cls.env.company
        cls.manager = new_test_user(
            cls.env, "la_manager", groups="sales_team.group_sale_manager", name="Mia Manager"
        )
        cls.senior = cls._salesperson("la_senior", "Sam Senior", 10)
        cls.junior_1 = cls._salesperson("la_junior1", "Jo Junior", 5)
        cls.junior_2 = cls._salesperson("la_junior2", "Jay Junior", 5)
        cls.salespeople = cls.senior | cls.junior_1 | cls.junior_2
        cls.team = cls.env["crm.team"].create(
            {"name": "Allocation Team", "member_ids": [(6, 0, cls.salespeople.ids)]}
        )
        # Nobody else in the database takes part in the rotation.
        cls.env["res.users"].search(
            [("id", "not in", cls.salespeople.ids), ("allocation_weight", ">", 0)]
        ).allocation_weight = 0

    @classmethod
    def _salesperson(cls, login, name, weight, groups="sales_team.group_sale_salesman"):
        user = new_test_user(cls.env, login, groups=groups, name=name)
        user.allocation_weight = weight
        return user
