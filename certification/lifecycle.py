"""Dynamic management of certifications (动态管理): re-verification (复核), expiry reminders, expiry,
revocation (撤销) and the daily job that drives them.

The lifecycle, from seed 002 (贵州, 四、（三）): "获认定的'专精特新'中小企业及专精特新'小巨人'企业有效期为3年，
入选满3年的企业需进行复核，不符合条件或未提交复核申请材料的企业将予以撤销。有效期内如发现虚假申报或存在违法违规行为的，
一经查实，立即予以撤销。"

    active ──(reminders at the tenant's offsets, default 90/30/7 days)──┐
      │ the enterprise files a re-verification (from REVERIFY_WINDOW_DAYS before expiry until expiry)
      ├─ renewed: valid three more years from the old expiry date, the certificate re-issued
      ├─ rejected: revoked (ground "failed re-verification")
      └─ not filed by the expiry date: expired (the daily job, the day after `valid_until`)
    revoked at any time by provincial staff, with a ground, a reason and evidence (domain.md §1.5);
    the enterprise is then barred from applying for the tenant's number of years (three by default).

A certification whose re-verification was filed before expiry stays in force until the province decides
(domain.md §1.5: "list stays valid during 复核"): `Certification.status` is the truth, kept by the daily job.

Every change is one transaction with the certification row locked, an audit event and a LifecycleEvent
on the certification's timeline; notifications and the directory cache follow on commit.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certification.directory_cache import directory_changed
from certification.models import (
    ApplyBar,
    Certification,
    CertificationReminder,
    DailyRun,
    Level,
    LifecycleEvent,
    LifecycleSettings,
    Reverification,
    ReverificationAttachment,
    Revocation,
    RevocationEvidence,
)
from certification.publication import PUBLISHING_ROLES, VALIDITY
from certification.transitions import APPROVE_ROLES, REVIEW_ROLES
from certification.workflow import WorkflowRefused, region_at
from enterprises.models import Document, Enterprise, Membership
from portal.audit import audit_record
from portal.models import Post, Region, Tenant, User
from portal.notifications import notification_send
from portal.on_commit import on_commit_robust

log = logging.getLogger(__name__)

S = Reverification.State
CS = Certification.Status
LEVEL_ORDER = [Level.COUNTY, Level.PREFECTURE, Level.PROVINCE]
REVERIFY_WINDOW_DAYS = 180  # filing opens six months before expiry
FILED_STATES = (S.SUBMITTED, S.RETURNED)  # filed before expiry: the certification stays in force
STALE_RUN = timedelta(hours=2)  # a daily run unfinished this long is taken over (its process died)

# Called inside the revocation's transaction with the Revocation (funding: the clawback of paid awards).
REVOCATION_HOOKS: list[Callable[[Revocation], None]] = []
# Called by run_daily for each day, after expiry: `hook(day=...) -> dict` of counts (monitoring).
DAILY_HOOKS: list[Callable[..., dict]] = []


# --- settings ----------------------------------------------------------------------------------


def lifecycle_settings(tenant: Tenant) -> LifecycleSettings:
    """The tenant's settings, or the defaults (unsaved) when its administrator has not set any."""
    found = LifecycleSettings.objects.filter(tenant=tenant).first()
    return found if found is not None else LifecycleSettings(tenant=tenant)


def reminder_offsets(settings_: LifecycleSettings) -> list[int]:
    """The reminder offsets, largest first, positive and without repeats."""
    return sorted({int(o) for o in settings_.reminder_offsets if int(o) > 0}, reverse=True)


def reverification_levels(settings_: LifecycleSettings, county: Region) -> list[str]:
    """The tenant's re-verification chain for one county, lowest first, always ending at the province
    (which decides). A county directly under the province has no prefecture level."""
    wanted = set(settings_.reverify_levels or []) | {Level.PROVINCE}
    depth = len(county.path.strip("/").split("/"))
    return [lvl for lvl in LEVEL_ORDER if lvl in wanted and not (lvl == Level.PREFECTURE and depth < 3)]


# --- who may do what ---------------------------------------------------------------------------


def _members(enterprise: Enterprise) -> list[User]:
    return [m.user for m in Membership.objects.filter(enterprise=enterprise).select_related("user")]


