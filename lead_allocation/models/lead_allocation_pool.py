import logging
from collections import Counter, defaultdict
from functools import partial

from odoo import api, fields, models
from odoo.exceptions import AccessError

_logger = logging.getLogger(__name__)


class LeadAllocationPool(models.AbstractModel):
    """The allocation pools and their weighted round robin.

    A pool is the set of salespeople one lead can go to: the members of a sales team, or
    everybody (team 0), in one company. This model chooses a lead's pool, its members
    (weights, pauses, daily caps) and its generation, and advances its rotation, locked
    and stored by ``lead.allocation.state``. ``_assign`` allocates, ``_preview`` reads the
    same sequence without consuming it: both go through ``_pick``.
    """

    _name = "lead.allocation.pool"
    _description = "Lead Allocation Pool"

    @api.model
    def _enabled(self):
        # sudo: reading a setting
        param = self.env["ir.config_parameter"].sudo().get_param
        return bool(param("lead_allocation.auto_allocation_enabled"))

    @api.model
    def _assign(self, vals_list):
        """Give a salesperson to each ``crm.lead`` create value of ``vals_list``, in place,
        with its ``allocation_method`` and ``allocation_reason``.

        Values are grouped by pool; the rotation of each pool is advanced once per lead
        in the order of ``vals_list``, in a short transaction of its own that locks the
        pool (``lead.allocation.state._draw``), so a batch costs the same few queries as a
        single lead and parallel requests do not wait for each other's end. Leads nobody
        may receive stay unassigned (``unassigned``: nobody in the rotation; ``capped``:
        every daily cap reached).
        """
        pools = defaultdict(list)
        for vals in vals_list:
            pools[self._pool_of(vals)].append(vals)
        State = self.env["lead.allocation.state"]
        for (company_id, team_id), pool_vals in sorted(pools.items()):
            members = self._members(company_id, team_id)
            if not members:
                _logger.info(
                    "No salesperson in the rotation for company %s, team %s: "
                    "%s lead(s) created unassigned",
                    company_id,
                    team_id,
                    len(pool_vals),
                )
                self._leave_unassigned(pool_vals, "unassigned", team_id)
                continue
            pool_key = _pool_key(company_id, team_id)
            picks = State._draw(pool_key, partial(self._draw_next, members, len(pool_vals)))
            for vals, (user, weights) in zip(pool_vals, picks, strict=True):
                if user:
                    self._give(vals, user, weights)
                else:
                    self._leave_unassigned([vals], "capped", team_id)
            if not all(user for user, _weights in picks):
                _logger.info("Every salesperson of pool %s reached the daily cap", pool_key)

    @api.model
    def get_preview_data(self, count=10):
        """What the Lead Allocations page shows of the pools of the companies the user
        works in (``env.companies``), to Sales Administrators only: the page is under
        CRM > Configuration, like the weights it shows.

        ``enabled``: whether automatic allocation is on; ``pools``: one dict per pool (each
        sales team, then the leads without a team) with its team ``id`` (0: none), its
        ``name``, its ``members`` in the rotation (id, name, weight, ``share`` of the leads
        in %, ``capped`` when their daily cap is reached today), the ``next`` ``count``
        leads (``{"id", "name"}``, id False: the lead would stay unassigned) and a
        ``warning`` when nobody can receive its leads. Read from the live rotation state,
        nothing locked or stored; a few queries per pool, whatever the number of users.
        """
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(
                self.env._("Only Sales Administrators may read the lead allocations.")
            )
        company = self.env.company
        teams = self.env["crm.team"].search(
            [("company_id", "in", [False, *self.env.companies.ids])]
        )
        pools = [(team.company_id.id or company.id, team.id, team.name) for team in teams]
        pools.append((company.id, 0, self.env._("Leads without a team")))
        return {
            "enabled": self._enabled(),
            "pools": [
                self._pool_preview(company_id, team_id, name, count)
                for company_id, team_id, name in pools
            ],
        }

    @api.model
    def _pool_preview(self, company_id, team_id, name, count):
        members = self._members(company_id, team_id)
        rotation = self.env["lead.allocation.state"]._read(_pool_key(company_id, team_id))
        received_today = self._received(members, self.env.cr, rotation)
        picks = self._pick(members, rotation, count, Counter(received_today))
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

    @api.model
    def _give(self, vals, user, weights):
        vals.update(
            user_id=user.id,
            allocation_method="round_robin",
            allocation_reason=self._reason(user, weights),
            allocation_expected_share=100.0 * weights[user.id] / sum(weights.values()),
        )
        if not vals.get("team_id"):
            # The web client sends "team_id": false: without it the ORM computes the team
            # from the salesperson (or takes the context's default team, the pool's team),
            # as crm does when a salesperson is chosen.
            vals.pop("team_id", None)

    @api.model
    def _leave_unassigned(self, vals_list, method, team_id):
        team = self.env["crm.team"].browse(team_id or ())
        if method == "capped":
            reason = self.env._(
                "Left unassigned: every salesperson in the rotation of %(pool)s "
                "reached their daily cap",
                pool=self._pool_name(team),
            )
        else:
            reason = self.env._(
                "Left unassigned: nobody in the rotation of %(pool)s (weight above 0, not paused)",
                pool=self._pool_name(team),
            )
        for vals in vals_list:
            vals.update(user_id=False, allocation_method=method, allocation_reason=reason)

    @api.model
    def _pool_name(self, team):
        # sudo: the name of the lead's team, for the reason
        if team:
            return self.env._("the team %(team)s", team=team.sudo().name)
        return self.env._("the leads without a team")

    @api.model
    def _reassign(self, leads):
        """``{lead id: (user, weights)}``: the next salesperson of each lead's pool other
        than its current one, by the pool's rotation, locked, advanced and stored as in
        ``_assign``. A pick of the current owner is passed over (the next pick is taken);
        a lead whose pool has nobody else under the daily cap is left out.
        """
        pools = defaultdict(list)
        for lead in leads:
            company_id = lead.company_id.id or lead.team_id.company_id.id or self.env.company.id
            pools[(company_id, lead.team_id.id or 0)].append(lead)
        State = self.env["lead.allocation.state"]
        moves = {}
        for (company_id, team_id), pool_leads in sorted(pools.items()):
            members = self._members(company_id, team_id)
            received = self._received(members, self.env.cr)
            available = self._available(members, received)
            movable = [lead for lead in pool_leads if available - lead.user_id]
            if movable:
                pool_key = _pool_key(company_id, team_id)
                moves.update(State._draw(pool_key, partial(self._draw_others, members, movable)))
        return moves

    @api.model
    def _draw_next(self, members, count, rotation, cr):
        """The picks of the next ``count`` leads (see ``_pick``), drawn by
        ``lead.allocation.state._draw``."""
        return self._pick(members, rotation, count, self._received(members, cr, rotation))

    @api.model
    def _draw_others(self, members, leads, rotation, cr):
        """``{lead id: (user, weights)}``: for each lead, the next pick of the rotation
        that is not its current salesperson (a pick of them is passed over)."""
        received_today = self._received(members, cr, rotation)
        moves = {}
        for lead in leads:
            # a member other than the owner comes up within this many picks
            available = self._available(members, received_today)
            for _i in range(sum(available.mapped("allocation_weight")) + 1):
                user, weights = self._pick(members, rotation, 1, received_today)[0]
                if user != lead.user_id:
                    break
            if user and user != lead.user_id:
                moves[lead.id] = (user, weights)
        return moves

    @api.model
    def _available(self, members, received_today):
        """The members under their daily cap."""
        return members.filtered(
            lambda user: not user.allocation_daily_cap
            or received_today[user.id] < user.allocation_daily_cap
        )

    @api.model
    def _preview(self, company_id, team_id, count=10):
        """The ids of the salespeople the next ``count`` leads of the pool would go to,
        with the current weights, pauses and caps (False: the lead would stay unassigned).

        Read from the live rotation state, nothing locked or stored: the same sequence
        that ``_assign`` then gives, as long as nothing changes meanwhile.
        """
        members = self._members(company_id, team_id or 0)
        if not members:
            return [False] * count
        rotation = self.env["lead.allocation.state"]._read(_pool_key(company_id, team_id or 0))
        received = self._received(members, self.env.cr, rotation)
        return [user.id for user, _weights in self._pick(members, rotation, count, received)]

    @api.model
    def _pick(self, members, rotation, count, received_today):
        """``[(user, weights)]`` for the next ``count`` leads of the pool of ``members``,
        advancing ``rotation``; ``weights`` are those the user was picked among. A lead
        that every capped member is full for gets an empty user and no weights.
        ``received_today`` (see ``_received``) is updated with the picks.
        """
        # any change of the members' settings restarts the rotation, even one undone since
        generation = str(max(filter(None, members.mapped("allocation_changed_at")), default=""))
        # records iterated from ``members`` share its prefetch: what the lead's create reads
        # of the chosen salespeople later (partner, e-mail) is one query for all of them
        by_id = {user.id: user for user in members}
        picks = []
        for _i in range(count):
            weights = {
                user.id: user.allocation_weight
                for user in members
                if not user.allocation_daily_cap
                or received_today[user.id] < user.allocation_daily_cap
            }
            if not weights:
                picks.append((members.browse(), {}))
                continue
            user = by_id[rotation.next(weights, generation)]
            received_today[user.id] += 1
            picks.append((user, weights))
        return picks

    @api.model
    def _reason(self, user, weights):
        return self.env._(
            "Assigned to %(user)s by round robin (weight %(weight)s of %(total)s)",
            user=user.name,
            weight=weights[user.id],
            total=sum(weights.values()),
        )

    @api.model
    def _pool_of(self, vals):
        """``(company id, team id)`` of the pool of a ``crm.lead`` create value."""
        context = self.env.context
        team_id = vals.get("team_id") or context.get("default_team_id") or 0
        company_id = vals.get("company_id") or context.get("default_company_id")
        if not company_id and team_id:
            company_id = self.env["crm.team"].browse(team_id).company_id.id
        return (company_id or self.env.company.id, team_id)

    @api.model
    def _members(self, company_id, team_id):
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
    def _received(self, members, cr, rotation=None):
        """Round-robin leads each capped member received since midnight (UTC), read on
        ``cr``, and those drawn for them by the requests still running (in ``rotation``)."""
        received = Counter()
        capped = members.filtered("allocation_daily_cap")
        if capped:
            if cr is self.env.cr:  # another cursor sees only what committed
                self.env["crm.lead"].flush_model(["user_id", "allocation_method"])
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


def _pool_key(company_id, team_id):
    return f"{company_id}-{team_id}"
