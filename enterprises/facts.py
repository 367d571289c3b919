"""The facts dictionary of an enterprise: the one place it is assembled.

The screening engine, the application snapshot, the pages and the API all read
the facts from `enterprise_facts`. Names are the public contract of design.md
"Enterprise facts"; a fact that is not known is absent (None), never guessed.
`_y1` is the last complete fiscal year before `as_of`, `_y2` the one before, `_y3`
before that.
"""

from __future__ import annotations

import hashlib
import json
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
    "provincial_key_field",
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


# The public vocabulary (design.md "Enterprise facts"): name -> type. Criteria expressions may use
# these and the derived values (enterprises.derived.DERIVED_TYPES); anything else is refused when a
# criteria version is saved.
ENUMS = {
    "main_product_field": ["key_chain", "six_foundations", "other"],
    "rd_institution_level": ["national", "provincial", "municipal", "below_municipal", "none"],
    "st_award": ["national_top3", "national_top5", "provincial_top3", "none"],
    "maker_china": ["national_50", "national_500", "none"],
}
FACT_TYPES: dict[str, str] = {
    "uscc": "text",
    "industry_code": "text",
    "established_date": "date",
    "niche_years": "number",
    **{f"{name}_{y}": "money" for name in THREE_YEAR_FIGURES for y in ("y1", "y2", "y3")},
    "net_profit_y1": "money",
    "total_assets_y1": "money",
    "total_liabilities_y1": "money",
    "employees_y1": "count",
    "rd_staff_y1": "count",
    "equity_financing_2y": "money",
    "equity_financing_3y": "money",
    "ip_class1_count": "count",
    "ip_class1_self_developed_count": "count",
    "ip_class1_high_value_count": "count",
    "ip_class2_count": "count",
    "strategic_emerging_industry": "bool",
    "main_product_field": "enum",
    "market_share": "ratio",
    "digital_level": "count",
    "quality_award": "bool",
    "quality_system_certified": "bool",
    "own_brand": "bool",
    "standards_participation": "bool",
    "rd_institution_level": "enum",
    "st_award": "enum",
    "innovation_honours": "bool",
    "maker_china": "enum",
    "high_tech_enterprise": "bool",
    "ethnic_crafts": "bool",
    "provincial_key_field": "bool",
    "negative_false_info": "bool",
    "negative_major_accident_3y": "bool",
    "negative_tax_or_dishonest": "bool",
    "negative_abnormal_list": "bool",
}


def facts_to_json(facts: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe facts: Decimal and date as strings (exact), everything else as is."""
    out = {}
    for name, value in facts.items():
        if isinstance(value, (Decimal, date)):
            value = value.isoformat() if isinstance(value, date) else str(value)
        out[name] = value
    return out


def facts_from_json(data: dict[str, Any]) -> dict[str, Any]:
    """The inverse of facts_to_json, typed by FACT_TYPES (unknown names pass through)."""
    out = {}
    for name, value in data.items():
        kind = FACT_TYPES.get(name)
        if value is not None and kind in ("money", "ratio"):
            value = Decimal(str(value))
        elif value is not None and kind == "count":
            value = int(value)
        elif value is not None and kind == "date" and isinstance(value, str):
            value = date.fromisoformat(value)
        out[name] = value
    return out


def facts_hash(facts: dict[str, Any]) -> str:
    """A stable hash of the facts: the same facts, in any order and in either form (typed or JSON), hash alike."""
    canonical = json.dumps(facts_to_json(facts), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _labels():
    from django.utils.translation import gettext_lazy as _

    return {
        "uscc": _("unified social credit code"),
        "industry_code": _("industry code (GB/T 4754-2017)"),
        "established_date": _("date of establishment"),
        "niche_years": _("years in the niche market"),
        "revenue_y1": _("revenue, last year (万元)"),
        "revenue_y2": _("revenue, the year before (万元)"),
        "revenue_y3": _("revenue, three years ago (万元)"),
        "main_business_revenue_y1": _("main-business revenue, last year (万元)"),
        "main_business_revenue_y2": _("main-business revenue, the year before (万元)"),
        "main_business_revenue_y3": _("main-business revenue, three years ago (万元)"),
        "rd_expense_y1": _("R&D expense, last year (万元)"),
        "rd_expense_y2": _("R&D expense, the year before (万元)"),
        "rd_expense_y3": _("R&D expense, three years ago (万元)"),
        "net_profit_y1": _("net profit, last year (万元)"),
        "total_assets_y1": _("total assets at last year end (万元)"),
        "total_liabilities_y1": _("total liabilities at last year end (万元)"),
        "employees_y1": _("employees at last year end"),
        "rd_staff_y1": _("R&D staff at last year end"),
        "equity_financing_2y": _("new equity financing, last 2 years (万元)"),
        "equity_financing_3y": _("new equity financing, last 3 years (万元)"),
        "ip_class1_count": _("Class I IP related to the main product"),
        "ip_class1_self_developed_count": _("of which self-developed"),
        "ip_class1_high_value_count": _("of which high-value"),
        "ip_class2_count": _("Class II IP"),
        "strategic_emerging_industry": _("main product in a strategic emerging industry"),
        "main_product_field": _("field of the main product"),
        "market_share": _("national market share of the main product"),
        "digital_level": _("digitalisation level (0–4)"),
        "quality_award": _("provincial or higher quality award"),
        "quality_system_certified": _("quality management system certified"),
        "own_brand": _("owns a brand"),
        "standards_participation": _("took part in drafting standards"),
        "rd_institution_level": _("highest recognised R&D institution"),
        "st_award": _("best S&T award in the last 3 years"),
        "innovation_honours": _("innovation honours (high-tech enterprise etc.)"),
        "maker_china": _("Maker China contest result"),
        "high_tech_enterprise": _("high-tech enterprise"),
        "ethnic_crafts": _("ethnic crafts enterprise"),
        "provincial_key_field": _("main product in a key field the province cultivates"),
        "negative_false_info": _("provided false information"),
        "negative_major_accident_3y": _("major accident in the last 3 years"),
        "negative_tax_or_dishonest": _("tax evasion or on the dishonesty list"),
        "negative_abnormal_list": _("on the list of abnormal operations"),
    }


FACT_LABELS = _labels()