def _commissioner(enterprise: Enterprise) -> User | None:
    from certification.commissioners import current_commissioner

    return current_commissioner(enterprise)


def _end_service_if_uncertified(certification: Certification, *, by: User | None, reason: str) -> None:
    """An enterprise left with no certification in force leaves its commissioner's list (the grant is
    taken back; the assignment history stays)."""
    if not Certification.objects.filter(enterprise_id=certification.enterprise_id, status=CS.ACTIVE).exists():
        from certification.commissioners import commissioner_end

        commissioner_end(enterprise=certification.enterprise, reason=reason, by=by)


def is_member(user: User, enterprise: Enterprise) -> bool:
    return user.is_authenticated and Membership.objects.filter(enterprise=enterprise, user=user).exists()


def can_revoke(user: User, certification: Certification) -> bool:
    """Provincial staff of the programme's owner region (design.md: revocation is a provincial decision)."""
    if not user.is_authenticated:
        return False
    owner = certification.program.owner_region
    return any(
        p.role in PUBLISHING_ROLES and owner.path.startswith(p.region.path)
        for p in user.posts_in(certification.tenant)
    )


def acting_posts(user: User, reverification: Reverification) -> list[Post]:
    """The user's posts that may act where the re-verification waits now."""
    if not user.is_authenticated or reverification.current_region_id is None or not reverification.level:
        return []
    roles = REVIEW_ROLES.get(reverification.level, set())
    return [
        p
        for p in user.posts_in(reverification.tenant)
        if p.region_id == reverification.current_region_id and p.role in roles
    ]


def _decider_posts(user: User, reverification: Reverification) -> list[Post]:
    """Who renews or rejects at the province: the approvers (as for applications, transitions.APPROVE_ROLES)."""
    return [p for p in acting_posts(user, reverification) if p.role in APPROVE_ROLES[Level.PROVINCE]]


# --- re-verification ---------------------------------------------------------------------------


def reverification_opens_on(certification: Certification) -> date:
    return certification.valid_until - timedelta(days=REVERIFY_WINDOW_DAYS)


def reverification_refusal(certification: Certification, *, day: date | None = None) -> str | None:
    """Why the enterprise cannot file a re-verification of this certification now, or None."""
    day = day or timezone.localdate()
    if certification.status != CS.ACTIVE:
        return _("Only a certification in force can be re-verified; this one is %(status)s.") % {
            "status": certification.get_status_display()
        }
    if Reverification.objects.filter(
        certification=certification, state__in=Reverification.OPEN_STATES
    ).exists():
        return _("A re-verification of this certification is already in progress.")
    opens = reverification_opens_on(certification)
    if day < opens:
        return _("Re-verification opens on %(day)s, six months before the certification expires.") % {
            "day": opens.isoformat()
        }
    if day > certification.valid_until:
        return _("The certification expired on %(day)s: it can no longer be re-verified.") % {
            "day": certification.valid_until.isoformat()
        }
    return None


def _event(
    certification: Certification,
    kind: str,
    *,
    by: User | None = None,
    reverification: Reverification | None = None,
    reason: str = "",
    region: Region | None = None,
    level: str = "",
    data: dict | None = None,
    actor_label: str = "",
) -> LifecycleEvent:
    return LifecycleEvent.objects.create(
        tenant_id=certification.tenant_id,
        certification=certification,
        reverification=reverification,
        kind=kind,
        actor=by if by is not None and by.is_authenticated else None,
        actor_label=actor_label
        or (by.get_username() if by is not None and by.is_authenticated else "system"),
        region=region,
        level=level,
        reason=reason,
        data=data or {},
    )


def _lock_certification(certification: Certification) -> Certification:
    return (
        Certification.objects.select_for_update()
        .select_related("tenant", "program__owner_region", "enterprise__county")
        .get(pk=certification.pk)
    )


def _lock_reverification(reverification: Reverification) -> Reverification:
    return (
        Reverification.objects.select_for_update(of=("self",))
        .select_related(
            "tenant", "certification__program__owner_region", "enterprise__county", "current_region"
        )
        .get(pk=reverification.pk)
    )


