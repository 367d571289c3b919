"""The cultivation library (培育库): who is in it, at which stage, and how each county stands against its
yearly target.

Seeds 000 and 004 ask for a tiered library: 储备一批、培育一批、提升一批 (reserve, cultivating, upgrading).
Officials of a county or above add the enterprises of their subtree by hand, or from a screening whose
verdict is `library` (seed 004 二、（一）1: "将符合条件或要素缺项不超过3个的企业列入优质中小企业培育库"), move
them between stages with a note and remove them with a reason. Every change is one transaction that locks
the rows it changes, writes a LibraryStageChange (the entry's history) and an audit event.

Concurrency: an entry is added under a lock on its enterprise row, so two officials adding the same
enterprise at once are serialised; the partial unique constraint `library_once_per_programme` backs the
check in case a writer did not take the lock (the IntegrityError becomes the same clear refusal).

Targets (seed 004 二、（一）1): "各县市每年推荐的入库企业数量原则上不少于辖区规上工业企业总数的10%，其中
博乐市不少于6家、阿拉山口市不少于4家、精河县不少于3家、温泉县不少于2家". A county's target for a year is
max(minimum, ⌈regulated × share%⌉). What counts against it is the library's stock: the enterprises of the
county that were in the library at the end of that year (for the current year: in the library now), each
enterprise once whatever the number of its programmes. We count the stock rather than the year's additions
because the library is a standing pool whose enterprises stay until certified or removed; an official who
reads "shortfall 2" can close it by adding two enterprises today either way, and a past year's figure stays
what it was at that year's end.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from certification.models import (
    Certification,
    LibraryEntry,
    LibraryStageChange,
    LibraryTarget,
    Program,
    Screening,
    ScreeningBatch,
)
from enterprises.models import Enterprise
from portal.api.errors import DomainError
from portal.audit import audit_record, diff
from portal.models import Post, Region, Tenant, User

Stage = LibraryEntry.Stage

# Who keeps the library: the reviewing officials of a county or above and the tenant's administrators
# (design.md: the county official "keeps the cultivation library"). Experts and commissioners see only
# what is granted to them; funding officers deal with awards.
KEEPER_ROLES = frozenset(
    {
        Post.Role.COUNTY_REVIEWER,
        Post.Role.PREFECTURE_REVIEWER,
        Post.Role.PROVINCIAL_REVIEWER,
        Post.Role.PROVINCIAL_APPROVER,
        Post.Role.TENANT_ADMIN,
    }
)
# Targets are set for a county by the levels above it (seed 004: the prefecture sets its counties' numbers).
TARGET_SETTER_LEVELS = frozenset({Region.Level.PROVINCE, Region.Level.PREFECTURE})

NOTE_MAX = 2000
REASON_MAX = 300  # LibraryEntry.removal_reason


class LibraryRefused(DomainError):
    """A library action the rules do not allow. When a field is at fault, `message` names it ("Note: say
    why the entry moves.") and `fields` holds the problem alone under the field's name, so that a form
    shows it next to its own label without repeating it."""

    def __init__(self, message: str, code: str = "library_refused", *, status: int = 409, fields=None):
        super().__init__(message, code=code, status=status, fields=fields)


def _field_refusal(field: str, label, problem: str, code: str, *, status: int = 400) -> LibraryRefused:
    return LibraryRefused(
        _("%(field)s: %(problem)s") % {"field": label, "problem": problem},
        code=code,
        status=status,
        fields={field: [problem]},
    )


# --- who may do what -----------------------------------------------------------------------------


def keeper_posts(user: User, tenant: Tenant) -> list[Post]:
    if not user.is_authenticated:
        return []
    return [p for p in user.posts_in(tenant) if p.role in KEEPER_ROLES]


def is_keeper(user: User, tenant: Tenant) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(keeper_posts(user, tenant)))


def may_keep(user: User, enterprise: Enterprise, tenant: Tenant | None = None) -> bool:
    """A keeper whose post's subtree holds the enterprise's county. Reads posts from the user's cache and
    the county from the enterprise: no query per row once `enterprise.county` is loaded (pass the
    request's tenant so that the enterprise's is not loaded either)."""
    tenant = tenant if tenant is not None else enterprise.tenant
    if enterprise.tenant_id != tenant.pk:
        return False
    if user.is_superuser:
        return True
    path = enterprise.county.path
    return any(path.startswith(p.region.path) for p in keeper_posts(user, tenant))


def may_set_target(user: User, county: Region) -> bool:
    """Province or prefecture keepers above the county (not the county itself), and tenant admins."""
    if user.is_superuser:
        return True
    for post in keeper_posts(user, county.tenant):
        if not county.path.startswith(post.region.path):
            continue
        if post.is_tenant_admin or (
            post.region.level in TARGET_SETTER_LEVELS and post.region.path != county.path
        ):
            return True
    return False


def _scope(queryset: QuerySet, user: User, tenant: Tenant, path_lookup: str) -> QuerySet:
    """Rows under any of the user's keeper posts. SECURITY: everything else is absent (404)."""
    qs = queryset.filter(tenant=tenant)
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    condition = Q()
    for post in keeper_posts(user, tenant):
        if post.region_id == tenant.root_region_id:
            return qs  # the whole tenant: no join to the region tree
        condition |= Q(**{path_lookup: post.region.path})
    return qs.filter(condition) if condition else qs.none()


def entries_visible_to(user: User, tenant: Tenant) -> QuerySet[LibraryEntry]:
    return _scope(LibraryEntry.objects.all(), user, tenant, "enterprise__county__path__startswith")


def enterprises_for_library(user: User, tenant: Tenant) -> QuerySet[Enterprise]:
    return _scope(Enterprise.objects.all(), user, tenant, "county__path__startswith")


def regions_visible_to(user: User, tenant: Tenant) -> QuerySet[Region]:
    return _scope(Region.objects.all(), user, tenant, "path__startswith")


def counties_visible_to(user: User, tenant: Tenant) -> QuerySet[Region]:
    return regions_visible_to(user, tenant).filter(level=Region.Level.COUNTY)


def library_list(
    *,
    user: User,
    tenant: Tenant,
    state: str = "current",
    stage: str | None = None,
    program_id: int | None = None,
    region_path: str | None = None,
    search: str | None = None,
) -> QuerySet[LibraryEntry]:
    """The list officials page through: fixed joins, and the last change of each entry as two subqueries,
    so a page of 25 or of 250 rows costs the same number of queries."""
    qs = entries_visible_to(user, tenant)
    if state == "current":
        qs = qs.filter(removed_at__isnull=True)
    elif state == "removed":
        qs = qs.filter(removed_at__isnull=False)
    if stage:
        qs = qs.filter(stage=stage)
    if program_id:
        qs = qs.filter(program_id=program_id)
    if region_path:
        qs = qs.filter(enterprise__county__path__startswith=region_path)
    if search:
        term = search.strip()
        if len(term) == 18 and term.upper().isalnum():
            qs = qs.filter(enterprise__uscc=term.upper())
        else:
            qs = qs.filter(enterprise__name__icontains=term)
    last = LibraryStageChange.objects.filter(entry=OuterRef("pk")).order_by("-at", "-id")
    return (
        qs.select_related("enterprise__county", "program", "added_by")
        .defer("enterprise__facts")
        .annotate(last_change_at=Subquery(last.values("at")[:1]), last_note=Subquery(last.values("note")[:1]))
        .order_by("-added_at", "-id")
    )


# --- adding ----------------------------------------------------------------------------------------


def _in_force(enterprise_ids: Iterable[int], program: Program) -> set[int]:
    """The enterprises that hold a certification of the programme in force today."""
    return set(
        Certification.objects.filter(
            enterprise_id__in=list(enterprise_ids),
            program=program,
            status=Certification.Status.ACTIVE,
            valid_until__gte=timezone.localdate(),
        ).values_list("enterprise_id", flat=True)
    )


def _clean_note(note: str, *, field: str = "note", limit: int = NOTE_MAX, required: bool = False) -> str:
    note = (note or "").strip()
    label = _("Reason") if field == "reason" else _("Note")
    if required and not note:
        problem = (
            _("say why the enterprise leaves the library.")
            if field == "reason"
            else _("say why the entry moves.")
        )
        raise _field_refusal(field, label, problem, f"{field}_required")
    if len(note) > limit:
        raise _field_refusal(field, label, _("at most %(n)d characters.") % {"n": limit}, f"{field}_too_long")
    return note


def _check_stage(stage: str, field: str = "stage") -> None:
    if stage not in Stage.values:
        label = _("New stage") if field == "to_stage" else _("Stage")
        raise _field_refusal(field, label, _("choose reserve, cultivating or upgrading."), "bad_stage")


def _check_program(program: Program, enterprise: Enterprise) -> None:
    if program.tenant_id != enterprise.tenant_id or not program.is_active:
        raise _field_refusal(
            "program", _("Target programme"), _("choose an active programme of this portal."), "bad_program"
        )
    if not enterprise.county.path.startswith(program.owner_region.path):
        raise _field_refusal(
            "program",
            _("Target programme"),
            _("%(program)s is not open to enterprises of %(county)s.")
            % {"program": program.name, "county": enterprise.county.name},
            "program_not_open",
            status=409,
        )


def _check_screening(screening: Screening, enterprise: Enterprise) -> None:
    if screening.enterprise_id != enterprise.pk or screening.tenant_id != enterprise.tenant_id:
        raise LibraryRefused(_("This screening is of another enterprise."), code="bad_screening")
    if screening.verdict != Screening.Verdict.LIBRARY:
        raise LibraryRefused(
            _(
                "Only a screening with the verdict “cultivation library” can put an enterprise in the library."
            ),
            code="not_library_verdict",
        )


def _create_entry(
    *, enterprise: Enterprise, program: Program, stage: str, by: User, note: str, screening: Screening | None
) -> LibraryEntry:
    now = timezone.now()
    try:
        # A savepoint: the constraint's IntegrityError must not poison the caller's transaction.
        with transaction.atomic():
            entry = LibraryEntry.objects.create(
                tenant_id=enterprise.tenant_id,
                enterprise=enterprise,
                program=program,
                stage=stage,
                source=LibraryEntry.Source.SCREENING if screening else LibraryEntry.Source.MANUAL,
                screening=screening,
                note=note,
                added_by=by,
                added_at=now,
            )
    except IntegrityError:
        raise _already_in(enterprise, program) from None
    LibraryStageChange.objects.create(entry=entry, from_stage="", to_stage=stage, note=note, by=by, at=now)
    return entry


def _already_in(enterprise: Enterprise, program: Program) -> LibraryRefused:
    return _field_refusal(
        "enterprise",
        _("Enterprise"),
        _("%(enterprise)s is already in the library for %(program)s.")
        % {"enterprise": enterprise.name, "program": program.name},
        "already_in_library",
        status=409,
    )


def _audit_refusal(*, action: str, by: User, tenant_id: int, obj, reason: str, request) -> None:
    """After the rollback, so that the attempt stays on record (as workflow._audit_refusal)."""
    audit_record(
        action=action,
        actor=by,
        tenant=Tenant.objects.filter(pk=tenant_id).first(),
        obj=obj,
        summary=reason,
        request=request,
        outcome="refused",
    )


def library_add(
    *,
    enterprise: Enterprise,
    program: Program,
    stage: str,
    by: User,
    note: str = "",
    screening: Screening | None = None,
    request=None,
) -> LibraryEntry:
    """Put an enterprise in the library for a target programme, by hand or from a `library` screening."""
    try:
        with transaction.atomic():
            # Serialises adds of one enterprise: the checks below cannot be overtaken by another add.
            enterprise = (
                Enterprise.objects.select_for_update(of=("self",))
                .select_related("county", "tenant")
                .get(pk=enterprise.pk)
            )
            if not may_keep(by, enterprise):
                raise LibraryRefused(
                    _("You may add only enterprises of your own region."), code="not_allowed", status=403
                )
            _check_stage(stage)
            _check_program(program, enterprise)
            note = _clean_note(note)
            if screening is not None:
                _check_screening(screening, enterprise)
            if LibraryEntry.objects.filter(
                enterprise=enterprise, program=program, removed_at__isnull=True
            ).exists():
                raise _already_in(enterprise, program)
            if _in_force([enterprise.pk], program):
                raise _field_refusal(
                    "enterprise",
                    _("Enterprise"),
                    _("%(enterprise)s already holds a certification of %(program)s in force.")
                    % {"enterprise": enterprise.name, "program": program.name},
                    "certified",
                    status=409,
                )
            entry = _create_entry(
                enterprise=enterprise, program=program, stage=stage, by=by, note=note, screening=screening
            )
            audit_record(
                action="library.added",
                actor=by,
                tenant=enterprise.tenant,
                obj=entry,
                summary=f"{enterprise.name} · {program.name} · {entry.get_stage_display()}",
                changes={"stage": [None, stage], "source": [None, entry.source]},
                request=request,
            )
    except LibraryRefused as exc:
        _audit_refusal(
            action="library.added",
            by=by,
            tenant_id=enterprise.tenant_id,
            obj=enterprise,
            reason=exc.message,
            request=request,
        )
        raise
    return entry


@dataclass
class BulkResult:
    added: list[LibraryEntry] = field(default_factory=list)
    skipped: list[tuple[Enterprise, str]] = field(default_factory=list)  # (enterprise, why)


def library_add_from_screening(
    *,
    screenings: Iterable[Screening],
    program: Program,
    stage: str,
    by: User,
    note: str = "",
    request=None,
) -> BulkResult:
    """Add every enterprise whose screening says `library` and that is not in the library for the
    programme yet, in one transaction. The others are skipped with the reason: already in, certified,
    outside the official's region, or not open to the programme. Locks the enterprises in pk order."""
    _check_stage(stage)
    note = _clean_note(note)
    if not program.is_active:
        raise _field_refusal(
            "program", _("Target programme"), _("choose an active programme of this portal."), "bad_program"
        )
    chosen: dict[int, Screening] = {}
    for screening in screenings:
        if screening.verdict == Screening.Verdict.LIBRARY and screening.tenant_id == program.tenant_id:
            chosen.setdefault(screening.enterprise_id, screening)
    result = BulkResult()
    if not chosen:
        return result
    with transaction.atomic():
        enterprises = list(
            Enterprise.objects.select_for_update(of=("self",))
            .select_related("county", "tenant")
            .filter(pk__in=list(chosen), tenant_id=program.tenant_id)
            .order_by("pk")
        )
        already = set(
            LibraryEntry.objects.filter(
                enterprise_id__in=[e.pk for e in enterprises], program=program, removed_at__isnull=True
            ).values_list("enterprise_id", flat=True)
        )
        certified = _in_force([e.pk for e in enterprises], program)
        for enterprise in enterprises:
            if not may_keep(by, enterprise):
                result.skipped.append((enterprise, _("outside your region")))
            elif not enterprise.county.path.startswith(program.owner_region.path):
                result.skipped.append((enterprise, _("the programme is not open to its county")))
            elif enterprise.pk in already:
                result.skipped.append((enterprise, _("already in the library for this programme")))
            elif enterprise.pk in certified:
                result.skipped.append((enterprise, _("holds a certification of this programme in force")))
            else:
                entry = _create_entry(
                    enterprise=enterprise,
                    program=program,
                    stage=stage,
                    by=by,
                    note=note,
                    screening=chosen[enterprise.pk],
                )
                audit_record(
                    action="library.added",
                    actor=by,
                    tenant=enterprise.tenant,
                    obj=entry,
                    summary=f"{enterprise.name} · {program.name} · {entry.get_stage_display()}",
                    changes={"stage": [None, stage], "source": [None, entry.source]},
                    request=request,
                )
                result.added.append(entry)
    return result


def batch_library_screenings(batch: ScreeningBatch) -> QuerySet[Screening]:
    """The batch's current results with the verdict `library`: as the batch page lists them (the newest
    screening of each enterprise, i.e. the one of its current facts)."""
    return (
        Screening.objects.filter(
            tenant_id=batch.tenant_id,
            version_id=batch.version_id,
            purpose=Screening.Purpose.BACKGROUND,
            verdict=Screening.Verdict.LIBRARY,
            enterprise__county__path__startswith=batch.region.path,
            facts_hash=F("enterprise__facts_hash"),
        )
        .select_related("enterprise__county")
        .defer("enterprise__facts")
        .order_by("-score", "enterprise__name", "pk")
    )


# --- moving and removing ----------------------------------------------------------------------------


def _lock_entry(entry: LibraryEntry) -> LibraryEntry:
    return (
        LibraryEntry.objects.select_for_update(of=("self",))
        .select_related("enterprise__county", "enterprise__tenant", "program")
        .get(pk=entry.pk)
    )


def library_move(*, entry: LibraryEntry, to_stage: str, note: str, by: User, request=None) -> LibraryEntry:
    """Move an entry to another stage; the note (required) says why and stays in the history."""
    try:
        with transaction.atomic():
            entry = _lock_entry(entry)
            if not may_keep(by, entry.enterprise):
                raise LibraryRefused(
                    _("You may change only entries of your own region."), code="not_allowed", status=403
                )
            if entry.removed_at is not None:
                raise LibraryRefused(_("This entry has been removed from the library."), code="removed")
            _check_stage(to_stage, field="to_stage")
            if to_stage == entry.stage:
                raise _field_refusal(
                    "to_stage",
                    _("New stage"),
                    _("the entry is already at this stage."),
                    "same_stage",
                    status=409,
                )
            note = _clean_note(note, required=True)
            from_stage = entry.stage
            entry.stage = to_stage
            entry.save(update_fields=["stage"])
            LibraryStageChange.objects.create(
                entry=entry, from_stage=from_stage, to_stage=to_stage, note=note, by=by, at=timezone.now()
            )
            audit_record(
                action="library.moved",
                actor=by,
                tenant=entry.enterprise.tenant,
                obj=entry,
                summary=f"{entry.enterprise.name}: {Stage(from_stage).label} → {Stage(to_stage).label} · {note}",
                changes={"stage": [from_stage, to_stage]},
                request=request,
            )
    except LibraryRefused as exc:
        _audit_refusal(
            action="library.moved",
            by=by,
            tenant_id=entry.tenant_id,
            obj=entry,
            reason=exc.message,
            request=request,
        )
        raise
    return entry


def library_remove(*, entry: LibraryEntry, reason: str, by: User, request=None) -> LibraryEntry:
    """Take an entry out of the library with a reason. The entry and its history stay; the enterprise may be
    added again later (a new entry)."""
    try:
        with transaction.atomic():
            entry = _lock_entry(entry)
            if not may_keep(by, entry.enterprise):
                raise LibraryRefused(
                    _("You may change only entries of your own region."), code="not_allowed", status=403
                )
            if entry.removed_at is not None:
                raise LibraryRefused(_("This entry has been removed from the library."), code="removed")
            reason = _clean_note(reason, field="reason", limit=REASON_MAX, required=True)
            now = timezone.now()
            entry.removed_at, entry.removed_by, entry.removal_reason = now, by, reason
            entry.save(update_fields=["removed_at", "removed_by", "removal_reason"])
            LibraryStageChange.objects.create(
                entry=entry, from_stage=entry.stage, to_stage="", note=reason, by=by, at=now
            )
            audit_record(
                action="library.removed",
                actor=by,
                tenant=entry.enterprise.tenant,
                obj=entry,
                summary=f"{entry.enterprise.name} · {entry.program.name} · {reason}",
                changes={"removed_at": [None, now.isoformat()]},
                request=request,
            )
    except LibraryRefused as exc:
        _audit_refusal(
            action="library.removed",
            by=by,
            tenant_id=entry.tenant_id,
            obj=entry,
            reason=exc.message,
            request=request,
        )
        raise
    return entry


# --- targets ---------------------------------------------------------------------------------------


def target_required(regulated_enterprises: int, share_percent: Decimal, minimum: int) -> int:
    """max(minimum, ⌈regulated × share%⌉): seed 004 "不少于辖区规上工业企业总数的10%，其中博乐市不少于6家".

    Decimal throughout: 48 × 10% is exactly 4.8, and ⌈4.8⌉ = 5, never 4.800000001 rounded to 6."""
    share = (Decimal(regulated_enterprises) * Decimal(share_percent) / Decimal(100)).to_integral_value(
        rounding=ROUND_CEILING
    )
    return max(int(minimum), int(share))


def library_target_save(
    *,
    region: Region,
    year: int,
    regulated_enterprises: int,
    share_percent: Decimal,
    minimum: int,
    by: User,
    source: str = "",
    request=None,
) -> LibraryTarget:
    """Create or change a county's target for a year (province or prefecture officials above it)."""
    if region.level != Region.Level.COUNTY:
        raise _field_refusal("region", _("Region"), _("targets are set for counties."), "not_county")
    if not may_set_target(by, region):
        raise LibraryRefused(
            _("Only officials of the province or the prefecture above a county set its target."),
            code="not_allowed",
            status=403,
        )
    share_percent = Decimal(share_percent)
    if not (Decimal(0) <= share_percent <= Decimal(100)):
        raise _field_refusal("share_percent", _("Share (%)"), _("between 0 and 100."), "bad_share")
    if regulated_enterprises < 0:
        raise _field_refusal(
            "regulated_enterprises",
            _("Regulated industrial enterprises"),
            _("a number of 0 or more."),
            "bad_regulated",
        )
    if minimum < 0:
        raise _field_refusal(
            "minimum", pgettext("library target", "Minimum"), _("a number of 0 or more."), "bad_minimum"
        )
    if not (2000 <= year <= 2100):
        raise _field_refusal("year", _("Year"), _("between 2000 and 2100."), "bad_year")
    fields = ["regulated_enterprises", "share_percent", "minimum", "source"]
    with transaction.atomic():
        target = LibraryTarget.objects.select_for_update().filter(region=region, year=year).first()
        if target is None:
            try:
                # A savepoint: a concurrent creation's IntegrityError must not end our transaction.
                with transaction.atomic():
                    target = LibraryTarget.objects.create(
                        tenant_id=region.tenant_id, region=region, year=year
                    )
                before: dict = {}
            except IntegrityError:
                # Another official created it meanwhile: change that row instead.
                target = LibraryTarget.objects.select_for_update().get(region=region, year=year)
                before = {name: getattr(target, name) for name in fields}
        else:
            before = {name: getattr(target, name) for name in fields}
        target.regulated_enterprises = regulated_enterprises
        target.share_percent = share_percent
        target.minimum = minimum
        target.source = source.strip()[:200]
        target.updated_by = by
        target.save()
        required = target_required(regulated_enterprises, share_percent, minimum)
        audit_record(
            action="library.target_saved",
            actor=by,
            tenant=region.tenant,
            obj=target,
            summary=f"{region.name} {year}: {required}",
            changes=diff(target, before, fields),
            request=request,
        )
    return target


@dataclass
class TargetRow:
    region: Region
    target: LibraryTarget | None
    current: int
    required: int | None = None  # max(minimum, ⌈regulated × share%⌉), None without a target
    from_share: int | None = None  # ⌈regulated × share%⌉
    shortfall: int | None = None
    minimum_wins: bool = False

    def __post_init__(self):
        if self.target is not None:
            t = self.target
            self.from_share = target_required(t.regulated_enterprises, t.share_percent, 0)
            self.required = max(t.minimum, self.from_share)
            self.minimum_wins = t.minimum > self.from_share
            self.shortfall = max(0, self.required - self.current)


def year_end(year: int) -> datetime:
    """The first moment of the next year in the portal's time zone (Asia/Shanghai)."""
    return timezone.make_aware(datetime(year + 1, 1, 1))


def library_targets_status(*, tenant: Tenant, region_scope: Region, year: int) -> list[TargetRow]:
    """Per county of `region_scope`: its target for `year`, the enterprises in the library at the end of
    that year (now, for the current year) and the shortfall. Two queries, whatever the number of counties:
    the counts are one annotated query over the region tree, the targets one more."""
    end = year_end(year)
    in_library = Q(
        enterprises__library_entries__tenant=tenant,
        enterprises__library_entries__added_at__lt=end,
    ) & (
        Q(enterprises__library_entries__removed_at__isnull=True)
        | Q(enterprises__library_entries__removed_at__gte=end)
    )
    counties = list(
        Region.objects.in_subtree(region_scope)
        .filter(tenant=tenant, level=Region.Level.COUNTY)
        .annotate(current=Count("enterprises", filter=in_library, distinct=True))
        .order_by("code")
    )
    targets = {
        t.region_id: t
        for t in LibraryTarget.objects.filter(tenant=tenant, year=year, region__in=[c.pk for c in counties])
    }
    return [TargetRow(region=c, target=targets.get(c.pk), current=c.current) for c in counties]


def today_year() -> int:
    return timezone.localdate().year
