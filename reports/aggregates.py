"""The numbers of a region's dashboard, computed in SQL and cached.

Everything is counted by the database (values() + annotate(Count/Sum) with filters, aggregate()), scoped to
the region's subtree: its regions are read once by Region.path prefix (`Scope`), the rows are grouped by their
county (or the region they wait at) and those groups are added up per child region. Python only adds up and
relabels aggregated groups (at most a few thousand), never loops over enterprises, applications or
certifications. The query count is constant: it grows with neither the rows nor the number of child regions
(targets: one query per family of metrics, reports.metrics).

What is counted (the dashboard's page says the same to its readers):

- funnel: applications to the rounds of the year (Round.year), by state; the waiting ones (submitted, under
  review) by the level they wait at; by the applicant's county.
- certified: enterprises holding a certification in force (status active), each once: in all, by programme
  and by child region (from Enterprise.directory_listed, which certification.directory_cache keeps for the
  public directory: “holds a certification in force”); “new” are those certified in the year (not revoked
  since). Certifications in force by
  industry section (GB/T 4754 门类, the first letter of the class) and by the year of issue: an enterprise in
  two programmes counts twice there, once per certification.
- targets: the targets recorded for the region and the regions below it, counted by reports.metrics.
- quotas: the quotas of the rounds of the year set for the region or below: used (QuotaUse), maximum,
  minimum and shortfall (what workflow.quota_status shows for one round).
- overdue reviews: applications waiting at a region of the subtree whose stage deadline (RoundStage of the
  round and the level) has passed.
- expiring: certifications in force whose validity ends within 90 days from today.
- warnings: monitoring warnings not resolved.
- overdue visits: certified enterprises whose commissioner, assigned more than the tenant's visit interval
  ago, has not visited within it (certification.commissioners coverage, “overdue”).
- awards: entitlements of the subtree's enterprises, whoever pays: approved (budget committed, paid ones
  included) and paid, for budgets of the year; those waiting for review now. Budgets: the budgets of the
  year of the policies the subtree's regions pay.

Cached per (tenant, region, year, day), the numbers carrying the tenant's generation number they were counted
in; the post_save and post_delete signals of the rows behind them bump it (reports/apps.py) after their
transaction commits, so numbers of an older generation are not current. Bulk updates bypass signals: the daily
job's hook bumps every tenant (`daily_bump`), and the day in the key starts afresh every morning.

Who counts (bench/dashboard.py measures each case): after a change, the Celery worker, for every dashboard
looked at in the last hour (`refresh_soon`), while pages show the numbers counted before the change, marked as
being updated, for at most STALE_FOR seconds (`_while_counting`); overnight, the worker again, for the new day,
every dashboard looked at in the last week (`refresh_overnight`); the page itself only when none of that
applies (in-process tasks, a dashboard nobody opened this week, a worker far behind).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

from django.core.cache import cache
from django.db import transaction
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast, Coalesce, Substr
from django.utils import timezone

from certification.lifecycle import lifecycle_settings
from certification.models import (
    Application,
    Certification,
    CommissionerAssignment,
    MonitoringWarning,
    Program,
    QuotaUse,
    Round,
    RoundQuota,
    RoundStage,
    Visit,
)
from enterprises.models import Enterprise, Industry
from funding.models import Budget, Entitlement
from portal.models import Region, Tenant
from reports.metrics import TargetSpec, target_counts
from reports.models import Target

logger = logging.getLogger(__name__)

CODE_SEGMENT = 7  # "520102/": one level of Region.path
EXPIRY_DAYS = 90
# Overdue reviews: beyond this many late (round, level) pairs, one EXISTS per waiting application instead.
MAX_STAGE_PAIRS = 200
# One entry per dashboard and day, overwritten by every count (its generation inside): the day in the key ends it.
TTL = 26 * 3600
ZERO = Decimal("0.00")

S = Application.State
CS = Certification.Status
ES = Entitlement.State

# The funnel's stages in the order an application moves through them: (key, state, level of waiting).
FUNNEL = [
    ("draft", S.DRAFT, None),
    ("county", None, "county"),
    ("prefecture", None, "prefecture"),
    ("province", None, "province"),
    ("returned", S.RETURNED, None),
    ("approved", S.APPROVED, None),
    ("in_notice", S.IN_NOTICE, None),
    ("published", S.PUBLISHED, None),
    ("rejected", S.REJECTED, None),
    ("withdrawn", S.WITHDRAWN, None),
]


# --- cache and invalidation -------------------------------------------------------------------------


def _generation_key(tenant_id: int) -> str:
    return f"reports-generation:{tenant_id}"


def generation(tenant_id: int) -> int:
    return cache.get_or_set(_generation_key(tenant_id), _first_generation, None)


def _first_generation() -> int:
    """A tenant's generation when the cache has none (new, or evicted): the time in milliseconds, past every
    generation it had before, so that numbers counted before an eviction are never taken for current ones."""
    return int(time.time() * 1000)


def bump(tenant_id: int) -> None:
    """Forget every cached dashboard of a tenant (a new generation; old keys expire on their own), note when
    (for `_while_counting`), and have the worker count again the dashboards people look at (`refresh_soon`)."""
    key = _generation_key(tenant_id)
    new = _first_generation()
    if not cache.add(key, new, None):
        try:
            new = cache.incr(key)
        except ValueError:  # evicted between add and incr
            cache.set(key, new, None)
    cache.set(_changed_key(tenant_id, new), _clock(), STALE_FOR * 2)
    refresh_soon(tenant_id)


def _clock() -> float:
    """Seconds (time.time), a function of its own so that a test can move it."""
    return time.time()


def _changed_key(tenant_id: int, generation_: int) -> str:
    """When the tenant's numbers moved to this generation (the change that ended the one before)."""
    return f"reports-changed:{tenant_id}:{generation_}"


