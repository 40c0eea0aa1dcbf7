from collections import Counter

from odoo import api, models

from .lead_allocation_state import pool_key


class LeadAllocationPreview(models.AbstractModel):
    """What the Lead Allocations page shows of one allocation pool: its members, their
    shares and the next leads, read from the live rotation, nothing locked or stored
    (``lead.allocation.pool.get_preview_data`` lists the pools)."""

    _name = "lead.allocation.preview"
    _description = "Lead Allocation Preview"

    @api.model
    def _pools(self, count):
        """The preview of each pool of the companies the user works in (``env.companies``):
        each sales team, then the leads without a team."""
        company = self.env.company
        teams = self.env["crm.team"].search(
            [("company_id", "in", [False, *self.env.companies.ids])]
        )
        pools = [(team.company_id.id or company.id, team.id, team.name) for team in teams]
        pools.append((company.id, 0, self.env._("Leads without a team")))
        return [self._pool(company_id, team_id, name, count) for company_id, team_id, name in pools]

    @api.model
    def _pool(self, company_id, team_id, name, count):
        """The preview of one pool: its members (with their availability, when the setting
        "Follow working hours and time off" is on), the next ``count`` leads, drawn as the
        next leads will be, and a warning when nobody can receive them."""
        Members = self.env["lead.allocation.members"]
        members = Members._of(company_id, team_id)
        drawing, away = Members._on_shift(members)
        rotation = self.env["lead.allocation.state"]._read(pool_key(company_id, team_id))
        Members._flush(drawing)
        received_today = Members._received(members, self.env.cr, rotation)
        picks = Members._pick(drawing, rotation, count, Counter(received_today))
        total_weight = sum(members.mapped("allocation_weight"))
        return {
            "id": team_id,
            "name": name,
            "members": [
                {
                    "id": user.id,
                    "name": user.name,
                    "weight": user.allocation_weight,
                    "share": 100.0 * user.allocation_weight / total_weight,
                    "capped": bool(user.allocation_daily_cap)
                    and received_today[user.id] >= user.allocation_daily_cap,
                    "availability": self._availability(user, away),
                }
                for user in members
            ],
            "next": [{"id": user.id, "name": user.name} for user, _weights in picks],
            "warning": not any(user for user, _weights in picks)
            and self._warning(team_id, name, members and not drawing),
        }

    @api.model
    def _availability(self, user, away):
        """The words for the availability of ``user`` (False: not followed)."""
        Availability = self.env["lead.allocation.availability"]
        if not Availability._enabled():
            return False
        if user in away:
            return Availability._describe(user, away[user])
        return self.env._("at work")

    @api.model
    def _warning(self, team_id, name, held):
        if held:
            return self.env._(
                "Nobody of %(team)s is at work: new leads wait, unassigned, until someone is.",
                team=name if team_id else self.env._("the leads without a team"),
            )
        if team_id:
            return self.env._(
                "Nobody can receive leads of %(team)s: new leads will be saved unassigned.",
                team=name,
            )
        return self.env._("Nobody can receive leads without a team: they will be saved unassigned.")
