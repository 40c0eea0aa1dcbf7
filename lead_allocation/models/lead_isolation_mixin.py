import functools

from odoo import api, models
from odoo.fields import Domain


class LeadIsolationMixin(models.AbstractModel):
    """Lead isolation of the records attached to a lead (messages, activities, followers):
    an isolated user (``res.users._is_lead_isolated``) reaches them only through a lead
    they may read. The inheriting model filters its ``_search`` with
    ``_lead_isolation_filter`` and completes its ``_check_access`` with
    ``_lead_isolation_check``.
    """

    _name = "lead.isolation.mixin"
    _description = "Lead Isolation of Attached Records"

    # Field holding the model of the record the row is attached to (with ``res_id``).
    _lead_isolation_model_field = "res_model"

    @api.model
    def _lead_isolation_filter(self, domain):
        """``domain``, restricted for an isolated user to records attached to something
        else than a lead or to a lead they may read."""
        if self.env.su or not self.env.user._is_lead_isolated():
            return domain
        leads = self.env["crm.lead"].with_context(active_test=False)._search([])
        isolation = Domain(self._lead_isolation_model_field, "!=", "crm.lead") | Domain(
            "res_id", "in", leads
        )
        return isolation & Domain(domain)

    def _lead_isolation_check(self, operation, result):
        """``result`` of ``self._check_access(operation)`` with the records attached to
        leads the isolated user may not read added to the forbidden ones."""
        if operation == "create":  # creating needs access to the lead already
            return result
        allowed = self - result[0] if result else self
        forbidden = allowed._lead_isolation_forbidden()
        if not forbidden:
            return result
        if result:
            return result[0] | forbidden, result[1]
        return forbidden, functools.partial(
            self.env["ir.rule"]._make_access_error, operation, forbidden
        )

    def _lead_isolation_forbidden(self):
        """The records of ``self`` attached to leads the isolated user may not read."""
        if self.env.su or not any(self._ids) or not self.env.user._is_lead_isolated():
            return self.browse()
        model_field = self._lead_isolation_model_field
        # sudo: reading to which lead each record is attached, checked right below
        on_leads = self.sudo().filtered(
            lambda record: record[model_field] == "crm.lead" and record.res_id
        )
        lead_ids = set(on_leads.mapped("res_id"))
        readable = set(
            self.env["crm.lead"]
            .with_context(active_test=False)
            .search([("id", "in", list(lead_ids))])
            .ids
        )
        return self.browse(record.id for record in on_leads if record.res_id not in readable)
