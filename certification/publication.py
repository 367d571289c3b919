"""The public notice (公示), objections (异议), publication (认定/公告) and certifications.

Approved applications go on a notice for N working days (the tenant's default; domain.md §4: 5 or 7).
Anyone may object during the period under their real name; staff dismiss (with a reply) or uphold (the
application is rejected and leaves the list). After the period, with no objection open, staff publish:
each listed application becomes a certification numbered per programme and year, valid three years
(seed 002 四、（三）: "有效期为3年"), and the final list is frozen as an immutable published list.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from certification import evidence_scan
from certification.models import (
    Application,
    Certification,
    Notice,
    NoticeEntry,
    NumberSequence,
    Objection,
    ObjectionEvidence,
    Program,
    PublishedList,
    Round,
)
from certification.transitions import Action
from certification.workflow import WorkflowRefused, _event, level_of_region
from enterprises.documents import RESCAN_AFTER, file_sha256
from enterprises.models import Document, Enterprise
from enterprises.scanning import Scanner
from portal.audit import audit_record
from portal.models import Post, Tenant, User
from portal.notifications import notification_send
from portal.on_commit import on_commit_robust
from portal.workdays import period_end

log = logging.getLogger(__name__)

S = Application.State
Scan = Document.Scan
VALIDITY = relativedelta(years=3)  # seed 002 四、（三）: 获认定的…有效期为3年

# Certificate numbers: <TENANT>-<PROGRAMME>-<YEAR>-<NNNN>, e.g. GZ-ZJTX-2026-0001 (专精特新),
# GZ-CXX-2026-0001 (创新型), GZ-XJR-2026-0001 (小巨人); other programmes use their code.
TIER_ABBREVIATIONS = {
    Program.Tier.SRDI: "ZJTX",
    Program.Tier.INNOVATIVE: "CXX",
    Program.Tier.LITTLE_GIANT: "XJR",
}
PUBLISHING_ROLES = {Post.Role.PROVINCIAL_APPROVER, Post.Role.PROVINCIAL_REVIEWER, Post.Role.TENANT_ADMIN}


def can_publish(user: User, round_: Round) -> bool:
    """Provincial staff of the programme's owner (or, for a prefecture-owned programme, its reviewers)."""
    if user.is_superuser:
        return True
    owner = round_.program.owner_region
    for post in user.posts_in(round_.tenant):
        if post.region_id != owner.pk:
            continue
        if post.role in PUBLISHING_ROLES or (owner.level == "prefecture" and post.is_reviewer):
            return True
    return False


def _require_publisher(user: User, round_: Round) -> None:
    if not can_publish(user, round_):
        raise WorkflowRefused(
            _("Only the staff of %(owner)s publish this programme's lists.")
            % {"owner": round_.program.owner_region.name},
            code="not_found",
            status=404,
        )


def _today(at: datetime | None) -> date:
    return timezone.localdate(at) if at else timezone.localdate()


def _move(
    application: Application, action: str, to_state: str, *, by: User | None, opinion: str = ""
) -> None:
    before = application.state
    application.state = to_state
    if to_state in (S.REJECTED, S.PUBLISHED):
        application.decided_at = timezone.now()
    application.save(update_fields=["state", "decided_at", "updated_at"])
    # The owner region publishes: the timeline names it, as it names the level of every other decision.
    owner = application.round.program.owner_region
    _event(
        application,
        action=action,
        by=by,
        from_state=before,
        to_state=to_state,
        opinion=opinion,
        level=level_of_region(owner),
        region=owner,
    )


def _notify_members(application: Application, subject: str, body: str = "") -> None:
    tenant = application.round.tenant
    link = reverse("application_detail", kwargs={"tenant_code": tenant.code, "pk": application.pk})
    for membership in application.enterprise.memberships.select_related("user"):
        notification_send(recipient=membership.user, tenant=tenant, subject=subject, body=body, link=link)


# --- notice ------------------------------------------------------------------------------


