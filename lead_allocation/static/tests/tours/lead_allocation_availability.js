import { registry } from "@web/core/registry";

const POOL = ".o_lead_allocation_pool[data-pool='Tour Team']";
const member = (name) => `${POOL} .o_lead_allocation_member[data-user='${name}']`;

// With "Follow working hours and time off" on, a manager opens Lead Allocations: Sam is on
// time off, so his row in the preview reads "away until …" (never why), Jo and Jay are at
// work, and the next 10 leads of the team skip Sam.
registry.category("web_tour.tours").add("lead_allocation_availability", {
    steps: () => [
        {
            trigger: `${member("Sam Senior")} .o_lead_allocation_availability:contains('away until')`,
            content: "Sam is away: the preview says until when",
        },
        {
            trigger: `${member("Jo Junior")} .o_lead_allocation_availability:contains('at work')`,
        },
        {
            trigger: `${POOL} .o_lead_allocation_next`,
            content: "The next 10 leads skip Sam",
            run({ anchor }) {
                const names = [...anchor.querySelectorAll(".o_lead_allocation_next_user")].map(
                    (item) => item.textContent.replace(/^\s*\d+\.\s*/, "").trim()
                );
                if (names.length !== 10 || names.includes("Sam Senior")) {
                    throw new Error(`The next 10 leads go to ${names.join(", ")}`);
                }
                if (document.querySelector(POOL).textContent.includes("Holiday in Lisbon")) {
                    throw new Error("The reason of the time off must stay private");
                }
            },
        },
    ],
});
