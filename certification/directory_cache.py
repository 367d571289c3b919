"""Cached totals of the public directory, and their invalidation.

The total ("N enterprises") is the costliest query of a directory page at 100,000 certified enterprises
(every enterprise is checked for a certification in force). It changes only when a list is published or a
certification ends, so it is cached per tenant, day and filters, under a generation number that
publication (and later revocation and expiry) bumps with `directory_changed`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import Exists, OuterRef
from django.utils import timezone

COUNT_TTL = 600


def _generation_key(tenant_id: int) -> str:
    return f"directory-generation:{tenant_id}"


def directory_changed(tenant_id: int) -> None:
    """Forget the cached directory totals of a tenant."""
    key = _generation_key(tenant_id)
    if cache.add(key, 2, None):
        return
    try:
        cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 2, None)


def count_key(tenant, filters: dict) -> str:
    generation = cache.get_or_set(_generation_key(tenant.pk), 1, None)
    items = sorted((k, str(getattr(v, "pk", v))) for k, v in filters.items() if v not in (None, ""))
    digest = hashlib.sha256(repr(items).encode()).hexdigest()[:24]
    return f"directory-count:{tenant.pk}:{generation}:{timezone.localdate()}:{digest}"


def listing_refresh(enterprise_ids: Iterable[int]) -> int:
    """Recompute Enterprise.directory_listed (holds a certification in force) for these enterprises."""
    from certification.models import Certification
    from enterprises.models import Enterprise

    in_force = Certification.objects.filter(enterprise=OuterRef("pk"), status=Certification.Status.ACTIVE)
    return Enterprise.objects.filter(pk__in=list(enterprise_ids)).update(directory_listed=Exists(in_force))


def certification_saved(sender, instance, **kwargs) -> None:
    """post_save / post_delete of a Certification: its enterprise's listing follows its status."""
    listing_refresh([instance.enterprise_id])