@transaction.atomic
def notice_create(
    *,
    round_: Round,
    application_ids: list[int],
    title: str,
    body: str,
    how_to_object: str,
    starts_on: date,
    working_days: int | None = None,
    by: User,
    request=None,
) -> Notice:
    """A notice of approved applications of one round; they move to "in public notice"."""
    _require_publisher(by, round_)
    tenant = round_.tenant
    working_days = working_days or tenant.notice_days
    errors: dict[str, list[str]] = {}
    if not application_ids:
        errors["applications"] = [_("Choose at least one approved application.")]
    if not (title or "").strip():
        errors["title"] = [_("Give the notice a title.")]
    if not (how_to_object or "").strip():
        errors["how_to_object"] = [_("Say how to object: to whom, by when, with what.")]
    if not 1 <= working_days <= 30:
        errors["working_days"] = [_("Between 1 and 30 working days.")]
    if errors:
        raise ValidationError(errors)
    applications = list(
        Application.objects.for_tenant(tenant)
        .filter(round=round_, pk__in=application_ids)
        .select_for_update(of=("self",))
        .select_related("enterprise", "county", "round__program", "round__tenant")
        .order_by("county__code", "enterprise__name")
    )
    if len(applications) != len(set(application_ids)):
        raise ValidationError({"applications": [_("Some of the chosen applications are not in this round.")]})
    not_approved = [a.enterprise.name for a in applications if a.state != S.APPROVED]
    if not_approved:
        raise ValidationError(
            {
                "applications": [
                    _("Only approved applications go on a notice: %(names)s.")
                    % {"names": "、".join(not_approved)}
                ]
            }
        )
    notice = Notice.objects.create(
        tenant=tenant,
        round=round_,
        title=title.strip(),
        body=body.strip(),
        how_to_object=how_to_object.strip(),
        working_days=working_days,
        starts_on=starts_on,
        ends_on=period_end(starts_on, working_days, tenant=tenant),
        created_by=by,
    )
    NoticeEntry.objects.bulk_create(
        [
            NoticeEntry(
                notice=notice,
                application=a,
                enterprise_name=a.enterprise.name,
                uscc=a.enterprise.uscc,
                county_name=a.county.name,
                program_name=round_.program.name,
                position=i,
            )
            for i, a in enumerate(applications, start=1)
        ]
    )
    for a in applications:
        _move(a, Action.NOTICE, S.IN_NOTICE, by=by, opinion=notice.title)
        _notify_members(
            a,
            _("Your application is in the public notice %(title)s") % {"title": notice.title},
            _("Notice period: %(start)s to %(end)s.") % {"start": notice.starts_on, "end": notice.ends_on},
        )
    audit_record(
        action="notice.created",
        actor=by,
        tenant=tenant,
        obj=notice,
        summary=f"{notice.title} · {len(applications)} · {notice.starts_on}–{notice.ends_on}",
        request=request,
    )
    return notice


def notice_is_open_for_objections(notice: Notice, *, at: datetime | None = None) -> bool:
    today = _today(at)
    return notice.status == Notice.Status.OPEN and notice.starts_on <= today <= notice.ends_on


def public_notices(tenant: Tenant):
    return Notice.objects.for_tenant(tenant).select_related("round__program").order_by("-starts_on", "-id")


# --- objections ----------------------------------------------------------------------------


def _reference(notice: Notice) -> str:
    return f"YY{timezone.localdate():%Y%m%d}-{notice.pk}-{secrets.token_hex(3).upper()}"


