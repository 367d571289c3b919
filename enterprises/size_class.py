"""SME size class (大型/中型/小型/微型) by 《中小企业划型标准规定》 (工信部联企业〔2011〕300号), domain.md §2.

Industries are the rows of 300号 mapped onto GB/T 4754-2017 codes as the NBS companion
《统计上大中小微型企业划分办法（2017）》 (国统字〔2017〕213号) does. Indicators:
从业人员 X (persons), 营业收入 Y (万元) and 资产总额 Z (万元). Money is Decimal, never float.

Pure Python: no models, no database. Labels are lazy translations; the explanation
sentences are rendered in the language active when `classify()` runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext_lazy


class SizeClass(StrEnum):
    LARGE = "large"  # 大型
    MEDIUM = "medium"  # 中型
    SMALL = "small"  # 小型
    MICRO = "micro"  # 微型
    UNKNOWN = "unknown"  # cannot be determined (data missing, or not covered by 300号)

    @property
    def label(self) -> str:
        return _SIZE_LABELS[self]

    @property
    def rank(self) -> int:
        """Larger is bigger. UNKNOWN ranks lowest so that it wins `smallest_size()`: one unknown makes all unknown."""
        return _SIZE_RANKS[self]

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """For a model or form field's `choices`."""
        return [(size.value, size.label) for size in cls]


# The context keeps these apart from other "large"/"small" msgids (a font size, a file size).
_SIZE_LABELS = {
    SizeClass.LARGE: pgettext_lazy("enterprise size", "large"),
    SizeClass.MEDIUM: pgettext_lazy("enterprise size", "medium"),
    SizeClass.SMALL: pgettext_lazy("enterprise size", "small"),
    SizeClass.MICRO: pgettext_lazy("enterprise size", "micro"),
    SizeClass.UNKNOWN: pgettext_lazy("enterprise size", "unknown"),
}
_SIZE_RANKS = {
    SizeClass.UNKNOWN: 0,
    SizeClass.MICRO: 1,
    SizeClass.SMALL: 2,
    SizeClass.MEDIUM: 3,
    SizeClass.LARGE: 4,
}


def smallest_size(sizes: Iterable[SizeClass]) -> SizeClass:
    """The worst (smallest) class; UNKNOWN if any is unknown or there is none."""
    return min(sizes, key=lambda size: size.rank, default=SizeClass.UNKNOWN)


class Indicator(StrEnum):
    """The three indicators of 300号; the values are `classify()`'s parameter names."""

    EMPLOYEES = "employees"  # 从业人员 X, persons (期末从业人员 per the NBS 办法)
    REVENUE = "revenue"  # 营业收入 Y, 万元
    TOTAL_ASSETS = "total_assets"  # 资产总额 Z, 万元

    @property
    def label(self) -> str:
        return _INDICATOR_LABELS[self]

    @property
    def unit(self) -> str:
        return _INDICATOR_UNITS[self]


_INDICATOR_LABELS = {
    Indicator.EMPLOYEES: pgettext_lazy("size class indicator", "employees"),
    Indicator.REVENUE: pgettext_lazy("size class indicator", "revenue"),
    Indicator.TOTAL_ASSETS: pgettext_lazy("size class indicator", "total assets"),
}
# 万元 stays as it is in English too, as in the figures' own labels ("revenue (万元)").
_INDICATOR_UNITS = {
    Indicator.EMPLOYEES: pgettext_lazy("unit", "persons"),
    Indicator.REVENUE: "万元",
    Indicator.TOTAL_ASSETS: "万元",
}

X, Y, Z = Indicator.EMPLOYEES, Indicator.REVENUE, Indicator.TOTAL_ASSETS


