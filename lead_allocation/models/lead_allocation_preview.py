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
        each sales team, then the leads without a team; in a fixed number of queries,
        whatever the number of pools and salespeople."""
        company = self.env.company
        teams = self.env["crm.team"].search(
            [("company_id", "in", [False, *self.env.companies.ids])]
        )
        pools = [(team.company_id.id or company.id, team.id, team.name) for team in teams]
        pools.append((company.id, 0, self.env._("Leads without a team")))
        return self._previews(pools, count)

    @api.model
    def _previews(self, pools, count):
        """The previews of ``pools`` (``[(company id, team id, name)]``): their members,
        rotations, daily-cap counts and availability read once for all of them."""
        Members = self.env["lead.allocation.members"]
        Availability = self.env["lead.allocation.availability"]
        members_of = Members._of_pools([(company_id, team_id) for company_id, team_id, _n in pools])
        everyone = self.env["res.users"].union(*members_of.values())
        everyone.mapped("name")  # the names of all, at once (a related field of the partner)
        statuses = Availability._status(everyone) if everyone and Availability._enabled() else None
        keys = [pool_key(company_id, team_id) for company_id, team_id, _name in pools]
        rotations = self.env["lead.allocation.state"]._read(keys)
        Members._flush(everyone)
        received = Members._received(everyone, self.env.cr)
        return [
            self._preview(
                (team_id, name, count),
                members_of[(company_id, team_id)],
                rotations[key],
                Counter(received),
                statuses,
            )
            for (company_id, team_id, name), key in zip(pools, keys, strict=True)
        ]

    @api.model
    def _preview(self, pool, members, rotation, received_today, statuses):
        """One pool's members (with their availability, when the setting "Follow working
        hours and time off" is on), the next ``count`` leads, drawn as the next leads
        will be, and a warning when nobody can receive them. ``pool``: ``(team id, name,
        count)``."""
        team_id, name, count = pool
        Members = self.env["lead.allocation.members"]
        drawing, away = Members._on_shift(members, statuses=statuses)
        Members._with_running(received_today, members, rotation)
        picks = Members._pick(members, rotation, count, Counter(received_today), drawing)
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