def reverification_start(*, certification: Certification, by: User, request=None) -> Reverification:
    """Open a draft re-verification of the certification (a member of the enterprise)."""
    with transaction.atomic():
        certification = _lock_certification(certification)
        if not is_member(by, certification.enterprise):
            raise WorkflowRefused(
                _("Only members of the enterprise can file its re-verification."), status=403
            )
        reason = reverification_refusal(certification)
        if reason:
            raise WorkflowRefused(reason, code="reverification_closed")
        try:
            with transaction.atomic():
                reverification = Reverification.objects.create(
                    tenant_id=certification.tenant_id,
                    certification=certification,
                    enterprise=certification.enterprise,
                    created_by=by,
                )
        except IntegrityError as exc:  # a second tab started one meanwhile
            raise WorkflowRefused(
                _("A re-verification of this certification is already in progress.")
            ) from exc
        audit_record(
            action="reverification.started",
            actor=by,
            tenant=certification.tenant,
            obj=reverification,
            summary=certification.number,
            request=request,
        )
    return reverification


def _editable(reverification: Reverification, by: User) -> None:
    if not is_member(by, reverification.enterprise):
        raise WorkflowRefused(_("Only members of the enterprise can change its re-verification."), status=403)
    if reverification.state not in (S.DRAFT, S.RETURNED):
        raise WorkflowRefused(
            _("This re-verification is %(state)s and cannot be changed.")
            % {"state": reverification.get_state_display()},
            code="not_editable",
        )


def reverification_save(
    *, reverification: Reverification, by: User, statement: str, revision: int | None = None, request=None
) -> Reverification:
    """Save the enterprise's statement. `revision` (the one the form showed) refuses a stale save, so that
    an edit made meanwhile in another tab is not overwritten."""
    with transaction.atomic():
        reverification = _lock_reverification(reverification)
        _editable(reverification, by)
        if revision is not None and revision != reverification.revision:
            raise WorkflowRefused(
                _(
                    "This re-verification was changed meanwhile (in another tab?). Reload it; nothing was saved."
                ),
                code="stale",
            )
        reverification.statement = (statement or "").strip()[:5000]
        reverification.revision += 1
        reverification.save(update_fields=["statement", "revision", "updated_at"])
    return reverification


def reverification_attach(
    *, reverification: Reverification, document: Document, by: User, label: str = "", request=None
) -> ReverificationAttachment:
    with transaction.atomic():
        reverification = _lock_reverification(reverification)
        _editable(reverification, by)
        if document.enterprise_id != reverification.enterprise_id:
            raise WorkflowRefused(_("Choose one of your enterprise's documents."), status=404)
        if document.scan_status != Document.Scan.CLEAN:
            raise WorkflowRefused(
                _("“%(name)s” has not passed the malware scan yet; attach it once it is clean.")
                % {"name": document.original_name},
                fields={"document": [_("The document has not passed the malware scan.")]},
            )
        attachment, _created = ReverificationAttachment.objects.get_or_create(
            reverification=reverification, document=document, defaults={"label": (label or "")[:120]}
        )
    return attachment


def reverification_detach(
    *, reverification: Reverification, attachment_id: int, by: User, request=None
) -> None:
    with transaction.atomic():
        reverification = _lock_reverification(reverification)
        _editable(reverification, by)
        deleted, _rows = ReverificationAttachment.objects.filter(
            reverification=reverification, pk=attachment_id
        ).delete()
        if not deleted:
            raise WorkflowRefused(_("That attachment is not part of this re-verification."), status=404)


def reverification_problems(reverification: Reverification) -> dict[str, list[str]]:
    """What stops the submission, by field: every problem at once."""
    from enterprises.facts import fiscal_years

    problems: dict[str, list[str]] = {}
    if len(reverification.statement.strip()) < 20:
        problems["statement"] = [
            _("Describe how the enterprise still meets the conditions (at least 20 characters).")
        ]
    if not reverification.attachments.exists():
        problems["attachments"] = [_("Attach at least one document (e.g. the latest audit report).")]
    last_year = fiscal_years(timezone.localdate())[0]
    if not reverification.enterprise.figures.filter(fiscal_year=last_year).exists():
        problems["figures"] = [
            _("Enter your figures of %(year)s before filing: re-verification reads the current figures.")
            % {"year": last_year}
        ]
    return problems


