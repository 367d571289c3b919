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
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from certification.models import Certification, Program, ReviewEvent
from enterprises.models import AnnualFigures
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


def _by_county(
    queryset, county_field: str, field: str, filters: dict[int, tuple], county_paths, specs
) -> dict:
    """{target pk: count}. Each distinct filter (a metric and its window, whatever the region) is one
    Count(field, distinct) column of one query grouped by county, a query per CHUNK columns; a target's count
    is the sum over the counties of its region. Exact for distinct enterprises: an enterprise sits in one
    county. No join to the region tree and no path test per row, whatever the number of targets."""
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
    rows: list[dict] = []
    names = list(conditions)
    for start in range(0, len(names), CHUNK):
        chunk = names[start : start + CHUNK]
        found = (
            queryset.values(in_county=F(county_field))
            .annotate(**{name: Count(field, distinct=True, filter=conditions[name]) for name in chunk})
            .order_by()
        )
        if start == 0:
            rows = [dict(r) for r in found]
        else:
            extra = {r["in_county"]: r for r in found}
            for r in rows:
                r.update({name: extra.get(r["in_county"], {}).get(name, 0) for name in chunk})
    paths = county_paths()
    counts = {}
    for spec in specs:
        if spec.pk not in filters:
            continue
        column = columns[filters[spec.pk][0]]
        counts[spec.pk] = sum(
            r[column] or 0 for r in rows if paths.get(r["in_county"], "").startswith(spec.region_path)
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
    certified = {
        s.pk: (_key(s, today), _certification_filter(s, today))
        for s in specs
        if s.metric in CERTIFICATION_METRICS
    }
    if certified:
        qs = Certification.objects.filter(tenant_id=tenant_id)
        counts |= _by_county(qs, "county_id", "enterprise_id", certified, paths, specs)
    revenue = {s.pk: (_key(s, today), _revenue_filter(s, today)) for s in specs if s.metric == M.SRDI_REVENUE}
    if revenue:
        qs = Certification.objects.filter(tenant_id=tenant_id)
        counts |= _by_county(qs, "county_id", "enterprise_id", revenue, paths, specs)
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
