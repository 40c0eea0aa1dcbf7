import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const FORM = ".o_lead_opportunity_form";
const SALESPERSON = `${FORM} .o_field_widget[name=user_id] input`;
const CHATTER = ".o-mail-Chatter .o-mail-Message";

// After lead_allocation_salesperson_creates' two leads from the main pipeline, the same
// salesperson opens Sales › Teams › Tour Team: both leads are in the team's pipeline (they
// kept the team of the salesperson the rotation chose). The team's pipeline pre-fills her
// as salesperson in its context; that is not her choice: a lead she adds there by quick
// create, and one in the full form (which starts with the Salesperson empty), go to the
// team's rotation (Sam is at his daily cap, Jay paused: Jo), never to her.
registry.category("web_tour.tours").add("lead_allocation_team_pipeline", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open CRM"),
        {
            trigger: ".o_main_navbar button.dropdown-toggle:contains('Sales')",
            content: "The Sales menu",
            run: "click",
        },
        {
            trigger: ".o-dropdown--menu .dropdown-item:contains('Teams')",
            run: "click",
        },
        {
            trigger: ".o_kanban_record:contains('Tour Team')",
            content: "Open the team's pipeline",
            run: "click",
        },
        {
            trigger: ".o_searchview_facet:contains('Tour Team')",
            content: "The team's pipeline",
        },
        {
            trigger: ".o_kanban_record:contains('Quick tour lead')",
            content: "The quick-created lead is in the team's pipeline",
        },
        {
            trigger: ".o_kanban_record:contains('Form tour lead')",
            content: "So is the one created in the form",
        },
        {
            trigger: ".o-kanban-button-new",
            content: "New: quick create in the team's pipeline",
            run: "click",
        },
        {
            trigger: ".o_kanban_quick_create .o_field_widget[name=name] input",
            run: "edit Team quick lead",
        },
        {
            trigger: ".o_kanban_quick_create .o_kanban_add",
            run: "click",
        },
        {
            trigger: ".o_kanban_record:contains('Team quick lead')",
            run: "click",
        },
        {
            trigger: `${SALESPERSON}:value('Jo Junior')`,
            content: "The team's rotation chose, not the pre-filled salesperson",
        },
        {
            trigger: `${CHATTER}:contains('Assigned to Jo Junior by round robin (weight 5 of 5)')`,
        },
        {
            trigger: ".o_control_panel .o_form_button_create",
            content: "New, in the full form",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains('New')",
        },
        {
            trigger: `${FORM} .o_field_widget[name=name] textarea`,
        },
        {
            trigger: SALESPERSON,
            content: "The form starts with the Salesperson empty",
            run({ anchor }) {
                if (anchor.value) {
                    throw new Error(`The Salesperson is pre-filled: ${anchor.value}`);
                }
            },
        },
        {
            trigger: `${FORM} .o_field_widget[name=name] textarea`,
            run: "edit Team form lead",
        },
        ...stepUtils.saveForm(),
        {
            trigger: `${SALESPERSON}:value('Jo Junior')`,
        },
        {
            trigger: `${CHATTER}:contains('Assigned to Jo Junior by round robin (weight 5 of 5)')`,
        },
        {
            trigger: ".o_breadcrumb a:contains('Opportunities')",
            content: "Back to the team's pipeline",
            run: "click",
        },
        {
            trigger: ".o_kanban_record:contains('Team form lead')",
        },
    ],
});
