from datetime import datetime, time

from pytz import timezone, utc

from odoo import api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.tools.misc import format_date

from ..allocation.availability import local


class LeadAllocationTimeOff(models.TransientModel):
    """Time off of a salesperson, recorded from the Lead Allocations page: a leave
    (``resource.calendar.leaves``) of their resource, the same record the Time Off app
    writes when it validates a leave. Whole days, in the salesperson's time zone."""

    _name = "lead.allocation.time.off"
    _description = "Lead Allocation: Time Off"

    user_id = fields.Many2one("res.users", "Salesperson", required=True, readonly=True)
    date_from = fields.Date("From", required=True, default=fields.Date.context_today)
    date_to = fields.Date("To", required=True, default=fields.Date.context_today)
    name = fields.Char(
        "Reason",
        help="Seen only by managers: allocation reasons and the preview say only "
        '"away until …", never the reason.',
    )
    tz = fields.Char("Time Zone", compute="_compute_tz")
    planned = fields.Text("Time Off Planned", compute="_compute_planned")

    @api.depends("user_id")
    def _compute_tz(self):
        availability = self.env["lead.allocation.availability"]
        for wizard in self:
            # sudo: a time zone is not private
            wizard.tz = availability._tz_of(wizard.user_id.sudo())

    @api.depends("user_id")
    def _compute_planned(self):
        availability = self.env["lead.allocation.availability"]
        now = fields.Datetime.now()
        for wizard in self:
            # sudo: only the dates of the salesperson's own leaves, for a Sales Administrator
            # (the leaves of others are hidden from everyone but their owner without the
            # Time Off app)
            resource = availability._resource_of(wizard.user_id.sudo())
            leaves = resource and resource.env["resource.calendar.leaves"].search(
                [("resource_id", "=", resource.id), ("date_to", ">=", now)], limit=10
            )
            tz = resource.tz or "UTC"
            wizard.planned = "\n".join(
                self.env._(
                    "%(start)s to %(end)s",
                    start=format_date(self.env, local(leave.date_from, tz).date()),
                    end=format_date(self.env, local(leave.date_to, tz).date()),
                )
                for leave in leaves or []
            )

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        if any(wizard.date_to < wizard.date_from for wizard in self):
            raise ValidationError(self.env._("The time off cannot end before it starts."))

    def action_confirm(self):
        """Record the leave, from the first day's midnight to the last day's end, local."""
        self.ensure_one()
        if not self.env.user.company_ids & self.user_id.company_ids:
            raise AccessError(self.env._("This salesperson works in none of your companies."))
        resource = self.user_id._allocation_resource()
        zone = timezone(resource.tz or "UTC")

        def utc_of(day, at):
            return zone.localize(datetime.combine(day, at)).astimezone(utc).replace(tzinfo=None)

        # sudo: without the Time Off app, only the owner of a leave may write it; a Sales
        # Administrator records it for their salesperson (the wizard is theirs only)
        resource.env["resource.calendar.leaves"].create(
            {
                "name": self.name or self.env._("Time off"),
                "resource_id": resource.id,
                "date_from": utc_of(self.date_from, time.min),
                "date_to": utc_of(self.date_to, time(23, 59, 59)),
                "time_type": "leave",
            }
        )
        return {"type": "ir.actions.act_window_close"}
