"""Pure intake of outside lead data: no Odoo import here (see payload.py, batch.py)."""

from .batch import MAX_BATCH_ITEMS, MAX_BATCH_SIZE, batch_status, parse_lead_batch
from .payload import KNOWN_FIELDS, IntakeError, LeadPayload, parse_lead_payload

# The webhook's routes: served by the controller, their database faults answered by ir.http.
WEBHOOK_ROUTE = "/lead_allocation/webhook"
BATCH_ROUTE = f"{WEBHOOK_ROUTE}/batch"
