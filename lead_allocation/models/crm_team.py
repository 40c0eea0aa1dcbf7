from odoo import fields, models

UNTOUCHED_HELP = (
    "A lead is untouched while it is still in the first stage of the team's pipeline, "
    "its salesperson has marked no activity done and posted no message or note on it, "
    "and has not edited it since it was assigned to them."
)


class CrmTeam(models.Model):
    _inherit = "crm.team"

    allocation_sla_hours = fields.Integer(
        "Re-allocate leads untouched after N hours",
        default=0,
        help="Hourly, a lead of this team left untouched for this many hours goes to the next "
        "salesperson of the team's rotation (never back to the same person). 0: off. "
        + UNTOUCHED_HELP,
    )
    allocation_sla_max = fields.Integer(
        "Maximum re-allocations per lead",
        default=1,
        help="How many times one lead may be re-allocated for being untouched.",
    )

    _allocation_sla_hours_positive = models.Constraint(
        "CHECK (allocation_sla_hours >= 0)",
        "The re-allocation delay cannot be negative (0 turns it off).",
    )
    _allocation_sla_max_positive = models.Constraint(
        "CHECK (allocation_sla_max >= 0)",
        "The maximum number of re-allocations cannot be negative.",
    )
