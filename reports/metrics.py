"""The metric vocabulary of targets: what each metric counts, counted in SQL, and the pace arithmetic.

Every metric counts rows of the target's region and below (Region.path prefix), each enterprise (or, for
`recommended`, each application) once:

- `innovative`, `srdi`, `little_giant`: enterprises holding a certification published in this portal of a
  programme of that tier (certification.Program.Tier).
- `srdi_all`: tiers `srdi` and `little_giant` together: every SRDI enterprise the portal certifies (seed 003:
  “专精特新企业达到2500家，其中省专精特新中小企业达到500家”). A city's own list (tier `other`) is counted by
  the `programme` metric instead.
- `programme`: the target's programme.
- `srdi_revenue_1e8`: the enterprises `srdi_all` counts whose main-business revenue in the last complete
  fiscal year (`_y1` of design.md: the year before the day the target is measured) is above 10,000 万元
  (seed 000: “主营业务收入1亿元以上的‘行业小巨人’10家”). An enterprise without figures for that year, or
  with the revenue left blank, is not counted: unknown is not above.
- `national_little_giant`, `single_champion`: funding.ExternalCertification rows (the national list and the
  single champions are decided outside the portal and recorded by funding officers), by `certified_on`.
- `recommended`: applications that the officials of the target's own region recommended to the next level
  (certification.ReviewEvent, action “recommend”, at that region), by the day of the recommendation (seed 002:
  “各市州……每年推荐省级‘专精特新’培育企业不少于20户”).
- `recommended_national`, `demonstration`, `listed`: reports.Designation rows of that kind, by `on`.

When. Without `counts_from` a target counts a stock on its deadline: certifications in force (while the
deadline is ahead: status active today; once it has passed: issued by the deadline, not yet expired and not
revoked on it), rows dated on or before the deadline. With `counts_from` it counts a flow: certifications
issued from `counts_from` to the deadline (and not revoked since: a revocation for false information
undoes the certification), rows dated in that window (a yearly target: 1 January to 31 December).

How. A tier metric counting a stock whose deadline is ahead (the common target: "N 专精特新 by 2027") is
counted from Enterprise.tiers_in_force, the tiers of each enterprise's certifications in force, which
certification.directory_cache keeps with every change of a certification: one row per enterprise, so no
DISTINCT. The others count distinct enterprises over the rows of their window.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certification.models import Certification, Program, ReviewEvent
from enterprises.models import AnnualFigures, Enterprise
from funding.models import AwardLevel, ExternalCertification
from reports.models import Designation, Target

M = Target.Metric
T = Program.Tier

# seed 000 一、（三）: “主营业务收入1亿元以上” — 1亿元 is 10,000 万元, the unit of AnnualFigures.
REVENUE_THRESHOLD_WAN = Decimal("10000")

TIERS = {
    M.INNOVATIVE: (T.INNOVATIVE,),
    M.SRDI: (T.SRDI,),
    M.LITTLE_GIANT: (T.LITTLE_GIANT,),
    M.SRDI_ALL: (T.SRDI, T.LITTLE_GIANT),
    M.SRDI_REVENUE: (T.SRDI, T.LITTLE_GIANT),
}
EXTERNAL_LEVELS = {
    M.NATIONAL_LITTLE_GIANT: (AwardLevel.LITTLE_GIANT_NATIONAL,),
    M.SINGLE_CHAMPION: (AwardLevel.CHAMPION_ENTERPRISE, AwardLevel.CHAMPION_PRODUCT),
}
DESIGNATIONS = {
    M.RECOMMENDED_NATIONAL: Designation.Kind.RECOMMENDED_NATIONAL,
    M.DEMONSTRATION: Designation.Kind.DEMONSTRATION,
    M.LISTED: Designation.Kind.LISTED,
}
CERTIFICATION_METRICS = frozenset({*TIERS, M.PROGRAMME}) - {M.SRDI_REVENUE}

# What the targets page says about each metric (the definitions above, one line each).
DEFINITIONS = {
    M.INNOVATIVE: _("Enterprises holding a certification of an innovative-SME programme."),
    M.SRDI: _("Enterprises holding a certification of an SRDI programme (专精特新中小企业)."),
    M.LITTLE_GIANT: _("Enterprises holding a certification of a provincial little-giant programme."),
    M.SRDI_ALL: _("Enterprises holding a certification of an SRDI or a provincial little-giant programme."),
    M.PROGRAMME: _("Enterprises holding a certification of the chosen programme."),
    M.SRDI_REVENUE: _(
        "SRDI or little-giant enterprises whose main-business revenue in the last complete fiscal year is "
        "above 10,000 万元 (1亿元)."
    ),
    M.NATIONAL_LITTLE_GIANT: _(
        "Enterprises on the national little-giant list, as funding officers record it."
    ),
    M.SINGLE_CHAMPION: _("Single champion enterprises or products, as funding officers record them."),
    M.RECOMMENDED: _(
        "Applications that the officials of the target's own region recommended to the next level."
    ),
    M.RECOMMENDED_NATIONAL: _("Enterprises recorded as recommended to the national little-giant list."),
    M.DEMONSTRATION: _("Enterprises recorded as demonstration enterprises."),
    M.LISTED: _("Enterprises recorded as listed companies."),
}

# Aggregates per query: SQLite accepts a few hundred, and one target's filter carries about six parameters.
CHUNK = 60


@dataclass(frozen=True)
class TargetSpec:
    """What counting needs of a target: plain values, so that a cached dashboard can hold them."""

    pk: int
    metric: str
    region_id: int
    region_path: str
    program_id: int | None
    deadline: date
    counts_from: date | None

    @classmethod
    def of(cls, target: Target) -> TargetSpec:
        return cls(
            pk=target.pk,
            metric=target.metric,
            region_id=target.region_id,
            region_path=target.region.path,
            program_id=target.program_id,
            deadline=target.deadline,
            counts_from=target.counts_from,
        )


def _day_end(day: date) -> datetime:
    """The first moment after `day` in the portal's time zone: datetimes before it fall on or before it."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _certification_window(spec: TargetSpec, today: date) -> Q:
    if spec.counts_from is not None:
        return Q(issued_on__gte=spec.counts_from, issued_on__lte=spec.deadline) & ~Q(
            status=Certification.Status.REVOKED
        )
    if spec.deadline >= today:
        return Q(status=Certification.Status.ACTIVE)
    # In force on a past deadline: issued by then, not yet expired, not revoked on or before it.
    return Q(issued_on__lte=spec.deadline, valid_until__gt=spec.deadline) & ~Q(
        revocation__revoked_on__lte=spec.deadline
    )


