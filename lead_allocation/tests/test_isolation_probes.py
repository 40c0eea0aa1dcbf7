"""Lead isolation, leak probes: path by path, the *foreign* leads (a colleague's,
unassigned, archived) that an isolated Trusted Employee can reach must be 0 everywhere,
through the ORM and through the external JSON API (/json/2).
"""

import functools
import json
from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import IsolationCase, build_isolation_fixture, set_isolation


@tagged("post_install", "-at_install")
class TestIsolationProbes(IsolationCase):
    """Every path to a lead, probed as the isolated user."""

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
        set_isolation(self.env, False)
        with mute_logger("odoo.models", "odoo.addons.base.models.ir_rule"):
            for path, probe in self._probes().items():
                if path == "unlink":  # salespeople may not delete leads in Odoo anyway
                    continue
                with self.subTest(path=path), self.env.cr.savepoint() as sp:
                    self.assertTrue(self._foreign_ids(probe()))
                    sp.rollback()


@tagged("post_install", "-at_install")
class TestIsolationJson2(HttpCase):
    """The external JSON API (/json/2, API key) goes through the same rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        build_isolation_fixture(cls)
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