# --- refresh ahead --------------------------------------------------------------------------------------
# Counting a province again takes a few hundred milliseconds of the database (bench/dashboard.py, "cold").
# Rather than make the next official to open the page wait for it, a change has the worker count again, a
# moment later, every dashboard of the tenant that was looked at in the last hour; the page then reads the
# new generation from the cache. A page opened before the worker is done shows the numbers counted before the
# change, marked (`_while_counting`). A burst of changes (a bulk recommendation) is counted once.
REFRESH_DELAY = 2  # seconds
# While the worker counts again after a change, a page shows the numbers counted before it (stale while
# revalidate), marked as being updated — for at most this many seconds after the first change they miss. Past
# that (no worker, or a worker far behind) the page counts for itself.
STALE_FOR = 30  # seconds
# After a change, dashboards not looked at for an hour are left to the next visitor.
VIEWED_FOR = 3600  # seconds
# Overnight (the daily job, certification.lifecycle): every dashboard looked at in the last week is counted for the
# new day, so that the morning's first official does not wait for the database either.
KEPT_FOR = 7 * 86400
SEEN_EVERY = 300  # seconds: how often a warm view renews its place on the list


def _viewed_key(tenant_id: int) -> str:
    return f"reports-viewed:{tenant_id}"


def _seen(tenant_id: int, region_id: int, year: int) -> None:
    """Put a dashboard on the tenant's list of dashboards in use (one cache round trip when it is there)."""
    if not cache.add(f"reports-seen:{tenant_id}:{region_id}:{year}", 1, SEEN_EVERY):
        return
    now = time.time()
    viewed = {k: at for k, at in (cache.get(_viewed_key(tenant_id)) or {}).items() if at >= now - KEPT_FOR}
    viewed[(region_id, year)] = now
    cache.set(_viewed_key(tenant_id), viewed, KEPT_FOR)


