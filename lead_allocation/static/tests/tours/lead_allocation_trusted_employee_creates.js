import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const FORM = ".o_lead_opportunity_form";
const SALESPERSON = `${FORM} .o_field_widget[name=user_id] input`;

// A Trusted Employee (isolation on) creates a lead in the full form: a line under the
// Salesperson says why it is pre-filled with her; she clears it anyway and saves: no
// Access Error, the lead is saved, hers, and says why.
registry.category("web_tour.tours").add("lead_allocation_trusted_employee_creates", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open CRM"),
        {
            trigger: ".o_switch_view.o_list",
            content: "The list",
            run: "click",
        },
        {
            trigger: ".o_list_view",
        },
        {
            trigger: ".o_control_panel .o_list_button_add",
            content: "New",
            run: "click",
        },
        {
            trigger: `${SALESPERSON}:value('Jay Junior')`,
            content: "Pre-filled with herself",
        },
        {
            trigger: `${FORM} .o_lead_allocation_keeps_own:contains('New leads you create stay yours')`,
            content: "and the form says why",
        },
        {
            trigger: `${FORM} .o_field_widget[name=name] textarea`,
            run: "edit Lead typed by Jay",
        },
        {
            trigger: SALESPERSON,
            content: "Clear the Salesperson",
            run: "clear",
        },
        {
            trigger: `${FORM} .o_field_widget[name=name] textarea`,
            content: "Leave the field",
            run: "click",
        },
        {
            trigger: SALESPERSON,
            content: "The Salesperson is empty",
            run({ anchor }) {
                if (anchor.value) {
                    throw new Error(`The Salesperson is still ${anchor.value}`);
                }
            },
        },
        ...stepUtils.saveForm(),
        {
            trigger: `${SALESPERSON}:value('Jay Junior')`,
            content: "Saved, and hers",
        },
        {
            trigger: `${FORM} .o_field_widget[name=allocation_method]:contains('Kept by Creator')`,
        },
        {
            trigger: `.o-mail-Chatter .o-mail-Message:contains('Kept by its creator: a Trusted Employee may own only their own leads')`,
        },
        {
            trigger: "body:not(:has(.o_error_dialog))",
            content: "No Access Error",
        },
        {
            trigger: ".o_breadcrumb a:first",
            content: "Back to the list",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('Lead typed by Jay')",
            content: "The lead is in her list",
        },
    ],
});
