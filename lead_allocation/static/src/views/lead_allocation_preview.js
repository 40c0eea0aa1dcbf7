import { Component } from "@odoo/owl";
import { formatFloat } from "@web/core/utils/numbers";

/**
 * One card per allocation pool (each sales team, and the leads without a team): the
 * salespeople in its rotation with their weight and share (and, when the add-on follows
 * working hours, their availability: "at work", "off until …", "away until …"), who gets
 * the next leads, and a warning when nobody can receive them.
 */
export class LeadAllocationPreview extends Component {
    static template = "lead_allocation.LeadAllocationPreview";
    static props = { enabled: Boolean, pools: Array };

    formatShare(share) {
        return `${formatFloat(share, { digits: [16, 1] })} %`;
    }
}
