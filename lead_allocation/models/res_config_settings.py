from odoo import api, fields, models

ISOLATION_RULE = "lead_allocation.crm_lead_rule_trusted_employee"


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lead_auto_allocation_enabled = fields.Boolean(
        "Automatic lead allocation",
        config_parameter="lead_allocation.auto_allocation_enabled",
        help="Give every new lead without a salesperson to one, by weighted round robin.",
    )
    lead_isolation_enabled = fields.Boolean(
        "Isolate assigned leads from standard users",
        help="Trusted Employees see only the leads and opportunities assigned to them.",
    )

    @api.model
    def get_values(self):
        res = super().get_values()
        res["lead_isolation_enabled"] = self._lead_isolation_active()
        return res

    def set_values(self):
        res = super().set_values()
        # sudo: the isolation switch is the record rule's active flag; writing the rule
        # clears the rule caches of every worker
        rule = self.env.ref(ISOLATION_RULE).sudo()
        if rule.active != self.lead_isolation_enabled:
            rule.active = self.lead_isolation_enabled
        return res

    @api.model
    def _lead_isolation_active(self):
        # sudo: reading whether a rule is active reveals nothing
        rule = self.env.ref(ISOLATION_RULE, raise_if_not_found=False)
        return bool(rule and rule.sudo().active)
