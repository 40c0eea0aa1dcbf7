import functools

from odoo import api, models
from odoo.fields import Domain
from odoo.tools import SQL


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
        isolation = Domain(self._lead_isolation_model_field, "!=", "crm.lead") | Domain.custom(
            to_sql=self._lead_isolation_readable_sql
        )
        return isolation & Domain(domain)

    @api.model
    def _lead_isolation_readable_sql(self, model, alias, query):
        """Whether the lead of the row ``alias`` is one the user may read: a look-up of that
        lead (``EXISTS``), not the list of every lead they may read (``IN``), which a user
        owning thousands of leads would pay at each chatter or activity read."""
        leads = model.env["crm.lead"].with_context(active_test=False)._search([])
        leads.add_where(
            SQL("%s = %s", SQL.identifier(leads.table, "id"), SQL.identifier(alias, "res_id"))
        )
        return SQL("EXISTS%s", leads.subselect(SQL("1")))

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
