from odoo import api, models


class MailMessage(models.Model):
    """Lead isolation: the messages of a lead are visible only to who may read the lead,
    even to their author or recipients (e.g. its former salesperson)."""

    _name = "mail.message"
    _inherit = ["mail.message", "lead.isolation.mixin"]
    _lead_isolation_model_field = "model"

    @api.model
    def _search(self, domain, *args, bypass_access=False, **kwargs):
        domain = domain if bypass_access else self._lead_isolation_filter(domain)
        return super()._search(domain, *args, bypass_access=bypass_access, **kwargs)

    def _check_access(self, operation):
        return self._lead_isolation_check(operation, super()._check_access(operation))
