"""Who may see and do what in the portal core. Object-level grants go through django-guardian here.

Region-subtree visibility is `TenantScopedQuerySet.visible_to`; this module adds
the grants that cut across the tree (an expert on an application, a commissioner
on an enterprise) and the list of what each role can do, shown on its landing page.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from portal.models import Post, Tenant, User


def grant(*, user: User, perm: str, obj: models.Model) -> None:
    """Give `user` the object permission `perm` ("view", "change", …) on `obj` alone."""
    assign_perm(_codename(perm, obj), user, obj)


def revoke(*, user: User, perm: str, obj: models.Model) -> None:
    remove_perm(_codename(perm, obj), user, obj)


def _codename(perm: str, obj: models.Model) -> str:
    if "." in perm:
        return perm
    return f"{obj._meta.app_label}.{perm}_{obj._meta.model_name}"


def visible_with_grants(queryset: models.QuerySet, *, user: User, tenant: Tenant, perm: str = "view"):
    """Rows the user sees by region (posts) plus the rows granted to them one by one.

    SECURITY: the granted rows are still limited to `tenant`, so a stray grant on
    another tenant's object never shows up here.
    """
    model = queryset.model
    codename = f"{model._meta.app_label}.{perm}_{model._meta.model_name}"
    by_region = queryset.visible_to(user, tenant)
    if not user.is_authenticated:
        return by_region
    granted = get_objects_for_user(
        user, codename, klass=queryset.for_tenant(tenant), accept_global_perms=False, with_superuser=False
    )
    return queryset.for_tenant(tenant).filter(
        Q(pk__in=by_region.values("pk")) | Q(pk__in=granted.values("pk"))
    )


def is_tenant_admin(user: User, tenant: Tenant) -> bool:
    if user.is_superuser:
        return True
    return user.is_authenticated and any(p.is_tenant_admin for p in user.posts_in(tenant))


def is_official(user: User, tenant: Tenant) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(user.posts_in(tenant)))


@dataclass(frozen=True)
class Capability:
    label: str
    description: str
    url_name: str = ""  # a page of this tenant, reversed with tenant_code; empty until its issue lands


_COMMON = [
    Capability(_("Inbox"), _("Read the notifications sent to you."), "inbox"),
]
_JURISDICTION = Capability(
    _("Jurisdiction"), _("Browse the regions under your post and the officials who serve them."), "regions"
)

ROLE_CAPABILITIES: dict[str, list[Capability]] = {
    Post.Role.COUNTY_REVIEWER: [
        _JURISDICTION,
        Capability(
            _("First review"),
            _("Return, reject or recommend applications submitted in your county."),
            "review_queue",
        ),
        Capability(
            _("Cultivation library"),
            _("Keep the county's cultivation library of promising enterprises."),
            "library_list",
        ),
    ],
    Post.Role.PREFECTURE_REVIEWER: [
        _JURISDICTION,
        Capability(
            _("Second review"), _("Review and recommend within your prefecture's quota."), "review_queue"
        ),
        Capability(
            _("Library targets"),
            _("Set your counties' cultivation library targets and follow the shortfall."),
            "library_targets",
        ),
    ],
    Post.Role.PROVINCIAL_REVIEWER: [
        _JURISDICTION,
        Capability(
            _("Provincial review"), _("Organise expert review of recommended applications."), "review_queue"
        ),
        Capability(
            _("Rounds"), _("Open rounds with their review chain, deadlines and quotas."), "round_list"
        ),
    ],
    Post.Role.PROVINCIAL_APPROVER: [
        _JURISDICTION,
        Capability(
            _("Approval and publication"),
            _("Approve, run the public notice, publish the lists."),
            "review_queue",
        ),
        Capability(
            _("Certificates"), _("Issue, re-verify and revoke certifications."), "certification_manage_list"
        ),
    ],
    Post.Role.EXPERT: [
        Capability(_("Expert scoring"), _("Score the applications assigned to you."), "expert_home"),
    ],
    Post.Role.FUNDING_OFFICER: [
        _JURISDICTION,
        Capability(
            _("Awards"), _("Approve and pay awards within the budget of your region."), "funding_entitlements"
        ),
    ],
    Post.Role.SERVICE_COMMISSIONER: [
        Capability(
            _("Enterprise visits"),
            _("Visit the enterprises assigned to you and log each visit."),
            "commissioner_home",
        ),
    ],
    Post.Role.TENANT_ADMIN: [
        _JURISDICTION,
        Capability(_("Audit log"), _("Filter every recorded action in this portal."), "audit"),
        Capability(_("Award policies"), _("The award schedules and their amounts."), "funding_policies"),
        Capability(_("Accounts and posts"), _("Create officials' accounts and assign their posts."), "admin"),
    ],
}


def capabilities_for(post: Post) -> list[Capability]:
    return [*ROLE_CAPABILITIES.get(post.role, []), *_COMMON]
