"""Ⅰ类 / Ⅱ类 intellectual property, as 工信部企业〔2022〕63号 附件4 defines them (domain.md §1.4)."""

from __future__ import annotations

from datetime import date

from enterprises.models import IPItem

T = IPItem.Type

# 附件4: Ⅰ类知识产权 = 发明专利（含国防专利）、植物新品种、国家级农作物品种、国家新药、
# 国家一级中药保护品种、集成电路布图设计专有权.
CLASS_ONE_TYPES = frozenset(
    {T.INVENTION, T.DEFENCE_PATENT, T.PLANT_VARIETY, T.CROP_VARIETY, T.NEW_DRUG, T.TCM_PROTECTED, T.IC_LAYOUT}
)


def _years_between(start: date, end: date) -> float:
    return (end - start).days / 365.2425


def ip_class(item: IPItem, *, as_of: date) -> str | None:
    """ "I", "II" or None (counts for neither) on the day `as_of`."""
    if not item.valid or item.grant_date > as_of:
        return None
    if item.ip_type in CLASS_ONE_TYPES:
        # 附件4: transferred-in IP held for less than a year does not count.
        if item.acquisition == IPItem.Acquisition.TRANSFERRED and (
            item.acquired_date is None or _years_between(item.acquired_date, as_of) < 1
        ):
            return None
        return "I"
    # 附件4: Ⅱ类 = 与主导产品相关的软件著作权、授权后维持超过2年的实用新型专利或外观设计专利.
    if item.ip_type == T.SOFTWARE:
        return "II" if item.related_to_main_product else None
    if item.ip_type in (T.UTILITY_MODEL, T.DESIGN):
        return "II" if _years_between(item.grant_date, as_of) > 2 else None
    return None


def ip_counts(items: list[IPItem], *, as_of: date) -> dict[str, int]:
    """The IP facts of design.md: Class Ⅰ related to the main product, of which self-developed and high-value."""
    counts = {
        "ip_class1_count": 0,
        "ip_class1_self_developed_count": 0,
        "ip_class1_high_value_count": 0,
        "ip_class2_count": 0,
    }
    for item in items:
        klass = ip_class(item, as_of=as_of)
        if klass == "I" and item.related_to_main_product:
            counts["ip_class1_count"] += 1
            if item.acquisition == IPItem.Acquisition.SELF_DEVELOPED:
                counts["ip_class1_self_developed_count"] += 1
            if item.high_value:
                counts["ip_class1_high_value_count"] += 1
        elif klass == "II":
            counts["ip_class2_count"] += 1
    return counts
