"""Rounds, applications and the review chain: every business action on them lives here.

Pages, the API, the admin and tasks call these functions. Each state change runs
in one transaction that locks the application row (then quota rows, always in
that order, so two actions never wait on each other in a circle), writes a
history row and an audit event, and sends notifications only after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certification import application_form
from certification.models import (
    LEVEL_ORDER,
    Application,
    ApplicationAttachment,
    ApplicationSnapshot,
    ExpertAssignment,
    ExpertProfile,
    Level,
    Program,
    QuotaUse,
    ReminderSent,
    ReviewEvent,
    Round,
    RoundQuota,
    RoundStage,
    Screening,
)
from certification.transitions import ACTION_LABELS, Action, Actor, roles_for, transition_for
from enterprises.facts import enterprise_facts, facts_hash, facts_to_json, fiscal_years
from enterprises.models import Document, Enterprise
from portal.api.errors import DomainError
from portal.audit import audit_record
from portal.models import Post, Region, Tenant, User
from portal.notifications import notification_send

log = logging.getLogger(__name__)

S = Application.State

# Blocks a new application, e.g. an active certification of the same programme (the publication
# issue registers its own). Each takes (enterprise, program) and returns a reason or None.
APPLY_BLOCKERS: list = []


class WorkflowRefused(DomainError):
    """An action the rules do not allow now; the message says why."""

    def __init__(
        self,
        message: str,
        code: str = "not_allowed",
        status: int = 409,
        fields: dict[str, list[str]] | None = None,
        **extra,
    ):
        super().__init__(message, code=code, status=status, extra=extra or None, fields=fields)
        self.code = code


# --- chain -----------------------------------------------------------------------------------


def level_of_region(region: Region) -> str:
    return {"province": Level.PROVINCE, "prefecture": Level.PREFECTURE, "county": Level.COUNTY}[region.level]


def chain_levels(round_: Round) -> list[str]:
    """The levels that act on this round's applications, from the first to the owner's."""
    present = {s.level for s in round_.stages.all()}
    return [lvl for lvl in LEVEL_ORDER if lvl in present]


def application_levels(round_: Round, county: Region) -> list[str]:
    """The round's chain for one applicant: a county directly under the province (新疆's 石河子市 and
    the other 省直辖 cities) has no prefecture, so the prefecture level is skipped for it."""
    depth = len(county.path.strip("/").split("/"))
    return [lvl for lvl in chain_levels(round_) if not (lvl == Level.PREFECTURE and depth < 3)]


def region_at(county: Region, level: str) -> Region:
    """The applicant county's ancestor (or itself) at `level`."""
    codes = county.path.strip("/").split("/")
    index = {Level.PROVINCE: 0, Level.PREFECTURE: 1, Level.COUNTY: 2}[level]
    code = codes[min(index, len(codes) - 1)]
    if code == county.code:
        return county
    return Region.objects.get(tenant_id=county.tenant_id, code=code)


def stage_for(round_: Round, level: str) -> RoundStage | None:
    return next((s for s in round_.stages.all() if s.level == level), None)


# --- rounds ----------------------------------------------------------------------------------


@dataclass
class StageSpec:
    level: str
    deadline: datetime


@dataclass
class QuotaSpec:
    region: Region
    maximum: int | None = None
    minimum: int | None = None
    source: str = ""


def round_save(
    *,
    round_: Round,
    stages: list[StageSpec],
    quotas: list[QuotaSpec] | None = None,
    by: User | None,
    request=None,
    actor_label: str = "",
) -> Round:
    """Create or change a round with its chain and quotas. Opening a round freezes its criteria version."""
    from certification.services import criteria_version_freeze

    program: Program = round_.program
    errors: dict[str, list[str]] = {}
    if round_.version.program_id != program.pk:
        errors.setdefault("version", []).append(_("This criteria version belongs to another programme."))
    if round_.opens_at and round_.closes_at and round_.closes_at <= round_.opens_at:
        errors.setdefault("closes_at", []).append(_("The round must close after it opens."))
    owner_level = level_of_region(program.owner_region)
    allowed = LEVEL_ORDER[: LEVEL_ORDER.index(owner_level) + 1]
    levels = [s.level for s in stages]
    if len(set(levels)) != len(levels):
        errors.setdefault("stages", []).append(_("Each level appears once in the chain."))
    for spec in stages:
        if spec.level not in allowed:
            errors.setdefault("stages", []).append(
                _("%(level)s is above the programme's owner, %(owner)s.")
                % {"level": Level(spec.level).label, "owner": program.owner_region.name}
            )
        elif round_.closes_at and spec.deadline < round_.closes_at:
            errors.setdefault("stages", []).append(
                _("The %(level)s review deadline must fall after the round closes.")
                % {"level": Level(spec.level).label}
            )
    if owner_level not in levels:
        errors.setdefault("stages", []).append(
            _("The chain must end at the programme's owner (%(owner)s).")
            % {"owner": program.owner_region.name}
        )
    ordered = sorted(stages, key=lambda s: LEVEL_ORDER.index(s.level) if s.level in LEVEL_ORDER else 9)
    for lower, higher in zip(ordered, ordered[1:], strict=False):
        if higher.deadline < lower.deadline:
            errors.setdefault("stages", []).append(
                _("A higher level's deadline cannot come before a lower level's.")
            )
            break
    for q in quotas or []:
        if q.region.tenant_id != program.tenant_id or not program.owner_region.contains(q.region):
            errors.setdefault("quotas", []).append(
                _("%(region)s is not under the programme's owner.") % {"region": q.region.name}
            )
        elif q.region.pk == program.owner_region_id:
            errors.setdefault("quotas", []).append(
                _("The owner region recommends to no one: it has no quota.")
            )
        if q.maximum is not None and q.minimum is not None and q.minimum > q.maximum:
            errors.setdefault("quotas", []).append(
                _("%(region)s: the minimum is above the maximum.") % {"region": q.region.name}
            )
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        creating = round_.pk is None
        if not creating:
            locked = Round.objects.select_for_update().get(pk=round_.pk)
            if locked.applications.exclude(state=S.DRAFT).exists() and locked.version_id != round_.version_id:
                raise ValidationError(
                    {"version": [_("Applications were submitted: the criteria version stays.")]}
                )
        version = criteria_version_freeze(
            version=round_.version, by=by, request=request, actor_label=actor_label
        )
        round_.version = version
        round_.tenant_id = program.tenant_id
        round_.year = round_.year or timezone.localtime(round_.opens_at).year
        if creating and by is not None and by.is_authenticated:
            round_.created_by = by
        round_.full_clean(exclude=["tenant", "created_by"])
        round_.save()
        round_.stages.exclude(level__in=levels).delete()
        for spec in stages:
            RoundStage.objects.update_or_create(
                round=round_, level=spec.level, defaults={"deadline": spec.deadline}
            )
        if quotas is not None:
            keep = [q.region.pk for q in quotas]
            round_.quotas.exclude(region_id__in=keep).filter(uses__isnull=True).delete()
            for q in quotas:
                RoundQuota.objects.update_or_create(
                    round=round_,
                    region=q.region,
                    defaults={"maximum": q.maximum, "minimum": q.minimum, "source": q.source},
                )
        audit_record(
            action="round.created" if creating else "round.changed",
            actor=by,
            tenant=program.tenant,
            obj=round_,
            summary=f"{program.code} {round_.name} {round_.opens_at:%Y-%m-%d}–{round_.closes_at:%Y-%m-%d}",
            changes={
                "stages": {s.level: s.deadline.isoformat() for s in stages},
                "quotas": {q.region.code: [q.maximum, q.minimum] for q in quotas or []},
            },
            request=request,
            actor_label=actor_label,
        )
    return round_


