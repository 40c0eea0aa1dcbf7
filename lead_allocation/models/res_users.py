from collections import Counter
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.exceptions import AccessError

# Fields a Sales Administrator may edit, from the Lead Allocations page, on the users who
# work in one of the companies the administrator is working in (see ``write``).
ALLOCATION_FIELDS = frozenset({"allocation_weight", "allocation_paused", "allocation_daily_cap"})
# Who may read the rotation settings of colleagues: the page is under CRM > Configuration,
# which only Sales Administrators see.
ALLOCATION_READERS = "sales_team.group_sale_manager"
# The record rule that lead isolation turns on and off (see res.config.settings).
ISOLATION_RULE = "lead_allocation.crm_lead_rule_trusted_employee"


class ResUsers(models.Model):
    _inherit = "res.users"

    allocation_weight = fields.Integer(
        default=0,
        copy=False,
        groups=ALLOCATION_READERS,
        help="Share of new leads this salesperson receives by round robin, relative to the "
        "other salespeople: 1 for everyone gives equal shares, 10 against 5 gives twice as "
        "many. 0 keeps the user out of the rotation.",
    )
    allocation_paused = fields.Boolean(
        "Paused",
        copy=False,
        groups=ALLOCATION_READERS,
        help="Temporarily out of the rotation (holiday, sick leave) without losing the weight. "
        "Leads missed while paused are not caught up afterwards.",
    )
    allocation_daily_cap = fields.Integer(
        "Daily Cap",
        default=0,
        copy=False,
        groups=ALLOCATION_READERS,
        help="Most leads this salesperson receives by round robin in one day (UTC); "
        "0 means no cap.",
    )
    allocation_lead_count = fields.Integer(
        "Leads (30 days)",
        compute="_compute_allocation_lead_count",
        groups=ALLOCATION_READERS,
        help="Leads allocated to this salesperson (round robin, webhook or Google Sheets) "
        "in the last 30 days.",
    )
    allocation_changed_at = fields.Datetime(
        readonly=True,
        copy=False,
        help="Technical: last change of the allocation settings; a change restarts the "
        "rotation of the user's pools even when it is undone before the next lead.",
    )
    allocation_editable = fields.Boolean(
        compute="_compute_allocation_editable",
        help="Technical: whether the current user may edit the allocation fields of this "
        "user (a Sales Administrator working in one of this user's companies).",
    )

    _allocation_weight_positive = models.Constraint(
        "CHECK(allocation_weight >= 0)", "The allocation weight cannot be negative."
    )
    _allocation_daily_cap_positive = models.Constraint(
        "CHECK(allocation_daily_cap >= 0)", "The daily cap cannot be negative."
    )

    def _compute_allocation_editable(self):
        manager = self.env.user.has_group("sales_team.group_sale_manager")
        outside = self._allocation_outside_companies() if manager else self
        for user in self:
            user.allocation_editable = user not in outside

    def _compute_allocation_lead_count(self):
        since = fields.Datetime.now() - timedelta(days=30)
        # sudo: counts per salesperson, shown to whoever may open the page
        groups = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [
                    ("user_id", "!=", False),
                    ("allocation_method", "in", ("round_robin", "webhook", "sheet")),
                    ("create_date", ">=", since),
                ],
                ["user_id"],
                ["__count"],
            )
        )
        received = Counter({user.id: count for user, count in groups})
        for user in self:
            user.allocation_lead_count = received[user.id]

    def write(self, vals):
        sudo = (
            vals
            and set(vals) <= ALLOCATION_FIELDS
            and not self.env.su
            and self.env.user.has_group("sales_team.group_sale_manager")
        )
        if ALLOCATION_FIELDS.intersection(vals) or "active" in vals:
            vals = dict(vals, allocation_changed_at=fields.Datetime.now())
        if sudo:
            outside = self._allocation_outside_companies()
            if outside:
                raise AccessError(
                    self.env._(
                        "You cannot change the lead allocation of %(users)s: they work in "
                        "none of the companies you are working in.",
                        users=", ".join(outside.sudo().mapped("name")),
                    )
                )
            # sudo: Sales Administrators have no write access on users; they may change
            # only the allocation fields, which is what the Lead Allocations page edits,
            # and only of users of the companies they work in (checked above)
            return super(ResUsers, self.sudo()).write(vals)
        return super().write(vals)

    def _allocation_outside_companies(self):
        """The users of ``self`` who share no company with the companies the current user
        is working in (``env.companies``: those ticked in the company switcher, all of
        theirs by default), as Odoo's multi-company record rules decide."""
        companies = self.env.companies
        # sudo: the companies of the users, to compare them with the writer's
        return self.filtered(lambda user: not (user.sudo().company_ids & companies))

    def _is_lead_isolated(self):
        """Whether this user sees only the leads assigned to them.

        The roles are checked first (cached): for everybody else, no query at all.
        """
        self.ensure_one()
        return (
            self.has_group("lead_allocation.group_trusted_employee")
            and not self.has_group("sales_team.group_sale_manager")
            and self._lead_isolation_enabled()
        )

    @api.model
    @tools.ormcache()
    def _lead_isolation_enabled(self):
        """Whether "Isolate assigned leads from standard users" is on: the isolation rule
        is active. Cached in the registry: writing a rule clears this cache in every
        worker, like the rule caches themselves."""
        # sudo: reading whether a rule is active reveals nothing
        rule = self.env.ref(ISOLATION_RULE, raise_if_not_found=False)
        return bool(rule and rule.sudo().active)
