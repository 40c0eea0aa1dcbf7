from odoo import models

from .lead_allocation_owner import EMAIL_DOMAIN_SQL, WEBSITE_DOMAIN_SQL


class ResPartner(models.Model):
    _inherit = "res.partner"

    # What lead.allocation.owner matches a new lead's customer on: the contact with the
    # lead's e-mail address, the company with its e-mail domain (by e-mail or website).
    _lead_allocation_email_idx = models.Index("(email_normalized)")
    _lead_allocation_email_domain_idx = models.Index(f"(({EMAIL_DOMAIN_SQL})) WHERE is_company")
    _lead_allocation_website_domain_idx = models.Index(f"(({WEBSITE_DOMAIN_SQL})) WHERE is_company")