def _version_for(certification: Certification):
    from certification.services import version_in_force

    return certification.program.reverification_version or version_in_force(certification.program)


def _reviewers(tenant: Tenant, region: Region, level: str) -> list[User]:
    return [
        p.user
        for p in Post.objects.filter(
            tenant=tenant, region=region, role__in=REVIEW_ROLES.get(level, set()), is_active=True
        ).select_related("user")
    ]


def _link(reverification: Reverification, *, official: bool) -> str:
    """The page of the re-verification: the officials' review page or the enterprise's."""
    name = "reverification_review" if official else "reverification_detail"
    return reverse(name, kwargs={"tenant_code": reverification.tenant.code, "pk": reverification.pk})


def reverification_submit(*, reverification: Reverification, by: User, request=None) -> Reverification:
    """File the re-verification: screened against the version for re-verification, sent to the first level."""
    from certification.engine.evaluate import evaluate
    from certification.services import result_json
    from enterprises.facts import enterprise_facts, facts_to_json

    with transaction.atomic():
        reverification = _lock_reverification(reverification)
        _editable(reverification, by)
        certification = _lock_certification(reverification.certification)
        if certification.status != CS.ACTIVE or timezone.localdate() > certification.valid_until:
            raise WorkflowRefused(
                _("The certification expired on %(day)s: it can no longer be re-verified.")
                % {"day": certification.valid_until.isoformat()},
                code="expired",
            )
        problems = reverification_problems(reverification)
        if problems:
            raise WorkflowRefused(
                _("The re-verification cannot be filed yet: see the marked fields."),
                code="incomplete",
                fields=problems,
                status=400,
            )
        enterprise = reverification.enterprise
        version = _version_for(certification)
        facts = enterprise_facts(enterprise)
        result = evaluate(version.definition, facts)
        settings_ = lifecycle_settings(certification.tenant)
        levels = reverification_levels(settings_, enterprise.county)
        region = region_at(enterprise.county, levels[0])
        first_filing = reverification.submitted_at is None
        reverification.levels = levels
        reverification.level = levels[0]
        reverification.current_region = region
        reverification.version = version
        reverification.facts = facts_to_json(facts)
        reverification.screening = result_json(program=certification.program, version=version, result=result)
        reverification.verdict = result.verdict
        reverification.state = S.SUBMITTED
        reverification.submitted_at = timezone.now()
        reverification.revision += 1
        reverification.save()
        _event(
            certification,
            LifecycleEvent.Kind.FILED,
            by=by,
            reverification=reverification,
            region=region,
            level=levels[0],
            data={"verdict": result.verdict, "version": version.label, "resubmitted": not first_filing},
        )
        audit_record(
            action="reverification.submitted",
            actor=by,
            tenant=certification.tenant,
            obj=reverification,
            summary=f"{certification.number} → {region.name} · screening {result.verdict}",
            request=request,
        )
        for user in _reviewers(certification.tenant, region, levels[0]):
            notification_send(
                recipient=user,
                tenant=certification.tenant,
                subject=_("Re-verification of %(enterprise)s (%(number)s) waits for your review")
                % {"enterprise": enterprise.name, "number": certification.number},
                link=_link(reverification, official=True),
            )
    return reverification


@dataclass(frozen=True)
class Step:
    """An official's action on a re-verification."""

    action: str
    needs_reason: bool


RETURN, RECOMMEND, RENEW, REJECT, WITHDRAW = "return", "recommend", "renew", "reject", "withdraw"
OFFICIAL_STEPS = {
    RETURN: Step(RETURN, True),
    RECOMMEND: Step(RECOMMEND, False),
    RENEW: Step(RENEW, False),
    REJECT: Step(REJECT, True),
}


def reverification_actions(reverification: Reverification, user: User) -> list[str]:
    """The actions `user` may take on the re-verification now (for the page's buttons)."""
    if reverification.state == S.SUBMITTED and acting_posts(user, reverification):
        if reverification.level == reverification.levels[-1]:
            actions = [RETURN]
            if _decider_posts(user, reverification):
                actions += [RENEW, REJECT]
            return actions
        return [RETURN, RECOMMEND]
    if reverification.state in Reverification.OPEN_STATES and is_member(user, reverification.enterprise):
        return [WITHDRAW]
    return []


