"""Annual figures, monitoring and change reports of certified enterprises (动态管理, domain.md §1.5).

- Each year a certified enterprise confirms its figures of the last fiscal year by the tenant's deadline
  (63号 regime: 30 April; the 2026 rules are reported as 31 May): `annual_update_submit`.
- The monitoring check screens its current facts against its programme's conditions and keeps one
  `MonitoringWarning` per failing base condition or holding exclusion (e.g. a debt ratio above 70%, an
  R&D ratio below 3%): `monitoring_check`, run when the update is confirmed and by the daily job
  (`monitoring_run`, a `lifecycle.DAILY_HOOKS` hook).
- A major change (更名、合并、重组、跨省迁移、设立境外分支机构) is reported within three months in a
  change report that staff review: `change_report_file`, `change_report_review`.

Who sees what: officials with a reviewing post or the tenant administrator, in the subtree of their posts
(`monitoring_posts`, `scope_filter`); members see their own enterprise only.
"""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from certification.engine.evaluate import ScreeningResult, compiled_for, evaluate
from certification.models import (
    AnnualUpdate,
    Certification,
    ChangeReport,
    CriteriaVersion,
    MonitoringWarning,
    Program,
)
from enterprises.facts import enterprise_facts, facts_to_json
from enterprises.models import AnnualFigures, Document, Enterprise, Membership
from portal.api.errors import DomainError
from portal.audit import audit_record
from portal.models import Post, Region, Tenant, User
from portal.notifications import notification_send

log = logging.getLogger(__name__)

CS = Certification.Status

# Officials who follow monitoring in their subtree: reviewers of every level and the tenant administrator.
MONITORING_ROLES = frozenset(
    {
        Post.Role.COUNTY_REVIEWER,
        Post.Role.PREFECTURE_REVIEWER,
        Post.Role.PROVINCIAL_REVIEWER,
        Post.Role.PROVINCIAL_APPROVER,
        Post.Role.TENANT_ADMIN,
    }
)
# Told of a change report besides the county's reviewers.
PROVINCIAL_STAFF = frozenset({Post.Role.PROVINCIAL_REVIEWER, Post.Role.PROVINCIAL_APPROVER})

# Stored (in English) on a warning the check resolved itself; pages show it translated.
AUTO_RESOLUTION = gettext_noop("figures now meet the condition")
EXCLUSION_PREFIX = "exclusion:"
RUN_CHUNK = 500

# The figures each derived value reads (enterprises/derived.py), to know which figures a condition needs.
DERIVED_INPUTS: dict[str, tuple[str, ...]] = {
    "revenue_growth_y1": ("revenue_y1", "revenue_y2"),
    "revenue_growth_y2": ("revenue_y2", "revenue_y3"),
    "revenue_cagr_2y": ("revenue_y1", "revenue_y3"),
    "main_business_revenue_growth_y1": ("main_business_revenue_y1", "main_business_revenue_y2"),
    "main_business_revenue_growth_y2": ("main_business_revenue_y2", "main_business_revenue_y3"),
    "main_business_revenue_cagr_2y": ("main_business_revenue_y1", "main_business_revenue_y3"),
    "rd_ratio_y1": ("rd_expense_y1", "revenue_y1"),
    "rd_ratio_y2": ("rd_expense_y2", "revenue_y2"),
    "rd_ratio_2y": ("rd_expense_y1", "rd_expense_y2", "revenue_y1", "revenue_y2"),
    "rd_expense_avg_2y": ("rd_expense_y1", "rd_expense_y2"),
    "rd_expense_total_2y": ("rd_expense_y1", "rd_expense_y2"),
    "rd_staff_ratio_y1": ("rd_staff_y1", "employees_y1"),
    "debt_ratio_y1": ("total_liabilities_y1", "total_assets_y1"),
    "main_business_share_y1": ("main_business_revenue_y1", "revenue_y1"),
    "net_profit_margin_y1": ("net_profit_y1", "revenue_y1"),
    "size_class": ("employees_y1", "revenue_y1", "total_assets_y1"),
}
# New equity financing is optional (most enterprises have none; conditions offer it as an alternative to
# revenue), so an annual update never requires it.
OPTIONAL_FIGURES = frozenset({"equity_financing"})


