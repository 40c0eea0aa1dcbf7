import logging
from collections import Counter, defaultdict

from odoo import api, models
from odoo.exceptions import AccessError

_logger = logging.getLogger(__name__)


class LeadAllocationPool(models.AbstractModel):
    """Who gets a lead, and why: the one place that decides.

    ``_decide`` sets the salesperson, ``allocation_method`` and ``allocation_reason`` of
    new leads from what was asked: a salesperson chosen in the values or named by an
    integration (``lead_allocation_named_by`` in the context), the creator keeping the
    lead, or the weighted round robin of the lead's pool; ``_reassign`` decides the
    moves of untouched leads. The words are ``lead.allocation.reason``'s.

    A pool is the set of salespeople one lead can go to: the members of a sales team, or
    everybody (team 0), in one company, with their weights, pauses and daily caps. Its
    rotation is locked and stored by ``lead.allocation.state``; ``get_preview_data``
    reads the same sequence without consuming it: both go through ``_pick``.
    """

    _name = "lead.allocation.pool"
    _description = "Lead Allocation Pool"

    @api.model
    def _enabled(self):
        # sudo: reading a setting
        param = self.env["ir.config_parameter"].sudo().get_param
        return bool(param("lead_allocation.auto_allocation_enabled"))

    @api.model
    def _allocates_for_current_user(self):
        """Whether leads created by the current user without a salesperson are allocated.

        Users limited to their own documents cannot create a colleague's lead (Odoo's
        record rules), and isolated Trusted Employees could not see it: theirs stay theirs.
        """
        if not self._enabled():
            return False
        user = self.env.user
        return self.env.su or (
            user.has_group("sales_team.group_sale_salesman_all_leads")
            and not user._is_lead_isolated()
        )

    @api.model
    def _decide(self, vals_list):
        """Set the salesperson, ``allocation_method`` and ``allocation_reason`` of each
        ``crm.lead`` create value of ``vals_list``, in place, from what was asked:

        - a salesperson in the values: named by an integration (the context's
          ``lead_allocation_named_by``, ``(method, origin)``), else chosen (Manual);
        - none, and the rotation runs for the current user: the round robin of the pool;
        - else the creator keeps the lead, or Odoo's defaults apply (allocation off).

        Where the rotation does not run, the creator pre-filled as salesperson (the form's
        default) is not a choice either: the lead is kept by its creator.
        """
        named_by = self.env.context.get("lead_allocation_named_by")
        allocates = self._allocates_for_current_user()
        chosen, rotation, kept = [], [], []
        for vals in vals_list:
            user_id = vals.get("user_id")
            if user_id and (named_by or allocates or user_id != self.env.uid):
                chosen.append(vals)
            else:
                (rotation if allocates else kept).append(vals)
        if chosen:
            self._give_chosen(chosen, named_by)
        if kept:
            self._keep(kept)
        if rotation:
            self._assign(rotation)

    @api.model
    def _give_chosen(self, vals_list, named_by):
        """The salespeople of the values stay, named by ``named_by`` or chosen."""
        Reason = self.env["lead.allocation.reason"]
        # sudo: the names of the chosen salespeople, for the reason
        users = self.env["res.users"].sudo().browse({vals["user_id"] for vals in vals_list})
        for vals in vals_list:
            user = users.browse(vals["user_id"])
            if named_by:
                vals.update(
                    allocation_method=named_by[0], allocation_reason=Reason._named(user, *named_by)
                )
            else:
                vals.update(allocation_method="manual", allocation_reason=Reason._manual(user))

    @api.model
    def _keep(self, vals_list):
        """The rotation does not run for the current user: they keep the leads (always
        when they may own only their own leads, so that the form never ends in an Access
        Error); with automatic allocation off, Odoo's defaults decide (the creator, a
        context default, or nobody when the values say so)."""
        Reason = self.env["lead.allocation.reason"]
        user = self.env.user
        if user._is_lead_isolated() or self._enabled():
            why = "isolated" if user._is_lead_isolated() else "own"
            for vals in vals_list:
                vals.update(
                    user_id=user.id,
                    allocation_method="creator",
                    allocation_reason=Reason._creator(why),
                )
            return
        default = self.env["crm.lead"].default_get(["user_id"]).get("user_id") or False
        # sudo: the names of the salespeople, for the reason
        Users = self.env["res.users"].sudo()
        for vals in vals_list:
            owner = Users.browse(vals.get("user_id", default) or ())
            if owner == user:
                method, reason = "creator", Reason._creator("off")
            elif owner:
                method, reason = "manual", Reason._manual(owner)
            else:
                method, reason = "unassigned", Reason._unassigned("off")
            vals.update(user_id=owner.id, allocation_method=method, allocation_reason=reason)

    @api.model
    def _assign(self, vals_list):
        """Give each value of ``vals_list`` the next salesperson of its pool's rotation.

        Values are grouped by pool; the rotation of each pool is advanced once per lead
        in the order of ``vals_list``, in a short transaction of its own that locks the
        pool (``lead.allocation.state._locked``), so a batch costs the same few queries as
        a single lead and parallel requests do not wait for each other's end. Leads nobody
        may receive stay unassigned (``unassigned``: nobody in the rotation; ``capped``:
        every daily cap reached).
        """
        pools = defaultdict(list)
        for vals in vals_list:
            pools[self._pool_of(vals)].append(vals)
        Members, State = self.env["lead.allocation.members"], self.env["lead.allocation.state"]
        for (company_id, team_id), pool_vals in sorted(pools.items()):
            members = Members._of(company_id, team_id)
            if not members:
                self._leave_unassigned(pool_vals, "unassigned", team_id)
                continue
            Members._flush(members)
            with State._locked(_pool_key(company_id, team_id)) as (rotation, cr):
                received = Members._received(members, cr, rotation)
                picks = self._pick(members, rotation, len(pool_vals), received)
            for vals, (user, weights) in zip(pool_vals, picks, strict=True):
                if user:
                    self._give(vals, user, weights)
                else:
                    self._leave_unassigned([vals], "capped", team_id)

    @api.model
    def get_preview_data(self, count=10):
        """What the Lead Allocations page shows of the pools of the current company.

        ``enabled``: whether automatic allocation is on; ``pools``: one dict per pool (each
        sales team, then the leads without a team) with its team ``id`` (0: none), its
        ``name``, its ``members`` in the rotation (id, name, weight, ``share`` of the leads
        in %, ``capped`` when their daily cap is reached today), the ``next`` ``count``
        leads (``{"id", "name"}``, id False: the lead would stay unassigned) and a
        ``warning`` when nobody can receive its leads. Read from the live rotation state,
        nothing locked or stored; a few queries per pool, whatever the number of users.
        """
        if not self.env.user.has_group("sales_team.group_sale_salesman"):
            raise AccessError(self.env._("Only sales users may read the lead allocations."))
        company = self.env.company
        teams = self.env["crm.team"].search([("company_id", "in", [False, company.id])])
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
        Members = self.env["lead.allocation.members"]
        members = Members._of(company_id, team_id)
        rotation = self.env["lead.allocation.state"]._read(_pool_key(company_id, team_id))
        Members._flush(members)
        received_today = Members._received(members, self.env.cr, rotation)
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
            allocation_reason=self.env["lead.allocation.reason"]._round_robin(user, weights),
            allocation_expected_share=100.0 * weights[user.id] / sum(weights.values()),
        )
        if not vals.get("team_id"):
            # The web client sends "team_id": false: without it the ORM computes the team
            # from the salesperson (or takes the context's default team, the pool's team),
            # as crm does when a salesperson is chosen.
            vals.pop("team_id", None)

    @api.model
    def _leave_unassigned(self, vals_list, method, team_id):
        _logger.info(
            "Team %s: %s lead(s) created unassigned (%s)", team_id, len(vals_list), method
        )
        team = self.env["crm.team"].browse(team_id or ())
        reason = self.env["lead.allocation.reason"]._unassigned(method, team)
        for vals in vals_list:
            vals.update(user_id=False, allocation_method=method, allocation_reason=reason)

    @api.model
    def _reassign(self, leads, hours):
        """``{lead id: write values}`` moving each lead of ``leads``, untouched for
        ``hours[lead.id]`` hours, to the next salesperson of its pool other than its
        current one, by the pool's rotation, locked, advanced and stored as in
        ``_assign``. A pick of the current owner is passed over (the next pick is taken);
        a lead whose pool has nobody else under the daily cap is left out.
        """
        pools = defaultdict(list)
        for lead in leads:
            company_id = lead.company_id.id or lead.team_id.company_id.id or self.env.company.id
            pools[(company_id, lead.team_id.id or 0)].append(lead)
        Members, State = self.env["lead.allocation.members"], self.env["lead.allocation.state"]
        Reason = self.env["lead.allocation.reason"]
        moves = {}
        for (company_id, team_id), pool_leads in sorted(pools.items()):
            members = Members._of(company_id, team_id)
            Members._flush(members)
            received = Members._received(members, self.env.cr)
            movable = [
                lead for lead in pool_leads if Members._under_cap(members, received) - lead.user_id
            ]
            if not movable:
                continue
            with State._locked(_pool_key(company_id, team_id)) as (rotation, cr):
                received = Members._received(members, cr, rotation)
                for lead in movable:
                    user = self._pick_other(members, rotation, received, lead.user_id)
                    if user:
                        moves[lead.id] = {
                            "user_id": user.id,
                            "allocation_method": "reallocated",
                            "allocation_reason": Reason._reallocated(
                                lead.user_id, user, hours[lead.id]
                            ),
                        }
        return moves

    @api.model
    def _pick_other(self, members, rotation, received, owner):
        """The next pick of the rotation that is not ``owner`` (a pick of them is passed
        over), or an empty recordset."""
        Members = self.env["lead.allocation.members"]
        # a member other than the owner comes up within this many picks
        tries = sum(Members._under_cap(members, received).mapped("allocation_weight")) + 1
        for _i in range(tries):
            user, _weights = self._pick(members, rotation, 1, received)[0]
            if user != owner:
                return user
        return members.browse()

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
    def _pool_of(self, vals):
        """``(company id, team id)`` of the pool of a ``crm.lead`` create value."""
        context = self.env.context
        team_id = vals.get("team_id") or context.get("default_team_id") or 0
        company_id = vals.get("company_id") or context.get("default_company_id")
        if not company_id and team_id:
            company_id = self.env["crm.team"].browse(team_id).company_id.id
        return (company_id or self.env.company.id, team_id)


def _pool_key(company_id, team_id):
    return f"{company_id}-{team_id}"