@dataclass(frozen=True)
class Limits:
    """Lower limits ("及以上", so ≥) of one indicator for large, medium and small; micro is below `small`."""

    indicator: Indicator
    large: int | Decimal
    medium: int | Decimal
    small: int | Decimal

    def size_of(self, value: int | Decimal) -> SizeClass:
        if value >= self.large:
            return SizeClass.LARGE
        if value >= self.medium:
            return SizeClass.MEDIUM
        if value >= self.small:
            return SizeClass.SMALL
        return SizeClass.MICRO

    def bounds(self, size: SizeClass) -> str:
        """The interval of `size` on this indicator, e.g. "≥ 20, < 300"."""
        lower = {SizeClass.LARGE: self.large, SizeClass.MEDIUM: self.medium, SizeClass.SMALL: self.small}
        upper = {SizeClass.MEDIUM: self.large, SizeClass.SMALL: self.medium, SizeClass.MICRO: self.small}
        parts = []
        if size in lower:
            parts.append(f"≥ {lower[size]:,}")
        if size in upper:
            parts.append(f"< {upper[size]:,}")
        return ", ".join(parts)


def _people(large: int, medium: int, small: int) -> Limits:
    return Limits(X, large, medium, small)


def _money(indicator: Indicator, large: str, medium: str, small: str) -> Limits:
    return Limits(indicator, Decimal(large), Decimal(medium), Decimal(small))


@dataclass(frozen=True)
class IndustryRow:
    """One industry row of 300号 第四条, with the GB/T 4754-2017 code prefixes it covers."""

    key: str
    label: str
    # Section letter, or letter + leading 2/3 digits; the longest matching prefix wins (see industry_row()).
    scope: tuple[str, ...]
    # Empty for an industry 300号 does not classify.
    limits: tuple[Limits, ...]

    @property
    def covered(self) -> bool:
        return bool(self.limits)

    @property
    def indicators(self) -> tuple[Indicator, ...]:
        return tuple(limit.indicator for limit in self.limits)


