"""Benchmark of the screening engine: `make bench` (or `python bench/screening.py --n 5000`).

A synthetic tenant ("bench", the 贵州 region tree) holds N enterprises (100,000 by default) with
realistic, varied stored facts (every verdict represented, some facts missing), spread over the
counties. Their stored facts are what an application's facts snapshot will be. Two measurements:

(a) evaluation only, in memory: `evaluate_prepared(compiled, prepare_facts(facts), hash)` over the N
    typed facts dictionaries, in applications per second;
(b) the full batch re-screen: `certification.services.screening_batch_run` on a ScreeningBatch of the
    tenant's root region, which reads Enterprise.facts, evaluates, bulk-writes the Screening rows and
    updates the progress, in applications per second. It runs in a child process of its own, so that its
    peak RSS is its own and not the generator's.

Target (the issue): (b) at ≥ 2,000 applications/s on the 2-core machine and under 1 GB. The script prints
whether it is met but fails only on errors (or when (a) and (b) disagree on the verdicts).

Database: whatever DATABASE_URL says (the Makefile gives a dedicated db/bench.sqlite3 unless
BENCH_DATABASE_URL is set). The data set is reused when it is already there and identical (same N,
same generator); otherwise it is deleted and generated again.

SQL logging: with DEBUG on, Django keeps every executed query's SQL text (connection.queries); for a
batch that bulk-inserts 100,000 result documents this costs time and hundreds of MB that a worker
(DEBUG off) never spends. The measured phases therefore run with settings.DEBUG = False (after setup);
--debug-sql keeps it on.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

RESULT_MARK = "BENCH-RESULT "
GENERATOR = 1  # bump when make_facts changes: the stored data set is then generated again
TENANT_CODE = "bench"
ROOT_REGION = "520000"  # 贵州省
PROGRAM_CODE = "srdi-bench"
ENTERPRISE_BATCH = 5000
TARGET_RATE = 2000.0
TARGET_RSS_MB = 1024.0
# GB/T 4754-2017 classes: manufacturing (工业 row), software, chemicals, agriculture, pharma, wholesale.
INDUSTRY_CODES = [
    "C3484",
    "C3841",
    "C2612",
    "C2740",
    "C3511",
    "C2041",
    "I6513",
    "A0141",
    "C1492",
    "C2662",
    "F5179",
]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--n", type=int, default=100_000, help="number of enterprises (applications), default 100000"
    )
    p.add_argument("--seed", type=int, default=20221)
    p.add_argument(
        "--criteria",
        default="national_2022_srdi",
        help="a file stem of certification/criteria (e.g. bortala_2023_library, which has a cultivation-library "
        "rule) or 'builtin' for the definition written in this script",
    )
    p.add_argument(
        "--regenerate", action="store_true", help="delete and generate the data set even if it is there"
    )
    p.add_argument("--skip-batch", action="store_true", help="only (a), evaluation in memory")
    p.add_argument(
        "--tracemalloc",
        action="store_true",
        help="run (b) a second time under tracemalloc for its Python-heap peak (slow; rate not used)",
    )
    p.add_argument(
        "--pg-async-commit",
        action="store_true",
        help="PostgreSQL: SET synchronous_commit = off for the batch's session only",
    )
    p.add_argument(
        "--debug-sql", action="store_true", help="keep DEBUG's SQL logging during the measured phases"
    )
    p.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="(c): also run the batch's chunks in this many worker processes, as Celery workers would "
        "(screening_batch_plan + screening_batch_chunk); 1 skips it. Default: the number of CPUs",
    )
    p.add_argument("--output", default=str(ROOT / "bench-results" / "screening.json"))
    # Internal: the child process that runs (b).
    p.add_argument("--phase", choices=["main", "batch"], default="main", help=argparse.SUPPRESS)
    p.add_argument("--version-id", type=int, help=argparse.SUPPRESS)
    p.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    p.add_argument("--batch-workers", type=int, default=1, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def django_setup(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("DEBUG", "true")
    import django

    django.setup()
    if not args.debug_sql:
        from django.conf import settings

        settings.DEBUG = False  # no connection.queries (see the module docstring)


def ru_maxrss_mb() -> float:
    """getrusage's peak RSS (KB on Linux). In a child started by fork/vfork + exec it also counts the
    parent's RSS at the fork (Linux keeps the larger of the old and the new address space's peaks)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    """Peak resident set size of this process's own address space (VmHWM), else ru_maxrss."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return ru_maxrss_mb()


def current_rss_mb() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return float("nan")


def log(message: str) -> None:
    print(message, flush=True)


# --- the criteria ----------------------------------------------------------------------------

SRC = "工信部企业〔2022〕63号 附件2"


def _brackets(*rows):
    return [{"min": lo, "max": hi, "points": pts} for lo, hi, pts in rows]


def srdi_2022_definition() -> dict:
    """63号 附件2 专精特新中小企业认定标准 (domain.md §1.2): 4 base conditions, 13 indicators, 100 points.

    Used when the shipped catalogue (certification.criteria_catalog) is not there. Indicator 9 (地方特色指标)
    is the province's: a Guizhou-style example here. Expressions use the facts and the derived values of
    enterprises.derived; a derived value it does not provide is written out (numbers are doubles in CEL).
    """
    from enterprises.derived import DERIVED_TYPES

    def derived(name: str, fallback: str) -> str:
        return name if name in DERIVED_TYPES else f"({fallback})"

    return {
        "boundary": "favourable",
        "pass_score": 60,
        "base_conditions": [
            {
                "key": "sme",
                "label": "中小企业（工信部联企业〔2011〕300号）",
                "expr": 'size_class in ["medium", "small", "micro"]',
                "source": "63号 第二章 / 300号",
            },
            {
                "key": "niche_years",
                "label": "从事特定细分市场时间达到2年以上",
                "expr": "niche_years >= 2.0",
                "source": f"{SRC} 一（一）",
            },
            {
                "key": "rd",
                "label": "上年度研发费用总额不低于100万元，且占营业收入总额比重不低于3%",
                "expr": "rd_expense_y1 >= 100.0 && rd_ratio_y1 >= 0.03",
                "source": f"{SRC} 一（二）",
            },
            {
                "key": "revenue",
                "label": "上年度营业收入总额在1000万元以上，或近2年新增股权融资总额2000万元以上",
                "expr": "revenue_y1 >= 1000.0 || equity_financing_2y >= 2000.0",
                "source": f"{SRC} 一（三）",
            },
        ],
        "groups": [
            {
                "key": "specialisation",
                "label": "专业化",
                "min_points": 0,
                "indicators": [
                    {
                        "key": "main_business_share",
                        "label": "上年度主营业务收入总额占营业收入总额比重",
                        "max_points": 5,
                        "source": f"{SRC} 二 1",
                        "value": "main_business_share_y1",
                        "brackets": _brackets((0.8, None, 5), (0.7, 0.8, 3), (0.6, 0.7, 1), (None, 0.6, 0)),
                    },
                    {
                        "key": "main_business_growth",
                        "label": "近2年主营业务收入平均增长率",
                        "max_points": 10,
                        "source": f"{SRC} 二 2",
                        "value": derived(
                            "main_business_revenue_cagr_2y",
                            "(main_business_revenue_y1 / main_business_revenue_y2"
                            " + main_business_revenue_y2 / main_business_revenue_y3) / 2.0 - 1.0",
                        ),
                        "brackets": _brackets(
                            (0.10, None, 10),
                            (0.08, 0.10, 8),
                            (0.06, 0.08, 6),
                            (0.04, 0.06, 4),
                            (0.0, 0.04, 2),
                            (None, 0.0, 0),
                        ),
                    },
                    {
                        "key": "niche_years_points",
                        "label": "从事特定细分市场年限（每满2年得1分，最高5分）",
                        "max_points": 5,
                        "source": f"{SRC} 二 3",
                        "value": "niche_years",
                        "brackets": _brackets(
                            (10, None, 5), (8, 10, 4), (6, 8, 3), (4, 6, 2), (2, 4, 1), (None, 2, 0)
                        ),
                    },
                    {
                        "key": "main_product_field",
                        "label": "主导产品所属领域情况",
                        "max_points": 5,
                        "source": f"{SRC} 二 4",
                        "cases": [
                            {
                                "when": 'main_product_field == "key_chain"',
                                "points": 5,
                                "label": "补短板、锻长板、填空白",
                            },
                            {
                                "when": 'main_product_field == "six_foundations"',
                                "points": 3,
                                "label": "工业“六基”、中华老字号或产业链重点企业配套",
                            },
                        ],
                        "default": 0,
                    },
                ],
            },
            {
                "key": "refinement",
                "label": "精细化",
                "min_points": 0,
                "indicators": [
                    {
                        "key": "digital_level",
                        "label": "数字化水平",
                        "max_points": 5,
                        "source": f"{SRC} 二 5",
                        "cases": [
                            {"when": "digital_level >= 3.0", "points": 5, "label": "三级以上"},
                            {"when": "digital_level == 2.0", "points": 3, "label": "二级"},
                        ],
                        "default": 0,
                    },
                    {
                        "key": "quality",
                        "label": "质量管理水平（每项3分，最高5分）",
                        "max_points": 5,
                        "source": f"{SRC} 二 6",
                        "items": [
                            {"when": "quality_award", "points": 3, "label": "省级以上质量奖"},
                            {"when": "quality_system_certified", "points": 3, "label": "质量管理体系认证"},
                            {"when": "own_brand", "points": 3, "label": "自主品牌"},
                            {"when": "standards_participation", "points": 3, "label": "参与制修订标准"},
                        ],
                        "cap": 5,
                    },
                    {
                        "key": "net_profit_margin",
                        "label": "上年度净利润率",
                        "max_points": 10,
                        "source": f"{SRC} 二 7",
                        "value": derived("net_profit_margin_y1", "net_profit_y1 / revenue_y1"),
                        "brackets": _brackets(
                            (0.10, None, 10),
                            (0.08, 0.10, 8),
                            (0.06, 0.08, 6),
                            (0.04, 0.06, 4),
                            (0.02, 0.04, 2),
                            (None, 0.02, 0),
                        ),
                    },
                    {
                        "key": "debt_ratio",
                        "label": "上年度资产负债率",
                        "max_points": 5,
                        "source": f"{SRC} 二 8",
                        "value": "debt_ratio_y1",
                        "brackets": _brackets((None, 0.5, 5), (0.5, 0.6, 3), (0.6, 0.7, 1), (0.7, None, 0)),
                    },
                ],
            },
            {
                "key": "distinctiveness",
                "label": "特色化",
                "min_points": 0,
                "indicators": [
                    {
                        "key": "local",
                        "label": "地方特色指标（贵州示例：省重点培育领域、民族工艺品、战略性新兴产业）",
                        "max_points": 15,
                        "source": f"{SRC} 二 9（由省级主管部门确定）",
                        "items": [
                            {"when": "provincial_key_field", "points": 10, "label": "省重点培育领域"},
                            {"when": "ethnic_crafts", "points": 5, "label": "民族工艺品"},
                            {"when": "strategic_emerging_industry", "points": 5, "label": "战略性新兴产业"},
                        ],
                        "cap": 15,
                    },
                ],
            },
            {
                "key": "innovation",
                "label": "创新能力",
                "min_points": 0,
                "indicators": [
                    {
                        "key": "ip",
                        "label": "与企业主导产品相关的有效知识产权数量",
                        "max_points": 10,
                        "source": f"{SRC} 二 10",
                        "cases": [
                            {
                                "when": "ip_class1_high_value_count >= 1.0",
                                "points": 10,
                                "label": "Ⅰ类高价值知识产权",
                            },
                            {
                                "when": "ip_class1_self_developed_count >= 1.0",
                                "points": 8,
                                "label": "自主研发Ⅰ类知识产权",
                            },
                            {"when": "ip_class1_count >= 1.0", "points": 6, "label": "Ⅰ类知识产权"},
                            {"when": "ip_class2_count >= 1.0", "points": 2, "label": "Ⅱ类知识产权"},
                        ],
                        "default": 0,
                    },
                    {
                        "key": "rd_input",
                        "label": "上年度研发费用投入（金额或占比，取高）",
                        "max_points": 10,
                        "source": f"{SRC} 二 11",
                        "cases": [
                            {
                                "when": "rd_expense_y1 >= 500.0 || rd_ratio_y1 >= 0.10",
                                "points": 10,
                                "label": "500万元以上或10%以上",
                            },
                            {
                                "when": "rd_expense_y1 >= 400.0 || rd_ratio_y1 >= 0.08",
                                "points": 8,
                                "label": "400–500万元或8%–10%",
                            },
                            {
                                "when": "rd_expense_y1 >= 300.0 || rd_ratio_y1 >= 0.06",
                                "points": 6,
                                "label": "300–400万元或6%–8%",
                            },
                            {
                                "when": "rd_expense_y1 >= 200.0 || rd_ratio_y1 >= 0.04",
                                "points": 4,
                                "label": "200–300万元或4%–6%",
                            },
                            {
                                "when": "rd_expense_y1 >= 100.0 || rd_ratio_y1 >= 0.03",
                                "points": 2,
                                "label": "100–200万元或3%–4%",
                            },
                        ],
                        "default": 0,
                    },
                    {
                        "key": "rd_staff_ratio",
                        "label": "上年度研发人员占比",
                        "max_points": 5,
                        "source": f"{SRC} 二 12",
                        "value": "rd_staff_ratio_y1",
                        "brackets": _brackets((0.2, None, 5), (0.1, 0.2, 3), (0.05, 0.1, 1), (None, 0.05, 0)),
                    },
                    {
                        "key": "rd_institution",
                        "label": "建立研发机构级别",
                        "max_points": 10,
                        "source": f"{SRC} 二 13",
                        "cases": [
                            {"when": 'rd_institution_level == "national"', "points": 10, "label": "国家级"},
                            {"when": 'rd_institution_level == "provincial"', "points": 8, "label": "省级"},
                            {"when": 'rd_institution_level == "municipal"', "points": 4, "label": "市级"},
                            {
                                "when": 'rd_institution_level == "below_municipal"',
                                "points": 2,
                                "label": "市级以下",
                            },
                        ],
                        "default": 0,
                    },
                ],
            },
        ],
        "direct": [
            {
                "key": "st_award",
                "label": "近三年获省级科技奖励排名前三或国家级科技奖励排名前五",
                "expr": 'st_award in ["national_top3", "national_top5", "provincial_top3"]',
                "source": f"{SRC} 一（四）1",
            },
            {
                "key": "rd_avg",
                "label": "近两年研发费用总额均值1000万元以上",
                "expr": derived("rd_expense_avg_2y", "(rd_expense_y1 + rd_expense_y2) / 2.0") + " >= 1000.0",
                "source": f"{SRC} 一（四）2",
            },
            {
                "key": "equity",
                "label": "近两年新增股权融资总额6000万元以上",
                "expr": "equity_financing_2y >= 6000.0",
                "source": f"{SRC} 一（四）3",
            },
            {
                "key": "maker_china",
                "label": "近三年进入“创客中国”大赛全国500强企业组",
                "expr": 'maker_china in ["national_50", "national_500"]',
                "source": f"{SRC} 一（四）4",
            },
        ],
        "exclusions": [
            {
                "key": "false_info",
                "label": "提供虚假信息",
                "expr": "negative_false_info == true",
                "source": "63号 第二十七条",
            },
            {
                "key": "accident",
                "label": "近三年发生重大安全、质量、环境污染等事故",
                "expr": "negative_major_accident_3y == true",
                "source": "63号 合规经营",
            },
            {
                "key": "tax",
                "label": "偷漏税或列入严重失信主体名单",
                "expr": "negative_tax_or_dishonest == true",
                "source": "63号 合规经营",
            },
            {
                "key": "abnormal",
                "label": "列入经营异常名录",
                "expr": "negative_abnormal_list == true",
                "source": "63号 合规经营",
            },
        ],
        "library": {
            "max_missing": 1,
            "source": "bench: one missing element puts an enterprise in the 培育库",
        },
        "notes": "Benchmark copy of 63号 附件2; indicator 9 is a Guizhou-style example.",
    }


def criteria_definition(name: str) -> tuple[dict, str]:
    """The shipped definition `name` (national 2022 专精特新 by default) when the catalogue exists, else the
    hand-written one."""
    if name != "builtin":
        try:
            from certification.criteria_catalog import load_spec
        except ImportError:
            pass
        else:
            return load_spec(name)["definition"], f"certification.criteria_catalog {name}"
    return srdi_2022_definition(), "bench/screening.py srdi_2022_definition"


# --- the synthetic facts ---------------------------------------------------------------------


def _money(value: float) -> Decimal:
    return Decimal(round(value * 100)).scaleb(-2)


def make_facts(i: int, *, seed: int, uscc: str, industry: str, as_of: date) -> dict:
    """Typed facts (design.md vocabulary) of enterprise number i: deterministic in (seed, i)."""
    rng = random.Random(seed * 1_000_003 + i)
    r = rng.random
    q = r()  # latent strength: a strong enterprise tends to grow, do R&D, hold IP and titles
    maybe = lambda value, p=0.03: None if r() < p else value  # noqa: E731 — a fact left unstated

    age = max(1, int(rng.triangular(1, 30, 6 + 10 * q)))
    established = as_of.replace(month=1, day=1) - timedelta(days=365 * age + rng.randrange(365))
    niche = min(age, max(0, int(rng.triangular(0, 16, 1 + 10 * q))))
    facts: dict = {
        "uscc": uscc,
        "industry_code": industry,
        "established_date": established,
        "niche_years": maybe(niche, 0.04),
    }

    large = r() < 0.015
    revenue1 = rng.lognormvariate(6.2 + 3.2 * q, 0.8) * (30 if large else 1)
    growth = [max(-0.6, rng.gauss(-0.02 + 0.22 * q, 0.12)) for _ in range(2)]
    revenue = [revenue1, revenue1 / (1 + growth[0]), revenue1 / (1 + growth[0]) / (1 + growth[1])]
    years = 3 if age >= 3 else age  # a young enterprise has fewer complete years
    if r() < 0.03:
        years = 0  # no figures stated at all
    share = min(1.0, max(0.3, rng.gauss(0.68 + 0.3 * q, 0.12)))
    rd_ratio = max(0.0, rng.gauss(0.008 + 0.09 * q, 0.02))
    for k, name in enumerate(("y1", "y2", "y3")):
        known = k < years
        rev = revenue[k]
        facts[f"revenue_{name}"] = _money(rev) if known else None
        facts[f"main_business_revenue_{name}"] = (
            _money(rev * min(1.0, share * rng.uniform(0.95, 1.05))) if known else None
        )
        facts[f"rd_expense_{name}"] = _money(rev * rd_ratio * rng.uniform(0.85, 1.15)) if known else None

    if years:
        assets = revenue1 * rng.uniform(0.6, 2.2)
        employees = max(3, int(revenue1 / rng.uniform(40, 160)))
        facts["net_profit_y1"] = maybe(_money(revenue1 * rng.gauss(0.02 + 0.09 * q, 0.05)))
        facts["total_assets_y1"] = maybe(_money(assets))
        facts["total_liabilities_y1"] = maybe(
            _money(assets * min(1.2, max(0.05, rng.gauss(0.62 - 0.25 * q, 0.15))))
        )
        facts["employees_y1"] = maybe(employees)
        facts["rd_staff_y1"] = maybe(int(employees * min(1.0, max(0.0, rng.gauss(0.03 + 0.25 * q, 0.06)))))
    else:
        for name in (
            "net_profit_y1",
            "total_assets_y1",
            "total_liabilities_y1",
            "employees_y1",
            "rd_staff_y1",
        ):
            facts[name] = None

    equity2 = rng.lognormvariate(6.5 + 2.0 * q, 1.3) if r() < 0.05 + 0.2 * q else 0.0
    equity3 = equity2 + (rng.lognormvariate(6.0, 1.0) if r() < 0.1 else 0.0)
    facts["equity_financing_2y"] = maybe(_money(equity2), 0.02)
    facts["equity_financing_3y"] = maybe(_money(equity3), 0.02)

    class1 = int(rng.expovariate(1 / (0.2 + 5 * q)))
    self_dev = int(class1 * rng.uniform(0.4, 1.0))
    facts["ip_class1_count"] = class1
    facts["ip_class1_self_developed_count"] = self_dev
    facts["ip_class1_high_value_count"] = int(self_dev * rng.uniform(0, 0.5)) if r() < 0.3 else 0
    facts["ip_class2_count"] = int(rng.expovariate(1 / (0.5 + 8 * q)))

    facts["strategic_emerging_industry"] = maybe(r() < 0.25 + 0.4 * q)
    facts["main_product_field"] = maybe(
        rng.choices(
            ["key_chain", "six_foundations", "other"], [0.05 + 0.35 * q, 0.15 + 0.15 * q, 0.8 - 0.5 * q]
        )[0],
        0.05,
    )
    facts["market_share"] = maybe(
        Decimal(str(round(min(1.0, rng.expovariate(1 / (0.002 + 0.05 * q))), 4))), 0.2
    )
    facts["digital_level"] = maybe(min(4, max(0, int(rng.gauss(0.8 + 2.5 * q, 0.9)))), 0.08)
    facts["quality_award"] = maybe(r() < 0.03 + 0.2 * q)
    facts["quality_system_certified"] = maybe(r() < 0.35 + 0.55 * q)
    facts["own_brand"] = maybe(r() < 0.4 + 0.5 * q)
    facts["standards_participation"] = maybe(r() < 0.05 + 0.4 * q)
    facts["rd_institution_level"] = rng.choices(
        ["national", "provincial", "municipal", "below_municipal", "none"],
        [0.005 + 0.03 * q, 0.03 + 0.2 * q, 0.08 + 0.2 * q, 0.1, 0.8 - 0.4 * q],
    )[0]
    facts["st_award"] = rng.choices(
        ["national_top3", "national_top5", "provincial_top3", "none"], [0.002, 0.003, 0.01 + 0.04 * q, 0.95]
    )[0]
    high_tech = r() < 0.08 + 0.6 * q
    facts["high_tech_enterprise"] = high_tech
    facts["innovation_honours"] = high_tech or r() < 0.05
    facts["maker_china"] = rng.choices(
        ["national_50", "national_500", "none"], [0.002, 0.005 + 0.03 * q, 0.97]
    )[0]
    facts["ethnic_crafts"] = maybe(r() < 0.04)
    facts["provincial_key_field"] = maybe(r() < 0.25 + 0.35 * q)
    for name in (
        "negative_false_info",
        "negative_major_accident_3y",
        "negative_tax_or_dishonest",
        "negative_abnormal_list",
    ):
        facts[name] = maybe(r() < 0.007, 0.02)
    return facts


# --- set-up ----------------------------------------------------------------------------------


def setup_tenant(definition: dict, label: str):
    from certification.engine import compile_criteria
    from certification.models import CriteriaVersion, Program
    from certification.services import criteria_version_freeze, criteria_version_save
    from portal.models import Region, Tenant
    from portal.regions import regions_load

    tenant, _ = Tenant.objects.get_or_create(
        code=TENANT_CODE, defaults={"name": "基准测试（贵州）", "short_name": "bench"}
    )
    regions_load(tenant=tenant, root_code=ROOT_REGION)
    tenant.refresh_from_db()
    root = tenant.root_region
    program, _ = Program.objects.get_or_create(
        tenant=tenant,
        code=PROGRAM_CODE,
        defaults={"name": "专精特新中小企业（基准）", "tier": Program.Tier.SRDI, "owner_region": root},
    )
    wanted = compile_criteria(definition).definition_hash
    version = program.versions.filter(definition_hash=wanted).first()
    if version is None:
        last = program.versions.order_by("-effective_from").first()
        start = last.effective_from + timedelta(days=1) if last else date(2022, 6, 1)
        version = CriteriaVersion(
            program=program,
            label=label[:120],
            effective_from=start,
            source=f"bench: {label}",
            definition=definition,
        )
        criteria_version_save(version=version, by=None, actor_label="bench")
    version = criteria_version_freeze(version=version, by=None, actor_label="bench")
    counties = list(Region.objects.filter(tenant=tenant, level=Region.Level.COUNTY).order_by("code"))
    return tenant, root, version, counties


def enterprise_name(i: int) -> str:
    return f"基准企业{i:07d}"


class DataSet:
    """The N generated enterprises: their typed facts and hashes, in index order."""

    def __init__(self, args, counties, industries):
        from enterprises.demo import demo_uscc
        from enterprises.facts import facts_hash

        self.as_of = date.today()
        self.facts: list[dict] = []
        self.hashes: list[str] = []
        self.rows = []  # (i, county, uscc, industry)
        nc = len(counties)
        for i in range(args.n):
            county = counties[i % nc]
            uscc = demo_uscc(county.code, 1000 + i // nc)
            industry = industries[(i * 7 + i // 13) % len(industries)]
            facts = make_facts(i, seed=args.seed, uscc=uscc, industry=industry, as_of=self.as_of)
            self.facts.append(facts)
            self.hashes.append(facts_hash(facts))
            self.rows.append((i, county, uscc, industry))


def ensure_enterprises(args, tenant, data: DataSet) -> str:
    """Reuse the stored enterprises when they are exactly this data set, else generate them again."""
    from django.db import transaction

    from certification.models import Screening, ScreeningBatch
    from enterprises.derived import derived_values
    from enterprises.facts import facts_to_json
    from enterprises.models import Enterprise

    qs = Enterprise.objects.filter(tenant=tenant)
    if not args.regenerate and qs.count() == args.n:
        probe = sorted({0, args.n - 1, *random.Random(args.seed).sample(range(args.n), min(args.n, 50))})
        stored = dict(
            qs.filter(name__in=[enterprise_name(i) for i in probe]).values_list("name", "facts_hash")
        )
        if all(stored.get(enterprise_name(i)) == data.hashes[i] for i in probe):
            return "reused"
    started = time.perf_counter()
    Screening.objects.filter(tenant=tenant).delete()
    ScreeningBatch.objects.filter(tenant=tenant).delete()
    qs.delete()
    log(f"  deleted the previous data set in {time.perf_counter() - started:.1f} s")
    from django.utils import timezone

    now = timezone.now()
    chunk = []
    with transaction.atomic():
        for (i, county, uscc, industry), facts, hash_ in zip(data.rows, data.facts, data.hashes, strict=True):
            stored = facts_to_json(facts)
            chunk.append(
                Enterprise(
                    tenant_id=tenant.pk,
                    uscc=uscc,
                    name=enterprise_name(i),
                    county_id=county.pk,
                    address=f"{county.name}基准路{i % 997 + 1}号",
                    industry_id=industry,
                    legal_representative="张基准",
                    contact_person="李基准",
                    contact_phone=f"139{i:08d}",
                    contact_email=f"bench{i}@example.cn",
                    established_date=facts["established_date"],
                    niche_years=facts["niche_years"],
                    market_share=facts["market_share"],
                    main_product_field=facts["main_product_field"] or "",
                    strategic_emerging_industry=facts["strategic_emerging_industry"],
                    digital_level=facts["digital_level"],
                    own_brand=facts["own_brand"],
                    standards_participation=facts["standards_participation"],
                    ethnic_crafts=facts["ethnic_crafts"],
                    provincial_key_field=facts["provincial_key_field"],
                    negative_false_info=facts["negative_false_info"],
                    negative_major_accident_3y=facts["negative_major_accident_3y"],
                    negative_tax_or_dishonest=facts["negative_tax_or_dishonest"],
                    negative_abnormal_list=facts["negative_abnormal_list"],
                    size_class=derived_values(facts)["size_class"],
                    facts=stored,
                    facts_hash=hash_,
                    email_verified_at=None,
                    created_at=now,
                )
            )
            if len(chunk) == ENTERPRISE_BATCH:
                Enterprise.objects.bulk_create(chunk, batch_size=ENTERPRISE_BATCH)
                chunk.clear()
        if chunk:
            Enterprise.objects.bulk_create(chunk, batch_size=ENTERPRISE_BATCH)
    return "generated"


# --- (a) evaluation only ---------------------------------------------------------------------


def analyze(*tables: str, vacuum: bool = False) -> None:
    """Fresh planner statistics, as autovacuum would have them on a database in service.

    Right after a bulk load PostgreSQL believes the tables are nearly empty and may pick a nested loop that
    reads the whole enterprise table for every chunk (measured: 0.74 s instead of 12 ms per 2,000 rows).
    Deleting and rewriting the same screening keys leaves dead index entries, which VACUUM clears: the
    benchmark measures steady state, not its own clean-up.
    """
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in tables:
                cursor.execute(f"{'VACUUM ' if vacuum else ''}ANALYZE {connection.ops.quote_name(table)}")
            if vacuum:
                # Start the measured run right after a checkpoint rather than somewhere before the next one
                # (a checkpoint while 100,000 rows are written costs seconds and made runs differ by ±30%).
                with contextlib.suppress(DatabaseError):  # not allowed for this role: measure without it
                    cursor.execute("CHECKPOINT")
        elif connection.vendor == "sqlite":
            cursor.execute("ANALYZE")


def phase_eval(criteria, data: DataSet) -> dict:
    from certification.engine.evaluate import evaluate_prepared, prepare_facts

    gc.collect()
    counts: Counter = Counter()
    started = time.perf_counter()
    for facts, hash_ in zip(data.facts, data.hashes, strict=True):
        counts[evaluate_prepared(criteria, prepare_facts(facts), hash_).verdict] += 1
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 3),
        "rate": round(len(data.facts) / seconds, 1),
        "counts": dict(counts),
        "peak_rss_mb": round(rss_mb(), 1),
        "ru_maxrss_mb": round(ru_maxrss_mb(), 1),
    }


def breakdown(criteria, data: DataSet, sample: int = 10_000) -> dict:
    """Per-step cost (µs per application) on a sample: where (b)'s time goes besides the database."""
    from certification.engine.evaluate import evaluate_prepared, prepare_facts
    from enterprises.derived import derived_values
    from enterprises.facts import facts_from_json, facts_to_json

    facts = data.facts[:sample]
    hashes = data.hashes[:sample]
    n = len(facts)
    out = {}

    def timed(name, fn):
        # Without the cyclic GC: the sample's results stay alive here, which a batch never does, and collecting
        # them again and again would be charged to whichever step happens to trigger it.
        gc.collect()
        gc.disable()
        try:
            t = time.perf_counter()
            value = fn()
            out[name] = round((time.perf_counter() - t) / n * 1e6, 1)
        finally:
            gc.enable()
        return value

    stored = [facts_to_json(f) for f in facts]
    encoded = [json.dumps(s, ensure_ascii=False) for s in stored]
    timed("json.loads(facts)", lambda: [json.loads(e) for e in encoded])
    typed = timed("facts_from_json", lambda: [facts_from_json(s) for s in stored])
    timed("derived_values (with explanation)", lambda: [derived_values(f) for f in typed])
    prepared = timed("prepare_facts", lambda: [prepare_facts(f) for f in typed])
    results = timed(
        "evaluate_prepared",
        lambda: [evaluate_prepared(criteria, p, h) for p, h in zip(prepared, hashes, strict=True)],
    )
    dicts = timed("ScreeningResult.as_dict", lambda: [r.as_dict() for r in results])
    blobs = timed("json.dumps(as_dict)", lambda: [json.dumps(d) for d in dicts])
    out["as_dict_json_bytes_avg"] = round(sum(len(b) for b in blobs) / n)
    if hasattr(results[0], "as_compact"):  # what screening_batch_run stores, where the engine has it
        dicts = timed("ScreeningResult.as_compact", lambda: [r.as_compact() for r in results])
        blobs = timed("json.dumps(as_compact)", lambda: [json.dumps(d) for d in dicts])
        out["as_compact_json_bytes_avg"] = round(sum(len(b) for b in blobs) / n)
    out["facts_json_bytes_avg"] = round(sum(len(e.encode()) for e in encoded) / n)
    return out