def objection_file(
    *,
    notice: Notice,
    entry_id: int,
    filer_name: str,
    filer_phone: str,
    grounds: str,
    filer_organisation: str = "",
    filer_email: str = "",
    evidence: list | tuple = (),
    ip_address: str | None = None,
    at: datetime | None = None,
) -> Objection:
    """Anyone files an objection during the period, under their real name (domain.md §4: 实名).

    Evidence files are stored PENDING and scanned for malware after the commit, like enterprise documents;
    staff open them only once the scanner passed them (`evidence_download_refusal`).
    """
    stored: list[str] = []
    try:
        return _objection_create(
            notice=notice,
            entry_id=entry_id,
            filer_name=filer_name,
            filer_phone=filer_phone,
            grounds=grounds,
            filer_organisation=filer_organisation,
            filer_email=filer_email,
            evidence=evidence,
            ip_address=ip_address,
            at=at,
            stored=stored,
        )
    except BaseException:
        # The rows rolled back, so the files written meanwhile must go too: nothing refers to them.
        storage = ObjectionEvidence._meta.get_field("file").storage
        for name in stored:
            storage.delete(name)
        raise


@transaction.atomic
def _objection_create(
    *,
    notice: Notice,
    entry_id: int,
    filer_name: str,
    filer_phone: str,
    grounds: str,
    filer_organisation: str,
    filer_email: str,
    evidence: list | tuple,
    ip_address: str | None,
    at: datetime | None,
    stored: list[str],
) -> Objection:
    from enterprises.validators import validate_mobile

    notice = Notice.objects.select_for_update().get(pk=notice.pk)
    if not notice_is_open_for_objections(notice, at=at):
        raise WorkflowRefused(
            _("Objections to this notice were accepted from %(start)s to %(end)s.")
            % {"start": notice.starts_on, "end": notice.ends_on},
            code="notice_closed",
        )
    errors: dict[str, list[str]] = {}
    entry = notice.entries.filter(pk=entry_id, removed_at__isnull=True).first()
    if entry is None:
        errors["entry"] = [_("Choose the enterprise concerned from the list.")]
    if not (filer_name or "").strip():
        errors["filer_name"] = [_("Give your real name: anonymous objections are not accepted.")]
    try:
        validate_mobile(filer_phone)
    except ValidationError as exc:
        errors["filer_phone"] = exc.messages
    if len((grounds or "").strip()) < 10:
        errors["grounds"] = [_("State the grounds of the objection (at least 10 characters).")]
    if errors:
        raise ValidationError(errors)
    objection = Objection.objects.create(
        notice=notice,
        entry=entry,
        reference=_reference(notice),
        filer_name=filer_name.strip()[:60],
        filer_organisation=(filer_organisation or "").strip()[:200],
        filer_phone=filer_phone.strip(),
        filer_email=(filer_email or "").strip(),
        grounds=grounds.strip()[:5000],
        ip_address=ip_address,
        filed_at=at or timezone.now(),
    )
    # (file, original name, FileKind) as the objection form checked them
    for uploaded, name, kind in evidence:
        item = _evidence_store(objection, uploaded, name, kind)
        stored.append(item.file.name)
        # robust: with the objection committed, a broker that is down must not turn the filing into an
        # error page; the file stays PENDING and objection_evidence_stale_pending finds it.
        on_commit_robust(_enqueue_evidence_scan, item.pk)
    audit_record(
        action="objection.filed",
        tenant=notice.tenant,
        obj=objection,
        summary=f"{objection.reference} · {entry.enterprise_name} · evidence files: {len(evidence)}",
        actor_label="public",
    )
    for post in Post.objects.filter(
        tenant=notice.tenant,
        region=notice.round.program.owner_region,
        role__in=PUBLISHING_ROLES,
        is_active=True,
    ).select_related("user"):
        notification_send(
            recipient=post.user,
            tenant=notice.tenant,
            subject=_("New objection %(ref)s to %(name)s")
            % {"ref": objection.reference, "name": entry.enterprise_name},
            link=reverse("notice_manage", kwargs={"tenant_code": notice.tenant.code, "pk": notice.pk}),
        )
    return objection