class MonitoringRefused(DomainError):
    """An annual update, change report or review the rules do not allow now; the message says why."""

    def __init__(
        self, message: str, code: str = "not_allowed", status: int = 409, fields: dict | None = None
    ):
        super().__init__(message, code=code, status=status, fields=fields)


# --- who sees what ---------------------------------------------------------------------------------


def monitoring_posts(user: User, tenant: Tenant) -> list[Post]:
    if not user.is_authenticated:
        return []
    return [p for p in user.posts_in(tenant) if p.role in MONITORING_ROLES]


def can_monitor(user: User, tenant: Tenant) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(monitoring_posts(user, tenant)))


def scope_filter(user: User, tenant: Tenant, path_lookup: str) -> Q | None:
    """A Q that keeps the rows whose region path (`path_lookup`) is in the subtree of one of the user's
    monitoring posts; an empty Q for the whole tenant; None when the user follows no region.

    SECURITY: callers also filter by tenant; None must become an empty result (views answer 404)."""
    if user.is_authenticated and user.is_superuser:
        return Q()
    condition = Q()
    found = False
    for post in monitoring_posts(user, tenant):
        if post.region_id == tenant.root_region_id:
            return Q()
        condition |= Q(**{f"{path_lookup}__startswith": post.region.path})
        found = True
    return condition if found else None


def in_scope(user: User, enterprise: Enterprise) -> bool:
    if user.is_authenticated and user.is_superuser:
        return True
    county_path = enterprise.county.path
    return any(county_path.startswith(p.region.path) for p in monitoring_posts(user, enterprise.tenant))


def scope_regions(user: User, tenant: Tenant) -> list[Region]:
    """The regions whose status an official may look at: their posts' regions and everything under them,
    broadest first."""
    qs = Region.objects.for_tenant(tenant)
    condition = scope_filter(user, tenant, "path")
    if condition is None:
        return []
    return list(qs.filter(condition).order_by("path"))


# --- annual updates -------------------------------------------------------------------------------