def rounds_open_to(enterprise: Enterprise, at: datetime | None = None):
    """Rounds the enterprise may apply to now: open, of a programme whose owner contains its county."""
    at = at or timezone.now()
    codes = enterprise.county.path.strip("/").split("/")
    return (
        Round.objects.for_tenant(enterprise.tenant)
        .filter(
            opens_at__lte=at, closes_at__gt=at, program__is_active=True, program__owner_region__code__in=codes
        )
        .select_related("program", "version")
        .order_by("closes_at")
    )


def quota_status(round_: Round) -> list[dict[str, Any]]:
    """Per region of the round: used, maximum, remaining, minimum and shortfall (one query)."""
    rows = []
    for q in round_.quotas.select_related("region").annotate(used=Count("uses")).order_by("region__code"):
        remaining = None if q.maximum is None else max(q.maximum - q.used, 0)
        shortfall = None if q.minimum is None else max(q.minimum - q.used, 0)
        rows.append(
            {
                "quota": q,
                "region": q.region,
                "used": q.used,
                "maximum": q.maximum,
                "minimum": q.minimum,
                "remaining": remaining,
                "shortfall": shortfall,
                "source": q.source,
            }
        )
    return rows


# --- starting and editing an application -------------------------------------------------------


def _prefill(enterprise: Enterprise) -> dict[str, Any]:
    return {
        "products": {
            # Not the profile's market share: that is a national share kept as a fraction; the form asks
            # for the share of the niche market, in per cent.
            "main_product": enterprise.main_product or "",
        },
        "innovation": {},
        "commitment": {"signer_name": enterprise.legal_representative or "", "agreed": False},
    }


def application_start(*, round_: Round, enterprise: Enterprise, by: User, request=None) -> Application:
    """An enterprise starts a draft for an open round; the form is prefilled from its profile."""
    if round_.tenant_id != enterprise.tenant_id:
        raise WorkflowRefused(_("This round is not part of this portal."), code="not_found")
    if not round_.is_open():
        raise WorkflowRefused(
            _("This round is not open: it accepts applications from %(opens)s to %(closes)s.")
            % {
                "opens": timezone.localtime(round_.opens_at).strftime("%Y-%m-%d %H:%M"),
                "closes": timezone.localtime(round_.closes_at).strftime("%Y-%m-%d %H:%M"),
            },
            code="round_closed",
        )
    if not round_.program.is_active:
        # rounds_open_to hides it; a bookmarked "start" link must not get past that.
        raise WorkflowRefused(_("This programme no longer accepts applications."), code="round_closed")
    if not round_.program.owner_region.contains(enterprise.county):
        raise WorkflowRefused(_("This programme does not cover your county."), code="out_of_scope")
    for blocker in APPLY_BLOCKERS:
        reason = blocker(enterprise, round_.program)
        if reason:
            raise WorkflowRefused(reason, code="duplicate")
    existing = (
        Application.objects.filter(round=round_, enterprise=enterprise).exclude(state=S.WITHDRAWN).first()
    )
    if existing is not None:
        raise WorkflowRefused(
            _("Your enterprise already has an application in this round."),
            code="duplicate",
            application=existing.pk,
        )
    try:
        with transaction.atomic():
            application = Application.objects.create(
                tenant_id=enterprise.tenant_id,
                round=round_,
                enterprise=enterprise,
                county=enterprise.county,
                data=_prefill(enterprise),
                created_by=by,
            )
            _event(application, action="start", by=by, from_state="", to_state=S.DRAFT)
            audit_record(
                action="application.started",
                actor=by,
                tenant=round_.program.tenant,
                obj=application,
                summary=f"{enterprise.name} · {round_.name}",
                request=request,
            )
    except IntegrityError:
        # Two tabs pressed "start" at once: the partial unique index let one through.
        raise WorkflowRefused(
            _("Your enterprise already has an application in this round."), code="duplicate"
        ) from None
    return application


