"""The facts dictionary of an enterprise: the one place it is assembled.

The screening engine, the application snapshot, the pages and the API all read
the facts from `enterprise_facts`. Names are the public contract of design.md
"Enterprise facts"; a fact that is not known is absent (None), never guessed.
`_y1` is the last complete fiscal year before `as_of`, `_y2` the one before, `_y3`
before that.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.utils import timezone

from enterprises.ip_class import ip_counts
from enterprises.models import AnnualFigures, Enterprise, Qualification

PROFILE_FACTS = [
    "niche_years",
    "market_share",
    "strategic_emerging_industry",
    "digital_level",
    "own_brand",
    "standards_participation",
    "ethnic_crafts",
    "negative_false_info",
    "negative_major_accident_3y",
    "negative_tax_or_dishonest",
    "negative_abnormal_list",
]
THREE_YEAR_FIGURES = ["revenue", "main_business_revenue", "rd_expense"]
LAST_YEAR_FIGURES = ["net_profit", "total_assets", "total_liabilities", "employees", "rd_staff"]

Q = Qualification.Kind
LEVEL_ORDER = ["national", "provincial", "municipal", "below_municipal"]


def fiscal_years(as_of: date) -> tuple[int, int, int]:
    """(y1, y2, y3): the last three complete fiscal years before `as_of`."""
    return as_of.year - 1, as_of.year - 2, as_of.year - 3


def _sum_known(values: list[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal("0")) if known else None


def _within_years(day: date, as_of: date, years: int) -> bool:
    return day > as_of - relativedelta(years=years)


def qualification_facts(qualifications: list[Qualification], *, as_of: date) -> dict[str, Any]:
    valid = [q for q in qualifications if q.is_valid_on(as_of)]
    recent = [q for q in qualifications if q.issued_on <= as_of and _within_years(q.issued_on, as_of, 3)]
    high_tech = any(q.kind == Q.HIGH_TECH for q in valid)

    levels = [q.level for q in valid if q.kind == Q.RD_INSTITUTION and q.level]
    rd_level = min(levels, key=LEVEL_ORDER.index) if levels else "none"

    st_award = "none"
    for q in recent:
        if q.kind != Q.ST_AWARD or q.rank is None:
            continue
        if q.level == "national" and q.rank <= 3:
            st_award = "national_top3"
            break
        if q.level == "national" and q.rank <= 5:
            st_award = "national_top5"
        elif q.level == "provincial" and q.rank <= 3 and st_award == "none":
            st_award = "provincial_top3"

    maker = "none"
    for q in recent:
        if q.kind == Q.MAKER_CHINA and q.level == "national" and q.rank is not None:
            if q.rank <= 50:
                maker = "national_50"
                break
            if q.rank <= 500:
                maker = "national_500"

    return {
        "high_tech_enterprise": high_tech,
        "innovation_honours": high_tech or any(q.kind == Q.INNOVATION_HONOUR for q in valid),
        "rd_institution_level": rd_level,
        "st_award": st_award,
        "maker_china": maker,
        "quality_award": any(q.kind == Q.QUALITY_AWARD for q in recent),
        "quality_system_certified": any(q.kind == Q.QUALITY_SYSTEM for q in valid),
    }


def enterprise_facts(enterprise: Enterprise, *, as_of: date | None = None) -> dict[str, Any]:
    """Everything the criteria may ask about one enterprise, on the day `as_of` (today by default).

    Reads the enterprise's figures, IP and qualifications from prefetched
    relations when the caller prefetched them, so a list of enterprises costs
    a constant number of queries.
    """
    as_of = as_of or timezone.localdate()
    y1, y2, y3 = fiscal_years(as_of)
    by_year: dict[int, AnnualFigures] = {f.fiscal_year: f for f in enterprise.figures.all()}

    facts: dict[str, Any] = {
        "uscc": enterprise.uscc,
        "industry_code": enterprise.industry_id,
        "established_date": enterprise.established_date,
        "main_product_field": enterprise.main_product_field or None,
    }
    for name in PROFILE_FACTS:
        facts[name] = getattr(enterprise, name)
    for name in THREE_YEAR_FIGURES:
        for suffix, year in (("y1", y1), ("y2", y2), ("y3", y3)):
            row = by_year.get(year)
            facts[f"{name}_{suffix}"] = getattr(row, name) if row else None
    last = by_year.get(y1)
    for name in LAST_YEAR_FIGURES:
        facts[f"{name}_y1"] = getattr(last, name) if last else None
    equity = [by_year[y].equity_financing if y in by_year else None for y in (y1, y2, y3)]
    facts["equity_financing_2y"] = _sum_known(equity[:2])
    facts["equity_financing_3y"] = _sum_known(equity)

    facts.update(ip_counts(list(enterprise.ip_items.all()), as_of=as_of))
    facts.update(qualification_facts(list(enterprise.qualifications.all()), as_of=as_of))
    return facts
