import threading
import time
from contextlib import contextmanager

from odoo import Command, api, sql_db
from odoo.orm.environments import Transaction
from odoo.tests import TransactionCase, new_test_user

TRUSTED = "lead_allocation.group_trusted_employee"


def take(rotation, weights, number):
    """The next ``number`` draws of ``rotation``, in order (a batch)."""
    return [rotation.next(weights) for _i in range(number)]


def preview_data(env, team_id, count=10):
    """What the Lead Allocations page shows of the pool of ``team_id`` (0: no team)."""
    pool = (env.company.id, team_id or 0, "pool")
    return env["lead.allocation.preview"]._previews([pool], count)[0]


def preview(env, team_id, count=10):
    """The ids of the salespeople the next ``count`` leads of a pool would go to, as the
    Lead Allocations page shows them (False: the lead would stay unassigned)."""
    return [pick["id"] for pick in preview_data(env, team_id, count)["next"]]


class LeadAllocationCase(TransactionCase):
    """Users, a team and weights of our own: Odoo 19 loads no demo data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=False))
        cls.company = cls.env.company
        cls.manager = new_test_user(
            cls.env, "la_manager", groups="sales_team.group_sale_manager", name="Mia Manager"
        )
        cls.senior = cls._salesperson("la_senior", "Sam Senior", 10)
        cls.junior_1 = cls._salesperson("la_junior1", "Jo Junior", 5)
        cls.junior_2 = cls._salesperson("la_junior2", "Jay Junior", 5)
        cls.salespeople = cls.senior | cls.junior_1 | cls.junior_2
        cls.team = cls.env["crm.team"].create(
            {"name": "Allocation Team", "member_ids": [(6, 0, cls.salespeople.ids)]}
        )
        # Nobody else in the database takes part in the rotation.
        cls.env["res.users"].search(
            [("id", "not in", cls.salespeople.ids), ("allocation_weight", ">", 0)]
        ).allocation_weight = 0

    def _weights(self, users=None):
        return {user.id: user.allocation_weight for user in users or self.salespeople}

    def _create(self, count=1, **vals):
        Lead = self.env["crm.lead"]
        return Lead.concat(*[Lead.create({"name": f"Lead {i}", **vals}) for i in range(count)])

    @classmethod
    def _salesperson(cls, login, name, weight, groups="sales_team.group_sale_salesman"):
        user = new_test_user(cls.env, login, groups=groups, name=name)
        user.allocation_weight = weight
        return user


def set_isolation(env, enabled):
    env["res.config.settings"].create({"lead_isolation_enabled": enabled}).set_values()


def build_isolation_fixture(cls):
    """Lead isolation: users, leads and what hangs on leads (messages, files, activities)."""
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
    set_isolation(env, True)


class IsolationCase(LeadAllocationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        build_isolation_fixture(cls)

    def _foreign_ids(self, ids):
        return set(ids) & set(self.foreign.ids)

    def _as(self, user, model="crm.lead"):
        return self.env[model].with_user(user).with_context(active_test=False)


# Real parallel transactions ------------------------------------------------------------
# The test cursor runs everything in one transaction; races need real connections on
# committed data (cleaned up by the test) and threads.


@contextmanager
def real_transaction(registry, context=None):
    """A superuser environment on a connection of its own, committed on a clean exit.

    Waits at most 30 s for a lock; the registry is given directly because the test
    thread holds the registry lock while tests run.
    """
    with sql_db.db_connect(registry.db_name).cursor() as cr:
        cr.execute("SET LOCAL lock_timeout = '30s'")
        cr.transaction = Transaction(registry)
        yield api.Environment(cr, api.SUPERUSER_ID, dict(context or {}))
        cr.commit()


def run_in_parallel(*functions, timeout=120):
    """Call ``functions`` in threads started together; their results, in order.

    An exception in a thread is raised here, after every thread ended (a test must not
    hang on a failed thread).
    """
    barrier = threading.Barrier(len(functions))
    results, errors = [None] * len(functions), []

    def run(index, function):
        try:
            barrier.wait(10)
            results[index] = function()
        except Exception as error:  # raised below
            errors.append(error)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    if errors:
        raise errors[0]
    return results


def create_team(env, name, weights):
    """Salespeople of the given allocation ``weights`` and a sales team of them, named
    after ``name`` (unique logins): ``(users, team)``."""
    group = env.ref("sales_team.group_sale_salesman")
    users = (
        env["res.users"]
        .with_context(no_reset_password=True)
        .create(
            [
                {
                    "name": f"{name} {i}",
                    "login": f"la_{name.lower()}_{i}_{time.time_ns()}",
                    "group_ids": [Command.set(group.ids)],
                    "allocation_weight": weight,
                }
                for i, weight in enumerate(weights)
            ]
        )
    )
    team = env["crm.team"].create({"name": f"{name} Team", "member_ids": [Command.set(users.ids)]})
    return users, team