@transaction.atomic
def objection_resolve(*, objection: Objection, upheld: bool, reply: str, by: User, request=None) -> Objection:
    """Dismiss with a reply, or uphold: the application is rejected with the reason and leaves the list."""
    notice = (
        Notice.objects.select_for_update()
        .select_related("round__program__owner_region", "round__tenant")
        .get(pk=objection.notice_id)
    )
    _require_publisher(by, notice.round)
    objection = (
        Objection.objects.select_for_update().select_related("entry__application").get(pk=objection.pk)
    )
    if objection.status != Objection.Status.OPEN:
        raise WorkflowRefused(_("This objection was already resolved."), code="resolved")
    if notice.status == Notice.Status.PUBLISHED:
        raise WorkflowRefused(_("The notice is published: its objections are closed."), code="notice_closed")
    reply = (reply or "").strip()
    if not reply:
        raise ValidationError(
            {"reply": [_("Write the reply the filer receives (or the reason for upholding).")]}
        )
    objection.status = Objection.Status.UPHELD if upheld else Objection.Status.DISMISSED
    objection.reply, objection.resolved_by, objection.resolved_at = reply, by, timezone.now()
    objection.save(update_fields=["status", "reply", "resolved_by", "resolved_at"])
    if upheld:
        entry = NoticeEntry.objects.select_for_update().get(pk=objection.entry_id)
        if entry.removed_at is None:
            entry.removed_at, entry.removed_reason = timezone.now(), reply
            entry.save(update_fields=["removed_at", "removed_reason"])
            application = (
                Application.objects.select_for_update(of=("self",))
                .select_related("round__tenant", "enterprise")
                .get(pk=entry.application_id)
            )
            _move(application, Action.OBJECTION_UPHELD, S.REJECTED, by=by, opinion=reply)
            _notify_members(
                application,
                _("An objection to your application was upheld: it is rejected"),
                _("Reason: %(reason)s") % {"reason": reply},
            )
    audit_record(
        action=f"objection.{objection.status}",
        actor=by,
        tenant=notice.tenant,
        obj=objection,
        summary=f"{objection.reference}: {reply[:200]}",
        request=request,
    )
    return objection


def _evidence_store(objection: Objection, uploaded, name: str, kind) -> ObjectionEvidence:
    # Stored under a generated name: the filer's name is metadata only, never a path.
    digest = file_sha256(uploaded)
    uploaded.seek(0)
    evidence = ObjectionEvidence(
        objection=objection,
        original_name=name,
        content_type=kind.content_type,
        size=uploaded.size,
        sha256=digest,
    )
    evidence.file.save(f"{uuid.uuid4().hex}{kind.extensions[0]}", uploaded, save=False)
    evidence.save()
    return evidence


# --- objection evidence: malware scan and download ------------------------------------------------
#
# The same rules as enterprise documents (enterprises.documents, reliability.md F6): a file is PENDING
# until the scanner answers; only CLEAN files are served; an infected file is deleted from storage at
# once, its signature and SHA-256 kept on the row and in the audit log. The filer has no account, so
# staff read the verdict on the objection's page instead of in a notification.


def _enqueue_evidence_scan(evidence_id: int) -> None:
    from certification.tasks import scan_objection_evidence

    scan_objection_evidence.delay(evidence_id)


EVIDENCE = evidence_scan.EvidenceKind(
    model=ObjectionEvidence,
    related=("objection__notice__tenant",),
    tenant_of=lambda e: e.objection.notice.tenant,
    label_of=lambda e: e.objection.reference,
    action="objection",
    filed_at="objection__filed_at",
    enqueue=_enqueue_evidence_scan,
)


def objection_evidence_scan(*, evidence_id: int, scanner: Scanner | None = None) -> str | None:
    """Scan a PENDING evidence file and record the verdict (evidence_scan.scan)."""
    return evidence_scan.scan(EVIDENCE, evidence_id=evidence_id, scanner=scanner)


def objection_evidence_scan_failed(*, evidence_id: int, detail: str) -> str | None:
    """Give up on a PENDING file after the scanner stayed unavailable through every retry."""
    return evidence_scan.scan_failed(EVIDENCE, evidence_id=evidence_id, detail=detail)


