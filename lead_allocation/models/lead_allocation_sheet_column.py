from odoo import api, fields, models

from ..sheets.rows import normalize_header, suggest_mapping

# Lead fields a sheet column can feed: names of the intake unit (intake.KNOWN_FIELDS).
SHEET_FIELDS = [
    ("name", "Lead title"),
    ("contact_name", "Contact name"),
    ("partner_name", "Company"),
    ("email_from", "Email"),
    ("phone", "Phone"),
    ("description", "Notes"),
    ("website", "Website"),
    ("medium", "Source (UTM medium)"),
    ("campaign", "Campaign (UTM)"),
    ("tag_names", "Tags (comma-separated)"),
    ("user_id", "Agent (user ID)"),
    ("external_id", "Row ID (unique key of the row)"),
]


class LeadAllocationSheetColumn(models.Model):
    _name = "lead.allocation.sheet.column"
    _description = "Google Sheet Column Mapping"
    _order = "sheet_id, sequence, id"

    sheet_id = fields.Many2one(
        "lead.allocation.sheet", required=True, index=True, ondelete="cascade"
    )
    sequence = fields.Integer(default=10)
    header = fields.Char(
        required=True, help="The column's header in the sheet, as written in the header row."
    )
    field_name = fields.Selection(
        SHEET_FIELDS,
        string="Lead Field",
        help="What the column holds. Leave empty to ignore the column. Several columns "
        "may feed one field (e.g. first and last name): they are joined.",
    )

    @api.model
    def _add_suggested(self, sheet, headers):
        """Add a column line for each header of ``headers`` that ``sheet`` lacks, with the
        lead field it most likely holds; the number of columns mapped."""
        known = {normalize_header(column.header) for column in sheet.column_ids}
        if sheet.write_back:  # its columns are written by the sync, not read as lead fields
            known.update(normalize_header(name) for name in sheet._write_back_names().values())
        new = [
            {"sheet_id": sheet.id, "sequence": index, "header": header, "field_name": fname}
            for index, (header, fname) in enumerate(suggest_mapping(headers))
            if header and normalize_header(header) not in known
        ]
        self.create(new)
        return sum(1 for vals in new if vals["field_name"])
