import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const ISOLATION = ".o_field_widget[name=lead_isolation_enabled] input";

// An administrator turns on "Isolate assigned leads from standard users" in Settings and
// saves; after the page reloads, the setting reads as on.
registry.category("web_tour.tours").add("lead_allocation_isolation_setting", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open CRM"),
        {
            trigger: ".o_main_navbar button[data-menu-xmlid='crm.crm_menu_config']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='crm.crm_config_settings_menu']",
            content: "Open the CRM settings",
            run: "click",
        },
        {
            trigger: "#lead_isolation:contains('Isolate assigned leads from standard users')",
            content: "The setting is in the Lead Allocation block",
        },
        {
            trigger: `#lead_isolation ${ISOLATION}:not(:checked)`,
            content: "Off after install: tick it",
            run: "click",
        },
        {
            trigger: ".o_form_button_save",
            content: "Save the settings (the page reloads)",
            run: "click",
            expectUnloadPage: true,
        },
        {
            trigger: `#lead_isolation ${ISOLATION}:checked`,
            content: "Read back from the server: on",
        },
    ],
});
