import logging

from psycopg2 import errors as pg_errors

from odoo import api, models
from odoo.exceptions import ConcurrencyError
from odoo.tools import escape_psql, mute_logger
from odoo.tools.misc import clean_context

from ..intake import IntakeError

_logger = logging.getLogger(__name__)

UTM_MODELS = {"source": "utm.source", "medium": "utm.medium", "campaign": "utm.campaign"}


class LeadAllocationIntake(models.AbstractModel):
    """The Odoo side of the lead intake shared by the webhook and the Google Sheets import.

    The pure unit ``intake/`` validates the outside data into a ``LeadPayload``; this
    model checks it against the database and creates the lead with the rights of the
    current user (the integration user), never as superuser.
    """

    _name = "lead.allocation.intake"
    _description = "Lead Intake (webhook, Google Sheets)"

    @api.model
    def _check_agent(self, user_id, company):
        """Return the agent ``user_id`` names; raise IntakeError (status 422) unless it is
        an active internal user with CRM access (Sales / User: Own Documents or more,
        implied groups included) allowed in ``company`` (a res.company record).
        """
        domain = [
            ("id", "=", user_id),
            ("share", "=", False),
            ("all_group_ids", "in", self.env.ref("sales_team.group_sale_salesman").ids),
        ]
        if company:
            domain.append(("company_ids", "in", company.ids))
        # sudo: answers only whether an id names an eligible salesperson
        agent = self.env["res.users"].sudo().search(domain, limit=1, order="id")
        if not agent:
            raise IntakeError(
                "invalid_agent",
                self.env._(
                    "user_id %(user_id)s is not an active internal user with CRM access "
                    "in company %(company)s.",
                    user_id=user_id,
                    company=company.name if company else "-",
                ),
                "user_id",
                status=422,
            )
        return agent

    @api.model
    def _check_team(self, team_id):
        """Return the sales team ``team_id`` names; IntakeError (422) when the current user
        cannot see such a team."""
        team = self.env["crm.team"].search_fetch([("id", "=", team_id)], ["company_id"], limit=1)
        if not team:
            raise IntakeError(
                "invalid_team",
                self.env._("team_id %(team_id)s is not a sales team.", team_id=team_id),
                "team_id",
                status=422,
            )
        return team

    @api.model
    def _lead_company(self, team=None):
        """The company the lead will belong to: its team's, else the current user's."""
        return (team and team.company_id) or self.env.company

    @api.model
    def _prepare_lead_values(self, payload, company=None):
        """``crm.lead`` create values for ``payload`` (a LeadPayload), without salesperson.

        Tags and UTM records (source, medium, campaign) are found by name, case
        insensitively, or created. Call it after the checks and inside a savepoint: it may
        create tags and UTM records. ``company`` is accepted for symmetry with the checks
        (tags and UTM records are shared by all companies).
        """
        values = dict(payload.values)
        if payload.team_id:
            values["team_id"] = payload.team_id
        if payload.tag_names:
            values["tag_ids"] = [(6, 0, self._find_or_create_tags(payload.tag_names).ids)]
        for key, name in payload.utm.items():
            values[f"{key}_id"] = self._find_or_create_by_name(UTM_MODELS[key], name).id
        return values

    @api.model
    def _find_or_create_by_name(self, model_name, name):
        """The record named ``name`` (case insensitive, archived ones too), or a new one.

        Unlike ``utm.mixin._find_or_create_record``, the name is escaped: ``%`` and ``_``
        are not wildcards, and a trailing backslash does not break the query.
        """
        Model = self.env[model_name].with_context(active_test=False)
        record = Model.search([("name", "=ilike", escape_psql(name))], limit=1)
        if not record:
            extra = {"is_auto_campaign": True} if "is_auto_campaign" in Model._fields else {}
            record = Model.create({"name": name, **extra})
        return record

    @api.model
    def _find_or_create_tags(self, names):
        tags = self.env["crm.tag"]
        for name in names:
            tags |= self._find_or_create_by_name("crm.tag", name)
        return tags

    @api.model
    def _find_existing_lead(self, payload):
        """The lead the current user already created with ``payload.external_id``.

        Returns ``(lead, same_payload)``, or ``(None, False)`` when the key is new. The
        lead is returned as superuser: the integration user may no longer see a lead it
        assigned to an agent, and only its id and salesperson are reported back.
        """
        if not payload.external_id:
            return None, False
        # sudo: looks up the current user's own idempotency key only
        lead = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("intake_integration_id", "=", self.env.uid),
                    ("intake_external_id", "=", payload.external_id),
                ],
                limit=1,
            )
        )
        if not lead:
            return None, False
        return lead, lead.intake_payload_hash == payload.fingerprint()

    @api.model
    def _create_lead(self, payload, method="webhook", origin=None):
        """Create the lead of ``payload`` (a LeadPayload) as the current user and return it.

        - With ``payload.user_id`` the agent is checked (IntakeError 422) and wins over
          weights and pauses: ``allocation_method`` is ``method`` ("webhook" or "sheet")
          and the chatter names ``origin`` (default: the current user's name).
        - Without it, the round robin chooses (no ``default_user_id`` from the context).
        - With ``payload.external_id`` the key is stored for the current user; a unique
          index makes a second lead with the same key impossible, and a parallel insert
          of the same key raises ConcurrencyError so that the request is replayed and
          finds the first lead with ``_find_existing_lead``.

        Everything is checked before anything is written, and the writes run in a
        savepoint: a failure leaves no lead, tag or UTM record behind. Raises IntakeError
        (422) for a bad team or agent and AccessError when the user may not create it.
        """
        origin = origin or self.env.user.display_name
        team = self._check_team(payload.team_id) if payload.team_id else None
        company = self._lead_company(team)
        agent = self._check_agent(payload.user_id, company) if payload.user_id else None
        # no default_* keys of the caller (default_user_id would bypass the round robin)
        Lead = self.env["crm.lead"].with_env(self.env(context=clean_context(self.env.context)))
        Lead.check_access("create")
        try:
            # a unique violation here is expected under parallel retries and handled below:
            # keep it out of the error log
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint():
                values = self._prepare_lead_values(payload, company)
                if agent:
                    values.update(
                        user_id=agent.id,
                        allocation_method=method,
                        allocation_reason=self._allocation_reason(agent, method, origin),
                    )
                if payload.external_id:
                    values.update(
                        intake_integration_id=self.env.uid,
                        intake_external_id=payload.external_id,
                        intake_payload_hash=payload.fingerprint(),
                    )
                lead = Lead.create(values)
                lead.flush_recordset()
        except pg_errors.UniqueViolation as error:
            # a parallel request committed the same key (or the same new tag or UTM
            # name) first: replay the request, which will then see its record
            _logger.info("Lead intake: parallel insert (%s), replaying", error.diag.constraint_name)
            raise ConcurrencyError(str(error)) from error
        return lead

    @api.model
    def _allocation_reason(self, agent, method, origin):
        if method == "webhook":
            return self.env._(
                "Assigned to %(user)s by webhook (integration: %(origin)s)",
                user=agent.name,
                origin=origin,
            )
        return self.env._(
            "Assigned to %(user)s by %(method)s (%(origin)s)",
            user=agent.name,
            method=dict(self.env["crm.lead"]._fields["allocation_method"].selection).get(
                method, method
            ),
            origin=origin,
        )
