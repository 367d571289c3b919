from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The rows behind the dashboard's numbers (reports.aggregates): a save or delete of any of them starts a new
# generation of the tenant's cached dashboards. Labels, so that this module imports no model at load time.
WATCHED = (
    "certification.Application",
    "certification.Certification",
    "certification.MonitoringWarning",
    "certification.Visit",
    "certification.CommissionerAssignment",
    "certification.AnnualUpdate",
    "certification.Round",
    "certification.RoundQuota",
    "certification.RoundStage",
    "certification.Program",
    "enterprises.AnnualFigures",
    "funding.Entitlement",
    "funding.Budget",
    "funding.ExternalCertification",
    "reports.Target",
    "reports.Designation",
)


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Dashboards and reports")

    def ready(self):
        from django.apps import apps
        from django.db.models.signals import post_delete, post_save

        from certification import lifecycle
        from portal import demo as portal_demo
        from portal import navigation as portal_navigation
        from reports import aggregates, demo, navigation

        for label in WATCHED:
            model = apps.get_model(label)
            post_save.connect(aggregates.row_changed, sender=model, dispatch_uid=f"reports-{label}-saved")
            post_delete.connect(aggregates.row_changed, sender=model, dispatch_uid=f"reports-{label}-deleted")
        # After the daily job's own hooks (this app comes last): expiry and monitoring write in bulk.
        if aggregates.daily_bump not in lifecycle.DAILY_HOOKS:
            lifecycle.DAILY_HOOKS.append(aggregates.daily_bump)
        # After funding's seeder: the targets count the demo's certifications and awards.
        if demo.seed_reports not in portal_demo.SEEDERS:
            portal_demo.SEEDERS.append(demo.seed_reports)
        portal_navigation.NAV_PROVIDERS.append(navigation.nav_links)
        portal_navigation.DASHBOARD_PROVIDERS.append(navigation.dashboard_cards)
