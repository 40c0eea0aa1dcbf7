"""Re-allocation of untouched leads (``lead.allocation.sla``), on a frozen clock.

Leads are assigned on a clock set two days back, so that edits made in the test
transaction (whose ``write_date`` is the database's own time) come after them.
"""

from datetime import datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import TRUSTED, LeadAllocationCase, preview, set_isolation

T0 = (datetime.now() - timedelta(days=2)).replace(microsecond=0)


class SlaCase(LeadAllocationCase):
    """The team re-allocates leads untouched for 4 hours, once; its first two stages."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team.write({"allocation_sla_hours": 4, "allocation_sla_max": 1})
        cls.Sla = cls.env["lead.allocation.sla"]
        cls.first_stage, cls.second_stage = cls.env["crm.lead"]._stage_find(
            team_id=cls.team.id, domain=[("fold", "=", False)], limit=2
        )


@tagged("post_install", "-at_install")
class TestSla(SlaCase):
    def _assigned(self, count=1, **vals):
        with freeze_time(T0):
            leads = self._create(count, team_id=self.team.id, **vals)
            self.env.flush_all()
        self.assertTrue(all(leads.mapped("user_id")))
        self.assertEqual(leads.mapped("allocation_assigned_at"), [T0] * count)
        return leads

    def _run(self, hours, **context):
        with freeze_time(T0 + timedelta(hours=hours)):
            self.Sla.with_context(**context)._cron_reallocate()
        self.env.invalidate_all()

    def _notes(self, lead):
        return lead.message_ids.filtered(lambda m: "Re-allocated from" in (m.body or ""))

    def test_untouched_lead_moves_after_the_delay(self):
        lead = self._assigned()
        former = lead.user_id
        # somebody else's note does not count as the salesperson's work
        lead.with_user(self.manager).message_post(body="Please call", message_type="comment")
        self._run(3.9)
        self.assertEqual(lead.user_id, former, "not before the delay")
        self._run(5.5)
        self.assertNotEqual(lead.user_id, former)
        self.assertIn(lead.user_id, self.salespeople)
        self.assertEqual(lead.allocation_method, "reallocated")
        self.assertEqual(lead.allocation_sla_count, 1)
        self.assertEqual(lead.allocation_assigned_at, T0 + timedelta(hours=5.5))
        text = f"Re-allocated from {former.name} to {lead.user_id.name}: untouched for 5 hours"
        self.assertEqual(lead.allocation_reason, text)
        note = self._notes(lead)
        self.assertEqual(note.mapped("body"), [f"<p>{text}</p>"])
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))
        self.assertEqual(note.message_type, "comment")
        self.assertEqual(note.author_id, self.env.ref("base.partner_root"))

    def test_untouched_leads_are_found_in_one_query_per_batch(self):
        first_stages = self.Sla._first_stages()
        for count in (1, 8):
            with self.subTest(count=count):
                leads = self._assigned(count)
                after = leads[0].id - 1
                with freeze_time(T0 + timedelta(hours=5)), self.assertQueryCount(1):
                    found = self.Sla._untouched(first_stages, datetime.now(), after)
                self.assertEqual(found.ids, leads.ids)
                leads.action_archive()

    def test_touched_leads_stay(self):
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        touches = {
            "next stage": lambda lead, owner: lead.write({"stage_id": self.second_stage.id}),
            "activity done": lambda lead, owner: lead.activity_schedule(
                activity_type_id=activity_type.id, user_id=owner.id
            )
            .with_user(owner)
            .action_feedback("Called"),
            "message": lambda lead, owner: lead.with_user(owner).message_post(
                body="Hello", message_type="comment", subtype_xmlid="mail.mt_comment"
            ),
            "note": lambda lead, owner: lead.with_user(owner).message_post(
                body="Left a voicemail", message_type="comment", subtype_xmlid="mail.mt_note"
            ),
            "edited": lambda lead, owner: lead.with_user(owner).write({"phone": "+32 2 555 01"}),
        }
        leads = self._assigned(len(touches) + 1)
        owners = [lead.user_id for lead in leads]
        for lead, touch in zip(leads, touches.values(), strict=False):
            with freeze_time(T0 + timedelta(hours=1)):
                touch(lead, lead.user_id)
        self._run(6)
        for (name, _touch), lead, owner in zip(touches.items(), leads, owners, strict=False):
            with self.subTest(name):
                self.assertEqual(lead.user_id, owner)
                self.assertEqual(lead.allocation_sla_count, 0)
                self.assertFalse(self._notes(lead))
        self.assertNotEqual(leads[-1].user_id, owners[-1], "the untouched one moved")

    def test_never_back_to_the_same_person(self):
        leads = self._assigned(12)  # the senior, half of the weight, owns about six
        owners = {lead.id: lead.user_id for lead in leads}
        self.assertGreater(len(leads.filtered(lambda lead: lead.user_id == self.senior)), 2)
        self._run(5)
        for lead in leads:
            self.assertNotEqual(lead.user_id, owners[lead.id])
            self.assertIn(lead.user_id, self.salespeople)
        self.assertEqual(set(leads.mapped("allocation_sla_count")), {1})

    def test_a_pick_of_the_owner_is_passed_over(self):
        pair = self.env["crm.team"].create(
            {
                "name": "Pair",
                "member_ids": [(6, 0, (self.senior | self.junior_1).ids)],
                "allocation_sla_hours": 4,
            }
        )
        with freeze_time(T0):
            lead = self._create(team_id=pair.id, user_id=self.senior.id)
            self.env.flush_all()
        # the rotation's next pick is the owner: the lead takes the one after
        self.assertEqual(preview(self.env, pair.id, 2), self.senior.ids + self.junior_1.ids)
        self._run(5)
        self.assertEqual(lead.user_id, self.junior_1)
        self.assertEqual(lead.allocation_method, "reallocated")

    def test_lead_stays_when_its_owner_is_the_only_one_left(self):
        leads = self._assigned(3)
        (self.salespeople - leads[0].user_id).allocation_paused = True
        self.env.invalidate_all()
        mine = leads.filtered(lambda lead: lead.user_id == leads[0].user_id)
        self._run(5)
        self.assertEqual(mine.mapped("allocation_sla_count"), [0] * len(mine))
        self.assertEqual(mine.mapped("allocation_method"), ["round_robin"] * len(mine))
        self.assertFalse(self._notes(mine))

    def test_maximum_respected(self):
        lead = self._assigned()
        self._run(5)
        second = lead.user_id
        self.assertEqual(lead.allocation_sla_count, 1)
        self._run(20)
        self.assertEqual(lead.user_id, second, "at most once by default")
        self.team.allocation_sla_max = 2
        self._run(20)
        self.assertNotEqual(lead.user_id, second)
        self.assertEqual(lead.allocation_sla_count, 2)
        self._run(40)
        self.assertEqual(lead.allocation_sla_count, 2)
        self.assertEqual(len(self._notes(lead)), 2)

    def test_team_without_delay_does_nothing(self):
        self.team.allocation_sla_hours = 0
        leads = self._assigned(3)
        owners = [lead.user_id for lead in leads]
        self._run(24 * 30)
        self.assertEqual([lead.user_id for lead in leads], owners)
        self.assertEqual(set(leads.mapped("allocation_method")), {"round_robin"})

    def test_trusted_employee_loses_sight_of_the_lead(self):
        set_isolation(self.env, True)
        trusted = new_test_user(
            self.env,
            "la_sla_trusted",
            name="Tia Trusted",
            groups=f"sales_team.group_sale_salesman_all_leads,{TRUSTED}",
        )
        trusted.allocation_weight = 5
        self.team.member_ids = [(4, trusted.id)]
        lead = self._assigned(user_id=trusted.id)
        self.assertIn(trusted.partner_id, lead.message_partner_ids)
        self.assertEqual(lead.with_user(trusted).read(["name"])[0]["name"], "Lead 0")
        self._run(5)
        self.assertNotEqual(lead.user_id, trusted)
        self.assertNotIn(trusted.partner_id, lead.message_partner_ids)
        self.assertFalse(self.env["crm.lead"].with_user(trusted).search([("id", "=", lead.id)]))
        with self.assertRaises(AccessError), mute_logger("odoo.addons.base.models.ir_rule"):
            lead.with_user(trusted).read(["name"])

    def test_cron_commits_each_batch_and_survives_an_interruption(self):
        self.team.allocation_sla_max = 3
        leads = self._assigned(5)
        owners = {lead.id: lead.user_id for lead in leads}
        commits = []

        def commit_progress(cron, processed=0, *, remaining=None, deactivate=False):
            commits.append(processed)
            return 100

        Sla = type(self.Sla)
        original = Sla._reallocate
        calls = []

        def crash(self, batch, now):
            calls.append(batch.ids)
            if len(calls) == 2:
                original(self, batch, now)
                raise RuntimeError("worker killed")
            return original(self, batch, now)

        with (
            patch.object(type(self.env["ir.cron"]), "_commit_progress", commit_progress),
            patch.object(Sla, "_batch_size", 2),
        ):
            # (not assertRaises: it would roll back the whole block)
            with patch.object(Sla, "_reallocate", crash):
                try:
                    self._run(5, cron_id=1)
                except RuntimeError:
                    pass
                else:
                    self.fail("the cron did not crash")
            self.assertEqual(commits, [2])
            moved = leads.filtered(lambda lead: lead.user_id != owners[lead.id])
            self.assertEqual(moved.ids, leads[:2].ids, "the second batch was rolled back")
            self._run(5.5, cron_id=1)
        self.assertEqual(commits, [2, 2, 1])
        for lead in leads:
            self.assertNotEqual(lead.user_id, owners[lead.id])
            self.assertEqual(lead.allocation_sla_count, 1, "moved once")
            self.assertEqual(len(self._notes(lead)), 1)
