import logging

from odoo import api, models

_logger = logging.getLogger(__name__)


class LeadAllocationHold(models.AbstractModel):
    """Leads held until working hours: saved unassigned (``allocation_method`` held)
    because nobody of their pool was at work, with "When nobody is at work" set to hold.

    A scheduled job gives them out, oldest first, by their pool's rotation
    (``lead.allocation.pool._reassign``) as soon as someone of the pool is at work, and
    commits batch by batch: a lead given out is no longer held, so a run that was
    interrupted never gives a lead twice (what a rolled-back batch drew is given back to
    the rotation, see ``lead.allocation.state``).
    """

    _name = "lead.allocation.hold"
    _description = "Lead Allocation: Leads Held Until Working Hours"

    _batch_size = 100

    @api.model
    def _cron_release(self):
        """Give out the held leads whose pool has someone at work, batch by batch."""
        after_id, released = 0, 0
        while True:
            leads = self._held(after_id)
            if not leads:
                break
            with self.env.cr.savepoint():
                released += self._release(leads)
            after_id = leads[-1].id
            if self.env["lead.allocation.job"]._commit_progress(len(leads)) <= 0:
                break
        _logger.info("Gave out %s lead(s) held until working hours", released)

    @api.model
    def _held(self, after_id):
        """The next batch of held leads, oldest first, ids above ``after_id``."""
        # sudo: the job gives out the held leads of every company and team
        return (
            self.env["crm.lead"]
            .sudo()
            .search(
                [
                    ("allocation_method", "=", "held"),
                    ("user_id", "=", False),
                    ("id", ">", after_id),
                ],
                order="id",
                limit=self._batch_size,
            )
        )

    @api.model
    def _release(self, leads):
        """Give each of ``leads`` to the next salesperson at work of its pool, if any."""
        moves = self.env["lead.allocation.pool"]._reassign(leads)
        for lead in leads.filtered(lambda lead: lead.id in moves):
            lead.write(moves[lead.id])
        return len(moves)