# 300号 第四条 as tabled in domain.md §2. The "中小微型" ceiling of each row ("X < 1000 或 Y < 40000") gives the
# large lower limits: large needs every indicator at or above it. Scope per 国统字〔2017〕213号 on GB/T 4754-2017.
ROWS: tuple[IndustryRow, ...] = (
    IndustryRow(
        key="agriculture",
        # Translators: 农、林、牧、渔业
        label=pgettext_lazy("SME size class industry", "agriculture, forestry, animal husbandry and fishery"),
        scope=("A",),
        # 300号 (一): 营业收入20000万元以下的为中小微型企业; 500万元及以上中型, 50万元及以上小型.
        limits=(_money(Y, "20000", "500", "50"),),
    ),
    IndustryRow(
        key="industry",
        # Translators: 工业 (采矿业, 制造业, 电力、热力、燃气及水生产和供应业)
        label=pgettext_lazy("SME size class industry", "industry"),
        scope=("B", "C", "D"),
        limits=(_people(1000, 300, 20), _money(Y, "40000", "2000", "300")),
    ),
    IndustryRow(
        key="construction",
        # Translators: 建筑业
        label=pgettext_lazy("SME size class industry", "construction"),
        scope=("E",),
        limits=(_money(Y, "80000", "6000", "300"), _money(Z, "80000", "5000", "300")),
    ),
    IndustryRow(
        key="wholesale",
        # Translators: 批发业
        label=pgettext_lazy("SME size class industry", "wholesale"),
        scope=("F51",),
        limits=(_people(200, 20, 5), _money(Y, "40000", "5000", "1000")),
    ),
    IndustryRow(
        key="retail",
        # Translators: 零售业
        label=pgettext_lazy("SME size class industry", "retail"),
        scope=("F52",),
        limits=(_people(300, 50, 10), _money(Y, "20000", "500", "100")),
    ),
    IndustryRow(
        key="transport",
        # Translators: 交通运输业（不含铁路运输业）
        label=pgettext_lazy("SME size class industry", "transport (except railways)"),
        # 300号: 交通运输业不含铁路运输业, so G53 falls through to "other".
        scope=("G54", "G55", "G56", "G57", "G58"),
        limits=(_people(1000, 300, 20), _money(Y, "30000", "3000", "200")),
    ),
    IndustryRow(
        key="warehousing",
        # Translators: 仓储业
        label=pgettext_lazy("SME size class industry", "warehousing"),
        scope=("G59",),
        limits=(_people(200, 100, 20), _money(Y, "30000", "1000", "100")),
    ),
    IndustryRow(
        key="postal",
        # Translators: 邮政业
        label=pgettext_lazy("SME size class industry", "postal services"),
        scope=("G60",),
        limits=(_people(1000, 300, 20), _money(Y, "30000", "2000", "100")),
    ),
    IndustryRow(
        key="accommodation",
        # Translators: 住宿业
        label=pgettext_lazy("SME size class industry", "accommodation"),
        scope=("H61",),
        limits=(_people(300, 100, 10), _money(Y, "10000", "2000", "100")),
    ),
    IndustryRow(
        key="catering",
        # Translators: 餐饮业
        label=pgettext_lazy("SME size class industry", "catering"),
        scope=("H62",),
        limits=(_people(300, 100, 10), _money(Y, "10000", "2000", "100")),
    ),
    IndustryRow(
        key="information_transmission",
        # Translators: 信息传输业
        label=pgettext_lazy("SME size class industry", "information transmission"),
        scope=("I63", "I64"),
        # The large revenue limit is 100000万元 (one public implementation has 10000: a bug, domain.md §2).
        limits=(_people(2000, 100, 10), _money(Y, "100000", "1000", "100")),
    ),
    IndustryRow(
        key="software",
        # Translators: 软件和信息技术服务业
        label=pgettext_lazy("SME size class industry", "software and information technology services"),
        scope=("I65",),
        limits=(_people(300, 100, 10), _money(Y, "10000", "1000", "50")),
    ),
    IndustryRow(
        key="real_estate_development",
        # Translators: 房地产开发经营
        label=pgettext_lazy("SME size class industry", "real estate development"),
        scope=("K701",),
        limits=(_money(Y, "200000", "1000", "100"), _money(Z, "10000", "5000", "2000")),
    ),
    IndustryRow(
        key="property_management",
        # Translators: 物业管理
        label=pgettext_lazy("SME size class industry", "property management"),
        scope=("K702",),
        limits=(_people(1000, 300, 100), _money(Y, "5000", "1000", "500")),
    ),
    IndustryRow(
        key="leasing_business_services",
        # Translators: 租赁和商务服务业
        label=pgettext_lazy("SME size class industry", "leasing and business services"),
        scope=("L",),
        limits=(_people(300, 100, 10), _money(Z, "120000", "8000", "100")),
    ),
    IndustryRow(
        key="other",
        # Translators: 其他未列明行业
        label=pgettext_lazy("SME size class industry", "other industries not listed"),
        # Everything no other row claims: M, N, O, P, Q, R, S, T, G53 铁路, K703/K704/K709 …
        scope=(),
        limits=(_people(300, 100, 10),),
    ),
    IndustryRow(
        key="finance",
        # Translators: 金融业
        label=pgettext_lazy("SME size class industry", "finance"),
        # Not a row of 300号: 金融业 has its own 《金融业企业划型标准规定》 (银发〔2015〕309号).
        scope=("J",),
        limits=(),
    ),
)
ROWS_BY_KEY = {row.key: row for row in ROWS}
OTHER = ROWS_BY_KEY["other"]

# GB/T 4754-2017: each 门类 owns a fixed range of 大类 (01–97).
# fmt: off
_DIVISIONS = {
    "A": (1, 5), "B": (6, 12), "C": (13, 43), "D": (44, 46), "E": (47, 50), "F": (51, 52), "G": (53, 60),
    "H": (61, 62), "I": (63, 65), "J": (66, 69), "K": (70, 70), "L": (71, 72), "M": (73, 75), "N": (76, 79),
    "O": (80, 82), "P": (83, 83), "Q": (84, 85), "R": (86, 90), "S": (91, 96), "T": (97, 97),
}
# fmt: on
_CODE = re.compile(r"[A-T](?:\d{2}|\d{3}|\d{4})?")


class IndustryCodeTooCoarse(ValueError):
    """A well-formed code whose industries fall into more than one row (e.g. "F": 批发 or 零售)."""

    def __init__(self, code: str, rows: list[IndustryRow]):
        self.code = code
        self.rows = rows
        super().__init__(
            f"industry code {code} spans several size-class rows: {', '.join(r.key for r in rows)}"
        )