def _dated_window(field: str, spec: TargetSpec) -> Q:
    q = Q(**{f"{field}__lte": spec.deadline})
    if spec.counts_from is not None:
        q &= Q(**{f"{field}__gte": spec.counts_from})
    return q


def _certification_filter(spec: TargetSpec, today: date) -> Q:
    q = _certification_window(spec, today)
    if spec.metric == M.PROGRAMME:
        return q & Q(program_id=spec.program_id)
    return q & Q(program__tier__in=TIERS[spec.metric])


def revenue_year(spec: TargetSpec, today: date) -> int:
    """The fiscal year whose main-business revenue counts: the last complete one on the day the target is
    measured (today, or its deadline once passed), `_y1` of the facts vocabulary (design.md)."""
    return min(today, spec.deadline).year - 1


def _revenue_filter(spec: TargetSpec, today: date) -> Q:
    above = AnnualFigures.objects.filter(
        fiscal_year=revenue_year(spec, today), main_business_revenue__gt=REVENUE_THRESHOLD_WAN
    ).values("enterprise_id")
    return _certification_filter(spec, today) & Q(enterprise_id__in=above)


def _counts_in_force(spec: TargetSpec, today: date) -> bool:
    """A tier metric counting a stock whose deadline is ahead: the enterprises holding a certification of
    the tier in force today."""
    return spec.metric in TIERS and spec.counts_from is None and spec.deadline >= today