def objection_evidence_stale_pending(*, older_than: timedelta = RESCAN_AFTER, limit: int = 1000) -> list[int]:
    """Evidence still PENDING long after filing: its scan task was lost with a broker or a worker."""
    return evidence_scan.stale_pending(EVIDENCE, older_than=older_than, limit=limit)


def objection_evidence_rescan(*, evidence: ObjectionEvidence, by: User, request=None) -> ObjectionEvidence:
    """Staff send a file whose scan FAILED (the scanner was down too long) to the scanner again.

    The filer has no account to upload a new copy, so the file is kept and scanned again instead.
    """
    with transaction.atomic():
        notice = Notice.objects.select_related("round__program__owner_region", "round__tenant").get(
            pk=evidence.objection.notice_id
        )
        _require_publisher(by, notice.round)
        evidence_scan.rescan(EVIDENCE, evidence=evidence, by=by, request=request)
    evidence.refresh_from_db()
    return evidence


def evidence_download_refusal(evidence: ObjectionEvidence) -> str | None:
    """Why the file cannot be opened now, or None when it may be (it passed the malware scan)."""
    return evidence_scan.refusal(
        evidence,
        when_failed=_(
            "The malware scan of %(name)s did not complete, so the file cannot be opened. Scan it again; "
            "if it fails again, ask the filer for another copy."
        )
        % {"name": evidence.original_name},
    )


def objection_evidence_downloaded(*, evidence: ObjectionEvidence, by: User, request=None) -> None:
    evidence_scan.downloaded(EVIDENCE, evidence=evidence, by=by, request=request)


# --- closing and publishing -------------------------------------------------------------------


def notice_close_reason(notice: Notice, *, at: datetime | None = None) -> str | None:
    if notice.status != Notice.Status.OPEN:
        return _("This notice is already %(status)s.") % {"status": notice.get_status_display()}
    if _today(at) <= notice.ends_on:
        return _("The notice period runs until %(end)s.") % {"end": notice.ends_on}
    open_count = notice.objections.filter(status=Objection.Status.OPEN).count()
    if open_count:
        return _("%(n)d objections are still open: resolve them first.") % {"n": open_count}
    return None


def _next_number(tenant: Tenant, program: Program, year: int) -> str:
    # Two programmes of one tier (a provincial 专精特新 programme and the national one) print the same
    # abbreviation: they draw from one sequence, kept on the tier's first programme, or their numbers
    # would collide.
    if program.tier in TIER_ABBREVIATIONS:
        program = Program.objects.filter(tenant=tenant, tier=program.tier).order_by("pk").first() or program
    sequence, _created = NumberSequence.objects.select_for_update().get_or_create(
        tenant=tenant, program=program, year=year
    )
    # Locked row, then an increment: two publications at once never draw the same number.
    sequence.last += 1
    sequence.save(update_fields=["last"])
    abbreviation = TIER_ABBREVIATIONS.get(program.tier, program.code.upper().replace("_", ""))
    return f"{tenant.code.upper()}-{abbreviation}-{year}-{sequence.last:04d}"


def published_rows(certifications: list[Certification]) -> list[dict]:
    return [
        {
            "number": c.number,
            "enterprise": c.enterprise.name,
            "uscc": c.enterprise.uscc,
            "county": c.enterprise.county.name,
            "program": c.program.name,
            "issued_on": c.issued_on.isoformat(),
            "valid_until": c.valid_until.isoformat(),
        }
        for c in certifications
    ]


