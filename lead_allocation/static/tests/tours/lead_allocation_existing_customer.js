import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_utils";

const FORM = ".o_lead_opportunity_form";
const WHY = "Assigned to Jo Junior: salesperson of Acme Corp (matched by e-mail address ann@acme.example)";

// Sue types a new opportunity for a customer the company already has: the e-mail is that
// of Ann, a contact of Acme Corp, whose salesperson is Jo Junior. On saving, the lead is
// Jo's, the form says "Existing Customer" and why, and so does the chatter.
registry.category("web_tour.tours").add("lead_allocation_existing_customer", {
    steps: () => [
        {
            trigger: `${FORM} .o_field_widget[name=name] textarea`,
            run: "edit Acme wants more",
        },
        {
            trigger: `${FORM} .o_field_widget[name=email_from] input`,
            run: "edit ann@acme.example",
        },
        ...stepUtils.saveForm(),
        {
            trigger: `${FORM} .o_field_widget[name=user_id] input:value('Jo Junior')`,
            content: "The customer's salesperson got the lead",
        },
        {
            trigger: `${FORM} .o_field_widget[name=allocation_method]:contains('Existing Customer')`,
        },
        {
            trigger: `${FORM} .o_field_widget[name=allocation_reason]:contains('${WHY}')`,
            content: "Why, on the form",
        },
        {
            trigger: `.o-mail-Chatter .o-mail-Message:contains('${WHY}')`,
            content: "Why, in the chatter",
        },
    ],
});