def reverification_act(
    *, reverification: Reverification, by: User, action: str, reason: str = "", request=None
) -> Reverification:
    """Return, recommend, renew, reject (officials) or withdraw (the enterprise), atomically."""
    reason = (reason or "").strip()
    with transaction.atomic():
        reverification = _lock_reverification(reverification)
        certification = _lock_certification(reverification.certification)
        allowed = reverification_actions(reverification, by)
        if action not in allowed:
            if (
                not allowed
                and not acting_posts(by, reverification)
                and not is_member(by, reverification.enterprise)
            ):
                raise WorkflowRefused(_("This re-verification is not waiting for you."), status=403)
            raise WorkflowRefused(
                _("“%(action)s” is not possible: the re-verification is %(state)s.")
                % {"action": action, "state": reverification.get_state_display()},
                code="not_allowed",
            )
        step = OFFICIAL_STEPS.get(action)
        if step is not None and step.needs_reason and len(reason) < 5:
            raise WorkflowRefused(
                _("Give the reason (at least 5 characters): the enterprise reads it."),
                fields={"reason": [_("A reason is required.")]},
                status=400,
            )
        level, region = reverification.level, reverification.current_region
        kind = None
        if action == RETURN:
            reverification.state = S.RETURNED
            kind = LifecycleEvent.Kind.RETURNED
        elif action == RECOMMEND:
            nxt = reverification.levels[reverification.levels.index(reverification.level) + 1]
            reverification.level = nxt
            reverification.current_region = region_at(reverification.enterprise.county, nxt)
            kind = LifecycleEvent.Kind.RECOMMENDED
        elif action == WITHDRAW:
            reverification.state = S.WITHDRAWN
            reverification.level = ""
            reverification.current_region = None
            kind = LifecycleEvent.Kind.WITHDRAWN
        elif action == RENEW:
            _renew(certification, reverification, by=by, reason=reason)
        elif action == REJECT:
            reverification.state = S.REJECTED
            reverification.decided_at = timezone.now()
            reverification.decided_by = by
            reverification.decision_reason = reason
            reverification.level = ""
            reverification.current_region = None
            kind = LifecycleEvent.Kind.REJECTED
        reverification.revision += 1
        reverification.save()
        if kind is not None:
            _event(
                certification,
                kind,
                by=by,
                reverification=reverification,
                reason=reason,
                region=region,
                level=level,
            )
        audit_record(
            action=f"reverification.{action}",
            actor=by,
            tenant=certification.tenant,
            obj=reverification,
            summary=f"{certification.number}: {reason}"[:2000],
            request=request,
        )
        if action == REJECT:
            _revoke_locked(
                certification,
                by=by,
                ground=Revocation.Ground.REVERIFICATION_FAILED,
                reason=reason,
                evidence=(),
                request=request,
                reverification=reverification,
            )
        _notify_step(reverification, certification, action, reason)
    return reverification


def _renew(certification: Certification, reverification: Reverification, *, by: User, reason: str) -> None:
    """Valid three more years from the old expiry date (not from the decision date); the certificate is
    re-issued with the new dates."""
    old_until = certification.valid_until
    new_until = old_until + VALIDITY
    old_file = certification.certificate.name
    certification.valid_until = new_until
    certification.status = CS.ACTIVE
    certification.certificate = ""
    certification.certificate_sha256 = ""
    certification.certificate_error = ""
    certification.save(
        update_fields=["valid_until", "status", "certificate", "certificate_sha256", "certificate_error"]
    )
    reverification.state = S.RENEWED
    reverification.decided_at = timezone.now()
    reverification.decided_by = by
    reverification.decision_reason = reason
    reverification.level = ""
    reverification.current_region = None
    _event(
        certification,
        LifecycleEvent.Kind.RENEWED,
        by=by,
        reverification=reverification,
        reason=reason,
        level=Level.PROVINCE,
        data={
            "old_valid_until": old_until.isoformat(),
            "valid_until": new_until.isoformat(),
            "old_certificate": old_file,
        },
    )
    from certification.tasks import generate_certificate

    on_commit_robust(generate_certificate.delay, certification.pk)
    transaction.on_commit(partial(directory_changed, certification.tenant_id))