def _already_holds(enterprise: Enterprise, program: Program) -> str | None:
    """No second application while an approved one of the same programme stands (until publication
    turns it into a certification, whose own check replaces this one)."""
    if Application.objects.filter(
        enterprise=enterprise, round__program=program, state__in=[S.APPROVED, S.IN_NOTICE]
    ).exists():
        return _("Your enterprise already holds an approved application of this programme.")
    return None


APPLY_BLOCKERS.append(_already_holds)


def _editable(application: Application) -> None:
    if application.state not in (S.DRAFT, S.RETURNED):
        raise WorkflowRefused(
            _("This application is %(state)s: it can no longer be edited.")
            % {"state": application.get_state_display()},
            code="not_editable",
        )


@transaction.atomic
def application_save_draft(
    *, application: Application, by: User, data: dict[str, Any], revision: int | None = None, request=None
) -> tuple[Application, dict[str, str]]:
    """Save what the enterprise typed (autosave and the save button). Returns the field errors found.

    Wrong values are kept as typed, so nothing is lost; submission refuses them. A save based on an
    older revision than the stored one (another tab saved in between) is refused rather than silently
    overwriting the newer text.
    """
    application = Application.objects.select_for_update().get(pk=application.pk)
    _editable(application)
    if revision is not None and int(revision) != application.revision:
        raise WorkflowRefused(
            _("This application was changed in another window. Reload the page to see the latest version."),
            code="stale",
            revision=application.revision,
        )
    cleaned, errors = application_form.clean_sections(data)
    merged = {**application.data}
    for code, values in cleaned.items():
        merged[code] = {**(merged.get(code) or {}), **values}
    changed = merged != application.data
    if changed:
        application.data = merged
        application.revision += 1
        application.save(update_fields=["data", "revision", "updated_at"])
        audit_record(
            action="application.draft_saved",
            actor=by,
            tenant=application.round.tenant,
            obj=application,
            summary=", ".join(sorted(cleaned)),
            request=request,
        )
    return application, errors


def attachment_slots(program: Program) -> list[dict[str, Any]]:
    return program.attachment_slots or application_form.default_attachment_slots(program.tier)


@transaction.atomic
def application_attach(*, application: Application, slot: str, document: Document, by: User, request=None):
    application = (
        Application.objects.select_for_update().select_related("round__program").get(pk=application.pk)
    )
    _editable(application)
    spec = next((s for s in attachment_slots(application.round.program) if s["code"] == slot), None)
    if spec is None:
        raise ValidationError({"slot": [_("This programme has no such attachment.")]})
    if document.enterprise_id != application.enterprise_id:
        raise ValidationError({"document": [_("Choose one of your enterprise's documents.")]})
    if document.doc_type not in spec["doc_types"]:
        raise ValidationError(
            {
                "document": [
                    _("%(slot)s takes: %(types)s.")
                    % {"slot": spec["label"], "types": "、".join(_doc_type_labels(spec["doc_types"]))}
                ]
            }
        )
    attachment, created = ApplicationAttachment.objects.get_or_create(
        application=application, slot=slot, document=document
    )
    if created:
        audit_record(
            action="application.attached",
            actor=by,
            tenant=application.round.tenant,
            obj=application,
            summary=f"{slot}: {document.original_name}",
            request=request,
        )
    return attachment


@transaction.atomic
def application_detach(*, application: Application, attachment_id: int, by: User, request=None) -> None:
    application = Application.objects.select_for_update().get(pk=application.pk)
    _editable(application)
    attachment = application.attachments.select_related("document").filter(pk=attachment_id).first()
    if attachment is None:
        raise ValidationError({"attachment": [_("No such attachment.")]})
    attachment.delete()
    audit_record(
        action="application.detached",
        actor=by,
        tenant=application.round.tenant,
        obj=application,
        summary=f"{attachment.slot}: {attachment.document.original_name}",
        request=request,
    )


def _doc_type_labels(types: list[str]) -> list[str]:
    labels = dict(Document.Type.choices)
    return [str(labels.get(t, t)) for t in types]


# --- the submission check -----------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    section: str
    field: str  # the HTML id to link to
    message: str
    url: str = ""  # another page where it is fixed (profile, figures), when not on the form


PROFILE_REQUIRED = (
    "legal_representative",
    "contact_person",
    "contact_phone",
    "contact_email",
    "established_date",
    "industry",
    "address",
)


