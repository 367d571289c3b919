"""Cached totals of the public directory, and their invalidation.

The total ("N enterprises") is the costliest query of a directory page at 100,000 certified enterprises
(every enterprise is checked for a certification in force). It changes only when a list is published or a
certification ends, so it is cached per tenant, day and filters, under a generation number that
publication (and later revocation and expiry) bumps with `directory_changed`.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache
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