def _notify_step(
    reverification: Reverification, certification: Certification, action: str, reason: str
) -> None:
    tenant = certification.tenant
    subjects = {
        RETURN: _("Your re-verification of %(number)s was returned for changes"),
        RECOMMEND: _("Your re-verification of %(number)s was recommended to the next level"),
        RENEW: _("Your certification %(number)s was renewed"),
        REJECT: _("Your re-verification of %(number)s was rejected"),
    }
    if action in subjects:
        for user in _members(reverification.enterprise):
            notification_send(
                recipient=user,
                tenant=tenant,
                subject=subjects[action] % {"number": certification.number},
                body=reason,
                link=_link(reverification, official=False),
            )
    if action == RECOMMEND:
        for user in _reviewers(tenant, reverification.current_region, reverification.level):
            notification_send(
                recipient=user,
                tenant=tenant,
                subject=_("Re-verification of %(enterprise)s (%(number)s) waits for your review")
                % {"enterprise": reverification.enterprise.name, "number": certification.number},
                link=_link(reverification, official=True),
            )


# --- revocation --------------------------------------------------------------------------------


def certification_revoke(
    *,
    certification: Certification,
    by: User,
    ground: str,
    reason: str,
    evidence: list | tuple = (),
    request=None,
) -> Revocation:
    """Revoke a certification at once (provincial staff): the verification page shows it revoked, the
    directory drops it, the enterprise is barred from applying, and REVOCATION_HOOKS (the clawback of
    paid awards) run in the same transaction. `evidence`: [(uploaded file, original name)], checked
    and stored unservable until the malware scan passes."""
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if ground not in Revocation.Ground.values or ground == Revocation.Ground.REVERIFICATION_FAILED:
        errors["ground"] = [_("Choose the ground of the revocation.")]
    if len(reason) < 10:
        errors["reason"] = [_("State the reason (at least 10 characters): it is shown to the enterprise.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        certification = _lock_certification(certification)
        if not can_revoke(by, certification):
            raise WorkflowRefused(_("Only provincial staff can revoke a certification."), status=403)
        return _revoke_locked(
            certification, by=by, ground=ground, reason=reason, evidence=evidence, request=request
        )


def _revoke_locked(
    certification: Certification,
    *,
    by: User | None,
    ground: str,
    reason: str,
    evidence,
    request=None,
    reverification: Reverification | None = None,
) -> Revocation:
    if certification.status == CS.REVOKED:
        raise WorkflowRefused(_("This certification is already revoked."), code="already_revoked")
    today = timezone.localdate()
    settings_ = lifecycle_settings(certification.tenant)
    bar_until = (
        today + relativedelta(years=settings_.reapply_bar_years) if settings_.reapply_bar_years else None
    )
    previous = certification.status
    certification.status = CS.REVOKED
    certification.save(update_fields=["status"])
    revocation = Revocation.objects.create(
        tenant_id=certification.tenant_id,
        certification=certification,
        ground=ground,
        reason=reason,
        revoked_on=today,
        barred_until=bar_until,
        revoked_by=by,
    )
    if bar_until is not None:
        ApplyBar.objects.create(
            tenant_id=certification.tenant_id,
            enterprise=certification.enterprise,
            until=bar_until,
            reason=_("certification %(number)s revoked on %(day)s")
            % {"number": certification.number, "day": today},
            revocation=revocation,
        )
    # an open re-verification ends with it
    Reverification.objects.filter(certification=certification, state__in=Reverification.OPEN_STATES).exclude(
        pk=getattr(reverification, "pk", None)
    ).update(state=S.WITHDRAWN, level="", current_region=None, decision_reason=_("certification revoked"))
    for uploaded, name in evidence:
        _evidence_store(revocation, uploaded, name)
    _event(
        certification,
        LifecycleEvent.Kind.REVOKED,
        by=by,
        reverification=reverification,
        reason=reason,
        data={
            "ground": ground,
            "previous_status": previous,
            "barred_until": bar_until.isoformat() if bar_until else None,
        },
    )
    audit_record(
        action="certification.revoked",
        actor=by,
        tenant=certification.tenant,
        obj=certification,
        summary=f"{certification.number} · {ground} · {reason}"[:2000],
        request=request,
    )
    for hook in REVOCATION_HOOKS:
        hook(revocation)
    _end_service_if_uncertified(
        certification, by=by, reason=_("certification %(number)s revoked") % {"number": certification.number}
    )
    for user in _members(certification.enterprise) + [
        u for u in [_commissioner(certification.enterprise)] if u
    ]:
        notification_send(
            recipient=user,
            tenant=certification.tenant,
            subject=_("Certification %(number)s was revoked") % {"number": certification.number},
            body=reason,
        )
    transaction.on_commit(partial(directory_changed, certification.tenant_id))
    return revocation


def _evidence_store(revocation: Revocation, uploaded, name: str) -> RevocationEvidence:
    from django.conf import settings

    from enterprises.documents import _check_content, file_sha256, sanitize_filename, too_large_message

    clean_name = sanitize_filename(name)
    if uploaded.size > settings.DOCUMENT_MAX_BYTES:
        raise ValidationError({"evidence": [too_large_message()]})
    kind = _check_content(uploaded, clean_name)
    item = RevocationEvidence(
        revocation=revocation,
        original_name=clean_name,
        content_type=kind.content_type,
        size=uploaded.size,
        sha256=file_sha256(uploaded),
    )
    uploaded.seek(0)
    # Stored under a generated name (reliability.md F3): the uploader's name is metadata, never a path.
    item.file.save(f"{uuid.uuid4().hex}{kind.extensions[0]}", uploaded, save=False)
    item.save()
    on_commit_robust(_enqueue_evidence_scan, item.pk)
    return item


def _enqueue_evidence_scan(evidence_id: int) -> None:
    try:
        from certification.tasks_lifecycle import scan_revocation_evidence
    except ImportError:  # the scan task is wired with the pages
        return
    scan_revocation_evidence.delay(evidence_id)


# --- the daily job -----------------------------------------------------------------------------


def reminders_send(*, day: date) -> int:
    """Remind the enterprise and its commissioner at the tenant's offsets before expiry.

    For each certification in force whose expiry is within the largest offset, the reminder of the
    tightest offset reached is sent (a day the job did not run is caught up with one reminder, not
    several); a CertificationReminder row per (certification, expiry, offset) makes it once only."""
    sent = 0
    for tenant in Tenant.objects.filter(is_active=True):
        settings_ = lifecycle_settings(tenant)
        offsets = reminder_offsets(settings_)
        if not offsets:
            continue
        filed = Reverification.objects.filter(certification=OuterRef("pk"), state__in=FILED_STATES)
        due = (
            Certification.objects.filter(
                tenant=tenant,
                status=CS.ACTIVE,
                valid_until__gte=day,
                valid_until__lte=day + timedelta(days=offsets[0]),
            )
            .exclude(Exists(filed))
            .select_related("enterprise", "program", "tenant")
        )
        done = set(
            CertificationReminder.objects.filter(certification__in=due).values_list(
                "certification_id", "valid_until", "offset_days"
            )
        )
        for certification in due:
            days_left = (certification.valid_until - day).days
            band = min(o for o in offsets if o >= days_left)
            if (certification.pk, certification.valid_until, band) in done:
                continue
            with transaction.atomic():
                recipients = _members(certification.enterprise)
                commissioner = _commissioner(certification.enterprise)
                if commissioner is not None:
                    recipients.append(commissioner)
                try:
                    with transaction.atomic():
                        CertificationReminder.objects.create(
                            certification=certification,
                            valid_until=certification.valid_until,
                            offset_days=band,
                            sent_on=day,
                            recipients=len(recipients),
                        )
                except IntegrityError:  # another runner sent it meanwhile
                    continue
                _event(
                    certification,
                    LifecycleEvent.Kind.REMINDER,
                    data={"offset_days": band, "days_left": days_left, "recipients": len(recipients)},
                )
                subject = ngettext(
                    "Certification %(number)s expires in %(days)d day (%(day)s): file its re-verification",
                    "Certification %(number)s expires in %(days)d days (%(day)s): file its re-verification",
                    days_left,
                ) % {
                    "number": certification.number,
                    "days": days_left,
                    "day": certification.valid_until.isoformat(),
                }
                for user in recipients:
                    notification_send(recipient=user, tenant=tenant, subject=subject)
                sent += 1
    return sent


def certifications_expire(*, day: date) -> int:
    """Expire the certifications in force whose validity ended before `day` and whose re-verification was
    not filed (seed 002: 未提交复核申请材料的企业将予以撤销 — the portal records it as expired, not as a
    revocation for cause). A draft re-verification left unfiled is withdrawn with it."""
    filed = Reverification.objects.filter(certification=OuterRef("pk"), state__in=FILED_STATES)
    ids = list(
        Certification.objects.filter(status=CS.ACTIVE, valid_until__lt=day)
        .exclude(Exists(filed))
        .values_list("pk", flat=True)
    )
    expired = 0
    tenants: set[int] = set()
    for pk in ids:
        with transaction.atomic():
            certification = Certification.objects.select_for_update().select_related("tenant").get(pk=pk)
            if certification.status != CS.ACTIVE or certification.valid_until >= day:
                continue
            if Reverification.objects.filter(certification=certification, state__in=FILED_STATES).exists():
                continue
            certification.status = CS.EXPIRED
            certification.save(update_fields=["status"])
            Reverification.objects.filter(certification=certification, state=S.DRAFT).update(
                state=S.WITHDRAWN, decision_reason=_("not filed before the certification expired")
            )
            _end_service_if_uncertified(
                certification,
                by=None,
                reason=_("certification %(number)s expired") % {"number": certification.number},
            )
            _event(
                certification,
                LifecycleEvent.Kind.EXPIRED,
                data={"valid_until": certification.valid_until.isoformat()},
            )
            audit_record(
                action="certification.expired",
                actor_label="system",
                tenant=certification.tenant,
                obj=certification,
                summary=f"{certification.number} expired after {certification.valid_until}",
            )
            for user in _members(certification.enterprise):
                notification_send(
                    recipient=user,
                    tenant=certification.tenant,
                    subject=_("Certification %(number)s has expired") % {"number": certification.number},
                )
            expired += 1
            tenants.add(certification.tenant_id)
    for tenant_id in tenants:
        transaction.on_commit(partial(directory_changed, tenant_id))
    return expired


def _runner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_daily(*, day: date | None = None, force: bool = False) -> DailyRun | None:
    """The daily dynamic-management job for `day` (default: today in Asia/Shanghai): reminders, expiry,
    then DAILY_HOOKS (monitoring). One DailyRun row per day is the lock: a second beat process, or a
    second run the same day, finds it and returns None without doing anything. A run left unfinished for
    STALE_RUN (its process died) is taken over. `force` runs again a day already done; every step is
    idempotent, so it changes only what changed since."""
    day = day or timezone.localdate()
    now = timezone.now()
    with transaction.atomic():
        run, created = DailyRun.objects.select_for_update().get_or_create(
            day=day, defaults={"runner": _runner()}
        )
        if not created:
            stale = run.finished_at is None and run.started_at < now - STALE_RUN
            if not (force or stale):
                log.info(
                    "daily run %s: already %s by %s",
                    day,
                    "done" if run.finished_at else "running",
                    run.runner,
                )
                return None
            run.started_at, run.finished_at, run.runner, run.error = now, None, _runner(), ""
            run.save()
    stats: dict = {}
    try:
        stats["reminders"] = reminders_send(day=day)
        stats["expired"] = certifications_expire(day=day)
        for hook in DAILY_HOOKS:
            stats.update(hook(day=day) or {})
    except Exception as exc:
        DailyRun.objects.filter(pk=run.pk).update(error=f"{type(exc).__name__}: {exc}"[:2000], stats=stats)
        raise
    DailyRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), stats=stats)
    run.refresh_from_db()
    log.info("daily run %s: %s", day, stats)
    return run


# --- the apply bar -----------------------------------------------------------------------------


def apply_bar_reason(enterprise, program) -> str | None:
    """An enterprise whose certification was revoked may not apply until its bar ends (domain.md §1.5)."""
    bar = (
        ApplyBar.objects.filter(enterprise=enterprise, until__gt=timezone.localdate())
        .order_by("-until")
        .first()
    )
    if bar is None:
        return None
    return _("Your enterprise may not apply until %(day)s: %(reason)s") % {
        "day": bar.until.isoformat(),
        "reason": bar.reason,
    }