# --- (b) the full batch (child process) ------------------------------------------------------


def phase_batch(args) -> dict:
    from django.db import connection

    from certification.models import CriteriaVersion, Screening, ScreeningBatch
    from certification.services import screening_batch_run
    from enterprises.models import Enterprise

    version = CriteriaVersion.objects.select_related("program__tenant").get(pk=args.version_id)
    tenant = version.program.tenant
    root = tenant.root_region
    deleted, _ = Screening.objects.filter(version=version).delete()
    analyze(Screening._meta.db_table, vacuum=True)
    total = Enterprise.objects.in_subtree(root).count()
    batch = ScreeningBatch.objects.create(
        tenant=tenant, version=version, region=root, requested_by=None, total=total
    )
    if args.pg_async_commit and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")  # this session only
    tracing = args.phase == "batch" and os.environ.get("BENCH_TRACEMALLOC") == "1"
    if tracing:
        import tracemalloc

        tracemalloc.start()
    gc.collect()
    rss_before, rss_now = rss_mb(), current_rss_mb()
    cpu = time.process_time()
    started = time.perf_counter()
    workers = {}
    if args.batch_workers > 1:
        batch, workers = run_in_workers(batch.pk, args)
    else:
        batch = screening_batch_run(batch_id=batch.pk)
    seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    out = {
        **workers,
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "rate": round(total / seconds, 1),
        "total": total,
        "done": batch.done,
        "written": batch.written,
        "status": batch.status,
        "counts": batch.counts,
        "deleted_before": deleted,
        "rss_before_mb": round(rss_now, 1),
        "peak_rss_mb": round(rss_mb(), 1),
        "peak_rss_before_run_mb": round(rss_before, 1),
        "ru_maxrss_mb": round(ru_maxrss_mb(), 1),
        "rows_after": Screening.objects.filter(version=version).count(),
        "code": code_fingerprint(),
    }
    if tracing:
        out["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_total_relation_size('certification_screening')")
            out["screening_table_mb"] = round(cursor.fetchone()[0] / 2**20, 1)
    return out


