from collections import Counter, defaultdict

from odoo import api, fields, models, tools
from odoo.exceptions import MissingError

from ..allocation.availability import first_to_start


class LeadAllocationMembers(models.AbstractModel):
    """The salespeople of an allocation pool (``lead.allocation.pool``): who may receive
    its round-robin leads, and how many they received today against their daily cap."""

    _name = "lead.allocation.members"
    _description = "Lead Allocation Pool Members"

    @api.model
    def _of(self, company_id, team_id):
        """Users who may receive round-robin leads of this pool. Who belongs to the pool
        (``_ids_of``) is kept between requests; the weights and pauses are read at first
        use, with all the members' fields in one query, which is also what the
        lead's create reads of its salesperson later."""
        ids = self._ids_of(company_id, team_id, self._salesman_groups())
        # sudo: the pool is chosen by the system, whoever creates the lead
        users = self.env["res.users"].sudo().browse(ids)
        try:
            return users.filtered(self._in_rotation)
        except MissingError:  # a user deleted since (kept by a request of another thread)
            self.env.registry.clear_cache()
            ids = self._ids_of(company_id, team_id, self._salesman_groups())
            return users.browse(ids).filtered(self._in_rotation)

    @api.model
    def _in_rotation(self, user):
        return user.allocation_weight > 0 and not user.allocation_paused

    @api.model
    def _forget(self):
        """Clear the pools kept by ``_ids_of`` (Odoo's cache) now, and again once the
        transaction commits: a request of another thread of this process that read them
        before the commit does not keep them either."""
        self.env.registry.clear_cache()
        self.env.cr.postcommit.add(self.env.registry.clear_cache)

    @tools.ormcache("company_id", "team_id", "group_ids")
    def _ids_of(self, company_id, team_id, group_ids):
        """Ids of the internal users of the Salesman groups ``group_ids`` who work in the
        company and are members of the team (team 0: any), in id order. Kept in Odoo's
        cache, which is cleared when any of it changes: by Odoo when a user's groups,
        companies or archiving change, a group's users change, or a user is deleted; by
        this add-on when a user is created or a team membership changes (``res.users``,
        ``crm.team.member``)."""
        domain = self._belongs([company_id], group_ids)
        if team_id:
            domain.append(("crm_team_member_ids.crm_team_id", "=", team_id))
        # sudo: as _of; archived users and memberships left out whatever the caller's context
        Users = self.env["res.users"].sudo().with_context(active_test=True)
        # by id: no join of the partners to sort by name (the rotation sorts by id anyway)
        return tuple(Users.search(domain, order="id").ids)

    @api.model
    def _of_pools(self, pools):
        """``{(company id, team id): members}`` of ``pools``: ``_of`` of each, in a fixed
        number of queries whatever the number of pools (the preview)."""
        users = self._search(self._domain({company_id for company_id, _team_id in pools}))
        users.fetch(["company_ids"])
        team_ids = [team_id for _company_id, team_id in pools if team_id]
        teams = defaultdict(set)
        # sudo: the memberships of the pools' teams, read by the system
        for membership in (
            self.env["crm.team.member"]
            .sudo()
            .search_fetch(
                [("user_id", "in", users.ids), ("crm_team_id", "in", team_ids)],
                ["user_id", "crm_team_id"],
            )
        ):
            teams[membership.crm_team_id.id].add(membership.user_id.id)
        return {
            (company_id, team_id): users.filtered(
                lambda user, c=company_id, t=team_id: c in user.company_ids.ids
                and (not t or user.id in teams[t])
            )
            for company_id, team_id in pools
        }

    @api.model
    def _salesman_groups(self):
        """Ids of the Salesman group and of the groups that imply it: their users sell."""
        # the id alone: env.ref would check that the group exists, a query per lead
        salesman = self.env["ir.model.data"]._xmlid_to_res_id("sales_team.group_sale_salesman")
        # res.groups.all_implied_by_ids, from the groups' definitions Odoo keeps cached
        # (computing the field costs a lone lead a third of the search it saves)
        definitions = self.env["res.groups"]._get_group_definitions()
        return (salesman, *definitions.get_subset_ids([salesman]))

    @api.model
    def _domain(self, company_ids, group_ids=None):
        """The users in the rotation of the pools of ``company_ids``, whatever the team."""
        return [
            ("allocation_weight", ">", 0),
            ("allocation_paused", "=", False),
            *self._belongs(company_ids, group_ids),
        ]

    @api.model
    def _belongs(self, company_ids, group_ids=None):
        """The internal users of the Salesman groups (``group_ids``, default: from
        ``_salesman_groups``) who work in one of ``company_ids``."""
        domain = [
            ("share", "=", False),
            ("group_ids", "in", list(group_ids or self._salesman_groups())),
        ]
        if any(company_ids):
            domain.append(("company_ids", "in", [company for company in company_ids if company]))
        return domain

    @api.model
    def _search(self, domain, order=None):
        # sudo: the pool is chosen by the system, whoever creates the lead
        return (
            self.env["res.users"]
            .sudo()
            .search_fetch(
                domain,
                ["name", "allocation_weight", "allocation_daily_cap", "allocation_changed_at"],
                order=order,
            )
        )

    @api.model
    def _on_shift(self, members, next_shift=True, statuses=None):
        """``(drawing, away)``: the members the rotation draws among now, and those not at
        work with their availability (``{user: Status}``). Setting "Follow working hours and
        time off" off: all of them, nobody away. When nobody is at work: with
        ``next_shift`` and the setting "When nobody is at work" on next shift, those whose
        next working period starts first; else nobody (the lead is held). ``statuses``:
        those of the members, when already read (``{user id: Status}``)."""
        Availability = self.env["lead.allocation.availability"]
        if not members or not Availability._enabled():
            return members, {}
        statuses = statuses or Availability._status(members)
        drawing = members.filtered(lambda user: statuses[user.id].at_work)
        if not drawing and next_shift and Availability._off_hours() == "next_shift":
            first = first_to_start({user.id: statuses[user.id] for user in members})
            drawing = members.filtered(lambda user: user.id in first)
        return drawing, {
            user: statuses[user.id] for user in members if not statuses[user.id].at_work
        }

    @api.model
    def _flush(self, members):
        """Flush the leads, so that ``_received`` reads them on any cursor: only when a
        member has a daily cap (nothing is read otherwise)."""
        if members.filtered("allocation_daily_cap"):
            self.env["crm.lead"].flush_model(
                ["user_id", "allocation_method", "allocation_assigned_at", "create_date"]
            )

    @api.model
    def _received(self, members, cr, rotation=None):
        """Round-robin leads each capped member received since the start of their day,
        read on ``cr``, and those drawn for them by the requests still running (in
        ``rotation``). Their day is their own (their time zone) when the setting "Follow
        working hours and time off" is on, else the UTC day."""
        received = Counter()
        capped = members.filtered("allocation_daily_cap")
        if capped:
            midnights = self._midnights(capped)
            cr.execute(
                "SELECT lead.user_id, count(*) FROM crm_lead lead"
                " JOIN unnest(%s::int[], %s::timestamp[]) AS day(user_id, start)"
                " ON day.user_id = lead.user_id"
                " WHERE lead.allocation_method = 'round_robin'"
                # given to them today: a lead held overnight counts on the day it is given
                " AND COALESCE(lead.allocation_assigned_at, lead.create_date) >= day.start"
                " GROUP BY lead.user_id",
                (list(midnights), list(midnights.values())),
            )
            received.update(dict(cr.fetchall()))
        return self._with_running(received, capped, rotation)

    @api.model
    def _with_running(self, received, members, rotation):
        """``received`` plus the leads drawn for the capped ``members`` by the requests
        still running (in ``rotation``, if given)."""
        if rotation is not None:
            running = rotation.in_flight()
            received.update(
                {user.id: running[user.id] for user in members.filtered("allocation_daily_cap")}
            )
        return received

    @api.model
    def _midnights(self, users):
        """``{user id: naive UTC start of their day}`` for the daily caps."""
        Availability = self.env["lead.allocation.availability"]
        if Availability._enabled():
            return Availability._local_midnight(users)
        midnight = fields.Datetime.now().replace(hour=0, minute=0, second=0, microsecond=0)
        return dict.fromkeys(users.ids, midnight)

    @api.model
    def _under_cap(self, members, received_today):
        """The members under their daily cap."""
        return members.filtered(
            lambda user: not user.allocation_daily_cap
            or received_today[user.id] < user.allocation_daily_cap
        )

    @api.model
    def _pick(self, members, rotation, count, received_today, drawing=None):
        """``[(user, weights)]`` for the next ``count`` leads of the pool of ``members``,
        drawn among ``drawing`` (those at work, see ``_on_shift``; default: all),
        advancing ``rotation``; ``weights`` are those the user was picked among. A lead
        that every capped member is full for gets an empty user and no weights.
        ``received_today`` (see ``_received``) is updated with the picks.
        """
        # any change of the members' settings restarts the rotation, even one undone since
        generation = str(max(filter(None, members.mapped("allocation_changed_at")), default=""))
        available = None if drawing is None or drawing == members else set(drawing.ids)
        # records iterated from ``members`` share its prefetch: what the lead's create reads
        # of the chosen salespeople later (partner, e-mail) is one query for all of them
        by_id = {user.id: user for user in members}
        picks = []
        for _i in range(count):
            weights = {
                user.id: user.allocation_weight for user in self._under_cap(members, received_today)
            }
            among = {
                key: weight
                for key, weight in weights.items()
                if available is None or key in available
            }
            if not among:
                picks.append((members.browse(), {}))
                continue
            user = by_id[rotation.next(weights, generation, available)]
            received_today[user.id] += 1
            picks.append((user, among))
        return picks

    @api.model
    def _pick_other(self, members, rotation, received, owner, drawing=None):
        """``(user, weights)`` of the next pick of the rotation, among ``drawing``, that
        is not ``owner`` (a pick of them is passed over), or an empty user and no weights."""
        # a member other than the owner comes up within this many picks
        tries = sum(self._under_cap(drawing or members, received).mapped("allocation_weight")) + 1
        for _i in range(tries):
            user, weights = self._pick(members, rotation, 1, received, drawing)[0]
            if user != owner:
                return user, weights
        return members.browse(), {}
