from . import crm_lead, lead_allocation_state, res_config_settings, res_users
