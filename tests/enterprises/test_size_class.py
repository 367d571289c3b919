"""SME size class by 工信部联企业〔2011〕300号 (domain.md §2): no database needed.

The expected limits below are copied by hand from domain.md §2, not read from the
module's table, so a wrong number in either place makes a test fail.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from enterprises.size_class import (
    IndustryCodeTooCoarse,
    SizeClass,
    SizeClassResult,
    can_apply,
    classify,
    industry_row,
    smallest_size,
)

LARGE, MEDIUM, SMALL, MICRO, UNKNOWN = (
    SizeClass.LARGE,
    SizeClass.MEDIUM,
    SizeClass.SMALL,
    SizeClass.MICRO,
    SizeClass.UNKNOWN,
)

# row key → (a code in the row, {indicator: (large, medium, small) lower limits}); X persons, Y and Z in 万元.
# Large limits are the "SME ceiling" column: 中小微 if X < ceiling or Y < ceiling.
TABLE: dict[str, tuple[str, dict[str, tuple[int, int, int]]]] = {
    "agriculture": ("A0111", {"revenue": (20000, 500, 50)}),
    "industry": ("C3484", {"employees": (1000, 300, 20), "revenue": (40000, 2000, 300)}),
    "construction": ("E4710", {"revenue": (80000, 6000, 300), "total_assets": (80000, 5000, 300)}),
    "wholesale": ("F5121", {"employees": (200, 20, 5), "revenue": (40000, 5000, 1000)}),
    "retail": ("F5211", {"employees": (300, 50, 10), "revenue": (20000, 500, 100)}),
    "transport": ("G5411", {"employees": (1000, 300, 20), "revenue": (30000, 3000, 200)}),
    "warehousing": ("G5951", {"employees": (200, 100, 20), "revenue": (30000, 1000, 100)}),
    "postal": ("G6010", {"employees": (1000, 300, 20), "revenue": (30000, 2000, 100)}),
    "accommodation": ("H6110", {"employees": (300, 100, 10), "revenue": (10000, 2000, 100)}),
    "catering": ("H6210", {"employees": (300, 100, 10), "revenue": (10000, 2000, 100)}),
    "information_transmission": ("I6311", {"employees": (2000, 100, 10), "revenue": (100000, 1000, 100)}),
    "software": ("I6511", {"employees": (300, 100, 10), "revenue": (10000, 1000, 50)}),
    "real_estate_development": (
        "K7010",
        {"revenue": (200000, 1000, 100), "total_assets": (10000, 5000, 2000)},
    ),
    "property_management": ("K7020", {"employees": (1000, 300, 100), "revenue": (5000, 1000, 500)}),
    "leasing_business_services": (
        "L7211",
        {"employees": (300, 100, 10), "total_assets": (120000, 8000, 100)},
    ),
    "other": ("M7310", {"employees": (300, 100, 10)}),
}
INDICATORS = ("employees", "revenue", "total_assets")
HUGE = {"employees": 10_000_000, "revenue": Decimal("10000000"), "total_assets": Decimal("10000000")}
ONE_DOWN = {LARGE: MEDIUM, MEDIUM: SMALL, SMALL: MICRO}


def as_value(indicator: str, number: int | Decimal) -> int | Decimal:
    return int(number) if indicator == "employees" else Decimal(number)


def row_values(row_key: str, **given: int | Decimal | None) -> dict[str, int | Decimal | None]:
    """The row's indicators at a large value (so they never limit the class), others None, then `given`."""
    _, limits = TABLE[row_key]
    values = {name: (HUGE[name] if name in limits else None) for name in INDICATORS}
    values.update(given)
    return values


def run(code: str | None, **values: int | Decimal | None) -> SizeClassResult:
    return classify(
        industry_code=code,
        employees=values.get("employees"),
        revenue=values.get("revenue"),
        total_assets=values.get("total_assets"),
    )


