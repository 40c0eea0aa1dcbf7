from odoo import fields, models

ROW_STATES = [
    ("imported", "Imported"),
    ("duplicate", "Skipped (duplicate)"),
    ("error", "Error"),
]


class LeadAllocationSheetRow(models.Model):
    """Outcome of the sheet rows: the sync log of a source, and its imported row keys.

    An ``imported`` line is written in the same transaction as its lead, and at most one
    exists per source and row key (unique index): a row is never imported twice, even by
    two syncs running at once. ``duplicate`` and ``error`` lines only inform.
    """

    _name = "lead.allocation.sheet.row"
    _description = "Google Sheet Row"
    _order = "date desc, id desc"
    _log_access = False
    _rec_name = "key"

    sheet_id = fields.Many2one(
        "lead.allocation.sheet", required=True, readonly=True, index=True, ondelete="cascade"
    )
    key = fields.Char(
        required=True,
        readonly=True,
        help="The row's id (ID column) or a hash of who the lead is (no ID column).",
    )
    state = fields.Selection(ROW_STATES, string="Outcome", required=True, readonly=True)
    row_number = fields.Integer(readonly=True, help="Row number in the sheet at that sync.")
    lead_id = fields.Many2one(
        "crm.lead", readonly=True, index="btree_not_null", ondelete="set null"
    )
    message = fields.Char(readonly=True)
    date = fields.Datetime(required=True, readonly=True, help="Start of the sync.")
    sync_number = fields.Integer(readonly=True, help="The sync of the source that wrote it.")

    _sheet_key_imported_uniq = models.UniqueIndex(
        "(sheet_id, key) WHERE state = 'imported'",
        "This row of the sheet was already imported.",
    )
    _sheet_key_idx = models.Index("(sheet_id, key, id)")
