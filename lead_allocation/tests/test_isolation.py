"""Lead isolation: with "Isolate assigned leads from standard users" on, a Trusted Employee
who is not a Sales Administrator sees exactly the leads assigned to them, on every path.

The leak probes count, path by path, the *foreign* leads (a colleague's, unassigned,
archived) that the isolated user can reach: it must be 0 everywhere.
"""

import functools
import json
from datetime import datetime, timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import LeadAllocationCase

TRUSTED = "lead_allocation.group_trusted_employee"


def _set_isolation(env, enabled):
    env["res.config.settings"].create({"lead_isolation_enabled": enabled}).set_values()


def _build(cls):
    """Users, leads and everything hanging on leads (messages, files, activities...)."""
    env = cls.env
    # Ownership is set explicitly below: no rotation in these tests.
    env["ir.config_parameter"].set_param("lead_allocation.auto_allocation_enabled", False)
    cls.isolated = new_test_user(
        env,
        "la_trusted",
        name="Tess Trusted",
        groups=f"sales_team.group_sale_salesman_all_leads,base.group_allow_export,{TRUSTED}",
    )
    cls.isolated.notification_type = "inbox"  # notified messages land in the inbox
    cls.trusted_own_docs = new_test_user(env, "la_trusted_own", name="Owen Trusted", groups=TRUSTED)
    cls.trusted_manager = new_test_user(
        env, "la_trusted_mgr", name="Max Trusted", groups=f"sales_team.group_sale_manager,{TRUSTED}"
    )
    cls.colleague = new_test_user(
        env, "la_colleague", name="Cole League", groups="sales_team.group_sale_salesman_all_leads"
    )
    cls.customer = env["res.partner"].create({"name": "Shared Customer"})
    Lead = env["crm.lead"].with_context(mail_create_nolog=True)
    cls.own = Lead.create(
        [
            {"name": "Own lead", "type": "lead", "user_id": cls.isolated.id},
            {
                "name": "Own opportunity",
                "type": "opportunity",
                "user_id": cls.isolated.id,
                "partner_id": cls.customer.id,
            },
        ]
    )
    cls.foreign = Lead.create(
        [
            {
                "name": "Colleague opportunity",
                "type": "opportunity",
                "user_id": cls.colleague.id,
                "partner_id": cls.customer.id,
            },
            {"name": "Colleague lead", "type": "lead", "user_id": cls.colleague.id},
            {"name": "Unassigned lead", "type": "lead", "user_id": False},
            {"name": "Lost opportunity", "type": "opportunity", "user_id": cls.colleague.id},
        ]
    )
    cls.foreign[-1].action_set_lost()
    cls.all_leads = cls.own | cls.foreign
    activity_type = env.ref("mail.mail_activity_data_todo")
    for lead in cls.all_leads:
        # A message naming the isolated user as recipient, a file, three activities (one
        # assigned to the isolated user, one done: the activity report) and the isolated
        # user among the followers.
        lead.message_post(body="Call back", partner_ids=cls.isolated.partner_id.ids)
        env["ir.attachment"].create(
            {"name": "quote.txt", "raw": b"quote", "res_model": "crm.lead", "res_id": lead.id}
        )
        for user in (lead.user_id or cls.colleague, cls.isolated):
            lead.activity_schedule(activity_type_id=activity_type.id, user_id=user.id)
        lead.activity_schedule(activity_type_id=activity_type.id).action_feedback("Done")
        lead.message_subscribe(partner_ids=cls.isolated.partner_id.ids)
    _set_isolation(env, True)


