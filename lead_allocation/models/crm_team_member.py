from odoo import models


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    def _get_assignment_quota(self, force_quota=False):
        """Odoo's Rule-Based Assignment gives no lead to a salesperson whose allocation is
        Paused (on holiday): the pause of the Lead Allocations page stops every automatic
        assignment, Odoo's *Pause assignment* of one team membership only Odoo's."""
        # sudo: whether the member is paused decides the quota, whoever runs the job
        if self.user_id.sudo().allocation_paused:
            return 0
        return super()._get_assignment_quota(force_quota=force_quota)
