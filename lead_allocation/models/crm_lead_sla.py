from odoo import api, fields, models

from .crm_team import UNTOUCHED_HELP


# Kept apart from crm_lead.py while the allocation methods are reworked there.
class CrmLead(models.Model):
    """Re-allocation of untouched leads (``lead.allocation.sla``): its fields on the lead."""

    _inherit = "crm.lead"  # pylint: disable=consider-merging-classes-inherited

    allocation_method = fields.Selection(
        selection_add=[("reallocated", "Re-allocated (untouched)")],
        ondelete={"reallocated": "set null"},
    )
    allocation_assigned_at = fields.Datetime(
        "Assigned On",
        compute="_compute_allocation_assigned_at",
        store=True,
        readonly=True,
        copy=False,
        index=True,
        help="When the current salesperson got the lead: the start of the delay after which "
        "an untouched lead is re-allocated. " + UNTOUCHED_HELP,
    )
    allocation_sla_count = fields.Integer(
        "Re-allocations",
        default=0,
        readonly=True,
        copy=False,
        help="How many times the lead went to another salesperson for being untouched.",
    )

    @api.depends("user_id")
    def _compute_allocation_assigned_at(self):
        now = fields.Datetime.now()
        for lead in self:
            lead.allocation_assigned_at = now if lead.user_id else False
