from odoo import api, models

from ..intake import IntakeError


class LeadAllocationIntakeCheck(models.AbstractModel):
    """The checks of a lead payload against the database, before anything is created:
    may the current user create leads, is the team a team, the agent an eligible
    salesperson, and may the current user give them a lead (``lead.allocation.intake``)."""

    _name = "lead.allocation.intake.check"
    _description = "Lead Intake Checks"

    @api.model
    def _agent(self, user_id, company):
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
    def _may_assign(self, agent, team, company):
        """IntakeError (403, ``agent_not_allowed``) unless the record rules of the current
        user let it create a lead owned by ``agent`` (checked before anything is created).

        The rules themselves are evaluated, not a group's name: "Own Documents" allows a
        user its own leads only, lead isolation a Trusted Employee its own leads only.
        """
        user = self.env.user
        domain = self.env["ir.rule"]._compute_domain("crm.lead", "create")
        if agent == user or self.env.su or not domain:
            return True
        values = {"user_id": agent.id, "team_id": team.id if team else False}
        lead = self.env["crm.lead"].new(dict(values, company_id=company.id))
        if lead.filtered_domain(domain):
            return True
        if user._is_lead_isolated():
            change = self.env._(
                "remove its role Trusted Employee (and give it Sales / User: All Documents)"
            )
        else:
            change = self.env._("give it the role Sales / User: All Documents")
        raise IntakeError(
            "agent_not_allowed",
            self.env._(
                "The integration user %(user)s may only create leads for itself, not for "
                "user_id %(user_id)s: %(change)s to assign leads to agents, or leave "
                "user_id out.",
                user=user.display_name,
                user_id=agent.id,
                change=change,
            ),
            "user_id",
            status=403,
        )

    @api.model
    def _team(self, team_id):
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
    def _can_create(self):
        """IntakeError (403) unless the current user may create leads at all."""
        if not self.env["crm.lead"].has_access("create"):
            raise IntakeError(
                "forbidden", self.env._("The integration user may not create leads."), status=403
            )