def notice_publish(*, notice: Notice, by: User, request=None, at: datetime | None = None) -> PublishedList:
    """After the period, with no open objection: certify every listed application and freeze the list."""
    with transaction.atomic():
        notice = (
            Notice.objects.select_for_update()
            .select_related("round__program__owner_region", "round__tenant")
            .get(pk=notice.pk)
        )
        _require_publisher(by, notice.round)
        if notice.status == Notice.Status.PUBLISHED:
            raise WorkflowRefused(_("This notice is already published."), code="published")
        reason = notice_close_reason(notice, at=at) if notice.status == Notice.Status.OPEN else None
        if reason:
            raise WorkflowRefused(reason, code="not_yet")
        tenant, program = notice.tenant, notice.round.program
        issued_on = _today(at)
        entries = list(
            notice.entries.filter(removed_at__isnull=True)
            .select_related("application__enterprise__county", "application__round__tenant")
            .order_by("position")
        )
        published = PublishedList.objects.create(
            tenant=tenant,
            notice=notice,
            version=1,
            title=_("%(round)s: list of certified enterprises") % {"round": notice.round.name},
            rows=[],
            published_by=by,
        )
        certifications = []
        for entry in entries:
            application = (
                Application.objects.select_for_update(of=("self",))
                .select_related("round__tenant", "enterprise__county")
                .get(pk=entry.application_id)
            )
            certification = Certification.objects.create(
                tenant=tenant,
                number=_next_number(tenant, program, issued_on.year),
                program=program,
                enterprise=application.enterprise,
                application=application,
                published_list=published,
                issued_on=issued_on,
                valid_until=issued_on + VALIDITY,
            )
            certifications.append(certification)
            _move(application, Action.PUBLISH, S.PUBLISHED, by=by, opinion=certification.number)
            _notify_members(
                application,
                _("Your enterprise is certified: %(number)s") % {"number": certification.number},
                _("Valid until %(day)s. Your certificate will be ready to download shortly.")
                % {"day": certification.valid_until},
            )
        # The rows are written once, in the same transaction; from here on the list never changes.
        PublishedList.objects.filter(pk=published.pk).update(rows=published_rows(certifications))
        published.refresh_from_db()
        notice.status, notice.closed_at = Notice.Status.PUBLISHED, timezone.now()
        notice.save(update_fields=["status", "closed_at"])
        audit_record(
            action="notice.published",
            actor=by,
            tenant=tenant,
            obj=published,
            summary=f"{notice.title} · {len(certifications)}",
            request=request,
        )
        ids = [c.pk for c in certifications]
        transaction.on_commit(lambda: _after_publication(published.pk, ids))
    return published


def _after_publication(published_id: int, certification_ids: list[int]) -> None:
    from certification.directory_cache import directory_changed
    from certification.tasks import generate_certificate, render_published_list

    directory_changed(PublishedList.objects.values_list("tenant_id", flat=True).get(pk=published_id))

    render_published_list.delay(published_id)
    for pk in certification_ids:
        generate_certificate.delay(pk)


# What a correction may change in a row: how the enterprise, its county and the programme are written.
# The number and the dates are those of the certification itself; a wrong one is a matter for the
# certification (revocation), not for the list's wording.
CORRECTABLE_FIELDS = ("enterprise", "uscc", "county", "program")


def _corrected_rows(published: PublishedList, rows: list[dict]) -> list[dict]:
    """The rows of a correction, each matched to its row of the old version by certificate number."""
    from enterprises.validators import validate_uscc

    before = {row["number"]: row for row in published.rows}
    errors: list[str] = []
    corrected: list[dict] = []
    seen: set[str] = set()
    for row in rows:
        number = str(row.get("number") or "")
        if number not in before:
            errors.append(_("%(number)s is not on the list being corrected.") % {"number": number or "—"})
            continue
        if number in seen:
            errors.append(_("%(number)s appears twice.") % {"number": number})
            continue
        seen.add(number)
        new = dict(before[number])
        for field in CORRECTABLE_FIELDS:
            value = " ".join(str(row.get(field, before[number].get(field)) or "").split())
            if not value:
                errors.append(_("%(number)s: a field is empty.") % {"number": number})
            new[field] = value
        try:
            new["uscc"] = validate_uscc(new["uscc"])
        except ValidationError as exc:
            errors.append(f"{number}: {' '.join(exc.messages)}")
        corrected.append(new)
    if not corrected and not errors:
        errors.append(
            _("A corrected list keeps at least one enterprise; a certification is withdrawn by revoking it.")
        )
    if errors:
        raise ValidationError({"rows": errors})
    return corrected


