import logging

from odoo import api, fields, models
from odoo.tools import SQL, split_every

_logger = logging.getLogger(__name__)


class LeadAllocationSla(models.AbstractModel):
    """Re-allocation of untouched leads, per sales team (``crm.team.allocation_sla_hours``).

    A lead is *untouched* while it is still in the first stage of its team and, since
    it was assigned (``crm.lead.allocation_assigned_at``), its salesperson has authored
    no message in its chatter (a message, a note, a done activity and a change of a
    tracked field each leave one) and is not the last writer of the lead (its
    ``write_uid`` with a ``write_date`` after the assignment): only the last writer is
    stored, so an edit of untracked fields is forgotten once someone else (a colleague,
    a scheduled job) writes the lead. Leads are found by one query per run (it reads the
    leads of the teams' first stages only, by an index of ``crm.lead``), read again by one
    query per batch (one may have been touched since), moved by their pool's rotation
    (``lead.allocation.pool``) and committed batch by batch: a moved lead has a new
    assignment date, so a run that was interrupted never moves it twice.
    """

    _name = "lead.allocation.sla"
    _description = "Lead Allocation: Re-allocation of Untouched Leads"

    _batch_size = 100

    @api.model
    def _cron_reallocate(self):
        """Move every untouched lead whose delay has elapsed, batch by batch."""
        now = fields.Datetime.now()
        first_stages = self._first_stages()
        if not first_stages:
            return
        candidates = self._untouched(first_stages, now)
        for batch in split_every(self._batch_size, candidates.ids):
            leads = self._untouched(first_stages, now, ids=batch)
            if leads:
                with self.env.cr.savepoint():
                    self._reallocate(self._due(leads, now), now)
            if self.env["lead.allocation.job"]._commit_progress(len(batch)) <= 0:
                break

    @api.model
    def _first_stages(self):
        """``{team id: id of its first stage (False: none)}`` of the teams with a delay."""
        # sudo: the job covers the teams of every company, whichever user it runs as
        teams = self.env["crm.team"].sudo().search([("allocation_sla_hours", ">", 0)])
        Lead = self.env["crm.lead"]
        return {
            team.id: Lead._stage_find(team_id=team.id, domain=[("fold", "=", False)]).id
            for team in teams
        }

    @api.model
    def _untouched(self, first_stages, now, after_id=0, ids=None):
        """The untouched leads past their delay, by id: those above ``after_id``, or among
        ``ids`` if given (``_untouched_query``)."""
        self.env["crm.lead"].flush_model()
        self.env["crm.team"].flush_model(["allocation_sla_hours", "allocation_sla_max"])
        self.env["mail.message"].flush_model(["model", "res_id", "author_id", "date"])
        found = self.env.execute_query(self._untouched_query(first_stages, now, after_id, ids))
        # sudo: the system moves leads of every salesperson
        return (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            .browse(row[0] for row in found)
        )

    @api.model
    def _untouched_query(self, first_stages, now, after_id=0, ids=None):
        """The query of ``_untouched``. The first stage is matched as ``COALESCE(stage_id,
        0)``, as the index ``crm_lead_allocation_sla_candidate_idx`` holds it, so that only
        the leads of the teams' first stages are read: a lead without a stage counts as in
        the first stage, and a team without a stage only has those."""
        return SQL(
            """
            SELECT lead.id
              FROM crm_lead lead
              JOIN unnest(%(teams)s::int[], %(stages)s::int[]) AS first(team_id, stage_id)
                   ON first.team_id = lead.team_id
              JOIN crm_team team ON team.id = lead.team_id
              JOIN res_users owner ON owner.id = lead.user_id
             WHERE lead.active AND lead.user_id IS NOT NULL AND lead.id > %(after_id)s
               AND COALESCE(lead.stage_id, 0) = ANY(ARRAY[0, first.stage_id])
               AND %(among)s
               AND COALESCE(lead.allocation_sla_count, 0) < team.allocation_sla_max
               AND lead.allocation_assigned_at
                   <= %(now)s - make_interval(hours => team.allocation_sla_hours)
               -- edited by the salesperson since the assignment: the write date is
               -- when the writing transaction began, the assignment date is rounded
               -- down to the second, so the assigning transaction is not counted
               AND NOT (lead.write_uid = lead.user_id AND lead.write_date
                        >= lead.allocation_assigned_at + interval '1 second')
               -- a message, a note or a done activity of the salesperson
               AND NOT EXISTS (
                   SELECT 1 FROM mail_message message
                    WHERE message.model = 'crm.lead' AND message.res_id = lead.id
                      AND message.author_id = owner.partner_id
                      AND message.date >= lead.allocation_assigned_at)
             ORDER BY lead.id
            """,
            teams=list(first_stages),
            stages=[stage_id or 0 for stage_id in first_stages.values()],
            after_id=after_id,
            among=SQL("TRUE") if ids is None else SQL("lead.id = ANY(%s)", list(ids)),
            now=now,
        )

    @api.model
    def _due(self, leads, now):
        """The leads of ``leads`` whose delay has elapsed in working hours of their
        salesperson, when "Follow working hours and time off" is on (``_untouched``
        checked the hours of the clock, which are never fewer)."""
        Availability = self.env["lead.allocation.availability"]
        if not Availability._enabled():
            return leads
        due = leads.browse()
        for hours, team_leads in leads.grouped(
            lambda lead: lead.team_id.allocation_sla_hours
        ).items():
            starts = [(lead.user_id, lead.allocation_assigned_at) for lead in team_leads]
            deadlines = Availability._work_deadlines(starts, hours)
            due |= team_leads.browse(
                lead.id
                for lead, deadline in zip(team_leads, deadlines, strict=True)
                if deadline and deadline <= now
            )
        return due

    @api.model
    def _reallocate(self, leads, now):
        """Give each lead to the next salesperson of its pool, with a note in its chatter."""
        working = self.env["lead.allocation.availability"]._enabled()
        hours = {
            lead.id: lead.team_id.allocation_sla_hours
            if working
            else int((now - lead.allocation_assigned_at).total_seconds() // 3600)
            for lead in leads
        }
        moves = self.env["lead.allocation.pool"]._reassign(leads, hours, working)
        author = self.env.ref("base.partner_root")
        for lead in leads.filtered(lambda lead: lead.id in moves):
            vals = moves[lead.id]
            lead.write(dict(vals, allocation_sla_count=lead.allocation_sla_count + 1))
            lead.message_post(
                body=vals["allocation_reason"],
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                author_id=author.id,
            )
        _logger.info("Re-allocated %s of %s untouched lead(s)", len(moves), len(leads))