def threshold_cases():
    for row_key, (code, limits) in TABLE.items():
        for indicator, (large, medium, small) in limits.items():
            for size, limit in ((LARGE, large), (MEDIUM, medium), (SMALL, small)):
                case_id = f"{row_key}-{indicator}-{size.value}"
                # Limits are "及以上": the limit itself is in the higher class, one unit below is not.
                yield pytest.param(row_key, code, indicator, limit, size, id=f"{case_id}-at")
                yield pytest.param(
                    row_key, code, indicator, limit - 1, ONE_DOWN[size], id=f"{case_id}-minus-1"
                )
                if indicator != "employees":
                    below = Decimal(limit) - Decimal("0.01")
                    yield pytest.param(
                        row_key, code, indicator, below, ONE_DOWN[size], id=f"{case_id}-minus-0.01"
                    )


@pytest.mark.parametrize(("row_key", "code", "indicator", "value", "expected"), list(threshold_cases()))
def test_each_limit_of_each_row(row_key, code, indicator, value, expected):
    # given the row's other indicators far above the large limits
    values = row_values(row_key, **{indicator: as_value(indicator, value)})

    # when
    result = run(code, **values)

    # then the indicator under test alone decides
    assert result.row_key == row_key
    assert result.size == expected
    assert result.missing == []
    by_indicator = {item.indicator.value: item for item in result.per_indicator}
    assert set(by_indicator) == set(TABLE[row_key][1])
    assert by_indicator[indicator].size == expected
    assert by_indicator[indicator].value == as_value(indicator, value)


@pytest.mark.parametrize("row_key", list(TABLE))
def test_indicators_outside_the_row_are_ignored(row_key):
    code, limits = TABLE[row_key]
    values = row_values(row_key)
    for name in INDICATORS:
        if name not in limits:
            values[name] = as_value(name, 0)  # would be micro if it counted

    result = run(code, **values)

    assert result.size == LARGE
    assert [item.indicator.value for item in result.per_indicator] == list(limits)


@pytest.mark.parametrize("row_key", list(TABLE))
def test_zero_everywhere_is_micro(row_key):
    code, _ = TABLE[row_key]
    result = run(code, employees=0, revenue=Decimal(0), total_assets=Decimal(0))
    assert result.size == MICRO


@pytest.mark.parametrize(
    ("employees", "revenue", "expected"),
    [
        (500, 100, MICRO),  # X medium, Y micro: 下划 down to micro
        (1200, 50000, LARGE),
        (1200, 30000, MEDIUM),  # X large, Y medium
        (999, 40000, MEDIUM),  # Y large, X medium
        (1000, 1999, SMALL),  # X large, Y small
        (19, 100000, MICRO),  # micro needs only one indicator below the small limit
        (300, 2000, MEDIUM),
        (299, 2000, SMALL),
        (20, 300, SMALL),
    ],
)
def test_industry_takes_the_smaller_class_when_indicators_disagree(employees, revenue, expected):
    result = run("C3484", employees=employees, revenue=Decimal(revenue))
    assert result.size == expected


def test_agriculture_needs_only_revenue():
    result = run("A0111", employees=None, revenue=Decimal("600"), total_assets=None)

    assert result.size == MEDIUM
    assert result.missing == []
    assert [item.indicator.value for item in result.per_indicator] == ["revenue"]


@pytest.mark.parametrize(
    ("revenue", "total_assets", "expected"),
    [
        (200000, 10000, LARGE),
        (300000, 6000, MEDIUM),  # Z decides
        (1000, 50000, MEDIUM),  # Y decides
        (150, 9000, SMALL),
        (500000, 1999, MICRO),
        (99, 50000, MICRO),
    ],
)
def test_real_estate_development_uses_revenue_and_total_assets(revenue, total_assets, expected):
    result = run("K7010", employees=None, revenue=Decimal(revenue), total_assets=Decimal(total_assets))
    assert result.size == expected
    assert [item.indicator.value for item in result.per_indicator] == ["revenue", "total_assets"]


@pytest.mark.parametrize(
    ("employees", "total_assets", "expected"),
    [
        (300, 120000, LARGE),
        (300, 119999, MEDIUM),
        (50, 200000, SMALL),
        (150, 99, MICRO),
        (9, 500000, MICRO),
    ],
)
def test_leasing_and_business_services_use_employees_and_total_assets(employees, total_assets, expected):
    result = run("L7211", employees=employees, revenue=None, total_assets=Decimal(total_assets))
    assert result.size == expected
    assert [item.indicator.value for item in result.per_indicator] == ["employees", "total_assets"]