def published_list_changes(*, before: list[dict], after: list[dict]) -> dict:
    """What a correction changed, row by row: {"removed": [row], "changed": [{number, enterprise, fields}]}."""
    after_by_number = {row["number"]: row for row in after}
    removed = [row for row in before if row["number"] not in after_by_number]
    changed = []
    for old in before:
        new = after_by_number.get(old["number"])
        if new is None:
            continue
        fields = [(f, old.get(f), new.get(f)) for f in CORRECTABLE_FIELDS if old.get(f) != new.get(f)]
        if fields:
            changed.append({"number": old["number"], "enterprise": old.get("enterprise"), "fields": fields})
    return {"removed": removed, "changed": changed}


def published_list_correct(
    *,
    published: PublishedList,
    rows: list[dict],
    note: str,
    by: User,
    title: str | None = None,
    request=None,
) -> PublishedList:
    """A correction is a new version linked to the old one; the old one stays as it was.

    Rows are matched to the old version's by certificate number: a correction may reword a row
    (CORRECTABLE_FIELDS) or leave it out, never add a certification that was not published.
    """
    with transaction.atomic():
        published = (
            PublishedList.objects.select_for_update()
            .select_related("notice__round__program__owner_region", "notice__round__tenant")
            .get(pk=published.pk)
        )
        _require_publisher(by, published.notice.round)
        if hasattr(published, "replaced_by"):
            raise WorkflowRefused(
                _("A newer version of this list exists: correct that one."), code="superseded"
            )
        title = published.title if title is None else " ".join(title.split())
        errors: dict[str, list[str]] = {}
        if not (note or "").strip():
            errors["correction_note"] = [_("Say what the correction changes and why.")]
        if not title:
            errors["title"] = [_("Give the list a title.")]
        try:
            rows = _corrected_rows(published, rows)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        if not errors and rows == published.rows and title == published.title:
            errors["rows"] = [
                _("Nothing was changed: correct a row or the title, or leave the list as it is.")
            ]
        if errors:
            raise ValidationError(errors)
        changes = published_list_changes(before=published.rows, after=rows)
        correction = PublishedList.objects.create(
            tenant=published.tenant,
            notice=published.notice,
            version=published.version + 1,
            replaces=published,
            title=title,
            rows=rows,
            correction_note=note.strip(),
            published_by=by,
        )
        audit_record(
            action="published_list.corrected",
            actor=by,
            tenant=published.tenant,
            obj=correction,
            summary=f"v{published.version} → v{correction.version}: {note.strip()[:200]}",
            changes={
                "title": [published.title, title] if title != published.title else None,
                "removed": [row["number"] for row in changes["removed"]],
                "changed": {c["number"]: {f: [a, b] for f, a, b in c["fields"]} for c in changes["changed"]},
            },
            request=request,
        )
        transaction.on_commit(lambda: _after_publication(correction.pk, []))
    return correction


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- holding a certification blocks a new application -------------------------------------------


def holds_active_certification(enterprise: Enterprise, program: Program) -> str | None:
    if Certification.objects.filter(
        enterprise=enterprise, program=program, status=Certification.Status.ACTIVE
    ).exists():
        return _(
            "Your enterprise holds an active certification of this programme; it is re-verified, not applied for again."
        )
    return None


def certification_lookup(tenant: Tenant, number: str) -> Certification | None:
    """The public verification: by number, exact (upper case, spaces removed)."""
    number = (number or "").strip().upper().replace(" ", "")
    if not number:
        return None
    return (
        Certification.objects.for_tenant(tenant)
        .select_related("enterprise__county", "program")
        .filter(number=number)
        .first()
    )
