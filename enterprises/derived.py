"""Derived values (growth, ratios, size class) computed from the facts: one function for engine and pages.

Nothing here is typed in by anyone. A value that needs an unknown fact, or a
division by zero, is None ("cannot be computed"), never 0.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from enterprises.size_class import classify, size_of

RATIO = Decimal("0.0001")

# Names the engine adds to the facts before evaluating criteria (see derived_values).
DERIVED_TYPES: dict[str, str] = {
    "revenue_growth_y1": "ratio",
    "revenue_growth_y2": "ratio",
    "revenue_cagr_2y": "ratio",
    "main_business_revenue_growth_y1": "ratio",
    "main_business_revenue_growth_y2": "ratio",
    "main_business_revenue_cagr_2y": "ratio",
    "rd_ratio_y1": "ratio",
    "rd_ratio_y2": "ratio",
    "rd_ratio_2y": "ratio",
    "rd_expense_avg_2y": "money",
    "rd_expense_total_2y": "money",
    "rd_staff_ratio_y1": "ratio",
    "debt_ratio_y1": "ratio",
    "main_business_share_y1": "ratio",
    "net_profit_margin_y1": "ratio",
    "size_class": "enum",
}


def ratio(numerator: Decimal | int | None, denominator: Decimal | int | None) -> Decimal | None:
    if numerator is None or denominator is None:
        return None
    denominator = Decimal(denominator)
    if denominator <= 0:
        return None
    return (Decimal(numerator) / denominator).quantize(RATIO)


def growth(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    """Year-on-year growth: 0.12 means +12%."""
    r = ratio(current, previous)
    return None if r is None else r - 1


def compound_growth(latest: Decimal | None, earliest: Decimal | None, years: int) -> Decimal | None:
    """Average annual growth over `years` years (复合增长率), to 4 decimals.

    The root is taken in binary floating point: Decimal's general power costs ~160 µs, a thousand times
    more, and the result is rounded to 0.0001 anyway (a float's error is ~1e-16).
    """
    r = ratio(latest, earliest)
    if r is None or r <= 0:
        return None
    return (Decimal(repr(float(r) ** (1.0 / years))) - 1).quantize(RATIO)


def derived_values(facts: dict[str, Any], *, explain: bool = True) -> dict[str, Any]:
    """`explain=False` skips the size class's explanation (the engine's fast path)."""
    f = facts.get
    rd_2y = None
    if f("rd_expense_y1") is not None and f("rd_expense_y2") is not None:
        rd_2y = ratio(
            f("rd_expense_y1") + f("rd_expense_y2"),
            None if f("revenue_y1") is None or f("revenue_y2") is None else f("revenue_y1") + f("revenue_y2"),
        )
    size_args = {
        "industry_code": f("industry_code"),
        "employees": f("employees_y1"),
        "revenue": f("revenue_y1"),
        "total_assets": f("total_assets_y1"),
    }
    size = classify(**size_args) if explain else None
    size_value = size.size.value if size is not None else size_of(**size_args).value
    rd_total = None
    if f("rd_expense_y1") is not None and f("rd_expense_y2") is not None:
        rd_total = f("rd_expense_y1") + f("rd_expense_y2")
    return {
        "revenue_growth_y1": growth(f("revenue_y1"), f("revenue_y2")),
        "revenue_growth_y2": growth(f("revenue_y2"), f("revenue_y3")),
        "revenue_cagr_2y": compound_growth(f("revenue_y1"), f("revenue_y3"), 2),
        "main_business_revenue_growth_y1": growth(
            f("main_business_revenue_y1"), f("main_business_revenue_y2")
        ),
        "main_business_revenue_growth_y2": growth(
            f("main_business_revenue_y2"), f("main_business_revenue_y3")
        ),
        # Compound growth from y3 to y1. (63号 附件2 指标2 "近2年主营业务收入平均增长率" is the mean of the two
        # yearly rates; the shipped criteria compute it from the _growth_y1/_y2 values.)
        "main_business_revenue_cagr_2y": compound_growth(
            f("main_business_revenue_y1"), f("main_business_revenue_y3"), 2
        ),
        "rd_ratio_y1": ratio(f("rd_expense_y1"), f("revenue_y1")),
        "rd_ratio_y2": ratio(f("rd_expense_y2"), f("revenue_y2")),
        "rd_ratio_2y": rd_2y,
        "rd_expense_total_2y": rd_total,
        "rd_expense_avg_2y": None if rd_total is None else (rd_total / 2).quantize(Decimal("0.01")),
        "net_profit_margin_y1": ratio(f("net_profit_y1"), f("revenue_y1")),
        "rd_staff_ratio_y1": ratio(f("rd_staff_y1"), f("employees_y1")),
        "debt_ratio_y1": ratio(f("total_liabilities_y1"), f("total_assets_y1")),
        "main_business_share_y1": ratio(f("main_business_revenue_y1"), f("revenue_y1")),
        "size_class": size_value,
        **({"size_class_result": size} if size is not None else {}),
    }


def yearly_rows(figures_by_year: dict[int, Any], years: list[int]) -> list[dict[str, Any]]:
    """One row per year for the three-year table: the figures and the ratios of that year."""
    rows = []
    for year in years:
        row = figures_by_year.get(year)
        prev = figures_by_year.get(year - 1)

        def get(obj, name):
            return getattr(obj, name) if obj is not None else None

        rows.append(
            {
                "year": year,
                "figures": row,
                "revenue_growth": growth(get(row, "revenue"), get(prev, "revenue")),
                "rd_ratio": ratio(get(row, "rd_expense"), get(row, "revenue")),
                "debt_ratio": ratio(get(row, "total_liabilities"), get(row, "total_assets")),
                "main_business_share": ratio(get(row, "main_business_revenue"), get(row, "revenue")),
                "rd_staff_ratio": ratio(get(row, "rd_staff"), get(row, "employees")),
            }
        )
    return rows
