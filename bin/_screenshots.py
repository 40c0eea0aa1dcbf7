"""The README's screenshots, taken by bin/screenshots from a running demo (see there).

usage: _screenshots.py BASE_URL API_KEY CHROMIUM OUT_DIR
"""

import json
import sys
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

BROWSER_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]


def call(base, key, path, payload):
    """POST JSON with the integration's API key; the decoded answer."""
    request = urllib.request.Request(
        base + path,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def send_webhook_leads(base, key):
    """Leads an integration assigns to named agents, through the webhook like any website."""
    users = call(
        base,
        key,
        "/json/2/res.users/search_read",
        {"domain": [["login", "in", ["senior", "junior1"]]], "fields": ["login"]},
    )
    agent = {user["login"]: user["id"] for user in users}
    for name, contact, login in (
        ("Call back about the premium plan", "Hana Ito", "junior1"),
        ("Demo request from the website", "Marc Dubois", "senior"),
    ):
        call(
            base,
            key,
            "/lead_allocation/webhook",
            {"name": name, "contact_name": contact, "user_id": agent[login]},
        )


def lead_id(base, key, name):
    leads = call(
        base, key, "/json/2/crm.lead/search_read", {"domain": [["name", "=", name]], "fields": []}
    )
    return leads[0]["id"]


def settle(page, selector):
    page.wait_for_selector(selector)
    page.wait_for_timeout(1500)  # the last requests, fonts and paint (the bus never idles)


def main(base, key, chromium, out):
    out = Path(out)
    send_webhook_leads(base, key)
    lead = lead_id(base, key, "Office chairs for 40 desks")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=BROWSER_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 720})
        page.goto(f"{base}/web/login")
        page.fill("input[name=login]", "admin")
        page.fill("input[name=password]", "admin")
        page.click("button[type=submit]")
        page.wait_for_url("**/odoo**")

        page.set_viewport_size({"width": 1280, "height": 900})  # the preview above the list
        page.goto(f"{base}/odoo/action-lead_allocation.res_users_action_lead_allocation")
        settle(page, ".o_lead_allocation_pool")
        bottom = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('.o_data_row')]"
            ".map((row) => row.getBoundingClientRect().bottom))"
        )
        page.screenshot(
            path=out / "lead_allocations_page.png", clip=_clip(page, min(900, bottom + 24))
        )

        page.goto(f"{base}/odoo/settings#crm")
        settle(page, "#lead_isolation")
        page.locator("#lead_isolation").scroll_into_view_if_needed()
        page.wait_for_timeout(500)
        page.screenshot(path=out / "settings_lead_allocation.png", clip=_settings_block(page))

        page.set_viewport_size({"width": 1600, "height": 900})  # the chatter beside the form
        page.goto(f"{base}/odoo/crm/{lead}")
        settle(page, ".o_lead_opportunity_form .o-mail-Message")
        page.screenshot(path=out / "lead_form.png")

        page.set_viewport_size({"width": 1280, "height": 720})
        page.goto(f"{base}/odoo/action-lead_allocation.crm_lead_action_allocation_analysis")
        settle(page, ".o_graph_renderer canvas")
        page.click(".o_switch_view.o_pivot")
        settle(page, ".o_pivot table")
        page.mouse.move(600, 600)  # no tooltip over the view switcher
        page.wait_for_timeout(500)
        page.screenshot(path=out / "allocation_analysis.png", clip=_clip(page, 540))

        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(f"{base}/odoo/action-lead_allocation.lead_allocation_sheet_action")
        settle(page, ".o_data_row")
        page.click(".o_data_row .o_data_cell")
        settle(page, ".o_form_view [name=spreadsheet]")
        page.screenshot(path=out / "sheet_source_form.png")
        browser.close()
    for name in sorted(p.name for p in out.glob("*.png")):
        print(f"   {out / name}")


def _settings_block(page):
    """The box of the Lead Allocation block of the settings, its title included."""
    box = page.evaluate(
        """() => {
            const settings = document.querySelector('#lead_isolation')
                .closest('.o_settings_container');
            const title = settings.previousElementSibling || settings;
            const top = title.getBoundingClientRect();
            const bottom = settings.getBoundingClientRect();
            return {
                x: bottom.left, y: top.top, width: bottom.width, height: bottom.bottom - top.top,
            };
        }"""
    )
    return {key: max(0, value) for key, value in box.items()}


def _clip(page, height):
    return {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}


if __name__ == "__main__":
    main(*sys.argv[1:])
