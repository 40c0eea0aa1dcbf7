import { registry } from "@web/core/registry";

// A Sales Administrator opens a Google Sheet source whose sync stopped part-way: the form
// shows how far it got; "Sync now" queues a sync and answers at once.
registry.category("web_tour.tours").add("lead_allocation_sheet_sync", {
    steps: () => [
        {
            trigger: "[name=sync_progress]:contains('Sync in progress, rows read:')",
            content: "The sync in progress is shown at the top of the form",
        },
        {
            trigger: "[name=sync_progress] .o_progress[aria-valuenow='500'][aria-valuemax='1200']",
            content: "500 of the 1200 rows read",
        },
        {
            trigger: ".o_field_widget[name=last_sync_message]:contains('continues at its next run')",
            content: "Last sync says the sync goes on",
        },
        {
            trigger: ".o_form_view button[name=action_sync_now]",
            content: "Sync now",
            run: "click",
        },
        {
            trigger: ".o_notification:contains('Sync queued')",
            content: "Queued at once: the import runs in the background",
        },
    ],
});
