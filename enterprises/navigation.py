"""What the enterprises app adds to the core's navigation and landing page."""

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from enterprises.permissions import user_enterprise
from portal import permissions as portal_permissions
from portal.permissions import Capability


def nav_links(request):
    user, tenant = request.user, request.tenant
    links = []
    if not user.is_authenticated:
        return [
            (_("Register an enterprise"), reverse("enterprise_register", kwargs={"tenant_code": tenant.code}))
        ]
    if user_enterprise(user, tenant) is not None:
        links.append((_("My enterprise"), reverse("enterprise_home", kwargs={"tenant_code": tenant.code})))
    if portal_permissions.is_official(user, tenant):
        links.append(
            (
                pgettext("officials' list", "Enterprises"),
                reverse("enterprise_list", kwargs={"tenant_code": tenant.code}),
            )
        )
    return links


def dashboard_cards(request):
    user, tenant = request.user, request.tenant
    enterprise = user_enterprise(user, tenant)
    cards = []
    if enterprise is not None:

        def url(name):
            return reverse(name, kwargs={"tenant_code": tenant.code})

        cards.append(
            {
                "title": enterprise.name,
                "capabilities": [
                    (
                        Capability(_("My enterprise"), _("Profile, size class, figures, IP and documents.")),
                        url("enterprise_home"),
                    ),
                    (
                        Capability(_("Annual figures"), _("Enter or import three years of figures.")),
                        url("enterprise_figures"),
                    ),
                    (
                        Capability(_("Members"), _("Invite colleagues and manage their roles.")),
                        url("enterprise_members"),
                    ),
                ],
            }
        )
    if portal_permissions.is_official(user, tenant) and any(
        p.sees_whole_subtree for p in user.posts_in(tenant)
    ):
        cards.append(
            {
                "title": _("Enterprises in your jurisdiction"),
                "capabilities": [
                    (
                        Capability(
                            pgettext("officials' list", "Enterprises"),
                            _("Search, open and export the enterprises in your region."),
                        ),
                        reverse("enterprise_list", kwargs={"tenant_code": tenant.code}),
                    ),
                ],
            }
        )
    return cards
