from collections import Counter

from odoo import api, fields, models


class LeadAllocationMembers(models.AbstractModel):
    """The salespeople of an allocation pool (``lead.allocation.pool``): who may receive
    its round-robin leads, and how many they received today against their daily cap."""

    _name = "lead.allocation.members"
    _description = "Lead Allocation Pool Members"

    @api.model
    def _of(self, company_id, team_id):
        """Users who may receive round-robin leads of this pool, weights fetched."""
        domain = [
            ("allocation_weight", ">", 0),
            ("allocation_paused", "=", False),
            ("share", "=", False),
            ("all_group_ids", "in", self.env.ref("sales_team.group_sale_salesman").ids),
        ]
        if team_id:
            domain.append(("crm_team_member_ids.crm_team_id", "=", team_id))
        if company_id:
            domain.append(("company_ids", "in", company_id))
        # sudo: the pool is chosen by the system, whoever creates the lead
        return (
            self.env["res.users"]
            .sudo()
            .search_fetch(
                domain,
                ["name", "allocation_weight", "allocation_daily_cap", "allocation_changed_at"],
            )
        )

    @api.model
    def _flush(self, members):
        """Flush the leads, so that ``_received`` reads them on any cursor: only when a
        member has a daily cap (nothing is read otherwise)."""
        if members.filtered("allocation_daily_cap"):
            self.env["crm.lead"].flush_model(["user_id", "allocation_method", "create_date"])

    @api.model
    def _received(self, members, cr, rotation=None):
        """Round-robin leads each capped member received since midnight (UTC), read on
        ``cr``, and those drawn for them by the requests still running (in ``rotation``)."""
        received = Counter()
        capped = members.filtered("allocation_daily_cap")
        if capped:
            midnight = fields.Datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
            cr.execute(
                "SELECT user_id, count(*) FROM crm_lead WHERE user_id = ANY(%s)"
                " AND allocation_method = 'round_robin' AND create_date >= %s GROUP BY user_id",
                (capped.ids, midnight),
            )
            received.update(dict(cr.fetchall()))
            if rotation is not None:
                running = rotation.in_flight()
                received.update({user.id: running[user.id] for user in capped})
        return received

    @api.model
    def _under_cap(self, members, received_today):
        """The members under their daily cap."""
        return members.filtered(
            lambda user: not user.allocation_daily_cap
            or received_today[user.id] < user.allocation_daily_cap
        )
