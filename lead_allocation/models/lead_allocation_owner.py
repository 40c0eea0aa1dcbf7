from typing import NamedTuple

from odoo import api, models, tools
from odoo.tools import SQL

from ..allocation.owner import email_domain, is_public, public_domains, single_owner

# The host of a website, as ``allocation.owner.website_domain`` reads it, in SQL (an
# index on res.partner uses the same expression).
WEBSITE_DOMAIN_SQL = (
    r"substring(lower(website) from "
    r"'^\s*(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?(?:www\.)?([^/:?#\s]+)')"
)
EMAIL_DOMAIN_SQL = "split_part(email_normalized, '@', 2)"


class Match(NamedTuple):
    """The customer a new lead belongs to, as ``lead.allocation.owner._match`` found it."""

    owner: object  # res.users record, empty when the match is ambiguous
    customer: str  # the name of the contact or company matched
    how: str  # "contact", "email", "domain" or "ambiguous"
    detail: str = ""  # the e-mail address or the domain matched on


class LeadAllocationOwner(models.AbstractModel):
    """Who already owns the customer of a new lead: the salesperson (``user_id``) of its
    contact, of the contact's company, or of the company whose e-mail or website domain
    is the lead's e-mail domain. Two queries per create call, whatever the number of
    leads. Whether the owner gets the lead is ``lead.allocation.pool._decide``'s call."""

    _name = "lead.allocation.owner"
    _description = "Lead Allocation Customer Owner"

    @api.model
    def _enabled(self):
        # sudo: reading a setting
        return bool(
            self.env["ir.config_parameter"].sudo().get_param("lead_allocation.route_to_owner")
        )

    @api.model
    def _match(self, vals_list, companies):
        """``[Match or None]`` for the ``crm.lead`` create values of ``vals_list``, the
        lead of ``vals_list[i]`` belonging to company id ``companies[i]``."""
        emails = [
            "" if vals.get("partner_id") else tools.email_normalize(vals.get("email_from") or "")
            for vals in vals_list
        ]
        contacts = self._contacts(
            {vals["partner_id"] for vals in vals_list if vals.get("partner_id")},
            {email for email in emails if email},
        )
        matches = [
            self._contact_match(vals.get("partner_id"), email, contacts, company_id)
            for vals, email, company_id in zip(vals_list, emails, companies, strict=True)
        ]
        # sudo: reading a setting
        extra = (
            self.env["ir.config_parameter"].sudo().get_param("lead_allocation.public_email_domains")
        )
        patterns = public_domains(extra)
        domains = [
            "" if match else email_domain(email or vals.get("email_from") or "")
            for vals, email, match in zip(vals_list, emails, matches, strict=True)
        ]
        domains = ["" if is_public(domain, patterns) else domain for domain in domains]
        companies_by_domain = self._companies(set(filter(None, domains)), set(companies))
        for index, domain in enumerate(domains):
            if domain:
                found = [
                    row
                    for row in companies_by_domain.get(domain, ())
                    if row[3] in (None, companies[index])
                ]
                matches[index] = self._domain_match(domain, found)
        return matches

    @api.model
    def _why_not(self, match, company_id, statuses):
        """Why the owner of ``match`` may not receive a lead of ``company_id`` (None: they
        may): ``ambiguous``, ``ineligible`` (archived, not an internal sales user, not in
        the company), ``paused``, or ``away`` when ``statuses`` (of
        the setting "Follow working hours and time off") says they are not at work."""
        owner = match.owner
        if not owner:
            return "ambiguous"
        if (
            not owner.active
            or owner.share
            or company_id not in owner.company_ids.ids
            or not owner._has_group("sales_team.group_sale_salesman")
        ):
            return "ineligible"
        if owner.allocation_paused:
            return "paused"
        status = statuses.get(owner.id)
        if status and not status.at_work:
            return "away"
        return None

    @api.model
    def _contacts(self, partner_ids, emails):
        """``{partner id or e-mail: [(owner id, customer name, company id)]}`` of the
        contacts given or with one of ``emails``: their salesperson, else their company's;
        the company the contact belongs to (None: shared)."""
        if not partner_ids and not emails:
            return {}
        self.env["res.partner"].flush_model(
            ["user_id", "email_normalized", "commercial_partner_id"]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT contact.id, contact.email_normalized, contact.company_id,
                       COALESCE(contact.user_id, company.user_id),
                       CASE WHEN COALESCE(contact.user_id, company.user_id) = company.user_id
                            THEN company.name ELSE contact.name END
                  FROM res_partner contact
                  JOIN res_partner company ON company.id = contact.commercial_partner_id
                 WHERE contact.id = ANY(%(ids)s)
                    OR (contact.active AND contact.email_normalized = ANY(%(emails)s))
                 ORDER BY contact.id
                """,
                ids=list(partner_ids),
                emails=list(emails),
            )
        )
        found = {}
        for partner_id, email, company_id, owner_id, name in self.env.cr.fetchall():
            if partner_id in partner_ids:
                found.setdefault(partner_id, []).append((owner_id, name, company_id))
            if email in emails:
                found.setdefault(email, []).append((owner_id, name, company_id))
        return found

    @api.model
    def _contact_match(self, partner_id, email, contacts, company_id):
        """The Match of the lead's contact (``partner_id``), else of the contacts with its
        ``email`` that belong to its company ``company_id`` or to none."""
        rows = contacts.get(partner_id) if partner_id else contacts.get(email)
        if not partner_id:
            rows = [row for row in rows or () if row[2] in (None, company_id)]
        owners = {row[0] for row in rows or () if row[0]}
        if not owners:
            return None
        owner_id = single_owner(owners)
        how = "contact" if partner_id else "email"
        name = next(row[1] for row in rows if row[0] == owner_id) if owner_id else rows[0][1]
        return Match(self._user(owner_id), name, how if owner_id else "ambiguous", email or "")

    @api.model
    def _companies(self, domains, company_ids):
        """``{domain: [(company contact id, owner id, name, company id)]}`` of the active
        company contacts with a salesperson whose e-mail or website is on ``domains``."""
        if not domains:
            return {}
        self.env["res.partner"].flush_model(
            ["user_id", "email_normalized", "website", "is_company"]
        )
        self.env.cr.execute(
            SQL(
                """
                SELECT domain, id, user_id, name, company_id FROM (
                    SELECT %(email)s AS domain, id, user_id, name, company_id
                      FROM res_partner
                     WHERE is_company AND active AND %(email)s = ANY(%(domains)s)
                    UNION
                    SELECT %(website)s, id, user_id, name, company_id
                      FROM res_partner
                     WHERE is_company AND active AND %(website)s = ANY(%(domains)s)
                ) matched
                 WHERE user_id IS NOT NULL
                   AND (company_id IS NULL OR company_id = ANY(%(companies)s))
                 ORDER BY id
                """,
                email=SQL(EMAIL_DOMAIN_SQL),
                website=SQL(WEBSITE_DOMAIN_SQL),
                domains=list(domains),
                companies=list(company_ids),
            )
        )
        found = {}
        for domain, partner_id, owner_id, name, company_id in self.env.cr.fetchall():
            found.setdefault(domain, []).append((partner_id, owner_id, name, company_id))
        return found

    @api.model
    def _domain_match(self, domain, rows):
        if not rows:
            return None
        owner_id = single_owner(row[1] for row in rows)
        if not owner_id:
            names = ", ".join(sorted({row[2] for row in rows}))
            return Match(self._user(False), names, "ambiguous", domain)
        name = next(row[2] for row in rows if row[1] == owner_id)
        return Match(self._user(owner_id), name, "domain", domain)

    @api.model
    def _user(self, user_id):
        # sudo: the salesperson of a customer, whoever creates the lead (prefetched together)
        return self.env["res.users"].sudo().browse(user_id or ())
