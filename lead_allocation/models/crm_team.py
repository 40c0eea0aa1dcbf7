from odoo import fields, models
from odoo.fields import Domain

# Values of ``crm.lead.allocation_method`` of leads saved without a salesperson on purpose,
# to be given one later by this add-on: Odoo's Rule-Based Assignment leaves them alone.
HELD_METHODS = ("held",)

UNTOUCHED_HELP = (
    "A lead is untouched while it is still in the first stage of the team's pipeline and, "
    "since it was assigned to its salesperson, they have left nothing in its chatter (no "
    "message, note or done activity, no change of a tracked field such as the stage) and "
    "were not the last to edit it: an edit that leaves nothing in the chatter counts only "
    "until someone else edits the lead."
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

    def _get_lead_to_assign_domain(self):
        """The leads Odoo's Rule-Based Assignment gives to the members of the teams of
        ``self`` (those without a salesperson), except those the add-on holds back
        (``HELD_METHODS``)."""
        return Domain.AND(
            [super()._get_lead_to_assign_domain(), [("allocation_method", "not in", HELD_METHODS)]]
        )
