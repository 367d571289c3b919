"""What the funding app adds to navigation and the landing page: "Awards" for an enterprise's members,
"Funding" for funding officers and tenant administrators."""

from django.urls import reverse
from django.utils.translation import gettext as _

from enterprises.permissions import user_enterprise
from funding.permissions import funding_posts, is_funding_official
from portal.permissions import Capability


def nav_links(request):
    user, tenant = request.user, request.tenant
    if not user.is_authenticated:
        return []
    kw = {"tenant_code": tenant.code}
    links = []
    if user_enterprise(user, tenant) is not None:
        links.append((_("Awards"), reverse("funding_awards", kwargs=kw)))
    if is_funding_official(user, tenant):
        links.append((_("Funding"), reverse("funding_entitlements", kwargs=kw)))
    return links


def dashboard_cards(request):
    user, tenant = request.user, request.tenant
    if not user.is_authenticated:
        return []
    kw = {"tenant_code": tenant.code}
    cards = []
    if user_enterprise(user, tenant) is not None:
        cards.append(
            {
                "title": _("Awards"),
                "capabilities": [
                    (
                        Capability(
                            _("My awards"), _("The awards your certifications bring, and their payment.")
                        ),
                        reverse("funding_awards", kwargs=kw),
                    ),
                    (
                        Capability(
                            _("Bank account for awards"),
                            _("Enter the account awards are paid into; another member confirms it."),
                        ),
                        reverse("funding_bank_account", kwargs=kw),
                    ),
                ],
            }
        )
    if is_funding_official(user, tenant):
        capabilities = [
            (
                Capability(_("Award entitlements"), _("Review and approve awards within the budget.")),
                reverse("funding_entitlements", kwargs=kw),
            ),
            (
                Capability(
                    _("Payment batches"), _("Prepare, approve and pay awards; four eyes on every batch.")
                ),
                reverse("funding_batches", kwargs=kw),
            ),
            (
                Capability(_("Budgets"), _("Budgets per policy and year, and how much is committed.")),
                reverse("funding_budgets", kwargs=kw),
            ),
            (
                Capability(_("Award reports"), _("Awards by policy, paying region and year.")),
                reverse("funding_reports", kwargs=kw),
            ),
        ]
        if not funding_posts(user, tenant):  # the tenant administrator: configuration first
            capabilities.insert(
                0,
                (
                    Capability(_("Award policies"), _("The award schedules and their amounts.")),
                    reverse("funding_policies", kwargs=kw),
                ),
            )
        cards.append({"title": _("Funding"), "capabilities": capabilities})
    return cards
