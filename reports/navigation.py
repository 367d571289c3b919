"""What the reports app adds to navigation and the landing page: the regional dashboard for officials."""

from django.urls import reverse
from django.utils.translation import gettext as _

from portal.permissions import Capability
from reports.permissions import can_keep_targets, can_see_dashboard


def nav_links(request):
    user, tenant = request.user, request.tenant
    if not can_see_dashboard(user, tenant):
        return []
    return [(_("Regional dashboard"), reverse("region_dashboard", kwargs={"tenant_code": tenant.code}))]


def dashboard_cards(request):
    user, tenant = request.user, request.tenant
    if not can_see_dashboard(user, tenant):
        return []
    kw = {"tenant_code": tenant.code}
    capabilities = [
        (
            Capability(
                _("Regional dashboard"),
                _(
                    "Applications, certified enterprises, targets, quotas and awards of your region, with drill-down."
                ),
            ),
            reverse("region_dashboard", kwargs=kw),
        ),
        (
            Capability(_("Circular"), _("The regions below yours ranked, for the yearly circular (通报).")),
            reverse("region_circular", kwargs=kw),
        ),
        (
            Capability(
                _("Development reports"), _("The yearly development report (发展报告) of a region as a PDF.")
            ),
            reverse("reports_jobs", kwargs=kw),
        ),
    ]
    if can_keep_targets(user, tenant):
        capabilities += [
            (
                Capability(
                    _("Targets"), _("Record your region's targets with the policy text they come from.")
                ),
                reverse("reports_targets", kwargs=kw),
            ),
            (
                Capability(
                    _("Designations"),
                    _(
                        "Record enterprises recommended to the national list, demonstration enterprises and listed companies."
                    ),
                ),
                reverse("reports_designations", kwargs=kw),
            ),
        ]
    return [{"title": _("Dashboards and reports"), "capabilities": capabilities}]
