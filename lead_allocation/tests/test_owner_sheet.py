"""A Google Sheets row of an existing customer goes to the customer's salesperson, through
the real sync and the loopback Google (issue: existing customers go to their salesperson)."""

from odoo.tests import tagged

from .sheet_common import SheetCase


@tagged("post_install", "-at_install")
class TestOwnerFromSheet(SheetCase):
    def test_rows_of_existing_customers_go_to_their_salesperson(self):
        self.env["res.config.settings"].create({"lead_allocation_route_to_owner": True}).execute()
        self.env["res.partner"].create(
            {
                "name": "Acme Corp",
                "is_company": True,
                "website": "https://acme.example",
                "user_id": self.junior_2.id,
            }
        )
        self.rows[2][1] = "ann@acme.example"  # the row of Lead 2: its e-mail
        self.sync()
        leads = self.leads().sorted("id")
        self.assertEqual(len(leads), 5)
        acme = leads.filtered(lambda lead: lead.email_from == "ann@acme.example")
        self.assertEqual((acme.user_id, acme.allocation_method), (self.junior_2, "owner"))
        self.assertEqual(
            acme.allocation_reason,
            "Assigned to Jay Junior: salesperson of Acme Corp "
            "(matched by e-mail domain acme.example)",
        )
        others = leads - acme
        self.assertEqual(set(others.mapped("allocation_method")), {"round_robin"})
