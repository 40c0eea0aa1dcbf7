from . import (
    crm_lead,
    ir_http,
    lead_allocation_intake,
    lead_allocation_sheet,
    lead_allocation_sheet_column,
    lead_allocation_sheet_row,
    lead_allocation_state,
    mail_activity,
    mail_followers,
    mail_message,
    res_config_settings,
    res_users,
)
