from datetime import date, timedelta
from decimal import Decimal

import pytest

from enterprises.derived import compound_growth, derived_values, growth, ratio
from enterprises.facts import enterprise_facts
from enterprises.ip_class import ip_class
from enterprises.models import AnnualFigures, IPItem, Qualification

AS_OF = date(2026, 6, 30)  # y1 = 2025, y2 = 2024, y3 = 2023


def D(x):  # noqa: N802
    return Decimal(str(x))


@pytest.fixture
def figures(acme):
    for year, revenue, rd, employees in (
        (2025, 12000, 600, 210),
        (2024, 10000, 450, 190),
        (2023, 8000, 300, 170),
    ):
        AnnualFigures.objects.create(
            enterprise=acme,
            fiscal_year=year,
            revenue=D(revenue),
            main_business_revenue=D(revenue * 0.9),
            rd_expense=D(rd),
            net_profit=D(revenue / 10),
            total_assets=D(20000),
            total_liabilities=D(9000),
            employees=employees,
            rd_staff=30,
            equity_financing=D(100) if year >= 2024 else None,
        )
    AnnualFigures.objects.create(
        enterprise=acme, fiscal_year=2026, revenue=D(1)
    )  # the current, incomplete year
    return acme


def test_the_facts_dictionary_is_assembled_from_profile_figures_ip_and_qualifications(figures):
    acme = figures
    acme.niche_years = 5
    acme.save()
    IPItem.objects.create(
        enterprise=acme,
        ip_type="invention",
        number="1",
        title="a",
        grant_date=date(2022, 1, 1),
        high_value=True,
    )
    IPItem.objects.create(
        enterprise=acme,
        ip_type="invention",
        number="2",
        title="b",
        grant_date=date(2025, 1, 1),
        acquisition="transferred",
        acquired_date=date(2025, 1, 1),
    )
    IPItem.objects.create(
        enterprise=acme,
        ip_type="invention",
        number="3",
        title="c",
        grant_date=date(2024, 1, 1),
        acquisition="transferred",
        acquired_date=date(2026, 3, 1),
    )  # held < 1 year: no
    IPItem.objects.create(
        enterprise=acme, ip_type="utility_model", number="4", title="d", grant_date=date(2023, 1, 1)
    )  # > 2 years: Class II
    IPItem.objects.create(
        enterprise=acme, ip_type="design", number="5", title="e", grant_date=date(2025, 1, 1)
    )  # < 2 years: neither
    IPItem.objects.create(
        enterprise=acme, ip_type="software", number="6", title="f", grant_date=date(2025, 1, 1)
    )
    Qualification.objects.create(
        enterprise=acme,
        kind="high_tech",
        title="高新技术企业",
        issued_on=date(2024, 1, 1),
        valid_until=date(2026, 12, 31),
    )
    Qualification.objects.create(
        enterprise=acme,
        kind="rd_institution",
        title="省级企业技术中心",
        level="provincial",
        issued_on=date(2020, 1, 1),
    )
    Qualification.objects.create(
        enterprise=acme,
        kind="st_award",
        title="省科技进步一等奖",
        level="provincial",
        rank=2,
        issued_on=date(2024, 5, 1),
    )
    Qualification.objects.create(
        enterprise=acme,
        kind="maker_china",
        title="创客中国",
        level="national",
        rank=300,
        issued_on=date(2025, 5, 1),
    )

    facts = enterprise_facts(acme, as_of=AS_OF)

    assert facts["uscc"] == acme.uscc and facts["industry_code"] == "C3484"
    assert (facts["revenue_y1"], facts["revenue_y2"], facts["revenue_y3"]) == (D(12000), D(10000), D(8000))
    assert facts["rd_expense_y3"] == D(300)
    assert facts["employees_y1"] == 210 and facts["rd_staff_y1"] == 30
    assert facts["total_liabilities_y1"] == D(9000)
    assert facts["equity_financing_2y"] == D(200) and facts["equity_financing_3y"] == D(200)
    assert facts["niche_years"] == 5
    assert facts["ip_class1_count"] == 2
    assert facts["ip_class1_self_developed_count"] == 1
    assert facts["ip_class1_high_value_count"] == 1
    assert facts["ip_class2_count"] == 2
    assert facts["high_tech_enterprise"] is True and facts["innovation_honours"] is True
    assert facts["rd_institution_level"] == "provincial"
    assert facts["st_award"] == "provincial_top3"
    assert facts["maker_china"] == "national_500"
    assert facts["quality_system_certified"] is False
    assert facts["strategic_emerging_industry"] is None  # not stated: unknown, not False


def test_missing_years_are_unknown_not_zero(acme):
    facts = enterprise_facts(acme, as_of=AS_OF)
    assert facts["revenue_y1"] is None and facts["equity_financing_3y"] is None
    derived = derived_values(facts)
    assert derived["rd_ratio_y1"] is None and derived["revenue_growth_y1"] is None
    assert derived["size_class"] == "unknown"


def test_derived_values(figures):
    derived = derived_values(enterprise_facts(figures, as_of=AS_OF))
    assert derived["revenue_growth_y1"] == D("0.2")
    assert derived["revenue_growth_y2"] == D("0.25")
    assert derived["revenue_cagr_2y"] == D("0.2247")  # sqrt(1.5) - 1
    assert derived["rd_ratio_y1"] == D("0.05")
    assert derived["rd_ratio_2y"] == D("0.0477")  # 1050 / 22000
    assert derived["debt_ratio_y1"] == D("0.45")
    assert derived["main_business_share_y1"] == D("0.9")
    # 工业: 210 employees is small (20–299), revenue 12,000 万元 is medium: the smaller class wins (下划一档)
    assert derived["size_class"] == "small"


def test_helpers_never_divide_by_zero_or_guess():
    assert ratio(D(1), D(0)) is None and ratio(None, D(1)) is None
    assert growth(D(110), D(100)) == D("0.1")
    assert compound_growth(D(100), D(-5), 2) is None


def test_ip_class_rules():
    day = date(2026, 6, 30)

    def item(**kw):
        defaults = {
            "ip_type": "invention",
            "grant_date": day - timedelta(days=10),
            "acquisition": "self",
            "related_to_main_product": True,
            "valid": True,
        }
        return IPItem(**{**defaults, **kw})

    assert ip_class(item(), as_of=day) == "I"
    assert ip_class(item(valid=False), as_of=day) is None
    assert ip_class(item(ip_type="ic_layout"), as_of=day) == "I"
    assert (
        ip_class(item(acquisition="transferred", acquired_date=day - timedelta(days=300)), as_of=day) is None
    )
    assert (
        ip_class(item(acquisition="transferred", acquired_date=day - timedelta(days=400)), as_of=day) == "I"
    )
    assert ip_class(item(ip_type="utility_model", grant_date=day - timedelta(days=700)), as_of=day) is None
    assert ip_class(item(ip_type="utility_model", grant_date=day - timedelta(days=740)), as_of=day) == "II"
    assert ip_class(item(ip_type="software", related_to_main_product=False), as_of=day) is None
    assert ip_class(item(ip_type="software"), as_of=day) == "II"