def _worker_init(async_commit: bool) -> None:
    from django.db import connection

    if async_commit and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")


def _worker_chunk(chunk_id: int) -> tuple[int, float, float]:
    from certification.services import screening_batch_chunk

    cpu = time.process_time()
    screening_batch_chunk(chunk_id=chunk_id)
    return chunk_id, time.process_time() - cpu, rss_mb()


def has_chunk_tasks() -> bool:
    from certification import services

    return hasattr(services, "screening_batch_plan") and hasattr(services, "screening_batch_chunk")


def run_in_workers(batch_id: int, args):
    """Plan the batch, then screen its chunks in forked worker processes (as Celery's prefork pool would)."""
    import multiprocessing

    from django.db import connections

    from certification.models import ScreeningBatch
    from certification.services import screening_batch_plan

    chunk_ids = screening_batch_plan(batch_id=batch_id)
    connections.close_all()  # every worker opens its own connection
    cpu, peak = 0.0, 0.0
    with multiprocessing.get_context("fork").Pool(
        args.batch_workers, initializer=_worker_init, initargs=(args.pg_async_commit,)
    ) as pool:
        for _chunk, chunk_cpu, chunk_rss in pool.imap_unordered(_worker_chunk, chunk_ids):
            cpu += chunk_cpu
            peak = max(peak, chunk_rss)
    batch = ScreeningBatch.objects.get(pk=batch_id)
    return batch, {
        "workers": args.batch_workers,
        "chunks": len(chunk_ids),
        "workers_cpu_seconds": round(cpu, 3),
        "worker_peak_rss_mb": round(peak, 1),
    }


