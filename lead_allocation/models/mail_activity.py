import functools

from odoo import api, models
from odoo.fields import Domain


class MailActivity(models.Model):
    """Lead isolation: the activities of a lead are visible only to who may read the lead,
    even to the user they are assigned to."""

    _inherit = "mail.activity"

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None, *, bypass_access=False, **kwargs):
        if not bypass_access:
            isolation = self.env["crm.lead"]._lead_isolation_domain("res_model")
            if isolation is not None:
                domain = isolation & Domain(domain)
        return super()._search(domain, offset, limit, order, bypass_access=bypass_access, **kwargs)

    def _check_access(self, operation):
        result = super()._check_access(operation)
        if operation == "create":  # creating needs access to the lead already
            return result
        allowed = self - result[0] if result else self
        forbidden = self.env["crm.lead"]._lead_isolation_forbidden(allowed, "res_model")
        if not forbidden:
            return result
        if result:
            return result[0] | forbidden, result[1]
        return forbidden, functools.partial(
            self.env["ir.rule"]._make_access_error, operation, forbidden
        )
