import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

// A Trusted Employee (with All Documents) and isolation on: without any filter, the
// pipeline and the list show her lead only, not a colleague's nor an unassigned one.
registry.category("web_tour.tours").add("lead_allocation_trusted_employee", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open CRM"),
        {
            trigger: ".o_kanban_record:contains('Lead of Jay')",
            content: "Her lead is in her pipeline",
        },
        {
            trigger: ".o_searchview_facet:contains('My Pipeline') .o_facet_remove",
            content: "Remove the My Pipeline filter",
            run: "click",
        },
        {
            trigger: ".o_searchview:not(:has(.o_searchview_facet))",
        },
        {
            trigger: ".o_switch_view.o_list",
            content: "Switch to the list",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Lead of Jay')",
        },
        {
            trigger: ".o_list_view .o_list_renderer:not(:has(.o_data_row:contains('Lead of Sam')))",
            content: "No colleague's lead",
        },
        {
            trigger: ".o_list_view .o_list_renderer:not(:has(.o_data_row:contains('Lead of nobody')))",
            content: "No unassigned lead",
        },
        {
            trigger: ".o_switch_view.o_kanban",
            content: "Back to the kanban",
            run: "click",
        },
        {
            trigger: ".o_kanban_view .o_kanban_record:contains('Lead of Jay')",
        },
        {
            trigger: ".o_kanban_renderer:not(:has(.o_kanban_record:contains('Lead of Sam')))",
        },
        {
            trigger: ".o_kanban_renderer:not(:has(.o_kanban_record:contains('Lead of nobody')))",
        },
    ],
});
