"""The one way to scope a query to a tenant and, for officials, to their region subtree.

Every tenant-scoped model uses `TenantScopedQuerySet` as its manager and names the
field that places a row in the region tree (`region_field`: "county" for an
enterprise, "region" for a post, "" for a region itself). Pages, the API and tasks
call `for_tenant()` and `visible_to()`; nothing else filters by tenant by hand.

SECURITY: a query a tenant user can reach must start from one of these methods.
Rows of another tenant are simply absent, so a lookup by id answers 404, not 403.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from portal.models import Region, Tenant, User


class TenantScopedQuerySet(models.QuerySet):
    def _path_lookup(self) -> str:
        field = getattr(self.model, "region_field", None)
        if field is None:
            raise TypeError(f"{self.model.__name__} has no region_field: it cannot be scoped by region")
        return f"{field}__path__startswith" if field else "path__startswith"

    def for_tenant(self, tenant: Tenant) -> TenantScopedQuerySet:
        return self.filter(tenant=tenant)

    def in_subtree(self, region: Region) -> TenantScopedQuerySet:
        """Rows placed at `region` or anywhere below it."""
        return self.filter(tenant_id=region.tenant_id, **{self._path_lookup(): region.path})

    def visible_to(self, user: User, tenant: Tenant) -> TenantScopedQuerySet:
        """What an official may see in `tenant`: the union of the subtrees of their posts.

        A platform superuser sees the whole tenant. A user without a post in the
        tenant sees nothing. Experts and commissioners see only rows granted to them
        object by object (django-guardian), which the calling selector adds.
        """
        qs = self.for_tenant(tenant)
        if not user.is_authenticated:
            return qs.none()
        if user.is_superuser:
            return qs
        lookup = self._path_lookup()
        condition = Q()
        for post in user.posts_in(tenant):
            if post.sees_whole_subtree:
                if post.region_id == tenant.root_region_id:
                    # The whole tenant: no join to the region tree (a LIKE that matches every row).
                    return qs
                condition |= Q(**{lookup: post.region.path})
        if not condition:
            return qs.none()
        return qs.filter(condition)
