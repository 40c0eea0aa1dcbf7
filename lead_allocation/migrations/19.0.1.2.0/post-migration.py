"""The scheduled action of the Google Sheets now runs on the sync (its record is
``noupdate``: an upgrade would otherwise leave it calling the source model)."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    cron = env.ref("lead_allocation.ir_cron_sync_lead_sheets", raise_if_not_found=False)
    if cron and cron.model_id.model == "lead.allocation.sheet":
        cron.write(
            {
                "model_id": env["ir.model"]._get_id("lead.allocation.sheet.sync"),
                "code": "model._cron_sync()",
            }
        )
