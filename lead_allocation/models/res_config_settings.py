from odoo import api, fields, models

from .res_users import ISOLATION_RULE

# Every record rule that the isolation switch turns on and off, the lead rule first.
ISOLATION_RULES = (ISOLATION_RULE, "lead_allocation.crm_activity_report_rule_trusted_employee")


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lead_auto_allocation_enabled = fields.Boolean(
        "Automatic lead allocation",
        config_parameter="lead_allocation.auto_allocation_enabled",
        help="Give every new lead without a salesperson to one, by weighted round robin.",
    )
    lead_allocation_route_to_owner = fields.Boolean(
        "Send leads of existing customers to their salesperson",
        config_parameter="lead_allocation.route_to_owner",
        help="A new lead without a salesperson goes to the salesperson of its customer: "
        "of its contact (or the contact with its e-mail address), of the contact's company, "
        "or of the company whose e-mail or website domain is the lead's e-mail domain "
        "(never a public one such as gmail.com). The rotation decides otherwise.",
    )
    lead_allocation_follow_availability = fields.Boolean(
        "Follow working hours and time off",
        config_parameter="lead_allocation.follow_availability",
        help="Give new leads only to salespeople at work now: within their working hours, "
        "not on time off nor on a public holiday of their working hours.",
    )
    lead_allocation_off_hours = fields.Selection(
        [
            ("next_shift", "Give it to the first one back at work"),
            ("hold", "Hold it until someone is at work"),
        ],
        "When nobody is at work",
        default="next_shift",
        config_parameter="lead_allocation.off_hours",
        help="A lead that arrives when nobody of its team is at work goes at once to those "
        "whose working hours start first, or waits unassigned until someone of the team "
        "is at work.",
    )
    lead_isolation_enabled = fields.Boolean(
        "Isolate assigned leads from standard users",
        help="Trusted Employees see only the leads and opportunities assigned to them, with "
        "their messages, attachments, activities and reports. Users without the Trusted "
        "Employee role keep their usual access; Sales Administrators see everything.",
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        res["lead_isolation_enabled"] = self.env["res.users"]._lead_isolation_enabled()
        return res

    def set_values(self):
        res = super().set_values()
        enabled = self.lead_isolation_enabled
        if enabled != self.env["res.users"]._lead_isolation_enabled():
            # sudo: the isolation switch is the active flag of our record rules; writing
            # a rule clears the rule caches and signals every other worker to do the same
            rules = (
                self.env["ir.rule"]
                .sudo()
                .browse(self.env.ref(xmlid).id for xmlid in ISOLATION_RULES)
            )
            rules.active = enabled
            if enabled:
                self.env["crm.lead"]._lead_isolation_unsubscribe()
        return res