class IsolationCase(LeadAllocationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _build(cls)

    def _foreign_ids(self, ids):
        return set(ids) & set(self.foreign.ids)

    def _as(self, user, model="crm.lead"):
        return self.env[model].with_user(user).with_context(active_test=False)


@tagged("post_install", "-at_install")
class TestIsolation(IsolationCase):
    def _probes(self):
        """Path name -> function returning the foreign lead ids the isolated user reaches."""
        Lead = self._as(self.isolated)
        domain = [("id", "in", self.all_leads.ids)]

        def rows_ids(groups):
            return [row["id"] for group in groups for row in group.get("__records", [])]

        def lead_ids_of(model, field="res_id", model_field="res_model"):
            records = self._as(self.isolated, model).search(
                [(model_field, "=", "crm.lead"), (field, "in", self.all_leads.ids)]
            )
            return records.mapped(field)

        def read_foreign(model, field="res_id", model_field="res_model"):
            # sudo: the ids of the foreign records, to try reading them as the user
            records = (
                self.env[model]
                .sudo()
                .search([(model_field, "=", "crm.lead"), (field, "in", self.foreign.ids)])
            )
            self.assertTrue(records)
            visible = []
            for record in records.with_user(self.isolated):
                try:
                    record.read([field])
                    visible.append(record.sudo()[field])
                except AccessError:
                    pass
            return visible

        def systray():
            """Leads of the activity menu: counted per model, listed for the others."""
            groups = self.env["res.users"].with_user(self.isolated)._get_activity_groups()
            lead_groups = [group for group in groups if group["model"] == "crm.lead"]
            counted = sum(
                group[key]
                for group in lead_groups
                for key in ("overdue_count", "today_count", "planned_count")
            )
            listed = self.env["mail.activity"].browse(
                activity_id for group in groups for activity_id in group.get("activity_ids", [])
            )
            return self.foreign.ids[: max(counted - len(self.own), 0)] + [
                activity.res_id for activity in listed.sudo() if activity.res_model == "crm.lead"
            ]

        def one_by_one(func):
            visible = []
            for lead in self.foreign:
                try:
                    func(lead.with_user(self.isolated))
                    visible.append(lead.id)
                except AccessError:
                    pass
            return visible

        return {
            "search": lambda: Lead.search(domain).ids,
            "search_fetch": lambda: Lead.search_fetch(domain, ["name"]).ids,
            "search_count": lambda: self.foreign.ids[: Lead.search_count(domain) - len(self.own)],
            "name_search": lambda: [i for i, _n in Lead.name_search("", limit=None)],
            "web_search_read (list, kanban, calendar)": lambda: [
                r["id"] for r in Lead.web_search_read(domain, {"name": {}})["records"]
            ],
            "web_read_group (kanban, grouped list)": lambda: rows_ids(
                Lead.web_read_group(
                    domain,
                    ["user_id"],
                    ["__count"],
                    auto_unfold=True,
                    unfold_read_specification={"id": {}},
                )["groups"]
            ),
            "formatted_read_group (pivot, graph)": lambda: [
                lead_id
                for group in Lead.formatted_read_group(domain, ["user_id"], ["id:array_agg"])
                for lead_id in group["id:array_agg"]
            ],
            "_read_group": lambda: [
                lead_id
                for (ids,) in Lead._read_group(domain, [], ["id:array_agg"])
                for lead_id in ids or []
            ],
            "read": lambda: one_by_one(lambda lead: lead.read(["name"])),
            "web_read (form)": lambda: one_by_one(lambda lead: lead.web_read({"name": {}})),
            "export_data": lambda: one_by_one(lambda lead: lead.export_data(["name"])),
            "write": lambda: one_by_one(lambda lead: lead.write({"name": "Mine now"})),
            "unlink": lambda: one_by_one(lambda lead: lead.unlink()),
            "partner opportunities": lambda: self.customer.with_user(
                self.isolated
            ).opportunity_ids.ids,
            "mail.message search (chatter)": lambda: lead_ids_of("mail.message", "res_id", "model"),
            "mail.message read": lambda: read_foreign("mail.message", "res_id", "model"),
            "mail.message inbox (notified)": lambda: self._as(self.isolated, "mail.message")
            .search([("needaction", "=", True)])
            .filtered(lambda m: m.model == "crm.lead")
            .mapped("res_id"),
            "ir.attachment search": lambda: lead_ids_of("ir.attachment"),
            "ir.attachment read": lambda: read_foreign("ir.attachment"),
            "mail.activity search": lambda: lead_ids_of("mail.activity"),
            "mail.activity read": lambda: read_foreign("mail.activity"),
            "mail.activity assigned to me": lambda: self._as(self.isolated, "mail.activity")
            .search([("user_id", "=", self.isolated.id)])
            .filtered(lambda a: a.res_model == "crm.lead")
            .mapped("res_id"),
            "mail.activity systray": systray,
            "mail.followers search": lambda: lead_ids_of("mail.followers"),
            "mail.followers read": lambda: read_foreign("mail.followers"),
            "crm.activity.report": lambda: self._as(self.isolated, "crm.activity.report")
            .search([])
            .lead_id.ids,
        }

    def test_leak_probe_isolated(self):
        """Every path: 0 foreign leads; the user's own leads stay reachable."""
        with mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"):
            for path, probe in self._probes().items():
                with self.subTest(path=path), self.env.cr.savepoint() as sp:
                    self.assertEqual(self._foreign_ids(probe()), set())
                    sp.rollback()
        Lead = self._as(self.isolated)
        self.assertEqual(Lead.search([("id", "in", self.all_leads.ids)]), self.own)
        self.assertEqual(self.customer.with_user(self.isolated).opportunity_count, 1)

    def test_leak_probe_without_isolation(self):
        """The same probes reach foreign leads with the setting off: they do probe."""
        _set_isolation(self.env, False)
        with mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"):
            for path, probe in self._probes().items():
                if path == "unlink":  # salespeople may not delete leads in Odoo anyway
                    continue
                with self.subTest(path=path), self.env.cr.savepoint() as sp:
                    self.assertTrue(self._foreign_ids(probe()))
                    sp.rollback()

    def test_own_leads_work_as_usual(self):
        lead = self.own[0].with_user(self.isolated)
        lead.write({"name": "Renamed"})
        lead.message_post(body="Note", message_type="comment")
        self.assertEqual(lead.message_ids[0].body, "<p>Note</p>")
        self.assertEqual(len(lead.activity_ids), 2)
        self.assertIn(self.isolated.partner_id, lead.message_follower_ids.partner_id)
        new = self._as(self.isolated).create({"name": "Typed in", "user_id": self.isolated.id})
        self.assertEqual(new.user_id, self.isolated)
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            self._as(self.isolated).create({"name": "For Cole", "user_id": self.colleague.id})

    def test_visibility_per_user(self):
        """Who sees what, setting on and off: stock rules for everyone but the isolated."""
        unassigned = self.foreign.filtered(lambda lead: not lead.user_id)
        everything = self.all_leads
        cases = [
            # user, isolation on, isolation off
            (self.isolated, self.own, everything),
            (self.trusted_own_docs, self.env["crm.lead"], unassigned),
            (self.trusted_manager, everything, everything),
            (self.colleague, everything, everything),
            (self.junior_1, unassigned, unassigned),
            (self.manager, everything, everything),
        ]
        for enabled, column in ((True, 1), (False, 2)):
            _set_isolation(self.env, enabled)
            for case in cases:
                with self.subTest(user=case[0].login, isolation=enabled):
                    seen = self._as(case[0]).search([("id", "in", everything.ids)])
                    self.assertEqual(seen, case[column])

    def test_wizards(self):
        """Merge, convert, mass convert and mark-lost refuse a colleague's lead."""
        user = self.isolated
        own, foreign = self.own[1], self.foreign[0]
        lead = self.own[0]
        wizards = {
            "crm.merge.opportunity": lambda: self.env["crm.merge.opportunity"]
            .with_user(user)
            .with_context(active_model="crm.lead", active_ids=[own.id, foreign.id])
            .create({})
            .action_merge(),
            "crm.lead2opportunity.partner (merge)": lambda: self.env["crm.lead2opportunity.partner"]
            .with_user(user)
            .with_context(active_model="crm.lead", active_id=lead.id, active_ids=lead.ids)
            .create(
                {
                    "lead_id": lead.id,
                    "name": "merge",
                    "duplicated_lead_ids": [Command.set([lead.id, foreign.id])],
                }
            )
            .action_apply(),
            "crm.lead2opportunity.partner (foreign lead)": lambda: self.env[
                "crm.lead2opportunity.partner"
            ]
            .with_user(user)
            .with_context(active_model="crm.lead", active_id=self.foreign[1].id)
            .create({"lead_id": self.foreign[1].id, "name": "convert"})
            .action_apply(),
            "crm.lead2opportunity.partner.mass": lambda: self.env[
                "crm.lead2opportunity.partner.mass"
            ]
            .with_user(user)
            .with_context(active_model="crm.lead", active_ids=[lead.id, self.foreign[1].id])
            .create({"name": "convert", "user_id": user.id})
            .action_mass_convert(),
            "crm.lead.lost": lambda: self.env["crm.lead.lost"]
            .with_user(user)
            .create({"lead_ids": [Command.set([own.id, foreign.id])]})
            .action_lost_reason_apply(),
        }
        before = [(lead.name, lead.type, lead.active, lead.user_id) for lead in self.foreign]
        for name, run in wizards.items():
            with (
                self.subTest(wizard=name),
                self.env.cr.savepoint() as sp,
                mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"),
            ):
                with self.assertRaises(AccessError):
                    run()
                sp.rollback()
        self.foreign.invalidate_recordset()
        self.assertTrue(self.foreign.exists() == self.foreign)
        self.assertEqual(
            before, [(lead.name, lead.type, lead.active, lead.user_id) for lead in self.foreign]
        )

    def test_reassign_removes_lead_and_followers(self):
        lead = self.own[1]
        lead.with_user(self.manager).user_id = self.colleague
        self.assertFalse(self._as(self.isolated).search([("id", "=", lead.id)]))
        self.assertNotIn(self.isolated.partner_id, lead.message_follower_ids.partner_id)
        message = lead.message_post(body="Price agreed", message_type="comment")
        self.assertNotIn(self.isolated.partner_id, message.notification_ids.res_partner_id)
        # Back to them: visible again (and nothing else changed).
        lead.user_id = self.isolated
        self.assertEqual(self._as(self.isolated).search([("id", "=", lead.id)]), lead)

    def test_reassign_by_the_isolated_user_and_without_isolation(self):
        lead = self.own[0]
        lead.with_user(self.isolated).user_id = self.colleague
        self.assertNotIn(self.isolated.partner_id, lead.message_follower_ids.partner_id)
        # Without isolation, a former salesperson keeps following as in stock Odoo.
        _set_isolation(self.env, False)
        self.own[1].user_id = self.colleague
        self.assertIn(self.isolated.partner_id, self.own[1].message_follower_ids.partner_id)

    def test_no_notification_of_foreign_leads(self):
        """Followers from before the role, mentions and activities of a colleague's lead
        notify nobody isolated; the salesperson and other users are notified as usual."""
        lead = self.foreign[0]
        self.isolated.group_ids = [Command.unlink(self.env.ref(TRUSTED).id)]
        lead.message_subscribe(partner_ids=self.isolated.partner_id.ids)
        self.isolated.group_ids = [Command.link(self.env.ref(TRUSTED).id)]
        lead.message_subscribe(partner_ids=(self.colleague | self.junior_1).partner_id.ids)
        message = lead.with_user(self.manager).message_post(
            body="Price agreed",
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=self.isolated.partner_id.ids,
        )
        notified = message.notification_ids.res_partner_id
        self.assertNotIn(self.isolated.partner_id, notified)
        self.assertLessEqual((self.colleague | self.junior_1).partner_id, notified)
        activity = lead.activity_schedule(
            activity_type_id=self.env.ref("mail.mail_activity_data_todo").id,
            user_id=self.isolated.id,
        )
        self.assertFalse(
            self.env["mail.message"].search(
                [
                    ("model", "=", "crm.lead"),
                    ("res_id", "=", lead.id),
                    ("id", ">=", message.id),
                    ("notification_ids.res_partner_id", "=", self.isolated.partner_id.id),
                ]
            )
        )
        self.assertTrue(activity)
        # their own lead notifies them as usual
        own_message = (
            self.own[1]
            .with_user(self.manager)
            .message_post(body="Hello", message_type="comment", subtype_xmlid="mail.mt_comment")
        )
        self.assertIn(self.isolated.partner_id, own_message.notification_ids.res_partner_id)

    def test_enabling_unsubscribes_from_foreign_leads(self):
        _set_isolation(self.env, False)
        self.foreign[0].message_subscribe(partner_ids=self.isolated.partner_id.ids)
        _set_isolation(self.env, True)
        followed = (
            self.env["mail.followers"]
            .search(
                [("res_model", "=", "crm.lead"), ("partner_id", "=", self.isolated.partner_id.id)]
            )
            .mapped("res_id")
        )
        self.assertEqual(set(followed), set(self.own.ids))

    def test_switch_takes_effect_at_once_everywhere(self):
        """Turning the setting off/on changes the next search, and signals other workers."""
        Lead = self._as(self.isolated)
        domain = [("id", "in", self.all_leads.ids)]
        self.assertEqual(Lead.search_count(domain), 2)
        for enabled, expected in ((False, 6), (True, 2)):
            self.registry.cache_invalidated.clear()
            _set_isolation(self.env, enabled)
            settings = self.env["res.config.settings"].create({})
            self.assertEqual(settings.lead_isolation_enabled, enabled)
            # the rule cache is cleared, and the change is signalled to the other workers
            self.assertIn("default", self.registry.cache_invalidated)
            self.assertEqual(Lead.search_count(domain), expected)
            report = self._as(self.isolated, "crm.activity.report").search([])
            self.assertEqual(bool(report.lead_id & self.foreign), not enabled)

    def test_group_change_takes_effect_at_once(self):
        Lead = self._as(self.colleague)
        domain = [("id", "in", self.all_leads.ids)]
        self.assertEqual(Lead.search_count(domain), 6)
        self.colleague.group_ids = [Command.link(self.env.ref(TRUSTED).id)]
        self.assertEqual(Lead.search(domain), self.foreign.filtered(lambda x: x.user_id))
        self.colleague.group_ids = [Command.link(self.env.ref("sales_team.group_sale_manager").id)]
        self.assertEqual(Lead.search_count(domain), 6)

    def test_query_cost(self):
        """Isolation costs no extra query: the rules, roles and setting are cached, and the
        lead filter of messages, activities and followers is a subquery of the same SQL."""

        def cost(model, domain):
            Model = self._as(self.isolated, model)
            Model.search(domain)  # warm the caches
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            Model.search(domain)
            return self.cr.sql_log_count - before

        for model, field in (
            ("crm.lead", "id"),
            ("mail.message", "res_id"),
            ("mail.activity", "res_id"),
            ("mail.followers", "res_id"),
        ):
            with self.subTest(model=model):
                domain = [(field, "=", self.own[1].id)]
                isolated = cost(model, domain)
                _set_isolation(self.env, False)
                self.assertEqual(isolated, cost(model, domain))
                _set_isolation(self.env, True)

    def test_role_and_setting_names(self):
        group = self.env.ref(TRUSTED)
        self.assertEqual(group.name, "Trusted Employee")
        self.assertEqual(group.privilege_id.category_id, self.env.ref("base.module_category_sales"))
        self.assertIn(self.env.ref("sales_team.group_sale_salesman"), group.implied_ids)
        # held together with another Sales role
        self.assertTrue(self.isolated.has_group("sales_team.group_sale_salesman_all_leads"))
        self.assertTrue(self.isolated.has_group(TRUSTED))
        field = self.env["res.config.settings"]._fields["lead_isolation_enabled"]
        self.assertEqual(field.string, "Isolate assigned leads from standard users")


@tagged("post_install", "-at_install")
class TestIsolationJson2(HttpCase):
    """The external JSON API (/json/2, API key) goes through the same rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        _build(cls)
        expiration = datetime.now() + timedelta(days=1)
        apikeys = cls.env["res.users.apikeys"].with_user(cls.isolated)
        key = apikeys._generate(scope="rpc", name="probe", expiration_date=expiration)
        cls.headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}

    def _call(self, model, method, **params):
        response = self.url_open(
            f"/json/2/{model}/{method}", data=json.dumps(params), headers=self.headers
        )
        return response.status_code, response.json()

    def test_leak_probe_json2(self):
        leads = self.own | self.foreign
        domain = [["id", "in", leads.ids]]
        context = {"active_test": False}
        foreign = set(self.foreign.ids)

        def attached(model):
            status, body = self._call(
                model,
                "search_read",
                domain=[["res_model", "=", "crm.lead"], ["res_id", "in", leads.ids]],
                fields=["res_id"],
            )
            self.assertEqual(status, 200, body)
            return [row["res_id"] for row in body]

        probes = {
            "search": lambda: self._call("crm.lead", "search", domain=domain, context=context)[1],
            "search_read": lambda: [
                r["id"]
                for r in self._call(
                    "crm.lead", "search_read", domain=domain, fields=["name"], context=context
                )[1]
            ],
            "web_search_read": lambda: [
                r["id"]
                for r in self._call(
                    "crm.lead",
                    "web_search_read",
                    domain=domain,
                    specification={"name": {}},
                    context=context,
                )[1]["records"]
            ],
            "search_count": lambda: self.foreign.ids[
                : self._call("crm.lead", "search_count", domain=domain, context=context)[1]
                - len(self.own)
            ],
            "name_search": lambda: [
                row[0] for row in self._call("crm.lead", "name_search", name="", limit=None)[1]
            ],
            "read (foreign ids)": lambda: [
                r["id"]
                for r in (lambda status, body: body if status == 200 else [])(
                    *self._call("crm.lead", "read", ids=list(foreign), fields=["name"])
                )
            ],
            "mail.message search_read": lambda: [
                r["res_id"]
                for r in self._call(
                    "mail.message",
                    "search_read",
                    domain=[["model", "=", "crm.lead"], ["res_id", "in", leads.ids]],
                    fields=["res_id"],
                )[1]
            ],
            "formatted_read_group": lambda: [
                lead_id
                for group in self._call(
                    "crm.lead",
                    "formatted_read_group",
                    domain=domain,
                    groupby=["stage_id"],
                    aggregates=["id:array_agg"],
                    context=context,
                )[1]
                for lead_id in group["id:array_agg"]
            ],
            **{
                f"{model} search_read": functools.partial(attached, model)
                for model in ("ir.attachment", "mail.activity", "mail.followers")
            },
        }
        with mute_logger("odoo.http", "odoo.addons.base.models.ir_rule"):
            for path, probe in probes.items():
                with self.subTest(path=path):
                    self.assertEqual(set(probe()) & foreign, set())
            status, body = self._call("crm.lead", "search", domain=domain, context=context)
            self.assertEqual((status, sorted(body)), (200, sorted(self.own.ids)))
            status, _body = self._call(
                "crm.lead", "write", ids=self.foreign[:1].ids, vals={"name": "Mine"}
            )
            self.assertEqual(status, 403)
