import { registry } from "@web/core/registry";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

/**
 * The Lead Allocations page: a weight or a pause changes everybody's share, so after each
 * save the whole list is read again; otherwise the other rows would keep their old shares.
 */
export class LeadAllocationsListController extends ListController {
    async onRecordSaved(record) {
        await super.onRecordSaved(...arguments);
        // The save still holds the model's lock: reload once it is released, unless the user
        // is already editing another row (its own save will reload).
        this.model.mutex.getUnlockedDef().then(() => {
            if (!this.model.root.editedRecord) {
                this.model.root.load();
            }
        });
    }
}

registry.category("views").add("lead_allocations_list", {
    ...listView,
    Controller: LeadAllocationsListController,
});
