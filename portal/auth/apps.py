from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class PortalAuthConfig(AppConfig):
    name = "portal.auth"
    label = "portal_auth"
    default = True
    verbose_name = _("Sign-in")

    def ready(self):
        from portal.auth import checks, sessions, signals  # noqa: F401 - receivers and checks register here


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the portal's admin site: its sign-in is the portal's, second factor included."""

    default = False  # named by its full path in INSTALLED_APPS
    default_site = "portal.auth.admin_site.PortalAdminSite"
