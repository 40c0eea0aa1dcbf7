from odoo import fields, models

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
