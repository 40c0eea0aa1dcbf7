import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/** Cell `name` of the Lead Allocations row of `user`. */
const cell = (user, name) => `.o_data_row:contains('${user}') td[name=${name}]`;

// An administrator sets weights and pauses on the Lead Allocations page and reads the
// expected shares: weights 10/5/5 give 50/25/25 %; Jo at 15 and Jay paused give 40/60/0 %.
// Users at weight 0 are hidden until the "With a Weight" filter is removed.
registry.category("web_tour.tours").add("lead_allocation_weights", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open CRM"),
        {
            trigger: ".o_main_navbar button[data-menu-xmlid='crm.crm_menu_config']",
            content: "Open the Configuration menu",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='lead_allocation.res_users_menu_lead_allocation']",
            content: "Open Lead Allocations",
            run: "click",
        },
        {
            trigger: `.o_breadcrumb:contains('Lead Allocations')`,
        },
        {
            trigger: ".o_searchview_facet:contains('With a Weight')",
            content: "By default, only the users with a weight",
        },
        {
            trigger: `${cell("Sam Senior", "allocation_share")}:contains('50.0')`,
            content: "Weights 10/5/5: Sam's expected share is 50 %",
        },
        {
            trigger: ".o_list_renderer:not(:has(.o_data_row:contains('Sue Sales')))",
            content: "Sue (weight 0) is not listed",
        },
        {
            trigger: ".o_list_view th[data-name=allocation_lead_count]:contains('Leads (30 days)')",
            content: "The header is read in full",
            run({ anchor }) {
                const label = anchor.querySelector("span.text-truncate");
                if (label.scrollWidth > label.clientWidth) {
                    throw new Error(`The header "${label.textContent}" is cut off`);
                }
            },
        },
        {
            trigger: `${cell("Jo Junior", "allocation_share")}:contains('25.0')`,
        },
        {
            trigger: `${cell("Jay Junior", "allocation_share")}:contains('25.0')`,
        },
        {
            trigger: cell("Jo Junior", "allocation_weight"),
            content: "Edit Jo's weight",
            run: "click",
        },
        {
            trigger: ".o_selected_row td[name=allocation_weight] input",
            run: "edit 15",
        },
        {
            trigger: ".o_list_button_save",
            content: "Save",
            run: "click",
        },
        {
            trigger: `.o_list_renderer:not(:has(.o_selected_row)) ${cell("Jo Junior", "allocation_weight")}:contains('15')`,
        },
        {
            trigger: `${cell("Jay Junior", "allocation_paused")} input`,
            content: "Pause Jay (saved at once)",
            run: "click",
        },
        {
            trigger: `${cell("Jay Junior", "allocation_paused")} input:checked`,
        },
        {
            trigger: `${cell("Jay Junior", "allocation_share")}:contains('0.0')`,
            content: "Paused: Jay gets no share",
        },
        {
            trigger: `${cell("Jo Junior", "allocation_share")}:contains('60.0')`,
            content: "Jo: 15 of 25",
        },
        {
            trigger: `${cell("Sam Senior", "allocation_share")}:contains('40.0')`,
            content: "Sam: 10 of 25, updated without reloading the page",
        },
        {
            trigger: ".o_searchview_facet:contains('With a Weight') .o_facet_remove",
            content: "Remove the filter: everybody with a Sales role",
            run: "click",
        },
        {
            trigger: `${cell("Sue Sales", "allocation_weight")}:contains('0')`,
        },
    ],
});
