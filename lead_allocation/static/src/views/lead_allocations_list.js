import { onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";
import { LeadAllocationPreview } from "./lead_allocation_preview";

/**
 * The Lead Allocations page: the list of weights, pauses and caps, under a panel that shows
 * for each pool the shares and who gets the next leads (lead.allocation.pool's
 * get_preview_data). A weight or a pause changes the whole pool, so the panel is read
 * again after each save.
 */
export class LeadAllocationsListController extends ListController {
    static template = "lead_allocation.LeadAllocationsListView";
    static components = { ...ListController.components, LeadAllocationPreview };

    setup() {
        super.setup();
        this.preview = useState({ loaded: false, enabled: true, pools: [] });
        onWillStart(() => this.loadPreview());
    }

    async loadPreview() {
        const data = await this.orm.call("lead.allocation.pool", "get_preview_data", []);
        Object.assign(this.preview, data, { loaded: true });
    }

    async onRecordSaved(record) {
        await super.onRecordSaved(...arguments);
        await this.loadPreview();
    }
}

registry.category("views").add("lead_allocations_list", {
    ...listView,
    Controller: LeadAllocationsListController,
});
