"""Demo records for bin/run, run inside ``odoo shell`` (which provides ``env``).

A sales team, three salespeople weighted 10/5/5 with distinct names, initials and avatar
colours, a Trusted Employee among them, an integration user with an API key, a dozen leads
created the normal way so that the rotation shares them out, a few opportunities the
administrator handles in person (their "My Pipeline" is not empty), and a Google Sheets
source waiting for its service-account key. Then the add-on follows working hours: the three
salespeople work the company's hours in three time zones (Brussels, Tokyo, New York) and Sam
Senior is on time off until the end of next week, so the Lead Allocations preview shows who is
at work, off or away. Running it again changes nothing.
"""

# ruff: noqa: F821  (env is given by odoo shell)
import base64
import os
from datetime import timedelta

from odoo import fields

Users = env["res.users"].with_context(no_reset_password=True)


def avatar(initial, colour):
    """A plain avatar: one white initial on a colour of its own (SVG, as Odoo's default)."""
    svg = (
        "<svg xmlns='http://www.w3.org/2000/svg' width='180' height='180'>"
        f"<rect width='180' height='180' fill='{colour}'/>"
        "<text x='90' y='125' fill='#ffffff' font-size='96' font-family='sans-serif' "
        f"text-anchor='middle'>{initial}</text></svg>"
    )
    return base64.b64encode(svg.encode())


def user(login, name, colour, weight, groups):
    return Users.create(
        {
            "name": name,
            "login": login,
            "password": login,
            "email": f"{login}@example.com",
            "image_1920": avatar(name[0], colour),
            "group_ids": [(6, 0, [g.id for g in groups])],
            "allocation_weight": weight,
        }
    )


# Prospects of the round robin: (opportunity, contact, company, expected revenue)
PROSPECTS = [
    ("Office chairs for 40 desks", "Anna Berg", "Berg Architects", 12000),
    ("CRM training, 2 days", "Luis Ortega", "Ortega Logistics", 3500),
    ("Renewal of the support plan", "Mei Chen", "Chen & Partners", 8000),
    ("Website redesign", "Omar Haddad", "Haddad Foods", 15000),
    ("Pricing question", "Julia Novak", "Novak Dental", 900),
    ("Fleet tracking pilot", "Peter Smits", "Smits Transport", 22000),
    ("Printer leasing", "Sara Lind", "Lind Studio", 2400),
    ("Conference booth", "Ravi Kumar", "Kumar Events", 6000),
    ("Accounting software demo", "Elena Rossi", "Rossi Bakery", 1800),
    ("Warehouse shelving", "Tom Becker", "Becker Hardware", 9500),
    ("Cloud backup, 50 users", "Ines Duarte", "Duarte Legal", 4200),
    ("Quote for 200 mugs", "Kofi Mensah", "Mensah Coffee", 700),
]
# Key accounts the administrator (the sales manager) keeps: (opportunity, company, revenue)
KEY_ACCOUNTS = [
    ("Framework agreement 2027", "Northwind Traders", 120000),
    ("Group-wide CRM rollout", "Contoso Retail", 85000),
    ("Partnership renewal", "Fabrikam Industries", 40000),
]

if not Users.search([("login", "=", "senior")]):
    salesman = env.ref("sales_team.group_sale_salesman")
    trusted = env.ref("lead_allocation.group_trusted_employee")
    senior = user("senior", "Sam Senior", "#1e88e5", 10, salesman)
    junior1 = user("junior1", "Nora Newman", "#e07b00", 5, salesman)
    junior2 = user("junior2", "Tom Tanaka", "#00897b", 5, trusted)
    # integrations create leads for others: they need Sales / User: All Documents
    all_leads = env.ref("sales_team.group_sale_salesman_all_leads")
    integration = user("integration", "Website Integration", "#78909c", 0, all_leads)
    team = env["crm.team"].create(
        {"name": "Inside Sales", "member_ids": [(6, 0, (senior | junior1 | junior2).ids)]}
    )
    admin = env.ref("base.user_admin")  # odoo shell runs as the superuser, not as admin
    admin.write({"allocation_weight": 0, "image_1920": avatar("A", "#6d4c41")})
    # sudo: a persistent key (no expiry) for the demo integration user
    keys = env["res.users.apikeys"].with_user(integration).sudo()
    key = keys._generate("rpc", "Demo webhook", None)
    env["ir.config_parameter"].set_param("lead_allocation.demo_api_key", key)
    # Leads from the website, created by the integration without a salesperson: the
    # rotation shares them out 6/3/3.
    env["crm.lead"].with_user(integration).create(
        [
            {
                "name": name,
                "contact_name": contact,
                "partner_name": company,
                "email_from": f"{contact.split()[0].lower()}@{company.split()[0].lower()}.example",
                "expected_revenue": revenue,
                "team_id": team.id,
            }
            for name, contact, company, revenue in PROSPECTS
        ]
    )
    # The administrator's own opportunities, spread over the stages.
    stages = env["crm.stage"].search([("is_won", "=", False)], order="sequence")
    env["crm.lead"].create(
        [
            {
                "name": name,
                "partner_name": company,
                "expected_revenue": revenue,
                "user_id": admin.id,
                "team_id": team.id,
                "stage_id": stages[index % len(stages)].id,
            }
            for index, (name, company, revenue) in enumerate(KEY_ACCOUNTS)
        ]
    )
    env["lead.allocation.sheet"].create(
        {
            "name": "Website form (Google Sheet)",
            "spreadsheet": "https://docs.google.com/spreadsheets/d/1x9LeadsFromTheWebsiteForm",
            "worksheet": "Form responses 1",
            "team_id": team.id,
        }
    )
    # Working hours in three time zones, set as on the Lead Allocations page (which creates
    # each salesperson's resource), and time off for Sam Senior from today to the end of
    # next week. Turned on after the leads above, so that they show the plain rotation.
    hours = env.company.resource_calendar_id
    for person, tz in (
        (senior, "Europe/Brussels"),
        (junior1, "Asia/Tokyo"),
        (junior2, "America/New_York"),
    ):
        person.write({"allocation_calendar_id": hours.id, "allocation_tz": tz})
    today = fields.Date.context_today(senior)
    env["lead.allocation.time.off"].create(
        {
            "user_id": senior.id,
            "date_from": today,
            "date_to": today + timedelta(days=11 - today.weekday()),  # Friday next week
            "name": "Family holiday",
        }
    ).action_confirm()
    env["res.config.settings"].create(
        {"lead_isolation_enabled": True, "lead_allocation_follow_availability": True}
    ).execute()
    env.cr.commit()
# The links of notifications and e-mails are built from web.base.url: the address served
# now (Odoo also sets it when the administrator logs in).
if os.environ.get("LEAD_ALLOCATION_BASE_URL"):
    env["ir.config_parameter"].set_param("web.base.url", os.environ["LEAD_ALLOCATION_BASE_URL"])
    env.cr.commit()
print("DEMO_API_KEY=" + env["ir.config_parameter"].get_param("lead_allocation.demo_api_key", ""))
