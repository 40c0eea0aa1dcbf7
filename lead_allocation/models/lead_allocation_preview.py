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
    def _pool(self, company_id, team_id, name, count):
        Members = self.env["lead.allocation.members"]
        members = Members._of(company_id, team_id)
        rotation = self.env["lead.allocation.state"]._read(pool_key(company_id, team_id))
        Members._flush(members)
        received_today = Members._received(members, self.env.cr, rotation)
        picks = Members._pick(members, rotation, count, Counter(received_today))
        total_weight = sum(members.mapped("allocation_weight"))
        warning = False
        if not any(user for user, _weights in picks):
            warning = (
                self.env._(
                    "Nobody can receive leads of %(team)s: new leads will be saved unassigned.",
                    team=name,
                )
                if team_id
                else self.env._(
                    "Nobody can receive leads without a team: they will be saved unassigned."
                )
            )
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
                }
                for user in members
            ],
            "next": [{"id": user.id, "name": user.name} for user, _weights in picks],
            "warning": warning,
        }