CODE_FILES = [
    "certification/engine/definition.py",
    "certification/engine/evaluate.py",
    "certification/engine/expressions.py",
    "certification/services.py",
    "enterprises/derived.py",
    "enterprises/facts.py",
    "enterprises/size_class.py",
]


def code_fingerprint() -> str:
    """A short hash of the engine's source files, so that a result names the code it measured."""
    import hashlib

    digest = hashlib.sha256()
    for name in CODE_FILES:
        path = ROOT / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b""))
    return digest.hexdigest()[:12]


def run_child(args, version_id: int, *, tracemalloc: bool = False, workers: int = 1) -> dict:
    cmd = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--phase",
        "batch",
        "--version-id",
        str(version_id),
        "--n",
        str(args.n),
        "--batch-workers",
        str(workers),
    ]
    if args.pg_async_commit:
        cmd.append("--pg-async-commit")
    if args.debug_sql:
        cmd.append("--debug-sql")
    env = dict(os.environ, BENCH_TRACEMALLOC="1" if tracemalloc else "0")
    # The command is this script with internal arguments: nothing in it comes from outside.
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)  # noqa: S603
    result = None
    for line in proc.stdout.splitlines():
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK) :])
        else:
            print(line)
    if proc.returncode != 0 or result is None:
        raise SystemExit(f"the batch phase failed (exit {proc.returncode})")
    return result