def test_revenue_does_not_count_for_leasing():
    result = run("L7211", employees=150, revenue=Decimal(0), total_assets=Decimal(9000))
    assert result.size == MEDIUM


@pytest.mark.parametrize(
    ("code", "values", "missing"),
    [
        ("C3484", {}, ["employees", "revenue"]),
        ("C3484", {"employees": 500}, ["revenue"]),
        ("C3484", {"revenue": Decimal(100), "total_assets": Decimal(100)}, ["employees"]),
        ("E4710", {"revenue": Decimal(7000)}, ["total_assets"]),
        ("K7010", {"employees": 10}, ["revenue", "total_assets"]),
        ("A0111", {"employees": 10, "total_assets": Decimal(1)}, ["revenue"]),
        ("M7310", {"revenue": Decimal(1)}, ["employees"]),
    ],
)
def test_a_missing_indicator_makes_the_class_unknown(code, values, missing):
    result = run(code, **values)

    assert result.size == UNKNOWN
    assert result.missing == missing
    assert not can_apply(result)


def test_known_indicators_are_still_reported_when_one_is_missing():
    result = run("C3484", employees=500)

    assert [(item.indicator.value, item.size) for item in result.per_indicator] == [("employees", MEDIUM)]


def test_no_industry_code_is_unknown():
    result = run(None, employees=10, revenue=Decimal(10), total_assets=Decimal(10))

    assert result.size == UNKNOWN
    assert result.missing == ["industry_code"]
    assert result.row_key is None


@pytest.mark.parametrize("code", ["J", "J66", "J662", "J6621", "J6910"])
def test_finance_is_not_classified_by_300(code):
    with translation.override("en"):
        result = run(code, employees=10, revenue=Decimal(10), total_assets=Decimal(10))

    assert result.size == UNKNOWN
    assert result.row_key == "finance"
    assert result.missing == []
    assert result.per_indicator == []
    assert "309" in " ".join(result.explanation)  # 银发〔2015〕309号, the finance standard


@pytest.mark.parametrize(
    ("code", "row_key"),
    [
        ("A0111", "agriculture"),
        ("A05", "agriculture"),
        ("A", "agriculture"),
        ("B0610", "industry"),
        ("C3484", "industry"),
        ("C348", "industry"),
        ("C34", "industry"),
        ("C", "industry"),
        ("D4411", "industry"),
        ("E4710", "construction"),
        ("F5121", "wholesale"),
        ("F51", "wholesale"),
        ("F5211", "retail"),
        ("G5311", "other"),  # 铁路运输业 is excluded from 交通运输业
        ("G53", "other"),
        ("G5411", "transport"),
        ("G5521", "transport"),
        ("G5611", "transport"),
        ("G5700", "transport"),
        ("G5821", "transport"),
        ("G5951", "warehousing"),
        ("G6010", "postal"),
        ("H6110", "accommodation"),
        ("H6210", "catering"),
        ("I6311", "information_transmission"),
        ("I6410", "information_transmission"),
        ("I6511", "software"),
        ("I65", "software"),
        ("J6621", "finance"),
        ("K7010", "real_estate_development"),
        ("K701", "real_estate_development"),
        ("K7020", "property_management"),
        ("K702", "property_management"),
        ("K7030", "other"),
        ("K7040", "other"),
        ("K7090", "other"),
        ("L7211", "leasing_business_services"),
        ("L7111", "leasing_business_services"),
        ("L", "leasing_business_services"),
        ("M7310", "other"),
        ("N7810", "other"),
        ("O8010", "other"),
        ("P8310", "other"),
        ("Q8510", "other"),
        ("R8810", "other"),
        ("S9421", "other"),
        ("M", "other"),
    ],
)
def test_industry_code_maps_to_its_row(code, row_key):
    assert industry_row(code).key == row_key


