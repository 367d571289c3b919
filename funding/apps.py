from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundingConfig(AppConfig):
    name = "funding"
    verbose_name = _("Funding")

    def ready(self):
        from django.db.models.signals import post_save

        from certification import lifecycle
        from certification.models import Certification
        from funding import demo, navigation, receivers
        from funding.services import entitlements_sweep, revocation_clawback
        from portal import demo as portal_demo
        from portal import navigation as portal_navigation

        # Publication creates entitlements (after its commit); revocation stops unpaid awards and claws
        # back paid ones (inside its transaction); the daily run catches up on anything missed.
        post_save.connect(
            receivers.certification_saved, sender=Certification, dispatch_uid="funding-entitlements"
        )
        if revocation_clawback not in lifecycle.REVOCATION_HOOKS:
            lifecycle.REVOCATION_HOOKS.append(revocation_clawback)
        if entitlements_sweep not in lifecycle.DAILY_HOOKS:
            lifecycle.DAILY_HOOKS.append(entitlements_sweep)
        # After certification's seeders (this app comes after it in INSTALLED_APPS): the demo's
        # certifications exist when the funding demo runs.
        portal_demo.SEEDERS.append(demo.seed_funding)
        portal_navigation.NAV_PROVIDERS.append(navigation.nav_links)
        portal_navigation.DASHBOARD_PROVIDERS.append(navigation.dashboard_cards)
