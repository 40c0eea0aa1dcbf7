import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const FORM = ".o_lead_opportunity_form";
const SALESPERSON = `${FORM} .o_field_widget[name=user_id] input`;
const ALLOCATION = `${FORM} .o_field_widget[name=allocation_method]`;
const WHY = `${FORM} .o_field_widget[name=allocation_reason]`;
const CHATTER = ".o-mail-Chatter .o-mail-Message";

// A salesperson (All Documents, outside the rotation) creates two leads from the main
// pipeline, one by kanban quick create and one in the full form (New on the first lead's
// form), and reads on each lead who got it and why, on the form and in the chatter: Sam
// (weight 10 of 15, Jay is paused) gets the first, then reaches his daily cap of 1, so Jo
// gets the second.
registry.category("web_tour.tours").add("lead_allocation_salesperson_creates", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open CRM"),
        {
            trigger: ".o_searchview_facet:contains('My Pipeline')",
        },
        {
            trigger: ".o_kanban_renderer .o_kanban_group .o_column_title:contains('New')",
            content: "The pipeline's stages are shown",
        },
        {
            trigger: ".o-kanban-button-new",
            content: "New: kanban quick create",
            run: "click",
        },
        {
            trigger: ".o_kanban_quick_create .o_field_widget[name=name] input",
            run: "edit Quick tour lead",
        },
        {
            trigger: ".o_kanban_quick_create .o_kanban_add",
            content: "Add",
            run: "click",
        },
        {
            trigger: ".o_kanban_record:contains('Quick tour lead')",
            content: "Open the new card",
            run: "click",
        },
        {
            trigger: `${SALESPERSON}:value('Sam Senior')`,
            content: "The rotation gave it to Sam",
        },
        {
            trigger: `${ALLOCATION}:contains('Round Robin')`,
        },
        {
            trigger: `${WHY}:contains('Assigned to Sam Senior by round robin (weight 10 of 15)')`,
            content: "Why, on the form",
        },
        {
            trigger: `${CHATTER}:contains('Assigned to Sam Senior by round robin (weight 10 of 15)')`,
            content: "Why, in the chatter",
        },
        {
            trigger: ".o_control_panel .o_form_button_create",
            content: "New, from the lead's form",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .o_last_breadcrumb_item:contains('New')",
            content: "A blank form",
        },
        {
            trigger: `${FORM} .o_field_widget[name=name] textarea`,
            run: "edit Form tour lead",
        },
        {
            trigger: `${FORM} .o_field_widget[name=email_from] input`,
            run: "edit form.tour@example.com",
        },
        ...stepUtils.saveForm(),
        {
            trigger: `${SALESPERSON}:value('Jo Junior')`,
            content: "Sam is at his daily cap: Jo got it",
        },
        {
            trigger: `${ALLOCATION}:contains('Round Robin')`,
        },
        {
            trigger: `${CHATTER}:contains('Assigned to Jo Junior by round robin (weight 5 of 5)')`,
            content: "Why, in the chatter: Jo was the only one under the cap",
        },
    ],
});
