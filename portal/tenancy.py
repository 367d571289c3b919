"""Tenant resolution from the URL.

Tenant-scoped URLs carry the tenant code as their first segment
(`/<tenant_code>/…` for pages, `/api/v1/<tenant_code>/…` for the API). The
middleware turns the code into `request.tenant` before the view runs; an unknown
or inactive code is a 404, rendered by `templates/404.html` in the user's language.
"""

from __future__ import annotations

from django.core.cache import cache
from django.http import Http404
from django.utils.translation import gettext as _

from portal.models import Tenant

TENANT_CACHE_SECONDS = 60


def tenant_by_code(code: str) -> Tenant | None:
    key = f"tenant:{code}"
    tenant = cache.get(key)
    if tenant is None:
        tenant = Tenant.objects.select_related("root_region").filter(code=code, is_active=True).first()
        if tenant is not None:
            cache.set(key, tenant, TENANT_CACHE_SECONDS)
    return tenant


def forget_tenant(code: str) -> None:
    cache.delete(f"tenant:{code}")


class TenantMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.tenant = None
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        code = view_kwargs.get("tenant_code")
        if code is None:
            return None
        tenant = tenant_by_code(code)
        if tenant is None:
            # Rendered here rather than raised, so that the page is the portal's own
            # (in Chinese by default) even with DEBUG on, and JSON under /api/.
            from portal.views import not_found

            return not_found(request, Http404(_("There is no portal at this address.")))
        request.tenant = tenant
        return None
