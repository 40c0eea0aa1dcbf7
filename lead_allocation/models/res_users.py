from collections import Counter
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.addons.base.models.res_partner import _tz_get
from odoo.exceptions import AccessError

# Fields whose change restarts the rotation of the user's pools.
ROTATION_FIELDS = frozenset({"allocation_weight", "allocation_paused", "allocation_daily_cap"})
# Fields whose change moves the user into or out of allocation pools (who belongs to a pool
# is kept in Odoo's cache: lead.allocation.members._ids_of).
POOL_FIELDS = frozenset({"group_ids", "active", "company_ids", "share"})
# Fields a Sales Administrator may edit, from the Lead Allocations page, on the users who
# work in one of the companies the administrator is working in (see ``write``): the
# rotation's, and the working hours and time zone (the user's resource, see below).
ALLOCATION_FIELDS = ROTATION_FIELDS | {"allocation_calendar_id", "allocation_tz"}
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
    allocation_calendar_id = fields.Many2one(
        "resource.calendar",
        "Working Hours",
        compute="_compute_allocation_working_time",
        inverse="_inverse_allocation_calendar_id",
        help="The hours this salesperson works (their resource's calendar, the same as the "
        "employee's Working Hours when the Employees app is installed). Without hours of "
        "their own, a user works the company's hours; empty hours of their own mean "
        "flexible hours: at work whenever not on time off.",
    )
    allocation_tz = fields.Selection(
        _tz_get,
        "Time Zone",
        compute="_compute_allocation_working_time",
        inverse="_inverse_allocation_tz",
        help="The time zone the working hours and the daily cap are read in.",
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

    @api.depends("resource_ids.calendar_id", "resource_ids.tz", "tz", "company_id")
    def _compute_allocation_working_time(self):
        availability = self.env["lead.allocation.availability"]
        # sudo: the working hours of a colleague are not private (the resource may be of a
        # company the reader is not in)
        for user, user_sudo in zip(self, self.sudo(), strict=True):
            resource = availability._resource_of(user_sudo)
            company_hours = user_sudo.company_id.resource_calendar_id
            user.allocation_calendar_id = resource.calendar_id if resource else company_hours
            user.allocation_tz = availability._tz_of(user_sudo)

    def _inverse_allocation_calendar_id(self):
        for user in self:
            user._allocation_resource().calendar_id = user.allocation_calendar_id

    def _inverse_allocation_tz(self):
        availability = self.env["lead.allocation.availability"]
        for user in self.filtered("allocation_tz"):
            # sudo: a Sales Administrator sets a salesperson's time zone (Lead Allocations
            # page); no group may write resources without the Employees app
            availability._resource_of(user.sudo()).tz = user.allocation_tz
            user.tz = user.allocation_tz

    def _compute_allocation_lead_count(self):
        since = fields.Datetime.now() - timedelta(days=30)
        # sudo: counts per salesperson, shown to whoever may open the page
        groups = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [
                    ("user_id", "in", self._origin.ids),  # these users only, not every lead
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

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        # a new salesperson joins the pools of their companies
        self.env["lead.allocation.members"]._forget()
        return users

    def write(self, vals):
        sudo = (
            vals
            and set(vals) <= ALLOCATION_FIELDS
            and not self.env.su
            and self.env.user.has_group("sales_team.group_sale_manager")
        )
        if ROTATION_FIELDS.intersection(vals) or "active" in vals:
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
        result = super().write(vals)
        if POOL_FIELDS & vals.keys():  # Odoo clears the cache too, not after the commit
            self.env["lead.allocation.members"]._forget()
        return result

    def unlink(self):
        result = super().unlink()
        self.env["lead.allocation.members"]._forget()
        return result

    def _allocation_outside_companies(self):
        """The users of ``self`` who share no company with the companies the current user
        is working in (``env.companies``: those ticked in the company switcher, all of
        theirs by default), as Odoo's multi-company record rules decide."""
        companies = self.env.companies
        # sudo: the companies of the users, to compare them with the writer's
        return self.filtered(lambda user: not (user.sudo().company_ids & companies))

    def action_lead_allocation_time_off(self):
        """Record time off for this salesperson (a leave of their resource)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Time Off of %(name)s", name=self.name),
            "res_model": "lead.allocation.time.off",
            "view_mode": "form",
            "target": "new",
            "context": {"default_user_id": self.id},
        }

    def _allocation_resource(self):
        """The user's own resource (``resource.resource``), created when missing: the one the
        Employees app shares when installed. Without it, no group may create resources, so
        a user could not be given working hours at all."""
        self.ensure_one()
        # sudo: called only when a Sales Administrator sets a salesperson's hours or time off
        user = self.sudo()
        resource = self.env["lead.allocation.availability"]._resource_of(user)
        if not resource:
            resource = resource.create(
                {
                    "name": user.name,
                    "user_id": user.id,
                    "company_id": user.company_id.id,
                    "calendar_id": user.company_id.resource_calendar_id.id,
                    "tz": user.tz or "UTC",
                    "resource_type": "user",
                }
            )
        return resource

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
