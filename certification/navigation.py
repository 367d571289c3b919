"""What the certification app adds to navigation, the landing page, and the enterprises' facts-changed hook."""

from django.urls import reverse
from django.utils.translation import gettext as _

from enterprises.permissions import user_enterprise
from portal import permissions as portal_permissions
from portal.permissions import Capability


def rescreen_after_commit(enterprise_id: int) -> None:
    from certification.tasks import screen_enterprise

    screen_enterprise.delay(enterprise_id)


def nav_links(request):
    from certification.publication import PUBLISHING_ROLES

    tenant = request.tenant
    links = []
    kw = {"tenant_code": tenant.code}
    if request.user.is_authenticated and user_enterprise(request.user, tenant) is not None:
        links.append((_("Self-evaluation"), reverse("self_evaluation", kwargs=kw)))
        links.append((_("Applications"), reverse("application_list", kwargs=kw)))
        links.append((_("Certificates"), reverse("certification_list", kwargs=kw)))
        links.append((_("Service requests"), reverse("service_requests", kwargs=kw)))  # commissioners
        from certification.monitoring import enterprise_is_certified

        if enterprise_is_certified(user_enterprise(request.user, tenant)):
            links.append((_("Annual update"), reverse("annual_update", kwargs=kw)))
    if portal_permissions.is_official(request.user, tenant):
        posts = request.user.posts_in(tenant)
        if request.user.is_superuser or any(p.is_reviewer for p in posts):
            links.append((_("Review"), reverse("review_queue", kwargs=kw)))
        if request.user.is_superuser or any(p.sees_whole_subtree for p in posts):
            links.append((_("Rounds"), reverse("round_list", kwargs=kw)))
        if any(p.role == p.Role.EXPERT for p in posts):
            links.append((_("Expert review"), reverse("expert_home", kwargs=kw)))
        from certification import commissioners

        if commissioners.is_commissioner_role(request.user, tenant):
            links.append((_("My enterprises"), reverse("commissioner_home", kwargs=kw)))
        if commissioners.is_staff(request.user, tenant):
            links.append((_("Service commissioners"), reverse("commissioner_assignments", kwargs=kw)))
        links.append((_("Screening"), reverse("screening_home", kwargs=kw)))
        if request.user.is_superuser or any(
            p.role in PUBLISHING_ROLES or (p.is_reviewer and p.region.level == "prefecture") for p in posts
        ):
            links.append((_("Notices"), reverse("notice_manage_list", kwargs=kw)))
        # dynamic management (views_lifecycle): the subtree's certifications, re-verifications, revocations
        if request.user.is_superuser or any(p.sees_whole_subtree for p in posts):
            links.append((_("Certifications"), reverse("certification_manage_list", kwargs=kw)))
        if request.user.is_superuser or any(p.is_reviewer for p in posts):
            links.append((_("Re-verification"), reverse("reverification_queue", kwargs=kw)))
        if portal_permissions.is_tenant_admin(request.user, tenant):
            links.append((_("Lifecycle settings"), reverse("lifecycle_settings", kwargs=kw)))
        from certification.monitoring import can_monitor

        if can_monitor(request.user, tenant):
            links.append((_("Monitoring"), reverse("monitoring_home", kwargs=kw)))
        from certification.library import is_keeper

        if is_keeper(request.user, tenant):
            links.append((_("Cultivation library"), reverse("library_list", kwargs=kw)))
    if not request.user.is_authenticated:
        links.append(
            (_("Eligibility calculator"), reverse("calculator", kwargs={"tenant_code": tenant.code}))
        )
    links.append((_("Public notices"), reverse("notice_public_list", kwargs=kw)))
    links.append((_("Directory"), reverse("directory", kwargs=kw)))
    links.append((_("Verify a certificate"), reverse("verify", kwargs=kw)))
    return links


def dashboard_cards(request):
    tenant = request.tenant
    cards = []
    if user_enterprise(request.user, tenant) is not None:
        cards.append(
            {
                "title": _("Self-evaluation"),
                "capabilities": [
                    (
                        Capability(
                            _("Self-evaluation"),
                            _(
                                "See which programmes your enterprise meets, "
                                "with the score and every unmet condition."
                            ),
                        ),
                        reverse("self_evaluation", kwargs={"tenant_code": tenant.code}),
                    )
                ],
            }
        )
    if portal_permissions.is_official(request.user, tenant) and any(
        p.sees_whole_subtree for p in request.user.posts_in(tenant)
    ):
        cards.append(
            {
                "title": _("Programmes and screening"),
                "capabilities": [
                    (
                        Capability(
                            _("Screening"),
                            _(
                                "Criteria of each programme, and background screening "
                                "of the enterprises in your region."
                            ),
                        ),
                        reverse("screening_home", kwargs={"tenant_code": tenant.code}),
                    )
                ],
            }
        )
    cards += _monitoring_cards(request)
    return cards


def _monitoring_cards(request) -> list[dict]:
    from certification.monitoring import can_monitor, enterprise_is_certified

    tenant, kw = request.tenant, {"tenant_code": request.tenant.code}
    cards = []
    if enterprise_is_certified(user_enterprise(request.user, tenant)):
        cards.append(
            {
                "title": _("Dynamic management"),
                "capabilities": [
                    (
                        Capability(
                            _("Annual update"), _("Confirm your figures of last year by the deadline.")
                        ),
                        reverse("annual_update", kwargs=kw),
                    ),
                    (
                        Capability(
                            _("Change reports"),
                            _("Report a change of name, a merger or a move within three months."),
                        ),
                        reverse("change_reports", kwargs=kw),
                    ),
                ],
            }
        )
    if can_monitor(request.user, tenant):
        cards.append(
            {
                "title": _("Monitoring of certified enterprises"),
                "capabilities": [
                    (
                        Capability(_("Annual updates"), _("Who has confirmed the figures, and who has not.")),
                        reverse("monitoring_home", kwargs=kw),
                    ),
                    (
                        Capability(
                            _("Monitoring warnings"),
                            _("Certified enterprises whose figures fail a condition of their programme."),
                        ),
                        reverse("monitoring_warnings", kwargs=kw),
                    ),
                    (
                        Capability(_("Change reports"), _("Review the major changes enterprises report.")),
                        reverse("change_report_list", kwargs=kw),
                    ),
                ],
            }
        )
    return cards
