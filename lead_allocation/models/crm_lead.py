from odoo import api, fields, models

from .crm_team import UNTOUCHED_HELP

ALLOCATION_METHODS = [
    ("round_robin", "Round Robin"),
    ("owner", "Existing Customer"),
    ("webhook", "Webhook"),
    ("sheet", "Google Sheets"),
    ("manual", "Manual"),
    ("creator", "Kept by Creator"),
    ("unassigned", "Unassigned: Nobody Eligible"),
    ("capped", "Unassigned: Daily Caps Reached"),
    ("held", "Held Until Working Hours"),
    ("reallocated", "Re-allocated (untouched)"),
]


class CrmLead(models.Model):
    _inherit = "crm.lead"

    allocation_method = fields.Selection(
        ALLOCATION_METHODS,
        string="Allocation",
        readonly=True,
        copy=False,
        index=True,
        help="How the salesperson was chosen when the lead was created: by the rotation "
        "(Round Robin), the salesperson of the existing customer (Existing Customer), "
        "named by an integration (Webhook, Google Sheets), given in the "
        "creation values (Manual), kept by its creator (automatic allocation off, or a "
        "creator who may own only their own leads), or left unassigned (nobody in the "
        "rotation, or every daily cap reached), or held until someone of the rotation is at "
        "work (Held Until Working Hours); Re-allocated when it went to another "
        "salesperson for being untouched.",
    )
    allocation_reason = fields.Char(
        readonly=True,
        copy=False,
        help="Who got the lead when it was created, and by which rule.",
    )
    allocation_keeps_own = fields.Boolean(
        compute="_compute_allocation_keeps_own",
        help="Technical: the leads the current user creates stay theirs (the rotation "
        "does not run for them).",
    )
    allocation_expected_share = fields.Float(
        "Expected Share (%)",
        readonly=True,
        copy=False,
        digits=(16, 1),
        aggregator="avg",
        help="Share of the round-robin leads the salesperson's weight gave them when the "
        "rotation gave them this lead (their weight over the weights of the pool): compare "
        "its average with the part of the leads they received.",
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

    # Lead intake (webhook, Google Sheets): idempotency, see models/lead_allocation_intake.py
    intake_integration_id = fields.Many2one(
        "res.users",
        string="Created by Integration",
        readonly=True,
        copy=False,
        help="Integration user whose webhook call or import created this lead.",
    )
    intake_external_id = fields.Char(
        "Idempotency Key",
        readonly=True,
        copy=False,
        help="Key the integration sent with the lead (Idempotency-Key header or "
        "external_id): the same key from the same integration never creates a second lead.",
    )
    intake_payload_hash = fields.Char(
        readonly=True,
        copy=False,
        help="Technical: fingerprint of the data sent with the idempotency key, to tell a "
        "retry from a different lead reusing the key.",
    )

    _intake_external_id_unique = models.UniqueIndex(
        "(intake_integration_id, intake_external_id) WHERE intake_external_id IS NOT NULL",
        "This idempotency key was already used by this integration.",
    )
    # the leads the re-allocation of untouched leads looks at, by team and stage (the leads
    # of a team's first stage, or without a stage: lead.allocation.sla._untouched)
    _allocation_sla_candidate_idx = models.Index(
        "(team_id, COALESCE(stage_id, 0)) WHERE active AND user_id IS NOT NULL"
    )
    # the round-robin leads a salesperson was given since a time (the daily caps:
    # lead.allocation.members._received, same expression), without reading older leads
    _allocation_daily_cap_idx = models.Index(
        "(user_id, COALESCE(allocation_assigned_at, create_date))"
        " WHERE allocation_method = 'round_robin'"
    )

    @api.depends("user_id")
    def _compute_allocation_assigned_at(self):
        now = fields.Datetime.now()
        for lead in self:
            lead.allocation_assigned_at = now if lead.user_id else False

    @api.depends_context("uid")
    def _compute_allocation_keeps_own(self):
        Pool = self.env["lead.allocation.pool"]
        self.allocation_keeps_own = self.env.user._is_lead_isolated() or (
            Pool._enabled() and not Pool._allocates_for_current_user()
        )

    @api.model
    def default_get(self, fields):
        """The salesperson starts empty when the rotation will choose one: neither Odoo's
        default (the current user) nor a context default (a sales team's pipeline gives
        the current user) is a choice the user made."""
        defaults = super().default_get(fields)
        if (
            defaults.get("user_id")
            and self.env["lead.allocation.pool"]._allocates_for_current_user()
        ):
            defaults["user_id"] = False
        return defaults

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        self.env["lead.allocation.pool"]._decide(vals_list)
        leads = super().create(vals_list)
        leads._log_allocation_reason()
        return leads

    def _log_allocation_reason(self):
        """Post each lead's allocation reason as a note of OdooBot, where the chatter
        shows it (it hides the body of the creation message): one batch insert, nobody
        notified."""
        context = self.env.context
        if context.get("tracking_disable") or context.get("mail_create_nolog"):
            return
        bodies = {lead.id: lead.allocation_reason for lead in self if lead.allocation_reason}
        if bodies:
            self.browse(list(bodies))._message_log_batch(
                bodies, author_id=self.env["ir.model.data"]._xmlid_to_res_id("base.partner_root")
            )

    def _notify_salespeople(self):
        """Tell each salesperson of these leads that they were assigned, as Odoo does
        for a new lead (not the current user, not an archived user), but once: Odoo's own
        "You have been assigned to" for one lead, one message listing them for several
        (a batch of 500 leads does not send hundreds of e-mails). For leads created with
        ``mail_auto_subscribe_no_notify``."""
        # sudo: the salespeople of the leads, to notify them
        for user, leads in self.sudo().grouped("user_id").items():
            if not user or user == self.env.user or not user.active:
                continue
            partner = user.partner_id
            leads = self.browse(leads.ids).with_context(lang=partner.lang)
            if len(leads) == 1:
                leads._message_auto_subscribe_notify(partner.ids, "mail.message_user_assigned")
                continue
            env = leads.env  # in the salesperson's language
            body = env["ir.qweb"]._render(
                "lead_allocation.message_leads_assigned",
                {"leads": leads, "user": user},
                minimal_qcontext=True,
            )
            # not attached to one of the leads: it is about all of them
            env["mail.thread"].message_notify(
                subject=env._("You have been assigned %(count)s new leads", count=len(leads)),
                body=env["mail.render.mixin"]._replace_local_links(body),
                partner_ids=partner.ids,
                email_layout_xmlid="mail.mail_notification_layout",
                model_description=env["ir.model"]._get(self._name).display_name,
            )

    # ------------------------------------------------------------------
    # Lead isolation: Trusted Employees see only the leads assigned to them
    # (rules in security/lead_allocation_security.xml, switch in Settings)
    # ------------------------------------------------------------------

    # The first page of an isolated user's lead list (rule ``user_id = uid``, default
    # order) reads just its rows from this index, however few leads the user owns; their
    # counts (the pager, ``search_count``, by type) are read from the index alone, which
    # holds the columns of the company rule and of the type.
    _user_id_default_order_idx = models.Index(
        "(user_id, priority DESC, id DESC) INCLUDE (company_id, type) WHERE active IS TRUE"
    )

    def write(self, vals):
        former = {}
        if "user_id" in vals and self.env["res.users"]._lead_isolation_enabled():
            former = {lead.id: lead.user_id for lead in self}
        res = super().write(vals)
        if former:
            moved = self.filtered(lambda lead: lead.user_id != former[lead.id])
            if moved:
                self._lead_isolation_unsubscribe(moved)
        return res

    @api.model
    def _lead_isolation_unsubscribe(self, leads=None):
        """Unsubscribe isolated users from the leads (default: all) they no longer own.

        A follower keeps receiving a lead's messages by e-mail and in the inbox; a
        Trusted Employee whose lead went to a colleague must not.
        """
        # sudo: the system removes followers of leads whose salesperson changed (or of
        # every lead when isolation is turned on), whoever made the change
        trusted = self.env.ref("lead_allocation.group_trusted_employee").sudo()
        isolated = trusted.all_user_ids.filtered(lambda user: user._is_lead_isolated())
        if not isolated:
            return
        domain = [("res_model", "=", self._name), ("partner_id", "in", isolated.partner_id.ids)]
        if leads is not None:
            domain.append(("res_id", "in", leads.ids))
        followers = self.env["mail.followers"].sudo().search(domain)
        leads = self.sudo().with_context(active_test=False).browse(followers.mapped("res_id"))
        owners = {lead.id: lead.user_id.partner_id for lead in leads}
        followers.filtered(lambda follower: follower.partner_id != owners[follower.res_id]).unlink()

    def _notify_get_recipients(self, message, msg_vals=False, **kwargs):
        """Never notify an isolated user of a lead that is not theirs (a follower since
        before they got the role, a mention, an activity on it), by e-mail or inbox."""
        recipients = super()._notify_get_recipients(message, msg_vals=msg_vals, **kwargs)
        if len(self) != 1 or not self.env["res.users"]._lead_isolation_enabled():
            return recipients
        # sudo: checking the roles of the recipients, whoever posts
        Users = self.env["res.users"].sudo()
        return [
            recipient
            for recipient in recipients
            if not recipient.get("uid")
            or recipient["uid"] == self.user_id.id
            or not Users.browse(recipient["uid"])._is_lead_isolated()
        ]
