import { registry } from "@web/core/registry";

// A Sales Administrator opens a Google Sheet source that writes back to its sheet: the form
// says to share the sheet as Editor, names the four columns, counts the rows waiting; the
// sheet is shared as Viewer only, and "Test connection" says so in plain words.
registry.category("web_tour.tours").add("lead_allocation_sheet_write_back", {
    steps: () => [
        {
            trigger: ".o_field_widget[name=write_back] input:checked",
            content: "Write back to the sheet is on",
        },
        {
            trigger: "[name=write_back_sharing]:contains('as Editor')",
            content: "The form says how to share the sheet",
        },
        {
            trigger: ".o_field_widget[name=write_back_user_header] input:value('Salesperson')",
            content: "The salesperson column's name, which the administrator may change",
        },
        {
            trigger: ".o_field_widget[name=write_back_waiting]:contains('3')",
            content: "3 rows wait to be written at the next sync",
        },
        {
            trigger: ".o_form_view button[name=action_test_connection]",
            content: "Test connection",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('Connection failed'):contains('as Editor')",
            content: "Shared as Viewer: the answer says to share it as Editor",
        },
    ],
});
