"""The criteria we ship (certification/criteria/*.json) against the policy texts: no database.

Every expected number below is written by hand from domain.md §1.1–1.6 and the seeds,
not read from the JSON, so a wrong threshold or bracket in a file makes a test fail.
Facts are raw (money in 万元 as Decimal); the engine derives the ratios, e.g.
rd_ratio_y1 = rd_expense_y1 / revenue_y1, so "R&D 5%" is revenue 1000 with R&D 50.

The shipped versions read "以上/以下" as including the number itself and put a value
that sits exactly on the edge of two brackets into the one that scores more
(boundary "favourable"): each bracket edge is tested at, just below and just above it.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from certification import criteria_catalog
from certification.criteria_catalog import TENANT_PROGRAMS, CatalogError, catalog, load_spec, shipped_stems
from certification.engine import compile_criteria, evaluate

D = Decimal

INNOVATIVE = "national_2022_innovative"
SRDI = "national_2022_srdi"
LITTLE_GIANT = "national_2022_little_giant"
SRDI_2026 = "national_2026_srdi"
LITTLE_GIANT_2026 = "national_2026_little_giant"
GZ = "gz_2022_srdi"
GZ_2026 = "gz_2026_srdi"
BORTALA = "bortala_2023_library"
BORTALA_2026 = "bortala_2026_library"

NEGATIVES = (
    "negative_abnormal_list",
    "negative_tax_or_dishonest",
    "negative_major_accident_3y",
    "negative_false_info",
)


def good(**overrides) -> dict:
    """A strong manufacturing SME that meets every shipped program; override what a case changes.

    Hand-computed: size small (工业, 200 persons, revenue 1.2亿); R&D 8% both years (960 + 800 = 1760);
    main business 95% of revenue, growing 20% then 25%; debt 40%; net margin 10%; R&D staff 20%.
    附件1 score 100; 附件2 score 78 (5+10+4+5+5+5+10+5+0+10+10+5+4); no direct condition holds.
    """
    facts = {
        "industry_code": "C3484",
        "employees_y1": 200,
        "rd_staff_y1": 40,
        "revenue_y1": D("12000"),
        "revenue_y2": D("10000"),
        "revenue_y3": D("8000"),
        "main_business_revenue_y1": D("11400"),
        "main_business_revenue_y2": D("9500"),
        "main_business_revenue_y3": D("7600"),
        "rd_expense_y1": D("960"),
        "rd_expense_y2": D("800"),
        "rd_expense_y3": D("600"),
        "net_profit_y1": D("1200"),
        "total_assets_y1": D("10000"),
        "total_liabilities_y1": D("4000"),
        "equity_financing_2y": D("0"),
        "equity_financing_3y": D("0"),
        "niche_years": 8,
        "ip_class1_count": 5,
        "ip_class1_self_developed_count": 5,
        "ip_class1_high_value_count": 1,
        "ip_class2_count": 3,
        "strategic_emerging_industry": True,
        "main_product_field": "key_chain",
        "market_share": D("0.15"),
        "digital_level": 3,
        "quality_award": False,
        "quality_system_certified": True,
        "own_brand": True,
        "standards_participation": True,
        "rd_institution_level": "municipal",
        "st_award": "none",
        "maker_china": "none",
        "innovation_honours": False,
        "high_tech_enterprise": False,
        "ethnic_crafts": False,
        "provincial_key_field": True,
        **dict.fromkeys(NEGATIVES, False),
    }
    facts.update(overrides)
    return facts


def scaled(factor: str, **overrides) -> dict:
    """The good enterprise with every money figure multiplied by `factor`: ratios and growth unchanged."""
    facts = good()
    for name, value in facts.items():
        if isinstance(value, Decimal) and name != "market_share":
            facts[name] = value * D(factor)
    facts.update(overrides)
    return facts


def screen(stem: str, facts: dict):
    return evaluate(load_spec(stem)["definition"], facts)


def points(stem: str, key: str, facts: dict) -> int:
    return next(i for i in screen(stem, facts).indicators if i.key == key).points


def condition(result, key: str, kind: str = "base"):
    return next(c for c in result.conditions if c.key == key and c.kind == kind)


def unmet_keys(result) -> list[str]:
    return [u["key"] for u in result.unmet]


# ------------------------------------------------------------------------------------------------
# The catalog: files, tenants, compilation


@pytest.mark.parametrize("stem", shipped_stems())
def test_every_shipped_definition_compiles(stem):
    compiled = compile_criteria(load_spec(stem)["definition"])
    assert compiled.boundary == "favourable"


def test_every_shipped_file_belongs_to_a_tenant_and_every_tenant_file_exists():
    used = {stem for stems in TENANT_PROGRAMS.values() for stem in stems}
    assert used == set(shipped_stems())
    assert set(TENANT_PROGRAMS) == {"gz", "xz", "xj"}


@pytest.mark.parametrize("stem", shipped_stems())
def test_every_rule_cites_its_source_and_every_bracket_has_the_policy_label(stem):
    spec = load_spec(stem)
    definition = spec["definition"]
    assert spec["version"]["source"].strip()
    for section in ("base_conditions", "direct", "exclusions"):
        for item in definition.get(section, []):
            assert item["source"].strip(), (stem, item["key"])
            assert item["label"].strip(), (stem, item["key"])
    for group in definition.get("groups", []):
        for ind in group["indicators"]:
            assert ind["source"].strip(), (stem, ind["key"])
            for part in ("brackets", "cases", "items"):
                for entry in ind.get(part, []):
                    assert "→" in entry["label"] or "+" in entry["label"], (stem, ind["key"], entry)
    if "library" in definition:
        assert definition["library"]["source"].strip()
    assert definition["notes"].strip()


def test_the_catalog_gives_each_tenant_its_programs():
    assert [p["code"] for p in catalog("gz")] == ["innovative", "gz_srdi", "little_giant"]
    assert [p["code"] for p in catalog("xz")] == ["innovative", "xz_srdi", "little_giant", "lhasa_srdi"]
    assert [p["code"] for p in catalog("xj")] == ["innovative", "srdi", "little_giant", "bortala_library"]


def test_program_owners_tiers_and_names():
    programs = {p["code"]: p for tenant in TENANT_PROGRAMS for p in catalog(tenant)}
    assert {code: (p["tier"], p["owner"]) for code, p in programs.items()} == {
        "innovative": ("innovative", "province"),
        "srdi": ("srdi", "province"),
        "little_giant": ("little_giant", "province"),
        "gz_srdi": ("srdi", "520000"),
        "xz_srdi": ("srdi", "540000"),
        "lhasa_srdi": ("other", "540100"),
        "bortala_library": ("other", "652700"),
    }
    assert programs["bortala_library"]["name"] == "博州优质中小企业培育库"
    assert programs["little_giant"]["name"] == "专精特新“小巨人”企业"


@pytest.mark.parametrize("tenant", sorted(TENANT_PROGRAMS))
def test_versions_are_dated_in_order_without_overlap(tenant):
    for program in catalog(tenant):
        versions = program["versions"]
        assert versions == sorted(versions, key=lambda v: v["effective_from"])
        for earlier, later in zip(versions, versions[1:], strict=False):
            assert earlier["effective_to"] is not None
            assert earlier["effective_to"] < later["effective_from"], program["code"]
        for version in versions:
            assert isinstance(version["effective_from"], date)
            # The 2026 办法 (工信部企业〔2026〕2号) is reported, not confirmed (domain.md §1.6).
            assert version["pending_confirmation"] is (version["effective_from"] >= date(2026, 4, 1))
            assert set(version) == {
                "label",
                "effective_from",
                "effective_to",
                "pending_confirmation",
                "source",
                "definition",
            }


def test_the_2022_national_srdi_and_little_giant_end_when_the_2026_rules_begin():
    xj = {p["code"]: p["versions"] for p in catalog("xj")}
    for code in ("srdi", "little_giant"):
        old, new = xj[code]
        assert old["effective_to"] == date(2026, 3, 31)
        assert new["effective_from"] == date(2026, 4, 1)
    # 2号 第三十条 (reported): the 63号 附件1 innovative standard stays in use.
    (innovative,) = xj["innovative"]
    assert innovative["effective_to"] is None


def test_an_unknown_tenant_has_no_catalog():
    with pytest.raises(CatalogError):
        catalog("zz")


def test_load_spec_returns_a_copy_that_does_not_touch_the_base():
    overlay = load_spec(GZ)
    overlay["definition"]["base_conditions"].clear()
    assert load_spec(GZ)["definition"]["base_conditions"]
    base_keys = [c["key"] for c in load_spec(SRDI)["definition"]["base_conditions"]]
    assert "gz_revenue" not in base_keys


@pytest.fixture
def criteria_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(criteria_catalog, "CRITERIA_DIR", tmp_path)
    criteria_catalog._read.cache_clear()
    yield tmp_path
    criteria_catalog._read.cache_clear()


def _write(directory, stem, data):
    (directory / f"{stem}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")


PROGRAM = {"code": "p", "name": "测试", "tier": "other", "owner": "province"}
VERSION = {"label": "v", "effective_from": "2024-01-01", "effective_to": None, "source": "s"}
BASE = {
    "boundary": "favourable",
    "pass_score": 5,
    "base_conditions": [{"key": "a", "label": "A", "expr": "niche_years >= 1.0", "source": "base"}],
    "groups": [
        {
            "key": "g",
            "label": "G",
            "indicators": [
                {"key": "i", "label": "I", "source": "base", "max_points": 10, "points_expr": "0"}
            ],
        }
    ],
    "exclusions": [{"key": "x", "label": "X", "expr": "negative_false_info", "source": "base"}],
    "notes": "base notes",
}


def test_an_overlay_appends_new_keys_restates_same_keys_and_replaces_indicators(criteria_dir):
    _write(criteria_dir, "base", {"program": PROGRAM, "version": VERSION, "definition": BASE})
    _write(
        criteria_dir,
        "over",
        {
            "program": PROGRAM,
            "version": VERSION,
            "extends": "base",
            "add": {
                "base_conditions": [
                    {"key": "b", "label": "B", "expr": "niche_years >= 2.0", "source": "over"}
                ],
                "exclusions": [{"key": "x", "label": "X2", "expr": "negative_false_info", "source": "over"}],
            },
            "replace_indicators": {
                "i": {"key": "i", "label": "I2", "source": "over", "max_points": 10, "points_expr": "10"}
            },
            "library": {"max_missing": 1, "source": "over"},
            "notes": "overlay notes",
        },
    )
    definition = load_spec("over")["definition"]
    assert [c["key"] for c in definition["base_conditions"]] == ["a", "b"]
    assert [(c["key"], c["source"]) for c in definition["exclusions"]] == [("x", "over")]
    assert definition["groups"][0]["indicators"][0]["label"] == "I2"
    assert definition["library"] == {"max_missing": 1, "source": "over"}
    assert definition["notes"] == "base notes overlay notes"
    compile_criteria(definition)
    assert load_spec("base")["definition"] == BASE


def test_an_overlay_cannot_replace_an_indicator_the_base_does_not_have(criteria_dir):
    _write(criteria_dir, "base", {"program": PROGRAM, "version": VERSION, "definition": BASE})
    _write(
        criteria_dir,
        "over",
        {"program": PROGRAM, "version": VERSION, "extends": "base", "replace_indicators": {"nope": {}}},
    )
    with pytest.raises(CatalogError, match="nope"):
        load_spec("over")


def test_an_overlay_cycle_is_refused(criteria_dir):
    _write(criteria_dir, "one", {"program": PROGRAM, "version": VERSION, "extends": "two"})
    _write(criteria_dir, "two", {"program": PROGRAM, "version": VERSION, "extends": "one"})
    with pytest.raises(CatalogError, match="cycle"):
        load_spec("one")


# ------------------------------------------------------------------------------------------------
# 63号 附件1 创新型中小企业: the six indicators, bracket by bracket


def test_the_good_enterprise_scores_full_marks_on_the_innovative_table():
    result = screen(INNOVATIVE, good())
    assert (result.verdict, result.score) == ("eligible", 100)


INNOVATIVE_BRACKETS = [
    # 上年度研发费用占营业收入比重 (revenue 1000): ≥5% 20; 3–5% 15; 2–3% 10; 1–2% 5; <1% 0
    *[
        ("rd_ratio", {"revenue_y1": D("1000"), "rd_expense_y1": D(rd)}, expected)
        for rd, expected in [
            ("50.1", 20), ("50", 20), ("49.9", 15),
            ("30.1", 15), ("30", 15), ("29.9", 10),
            ("20.1", 10), ("20", 10), ("19.9", 5),
            ("10.1", 5), ("10", 5), ("9.9", 0),
            ("0", 0),
        ]
    ],
    # 上年度主营业务收入增长率 (last year 1000): ≥15% 20; 10–15% 15; 5–10% 10; 0–5% 5; <0 0
    *[
        ("main_business_growth", {"main_business_revenue_y2": D("1000"), "main_business_revenue_y1": D(mb)}, expected)
        for mb, expected in [
            ("1150.1", 20), ("1150", 20), ("1149.9", 15),
            ("1100.1", 15), ("1100", 15), ("1099.9", 10),
            ("1050.1", 10), ("1050", 10), ("1049.9", 5),
            ("1000.1", 5), ("1000", 5), ("999.9", 0),
        ]
    ],
    # 上年度资产负债率 (assets 1000): ≤55% 10; 55–75% 5; >75% 0
    *[
        ("debt_ratio", {"total_assets_y1": D("1000"), "total_liabilities_y1": D(debt)}, expected)
        for debt, expected in [
            ("549.9", 10), ("550", 10), ("550.1", 5),
            ("749.9", 5), ("750", 5), ("750.1", 0),
        ]
    ],
    # 上年度主营业务收入占营业收入比重 (revenue 1000): ≥70% 20; 60–70% 15; 55–60% 10; 50–55% 5; <50% 0
    *[
        ("main_business_share", {"revenue_y1": D("1000"), "main_business_revenue_y1": D(mb)}, expected)
        for mb, expected in [
            ("700.1", 20), ("700", 20), ("699.9", 15),
            ("600.1", 15), ("600", 15), ("599.9", 10),
            ("550.1", 10), ("550", 10), ("549.9", 5),
            ("500.1", 5), ("500", 5), ("499.9", 0),
        ]
    ],
    # 有效知识产权: Ⅰ类高价值 20; 自主研发Ⅰ类 15; Ⅰ类 10; Ⅱ类 5; 无 0
    *[
        (
            "ip",
            {
                "ip_class1_high_value_count": high,
                "ip_class1_self_developed_count": own,
                "ip_class1_count": class1,
                "ip_class2_count": class2,
            },
            expected,
        )
        for high, own, class1, class2, expected in [
            (1, 1, 1, 0, 20), (0, 1, 1, 5, 15), (0, 0, 1, 5, 10), (0, 0, 0, 1, 5), (0, 0, 0, 0, 0),
        ]
    ],
    # 主导产品所属领域: 战略性新兴产业 10; 其他 5
    ("product_field", {"strategic_emerging_industry": True}, 10),
    ("product_field", {"strategic_emerging_industry": False}, 5),
]  # fmt: skip


@pytest.mark.parametrize(("key", "overrides", "expected"), INNOVATIVE_BRACKETS)
def test_innovative_indicator_brackets(key, overrides, expected):
    assert points(INNOVATIVE, key, good(**overrides)) == expected


# Sub-minimums: 创新能力 ≥ 20, 成长性 ≥ 15, 专业化 ≥ 15 (not the 24/18/18 of one third-party encoding).
INNOVATION_15 = {
    "ip_class1_high_value_count": 0,
    "ip_class1_self_developed_count": 0,
    "ip_class1_count": 0,
    "ip_class2_count": 0,
    "rd_expense_y1": D("420"),  # 3.5% → 15; with no IP the group has 15
}  # 15 + 30 + 30 = 75
GROWTH_5 = {
    "main_business_revenue_y1": D("9785"),  # +3% on 9500 → 5 (share 81.5% still → 20)
    "total_liabilities_y1": D("8000"),  # debt 80% → 0
}  # 40 + 5 + 30 = 75
SPECIALISATION_5 = {
    "strategic_emerging_industry": False,  # 5
    "revenue_y1": D("24000"),  # share 47.5% → 0; R&D 4% → 15
}  # 35 + 30 + 5 = 70


@pytest.mark.parametrize(
    ("overrides", "score", "short_group"),
    [(INNOVATION_15, 75, "innovation"), (GROWTH_5, 75, "growth"), (SPECIALISATION_5, 70, "specialisation")],
)
def test_a_total_over_60_with_one_group_under_its_minimum_does_not_pass(overrides, score, short_group):
    result = screen(INNOVATIVE, good(**overrides))
    assert result.score == score
    assert result.score_passed is False
    assert [g.key for g in result.groups if not g.met] == [short_group]
    assert result.verdict == "ineligible"
    assert unmet_keys(result) == ["score_or_direct"]


def test_exactly_60_with_every_minimum_met_passes_and_one_step_less_does_not():
    exactly_60 = {
        "revenue_y1": D("16000"),
        "rd_expense_y1": D("100"),  # R&D 0.625% → 0; Ⅰ类高价值 → 20: innovation 20
        "main_business_revenue_y1": D("10450"),  # +10% on 9500 → 15; share 65.3% → 15
        "total_liabilities_y1": D("8000"),  # debt 80% → 0: growth 15
    }  # specialisation 10 + 15 = 25
    result = screen(INNOVATIVE, good(**exactly_60))
    assert ([g.points for g in result.groups], result.score, result.verdict) == ([20, 15, 25], 60, "eligible")
    result = screen(INNOVATIVE, good(**exactly_60, strategic_emerging_industry=False))
    assert (result.score, result.verdict) == (55, "ineligible")


@pytest.mark.parametrize(
    "direct",
    [
        {"st_award": "national_top3"},
        {"st_award": "national_top5"},
        {"st_award": "provincial_top3"},
        {"innovation_honours": True},
        {"rd_institution_level": "provincial"},
        {"rd_institution_level": "national"},
        {"equity_financing_3y": D("500")},
    ],
)
def test_each_innovative_direct_condition_alone_qualifies_a_failing_enterprise(direct):
    assert screen(INNOVATIVE, good(**INNOVATION_15)).verdict == "ineligible"
    result = screen(INNOVATIVE, good(**INNOVATION_15, **direct))
    assert (result.verdict, result.direct_met, result.score_passed) == ("eligible", True, False)


@pytest.mark.parametrize(
    "near_miss",
    [{"equity_financing_3y": D("499.9")}, {"rd_institution_level": "municipal"}, {"st_award": "none"}],
)
def test_a_near_miss_on_an_innovative_direct_condition_does_not_qualify(near_miss):
    assert screen(INNOVATIVE, good(**INNOVATION_15, **near_miss)).verdict == "ineligible"


@pytest.mark.parametrize("stem", shipped_stems())
@pytest.mark.parametrize("negative", NEGATIVES)
def test_each_exclusion_excludes_an_otherwise_eligible_enterprise(stem, negative):
    assert screen(stem, good()).verdict == "eligible"
    result = screen(stem, good(**{negative: True}))
    assert result.verdict == "excluded"
    assert [c.key for c in result.conditions if c.kind == "exclusion" and c.met] != []


# ------------------------------------------------------------------------------------------------
# 63号 附件2 专精特新中小企业: base conditions, the 13 indicators, the direct alternatives

# Four base conditions plus the score; 78 points for the good enterprise (indicator 9 gives 0 nationally).
SCORE_60 = {
    "rd_institution_level": "none",  # 4 → 0
    "digital_level": 2,  # 5 → 3
    "net_profit_y1": D("600"),  # margin 5%: 10 → 4
    "rd_staff_y1": 10,  # 5%: 5 → 1
    "main_product_field": "six_foundations",  # 5 → 3
}  # 78 − 4 − 2 − 6 − 4 − 2 = 60
SCORE_59 = {**SCORE_60, "niche_years": 6}  # niche 4 → 3 points


def test_the_good_enterprise_scores_78_on_the_srdi_table():
    result = screen(SRDI, good())
    assert (result.verdict, result.score) == ("eligible", 78)


def test_srdi_passes_at_exactly_60_and_fails_at_59():
    assert (screen(SRDI, good(**SCORE_60)).score, screen(SRDI, good(**SCORE_60)).verdict) == (60, "eligible")
    result = screen(SRDI, good(**SCORE_59))
    assert (result.score, result.verdict, unmet_keys(result)) == (59, "ineligible", ["score_or_direct"])


SRDI_BRACKETS = [
    # 1 主营业务收入占比 (revenue 1000): ≥80% 5; 70–80% 3; 60–70% 1; <60% 0
    *[
        ("main_business_share", {"revenue_y1": D("1000"), "main_business_revenue_y1": D(mb)}, expected)
        for mb, expected in [
            ("800.1", 5), ("800", 5), ("799.9", 3),
            ("700.1", 3), ("700", 3), ("699.9", 1),
            ("600.1", 1), ("600", 1), ("599.9", 0),
        ]
    ],
    # 2 近2年主营业务收入平均增长率 = (g1 + g2) / 2; with y3 = y2 = 1000 it is half of last year's growth.
    #   ≥10% 10; 8–10% 8; 6–8% 6; 4–6% 4; 0–4% 2; <0 0
    *[
        (
            "main_business_growth_2y",
            {
                "main_business_revenue_y3": D("1000"),
                "main_business_revenue_y2": D("1000"),
                "main_business_revenue_y1": D(mb),
            },
            expected,
        )
        for mb, expected in [
            ("1200.2", 10), ("1200", 10), ("1199.8", 8),
            ("1160.2", 8), ("1160", 8), ("1159.8", 6),
            ("1120.2", 6), ("1120", 6), ("1119.8", 4),
            ("1080.2", 4), ("1080", 4), ("1079.8", 2),
            ("1000.2", 2), ("1000", 2), ("999.8", 0),
        ]
    ],
    # 3 从事特定细分市场年限: 1 point per full 2 years, at most 5
    *[
        ("niche_years", {"niche_years": years}, expected)
        for years, expected in [(0, 0), (1, 0), (2, 1), (3, 1), (4, 2), (9, 4), (10, 5), (11, 5), (20, 5)]
    ],
    # 4 主导产品所属领域: 补短板锻长板填空白 5; 六基/老字号/重点企业 3; other 0
    ("product_field", {"main_product_field": "key_chain"}, 5),
    ("product_field", {"main_product_field": "six_foundations"}, 3),
    ("product_field", {"main_product_field": "other"}, 0),
    # 5 数字化水平: 三级以上 5; 二级 3; 一级 0
    *[("digital_level", {"digital_level": level}, expected) for level, expected in [(4, 5), (3, 5), (2, 3), (1, 0), (0, 0)]],
    # 6 质量管理水平: 3 per item, at most 5
    *[
        (
            "quality",
            {"quality_award": award, "quality_system_certified": system, "own_brand": brand, "standards_participation": std},
            expected,
        )
        for award, system, brand, std, expected in [
            (False, False, False, False, 0),
            (True, False, False, False, 3),
            (False, False, False, True, 3),
            (False, True, True, False, 5),
            (True, True, True, True, 5),
        ]
    ],
    # 7 上年度净利润率 (revenue 1000): ≥10% 10; 8–10% 8; 6–8% 6; 4–6% 4; 2–4% 2; <2% 0
    *[
        ("net_profit_margin", {"revenue_y1": D("1000"), "net_profit_y1": D(profit)}, expected)
        for profit, expected in [
            ("100.1", 10), ("100", 10), ("99.9", 8),
            ("80.1", 8), ("80", 8), ("79.9", 6),
            ("60.1", 6), ("60", 6), ("59.9", 4),
            ("40.1", 4), ("40", 4), ("39.9", 2),
            ("20.1", 2), ("20", 2), ("19.9", 0),
            ("-50", 0),
        ]
    ],
    # 8 上年度资产负债率 (assets 1000): ≤50% 5; 50–60% 3; 60–70% 1; >70% 0
    *[
        ("debt_ratio", {"total_assets_y1": D("1000"), "total_liabilities_y1": D(debt)}, expected)
        for debt, expected in [
            ("499.9", 5), ("500", 5), ("500.1", 3),
            ("599.9", 3), ("600", 3), ("600.1", 1),
            ("699.9", 1), ("700", 1), ("700.1", 0),
        ]
    ],
    # 9 特色化: set by each province; the national default gives nothing
    ("local_features", {"provincial_key_field": True}, 0),
    # 10 知识产权: Ⅰ类高价值 10; 自主研发Ⅰ类 8; Ⅰ类 6; Ⅱ类 2; 无 0
    *[
        (
            "ip",
            {
                "ip_class1_high_value_count": high,
                "ip_class1_self_developed_count": own,
                "ip_class1_count": class1,
                "ip_class2_count": class2,
            },
            expected,
        )
        for high, own, class1, class2, expected in [
            (1, 1, 1, 0, 10), (0, 1, 1, 5, 8), (0, 0, 1, 5, 6), (0, 0, 0, 1, 2), (0, 0, 0, 0, 0),
        ]
    ],
    # 11 研发费用投入, by amount (revenue 10亿 so the ratio stays ≤ 0.5%):
    #    ≥500万 10; 400–500万 8; 300–400万 6; 200–300万 4; 100–200万 2; <100万 0
    *[
        ("rd_input", {"revenue_y1": D("100000"), "rd_expense_y1": D(rd)}, expected)
        for rd, expected in [
            ("500.1", 10), ("500", 10), ("499.9", 8),
            ("400.1", 8), ("400", 8), ("399.9", 6),
            ("300.1", 6), ("300", 6), ("299.9", 4),
            ("200.1", 4), ("200", 4), ("199.9", 2),
            ("100.1", 2), ("100", 2), ("99.9", 0),
        ]
    ],
    # 11 研发费用投入, by ratio (revenue 1000, so the amount stays under 100万 until the ratio reaches 10%):
    #    ≥10% 10; 8–10% 8; 6–8% 6; 4–6% 4; 3–4% 2; <3% 0
    *[
        ("rd_input", {"revenue_y1": D("1000"), "rd_expense_y1": D(rd)}, expected)
        for rd, expected in [
            ("100.1", 10), ("100", 10), ("99.9", 8),
            ("80.1", 8), ("80", 8), ("79.9", 6),
            ("60.1", 6), ("60", 6), ("59.9", 4),
            ("40.1", 4), ("40", 4), ("39.9", 2),
            ("30.1", 2), ("30", 2), ("29.9", 0),
        ]
    ],
    # 11 amount or ratio, whichever scores more
    ("rd_input", {"revenue_y1": D("10000"), "rd_expense_y1": D("450")}, 8),  # 4.5% → 4, 450万 → 8
    ("rd_input", {"revenue_y1": D("2000"), "rd_expense_y1": D("250")}, 10),  # 12.5% → 10, 250万 → 4
    # 12 上年度研发人员占比 (1000 employees): ≥20% 5; 10–20% 3; 5–10% 1; <5% 0
    *[
        ("rd_staff_ratio", {"employees_y1": 1000, "rd_staff_y1": staff}, expected)
        for staff, expected in [
            (201, 5), (200, 5), (199, 3),
            (101, 3), (100, 3), (99, 1),
            (51, 1), (50, 1), (49, 0),
        ]
    ],
    # 13 研发机构级别: 国家级 10; 省级 8; 市级 4; 市级以下 2; 无 0
    *[
        ("rd_institution", {"rd_institution_level": level}, expected)
        for level, expected in [
            ("national", 10), ("provincial", 8), ("municipal", 4), ("below_municipal", 2), ("none", 0),
        ]
    ],
]  # fmt: skip


@pytest.mark.parametrize(("key", "overrides", "expected"), SRDI_BRACKETS)
def test_srdi_indicator_brackets(key, overrides, expected):
    assert points(SRDI, key, good(**overrides)) == expected


def test_the_two_year_average_growth_is_the_mean_of_the_two_yearly_rates_not_the_compound_rate():
    # +20% then 0%: the mean is 10% (10 points); the compound rate would be 9.54% (8 points).
    facts = good(
        main_business_revenue_y3=D("1000"),
        main_business_revenue_y2=D("1000"),
        main_business_revenue_y1=D("1200"),
    )
    assert points(SRDI, "main_business_growth_2y", facts) == 10


@pytest.mark.parametrize(
    ("key", "overrides", "met"),
    [
        # 一、（一）从事特定细分市场时间达到2年以上
        ("niche_years", {"niche_years": 2}, True),
        ("niche_years", {"niche_years": 1}, False),
        # 一、（二）研发费用总额不低于100万元，且占营业收入总额比重不低于3%
        ("rd_expense", {"revenue_y1": D("3333"), "rd_expense_y1": D("100")}, True),  # 100万, 3.0003%
        ("rd_expense", {"revenue_y1": D("3000"), "rd_expense_y1": D("99.9")}, False),  # 3.33% but 99.9万
        ("rd_expense", {"revenue_y1": D("4000"), "rd_expense_y1": D("120")}, True),  # exactly 3%
        ("rd_expense", {"revenue_y1": D("4000"), "rd_expense_y1": D("119.6")}, False),  # 2.99%
        # 一、（三）营业收入1000万元以上，或近2年新增股权融资2000万元以上
        ("revenue", {"revenue_y1": D("1000")}, True),
        ("revenue", {"revenue_y1": D("999.9")}, False),
        ("revenue", {"revenue_y1": D("999.9"), "equity_financing_2y": D("2000")}, True),
        ("revenue", {"revenue_y1": D("999.9"), "equity_financing_2y": D("1999.9")}, False),
    ],
)
def test_srdi_base_condition_boundaries(key, overrides, met):
    result = screen(SRDI, good(**overrides))
    assert condition(result, key).met is met
    if not met:
        assert key in unmet_keys(result)
        assert result.verdict == "ineligible"


@pytest.mark.parametrize(
    "direct",
    [
        {"st_award": "provincial_top3"},  # a. 省级科技奖励排名前三
        {"st_award": "national_top3"},  # a. 国家级科技奖励排名前五 (前三 included)
        {"st_award": "national_top5"},
        {"rd_expense_y1": D("1000"), "rd_expense_y2": D("1000")},  # b. 近两年研发费用均值 1000万
        {"equity_financing_2y": D("6000")},  # c. 近两年新增股权融资 6000万
        {"maker_china": "national_500"},  # d. 创客中国全国500强企业组
        {"maker_china": "national_50"},
    ],
)
def test_each_srdi_direct_condition_alone_qualifies_an_enterprise_scoring_59(direct):
    result = screen(SRDI, good(**SCORE_59, **direct))
    assert (result.score, result.score_passed, result.direct_met) == (59, False, True)
    assert result.verdict == "eligible"


@pytest.mark.parametrize(
    "near_miss",
    [
        {"rd_expense_y1": D("1000"), "rd_expense_y2": D("999.9")},  # mean 999.95万
        {"equity_financing_2y": D("5999.9")},
    ],
)
def test_a_near_miss_on_an_srdi_direct_condition_does_not_qualify(near_miss):
    assert screen(SRDI, good(**SCORE_59, **near_miss)).verdict == "ineligible"


def test_a_direct_condition_does_not_replace_the_base_conditions():
    result = screen(SRDI, good(niche_years=1, equity_financing_2y=D("6000")))
    assert result.direct_met is True
    assert (result.verdict, unmet_keys(result)) == ("ineligible", ["niche_years"])


# ------------------------------------------------------------------------------------------------
# Guizhou (seed 002) on top of 附件2


def test_guizhou_scores_its_own_distinctiveness_indicator_from_the_key_fields():
    assert points(GZ, "local_features", good(provincial_key_field=True)) == 15
    assert points(GZ, "local_features", good(provincial_key_field=False)) == 0
    result = screen(GZ, good(provincial_key_field=None))
    ind = next(i for i in result.indicators if i.key == "local_features")
    assert (ind.points, ind.missing) == (0, ["provincial_key_field"])
    assert "seed 002 三、" in ind.source
    assert screen(GZ, good()).score == 78 + 15


@pytest.mark.parametrize(
    ("revenue", "ethnic_crafts", "met"),
    [
        ("2000", False, True),  # 年度营业收入2000万元以上
        ("1999.9", False, False),
        ("1500", True, True),  # 民族工艺品企业1000万元以上
        ("1500", False, False),
        ("1000", True, True),
        ("999.9", True, False),
    ],
)
def test_guizhou_revenue_threshold_and_its_ethnic_crafts_exception(revenue, ethnic_crafts, met):
    factor = D(revenue) / D("12000")
    # R&D 120万 keeps the national 研发费用不低于100万元 condition out of the way at every revenue here.
    result = screen(GZ, scaled(str(factor), ethnic_crafts=ethnic_crafts, rd_expense_y1=D("120")))
    assert condition(result, "gz_revenue").met is met
    # Below 2000万 only the ethnic-crafts exception keeps it eligible; under 1000万 nothing does.
    assert (result.verdict == "eligible") is met


def test_guizhou_revenue_1500_with_unknown_ethnic_crafts_is_missing_not_failed():
    result = screen(GZ, scaled("0.125", ethnic_crafts=None))
    gz_revenue = condition(result, "gz_revenue")
    assert (gz_revenue.met, gz_revenue.missing) == (None, ["ethnic_crafts"])
    assert {"key": "gz_revenue", "reason": "missing"}.items() <= next(
        u for u in result.unmet if u["key"] == "gz_revenue"
    ).items()


@pytest.mark.parametrize(
    ("key", "overrides", "met"),
    [
        ("gz_debt_ratio", {"total_liabilities_y1": D("7000")}, True),  # 资产负债率不高于70%
        ("gz_debt_ratio", {"total_liabilities_y1": D("7001")}, False),
        ("gz_main_business_share", {"main_business_revenue_y1": D("8400")}, True),  # 70% of 12000
        ("gz_main_business_share", {"main_business_revenue_y1": D("8399")}, False),
        ("gz_own_ip", {"ip_class1_count": 0, "ip_class2_count": 1}, True),  # 自主知识产权
        ("gz_own_ip", {"ip_class1_count": 1, "ip_class2_count": 0}, True),
        ("gz_own_ip", {"ip_class1_count": 0, "ip_class2_count": 0}, False),
        ("gz_management", {"quality_system_certified": False}, False),  # 四、6 管理体系认证、自主品牌
        ("gz_management", {"own_brand": False}, False),
    ],
)
def test_guizhou_added_base_conditions(key, overrides, met):
    result = screen(GZ, good(**overrides))
    assert condition(result, key).met is met
    if not met:
        assert result.verdict == "ineligible"


def test_guizhou_restates_the_national_exclusions_with_its_own_citation_once_each():
    definition = load_spec(GZ)["definition"]
    exclusions = {c["key"]: c["source"] for c in definition["exclusions"]}
    assert sorted(exclusions) == ["abnormal_list", "dishonest_or_tax", "false_info", "major_accident_3y"]
    for key in ("false_info", "major_accident_3y", "dishonest_or_tax"):
        assert exclusions[key].startswith("seed 002"), key
    for negative in ("negative_false_info", "negative_major_accident_3y", "negative_tax_or_dishonest"):
        assert screen(GZ, good(**{negative: True})).verdict == "excluded"


def test_guizhou_keeps_every_national_condition():
    national = [c["key"] for c in load_spec(SRDI)["definition"]["base_conditions"]]
    guizhou = [c["key"] for c in load_spec(GZ)["definition"]["base_conditions"]]
    assert guizhou[: len(national)] == national
    assert screen(GZ, good(niche_years=1)).verdict == "ineligible"


@pytest.mark.parametrize(
    ("facts", "verdict"),
    [
        (good(), "eligible"),
        # 1500万: national 2026 needs 1500万, Guizhou 2000万 or 1000万 for ethnic crafts
        (scaled("0.125", ethnic_crafts=True), "eligible"),
        (scaled("0.125", ethnic_crafts=False), "ineligible"),  # Guizhou 2000万
        (good(total_liabilities_y1=D("7500")), "ineligible"),  # 75%: national 2026 allows 80%, Guizhou 70%
        (good(negative_false_info=True), "excluded"),
    ],
)
def test_guizhou_2026(facts, verdict):
    assert screen(GZ_2026, facts).verdict == verdict


# ------------------------------------------------------------------------------------------------
# Bortala (seed 004): 符合条件或要素缺项不超过3个的企业列入优质中小企业培育库

ONE_MISSING = {"niche_years": 1}  # 细分市场 < 2 years (score 74)
TWO_MISSING = {**ONE_MISSING, "industry_code": None}  # size class unknown: not shown to be an SME
THREE_MISSING = {**TWO_MISSING, **dict.fromkeys(NEGATIVES[:3], None)}  # compliance not stated
FOUR_MISSING = {
    **THREE_MISSING,
    "digital_level": 0,  # 5 → 0
    "quality_system_certified": False,
    "own_brand": False,
    "standards_participation": False,  # 5 → 0
    "net_profit_y1": D("0"),  # 10 → 0
    "rd_institution_level": "none",  # 4 → 0: score 74 − 24 = 50
}


@pytest.mark.parametrize(
    ("overrides", "missing", "verdict"),
    [
        ({}, 0, "eligible"),
        (ONE_MISSING, 1, "library"),
        (TWO_MISSING, 2, "library"),
        (THREE_MISSING, 3, "library"),
        (FOUR_MISSING, 4, "ineligible"),
    ],
)
def test_bortala_library_takes_at_most_three_missing_elements(overrides, missing, verdict):
    result = screen(BORTALA, good(**overrides))
    assert (result.missing_elements, result.verdict) == (missing, verdict)
    # The same facts against the national rules: no library there.
    assert screen(SRDI, good(**overrides)).verdict == ("eligible" if missing == 0 else "ineligible")


def test_bortala_four_missing_elements_are_the_three_conditions_and_the_score():
    result = screen(BORTALA, good(**FOUR_MISSING))
    assert result.score == 50
    assert unmet_keys(result) == ["sme", "compliance", "niche_years", "score_or_direct"]
    # The size class is unknown without an industry code: the SME condition is undecided ("missing").
    assert [u["reason"] for u in result.unmet] == ["missing", "missing", "not_met", "not_met"]


def test_bortala_library_rule_quotes_the_seed_and_an_exclusion_still_wins():
    definition = load_spec(BORTALA)["definition"]
    assert definition["library"]["max_missing"] == 3
    assert "符合条件或要素缺项不超过3个的企业列入优质中小企业培育库" in definition["library"]["source"]
    assert screen(BORTALA, good(**ONE_MISSING, negative_abnormal_list=True)).verdict == "excluded"


@pytest.mark.parametrize(
    ("overrides", "verdict"),
    [
        ({}, "eligible"),
        ({"niche_years": 2}, "library"),  # 2026: 3 years
        ({"niche_years": 2, "revenue_y1": D("1400"), "total_liabilities_y1": D("8100")}, "library"),
        (
            {
                "niche_years": 2,
                "revenue_y1": D("1400"),
                "total_liabilities_y1": D("8100"),
                "ip_class1_count": 0,
                "rd_institution_level": "none",
            },
            "ineligible",
        ),
    ],
)
def test_bortala_2026_library(overrides, verdict):
    assert screen(BORTALA_2026, good(**overrides)).verdict == verdict


# ------------------------------------------------------------------------------------------------
# 63号 附件3 专精特新“小巨人”: 专、精、特、新、链 as base conditions


def test_the_good_enterprise_is_a_little_giant():
    result = screen(LITTLE_GIANT, good())
    assert (result.verdict, result.score) == ("eligible", None)
    assert [c.key for c in result.conditions if c.kind == "base"] == [
        "sme",
        "compliance",
        "specialised",
        "refined",
        "distinctive",
        "innovative",
        "chain",
    ]


@pytest.mark.parametrize(
    ("key", "overrides", "met"),
    [
        # 专: 细分市场3年以上; 主营业务收入占比≥70%; 近2年主营业务收入平均增长率≥5%
        ("specialised", {"niche_years": 3}, True),
        ("specialised", {"niche_years": 2}, False),
        # 70% of 12000; growth (−11.58% + 25%) / 2 = 6.7% still ≥ 5%
        ("specialised", {"main_business_revenue_y1": D("8400")}, True),
        ("specialised", {"main_business_revenue_y1": D("8399")}, False),
        (
            "specialised",
            {
                "main_business_revenue_y3": D("10000"),
                "main_business_revenue_y2": D("10000"),
                "main_business_revenue_y1": D("11000"),
            },
            True,
        ),  # (10% + 0%) / 2 = 5%
        (
            "specialised",
            {
                "main_business_revenue_y3": D("10000"),
                "main_business_revenue_y2": D("10000"),
                "main_business_revenue_y1": D("10999"),
            },
            False,
        ),
        # 精: 资产负债率不高于70%
        ("refined", {"total_liabilities_y1": D("7000")}, True),
        ("refined", {"total_liabilities_y1": D("7001")}, False),
        # 特: 全国细分市场占有率10%以上, 自主品牌
        ("distinctive", {"market_share": D("0.10")}, True),
        ("distinctive", {"market_share": D("0.0999")}, False),
        ("distinctive", {"own_brand": False}, False),
        # 链: 补短板、锻长板、填空白
        ("chain", {"main_product_field": "key_chain"}, True),
        ("chain", {"main_product_field": "six_foundations"}, False),
        ("chain", {"main_product_field": "other"}, False),
    ],
)
def test_little_giant_dimensions(key, overrides, met):
    assert condition(screen(LITTLE_GIANT, good(**overrides)), key).met is met


RD_BAND_CASES = [
    # ≥ 1亿: 近2年研发费用占营业收入比重均不低于3%
    ({"revenue_y1": D("10000"), "rd_expense_y1": D("300"), "revenue_y2": D("10000"), "rd_expense_y2": D("300")}, True),
    ({"revenue_y1": D("10000"), "rd_expense_y1": D("300"), "revenue_y2": D("10000"), "rd_expense_y2": D("299")}, False),
    ({"revenue_y1": D("10000"), "rd_expense_y1": D("299"), "revenue_y2": D("10000"), "rd_expense_y2": D("300")}, False),
    ({"revenue_y1": D("12000"), "rd_expense_y1": D("420"), "revenue_y2": D("10000"), "rd_expense_y2": D("350")}, True),
    # 5000万–1亿: 均不低于6% (3.5% is not enough just under 1亿)
    ({"revenue_y1": D("9999"), "rd_expense_y1": D("349.965"), "revenue_y2": D("10000"), "rd_expense_y2": D("350")}, False),
    ({"revenue_y1": D("9999"), "rd_expense_y1": D("599.94"), "revenue_y2": D("10000"), "rd_expense_y2": D("600")}, True),
    ({"revenue_y1": D("5000"), "rd_expense_y1": D("300"), "revenue_y2": D("5000"), "rd_expense_y2": D("300")}, True),
    ({"revenue_y1": D("5000"), "rd_expense_y1": D("300"), "revenue_y2": D("5000"), "rd_expense_y2": D("299.5")}, False),
    # exactly 5000万 is in the 6% band, not the equity band
    (
        {
            "revenue_y1": D("5000"), "rd_expense_y1": D("1500"), "revenue_y2": D("30000"), "rd_expense_y2": D("1500"),
            "equity_financing_2y": D("8000"), "rd_staff_y1": 100,
        },
        False,
    ),
    # < 5000万: 近2年新增股权融资8000万以上, 研发费用总额3000万以上, 研发人员占比50%以上
    (
        {
            "revenue_y1": D("4999.9"), "rd_expense_y1": D("1500"), "rd_expense_y2": D("1500"),
            "equity_financing_2y": D("8000"), "rd_staff_y1": 100,
        },
        True,
    ),
    (
        {
            "revenue_y1": D("4999.9"), "rd_expense_y1": D("1500"), "rd_expense_y2": D("1500"),
            "equity_financing_2y": D("7999.9"), "rd_staff_y1": 100,
        },
        False,
    ),
    (
        {
            "revenue_y1": D("4999.9"), "rd_expense_y1": D("1500"), "rd_expense_y2": D("1499.9"),
            "equity_financing_2y": D("8000"), "rd_staff_y1": 100,
        },
        False,
    ),
    (
        {
            "revenue_y1": D("4999.9"), "rd_expense_y1": D("1500"), "rd_expense_y2": D("1500"),
            "equity_financing_2y": D("8000"), "rd_staff_y1": 99,
        },
        False,
    ),
    # under 5000万 a high R&D ratio alone does not do it
    ({"revenue_y1": D("4000"), "rd_expense_y1": D("2000"), "revenue_y2": D("4000"), "rd_expense_y2": D("2000")}, False),
]  # fmt: skip


@pytest.mark.parametrize(("overrides", "met"), RD_BAND_CASES)
def test_little_giant_rd_bands_by_revenue(overrides, met):
    # The other 一般性条件 hold (municipal R&D institution, 5 Ⅰ类 IP) and no 直通: only the band decides.
    assert condition(screen(LITTLE_GIANT, good(**overrides)), "innovative").met is met


@pytest.mark.parametrize(
    ("overrides", "met"),
    [
        ({"rd_institution_level": "none"}, False),  # 一般性条件2: 研发机构
        ({"ip_class1_count": 1}, False),  # 一般性条件3: 2项以上Ⅰ类知识产权
        ({"ip_class1_count": 2}, True),
        ({"rd_institution_level": "none", "st_award": "national_top3"}, True),  # 直通: 国家级科技奖励前三
        ({"rd_institution_level": "none", "maker_china": "national_50"}, True),  # 直通: 创客中国全国50强
        ({"rd_institution_level": "none", "maker_china": "national_500"}, False),
        ({"rd_institution_level": "none", "st_award": "national_top5"}, False),
        ({"rd_institution_level": "none", "st_award": "provincial_top3"}, False),
    ],
)
def test_little_giant_innovation_general_conditions_or_a_direct_route(overrides, met):
    assert condition(screen(LITTLE_GIANT, good(**overrides)), "innovative").met is met


def test_little_giant_innovation_direct_route_does_not_excuse_the_other_dimensions():
    result = screen(
        LITTLE_GIANT, good(rd_institution_level="none", st_award="national_top3", market_share=D("0.05"))
    )
    assert condition(result, "innovative").met is True
    assert (result.verdict, unmet_keys(result)) == ("ineligible", ["distinctive"])


# ------------------------------------------------------------------------------------------------
# 2026 办法 (工信部企业〔2026〕2号): reported rules, pending confirmation


@pytest.mark.parametrize("stem", [SRDI_2026, LITTLE_GIANT_2026, GZ_2026, BORTALA_2026])
def test_the_2026_versions_are_pending_from_april_2026_and_have_no_score(stem):
    spec = load_spec(stem)
    assert spec["version"]["pending_confirmation"] is True
    assert spec["version"]["effective_from"] == "2026-04-01"
    assert "pass_score" not in spec["definition"]
    assert not spec["definition"].get("groups")
    assert not spec["definition"].get("direct")
    assert "发展评价得分" in spec["definition"]["notes"]  # left out, and said so


@pytest.mark.parametrize(
    ("key", "overrides", "met"),
    [
        ("niche_years", {"niche_years": 3}, True),
        ("niche_years", {"niche_years": 2}, False),
        ("revenue", {"revenue_y1": D("1500")}, True),
        ("revenue", {"revenue_y1": D("1499.9")}, False),
        ("revenue", {"revenue_y1": D("1000"), "equity_financing_2y": D("2000")}, True),
        ("main_business_share", {"revenue_y1": D("10000"), "main_business_revenue_y1": D("8000")}, True),
        ("main_business_share", {"revenue_y1": D("10000"), "main_business_revenue_y1": D("7999")}, False),
        ("debt_ratio", {"total_liabilities_y1": D("8000")}, True),
        ("debt_ratio", {"total_liabilities_y1": D("8001")}, False),
        ("rd_expense", {"revenue_y2": D("3000"), "rd_expense_y2": D("100")}, True),  # 100万, 3.33%
        ("rd_expense", {"revenue_y2": D("3000"), "rd_expense_y2": D("99.9")}, False),
        ("rd_expense", {"revenue_y2": D("10000"), "rd_expense_y2": D("299")}, False),  # 2.99% in y2
        ("ip", {"ip_class1_count": 1}, True),
        ("ip", {"ip_class1_count": 0}, False),
        ("ip", {"ip_class1_count": 0, "rd_institution_level": "provincial"}, True),
        ("ip", {"ip_class1_count": 0, "st_award": "provincial_top3"}, True),
        ("ip", {"ip_class1_count": 0, "st_award": "national_top5"}, False),
    ],
)
def test_srdi_2026_conditions(key, overrides, met):
    result = screen(SRDI_2026, good(**overrides))
    assert condition(result, key).met is met
    assert result.verdict == ("eligible" if met else "ineligible")


@pytest.mark.parametrize(
    ("key", "overrides", "met"),
    [
        ("revenue", {"revenue_y1": D("5000")}, True),
        ("revenue", {"revenue_y1": D("4999.9")}, False),
        ("main_business_share", {"main_business_revenue_y1": D("10800")}, True),  # 90% of 12000
        ("main_business_share", {"main_business_revenue_y1": D("10799")}, False),
        ("revenue_growth", {"revenue_y1": D("11025"), "revenue_y3": D("10000")}, True),  # √1.1025 − 1 = 5%
        ("revenue_growth", {"revenue_y1": D("11020"), "revenue_y3": D("10000")}, False),
        ("debt_ratio", {"total_liabilities_y1": D("7500")}, True),
        ("debt_ratio", {"total_liabilities_y1": D("7501")}, False),
        ("rd_expense", {"rd_expense_y1": D("600"), "rd_expense_y2": D("600")}, True),  # 合计1200万
        ("rd_expense", {"rd_expense_y1": D("600"), "rd_expense_y2": D("599.9")}, False),
        ("rd_expense", {"revenue_y2": D("30000"), "rd_expense_y2": D("800")}, False),  # y2 2.67%
        ("ip", {"ip_class1_count": 4}, True),
        ("ip", {"ip_class1_count": 3}, False),
        ("ip", {"ip_class1_count": 3, "st_award": "national_top3"}, True),
    ],
)
def test_little_giant_2026_conditions(key, overrides, met):
    assert condition(screen(LITTLE_GIANT_2026, good(**overrides)), key).met is met


def test_the_good_enterprise_meets_both_2026_national_programs():
    assert screen(SRDI_2026, good()).verdict == "eligible"
    assert screen(LITTLE_GIANT_2026, good()).verdict == "eligible"


# ------------------------------------------------------------------------------------------------
# Tibet (seeds 000/001): region and prefecture programs with no criteria of their own


@pytest.mark.parametrize(
    ("stem", "base"),
    [
        ("xz_2022_srdi", SRDI),
        ("xz_2026_srdi", SRDI_2026),
        ("lhasa_2022_srdi", SRDI),
        ("lhasa_2026_srdi", SRDI_2026),
    ],
)
def test_tibet_programs_use_the_national_criteria_unchanged(stem, base):
    tibet, national = load_spec(stem)["definition"], load_spec(base)["definition"]
    assert {k: v for k, v in tibet.items() if k != "notes"} == {
        k: v for k, v in national.items() if k != "notes"
    }
    assert tibet["notes"].startswith(national["notes"])


# ------------------------------------------------------------------------------------------------
# Missing facts: never an exception, always the reason "missing" with the facts named


@pytest.mark.parametrize("stem", shipped_stems())
def test_no_facts_at_all_gives_missing_reasons_not_exceptions(stem):
    result = screen(stem, {})
    assert result.verdict == "ineligible"
    for unmet in result.unmet:
        # an unknown size class counts as a missing fact, like any other
        if unmet["key"] != "score_or_direct":
            assert (unmet["reason"], bool(unmet["missing"])) == ("missing", True), unmet
    assert all(i.points == 0 for i in result.indicators)


@pytest.mark.parametrize(
    ("stem", "key", "absent", "missing"),
    [
        (SRDI, "rd_expense", ["rd_expense_y1"], ["rd_expense_y1", "rd_ratio_y1"]),
        (SRDI, "revenue", ["revenue_y1"], ["revenue_y1"]),
        (SRDI, "compliance", list(NEGATIVES[:3]), sorted(NEGATIVES[:3])),
        (SRDI, "niche_years", ["niche_years"], ["niche_years"]),
        (LITTLE_GIANT, "chain", ["main_product_field"], ["main_product_field"]),
        (LITTLE_GIANT, "distinctive", ["market_share"], ["market_share"]),
        (SRDI_2026, "rd_expense", ["revenue_y2"], ["rd_ratio_y2"]),
        (GZ, "gz_own_ip", ["ip_class2_count"], ["ip_class2_count"]),
    ],
)
def test_a_missing_fact_makes_its_condition_missing(stem, key, absent, missing):
    result = screen(stem, good(**dict.fromkeys(absent)))
    assert (condition(result, key).met, condition(result, key).missing) == (None, missing)
    unmet = next(u for u in result.unmet if u["key"] == key)
    assert (unmet["reason"], unmet["missing"]) == ("missing", missing)
    assert result.verdict == "ineligible"


@pytest.mark.parametrize(
    ("stem", "key", "absent", "missing"),
    [
        (INNOVATIVE, "rd_ratio", ["revenue_y1"], ["rd_ratio_y1"]),
        (INNOVATIVE, "product_field", ["strategic_emerging_industry"], ["strategic_emerging_industry"]),
        (SRDI, "main_business_growth_2y", ["main_business_revenue_y3"], ["main_business_revenue_growth_y2"]),
        (SRDI, "niche_years", ["niche_years"], ["niche_years"]),
        (SRDI, "product_field", ["main_product_field"], ["main_product_field"]),
        (SRDI, "rd_input", ["rd_expense_y1"], ["rd_expense_y1", "rd_ratio_y1"]),
        (SRDI, "net_profit_margin", ["net_profit_y1"], ["net_profit_margin_y1"]),
    ],
)
def test_a_missing_fact_scores_zero_and_says_which(stem, key, absent, missing):
    ind = next(i for i in screen(stem, good(**dict.fromkeys(absent))).indicators if i.key == key)
    assert (ind.points, ind.missing) == (0, missing)