@pytest.mark.parametrize(
    ("code", "rows"),
    [
        ("F", ["wholesale", "retail"]),
        ("G", ["transport", "warehousing", "postal", "other"]),
        ("H", ["accommodation", "catering"]),
        ("I", ["information_transmission", "software"]),
        ("K", ["real_estate_development", "property_management", "other"]),
        ("K70", ["real_estate_development", "property_management", "other"]),
    ],
)
def test_a_code_spanning_several_rows_is_too_coarse(code, rows):
    with pytest.raises(IndustryCodeTooCoarse) as raised:
        industry_row(code)
    assert sorted(row.key for row in raised.value.rows) == sorted(rows)

    result = run(code, employees=10, revenue=Decimal(10), total_assets=Decimal(10))
    assert result.size == UNKNOWN
    assert result.row_key is None


@pytest.mark.parametrize(
    "code",
    [
        "",
        "C3",
        "C34845",
        "c3484",
        "3484",
        "CC34",
        " C34",
        "C34 ",
        "C34a",
        "K7",
        "U",
        "Z12",
        "C01",
        "A06",
        "G61",
        "K71",
    ],
)
def test_malformed_code_raises_value_error(code):
    with pytest.raises(ValueError):
        industry_row(code)
    with pytest.raises(ValueError):
        run(code, employees=10, revenue=Decimal(10), total_assets=Decimal(10))


def test_too_coarse_is_a_value_error_too():
    with pytest.raises(ValueError):
        industry_row("F")


def test_money_as_float_is_refused():
    with pytest.raises(TypeError):
        classify(industry_code="C3484", employees=10, revenue=1500.0, total_assets=None)


def test_negative_values_are_refused():
    with pytest.raises(ValueError):
        classify(industry_code="C3484", employees=-1, revenue=Decimal(10), total_assets=None)
    with pytest.raises(ValueError):
        classify(industry_code="C3484", employees=1, revenue=Decimal("-0.01"), total_assets=None)


@pytest.mark.parametrize(
    ("employees", "revenue", "allowed"),
    [
        (1000, 40000, False),  # large: may register, cannot apply
        (300, 2000, True),
        (20, 300, True),
        (0, 0, True),
        (None, 0, False),  # unknown
    ],
)
def test_only_medium_small_and_micro_can_apply(employees, revenue, allowed):
    assert can_apply(run("C3484", employees=employees, revenue=Decimal(revenue))) is allowed


def test_smallest_size_orders_large_above_micro_and_unknown_wins():
    assert smallest_size([LARGE, MEDIUM, SMALL]) == SMALL
    assert smallest_size([MICRO, LARGE]) == MICRO
    assert smallest_size([LARGE, UNKNOWN]) == UNKNOWN
    assert smallest_size([]) == UNKNOWN
    assert LARGE.rank > MEDIUM.rank > SMALL.rank > MICRO.rank


def test_explanation_walks_through_each_indicator():
    with translation.override("en"):
        result = run("C3484", employees=250, revenue=Decimal(1500))

        assert result.size == SMALL
        assert result.explanation[0] == "Industry: industry (C3484)."
        assert result.explanation[1] == "Employees 250 persons: small (≥ 20, < 300)."
        assert result.explanation[2] == "Revenue 1,500 万元: small (≥ 300, < 2,000)."
        assert result.explanation[3].startswith("Result: small — the smallest class")
        assert [item.threshold for item in result.per_indicator] == ["≥ 20, < 300", "≥ 300, < 2,000"]
        assert str(result.row_label) == "industry"


def test_explanation_shows_the_open_ended_classes():
    with translation.override("en"):
        result = run("C3484", employees=5000, revenue=Decimal("12.5"))

        assert result.size == MICRO
        assert "Employees 5,000 persons: large (≥ 1,000)." in result.explanation
        assert "Revenue 12.5 万元: micro (< 300)." in result.explanation


def test_explanation_names_what_is_missing():
    with translation.override("en"):
        result = run("E4710", revenue=Decimal(7000))

        assert result.explanation[-1].startswith("Missing: total assets.")


def test_choices_list_every_class_with_its_label():
    with translation.override("en"):
        assert [(value, str(label)) for value, label in SizeClass.choices()] == [
            ("large", "large"),
            ("medium", "medium"),
            ("small", "small"),
            ("micro", "micro"),
            ("unknown", "unknown"),
        ]
