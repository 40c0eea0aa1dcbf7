import { registry } from "@web/core/registry";

const field = (name) => `.o_field_widget[name=${name}] input`;

// A manager opens a sales team, reads the re-allocation delay (off: 0) and its help, sets
// it to 4 hours; the maximum per lead then shows, is set to 2, and the team is saved.
registry.category("web_tour.tours").add("lead_allocation_sla_setting", {
    steps: () => [
        {
            trigger: ".o_form_label:contains('Re-allocate leads untouched after N hours')",
            content: "The setting is on the team's form",
        },
        {
            trigger: `${field("allocation_sla_hours")}:value(0)`,
            content: "Off by default",
        },
        {
            trigger: ".o_form_view:not(:has(.o_field_widget[name=allocation_sla_max]))",
            content: "No maximum while it is off",
        },
        {
            trigger: field("allocation_sla_hours"),
            content: "Re-allocate after 4 hours (Tab: the form takes the value)",
            run: "edit 4 && press Tab",
        },
        {
            trigger: ".o_form_label:contains('Maximum re-allocations per lead')",
            content: "The maximum shows once a delay is set",
        },
        {
            trigger: `${field("allocation_sla_max")}:value(1)`,
            content: "Once by default",
        },
        {
            trigger: field("allocation_sla_max"),
            run: "edit 2",
        },
        {
            trigger: ".o_form_button_save",
            content: "Save the team",
            run: "click",
        },
        {
            trigger: ".o_form_saved",
        },
    ],
});
