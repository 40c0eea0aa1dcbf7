from odoo import models


class LeadAllocationClaim(models.Model):
    """The claim of a ticket of ``lead.allocation.state`` (the ticket is its id): inserted
    in the transaction that saves the leads drawn under that ticket, it exists once they
    are committed, and never otherwise."""

    _name = "lead.allocation.claim"
    _description = "Lead Allocation Claim"
    _log_access = False
