import logging
from collections import defaultdict

from odoo import api, models
from odoo.exceptions import AccessError

from .lead_allocation_state import pool_key

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
        - none, and the rotation runs for the current user: the salesperson of the
          customer (``lead.allocation.owner``, setting on) when they may receive it, else
          the round robin of the pool;
        - else the creator keeps the lead, or Odoo's defaults apply (allocation off).

        Where the rotation does not run, the creator pre-filled as salesperson (the form's
        default) is not a choice either: the lead is kept by its creator.
        """
        named_by = self.env.context.get("lead_allocation_named_by")
        if not (
            isinstance(named_by, (list, tuple))
            and len(named_by) == 2
            and named_by[0] in ("webhook", "sheet")
        ):
            named_by = None  # only the intake names salespeople (webhook, Google Sheets)
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
            rest = self._give_owners(rotation)
            self._assign([vals for vals, _note in rest])
            for vals, note in rest:
                if note:  # the customer's owner, passed over
                    vals["allocation_reason"] = f"{vals['allocation_reason']}; {note}"

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
    def _give_owners(self, vals_list):
        """Give the leads of existing customers to the customer's salesperson (setting
        "Send leads of existing customers to their salesperson"); return the others as
        ``[(vals, note)]``, ``note`` naming an owner passed over, and why ("": none)."""
        Owner = self.env["lead.allocation.owner"]
        if not Owner._enabled():
            return [(vals, "") for vals in vals_list]
        companies = [company_id for company_id, _team_id in self._pools_of(vals_list)]
        matches = Owner._match(vals_list, companies)
        owners = self.env["res.users"].union(*(match.owner for match in matches if match))
        Availability = self.env["lead.allocation.availability"]
        statuses = Availability._status(owners) if owners and Availability._enabled() else {}
        Reason = self.env["lead.allocation.reason"]
        rest = []
        for vals, company_id, match in zip(vals_list, companies, matches, strict=True):
            why_not = match and Owner._why_not(match, company_id, statuses)
            if match and not why_not:
                vals.update(
                    user_id=match.owner.id,
                    allocation_method="owner",
                    allocation_reason=Reason._owner(match),
                )
                _team_from_salesperson(vals)
            else:
                rest.append((vals, Reason._owner_passed_over(match, why_not) if match else ""))
        return rest

    @api.model
    def _assign(self, vals_list):
        """Give each value of ``vals_list`` the next salesperson of its pool's rotation.

        Values are grouped by pool; the rotation of each pool is advanced once per lead
        in the order of ``vals_list``, in a short transaction of its own that locks the
        pool (``lead.allocation.state._locked``), so a batch costs the same few queries as
        a single lead and parallel requests do not wait for each other's end. Leads nobody
        may receive stay unassigned (``unassigned``: nobody in the rotation; ``capped``:
        every daily cap reached; ``held``: nobody at work, until someone is). With the
        setting "Follow working hours and time off", the rotation draws among the members
        at work (``lead.allocation.members._on_shift``).
        """
        pools = defaultdict(list)
        for vals, pool in zip(vals_list, self._pools_of(vals_list), strict=True):
            pools[pool].append(vals)
        Members, State = self.env["lead.allocation.members"], self.env["lead.allocation.state"]
        for (company_id, team_id), pool_vals in sorted(pools.items()):
            members = Members._of(company_id, team_id)
            drawing, statuses = Members._on_shift(members)
            # in words, once per pool; nobody at work (next shift): the first back draw
            away = self.env["lead.allocation.reason"]._away(
                statuses, first_back=bool(drawing) and all(user in statuses for user in drawing)
            )
            if not drawing:
                for vals in pool_vals if members else ():  # held: given out in its company
                    vals.setdefault("company_id", company_id)
                self._leave_unassigned(
                    pool_vals, "held" if members else "unassigned", team_id, away
                )
                continue
            Members._flush(members)
            with State._locked(pool_key(company_id, team_id)) as (rotation, cr):
                received = Members._received(members, cr, rotation)
                picks = Members._pick(members, rotation, len(pool_vals), received, drawing)
            for vals, (user, weights) in zip(pool_vals, picks, strict=True):
                if user:
                    self._give(vals, user, weights, away)
                else:
                    self._leave_unassigned([vals], "capped", team_id)

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
        return {
            "enabled": self._enabled(),
            "pools": self.env["lead.allocation.preview"]._pools(count),
        }

    @api.model
    def _give(self, vals, user, weights, away=None):
        vals.update(
            user_id=user.id,
            allocation_method="round_robin",
            allocation_reason=self.env["lead.allocation.reason"]._round_robin(user, weights, away),
            allocation_expected_share=100.0 * weights[user.id] / sum(weights.values()),
        )
        _team_from_salesperson(vals)

    @api.model
    def _leave_unassigned(self, vals_list, method, team_id, away=None):
        _logger.info("Team %s: %s lead(s) created unassigned (%s)", team_id, len(vals_list), method)
        team = self.env["crm.team"].browse(team_id or ())
        reason = self.env["lead.allocation.reason"]._unassigned(method, team, away)
        for vals in vals_list:
            vals.update(user_id=False, allocation_method=method, allocation_reason=reason)

    @api.model
    def _reassign(self, leads, hours=None, working=False):
        """``{lead id: write values}`` giving each lead of ``leads`` to the next
        salesperson of its pool other than its current one, by the pool's rotation, locked,
        advanced and stored as in ``_assign``: a lead held until working hours
        (``held``), or one untouched for ``hours[lead.id]`` hours (``reallocated``;
        ``working``: hours of work of its salesperson). A
        pick of the current owner is passed over (the next pick is taken); a lead whose
        pool has nobody else at work and under the daily cap is left out.
        """
        pools = defaultdict(list)
        for lead in leads:
            company_id = lead.company_id.id or lead.team_id.company_id.id or self.env.company.id
            pools[(company_id, lead.team_id.id or 0)].append(lead)
        Members, State = self.env["lead.allocation.members"], self.env["lead.allocation.state"]
        moves = {}
        for (company_id, team_id), pool_leads in sorted(pools.items()):
            members = Members._of(company_id, team_id)
            drawing, _away = Members._on_shift(members, False)
            Members._flush(members)
            received = Members._received(members, self.env.cr)
            under_cap = Members._under_cap(drawing, received)
            movable = [lead for lead in pool_leads if under_cap - lead.user_id]
            if not movable:
                continue
            with State._locked(pool_key(company_id, team_id)) as (rotation, cr):
                received = Members._received(members, cr, rotation)
                for lead in movable:
                    pick = Members._pick_other(members, rotation, received, lead.user_id, drawing)
                    if pick[0]:
                        moves[lead.id] = self._move(lead, *pick, hours, working)
        return moves

    @api.model
    def _move(self, lead, user, weights, hours, working):
        """The write values giving ``lead`` to ``user``, picked among ``weights``."""
        Reason = self.env["lead.allocation.reason"]
        if not lead.user_id:  # held until working hours
            reason = Reason._released(user, weights, lead.create_date)
            return {
                "user_id": user.id,
                "allocation_method": "round_robin",
                "allocation_reason": reason,
            }
        reason = Reason._reallocated(lead.user_id, user, hours[lead.id], working)
        return {"user_id": user.id, "allocation_method": "reallocated", "allocation_reason": reason}

    @api.model
    def _pools_of(self, vals_list):
        """``[(company id, team id)]`` of ``crm.lead`` create values: the teams' companies
        from their records, which the leads' create reads next (one query for both)."""
        default_team = self.env.context.get("default_team_id") or 0
        default_company = self.env.context.get("default_company_id")
        pools = [
            (vals.get("company_id") or default_company, vals.get("team_id") or default_team)
            for vals in vals_list
        ]
        teams = self.env["crm.team"].browse(
            {team for company, team in pools if team and not company}
        )
        of_team = {team.id: team.company_id.id for team in teams}
        return [
            (company or of_team.get(team) or self.env.company.id, team) for company, team in pools
        ]


def _team_from_salesperson(vals):
    """The web client sends "team_id": false: without it the ORM computes the team from
    the salesperson (or takes the context's default team, the pool's team), as crm does
    when a salesperson is chosen."""
    if not vals.get("team_id"):
        vals.pop("team_id", None)