# --- main ------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    django_setup(args)
    if args.phase == "batch":
        print(RESULT_MARK + json.dumps(phase_batch(args)), flush=True)
        return 0

    from django.core.management import call_command
    from django.db import connection

    from certification.engine.evaluate import compiled_for
    from enterprises.models import Industry

    code = code_fingerprint()  # the engine's modules are imported by now
    wall = time.perf_counter()
    log(
        f"SRDI screening benchmark: N={args.n:,}, database {connection.vendor} ({connection.settings_dict['NAME']})"
    )
    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    definition, definition_source = criteria_definition(args.criteria)
    tenant, root, version, counties = setup_tenant(definition, definition_source)
    industries = [c for c in INDUSTRY_CODES if Industry.objects.filter(pk=c).exists()]
    if not industries:
        raise SystemExit("no industry classes in the database: did the migrations load GB/T 4754?")
    setup_seconds = time.perf_counter() - t
    log(
        f"  migrated, tenant {tenant.code}: {len(counties)} counties, criteria version {version.pk} "
        f"({definition_source}) in {setup_seconds:.1f} s"
    )

    t = time.perf_counter()
    data = DataSet(args, counties, industries)
    generate_seconds = time.perf_counter() - t
    log(f"  generated {args.n:,} facts dictionaries in {generate_seconds:.1f} s")
    t = time.perf_counter()
    state = ensure_enterprises(args, tenant, data)
    analyze("enterprises_enterprise", "portal_region", "certification_screening")
    store_seconds = time.perf_counter() - t
    log(f"  enterprises {state} in {store_seconds:.1f} s; peak RSS {rss_mb():.0f} MB")

    criteria = compiled_for(version.definition)
    log("(a) evaluation only, in memory …")
    a = phase_eval(criteria, data)
    log(f"    {a['rate']:,.0f} applications/s ({a['seconds']:.2f} s); verdicts {a['counts']}")
    parts = breakdown(criteria, data)
    log(f"    µs per application: {parts}")

    b = c = tracemalloc_peak = None
    if not args.skip_batch:
        del data  # (b) runs in its own process; free the generator's memory meanwhile
        gc.collect()
        log("(b) full batch re-screen (screening_batch_run, child process) …")
        b = run_child(args, version.pk)
        log(
            f"    {b['rate']:,.0f} applications/s ({b['seconds']:.2f} s, CPU {b['cpu_seconds']:.2f} s); "
            f"peak RSS {b['peak_rss_mb']:.0f} MB; written {b['written']:,}; verdicts {b['counts']}"
        )
        if args.tracemalloc:
            log("(b') the same batch under tracemalloc (its rate is not the benchmark's) …")
            tracemalloc_peak = run_child(args, version.pk, tracemalloc=True).get("tracemalloc_peak_mb")
        if args.workers > 1 and has_chunk_tasks():
            log(
                f"(c) the same batch in {args.workers} worker processes (plan + chunk tasks, as Celery runs it) …"
            )
            c = run_child(args, version.pk, workers=args.workers)
            log(
                f"    {c['rate']:,.0f} applications/s ({c['seconds']:.2f} s, workers' CPU "
                f"{c['workers_cpu_seconds']:.2f} s); peak RSS {c['peak_rss_mb']:.0f} MB + "
                f"{c['workers']} × {c['worker_peak_rss_mb']:.0f} MB; verdicts {c['counts']}"
            )

    errors = []
    for name, run in (("(b)", b), ("(c)", c)):
        if run is None:
            continue
        if (
            run["status"] != "done"
            or run["done"] != args.n
            or run["written"] != args.n
            or run["rows_after"] != args.n
        ):
            errors.append(f"the batch {name} did not screen and write every enterprise: {run}")
        if run["counts"] != a["counts"]:
            errors.append(f"verdicts differ between (a) {a['counts']} and {name} {run['counts']}")
        if run["code"] != code:
            print(
                f"warning: the engine's source changed between (a) and {name} ({code} → {run['code']}): "
                "the rates measure different code; run again",
                file=sys.stderr,
            )
    missing_verdicts = {"eligible", "library", "ineligible", "excluded"} - set(a["counts"])

    summary = {
        "n": args.n,
        "seed": args.seed,
        "generator": GENERATOR,
        "database": connection.vendor,
        "database_name": str(connection.settings_dict["NAME"]),
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {os.cpu_count()} CPUs",
        "criteria": definition_source,
        "code": code,
        "definition_hash": version.definition_hash,
        "sql_logging": bool(args.debug_sql),
        "pg_synchronous_commit_off": bool(args.pg_async_commit),
        "data_set": state,
        "setup_seconds": round(setup_seconds, 2),
        "generate_seconds": round(generate_seconds, 2),
        "store_seconds": round(store_seconds, 2),
        "eval_only": a,
        "eval_breakdown_us": parts,
        "batch": b,
        "ratio_batch_to_eval": round(b["rate"] / a["rate"], 3) if b else None,
        "batch_workers": c,
        "ratio_workers_to_eval": round(c["rate"] / a["rate"], 3) if c else None,
        "tracemalloc_peak_mb": tracemalloc_peak,
        "target": {
            "rate": TARGET_RATE,
            "rss_mb": TARGET_RSS_MB,
            "met": bool(b and b["rate"] >= TARGET_RATE and b["peak_rss_mb"] < TARGET_RSS_MB),
            "met_with_workers": bool(
                c
                and c["rate"] >= TARGET_RATE
                and c["peak_rss_mb"] + c["workers"] * c["worker_peak_rss_mb"] < TARGET_RSS_MB
            ),
        },
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "errors": errors,
    }
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    out.with_name(f"{out.stem}-{connection.vendor}{out.suffix}").write_text(out.read_text())

    rows = [
        ("N (applications)", f"{args.n:,}"),
        ("database", f"{connection.vendor} ({connection.settings_dict['NAME']})"),
        (
            "(a) eval only",
            f"{a['rate']:>10,.0f} /s   {a['seconds']:8.2f} s   peak RSS {a['peak_rss_mb']:,.0f} MB",
        ),
    ]
    if b:
        rows += [
            (
                "(b) full batch",
                f"{b['rate']:>10,.0f} /s   {b['seconds']:8.2f} s   peak RSS {b['peak_rss_mb']:,.0f} MB"
                f" (process at start {b['rss_before_mb']:,.0f} MB)",
            ),
            ("ratio (b)/(a)", f"{summary['ratio_batch_to_eval']:.2f}"),
        ]
        if tracemalloc_peak is not None:
            rows.append(("(b) tracemalloc peak", f"{tracemalloc_peak:,.1f} MB"))
        if c:
            rows += [
                (
                    f"(c) {c['workers']} workers",
                    f"{c['rate']:>10,.0f} /s   {c['seconds']:8.2f} s   peak RSS {c['peak_rss_mb']:,.0f} MB"
                    f" + {c['workers']} × {c['worker_peak_rss_mb']:,.0f} MB",
                ),
                ("ratio (c)/(a)", f"{summary['ratio_workers_to_eval']:.2f}"),
            ]
        verdict = "MET" if summary["target"]["met"] else "NOT MET"
        rows.append(("target (b)", f"≥ {TARGET_RATE:,.0f}/s and < {TARGET_RSS_MB:,.0f} MB: {verdict}"))
        if c:
            verdict = "MET" if summary["target"]["met_with_workers"] else "NOT MET"
            rows.append(("target (c)", f"same, all processes together: {verdict}"))
    rows += [
        ("verdicts", ", ".join(f"{k} {v:,}" for k, v in sorted(a["counts"].items()))),
        (
            "wall time",
            f"{summary['wall_seconds']:.1f} s (set-up {setup_seconds:.1f}, generate "
            f"{generate_seconds:.1f}, store {store_seconds:.1f})",
        ),
        ("results", str(out)),
    ]
    width = max(len(k) for k, _ in rows)
    log("\n" + "\n".join(f"{k:<{width}}  {v}" for k, v in rows))
    if missing_verdicts:
        log(f"note: no {', '.join(sorted(missing_verdicts))} verdict in this data set")
    for error in errors:
        print(f"ERROR: {error}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