def application_problems(application: Application, *, at: datetime | None = None) -> list[Problem]:
    """Everything that stops the application from being submitted, each with where to fix it."""
    from enterprises.services import enterprise_can_submit

    enterprise = application.enterprise
    tenant_code = application.round.tenant.code if hasattr(application.round, "tenant") else ""
    problems: list[Problem] = []

    def page(name: str) -> str:
        try:
            return reverse(name, kwargs={"tenant_code": tenant_code})
        except Exception:  # noqa: BLE001 — a missing page name must not hide the problem itself
            return ""

    reason = enterprise_can_submit(enterprise)
    if reason:
        problems.append(Problem("basic", "basic", str(reason), page("enterprise_home")))
    round_ = application.round
    if application.state == S.DRAFT and not round_.is_open(at):
        problems.append(
            Problem("basic", "basic", _("The round closed on %(day)s.") % {"day": _fmt(round_.closes_at)})
        )
    for name in PROFILE_REQUIRED:
        if getattr(enterprise, name if name != "industry" else "industry_id") in (None, ""):
            label = Enterprise._meta.get_field(name).verbose_name
            problems.append(
                Problem(
                    "basic",
                    "basic",
                    _("Basic information: %(field)s is missing; complete your profile.") % {"field": label},
                    page("enterprise_profile"),
                )
            )
    facts = enterprise_facts(enterprise)
    for suffix, ordinal in (
        ("y1", _("last year")),
        ("y2", _("the year before")),
        ("y3", _("three years ago")),
    ):
        if facts.get(f"revenue_{suffix}") is None:
            problems.append(
                Problem(
                    "figures",
                    "figures",
                    _("Figures: the revenue of %(year)s is missing.") % {"year": ordinal},
                    page("enterprise_figures"),
                )
            )
    data = application.data or {}
    _cleaned, errors = application_form.clean_sections(data)
    for key, message in errors.items():
        section, name = key.split(".", 1)
        label = next(f.label for f in application_form.SECTION_BY_CODE[section].fields if f.name == name)
        problems.append(Problem(section, application_form.field_id(section, name), f"{label}: {message}"))
    for section, f in application_form.missing_required(data):
        if f"{section.code}.{f.name}" in errors:
            continue
        message = (
            _("Tick the declaration to sign it.")
            if f.kind == "bool"
            else _("%(field)s is required.") % {"field": f.label}
        )
        problems.append(Problem(section.code, application_form.field_id(section.code, f.name), str(message)))
    attached: dict[str, list[Document]] = {}
    for a in application.attachments.select_related("document"):
        attached.setdefault(a.slot, []).append(a.document)
    for slot in attachment_slots(round_.program):
        docs = attached.get(slot["code"], [])
        anchor = f"slot-{slot['code']}"
        if slot.get("required") and not docs:
            problems.append(Problem("attachments", anchor, _("Attach: %(slot)s.") % {"slot": slot["label"]}))
        for doc in docs:
            if doc.scan_status != Document.Scan.CLEAN:
                problems.append(
                    Problem(
                        "attachments",
                        anchor,
                        _("%(name)s has not passed the malware scan (%(status)s).")
                        % {"name": doc.original_name, "status": doc.get_scan_status_display()},
                    )
                )
    return problems


