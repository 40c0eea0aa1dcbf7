import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

/** Cell `name` of the Lead Allocations row of `user`. */
const cell = (user, name) => `.o_data_row:contains('${user}') td[name=${name}]`;
/** The preview card of the pool (sales team) `pool`. */
const pool = (name) => `.o_lead_allocation_pool[data-pool='${name}']`;
/** The share of `user` in the preview card of `poolName`. */
const share = (poolName, user) =>
    `${pool(poolName)} .o_lead_allocation_member[data-user='${user}'] .o_lead_allocation_share`;

/** A step that checks how many of the next leads of Tour Team each salesperson gets. */
function nextLeads(expected, content) {
    return {
        trigger: `${pool("Tour Team")} .o_lead_allocation_next`,
        content,
        run({ anchor }) {
            const names = [...anchor.querySelectorAll(".o_lead_allocation_next_user")].map(
                (item) => item.textContent.replace(/^\s*\d+\.\s*/, "").trim()
            );
            const counts = {};
            for (const name of names) {
                counts[name] = (counts[name] || 0) + 1;
            }
            const got = JSON.stringify(counts, Object.keys(counts).sort());
            const want = JSON.stringify(expected, Object.keys(expected).sort());
            if (names.length !== 10 || got !== want) {
                throw new Error(`The next 10 leads go to ${names.join(", ")}, not ${want}`);
            }
        },
    };
}

// An administrator sets weights and pauses on the Lead Allocations page and reads, above
// the list, each pool's shares and who gets the next 10 leads: weights 10/5/5 give
// 50/25/25 %; Jo at 15 and Jay paused give 40/60 % and 4 leads of 10 to Sam, 6 to Jo, without
// reloading the page. With Sam paused too, the page warns that Tour Team's leads will be
// saved unassigned. Users at weight 0 are hidden until the "With a Weight" filter is removed.
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
            trigger: `${share("Tour Team", "Sam Senior")}:contains('50.0 %')`,
            content: "Weights 10/5/5: Sam's share of Tour Team's leads is 50 %",
        },
        {
            trigger: `${share("Tour Team", "Jo Junior")}:contains('25.0 %')`,
        },
        {
            trigger: `${share("Tour Team", "Jay Junior")}:contains('25.0 %')`,
        },
        {
            trigger: `${pool("Tour Team")}:not(:has(.o_lead_allocation_warning))`,
            content: "Tour Team's leads will be assigned: no warning",
        },
        nextLeads(
            { "Sam Senior": 5, "Jo Junior": 3, "Jay Junior": 2 },
            "The next 10 leads of Tour Team: 5 to Sam, the others to Jo and Jay"
        ),
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
            trigger: `${share("Tour Team", "Jo Junior")}:contains('50.0 %')`,
            content: "Jo: 15 of 30, read again after the save",
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
            trigger: `${pool("Tour Team")}:not(:has(.o_lead_allocation_member[data-user='Jay Junior']))`,
            content: "Paused: Jay is out of Tour Team's rotation",
        },
        {
            trigger: `${share("Tour Team", "Jo Junior")}:contains('60.0 %')`,
            content: "Jo: 15 of 25",
        },
        {
            trigger: `${share("Tour Team", "Sam Senior")}:contains('40.0 %')`,
            content: "Sam: 10 of 25, updated without reloading the page",
        },
        nextLeads(
            { "Sam Senior": 4, "Jo Junior": 6 },
            "The next 10 leads of Tour Team: 6 to Jo, 4 to Sam"
        ),
        {
            trigger: `${cell("Sam Senior", "allocation_paused")} input`,
            content: "Pause Sam",
            run: "click",
        },
        {
            trigger: `${cell("Jo Junior", "allocation_paused")} input`,
            content: "Pause Jo: nobody is left in Tour Team's rotation",
            run: "click",
        },
        {
            trigger: `${pool("Tour Team")} .o_lead_allocation_warning:contains('Nobody can receive leads of Tour Team: new leads will be saved unassigned.')`,
            content: "The page warns that Tour Team's leads will be saved unassigned",
        },
        {
            trigger: `${pool("Tour Team")}:not(:has(.o_lead_allocation_member, .o_lead_allocation_next))`,
            content: "Nobody left in Tour Team's rotation, no next lead to show",
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