def _in_force_by_county(tenant_id: int, specs: list[TargetSpec], today: date, county_paths) -> dict[int, int]:
    """{target pk: count} of the targets `_counts_in_force` takes: the tenant's enterprises in force grouped
    by county and Enterprise.tiers_in_force (which certification.directory_cache keeps with every change of a
    certification), and by "revenue above the line" when a revenue target asks, from the partial index
    enterprise_tiers_in_force; a target adds up the groups of its counties holding one of its tiers. One row
    per enterprise: no DISTINCT over the certifications (bench/dashboard.py: with the other certification
    metrics, ~140 ms of the provincial dashboard became ~40 ms), and a few hundred groups whatever the number
    of enterprises."""
    enterprises = Enterprise.objects.filter(tenant_id=tenant_id, directory_listed=True)
    revenue = [s for s in specs if s.metric == M.SRDI_REVENUE]
    if revenue:
        # Every such target measures today (its deadline is ahead): one fiscal year for all of them.
        above = AnnualFigures.objects.filter(
            fiscal_year=revenue_year(revenue[0], today), main_business_revenue__gt=REVENUE_THRESHOLD_WAN
        ).values("enterprise_id")
        enterprises = enterprises.annotate(
            above=ExpressionWrapper(Q(pk__in=above), output_field=BooleanField())
        )
    else:
        enterprises = enterprises.annotate(above=Value(False))
    groups = [
        (row["county_id"], set(row["tiers_in_force"].strip("|").split("|")), row["above"], row["n"])
        for row in enterprises.order_by()
        .values("county_id", "tiers_in_force", "above")
        .annotate(n=Count("pk"))
    ]
    paths = county_paths()
    return {
        spec.pk: sum(
            n
            for county, tiers, above, n in groups
            if tiers & set(TIERS[spec.metric])
            and (above or spec.metric != M.SRDI_REVENUE)
            and paths.get(county, "").startswith(spec.region_path)
        )
        for spec in specs
    }


def _by_county(
    queryset, county_field: str, field: str, filters: dict[int, tuple], county_paths, specs
) -> dict:
    """{target pk: count}. Each distinct filter (a metric and its window, whatever the region) is one column;
    a target's count is the sum over the counties of its region. Exact for distinct enterprises: an enterprise
    sits in one county. No join to the region tree and no path test per row, whatever the number of targets.

    Counted in two steps in one query, a query per CHUNK columns: the rows are grouped by (county, `field`)
    with a 0/1 flag per column (does any row of this enterprise meet the filter?), then the flags are added up
    per county. One hash aggregate over the rows, where COUNT(DISTINCT …) FILTER (…) per column sorts the
    rows once per column (PostgreSQL)."""
    columns: dict[tuple, str] = {}
    conditions: dict[str, Q] = {}
    for key, q in filters.values():
        if key not in columns:
            columns[key] = f"c{len(columns)}"
            conditions[columns[key]] = q
    # Rows no column counts are left out in WHERE, so that the database reads only what it aggregates.
    wanted = Q()
    for q in conditions.values():
        wanted |= q
    queryset = queryset.filter(wanted)
    names = list(conditions)
    per_county: dict[int, dict[str, int]] = {}
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        flags = (
            queryset.values(in_county=F(county_field), who=F(field))
            .annotate(
                **{
                    name: Max(Case(When(conditions[name], then=1), default=0, output_field=IntegerField()))
                    for name in chunk
                }
            )
            .order_by()
        )
        sql, params = flags.query.sql_with_params()
        qn = connection.ops.quote_name
        sums = ", ".join(f"SUM({qn(name)})" for name in chunk)
        with connection.cursor() as cursor:
            cursor.execute(
                # quoted column names and Django's own compiled SQL; the values stay parameters
                f"SELECT {qn('in_county')}, {sums} FROM ({sql}) per_enterprise GROUP BY {qn('in_county')}",  # noqa: S608
                params,
            )
            for county, *values in cursor.fetchall():
                per_county.setdefault(county, {}).update(zip(chunk, values, strict=True))
    paths = county_paths()
    counts = {}
    for spec in specs:
        if spec.pk not in filters:
            continue
        column = columns[filters[spec.pk][0]]
        counts[spec.pk] = sum(
            int(found.get(column) or 0)
            for county, found in per_county.items()
            if paths.get(county, "").startswith(spec.region_path)
        )
    return counts


def _key(spec: TargetSpec, today: date) -> tuple:
    """What makes two targets count the same rows but for the region."""
    past = spec.counts_from is None and spec.deadline < today
    return (
        spec.metric,
        spec.program_id,
        spec.counts_from,
        spec.deadline if (spec.counts_from or past) else None,
    )


