from odoo import api, models
from odoo.tools.misc import format_datetime


class LeadAllocationReason(models.AbstractModel):
    """The words of ``crm.lead.allocation_reason``, one method per allocation method.

    Words only: which one applies is decided by ``lead.allocation.pool._decide`` (and
    ``_reassign``). A reason is read by the lead's salesperson: it names people and
    rules, never a colleague's private data.
    """

    _name = "lead.allocation.reason"
    _description = "Lead Allocation Reason"

    @api.model
    def _manual(self, user):
        return self.env._(
            "Assigned to %(user)s when created by %(author)s",
            user=user.name,
            author=self.env.user.name,
        )

    @api.model
    def _named(self, user, method, origin):
        """A salesperson named by an integration (``method`` webhook or sheet)."""
        if method == "webhook":
            return self.env._(
                "Assigned to %(user)s by webhook (integration: %(origin)s)",
                user=user.name,
                origin=origin,
            )
        return self.env._(
            "Assigned to %(user)s by %(method)s (%(origin)s)",
            user=user.name,
            method=dict(self.env["crm.lead"]._fields["allocation_method"].selection).get(
                method, method
            ),
            origin=origin,
        )

    @api.model
    def _creator(self, why):
        """Kept by its creator, ``why``: ``isolated``, ``own`` or ``off``."""
        if why == "isolated":
            return self.env._(
                "Kept by its creator: a Trusted Employee may own only their own leads"
            )
        if why == "own":
            return self.env._("Kept by its creator: they may own only their own leads")
        return self.env._("Kept by its creator: automatic allocation is off")

    @api.model
    def _round_robin(self, user, weights, away=None):
        """By the rotation, among ``weights``; ``away``: the members passed over for not
        being at work, in words (``_away``)."""
        reason = self.env._(
            "Assigned to %(user)s by round robin (weight %(weight)s of %(total)s)",
            user=user.name,
            weight=weights[user.id],
            total=sum(weights.values()),
        )
        return self._with_away(reason, away)

    @api.model
    def _with_away(self, reason, away):
        """``reason``, then ``away`` (see ``_away``)."""
        return f"{reason}; {away}" if away else reason

    @api.model
    def _away(self, statuses, first_back=False):
        """Each member of ``statuses`` (``{user: Status}``) and their availability: "Sam
        Senior: away until 14 Dec" (never why: a leave's type stays private); "": none.
        ``first_back``: nobody is at work, those back first were drawn among."""
        Availability = self.env["lead.allocation.availability"]
        notes = [
            self.env._(
                "%(user)s: %(availability)s",
                user=user.name,
                availability=Availability._describe(user, status),
            )
            for user, status in sorted(statuses.items(), key=lambda item: item[0].name)
        ]
        if first_back:
            notes.insert(0, self.env._("nobody is at work now: the first back gets it"))
        return "; ".join(notes)

    @api.model
    def _owner(self, match):
        """Given to the salesperson of the customer of ``match`` (``lead.allocation.owner``)."""
        return self.env._(
            "Assigned to %(user)s: salesperson of %(customer)s (%(how)s)",
            user=match.owner.name,
            customer=match.customer,
            how=self._matched_by(match),
        )

    @api.model
    def _owner_passed_over(self, match, why):
        """Why the customer's salesperson did not get the lead (``why``: see
        ``lead.allocation.owner._why_not``)."""
        if why == "ambiguous" and "@" in match.detail:
            return self.env._(
                "no existing customer: several contacts with the e-mail address %(email)s "
                "have different salespeople",
                email=match.detail,
            )
        if why == "ambiguous":
            return self.env._(
                "no existing customer: several customers with different salespeople "
                "match the e-mail domain %(domain)s",
                domain=match.detail,
            )
        if why == "paused":
            status = self.env._("is paused")
        elif why == "ineligible":
            status = self.env._("cannot receive leads of this company")
        else:  # away: when they are back, the rotation's part of the reason says
            status = self.env._("is not at work")
        return self.env._(
            "%(user)s, salesperson of %(customer)s, %(status)s",
            user=match.owner.name,
            customer=match.customer,
            status=status,
        )

    @api.model
    def _matched_by(self, match):
        if match.how == "domain":
            return self.env._("matched by e-mail domain %(domain)s", domain=match.detail)
        if match.how == "email":
            return self.env._("matched by e-mail address %(email)s", email=match.detail)
        return self.env._("the lead's contact")

    @api.model
    def _unassigned(self, method, team=None, away=None):
        """Left unassigned: ``method`` ``capped``, ``unassigned`` (nobody in the rotation
        of the pool of ``team``), ``held`` (nobody of it at work: ``away``, in words) or
        ``off`` (automatic allocation off)."""
        if method == "off":
            return self.env._("Left unassigned: automatic allocation is off")
        pool = self._pool_name(team)
        if method == "held":
            reason = self.env._(
                "Held until working hours: nobody in the rotation of %(pool)s is at work",
                pool=pool,
            )
            return self._with_away(reason, away)
        if method == "capped":
            return self.env._(
                "Left unassigned: every salesperson in the rotation of %(pool)s "
                "reached their daily cap",
                pool=pool,
            )
        return self.env._(
            "Left unassigned: nobody in the rotation of %(pool)s (weight above 0, not paused)",
            pool=pool,
        )

    @api.model
    def _released(self, user, weights, since):
        """A lead held until working hours, given out once someone was at work."""
        return self.env._(
            "%(reason)s, when working hours began (held since %(since)s)",
            reason=self._round_robin(user, weights),
            since=format_datetime(self.env, since, dt_format="short"),
        )

    @api.model
    def _reallocated(self, former, user, hours, working=False):
        """Moved for being untouched for ``hours`` hours (``working``: of work)."""
        if working:
            return self.env._(
                "Re-allocated from %(former)s to %(user)s: untouched for %(hours)s working hours",
                former=former.name,
                user=user.name,
                hours=hours,
            )
        return self.env._(
            "Re-allocated from %(former)s to %(user)s: untouched for %(hours)s hours",
            former=former.name,
            user=user.name,
            hours=hours,
        )

    @api.model
    def _pool_name(self, team):
        # sudo: the name of the lead's team, for the reason
        if team:
            return self.env._("the team %(team)s", team=team.sudo().name)
        return self.env._("the leads without a team")
