"""Pure intake of outside lead data: no Odoo import here (see payload.py)."""

from .payload import KNOWN_FIELDS, IntakeError, LeadPayload, parse_lead_payload
