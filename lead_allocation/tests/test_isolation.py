"""Lead isolation: with "Isolate assigned leads from standard users" on, a Trusted Employee
who is not a Sales Administrator sees exactly the leads assigned to them; reassigning,
notifications, the switch and the roles (leak probes: test_isolation_probes.py).
"""

from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import SQL, mute_logger

from .common import TRUSTED, IsolationCase, set_isolation


@tagged("post_install", "-at_install")
class TestIsolation(IsolationCase):
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
            set_isolation(self.env, enabled)
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
        set_isolation(self.env, False)
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
        set_isolation(self.env, False)
        self.foreign[0].message_subscribe(partner_ids=self.isolated.partner_id.ids)
        set_isolation(self.env, True)
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
            set_isolation(self.env, enabled)
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
                set_isolation(self.env, False)
                self.assertEqual(isolated, cost(model, domain))
                set_isolation(self.env, True)

    def _queries_of(self, function):
        """``(result, the SQL it ran)`` of ``function()``."""
        queries, execute = [], self.env.cr.execute

        def record(query, *args, **kwargs):
            queries.append(getattr(query, "code", query))
            return execute(query, *args, **kwargs)

        with patch.object(self.env.cr, "execute", record):
            return function(), "\n".join(queries)

    def test_attached_records_look_up_their_lead(self):
        """Messages, activities and followers of leads are filtered for an isolated user by
        a look-up of each one's lead (EXISTS, by the lead's id), not by the list of every
        lead the user may read, which grows with their leads (bench/run scale_isolation)."""
        for model, table in (
            ("mail.message", "mail_message"),
            ("mail.activity", "mail_activity"),
            ("mail.followers", "mail_followers"),
        ):
            with self.subTest(model=model):
                found, sql = self._queries_of(
                    lambda model=model: self._as(self.isolated, model).search(
                        [("res_id", "=", self.own[1].id)]
                    )
                )
                self.assertTrue(found)
                self.assertIn('EXISTS(SELECT 1 FROM "crm_lead"', sql)
                self.assertIn(f'"crm_lead"."id" = "{table}"."res_id"', sql)
                self.assertNotIn('"res_id" IN (SELECT', sql)

    def test_counts_read_the_index_alone(self):
        """An isolated user's counts (the pager, search_count, by type) can be read from the
        add-on's index of the salesperson's leads alone, without the leads' rows (at
        1,000,000 leads: bench/run scale_isolation). With the other indexes of the leads
        dropped in this transaction (rolled back with the test: on so few leads the planner
        could take any), and no sequential or bitmap scan, the plan is an index-only scan
        of it."""
        Lead = self._as(self.isolated).with_context(active_test=True)
        self.env.cr.execute(
            """
            SELECT string_agg(indexrelid::regclass::text, ', ') FROM pg_index i
             WHERE indrelid = 'crm_lead'::regclass
               AND indexrelid != 'crm_lead_user_id_default_order_idx'::regclass
               AND NOT EXISTS (SELECT FROM pg_constraint WHERE conindid = i.indexrelid)
            """
        )
        # the indexes of no constraint but the add-on's: Odoo's of the salesperson, the type
        self.env.cr.execute(f"DROP INDEX {self.env.cr.fetchone()[0]}")
        self.env.cr.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        for domain in ([], [("type", "=", "lead")], [("type", "=", "opportunity")]):
            with self.subTest(domain=domain):
                query = Lead._search(domain).select(SQL("COUNT(*)"))
                rows = self.env.execute_query(SQL("EXPLAIN (COSTS OFF) %s", query))
                plan = "\n".join(row[0] for row in rows)
                self.assertIn("Index Only Scan using crm_lead_user_id_default_order_idx", plan)
                self.assertIn(f"Index Cond: (user_id = {self.isolated.id})", plan)

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
