import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const FILTERS = [
    "By Round Robin",
    "By Webhook",
    "From Google Sheets",
    "Assigned Manually",
    "Kept by Creator",
    "Nobody Eligible",
    "Daily Caps Reached",
];
const ROWS = [
    ["Lead by rotation", "Round Robin"],
    ["Lead by webhook", "Webhook"],
    ["Lead from a sheet", "Google Sheets"],
    ["Lead given by hand", "Manual"],
    ["Lead kept by its creator", "Kept by Creator"],
    ["Lead nobody could take", "Unassigned: Nobody Eligible"],
    ["Lead over the caps", "Unassigned: Daily Caps Reached"],
];

/** A filter of the search panel, whose label must be read in full (not cut off with "…"). */
const filterFullyShown = (label) => ({
    trigger: `.o_filter_menu .o_menu_item:contains('${label}')`,
    content: `Filter "${label}", not cut off`,
    run({ anchor }) {
        if (anchor.scrollWidth > anchor.clientWidth) {
            throw new Error(`The filter label "${label}" is cut off`);
        }
    },
});

// A manager reads in the pipeline's list how each lead was allocated (the Allocation
// column), finds a filter for each method, and groups the leads by Allocation.
registry.category("web_tour.tours").add("lead_allocation_lead_list", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open CRM"),
        {
            trigger: ".o_switch_view.o_list",
            content: "The list",
            run: "click",
        },
        {
            trigger: ".o_searchview_facet:contains('My Pipeline') .o_facet_remove",
            content: "Every lead, not only mine",
            run: "click",
        },
        {
            trigger: ".o_list_view th[data-name=allocation_method]:contains('Allocation')",
            content: "An Allocation column",
        },
        ...ROWS.map(([lead, method]) => ({
            trigger: `.o_data_row:contains('${lead}') td[name=allocation_method]:contains('${method}')`,
        })),
        {
            trigger: ".o_searchview_dropdown_toggler",
            content: "Open the filters",
            run: "click",
        },
        ...FILTERS.map(filterFullyShown),
        {
            trigger: ".o_filter_menu .o_menu_item:contains('From Google Sheets')",
            run: "click",
        },
        {
            trigger: ".o_searchview_facet:contains('From Google Sheets')",
        },
        {
            trigger: ".o_list_renderer:not(:has(.o_data_row:contains('Lead by rotation')))",
        },
        {
            trigger: ".o_data_row:contains('Lead from a sheet')",
            content: "Only the lead imported from Google Sheets",
        },
        {
            trigger: ".o_filter_menu .o_menu_item:contains('Assigned Manually')",
            content: "Add the manual ones (same group: either)",
            run: "click",
        },
        {
            trigger: ".o_data_row:contains('Lead given by hand')",
        },
        {
            trigger: ".o_data_row:contains('Lead from a sheet')",
        },
        {
            trigger: ".o_group_by_menu .o_menu_item:contains('Allocation')",
            content: "Group by Allocation",
            run: "click",
        },
        {
            trigger: ".o_group_header:contains('Google Sheets (1)')",
        },
        {
            trigger: ".o_group_header:contains('Manual (1)')",
        },
    ],
});
