from odoo import api, fields, models

ALLOCATION_METHODS = [
    ("round_robin", "Round Robin"),
    ("webhook", "Webhook"),
    ("sheet", "Google Sheets"),
    ("manual", "Manual"),
]


class CrmLead(models.Model):
    _inherit = "crm.lead"

    user_id = fields.Many2one(default=lambda self: self._default_allocation_user_id())
    allocation_method = fields.Selection(
        ALLOCATION_METHODS,
        string="Allocation",
        readonly=True,
        copy=False,
        index=True,
        help="How the salesperson was chosen when the lead was created.",
    )
    allocation_reason = fields.Char(
        readonly=True, copy=False, help="Why this salesperson got the lead."
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

    @api.model
    def _default_allocation_user_id(self):
        """Leave the salesperson empty when the rotation will choose one."""
        return False if self._allocates_for_current_user() else self.env.user

    @api.model
    def _allocates_for_current_user(self):
        """Whether leads created by the current user without a salesperson are allocated.

        Users limited to their own documents cannot create a colleague's lead (Odoo's
        record rules), and isolated Trusted Employees could not see it: theirs stay theirs.
        """
        if not self.env["lead.allocation.pool"]._enabled():
            return False
        user = self.env.user
        return self.env.su or (
            user.has_group("sales_team.group_sale_salesman_all_leads")
            and not user._is_lead_isolated()
        )

    @api.model_create_multi
    def create(self, vals_list):
        vals_list = [dict(vals) for vals in vals_list]
        self._allocate_salespeople(vals_list)
        return super().create(vals_list)

    def _creation_message(self):
        """The chatter's creation note also says who got the lead and why (no extra message)."""
        message = super()._creation_message()
        return f"{message} {self.allocation_reason}." if self.allocation_reason else message

    @api.model
    def _allocate_salespeople(self, vals_list):
        """Ask the pools (``lead.allocation.pool``) for the salesperson of each create
        value that has none, in place; a salesperson given by the caller is kept."""
        default_user = self.env.context.get("default_user_id")
        unassigned = []
        for vals in vals_list:
            if vals.get("user_id") or default_user:
                vals.setdefault("allocation_method", "manual")
            else:
                unassigned.append(vals)
        if unassigned and self._allocates_for_current_user():
            self.env["lead.allocation.pool"]._assign(unassigned)

    # ------------------------------------------------------------------
    # Lead isolation: Trusted Employees see only the leads assigned to them
    # (rules in security/lead_allocation_security.xml, switch in Settings)
    # ------------------------------------------------------------------

    # The first page of an isolated user's lead list (rule ``user_id = uid``, default
    # order) reads just its rows from this index, however few leads the user owns.
    _user_id_default_order_idx = models.Index(
        "(user_id, priority DESC, id DESC) WHERE active IS TRUE"
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
