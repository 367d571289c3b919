"""Who may see and change an enterprise.

- its members see it; its administrators change it and manage members;
- officials see the enterprises in the subtree of their posts;
- service commissioners see the enterprises granted to them (django-guardian).

SECURITY: every enterprise lookup by id goes through `enterprises_visible_to`,
so an enterprise of another tenant or outside the viewer's region is a 404.
"""

from __future__ import annotations

from django.db.models import Q
from guardian.shortcuts import get_objects_for_user

from enterprises.models import Enterprise, Membership
from portal import permissions as portal_permissions
from portal.models import Tenant, User


def enterprises_visible_to(user: User, tenant: Tenant):
    if not user.is_authenticated:
        return Enterprise.objects.none()
    qs = Enterprise.objects.for_tenant(tenant)
    official = portal_permissions.visible_with_grants(Enterprise.objects.all(), user=user, tenant=tenant)
    # its service commissioner (服务专员) reads the enterprises it serves
    served = get_objects_for_user(
        user,
        "enterprises.serve_enterprise",
        klass=Enterprise.objects.for_tenant(tenant),
        accept_global_perms=False,
        with_superuser=False,
    )
    return qs.filter(
        Q(pk__in=official.values("pk")) | Q(pk__in=served.values("pk")) | Q(memberships__user=user)
    ).distinct()


def membership(user: User, enterprise: Enterprise) -> Membership | None:
    if not user.is_authenticated:
        return None
    cache = user.__dict__.setdefault("_membership_cache", {})
    if enterprise.pk not in cache:
        cache[enterprise.pk] = Membership.objects.filter(user=user, enterprise=enterprise).first()
    return cache[enterprise.pk]


def is_member(user: User, enterprise: Enterprise) -> bool:
    return membership(user, enterprise) is not None


def is_enterprise_admin(user: User, enterprise: Enterprise) -> bool:
    m = membership(user, enterprise)
    return m is not None and m.is_admin


def user_enterprise(user: User, tenant: Tenant) -> Enterprise | None:
    """The enterprise the user acts for in this tenant (the first, if several)."""
    if not user.is_authenticated:
        return None
    # Asked by the navigation, the landing page and the view of one request: read once per user object
    # (a request's user lives as long as the request).
    cache = user.__dict__.setdefault("_enterprise_cache", {})
    if tenant.pk not in cache:
        cache[tenant.pk] = (
            Enterprise.objects.for_tenant(tenant)
            .for_member(user)
            .select_related("county", "industry")
            .order_by("memberships__created_at")
            .first()
        )
    return cache[tenant.pk]
