from odoo import api, models
from odoo.fields import Domain


class MailMessage(models.Model):
    """Lead isolation: the messages of a lead are visible only to who may read the lead,
    even to their author or recipients (e.g. its former salesperson)."""

    _inherit = "mail.message"

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, *, bypass_access=False, **kwargs):
        if not bypass_access:
            isolation = self.env["crm.lead"]._lead_isolation_domain("model")
            if isolation is not None:
                domain = isolation & Domain(domain)
        return super()._search(domain, offset, limit, order, bypass_access=bypass_access, **kwargs)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        return self.env["crm.lead"]._lead_isolation_check_access(self, operation, result, "model")
