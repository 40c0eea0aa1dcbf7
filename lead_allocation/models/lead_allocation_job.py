from odoo import api, models


class LeadAllocationJob(models.AbstractModel):
    """What the scheduled jobs of the add-on share (re-allocation of untouched leads,
    leads held until working hours, Google Sheets sync): progress, batch by batch."""

    _name = "lead.allocation.job"
    _description = "Lead Allocation: Scheduled Job"

    @api.model
    def _commit_progress(self, processed, remaining=None):
        """Commit the work done when running as the cron (``ir.cron._commit_progress``)
        and return the time left for the cron run; outside the cron, commit nothing (a
        test, an action run by hand: the caller's transaction decides)."""
        if not self.env.context.get("cron_id"):
            return float("inf")
        return self.env["ir.cron"]._commit_progress(processed, remaining=remaining)
