"""Who may see and do what with awards (style.md 10).

- **Acting** on a policy's money (approve or reject its entitlements, prepare, approve and pay its batches,
  record repayments and write-offs) is for the funding officers (Post.Role.FUNDING_OFFICER) of the paying
  region itself: the policy's region, exactly. A provincial officer does not approve a city's awards — the
  city's budget pays them and its finance bureau answers for them. A platform superuser has no post and
  acts on nothing: four eyes need two identifiable officers.
- **Seeing** awards: funding officers and tenant administrators see what the regions of their subtree pay
  (region_field "policy__region"), so a provincial officer follows the cities' awards.
- **Configuring** (policies, budgets, settings): the tenant administrator; a budget also by the paying
  region's funding officers.
- An enterprise's members see its own awards and manage its bank account.

SECURITY: every funding lookup a tenant user reaches starts from `funding_scope()` or from the
enterprise's own rows; another tenant's or another region's object is then simply absent (404).
"""

from __future__ import annotations

from django.db.models import Q

from enterprises.models import Enterprise, Membership
from portal.models import Post, Region, Tenant, User

FUNDING_ROLES = {Post.Role.FUNDING_OFFICER, Post.Role.TENANT_ADMIN}


def funding_posts(user: User, tenant: Tenant) -> list[Post]:
    if not user.is_authenticated:
        return []
    return [p for p in user.posts_in(tenant) if p.role == Post.Role.FUNDING_OFFICER]


def is_paying_officer(user: User, region: Region) -> bool:
    """A funding officer of exactly this region (the region whose budget pays)."""
    return any(p.region_id == region.pk for p in funding_posts(user, region.tenant))


def is_tenant_admin(user: User, tenant: Tenant) -> bool:
    return user.is_authenticated and any(p.is_tenant_admin for p in user.posts_in(tenant))


def is_funding_official(user: User, tenant: Tenant) -> bool:
    """Sees the funding pages: a funding officer anywhere in the tenant, or its administrator."""
    return user.is_authenticated and any(p.role in FUNDING_ROLES for p in user.posts_in(tenant))


def funding_scope(user: User, tenant: Tenant, *, field: str = "policy__region") -> Q | None:
    """The condition on `<field>__path` a funding official's queries add; None means nothing visible.

    The union of the subtrees of the user's funding-officer and tenant-admin posts. An empty Q() (the whole
    tenant) for a post at the tenant's root.
    """
    if not user.is_authenticated:
        return None
    condition = None
    for post in user.posts_in(tenant):
        if post.role not in FUNDING_ROLES:
            continue
        if post.region_id == tenant.root_region_id:
            return Q()
        part = Q(**{f"{field}__path__startswith": post.region.path})
        condition = part if condition is None else condition | part
    return condition


def is_member(user: User, enterprise: Enterprise) -> bool:
    return user.is_authenticated and Membership.objects.filter(enterprise=enterprise, user=user).exists()