def target_counts(
    tenant_id: int, specs: Iterable[TargetSpec], today: date, *, county_paths: dict[int, str] | None = None
) -> dict[int, int]:
    """The count of every target, in SQL: one query per family of metrics present (and per CHUNK distinct
    windows), grouped by county, whatever the number of rows, regions or targets. `county_paths` ({county pk:
    Region.path}) saves the query that reads them when the caller has them."""
    from portal.models import Region

    specs = list(specs)
    loaded: dict[int, str] = {}

    def paths() -> dict[int, str]:
        if county_paths is not None:
            return county_paths
        if not loaded:
            loaded.update(
                Region.objects.filter(tenant_id=tenant_id, level=Region.Level.COUNTY).values_list(
                    "pk", "path"
                )
            )
        return loaded

    counts: dict[int, int] = {}
    # Enterprises in force of a tier today (a stock whose deadline is ahead): one row per enterprise.
    in_force_now = [s for s in specs if _counts_in_force(s, today)]
    if in_force_now:
        counts |= _in_force_by_county(tenant_id, in_force_now, today, paths)
    # The other certification metrics and revenue (certifications of enterprises with figures above the
    # line): one query. Under the OR of the columns' filters the revenue test stays a hashed subplan, read
    # once; alone, PostgreSQL made it a semi-join probing the figures' index once per certification.
    certified = {
        s.pk: (_key(s, today), _certification_filter(s, today))
        for s in specs
        if s.metric in CERTIFICATION_METRICS and s.pk not in counts
    } | {
        s.pk: (_key(s, today), _revenue_filter(s, today))
        for s in specs
        if s.metric == M.SRDI_REVENUE and s.pk not in counts
    }
    if certified:
        qs = Certification.objects.filter(tenant_id=tenant_id)
        counts |= _by_county(qs, "county_id", "enterprise_id", certified, paths, specs)
    external = {
        s.pk: (_key(s, today), Q(level__in=EXTERNAL_LEVELS[s.metric]) & _dated_window("certified_on", s))
        for s in specs
        if s.metric in EXTERNAL_LEVELS
    }
    if external:
        qs = ExternalCertification.objects.filter(tenant_id=tenant_id)
        counts |= _by_county(qs, "enterprise__county_id", "enterprise_id", external, paths, specs)
    designated = {
        s.pk: (_key(s, today), Q(kind=DESIGNATIONS[s.metric]) & _dated_window("on", s))
        for s in specs
        if s.metric in DESIGNATIONS
    }
    if designated:
        qs = Designation.objects.filter(tenant_id=tenant_id)
        counts |= _by_county(qs, "enterprise__county_id", "enterprise_id", designated, paths, specs)
    # Recommendations are counted at the target's own region (the level that recommends), not below it.
    recommended = {}
    for s in specs:
        if s.metric != M.RECOMMENDED:
            continue
        q = Q(region_id=s.region_id, created_at__lt=_day_end(s.deadline))
        if s.counts_from is not None:
            q &= Q(created_at__gte=_day_end(s.counts_from - timedelta(days=1)))
        recommended[s.pk] = q
    items = list(recommended.items())
    events = ReviewEvent.objects.filter(application__tenant_id=tenant_id, action="recommend")
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        row = events.aggregate(
            **{f"t{pk}": Count("application_id", distinct=True, filter=q) for pk, q in chunk}
        )
        counts.update({pk: row[f"t{pk}"] or 0 for pk, _q in chunk})
    return counts


# --- progress and pace ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """A target's standing on `today`: the count against the value, what remains, and the pace needed."""

    value: int
    count: int
    deadline: date
    today: date

    @property
    def remaining(self) -> int:
        return max(self.value - self.count, 0)

    @property
    def percent(self) -> Decimal:
        """count / value in per cent, one decimal (may pass 100)."""
        return (Decimal(self.count) * 100 / Decimal(self.value)).quantize(Decimal("0.1"), ROUND_HALF_UP)

    @property
    def days_left(self) -> int:
        """Days from today to the deadline, both counted: 1 on the deadline itself, 0 or less after it."""
        return (self.deadline - self.today).days + 1

    @property
    def pace_per_year(self) -> int | None:
        """Enterprises a year needed to close the gap by the deadline, rounded up: remaining × 365 / days
        left. None once the deadline has passed; 0 when the target is met."""
        if self.remaining == 0:
            return 0
        if self.days_left <= 0:
            return None
        return -(-self.remaining * 365 // self.days_left)

    @property
    def status(self) -> str:
        if self.remaining == 0:
            return "met"
        return "missed" if self.days_left <= 0 else "open"


STATUS_LABELS = {"met": _("met"), "missed": _("missed"), "open": _("in progress")}