def problems_by_field(problems: list[Problem]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for p in problems:
        grouped.setdefault(p.field, []).append(p.message)
    return grouped


def _fmt(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- snapshot ----------------------------------------------------------------------------


def profile_snapshot(enterprise: Enterprise) -> dict[str, Any]:
    """Basic information, figures, IP and qualifications as the reviewers will see them."""
    basic = {
        "name": enterprise.name,
        "uscc": enterprise.uscc,
        "county": enterprise.county.name,
        "county_code": enterprise.county.code,
        "address": enterprise.address,
        "industry": f"{enterprise.industry_id} {enterprise.industry.name}" if enterprise.industry_id else "",
        "legal_representative": enterprise.legal_representative,
        "contact_person": enterprise.contact_person,
        "contact_phone": enterprise.contact_phone,
        "contact_email": enterprise.contact_email,
        "established_date": enterprise.established_date.isoformat() if enterprise.established_date else "",
        "size_class": enterprise.size_class,
        "main_product": enterprise.main_product,
    }
    figures = [
        {
            "fiscal_year": f.fiscal_year,
            **{
                name: (None if getattr(f, name) is None else str(getattr(f, name)))
                for name in (
                    "revenue",
                    "main_business_revenue",
                    "rd_expense",
                    "net_profit",
                    "total_assets",
                    "total_liabilities",
                    "employees",
                    "rd_staff",
                )
            },
        }
        # The three complete fiscal years the criteria read, not a current year entered early.
        for f in enterprise.figures.filter(fiscal_year__in=fiscal_years(timezone.localdate())).order_by(
            "-fiscal_year"
        )
    ]
    ip = [
        {
            "type": item.get_ip_type_display(),
            "number": item.number,
            "title": item.title,
            "grant_date": item.grant_date.isoformat(),
            "valid": item.valid,
        }
        for item in enterprise.ip_items.order_by("-grant_date")
    ]
    quals = [
        {
            "kind": q.get_kind_display(),
            "title": q.title,
            "level": q.get_level_display(),
            "issued_on": q.issued_on.isoformat(),
        }
        for q in enterprise.qualifications.order_by("-issued_on")
    ]
    return {"basic": basic, "figures": figures, "ip": ip, "qualifications": quals}


def _take_snapshot(application: Application, by: User) -> ApplicationSnapshot:
    from certification.models import SnapshotDocument
    from certification.services import screening_record

    enterprise = Enterprise.objects.select_related("county", "industry").get(pk=application.enterprise_id)
    facts = enterprise_facts(enterprise)
    screening = screening_record(
        enterprise=enterprise,
        version=application.round.version,
        purpose=Screening.Purpose.APPLICATION,
        facts=facts,
    )
    attachments = [
        {
            "slot": a.slot,
            "document": a.document_id,
            "name": a.document.original_name,
            "sha256": a.document.sha256,
            "size": a.document.size,
            "doc_type": a.document.doc_type,
        }
        for a in application.attachments.select_related("document").order_by("slot", "id")
    ]
    number = (application.snapshots.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    snapshot = ApplicationSnapshot.objects.create(
        application=application,
        number=number,
        facts=facts_to_json(facts),
        facts_hash=facts_hash(facts),
        profile=profile_snapshot(enterprise),
        data=application.data,
        attachments=attachments,
        result=screening.result,
        created_by=by,
    )
    SnapshotDocument.objects.bulk_create(
        [SnapshotDocument(snapshot=snapshot, document_id=a["document"], slot=a["slot"]) for a in attachments],
        ignore_conflicts=True,
    )
    application.screening = screening
    application.verdict = screening.verdict
    application.score = screening.score
    return snapshot


def latest_snapshot(application: Application) -> ApplicationSnapshot | None:
    return application.snapshots.order_by("-number").first()


# --- acting --------------------------------------------------------------------------------


def _event(
    application: Application,
    *,
    action: str,
    by: User | None,
    from_state: str,
    to_state: str,
    opinion: str = "",
    minor: bool = False,
    snapshot: ApplicationSnapshot | None = None,
    level: str = "",
    region: Region | None = None,
) -> ReviewEvent:
    return ReviewEvent.objects.create(
        application=application,
        action=action,
        from_state=from_state,
        to_state=to_state,
        level=level,
        region=region,
        actor=by if by is not None and by.is_authenticated else None,
        actor_label=(str(by) if by is not None and by.is_authenticated else "system")[:150],
        opinion=opinion,
        minor=minor,
        snapshot=snapshot,
    )


def is_member_of(user: User, application: Application) -> bool:
    from enterprises.permissions import is_member

    return user.is_authenticated and is_member(user, application.enterprise)


def acting_posts(user: User, application: Application, roles: set[str]) -> list[Post]:
    """The user's posts that may act where the application waits now."""
    if not user.is_authenticated or application.current_region_id is None:
        return []
    return [
        p
        for p in user.posts_in(application.round.tenant)
        if p.region_id == application.current_region_id and p.role in roles
    ]


def application_can(
    application: Application, action: str, *, by: User, at: datetime | None = None
) -> str | None:
    """Why `by` may not take `action` on the application now, or None when it may."""
    at = at or timezone.now()
    transition = transition_for(application.state, action)
    if transition is None:
        return _("An application that is %(state)s cannot be %(action)s.") % {
            "state": application.get_state_display(),
            "action": ACTION_LABELS.get(action, action),
        }
    round_ = application.round
    if transition.actor == Actor.ENTERPRISE:
        if not is_member_of(by, application):
            return _("Only a member of the applicant enterprise can do this.")
        if action == Action.SUBMIT and not round_.is_open(at):
            return _("The round closed on %(day)s; applications can no longer be submitted.") % {
                "day": _fmt(round_.closes_at)
            }
        if action == Action.RESUBMIT:
            last = stage_for(round_, application_levels(round_, application.county)[-1])
            if last is not None and at > last.deadline:
                return _("The review of this round ended on %(day)s.") % {"day": _fmt(last.deadline)}
        if action == Action.WITHDRAW and application.state == S.SUBMITTED:
            decided = application.events.filter(
                action__in=[Action.RETURN, Action.REJECT, Action.RECOMMEND]
            ).exists()
            if decided:
                return _("An application can be withdrawn only before the first decision on it.")
        return None
    # Officials: the right role at the region the application waits at, before the level's deadline.
    levels = application_levels(round_, application.county)
    is_final = application.level == (levels[-1] if levels else "")
    if transition.final_level is True and not is_final:
        return _("Only the last level of the chain (%(level)s) approves.") % {
            "level": Level(levels[-1]).label
        }
    if transition.final_level is False and is_final:
        return _("This is the last level of the chain: approve or reject instead of recommending.")
    roles = roles_for(transition, application.level)
    if not acting_posts(by, application, roles):
        region = application.current_region.name if application.current_region_id else "—"
        return _(
            "The application waits at %(region)s (%(level)s); your posts cannot %(action)s it there."
        ) % {
            "region": region,
            "level": application.get_level_display(),
            "action": ACTION_LABELS.get(action, action),
        }
    stage = stage_for(round_, application.level)
    if stage is not None and at > stage.deadline:
        return _("The %(level)s review deadline passed on %(day)s.") % {
            "level": application.get_level_display(),
            "day": _fmt(stage.deadline),
        }
    if action == Action.APPROVE:
        needed = round_.program.min_expert_reviews
        done = application.expert_assignments.filter(submitted_at__isnull=False).count()
        if done < needed:
            return _("%(done)d of the %(needed)d expert reviews this programme requires are in.") % {
                "done": done,
                "needed": needed,
            }
    return None


# What a locked application is read with. Never `current_region`: when the lock had to wait for
# another transaction that moved the application on, PostgreSQL re-reads the locked row but not the
# rows joined to it, so the joined region comes back stale or empty (None with current_region_id set).
# Loaded lazily after the lock, it is read by the fresh current_region_id.
LOCK_RELATED = ("round__program__owner_region", "round__tenant", "enterprise", "county")


def _lock(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related(*LOCK_RELATED)
        .get(pk=application.pk)
    )


def _use_quota(application: Application, region: Region) -> None:
    """Count the recommendation against the region's quota; refuse when the maximum is reached.

    Two officials of one region pressing "recommend" at once with one place left: each holds its own
    application's lock, then waits here for the quota row's lock, so they count one after the other
    and the second sees no place left.
    """
    quota = (
        RoundQuota.objects.select_for_update().filter(round_id=application.round_id, region=region).first()
    )
    if quota is None:
        return
    if QuotaUse.objects.filter(quota=quota, application=application).exists():
        return  # recommended again after a correction: counted once
    used = QuotaUse.objects.filter(quota=quota).count()
    if quota.maximum is not None and used >= quota.maximum:
        raise WorkflowRefused(
            _(
                "Quota reached: %(region)s may recommend at most %(max)d applications in this round, and has recommended %(used)d."
            )
            % {"region": region.name, "max": quota.maximum, "used": used},
            code="quota_reached",
        )
    QuotaUse.objects.create(quota=quota, application=application)


def application_act(
    *,
    application: Application,
    action: str,
    by: User,
    opinion: str = "",
    minor: bool = False,
    request=None,
    at: datetime | None = None,
) -> Application:
    """Take a workflow action (transitions.TABLE). Refused actions raise WorkflowRefused with the reason."""
    try:
        with transaction.atomic():
            application = _lock(application)
            application = _act_locked(
                application, action=action, by=by, opinion=opinion, minor=minor, request=request, at=at
            )
    except WorkflowRefused as exc:
        _audit_refusal(application, action=action, by=by, reason=exc.message, request=request)
        raise
    return application


def _audit_refusal(application: Application, *, action: str, by: User, reason: str, request) -> None:
    """Record a refused action. Called after the action's transaction rolled back: a row written
    inside it would have been rolled back with everything else, leaving no trace of the attempt."""
    audit_record(
        action=f"application.{action}",
        actor=by,
        tenant=application.round.tenant,
        obj=application,
        summary=reason,
        request=request,
        outcome="refused",
    )


def _act_locked(
    application: Application, *, action: str, by: User, opinion: str, minor: bool, request, at
) -> Application:
    opinion = (opinion or "").strip()
    reason = application_can(application, action, by=by, at=at)
    if reason:
        raise WorkflowRefused(str(reason))
    transition = transition_for(application.state, action)
    if transition.needs_reason and not opinion:
        raise ValidationError({"opinion": [_("Give the reason: the enterprise reads it.")]})
    if len(opinion) > 2000:
        raise ValidationError({"opinion": [_("At most 2,000 characters.")]})
    round_ = application.round
    levels = application_levels(round_, application.county)
    before_state, before_level, before_region = (
        application.state,
        application.level,
        application.current_region,
    )
    snapshot = None
    now = at or timezone.now()

    if action in (Action.SUBMIT, Action.RESUBMIT):
        problems = application_problems(application, at=at)
        if problems:
            raise DomainError(
                ngettext(
                    "The application is not complete: %(n)d problem.",
                    "The application is not complete: %(n)d problems.",
                    len(problems),
                )
                % {"n": len(problems)},
                code="incomplete",
                status=400,
                fields=problems_by_field(problems),
            )
        snapshot = _take_snapshot(application, by)
        target_level = levels[0]
        if action == Action.RESUBMIT and application.return_level:
            target_level = application.return_level  # a minor correction goes back to who asked
        application.level = target_level
        application.current_region = region_at(application.county, target_level)
        application.state = S.SUBMITTED if target_level == levels[0] else S.IN_REVIEW
        application.return_level = ""
        application.submitted_at = application.submitted_at if action == Action.RESUBMIT else now
        if action == Action.SUBMIT:
            application.submitted_at = now
    elif action == Action.WITHDRAW:
        application.state = S.WITHDRAWN
        application.level, application.current_region = "", None
    elif action == Action.RETURN:
        application.state = S.RETURNED
        application.return_level = application.level if minor else ""
        application.level, application.current_region = "", None
    elif action == Action.REJECT:
        application.state = S.REJECTED
        application.decided_at = now
        application.level, application.current_region = "", None
    elif action == Action.RECOMMEND:
        _use_quota(application, application.current_region)
        following = levels[levels.index(application.level) + 1]
        application.level = following
        application.current_region = region_at(application.county, following)
        application.state = S.IN_REVIEW
    elif action == Action.APPROVE:
        application.state = S.APPROVED
        application.decided_at = now
        application.level, application.current_region = "", None
    application.save()
    _event(
        application,
        action=action,
        by=by,
        from_state=before_state,
        to_state=application.state,
        opinion=opinion,
        minor=minor and action == Action.RETURN,
        snapshot=snapshot,
        level=before_level if transition.actor == Actor.OFFICIAL else application.level,
        region=before_region if transition.actor == Actor.OFFICIAL else application.current_region,
    )
    audit_record(
        action=f"application.{action}",
        actor=by,
        tenant=round_.tenant,
        obj=application,
        summary=f"{application.enterprise.name} · {round_.name} · {before_state}→{application.state}"
        + (f" · {opinion[:200]}" if opinion else ""),
        changes={"state": [before_state, application.state], "level": [before_level, application.level]},
        request=request,
    )
    _notify(application, action=action, opinion=opinion)
    return application


def application_recommend_bulk(
    *, tenant: Tenant, ids: list[int], by: User, opinion: str = "", request=None
) -> list[Application]:
    """Recommend a selection in one transaction: all of them, or none when one cannot be (e.g. the quota)."""
    failing: list[tuple[Application, str]] = []
    try:
        with transaction.atomic():
            from certification.selectors import applications_visible_to

            # SECURITY: only what the official sees; an id outside their region reads as absent.
            locked = list(
                applications_visible_to(by, tenant)
                .filter(pk__in=ids)
                .select_for_update(of=("self",))
                .select_related(*LOCK_RELATED)
                .order_by("pk")
            )
            if len(locked) != len(set(ids)):
                raise WorkflowRefused(_("Some of the selected applications do not exist."), code="not_found")
            done = []
            for application in locked:
                try:
                    done.append(
                        _act_locked(
                            application,
                            action=Action.RECOMMEND,
                            by=by,
                            opinion=opinion,
                            minor=False,
                            request=request,
                            at=None,
                        )
                    )
                except WorkflowRefused as exc:
                    failing.append((application, exc.message))
                    raise WorkflowRefused(
                        _("Nothing was recommended. %(name)s: %(reason)s")
                        % {"name": application.enterprise.name, "reason": exc.message},
                        code=exc.code,
                    ) from None
    except WorkflowRefused:
        for application, reason in failing:
            _audit_refusal(application, action=Action.RECOMMEND, by=by, reason=reason, request=request)
        raise
    return done


# --- notifications ------------------------------------------------------------------------


def _members(application: Application) -> list[User]:
    return [m.user for m in application.enterprise.memberships.select_related("user")]


def _reviewers_at(application: Application) -> list[User]:
    if application.current_region_id is None:
        return []
    roles = set().union(
        *(roles_for(t, application.level) for t in [transition_for(S.IN_REVIEW, Action.RETURN)])
    )
    posts = Post.objects.filter(
        region_id=application.current_region_id, role__in=roles, is_active=True
    ).select_related("user")
    return [p.user for p in posts]


def _notify(application: Application, *, action: str, opinion: str) -> None:
    tenant = application.round.tenant
    link_enterprise = reverse("application_detail", kwargs={"tenant_code": tenant.code, "pk": application.pk})
    link_official = reverse("review_detail", kwargs={"tenant_code": tenant.code, "pk": application.pk})
    subject = _("Your application to %(round)s: %(state)s") % {
        "round": application.round.name,
        "state": application.get_state_display(),
    }
    body = opinion and (_("Opinion: %(opinion)s") % {"opinion": opinion})
    for user in _members(application):
        notification_send(recipient=user, tenant=tenant, subject=subject, body=body, link=link_enterprise)
    if application.is_waiting:
        for user in _reviewers_at(application):
            notification_send(
                recipient=user,
                tenant=tenant,
                subject=_("An application waits for your review: %(name)s")
                % {"name": application.enterprise.name},
                body=_("Round: %(round)s. Deadline: see the queue.") % {"round": application.round.name},
                link=link_official,
            )


# --- experts -------------------------------------------------------------------------------


def expert_pool(tenant: Tenant):
    return (
        ExpertProfile.objects.for_tenant(tenant)
        .filter(user__posts__tenant=tenant, user__posts__role=Post.Role.EXPERT, user__posts__is_active=True)
        .select_related("user", "home_county")
        .distinct()
    )


def expert_conflict(profile: ExpertProfile, application: Application) -> str | None:
    # The same county as the applicant; an expert whose home is recorded as a prefecture avoids all of it.
    if profile.home_county_id and profile.home_county.contains(application.county):
        return _("%(expert)s comes from %(region)s, where the applicant is.") % {
            "expert": profile.user,
            "region": profile.home_county.name,
        }
    if profile.linked_enterprises.filter(pk=application.enterprise_id).exists():
        return _("%(expert)s declared a link to %(name)s.") % {
            "expert": profile.user,
            "name": application.enterprise.name,
        }
    return None


def expert_can_assign(application: Application, *, by: User) -> str | None:
    """Why `by` cannot assign or withdraw experts on the application now, or None."""
    try:
        _expert_stage_check(application, by)
    except WorkflowRefused as exc:
        return exc.message
    return None


def _expert_stage_check(application: Application, by: User) -> None:
    levels = application_levels(application.round, application.county)
    if not application.is_waiting or application.level != levels[-1]:
        raise WorkflowRefused(
            _("Experts are assigned at the last level of the chain, while the application waits there.")
        )
    if not acting_posts(
        by, application, roles_for(transition_for(S.IN_REVIEW, Action.RETURN), application.level)
    ):
        raise WorkflowRefused(_("Only reviewers where the application waits can assign experts."))


def expert_assign(*, application: Application, expert: User, by: User, request=None) -> ExpertAssignment:
    try:
        return _expert_assign(application=application, expert=expert, by=by, request=request)
    except WorkflowRefused as exc:
        _audit_refusal(application, action="assign_expert", by=by, reason=exc.message, request=request)
        raise


@transaction.atomic
def _expert_assign(*, application: Application, expert: User, by: User, request) -> ExpertAssignment:
    from portal.permissions import grant

    application = _lock(application)
    _expert_stage_check(application, by)
    profile = expert_pool(application.round.tenant).filter(user=expert).first()
    if profile is None:
        raise ValidationError({"expert": [_("This person is not in the expert pool of this portal.")]})
    conflict = expert_conflict(profile, application)
    if conflict:
        raise WorkflowRefused(_("Conflict of interest: %(reason)s") % {"reason": conflict}, code="conflict")
    assignment, created = ExpertAssignment.objects.get_or_create(
        application=application, expert=expert, defaults={"assigned_by": by}
    )
    if created:
        grant(user=expert, perm="view", obj=application)
        _event(
            application,
            action="assign_expert",
            by=by,
            from_state=application.state,
            to_state=application.state,
            opinion=str(expert),
            level=application.level,
            region=application.current_region,
        )
        audit_record(
            action="application.assign_expert",
            actor=by,
            tenant=application.round.tenant,
            obj=application,
            summary=str(expert),
            request=request,
        )
        notification_send(
            recipient=expert,
            tenant=application.round.tenant,
            subject=_("Please score an application: %(name)s") % {"name": application.enterprise.name},
            link=reverse(
                "expert_review", kwargs={"tenant_code": application.round.tenant.code, "pk": assignment.pk}
            ),
        )
    return assignment


@transaction.atomic
def expert_unassign(*, assignment: ExpertAssignment, by: User, request=None) -> None:
    from portal.permissions import revoke

    application = _lock(assignment.application)
    _expert_stage_check(application, by)
    assignment = ExpertAssignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.submitted_at is not None:
        raise WorkflowRefused(_("This expert has already scored: the scores stay on record."))
    revoke(user=assignment.expert, perm="view", obj=application)
    assignment.delete()
    _event(
        application,
        action="unassign_expert",
        by=by,
        from_state=application.state,
        to_state=application.state,
        opinion=str(assignment.expert),
        level=application.level,
        region=application.current_region,
    )
    audit_record(
        action="application.unassign_expert",
        actor=by,
        tenant=application.round.tenant,
        obj=application,
        summary=str(assignment.expert),
        request=request,
    )


def indicators(program: Program) -> list[dict[str, Any]]:
    return program.expert_indicators or application_form.default_expert_indicators(program.tier)


@transaction.atomic
def expert_score(
    *, assignment: ExpertAssignment, by: User, scores: dict[str, Any], opinion: str, request=None
) -> ExpertAssignment:
    """An expert scores each indicator the programme marks for expert judgement, with an opinion."""
    application = _lock(assignment.application)
    assignment = ExpertAssignment.objects.select_for_update().get(pk=assignment.pk)
    if assignment.expert_id != by.pk:
        raise WorkflowRefused(_("Only the assigned expert can score."), code="not_found", status=404)
    if assignment.submitted_at is not None:
        raise WorkflowRefused(_("You have already submitted your scores for this application."))
    if (
        not application.is_waiting
        or application.level != application_levels(application.round, application.county)[-1]
    ):
        raise WorkflowRefused(_("This application is no longer waiting for expert review."))
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    total = Decimal("0")
    for ind in indicators(application.round.program):
        raw = scores.get(ind["code"])
        try:
            value = Decimal(str(raw).strip())
            if not value.is_finite():
                raise InvalidOperation
        except (InvalidOperation, TypeError, ValueError):
            errors[f"scores.{ind['code']}"] = [
                _("%(label)s: enter a number of points.") % {"label": ind["label"]}
            ]
            continue
        if value < 0 or value > Decimal(ind["max"]):
            errors[f"scores.{ind['code']}"] = [
                _("%(label)s: between 0 and %(max)s points.") % {"label": ind["label"], "max": ind["max"]}
            ]
            continue
        clean[ind["code"]] = str(value)
        total += value
    opinion = (opinion or "").strip()
    if not opinion:
        errors["opinion"] = [_("Give your opinion.")]
    if errors:
        raise ValidationError(errors)
    assignment.scores, assignment.total, assignment.opinion = clean, total, opinion
    assignment.submitted_at = timezone.now()
    assignment.save()
    totals = [
        a.total
        for a in application.expert_assignments.filter(submitted_at__isnull=False)
        if a.total is not None
    ]
    application.expert_mean = (sum(totals) / len(totals)).quantize(Decimal("0.01")) if totals else None
    application.save(update_fields=["expert_mean", "updated_at"])
    _event(
        application,
        action="expert_score",
        by=by,
        from_state=application.state,
        to_state=application.state,
        opinion=f"{total}: {opinion}",
        level=application.level,
        region=application.current_region,
    )
    audit_record(
        action="application.expert_score",
        actor=by,
        tenant=application.round.tenant,
        obj=application,
        summary=f"{total}",
        request=request,
    )
    return assignment


def expert_summary(application: Application) -> dict[str, Any]:
    """Every expert's scores, the mean and the spread (max − min) of the totals."""
    rows = list(application.expert_assignments.select_related("expert").order_by("assigned_at"))
    totals = [a.total for a in rows if a.submitted_at and a.total is not None]
    mean = (sum(totals) / len(totals)).quantize(Decimal("0.01")) if totals else None
    spread = (max(totals) - min(totals)) if totals else None
    return {
        "assignments": rows,
        "mean": mean,
        "spread": spread,
        "count": len(totals),
        "needed": application.round.program.min_expert_reviews,
    }


# --- identity lock and deadline reminders ----------------------------------------------------


def submitted_application_lock(enterprise: Enterprise) -> str | None:
    """An enterprise whose application reached reviewers cannot move county or change its USCC."""
    if Application.objects.filter(enterprise=enterprise).exclude(state__in=[S.DRAFT, S.WITHDRAWN]).exists():
        return _("Your enterprise has submitted an application: the credit code and county are locked.")
    return None


REMINDER_DAYS = 3


def deadline_reminders_send(*, day=None) -> int:
    """Remind reviewers of applications still waiting at their region when their level's deadline is near.

    Runs daily (beat); each (stage, region, day) is sent at most once, so a second run sends nothing.
    """
    day = day or timezone.localdate()
    sent = 0
    horizon_start = timezone.make_aware(datetime.combine(day, datetime.min.time()))
    horizon_end = horizon_start + timedelta(days=REMINDER_DAYS + 1)
    stages = RoundStage.objects.filter(deadline__gte=horizon_start, deadline__lt=horizon_end).select_related(
        "round__tenant"
    )
    for stage in stages:
        waiting = (
            Application.objects.filter(
                round=stage.round, level=stage.level, state__in=Application.WAITING_STATES
            )
            .values("current_region")
            .annotate(n=Count("id"))
        )
        for row in waiting:
            with transaction.atomic():
                _rem, created = ReminderSent.objects.get_or_create(
                    stage=stage, region_id=row["current_region"], day=day
                )
                if not created:
                    continue
                posts = Post.objects.filter(
                    region_id=row["current_region"],
                    is_active=True,
                    role__in=set().union(
                        *(
                            roles_for(transition_for(S.IN_REVIEW, a), stage.level)
                            for a in (Action.RETURN, Action.APPROVE)
                        )
                    ),
                ).select_related("user")
                for post in posts:
                    notification_send(
                        recipient=post.user,
                        tenant=stage.round.tenant,
                        subject=ngettext(
                            "%(n)d application of %(round)s waits for you; the deadline is %(day)s",
                            "%(n)d applications of %(round)s wait for you; the deadline is %(day)s",
                            row["n"],
                        )
                        % {"n": row["n"], "round": stage.round.name, "day": _fmt(stage.deadline)},
                        link=reverse("review_queue", kwargs={"tenant_code": stage.round.tenant.code})
                        + f"?round={stage.round_id}",
                    )
                    sent += 1
    return sent


def expert_may_read_document(*, document, user: User, tenant: Tenant) -> bool:
    """An expert reads the attachments of the snapshots of the applications assigned to them."""
    from certification.models import SnapshotDocument

    if not user.is_authenticated:
        return False
    return SnapshotDocument.objects.filter(
        document=document,
        snapshot__application__tenant=tenant,
        snapshot__application__expert_assignments__expert=user,
    ).exists()
