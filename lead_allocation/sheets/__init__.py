"""Google Sheets access for the lead import: pure Python, no Odoo import.

``client`` wraps gspread + google-auth (service account, retries with backoff, row chunks);
``rows`` turns sheet rows into field mappings and stable row keys.
"""

from .client import SheetClient, SheetError, Worksheet, parse_service_account
from .rows import (
    ROW_ID_FIELD,
    map_row,
    normalize_header,
    row_key,
    suggest_mapping,
)
