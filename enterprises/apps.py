from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnterprisesConfig(AppConfig):
    name = "enterprises"
    verbose_name = _("Enterprises")

    def ready(self):
        from enterprises import demo, navigation
        from portal import demo as portal_demo
        from portal import navigation as portal_navigation

        portal_navigation.NAV_PROVIDERS.append(navigation.nav_links)
        portal_navigation.DASHBOARD_PROVIDERS.append(navigation.dashboard_cards)
        portal_demo.SEEDERS.append(demo.seed_enterprises)
