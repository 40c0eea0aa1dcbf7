from odoo import api, models


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    # The members of the teams' pools are kept in Odoo's cache
    # (lead.allocation.members._ids_of): any change of a membership clears it (_forget).

    @api.model_create_multi
    def create(self, vals_list):
        memberships = super().create(vals_list)
        self.env["lead.allocation.members"]._forget()
        return memberships

    def write(self, vals):
        result = super().write(vals)
        if {"active", "user_id", "crm_team_id"} & vals.keys():
            self.env["lead.allocation.members"]._forget()
        return result

    def unlink(self):
        result = super().unlink()
        self.env["lead.allocation.members"]._forget()
        return result

    def _get_assignment_quota(self, force_quota=False):
        """Odoo's Rule-Based Assignment gives no lead to a salesperson whose allocation is
        Paused (on holiday): the pause of the Lead Allocations page stops every automatic
        assignment, Odoo's *Pause assignment* of one team membership only Odoo's."""
        # sudo: whether the member is paused decides the quota, whoever runs the job
        if self.user_id.sudo().allocation_paused:
            return 0
        return super()._get_assignment_quota(force_quota=force_quota)