def refresh_soon(tenant_id: int) -> None:
    """After a commit: the worker counts the tenant's dashboards in use again in REFRESH_DELAY seconds.

    Not with in-process tasks (the embedded default, unit tests): there the next visitor counts, as the task
    would run inside the request that made the change."""
    from celery import current_app

    if current_app.conf.task_always_eager or not cache.get(_viewed_key(tenant_id)):
        return
    if not cache.add(f"reports-refresh:{tenant_id}", 1, REFRESH_DELAY):
        return  # one is already on its way and will read this change too
    from reports.tasks import refresh_dashboards

    try:
        refresh_dashboards.apply_async((tenant_id,), countdown=REFRESH_DELAY)
    except Exception:  # noqa: BLE001 - the broker is down: the next visitor counts, nothing is lost
        logger.warning("dashboard refresh of tenant %s not queued", tenant_id, exc_info=True)


def refresh(tenant_id: int, *, today: date | None = None, within: int = VIEWED_FOR) -> int:
    """Count again the dashboards of the tenant looked at in the last `within` seconds (an hour after a change,
    a week overnight) whose numbers are not of the current generation. Returns how many were counted."""
    today = today or timezone.localdate()
    viewed = cache.get(_viewed_key(tenant_id)) or {}
    cutoff = time.time() - within
    wanted = {(region_id, year) for (region_id, year), at in viewed.items() if at >= cutoff}
    if not wanted:
        return 0
    tenant = Tenant.objects.get(pk=tenant_id)
    regions = Region.objects.in_bulk([region_id for region_id, _year in wanted])
    counted = 0
    for region_id, year in sorted(wanted):
        region = regions.get(region_id)
        if region is None:
            continue
        key = dashboard_key(tenant_id, region_id, year, today)
        if not _is_current(cache.get(key), tenant_id):
            cache.set(key, compute(tenant, region, year, today=today), TTL)
            counted += 1
    return counted


def refresh_overnight(tenant_id: int) -> None:
    """The daily job's hook (after its commit): the worker counts, for the new day, every dashboard of the tenant
    looked at in the last week. Not with in-process tasks (the next visitor counts)."""
    from celery import current_app

    if current_app.conf.task_always_eager:
        return
    from reports.tasks import refresh_dashboards

    try:
        refresh_dashboards.apply_async((tenant_id,), {"within": KEPT_FOR}, countdown=REFRESH_DELAY)
    except Exception:  # noqa: BLE001 - the broker is down: the morning's visitors count
        logger.warning("overnight dashboard refresh of tenant %s not queued", tenant_id, exc_info=True)


def _tenant_of(instance) -> int | None:
    tenant_id = getattr(instance, "tenant_id", None)
    if tenant_id is not None:
        return tenant_id
    # Rows without a tenant of their own: through the enterprise or the round they belong to.
    if getattr(instance, "enterprise_id", None) is not None:
        return (
            Enterprise.objects.filter(pk=instance.enterprise_id).values_list("tenant_id", flat=True).first()
        )
    if getattr(instance, "round_id", None) is not None:
        return Round.objects.filter(pk=instance.round_id).values_list("tenant_id", flat=True).first()
    return None


def row_changed(sender, instance, **kwargs) -> None:
    """post_save / post_delete of a row behind the numbers: a new generation once the transaction commits.

    After the commit, not at once: a dashboard read between the bump and the commit would otherwise cache
    the old numbers under the new generation."""
    tenant_id = _tenant_of(instance)
    if tenant_id is not None:
        transaction.on_commit(partial(bump, tenant_id))