def _validate_code(industry_code: str) -> None:
    if not isinstance(industry_code, str) or not _CODE.fullmatch(industry_code):
        raise ValueError(f"not a GB/T 4754-2017 code (letter + 2, 3 or 4 digits): {industry_code!r}")
    if len(industry_code) > 1:
        first, last = _DIVISIONS[industry_code[0]]
        if not first <= int(industry_code[1:3]) <= last:
            raise ValueError(
                f"division {industry_code[1:3]} is not in section {industry_code[0]}: {industry_code!r}"
            )


def industry_row(industry_code: str) -> IndustryRow:
    """The 300号 row of a GB/T 4754-2017 code: "C", "C34", "C348" or "C3484".

    The longest scope prefix wins ("K7010" → 房地产开发经营, other K → 其他未列明); a code no row
    claims is 其他未列明行业. Raises ValueError for a malformed code and IndustryCodeTooCoarse
    (a ValueError) when the code is too short to pick one row ("F", "G", "K70").
    """
    _validate_code(industry_code)
    best, best_length = OTHER, 0
    for row in ROWS:
        for prefix in row.scope:
            if industry_code.startswith(prefix) and len(prefix) > best_length:
                best, best_length = row, len(prefix)
    # A code shorter than some row's prefix may still belong to that row: "K70" may be 7010 or 7030.
    finer = [
        row
        for row in ROWS
        if any(prefix.startswith(industry_code) and len(prefix) > len(industry_code) for prefix in row.scope)
    ]
    if all(row is best for row in finer):
        return best
    if len(industry_code) == 1:
        # A bare section: the rows of its divisions ("F" is 批发 or 零售, never 其他未列明).
        first, last = _DIVISIONS[industry_code]
        candidates = [row for d in range(first, last + 1) for row in _rows_under(f"{industry_code}{d:02d}")]
    else:
        candidates = [best, *finer]
    raise IndustryCodeTooCoarse(industry_code, [row for row in ROWS if row in candidates])


def _rows_under(industry_code: str) -> list[IndustryRow]:
    try:
        return [industry_row(industry_code)]
    except IndustryCodeTooCoarse as coarse:
        return coarse.rows


@dataclass(frozen=True)
class IndicatorClass:
    """The class one indicator alone would give."""

    indicator: Indicator
    value: int | Decimal
    size: SizeClass
    threshold: str  # the interval of `size` on this indicator, e.g. "≥ 20, < 300"


@dataclass(frozen=True)
class SizeClassResult:
    size: SizeClass
    industry_code: str | None
    row_key: str | None  # None when no row could be picked (no code, or a code too coarse)
    row_label: str | None
    per_indicator: list[IndicatorClass] = field(default_factory=list)
    missing: list[str] = field(
        default_factory=list
    )  # parameter names of classify() that were needed but None
    explanation: list[str] = field(default_factory=list)


def _check_value(name: str, value: object, *, money: bool) -> None:
    if money:
        # Never float: 0.1 + 0.2 ≠ 0.3 has no place next to a legal limit.
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"{name} must be a Decimal (万元), not {type(value).__name__}")
        if isinstance(value, Decimal) and not value.is_finite():
            raise ValueError(f"{name} must be a finite number: {value}")
    elif isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int (persons), not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{name} must not be negative: {value}")