def annual_update_deadline(tenant: Tenant, year: int) -> date:
    """The tenant's deadline of reporting year `year`, the day clamped to the month (31 → 30 April,
    29/30/31 February → the month's last day)."""
    from certification.lifecycle import lifecycle_settings

    settings_ = lifecycle_settings(tenant)
    month = settings_.annual_update_month
    day = min(settings_.annual_update_day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


def active_certifications(enterprise: Enterprise) -> QuerySet[Certification]:
    return (
        Certification.objects.for_tenant(enterprise.tenant)
        .filter(enterprise=enterprise, status=CS.ACTIVE)
        .select_related("program__reverification_version")
        .order_by("issued_on", "pk")
    )


def enterprise_is_certified(enterprise: Enterprise | None) -> bool:
    """Whether the enterprise holds a valid certification; asked by the navigation on every page, so
    remembered on the (request-long) enterprise object."""
    if enterprise is None:
        return False
    if "_monitoring_certified" not in enterprise.__dict__:
        enterprise.__dict__["_monitoring_certified"] = Certification.objects.filter(
            enterprise=enterprise, status=CS.ACTIVE
        ).exists()
    return enterprise.__dict__["_monitoring_certified"]


def monitoring_version(program: Program, *, day: date | None = None) -> CriteriaVersion | None:
    """The criteria a certified enterprise is monitored against: the tenant's choice for re-verification
    (domain.md §0) or else the version in force; None when the programme has neither."""
    from certification.services import version_in_force

    if program.reverification_version_id:
        return program.reverification_version
    try:
        return version_in_force(program, day)
    except ValidationError:
        return None


def _required_facts(version: CriteriaVersion) -> set[str]:
    """The raw facts the version's base conditions and exclusions read, derived values unfolded."""
    criteria = compiled_for(version.definition)
    names: set[str] = set()
    for condition in [*criteria.base, *criteria.exclusions]:
        for variable in condition.expr.variables:
            names.update(DERIVED_INPUTS.get(variable, (variable,)))
    return names


def required_figures(versions: Iterable[CriteriaVersion]) -> list[str]:
    """The AnnualFigures fields of the last fiscal year the conditions need, in the model's order."""
    facts: set[str] = set()
    for version in versions:
        facts |= _required_facts(version)
    return [name for name in AnnualFigures.FIELDS if name not in OPTIONAL_FIGURES and f"{name}_y1" in facts]


def _field_label(name: str) -> str:
    return str(AnnualFigures._meta.get_field(name).verbose_name)


def annual_update_problems(enterprise: Enterprise, year: int) -> dict[str, list[str]]:
    """What keeps the enterprise from confirming the figures of fiscal year `year - 1`, by field."""
    fiscal_year = year - 1
    versions = [v for c in active_certifications(enterprise) if (v := monitoring_version(c.program))]
    needed = required_figures(versions)
    row = AnnualFigures.objects.filter(enterprise=enterprise, fiscal_year=fiscal_year).first()
    if row is None:
        return {
            "figures": [
                _("There are no figures for %(year)d yet. Enter them first: %(fields)s.")
                % {"year": fiscal_year, "fields": ", ".join(_field_label(n) for n in needed) or "—"}
            ]
        }
    return {
        name: [_("%(field)s of %(year)d is missing.") % {"field": _field_label(name), "year": fiscal_year}]
        for name in needed
        if getattr(row, name) is None
    }


def _as_of(year: int, today: date) -> date:
    """The day the facts of reporting year `year` are read on: today, or the year's last day for a past year."""
    return today if year == today.year else date(year, 12, 31)


@transaction.atomic
def annual_update_submit(
    *, enterprise: Enterprise, by: User, year: int | None = None, request=None
) -> AnnualUpdate:
    """The enterprise confirms its figures of fiscal year `year - 1` (reporting year `year`, this year by
    default). Refused when a figure its programme's conditions need is missing; late after the deadline.
    Runs the monitoring check on the confirmed facts in the same transaction."""
    today = timezone.localdate()
    year = year or today.year
    # Lock the enterprise row: two members confirming at once queue here, and the second is told.
    enterprise = (
        Enterprise.objects.select_for_update().select_related("county", "tenant").get(pk=enterprise.pk)
    )
    if not by.is_superuser and not Membership.objects.filter(enterprise=enterprise, user=by).exists():
        raise MonitoringRefused(
            _("Only the enterprise's members confirm its annual figures."), "not_member", 403
        )
    if year > today.year:
        raise MonitoringRefused(
            _("The annual update of %(year)d cannot be submitted before that year.") % {"year": year},
            "future_year",
            fields={"year": [_("Choose this year or an earlier one.")]},
        )
    certifications = list(active_certifications(enterprise))
    if not certifications:
        raise MonitoringRefused(
            _("Only enterprises holding a valid certification submit an annual update."), "not_certified"
        )
    existing = AnnualUpdate.objects.filter(enterprise=enterprise, year=year).first()
    if existing is not None:
        raise MonitoringRefused(
            _("The annual update of %(year)d was submitted on %(day)s.")
            % {"year": year, "day": timezone.localdate(existing.submitted_at).isoformat()},
            "already_submitted",
        )
    problems = annual_update_problems(enterprise, year)
    if problems:
        names = [_field_label(n) for n in problems if n != "figures"]
        message = (
            problems["figures"][0]
            if "figures" in problems
            else _("The figures of %(year)d are incomplete. Enter: %(fields)s.")
            % {"year": year - 1, "fields": ", ".join(names)}
        )
        raise MonitoringRefused(message, "figures_incomplete", 400, fields=problems)

    as_of = _as_of(year, today)
    facts = enterprise_facts(enterprise, as_of=as_of)
    deadline = annual_update_deadline(enterprise.tenant, year)
    update = AnnualUpdate.objects.create(
        tenant=enterprise.tenant,
        enterprise=enterprise,
        year=year,
        fiscal_year=year - 1,
        facts=facts_to_json(facts),
        submitted_by=by,
        late=today > deadline,
    )
    audit_record(
        action="monitoring.annual_update_submitted",
        actor=by,
        tenant=enterprise.tenant,
        obj=update,
        summary=f"{enterprise.name} {year} ({'late' if update.late else 'on time'})",
        request=request,
    )
    # Inline, in this transaction: the warnings are there when the page reloads, and the check is
    # idempotent, so the daily run that meets the same facts again changes nothing.
    for certification in certifications:
        certification.enterprise = enterprise
        monitoring_check(certification, facts, as_of=as_of)
    return update


def certified_enterprises(tenant: Tenant, scope_region: Region | None = None) -> QuerySet[Enterprise]:
    """Enterprises of the tenant (under `scope_region`) holding a valid certification."""
    qs = Enterprise.objects.for_tenant(tenant).filter(
        Exists(Certification.objects.filter(enterprise=OuterRef("pk"), status=CS.ACTIVE))
    )
    if scope_region is not None and scope_region.pk != tenant.root_region_id:
        qs = qs.filter(county__path__startswith=scope_region.path)
    return qs


@dataclass
class AnnualStatus:
    year: int
    deadline: date
    today: date
    certified: int
    submitted: int
    late: int
    by_region: list[dict[str, Any]]  # one row per region directly under the scope (or its counties)
    missing: QuerySet[Enterprise]  # not submitted, for the officials' list (paginate it)

    @property
    def not_submitted(self) -> int:
        return self.certified - self.submitted

    @property
    def on_time(self) -> int:
        return self.submitted - self.late

    @property
    def days_overdue(self) -> int:
        return max(0, (self.today - self.deadline).days)

    @property
    def days_left(self) -> int:
        return max(0, (self.deadline - self.today).days)


def annual_update_status(tenant: Tenant, scope_region: Region | None, year: int) -> AnnualStatus:
    """Who of the certified enterprises under `scope_region` has confirmed the figures of `year`: counts
    in SQL (one query), the counts by region one level down (one more), and the queryset of those that
    have not (ordered by county and name, with county and certifications ready for a list)."""
    from django.db.models import Prefetch

    scope_region = scope_region or tenant.root_region
    certified = certified_enterprises(tenant, scope_region)
    updates = AnnualUpdate.objects.filter(enterprise=OuterRef("pk"), year=year)
    annotated = certified.annotate(done=Exists(updates), done_late=Exists(updates.filter(late=True)))
    totals = annotated.aggregate(
        certified=Count("pk"),
        submitted=Count("pk", filter=Q(done=True)),
        late=Count("pk", filter=Q(done_late=True)),
    )
    per_county = (
        annotated.order_by()
        .values("county__path")
        .annotate(
            certified=Count("pk"),
            submitted=Count("pk", filter=Q(done=True)),
            late=Count("pk", filter=Q(done_late=True)),
        )
    )
    by_region = _roll_up(tenant, scope_region, list(per_county))
    missing = (
        annotated.filter(done=False)
        .select_related("county__parent")
        .prefetch_related(
            Prefetch(
                "certifications",
                queryset=Certification.objects.filter(status=CS.ACTIVE).select_related("program"),
                to_attr="active_certifications",
            )
        )
        .order_by("county__code", "name", "pk")
    )
    return AnnualStatus(
        year=year,
        deadline=annual_update_deadline(tenant, year),
        today=timezone.localdate(),
        certified=totals["certified"] or 0,
        submitted=totals["submitted"] or 0,
        late=totals["late"] or 0,
        by_region=by_region,
        missing=missing,
    )


def _roll_up(tenant: Tenant, scope: Region, rows: list[dict]) -> list[dict[str, Any]]:
    """Counts per county summed to the regions one level under `scope` (a county scope: itself)."""
    children = {r.path: r for r in Region.objects.for_tenant(tenant).filter(parent=scope).order_by("code")}
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        path = row["county__path"]
        region = next((r for p, r in children.items() if path.startswith(p)), scope)
        entry = out.setdefault(region.path, {"region": region, "certified": 0, "submitted": 0, "late": 0})
        for key in ("certified", "submitted", "late"):
            entry[key] += row[key]
    result = sorted(out.values(), key=lambda e: e["region"].code)
    for entry in result:
        entry["not_submitted"] = entry["certified"] - entry["submitted"]
        entry["on_time"] = entry["submitted"] - entry["late"]
    return result


# --- the monitoring check -------------------------------------------------------------------------


@dataclass
class Finding:
    rule: str
    label: str
    values: dict[str, Any]
    source: str
    failing: bool | None  # None: undecided (missing facts), never a warning


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def findings(result: ScreeningResult) -> list[Finding]:
    """Base conditions (failing when met is False) and exclusions (failing when the exclusion holds: in
    certification/engine/evaluate.py an exclusion whose expression is true excludes). Direct alternatives
    and scored indicators are not monitored: they only matter for the initial certification."""
    out = []
    for c in result.conditions:
        if c.kind == "base":
            rule, failing = c.key, (None if c.met is None else not c.met)
        elif c.kind == "exclusion":
            rule, failing = f"{EXCLUSION_PREFIX}{c.key}", c.met
        else:
            continue
        out.append(
            Finding(
                rule=rule[:80],
                label=str(c.label)[:300],
                values={k: _json(v) for k, v in c.values.items()},
                source=str(c.source)[:300],
                failing=failing,
            )
        )
    return out


@dataclass
class _Changes:
    create: list[MonitoringWarning]
    update: list[tuple[MonitoringWarning, dict[str, Any]]]
    resolve: list[MonitoringWarning]

    def __bool__(self) -> bool:
        return bool(self.create or self.update or self.resolve)


def _plan(
    certification: Certification,
    fiscal_year: int,
    found: list[Finding],
    existing: dict[str, MonitoringWarning],
) -> _Changes:
    """What to write so that the warnings match the findings; nothing when they already do.

    A warning an official resolved stays resolved even if the condition still fails (they judged it);
    one the check resolved itself is opened again when the figures fail again in the same fiscal year."""
    changes = _Changes([], [], [])
    for f in found:
        warning = existing.get(f.rule)
        if f.failing is True:
            fields = {"label": f.label, "values": f.values, "source": f.source}
            if warning is None:
                changes.create.append(
                    MonitoringWarning(
                        tenant_id=certification.tenant_id,
                        certification=certification,
                        enterprise_id=certification.enterprise_id,
                        fiscal_year=fiscal_year,
                        rule=f.rule,
                        **fields,
                    )
                )
            elif warning.resolved_at is None:
                if any(getattr(warning, k) != v for k, v in fields.items()):
                    changes.update.append((warning, fields))
            elif warning.resolved_by_id is None:
                changes.update.append((warning, {**fields, "resolved_at": None, "resolution": ""}))
        elif f.failing is False and warning is not None and warning.resolved_at is None:
            changes.resolve.append(warning)
    return changes


def _write(certification: Certification, fiscal_year: int, changes: _Changes, *, now: datetime) -> int:
    """Apply a plan; returns the number of warnings created. Every write is conditional, so a check that
    runs twice at once (the daily job and a confirmation) writes each change once."""
    created = 0
    if changes.create:
        before = MonitoringWarning.objects.filter(
            certification=certification, fiscal_year=fiscal_year
        ).count()
        MonitoringWarning.objects.bulk_create(changes.create, ignore_conflicts=True)
        created = (
            MonitoringWarning.objects.filter(certification=certification, fiscal_year=fiscal_year).count()
            - before
        )
    for warning, fields in changes.update:
        if "resolved_at" in fields:
            MonitoringWarning.objects.filter(pk=warning.pk, resolved_by__isnull=True).exclude(
                resolved_at=None
            ).update(**fields)
        else:
            MonitoringWarning.objects.filter(pk=warning.pk, resolved_at=None).update(**fields)
    if changes.resolve:
        MonitoringWarning.objects.filter(pk__in=[w.pk for w in changes.resolve], resolved_at=None).update(
            resolved_at=now, resolution=AUTO_RESOLUTION, resolved_by=None
        )
    audit_record(
        action="monitoring.checked",
        tenant=certification.tenant,
        obj=certification,
        summary=(
            f"{fiscal_year}: +{[w.rule for w in changes.create]} "
            f"~{[w.rule for w, _f in changes.update]} ✓{[w.rule for w in changes.resolve]}"
        ),
        actor_label="monitoring",
    )
    return created


def monitoring_check(
    certification: Certification, facts: dict[str, Any] | None = None, *, as_of: date | None = None
) -> list[MonitoringWarning]:
    """Screen the enterprise's facts (current ones by default) against the programme's monitoring version
    and keep the warnings of fiscal year `as_of.year - 1` in step: one per failing base condition or
    holding exclusion, created once; those whose condition now holds resolved. Returns the open warnings
    of that fiscal year. Idempotent: a second check on the same facts writes nothing."""
    as_of = as_of or timezone.localdate()
    fiscal_year = as_of.year - 1
    version = monitoring_version(certification.program, day=as_of)
    if version is None:
        log.info("monitoring: no criteria version for %s on %s", certification.program_id, as_of)
        return []
    if facts is None:
        facts = enterprise_facts(certification.enterprise, as_of=as_of)
    found = findings(evaluate(version.definition, facts))
    with transaction.atomic():
        existing = {
            w.rule: w
            for w in MonitoringWarning.objects.select_for_update().filter(
                certification=certification, fiscal_year=fiscal_year
            )
        }
        changes = _plan(certification, fiscal_year, found, existing)
        if changes:
            _write(certification, fiscal_year, changes, now=timezone.now())
    return list(
        MonitoringWarning.objects.filter(
            certification=certification, fiscal_year=fiscal_year, resolved_at=None
        ).order_by("rule")
    )


def monitoring_run(*, day: date, tenant: Tenant | None = None) -> dict[str, int]:
    """The daily hook (`lifecycle.DAILY_HOOKS`): check every valid certification whose enterprise has
    confirmed the figures of reporting year `day.year`.

    Why all of them and not only "those whose facts changed": there is no per-certification mark of the
    last check to compare with, and a change of the criteria (a new version in force, the tenant choosing
    another re-verification version) must be seen too. The check is cheap enough to repeat: the
    certifications, their enterprises' figures, IP and qualifications and the existing warnings are read
    in a constant number of queries per chunk of RUN_CHUNK, each evaluation is in memory (the criteria
    compiled once), and only a difference is written. Running twice on a day writes nothing the second
    time: {"checked": n, "warnings": 0, "resolved": 0}.
    """
    fiscal_year = day.year - 1
    qs = Certification.objects.filter(status=CS.ACTIVE).filter(
        Exists(AnnualUpdate.objects.filter(enterprise=OuterRef("enterprise_id"), year=day.year))
    )
    if tenant is not None:
        qs = qs.filter(tenant=tenant)
    ids = list(qs.order_by("pk").values_list("pk", flat=True))
    versions: dict[int, CriteriaVersion | None] = {}
    checked = created = resolved = 0
    now = timezone.now()
    for start in range(0, len(ids), RUN_CHUNK):
        chunk = list(
            Certification.objects.filter(pk__in=ids[start : start + RUN_CHUNK])
            .select_related("tenant", "program__reverification_version", "enterprise")
            .prefetch_related("enterprise__figures", "enterprise__ip_items", "enterprise__qualifications")
            .order_by("pk")
        )
        existing: dict[int, dict[str, MonitoringWarning]] = {}
        for w in MonitoringWarning.objects.filter(certification__in=chunk, fiscal_year=fiscal_year):
            existing.setdefault(w.certification_id, {})[w.rule] = w
        for certification in chunk:
            if certification.program_id not in versions:
                versions[certification.program_id] = monitoring_version(certification.program, day=day)
            version = versions[certification.program_id]
            if version is None:
                continue
            facts = enterprise_facts(certification.enterprise, as_of=day)
            found = findings(evaluate(version.definition, facts))
            changes = _plan(certification, fiscal_year, found, existing.get(certification.pk, {}))
            checked += 1
            if changes:
                with transaction.atomic():
                    created += _write(certification, fiscal_year, changes, now=now)
                resolved += len(changes.resolve)
    log.info("monitoring %s: checked %d, new warnings %d, resolved %d", day, checked, created, resolved)
    return {"checked": checked, "warnings": created, "resolved": resolved}


def monitoring_daily(*, day: date) -> dict[str, int]:
    """`monitoring_run` for every tenant as a `lifecycle.DAILY_HOOKS` hook: its counts prefixed, since
    run_daily merges every hook's counts into one DailyRun.stats."""
    return {f"monitoring_{key}": value for key, value in monitoring_run(day=day).items()}


@transaction.atomic
def warning_resolve(
    *, warning: MonitoringWarning, by: User, resolution: str, request=None
) -> MonitoringWarning:
    """An official closes a warning with what was found or done (e.g. "上年度资产负债率因并购临时升高，已核实")."""
    resolution = (resolution or "").strip()
    warning = (
        MonitoringWarning.objects.select_for_update()
        .select_related("enterprise__county", "tenant")
        .get(pk=warning.pk)
    )
    if not in_scope(by, warning.enterprise):
        raise MonitoringRefused(_("This warning is outside your region."), "out_of_scope", 404)
    if warning.resolved_at is not None:
        raise MonitoringRefused(_("This warning has already been resolved."), "already_resolved")
    if not resolution:
        raise MonitoringRefused(
            _("Say how the warning was resolved."),
            "resolution_required",
            400,
            fields={"resolution": [_("Say how the warning was resolved.")]},
        )
    warning.resolved_at, warning.resolved_by, warning.resolution = timezone.now(), by, resolution
    warning.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    audit_record(
        action="monitoring.warning_resolved",
        actor=by,
        tenant=warning.tenant,
        obj=warning,
        summary=f"{warning.enterprise.name} {warning.fiscal_year} {warning.rule}: {resolution[:200]}",
        request=request,
    )
    return warning


# --- change reports -------------------------------------------------------------------------------


def change_report_due(occurred_on: date) -> date:
    """The last day to report a change on time (domain.md §1.5: within three months). A month without the
    day ends on its last day: a change of 30 November is due by 28 (or 29) February."""
    return occurred_on + relativedelta(months=ChangeReport.REPORT_WITHIN_MONTHS)


def change_report_is_late(occurred_on: date, filed_on: date) -> bool:
    return filed_on > change_report_due(occurred_on)


def _change_report_link(report: ChangeReport, *, official: bool) -> str:
    name = "change_report_review" if official else "change_reports"
    kwargs = {"tenant_code": report.tenant.code}
    if official:
        kwargs["pk"] = report.pk
    return reverse(name, kwargs=kwargs)


def _change_report_officials(enterprise: Enterprise) -> list[User]:
    posts = Post.objects.filter(tenant=enterprise.tenant, is_active=True).filter(
        Q(role=Post.Role.COUNTY_REVIEWER, region_id=enterprise.county_id)
        | Q(role__in=PROVINCIAL_STAFF, region_id=enterprise.tenant.root_region_id)
    )
    seen, users = set(), []
    for post in posts.select_related("user").order_by("region__code", "role", "user_id"):
        if post.user_id not in seen:
            seen.add(post.user_id)
            users.append(post.user)
    return users


@transaction.atomic
def change_report_file(
    *,
    enterprise: Enterprise,
    by: User,
    kind: str,
    occurred_on: date,
    description: str,
    new_name: str = "",
    documents: Iterable[Document] = (),
    request=None,
) -> ChangeReport:
    """A certified enterprise reports a major change (重大变化情况报告); late when filed more than three
    months after the change. The county's reviewers and provincial staff are told."""
    today = timezone.localdate()
    enterprise = Enterprise.objects.select_related("county", "tenant").get(pk=enterprise.pk)
    if not by.is_superuser and not Membership.objects.filter(enterprise=enterprise, user=by).exists():
        raise MonitoringRefused(_("Only the enterprise's members report its changes."), "not_member", 403)
    if not active_certifications(enterprise).exists():
        raise MonitoringRefused(
            _("Only enterprises holding a valid certification file change reports."), "not_certified"
        )
    errors: dict[str, list[str]] = {}
    if kind not in ChangeReport.Kind.values:
        errors["kind"] = [_("Choose the kind of change.")]
    if occurred_on is None:
        errors["occurred_on"] = [_("Give the date of the change.")]
    elif occurred_on > today:
        errors["occurred_on"] = [_("The date of the change cannot be in the future.")]
    description = (description or "").strip()
    if not description:
        errors["description"] = [_("Describe the change.")]
    new_name = (new_name or "").strip()
    if kind == ChangeReport.Kind.RENAME and not new_name:
        errors["new_name"] = [_("Give the enterprise's new name.")]
    elif new_name and new_name == enterprise.name:
        errors["new_name"] = [_("The new name is the enterprise's current name.")]
    documents = list(documents)
    wrong = [d for d in documents if d.enterprise_id != enterprise.pk or d.scan_status != Document.Scan.CLEAN]
    if wrong:
        errors["documents"] = [
            _("Attach only your enterprise's documents that passed the virus scan: %(names)s.")
            % {"names": ", ".join(d.original_name for d in wrong)}
        ]
    if errors:
        first = next(iter(errors.values()))[0]
        raise MonitoringRefused(first, "invalid", 400, fields=errors)

    report = ChangeReport.objects.create(
        tenant=enterprise.tenant,
        enterprise=enterprise,
        kind=kind,
        occurred_on=occurred_on,
        description=description,
        new_name=new_name,
        late=change_report_is_late(occurred_on, today),
        created_by=by,
    )
    if documents:
        report.documents.set(documents)
    audit_record(
        action="monitoring.change_report_filed",
        actor=by,
        tenant=enterprise.tenant,
        obj=report,
        summary=f"{enterprise.name}: {kind} {occurred_on}{' late' if report.late else ''}",
        request=request,
    )
    link = _change_report_link(report, official=True)
    subject = _("Change report from %(name)s: %(kind)s") % {
        "name": enterprise.name,
        "kind": report.get_kind_display(),
    }
    body = _("Date of the change: %(day)s.%(late)s") % {
        "day": occurred_on.isoformat(),
        "late": " " + _("Reported more than three months after the change.") if report.late else "",
    }
    for user in _change_report_officials(enterprise):
        notification_send(recipient=user, tenant=enterprise.tenant, subject=subject, body=body, link=link)
    return report


REVIEW_STATES = (ChangeReport.State.ACCEPTED, ChangeReport.State.ACTION)


@transaction.atomic
def change_report_review(
    *, report: ChangeReport, by: User, state: str, note: str = "", request=None
) -> ChangeReport:
    """Staff accept a change report, or ask the enterprise for action (a note is then required). A report
    waiting for action may be accepted later; an accepted one is closed."""
    report = (
        ChangeReport.objects.select_for_update()
        .select_related("enterprise__county", "tenant")
        .get(pk=report.pk)
    )
    note = (note or "").strip()
    if not in_scope(by, report.enterprise):
        raise MonitoringRefused(_("This change report is outside your region."), "out_of_scope", 404)
    if report.state == ChangeReport.State.ACCEPTED:
        raise MonitoringRefused(_("This change report has already been accepted."), "already_accepted")
    if state not in REVIEW_STATES:
        raise MonitoringRefused(
            _("Choose accept or ask for action."), "invalid", 400, fields={"state": [_("Choose a decision.")]}
        )
    if state == ChangeReport.State.ACTION and not note:
        raise MonitoringRefused(
            _("Say what the enterprise must do."),
            "note_required",
            400,
            fields={"note": [_("Say what the enterprise must do.")]},
        )
    before = report.state
    report.state, report.review_note = state, note
    report.reviewed_by, report.reviewed_at = by, timezone.now()
    report.save(update_fields=["state", "review_note", "reviewed_by", "reviewed_at"])
    audit_record(
        action="monitoring.change_report_reviewed",
        actor=by,
        tenant=report.tenant,
        obj=report,
        changes={"state": [before, state]},
        summary=f"{report.enterprise.name}: {state} {note[:200]}",
        request=request,
    )
    subject = (
        _("Your change report has been accepted")
        if state == ChangeReport.State.ACCEPTED
        else _("Your change report needs action")
    )
    link = _change_report_link(report, official=False)
    for membership in Membership.objects.filter(enterprise=report.enterprise).select_related("user"):
        notification_send(
            recipient=membership.user, tenant=report.tenant, subject=subject, body=note, link=link
        )
    return report
