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
    """Recompute Enterprise.directory_listed (holds a certification in force) and Enterprise.tiers_in_force
    (the programme tiers of those certifications) for these enterprises. Returns how many were updated."""
    from certification.models import Certification
    from enterprises.models import Enterprise

    ids = set(enterprise_ids)
    tiers: dict[int, set[str]] = {pk: set() for pk in ids}
    for enterprise_id, tier in Certification.objects.filter(
        enterprise_id__in=ids, status=Certification.Status.ACTIVE
    ).values_list("enterprise_id", "program__tier"):
        tiers[enterprise_id].add(tier)
    by_value: dict[str, list[int]] = {}
    for pk, found in tiers.items():
        by_value.setdefault(tiers_value(found), []).append(pk)
    return sum(
        Enterprise.objects.filter(pk__in=pks).update(directory_listed=bool(value), tiers_in_force=value)
        for value, pks in by_value.items()
    )


def tiers_value(tiers: Iterable[str]) -> str:
    """Enterprise.tiers_in_force of these tiers: "|innovative|srdi|", "" for none."""
    found = sorted(set(tiers))
    return f"|{'|'.join(found)}|" if found else ""


def certification_saved(sender, instance, **kwargs) -> None:
    """post_save / post_delete of a Certification: its enterprise's listing follows its status."""
    listing_refresh([instance.enterprise_id])
