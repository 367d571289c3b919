"""Who sees which dashboard, and who records targets and designations.

Officials see the dashboard of their post's region and of every region below it (drill-down); a region
outside the subtrees of their posts is absent (404), as is another tenant's. Experts and service
commissioners see only what is granted to them, so they have no regional dashboard.

SECURITY: every view resolves the region through `region_for`, never by code alone.
"""

from __future__ import annotations

from django.http import Http404

from portal.models import Post, Region, Tenant, User

R = Post.Role

DASHBOARD_ROLES = frozenset(
    {
        R.COUNTY_REVIEWER,
        R.PREFECTURE_REVIEWER,
        R.PROVINCIAL_REVIEWER,
        R.PROVINCIAL_APPROVER,
        R.FUNDING_OFFICER,
        R.TENANT_ADMIN,
    }
)
# Targets and designations are kept by the regions' staff and the tenant administrators; funding officers
# read the dashboard only.
TARGET_ROLES = DASHBOARD_ROLES - {R.FUNDING_OFFICER}


def _posts(user: User, tenant: Tenant, roles: frozenset) -> list[Post]:
    if not user.is_authenticated:
        return []
    return [p for p in user.posts_in(tenant) if p.role in roles]


def dashboard_posts(user: User, tenant: Tenant) -> list[Post]:
    return _posts(user, tenant, DASHBOARD_ROLES)


def can_see_dashboard(user: User, tenant: Tenant) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(dashboard_posts(user, tenant)))


def home_regions(user: User, tenant: Tenant) -> list[Region]:
    """The regions of the user's dashboard posts, highest first (the dashboard opens at the first)."""
    if user.is_authenticated and user.is_superuser:
        return [tenant.root_region] if tenant.root_region_id else []
    regions = {p.region_id: p.region for p in dashboard_posts(user, tenant)}
    return sorted(regions.values(), key=lambda r: (len(r.path), r.code))


def may_see_region(user: User, tenant: Tenant, region: Region) -> bool:
    if region.tenant_id != tenant.pk or not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(region.path.startswith(p.region.path) for p in dashboard_posts(user, tenant))


def may_keep_targets(user: User, region: Region) -> bool:
    """Targets of a region are recorded by the staff of that region or of a region above it."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    return any(region.path.startswith(p.region.path) for p in _posts(user, region.tenant, TARGET_ROLES))


def can_keep_targets(user: User, tenant: Tenant) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(_posts(user, tenant, TARGET_ROLES)))


def _regions_under(user: User, tenant: Tenant, roles: frozenset) -> list[Region]:
    from django.db.models import Q

    if not user.is_authenticated:
        return []
    qs = Region.objects.for_tenant(tenant)
    if not user.is_superuser:
        condition = Q()
        for post in _posts(user, tenant, roles):
            condition |= Q(path__startswith=post.region.path)
        if not condition:
            return []
        qs = qs.filter(condition)
    return list(qs.order_by("path"))


def target_regions(user: User, tenant: Tenant) -> list[Region]:
    """The regions whose targets the user keeps: their target posts' regions and everything below."""
    return _regions_under(user, tenant, TARGET_ROLES)


def dashboard_regions(user: User, tenant: Tenant) -> list[Region]:
    """Every region whose dashboard the user sees, tree order."""
    return _regions_under(user, tenant, DASHBOARD_ROLES)


def region_for(user: User, tenant: Tenant, code: str | None) -> Region:
    """The region a dashboard page shows: `code` when the user may see it, their home region without one.

    SECURITY: a code outside the user's subtrees, or of another tenant, is a 404 like a code that does not
    exist; so is a user without a dashboard post."""
    homes = home_regions(user, tenant)
    if not homes:
        raise Http404
    if not code:
        return homes[0]
    region = Region.objects.filter(tenant=tenant, code=code).first()
    if region is None or not may_see_region(user, tenant, region):
        raise Http404
    return region