def classify(
    *,
    industry_code: str | None,
    employees: int | None,
    revenue: Decimal | None,
    total_assets: Decimal | None,
) -> SizeClassResult:
    """Size class of an enterprise; money in 万元.

    UNKNOWN when the industry code is missing or too coarse, when an indicator the row needs
    is None (listed in `missing`), or for 金融业. Raises ValueError for a malformed code or a
    negative value, TypeError for a float.
    """
    values: dict[Indicator, int | Decimal | None] = {X: employees, Y: revenue, Z: total_assets}
    for indicator, value in values.items():
        if value is not None:
            _check_value(indicator.value, value, money=indicator is not X)

    if industry_code is None:
        return SizeClassResult(
            size=SizeClass.UNKNOWN,
            industry_code=None,
            row_key=None,
            row_label=None,
            missing=["industry_code"],
            explanation=[gettext("No industry code: the size class cannot be determined without it.")],
        )
    try:
        row = industry_row(industry_code)
    except IndustryCodeTooCoarse as coarse:
        return SizeClassResult(
            size=SizeClass.UNKNOWN,
            industry_code=industry_code,
            row_key=None,
            row_label=None,
            explanation=[
                gettext(
                    "Industry code %(code)s is too coarse: it may belong to %(rows)s, whose limits differ. "
                    "Record a more specific industry code."
                )
                % {"code": industry_code, "rows": ", ".join(str(r.label) for r in coarse.rows)}
            ],
        )

    explanation = [gettext("Industry: %(row)s (%(code)s).") % {"row": row.label, "code": industry_code}]
    if not row.covered:
        explanation.append(
            gettext(
                "Financial enterprises are classified by their own standard (Yinfa [2015] No. 309), "
                "not by Circular No. 300 of 2011; the size class is not determined here."
            )
        )
        return SizeClassResult(
            size=SizeClass.UNKNOWN,
            industry_code=industry_code,
            row_key=row.key,
            row_label=row.label,
            explanation=explanation,
        )

    per_indicator: list[IndicatorClass] = []
    missing: list[str] = []
    for limits in row.limits:
        value = values[limits.indicator]
        if value is None:
            missing.append(limits.indicator.value)
            continue
        size = limits.size_of(value)
        per_indicator.append(IndicatorClass(limits.indicator, value, size, limits.bounds(size)))
        explanation.append(
            gettext("%(indicator)s %(value)s %(unit)s: %(size)s (%(bounds)s).")
            % {
                "indicator": capfirst(limits.indicator.label),
                "value": f"{value:,}",
                "unit": limits.indicator.unit,
                "size": size.label,
                "bounds": limits.bounds(size),
            }
        )

    if missing:
        # A known micro indicator would settle it (微型 needs only one), but the portal asks for every
        # indicator before it shows a class, so a gap is reported rather than worked around.
        explanation.append(
            gettext("Missing: %(indicators)s. The size class cannot be determined without them.")
            % {"indicators": ", ".join(str(Indicator(name).label) for name in missing)}
        )
        size = SizeClass.UNKNOWN
    else:
        # 300号 / 国统字〔2017〕213号: "大型、中型和小型企业须同时满足所列指标的下限，否则下划一档；
        # 微型企业只须满足所列指标中的一项即可". Dropping one class at a time until every indicator meets
        # the limits ends at the smallest per-indicator class, so take that.
        size = smallest_size(item.size for item in per_indicator)
        explanation.append(
            gettext(
                "Result: %(size)s — the smallest class over the indicators (Circular No. 300 of 2011: "
                "every indicator must meet the class's lower limit, otherwise one class down)."
            )
            % {"size": size.label}
        )
    return SizeClassResult(
        size=size,
        industry_code=industry_code,
        row_key=row.key,
        row_label=row.label,
        per_indicator=per_indicator,
        missing=missing,
        explanation=explanation,
    )


def can_apply(result: SizeClassResult) -> bool:
    """Only 中小企业 (medium, small, micro) may apply; a large enterprise may register but not apply."""
    return result.size in (SizeClass.MEDIUM, SizeClass.SMALL, SizeClass.MICRO)


_row_cache: dict[str, IndustryRow | None] = {}


def size_of(
    *,
    industry_code: str | None,
    employees: int | None,
    revenue: Decimal | None,
    total_assets: Decimal | None,
) -> SizeClass:
    """The size class alone, with no explanation: what the screening engine needs, many times a second.

    Same rules as `classify` (which the tests pin); UNKNOWN wherever `classify` gives UNKNOWN.
    """
    if industry_code is None:
        return SizeClass.UNKNOWN
    if industry_code not in _row_cache:
        try:
            _row_cache[industry_code] = industry_row(industry_code)
        except ValueError:  # malformed or too coarse
            _row_cache[industry_code] = None
    row = _row_cache[industry_code]
    if row is None or not row.covered:
        return SizeClass.UNKNOWN
    values = {X: employees, Y: revenue, Z: total_assets}
    sizes = []
    for limits in row.limits:
        value = values[limits.indicator]
        if value is None or value < 0:
            return SizeClass.UNKNOWN
        sizes.append(limits.size_of(value))
    return smallest_size(sizes)