def daily_bump(*, day: date) -> dict[str, int]:
    """certification.lifecycle's daily hook: the daily job expires certifications and writes monitoring
    warnings with bulk updates, which send no signal."""
    tenant_ids = list(Tenant.objects.values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        transaction.on_commit(partial(bump, tenant_id))
        transaction.on_commit(partial(refresh_overnight, tenant_id))
    return {"dashboards_refreshed": len(tenant_ids)}


def dashboard_key(tenant_id: int, region_id: int, year: int, today: date) -> str:
    """The latest numbers counted of a dashboard for the day, whatever their generation (`generation` in them)."""
    return f"reports:dashboard:{tenant_id}:{region_id}:{year}:{today.isoformat()}"


def _is_current(data: dict | None, tenant_id: int) -> bool:
    """Counted in the tenant's current generation: no change since."""
    return data is not None and data.get("generation") == generation(tenant_id)


# --- scoping ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """A region's subtree, read once: the regions by pk and the child each falls under.

    Rows are grouped by their county (or the region they wait at) in SQL, and the groups are added up per
    child here: no join to the region tree and no path test per row. Exact for distinct enterprises too, since
    an enterprise sits in one county."""

    region: Region
    whole_tenant: bool
    regions: dict[int, dict]  # pk → {code, name, path, level, parent_id}
    children: list[dict]  # the rows of the region tables: the children, or a county itself

    @property
    def county_ids(self) -> list[int]:
        return [pk for pk, r in self.regions.items() if r["level"] == Region.Level.COUNTY]

    @property
    def county_paths(self) -> dict[int, str]:
        return {pk: r["path"] for pk, r in self.regions.items() if r["level"] == Region.Level.COUNTY}

    def child_path(self, region_id: int | None) -> str:
        """The path of the child a region of the subtree falls under; the region's own path for itself."""
        found = self.regions.get(region_id)
        if found is None:
            return ""
        length = len(self.region.path) + (0 if self.region.level == Region.Level.COUNTY else CODE_SEGMENT)
        return found["path"][:length]

    def limit(self, qs, field: str):
        """Rows whose `field` (a county or a region id) is in the subtree; the whole tenant needs no filter."""
        if self.whole_tenant:
            return qs
        return qs.filter(**{f"{field}__in": list(self.regions)})


def scope_of(tenant: Tenant, region: Region) -> Scope:
    regions = {
        r["pk"]: r
        for r in Region.objects.filter(tenant=tenant, path__startswith=region.path).values(
            "pk", "code", "name", "path", "level", "parent_id"
        )
    }
    if region.level == Region.Level.COUNTY:
        children = [regions[region.pk]]
    else:
        children = sorted(
            (r for r in regions.values() if r["parent_id"] == region.pk), key=lambda r: r["code"]
        )
    return Scope(
        region=region,
        whole_tenant=region.pk == tenant.root_region_id,
        regions=regions,
        children=[{k: c[k] for k in ("code", "name", "path", "level")} for c in children],
    )


def _per_child(scope: Scope, rows, region_key: str, keys: tuple[str, ...] = ()) -> dict:
    """Aggregated rows of a region (a county, a waiting region) added up per child path (and `keys`)."""
    out: dict = {}
    for row in rows:
        child = scope.child_path(row[region_key])
        key = (child, *(row[k] for k in keys)) if keys else child
        out[key] = out.get(key, 0) + row["n"]
    return out


# --- the numbers -------------------------------------------------------------------------------------


def dashboard_data(tenant: Tenant, region: Region, year: int, *, today: date | None = None) -> dict:
    """Every number of the dashboard of `region` for `year`, as plain values (cached). `computed_at` says when
    they were counted; `stale` is True while the worker counts them again after a change (`_while_counting`)."""
    today = today or timezone.localdate()
    key = dashboard_key(tenant.pk, region.pk, year, today)
    latest = cache.get(key)
    if _is_current(latest, tenant.pk):
        data = latest
    else:
        data = _while_counting(tenant.pk, latest)
        if data is None:
            data = compute(tenant, region, year, today=today)
            cache.set(key, data, TTL)
    _seen(tenant.pk, region.pk, year)
    return data


def _while_counting(tenant_id: int, latest: dict | None) -> dict | None:
    """The numbers counted before the last changes, while the worker counts them again: a change has the worker
    count every dashboard in use within seconds (`refresh_soon`), so rather than make the official wait for the
    database (a few hundred milliseconds at a province, bench/dashboard.py) the page shows the latest numbers,
    marked as being updated. Only with a worker (not with in-process tasks: there the page counts), and only
    while the first change they miss is at most STALE_FOR seconds old; None otherwise."""
    from celery import current_app

    if current_app.conf.task_always_eager or latest is None or "generation" not in latest:
        return None
    first_missed = cache.get(_changed_key(tenant_id, latest["generation"] + 1))
    if first_missed is None or _clock() - first_missed > STALE_FOR:
        return None
    refresh_soon(tenant_id)  # queued by the change already, unless the broker refused it then
    return {**latest, "stale": True}


def compute(tenant: Tenant, region: Region, year: int, *, today: date) -> dict:
    # The generation read before counting: a change committed meanwhile moves past it, so these numbers are
    # never taken for a later generation's.
    counted_generation = generation(tenant.pk)
    scope = scope_of(tenant, region)
    return {
        "generation": counted_generation,
        "computed_at": timezone.now(),
        "stale": False,
        "region": {"pk": region.pk, "code": region.code, "name": region.name, "level": region.level},
        "year": year,
        "today": today,
        "children": scope.children,
        "funnel": _funnel(tenant, scope, year),
        **_certified(tenant, scope, year),
        "targets": _targets(tenant, scope, today),
        "quotas": _quotas(tenant, region, year),
        "attention": _attention(tenant, scope, today),
        "awards": _awards(tenant, scope, year),
        "budgets": _budgets(tenant, region, year),
    }


def _funnel(tenant: Tenant, scope: Scope, year: int) -> list[dict]:
    """[{child, state, level, n}]: applications to the year's rounds by child region, state and level."""
    if scope.whole_tenant:
        # The year's rounds read first, then `round_id IN (…)`: through the join, PostgreSQL estimated a
        # thousand applications instead of the year's 100,000 and sorted them on disk to group them
        # (130 ms; hashed from the list: 35 ms, bench/dashboard.py).
        rounds = list(Round.objects.filter(tenant=tenant, year=year).values_list("pk", flat=True))
        qs = Application.objects.filter(tenant=tenant, round_id__in=rounds)
    else:
        # Through the join to the (few) rounds: with a county filter, SQLite then reads the applications by
        # the (tenant, round, state) index instead of walking the county index.
        qs = scope.limit(Application.objects.filter(tenant=tenant, round__year=year), "county_id")
    # COUNT(*), not COUNT(id): PostgreSQL then reads the index application_funnel alone (an index-only scan).
    rows = qs.order_by().values("county_id", "state", "level").annotate(n=Count("*"))
    grouped = _per_child(scope, rows, "county_id", ("state", "level"))
    return [{"child": c, "state": s, "level": lv, "n": n} for (c, s, lv), n in grouped.items()]


def _issued_year():
    """The year of issued_on as text ("2025"): a substring of the ISO date on SQLite and PostgreSQL alike,
    where SQLite's date extraction would call back into Python for every row."""
    return Substr(Cast("issued_on", CharField()), 1, 4)


def _certified(tenant: Tenant, scope: Scope, year: int) -> dict:
    active = Q(status=CS.ACTIVE)
    base = scope.limit(Certification.objects.filter(tenant=tenant), "county_id")
    # Enterprises holding a certification in force, per county: Enterprise.directory_listed says exactly that
    # (certification.directory_cache keeps it with every change of a certification, for the public
    # directory), so they are counted from its partial index, without a DISTINCT over the certifications.
    listed = (
        scope.limit(Enterprise.objects.filter(tenant=tenant, directory_listed=True), "county_id")
        .order_by()
        .values("county_id")
        .annotate(n=Count("pk"))
    )
    # Newly certified in the year (not revoked since): distinct enterprises, from that year's certifications.
    new = (
        base.filter(issued_on__gte=date(year, 1, 1), issued_on__lte=date(year, 12, 31))
        .exclude(status=CS.REVOKED)
        .order_by()
        .values(in_county=F("county_id"))
        .annotate(n=Count("enterprise_id", distinct=True))
    )
    in_force = _per_child(scope, listed, "county_id")
    new_by_child = _per_child(scope, new, "in_county")
    by_child = {
        child: {"n": in_force.get(child, 0), "new": new_by_child.get(child, 0)}
        for child in {*in_force, *new_by_child}
    }
    # Certifications in force by programme, industry section and year of issue: one grouped query. Per
    # programme they are the enterprises too: an enterprise holds at most one certification in force of a
    # programme (certification.publication.holds_active_certification bars a second application).
    groups = list(
        base.filter(active)
        .order_by()
        .values(
            "program_id",
            section=F("industry_section"),
            issued=_issued_year(),
        )
        .annotate(n=Count("pk"))
    )
    by_program: dict[int, int] = {}
    by_section: dict[str, int] = {}
    by_year: dict[str, int] = {}
    for g in groups:
        by_program[g["program_id"]] = by_program.get(g["program_id"], 0) + g["n"]
        by_section[g["section"]] = by_section.get(g["section"], 0) + g["n"]
        by_year[g["issued"]] = by_year.get(g["issued"], 0) + g["n"]
    programs = {
        p["pk"]: p
        for p in Program.objects.filter(pk__in=list(by_program)).values("pk", "name", "tier", "code")
    }
    sections = dict(
        Industry.objects.filter(level=Industry.Level.SECTION, code__in=list(by_section)).values_list(
            "code", "name"
        )
    )
    return {
        "certified_total": sum(in_force.values()),
        "by_program": [
            {"pk": pk, "name": programs[pk]["name"], "tier": programs[pk]["tier"], "n": n}
            for pk, n in sorted(
                by_program.items(), key=lambda i: (programs[i[0]]["tier"], programs[i[0]]["name"])
            )
        ],
        "by_child": by_child,
        "by_section": [
            {"code": c, "name": sections.get(c, ""), "n": n} for c, n in sorted(by_section.items())
        ],
        "by_year": [{"year": int(y), "n": n} for y, n in sorted(by_year.items())],
    }


def _targets(tenant: Tenant, scope: Scope, today: date) -> list[dict]:
    targets = list(
        Target.objects.filter(tenant=tenant, region_id__in=list(scope.regions))
        .select_related("region", "program")
        .order_by("region__path", "deadline", "metric", "pk")
    )
    specs = [TargetSpec.of(t) for t in targets]
    counts = target_counts(tenant.pk, specs, today, county_paths=scope.county_paths)
    return [
        {
            "pk": t.pk,
            "region_code": t.region.code,
            "region_name": t.region.name,
            "region_path": t.region.path,
            "metric": t.metric,
            "program": t.program.name if t.program_id else "",
            "value": t.value,
            "baseline": t.baseline,
            "counts_from": t.counts_from,
            "deadline": t.deadline,
            "source": t.source,
            "count": counts.get(t.pk, 0),
        }
        for t in targets
    ]


def _quotas(tenant: Tenant, region: Region, year: int) -> list[dict]:
    qs = RoundQuota.objects.filter(
        round__tenant=tenant, round__year=year, region__path__startswith=region.path
    )
    # Counted per quota by its key (a few dozen quotas, thousands of uses each): joined and grouped by the
    # quota's labels, PostgreSQL hashed every use with the names and paths (~25 ms at 30,000 uses).
    uses = QuotaUse.objects.filter(quota=OuterRef("pk")).order_by().values("quota").annotate(n=Count("*"))
    return list(
        qs.annotate(used=Coalesce(Subquery(uses.values("n")), 0))
        .order_by("round__opens_at", "round_id", "region__path")
        .values("pk", "round__name", "region__code", "region__name", "maximum", "minimum", "used")
    )


def _attention(tenant: Tenant, scope: Scope, today: date) -> dict:
    """Per child region (and the region's own level, for reviews waiting there): overdue reviews, expiring
    certifications, open monitoring warnings, overdue commissioner visits."""
    # The stages past their deadline first (a small table), then the applications waiting at those
    # (round, level) pairs: read by the (tenant, round, state) index, not every waiting application.
    late = list(
        RoundStage.objects.filter(round__tenant=tenant, deadline__lt=timezone.now()).values_list(
            "round_id", "level"
        )
    )
    overdue: dict = {}
    if late:
        waiting = scope.limit(
            Application.objects.filter(tenant=tenant, state__in=Application.WAITING_STATES),
            "current_region_id",
        )
        if len(late) <= MAX_STAGE_PAIRS:
            pairs = Q()
            for round_id, level in late:
                pairs |= Q(round_id=round_id, level=level)
            waiting = waiting.filter(pairs)
        else:
            overdue_stage = RoundStage.objects.filter(
                round=OuterRef("round_id"), level=OuterRef("level"), deadline__lt=timezone.now()
            )
            waiting = waiting.filter(Exists(overdue_stage))
        rows = waiting.order_by().values("current_region_id", "level").annotate(n=Count("pk"))
        overdue = _per_child(scope, rows, "current_region_id", ("level",))
    in_force = scope.limit(Certification.objects.filter(tenant=tenant, status=CS.ACTIVE), "county_id")
    expiring = (
        in_force.filter(valid_until__gte=today, valid_until__lte=today + timedelta(days=EXPIRY_DAYS))
        .order_by()
        .values(in_county=F("county_id"))
        .annotate(n=Count("pk"))
    )
    warnings = _per_enterprise_county(
        scope, MonitoringWarning.objects.filter(tenant=tenant, resolved_at__isnull=True)
    )
    # certification.commissioners.coverage_by_region: overdue = a certified enterprise whose current
    # commissioner was assigned before the cutoff and has not visited since. One current assignment per
    # enterprise (a constraint), so the assignments count the enterprises.
    cutoff = today - timedelta(days=lifecycle_settings(tenant).visit_interval_days)
    visited = Visit.objects.filter(enterprise_id=OuterRef("enterprise_id"), visited_on__gte=cutoff)
    visits = _per_enterprise_county(
        scope,
        CommissionerAssignment.objects.filter(
            tenant=tenant, ended_on__isnull=True, started_on__lt=cutoff
        ).exclude(Exists(visited)),
        # certified: holds a certification in force (Enterprise.directory_listed, kept by directory_cache)
        directory_listed=True,
    )
    return {
        "overdue": [{"child": c, "level": lv, "n": n} for (c, lv), n in overdue.items()],
        "expiring": _per_child(scope, expiring, "in_county"),
        "warnings": _per_child(scope, warnings, "county"),
        "visits": _per_child(scope, visits, "county"),
    }


def _per_enterprise_county(scope: Scope, qs, **enterprise) -> list[dict]:
    """[{county, n}]: the rows of a small table (warnings, assignments: thousands) of the scope's enterprises
    (and those meeting `enterprise`) counted by their enterprise's county, looked up per row by the
    enterprise's key rather than by joining every enterprise of the tenant (which the planner reads whole)."""
    of_enterprise = Enterprise.objects.filter(pk=OuterRef("enterprise_id"), **enterprise).order_by()
    if not scope.whole_tenant:
        of_enterprise = of_enterprise.filter(county_id__in=list(scope.regions))
    # An enterprise left out (outside the scope, or not meeting `enterprise`) has no county here.
    county = Subquery(of_enterprise.values("county_id"))
    return (
        qs.annotate(county=county)
        .filter(county__isnull=False)
        .order_by()
        .values("county")
        .annotate(n=Count("pk"))
    )


def _awards(tenant: Tenant, scope: Scope, year: int) -> dict:
    qs = scope.limit(Entitlement.objects.filter(tenant=tenant), "enterprise__county_id")
    committed = Q(state__in=Entitlement.COMMITTED_STATES, budget__year=year)
    paid = Q(state=ES.PAID, budget__year=year)
    pending = Q(state=ES.PENDING)
    totals = qs.aggregate(
        approved_n=Count("pk", filter=committed),
        approved_sum=Sum("amount", filter=committed),
        paid_n=Count("pk", filter=paid),
        paid_sum=Sum("amount", filter=paid),
        pending_n=Count("pk", filter=pending),
        pending_sum=Sum("amount", filter=pending),
    )
    return {k: (v if v is not None else ZERO) for k, v in totals.items()}


def _budgets(tenant: Tenant, region: Region, year: int) -> list[dict]:
    qs = Budget.objects.filter(tenant=tenant, year=year, policy__region__path__startswith=region.path)
    return list(
        qs.order_by("policy__region__path", "policy__code").values(
            "pk", "policy__name", "policy__region__name", "amount", "committed", "paid"
        )
    )
