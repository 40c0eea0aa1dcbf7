{
    "name": "Lead Allocation",
    "summary": "Weighted round robin for new leads, private leads for Trusted Employees, "
    "webhook and Google Sheets intake",
    "version": "19.0.1.2.0",
    "category": "Sales/CRM",
    "website": "https://github.com/lead-allocation/lead_allocation",
    "author": "Lead Allocation contributors",
    "license": "LGPL-3",
    "depends": ["crm"],
    "external_dependencies": {"python": ["gspread", "google-auth"]},
    "data": [
        "security/lead_allocation_security.xml",
        "security/ir.model.access.csv",
        "data/ir_config_parameter_data.xml",
        "data/ir_cron_data.xml",
        "data/mail_templates.xml",
        "views/res_users_views.xml",
        "views/lead_allocation_time_off_views.xml",
        "views/crm_lead_views.xml",
        "views/lead_allocation_sheet_views.xml",
        "views/crm_team_views.xml",
        "views/res_config_settings_views.xml",
        "views/lead_allocation_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "lead_allocation/static/src/**/*",
        ],
        "web.assets_tests": [
            "lead_allocation/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
