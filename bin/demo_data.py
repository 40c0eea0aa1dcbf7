"""Demo records for bin/run, run inside ``odoo shell`` (which provides ``env``).

A sales team, three salespeople weighted 10/5/5, a Trusted Employee, an integration user
with an API key, and a few leads created the normal way so that the rotation shares them out.
Running it again changes nothing.
"""

# ruff: noqa: F821  (env is given by odoo shell)

Users = env["res.users"].with_context(no_reset_password=True)
if not Users.search([("login", "=", "senior")]):
    salesman = env.ref("sales_team.group_sale_salesman")
    trusted = env.ref("lead_allocation.group_trusted_employee")

    def user(login, name, weight, groups):
        return Users.create(
            {
                "name": name,
                "login": login,
                "password": login,
                "email": f"{login}@example.com",
                "group_ids": [(6, 0, [g.id for g in groups])],
                "allocation_weight": weight,
            }
        )

    senior = user("senior", "Sam Senior", 10, salesman)
    junior1 = user("junior1", "Jo Junior", 5, salesman)
    junior2 = user("junior2", "Jay Junior", 5, trusted)
    # integrations create leads for others: they need Sales / User: All Documents
    all_leads = env.ref("sales_team.group_sale_salesman_all_leads")
    integration = user("integration", "Website Integration", 0, all_leads)
    env["crm.team"].create(
        {"name": "Inside Sales", "member_ids": [(6, 0, (senior | junior1 | junior2).ids)]}
    )
    env["res.users"].browse(env.uid).allocation_weight = 0
    # sudo: a persistent key (no expiry) for the demo integration user
    keys = env["res.users.apikeys"].with_user(integration).sudo()
    key = keys._generate("rpc", "Demo webhook", None)
    env["ir.config_parameter"].set_param("lead_allocation.demo_api_key", key)
    env["crm.lead"].create(
        [{"name": f"Demo lead {i}", "email_from": f"prospect{i}@example.com"} for i in range(1, 13)]
    )
    env["res.config.settings"].create({"lead_isolation_enabled": True}).execute()
    env.cr.commit()
print("DEMO_API_KEY=" + env["ir.config_parameter"].get_param("lead_allocation.demo_api_key", ""))
