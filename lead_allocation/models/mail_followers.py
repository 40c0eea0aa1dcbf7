from odoo import api, models


class MailFollowers(models.Model):
    """Lead isolation: the followers of a lead are visible only to who may read the lead."""

    _name = "mail.followers"
    _inherit = ["mail.followers", "lead.isolation.mixin"]

    @api.model
    def _search(self, domain, *args, bypass_access=False, **kwargs):
        domain = domain if bypass_access else self._lead_isolation_filter(domain)
        return super()._search(domain, *args, bypass_access=bypass_access, **kwargs)

    def _check_access(self, operation):
        return self._lead_isolation_check(operation, super()._check_access(operation))
