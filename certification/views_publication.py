"""Pages of the public notice (公示), objections (异议), publication (认定名单), verification, and the
enterprise's certificates.

Public pages need no sign-in; the tenant comes from the URL and every query is scoped to it. They show
what the notice and the published list copied for the public (names, counties, programmes, numbers)
and never a filer's or an enterprise's contact data. Staff pages are for the people
`publication.can_publish` names for the notice's round; anyone else gets 404.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe

from certification import lifecycle, publication
from certification.application_pdf import content_disposition
from certification.forms_publication import (
    EVIDENCE_MAX_BYTES,
    CorrectionForm,
    NoticeCreateForm,
    ObjectionForm,
    PdfCompareForm,
    ResolveForm,
    VerifyForm,
)
from certification.models import (
    Application,
    Certification,
    Notice,
    Objection,
    ObjectionEvidence,
    PublishedList,
    Round,
)
from certification.upload_limits import limit_uploads, oversize_error
from certification.workflow import WorkflowRefused
from enterprises.documents import file_sha256
from enterprises.views import enterprise_member_required
from portal import permissions as portal_permissions
from portal.api.errors import DomainError
from portal.audit import audit_record, client_ip
from portal.exports import xlsx_response
from portal.views import tenant_login_required

log = logging.getLogger(__name__)

# Anti-abuse limits of the public objection form (per client IP).
OBJECTIONS_PER_HOUR = 5
OBJECTIONS_PER_DAY_PER_NOTICE = 20
NOTICES_PER_PAGE = 20


def _url(name: str, request, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": request.tenant.code, **kwargs})


def _message(exc) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(exc.messages)


def _bytes_sha256(field_file) -> str | None:
    """The SHA-256 of a stored file, read in chunks; None when the file is missing from storage."""
    try:
        with field_file.open("rb"):
            return file_sha256(field_file)
    except (FileNotFoundError, OSError, ValueError):
        return None


# --- public: notices and objections ------------------------------------------------------------


def notice_public_list(request, tenant_code):
    # Three queries whatever the page: the count, the page of notices, and their published lists (without
    # their rows, which the list does not show and which run to thousands on a large list).
    notices = publication.public_notices(request.tenant).prefetch_related(
        Prefetch(
            "published_lists",
            queryset=PublishedList.objects.only("pk", "notice_id", "version").order_by("-version"),
        )
    )
    page = Paginator(notices, NOTICES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "notice": n,
            "open": publication.notice_is_open_for_objections(n),
            "published": next(iter(n.published_lists.all()), None),
        }
        for n in page
    ]
    return render(
        request,
        "certification/publication/notice_list.html",
        {
            "rows": rows,
            "page": page,
            "page_range": page.paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1),
        },
    )


def _public_notice(request, pk) -> Notice:
    return get_object_or_404(
        Notice.objects.for_tenant(request.tenant).select_related("round__program"), pk=pk
    )


def _notice_page(request, notice: Notice, form: ObjectionForm | None = None, status: int = 200):
    is_open = publication.notice_is_open_for_objections(notice)
    if is_open and form is None:
        form = ObjectionForm(notice=notice)
    return render(
        request,
        "certification/publication/notice_public.html",
        {
            "notice": notice,
            "entries": notice.entries.filter(removed_at__isnull=True).order_by("position"),
            "is_open": is_open,
            "form": form if is_open else None,
            "published": notice.published_lists.order_by("-version").first(),
        },
        status=status,
    )


def notice_public(request, tenant_code, pk):
    return _notice_page(request, _public_notice(request, pk))


def notice_pdf(request, tenant_code, pk):
    from certification import certificates

    notice = _public_notice(request, pk)
    # The notice PDF is rendered by certificates.notice_pdf_response; until it exists there is no PDF.
    respond = getattr(certificates, "notice_pdf_response", None)
    if respond is None:
        raise Http404
    return respond(request, notice)


def _rate_keys(ip: str, notice: Notice) -> list[tuple[str, int, int]]:
    now = timezone.now()
    return [
        (f"objection-rate:h:{ip}:{now:%Y%m%d%H}", 3600, OBJECTIONS_PER_HOUR),
        (f"objection-rate:d:{notice.pk}:{ip}:{now:%Y%m%d}", 86400, OBJECTIONS_PER_DAY_PER_NOTICE),
    ]


def _rate_incr(key: str, timeout: int) -> int:
    # add() creates the counter only if it is missing; incr() is atomic (Redis INCR; LocMemCache under its
    # lock). The key may expire between the two: then start it again.
    for _attempt in range(3):
        cache.add(key, 0, timeout)
        try:
            return cache.incr(key)
        except ValueError:
            continue
    return 1


def _rate_release(keys: list[str]) -> None:
    for key in keys:
        with contextlib.suppress(ValueError):  # expired meanwhile: nothing left to give back
            cache.decr(key)


def _rate_reserve(ip: str, notice: Notice) -> list[str] | None:
    """Take one place under every limit, or none; None when a limit is reached.

    Checking a counter and then raising it later lets concurrent posts all pass the check before any
    of them is counted. Here the counter is raised first, atomically, and the value it returns decides:
    of N posts at once, exactly the first `limit` values are at or under the limit. A post refused, or
    whose filing then fails (a mistake in the form), gives its place back.
    """
    taken: list[str] = []
    for key, timeout, limit in _rate_keys(ip, notice):
        count = _rate_incr(key, timeout)
        taken.append(key)
        if count > limit:
            _rate_release(taken)
            return None
    return taken


@limit_uploads(EVIDENCE_MAX_BYTES)
def objection_new(request, tenant_code, pk):
    notice = _public_notice(request, pk)
    if not publication.notice_is_open_for_objections(notice):
        messages.error(
            request,
            _("Objections to this notice were accepted from %(start)s to %(end)s.")
            % {"start": notice.starts_on, "end": notice.ends_on},
        )
        return HttpResponseRedirect(_url("notice_public", request, pk=notice.pk))
    if request.method != "POST":
        return render(
            request,
            "certification/publication/objection_form.html",
            {"notice": notice, "form": ObjectionForm(notice=notice)},
        )
    ip = client_ip(request) or "unknown"
    reserved = _rate_reserve(ip, notice)
    if reserved is None:
        # Logged, not audited: a flood of refused posts must not flood the audit log as well.
        log.warning("objection to notice %s from %s refused: rate limit", notice.pk, ip)
        response = render(
            request,
            "certification/publication/objection_refused.html",
            {"notice": notice},
            status=429,
        )
        response["Retry-After"] = "3600"
        return response
    form = ObjectionForm(request.POST, request.FILES, notice=notice)
    valid = form.is_valid()
    if not oversize_error(request, form) and valid:
        data = form.cleaned_data
        try:
            objection = publication.objection_file(
                notice=notice,
                entry_id=data["entry"],
                filer_name=data["filer_name"],
                filer_phone=data["filer_phone"],
                grounds=data["grounds"],
                filer_organisation=data["filer_organisation"],
                filer_email=data["filer_email"],
                evidence=data["evidence"],
                ip_address=client_ip(request),
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except WorkflowRefused as exc:
            form.add_error(None, exc.message)
        else:
            return render(
                request,
                "certification/publication/objection_receipt.html",
                {"notice": notice, "objection": objection},
            )
    _rate_release(reserved)  # nothing was filed: a mistake in the form costs no place
    return render(
        request,
        "certification/publication/objection_form.html",
        {"notice": notice, "form": form},
        status=400,
    )


# --- public: published lists and verification ---------------------------------------------------


def _public_published(request, pk) -> PublishedList:
    return get_object_or_404(
        PublishedList.objects.for_tenant(request.tenant).select_related("notice", "replaces", "replaced_by"),
        pk=pk,
    )


def _replaced_by(published: PublishedList) -> PublishedList | None:
    try:
        return published.replaced_by
    except PublishedList.DoesNotExist:
        return None


def _versions(published: PublishedList) -> dict:
    """How this version stands among the notice's versions: what it corrects, what replaced it."""
    replaced_by = _replaced_by(published)
    current = published
    if replaced_by is not None:
        current = published.notice.published_lists.order_by("-version").first() or replaced_by
    changes = None
    if published.replaces is not None:
        changes = publication.published_list_changes(before=published.replaces.rows, after=published.rows)
        labels = _row_labels()
        for change in changes["changed"]:
            change["fields"] = [(labels[f], old, new) for f, old, new in change["fields"]]
    return {
        "replaced_by": replaced_by,
        "current": current,
        "changes": changes,
        "title_changed": published.replaces is not None and published.replaces.title != published.title,
    }


def _row_labels() -> dict[str, str]:
    return {
        "enterprise": _("Enterprise"),
        "uscc": _("Unified social credit code"),
        "county": _("County"),
        "program": _("Programme"),
    }


def published_public(request, tenant_code, pk):
    published = _public_published(request, pk)
    return render(
        request,
        "certification/publication/published_public.html",
        {"published": published, "rows": published.rows, **_versions(published)},
    )


def published_pdf(request, tenant_code, pk):
    published = _public_published(request, pk)
    if not published.pdf:
        raise Http404
    try:
        fh = published.pdf.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(fh, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(
        f"{published.title}-v{published.version}.pdf", f"published-{published.pk}-v{published.version}.pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def published_xlsx(request, tenant_code, pk):
    published = _public_published(request, pk)
    columns = [
        (_("Certificate number"), lambda r: r.get("number")),
        (_("Enterprise"), lambda r: r.get("enterprise")),
        (_("Unified social credit code"), lambda r: r.get("uscc")),
        (_("County"), lambda r: r.get("county")),
        (_("Programme"), lambda r: r.get("program")),
        (_("Issued on"), lambda r: r.get("issued_on")),
        (_("Valid until"), lambda r: r.get("valid_until")),
    ]
    return xlsx_response(
        filename=f"published-{published.pk}-v{published.version}.xlsx",
        title=_("Published list"),
        columns=columns,
        rows=published.rows,
    )


def published_verify(request, tenant_code, pk):
    published = _public_published(request, pk)
    stored_hash = _bytes_sha256(published.pdf) if published.pdf else None
    form = PdfCompareForm()
    uploaded_hash = None
    if request.method == "POST":
        form = PdfCompareForm(request.POST, request.FILES)
        if form.is_valid():
            digest = hashlib.sha256()
            for chunk in form.cleaned_data["file"].chunks():
                digest.update(chunk)
            uploaded_hash = digest.hexdigest()
    return render(
        request,
        "certification/publication/published_verify.html",
        {
            "published": published,
            "stored_hash": stored_hash,
            "stored_matches": bool(stored_hash and stored_hash == published.pdf_sha256),
            "form": form,
            "uploaded_hash": uploaded_hash,
            "uploaded_matches": bool(uploaded_hash and uploaded_hash == published.pdf_sha256),
        },
    )


def certification_state(certification: Certification) -> tuple[str, str]:
    """(code, label) for the public pages: views_lifecycle.lifecycle_state, with a certification under
    re-verification past its end date shown as valid (which it is, until the province decides)."""
    from certification.views_lifecycle import lifecycle_state

    filed = (
        certification.status == Certification.Status.ACTIVE
        and certification.valid_until < timezone.localdate()
        and certification.reverifications.filter(state__in=lifecycle.FILED_STATES).exists()
    )
    code, label = lifecycle_state(certification, filed=filed)
    return ("valid" if code == "reverification" else code), label


def verify(request, tenant_code, number=None):
    number = number or request.GET.get("number")
    form = VerifyForm(initial={"number": number} if number else None)
    result = None
    if number:
        form = VerifyForm({"number": number})
        if form.is_valid():
            certification = publication.certification_lookup(request.tenant, form.cleaned_data["number"])
            result = {"number": form.cleaned_data["number"], "certification": certification}
            if certification is not None:
                result["state"], result["state_label"] = certification_state(certification)
    return render(request, "certification/publication/verify.html", {"form": form, "result": result})


# --- staff --------------------------------------------------------------------------------------


def _require_official(request) -> None:
    if not portal_permissions.is_official(request.user, request.tenant):
        raise Http404


def _staff_notice(request, pk) -> Notice:
    # SECURITY: scoped to the tenant, then to the people who publish the round's programme; 404 otherwise.
    notice = get_object_or_404(
        Notice.objects.for_tenant(request.tenant).select_related(
            "round__program__owner_region", "round__tenant"
        ),
        pk=pk,
    )
    if not publication.can_publish(request.user, notice.round):
        raise Http404
    return notice


@tenant_login_required
def notice_manage_list(request, tenant_code):
    _require_official(request)
    tenant = request.tenant
    notices = [
        n
        for n in publication.public_notices(tenant).select_related("round__program__owner_region")[:500]
        if publication.can_publish(request.user, n.round)
    ]
    waiting = (
        Round.objects.for_tenant(tenant)
        .filter(applications__state=Application.State.APPROVED)
        .annotate(approved=Count("applications", filter=Q(applications__state=Application.State.APPROVED)))
        .select_related("program__owner_region", "tenant")
        .order_by("-opens_at")
    )
    rounds = [r for r in waiting if publication.can_publish(request.user, r)]
    publisher = request.user.is_superuser or any(
        p.role in publication.PUBLISHING_ROLES or (p.is_reviewer and p.region.level == "prefecture")
        for p in request.user.posts_in(tenant)
    )
    if not (notices or rounds or publisher):
        raise Http404
    return render(
        request,
        "certification/publication/manage_list.html",
        {
            "notices": [
                {"notice": n, "published": n.published_lists.order_by("-version").first()} for n in notices
            ],
            "rounds": rounds,
        },
    )


DEFAULT_BODY = gettext_lazy(
    "The enterprises below have passed review and are proposed for certification. They are published "
    "for public comment during the period shown."
)
DEFAULT_HOW_TO_OBJECT = gettext_lazy(
    "Anyone who objects to an enterprise on this list may file an objection during the notice period, "
    "under their real name, with a contact telephone number and the facts relied on, through the "
    "objection form on this page. Anonymous objections and objections received after the period are "
    "not accepted."
)


@tenant_login_required
def notice_create(request, tenant_code, round_pk):
    round_ = get_object_or_404(
        Round.objects.for_tenant(request.tenant).select_related("program__owner_region", "tenant"),
        pk=round_pk,
    )
    if not publication.can_publish(request.user, round_):
        raise Http404
    applications = list(
        Application.objects.for_tenant(request.tenant)
        .filter(round=round_, state=Application.State.APPROVED)
        .select_related("enterprise", "county")
        .order_by("county__code", "enterprise__name")
    )
    if request.method == "POST":
        form = NoticeCreateForm(request.POST, applications=applications)
        if form.is_valid():
            data = form.cleaned_data
            try:
                notice = publication.notice_create(
                    round_=round_,
                    application_ids=data["applications"],
                    title=data["title"],
                    body=data["body"],
                    how_to_object=data["how_to_object"],
                    starts_on=data["starts_on"],
                    working_days=data["working_days"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except WorkflowRefused as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("The notice is published for comment from %(start)s to %(end)s (%(n)d working days).")
                    % {"start": notice.starts_on, "end": notice.ends_on, "n": notice.working_days},
                )
                return HttpResponseRedirect(_url("notice_manage", request, pk=notice.pk))
    else:
        form = NoticeCreateForm(
            applications=applications,
            initial={
                "title": _("%(round)s: proposed list for public notice") % {"round": round_.name},
                "body": DEFAULT_BODY,
                "how_to_object": DEFAULT_HOW_TO_OBJECT,
                "starts_on": timezone.localdate(),
                "working_days": request.tenant.notice_days,
                "applications": [a.pk for a in applications],
            },
        )
    return render(
        request,
        "certification/publication/notice_create.html",
        {"round": round_, "form": form, "applications": applications},
        status=400 if form.is_bound else 200,
    )


def mask_phone(phone: str) -> str:
    phone = phone or ""
    return "*" * max(0, len(phone) - 4) + phone[-4:]


@tenant_login_required
def notice_manage(request, tenant_code, pk):
    notice = _staff_notice(request, pk)
    objections = list(
        notice.objections.select_related("entry")
        .prefetch_related(Prefetch("evidence", queryset=ObjectionEvidence.objects.order_by("pk")))
        .order_by("filed_at", "pk")
    )
    for o in objections:
        o.masked_phone = mask_phone(o.filer_phone)
        o.resolve_form = ResolveForm(prefix=f"o{o.pk}") if o.status == Objection.Status.OPEN else None
    return render(
        request,
        "certification/publication/notice_manage.html",
        {
            "notice": notice,
            "entries": notice.entries.order_by("position"),
            "objections": objections,
            "close_reason": publication.notice_close_reason(notice),
            "published_lists": notice.published_lists.order_by("-version"),
        },
    )


@require_POST
@tenant_login_required
def notice_publish(request, tenant_code, pk):
    notice = _staff_notice(request, pk)
    try:
        published = publication.notice_publish(notice=notice, by=request.user, request=request)
    except (WorkflowRefused, ValidationError) as exc:
        messages.error(request, _message(exc))
        return HttpResponseRedirect(_url("notice_manage", request, pk=notice.pk))
    messages.success(request, _("The list is published; certificates are being generated."))
    return HttpResponseRedirect(_url("published_manage", request, pk=published.pk))


@require_POST
@tenant_login_required
def objection_resolve(request, tenant_code, pk):
    objection = get_object_or_404(
        Objection.objects.filter(notice__tenant=request.tenant).select_related("notice"), pk=pk
    )
    notice = _staff_notice(request, objection.notice_id)
    form = ResolveForm(request.POST, prefix=f"o{objection.pk}")
    back = _url("notice_manage", request, pk=notice.pk) + f"#objection-{objection.pk}"
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{objection.reference} · {label}: {' '.join(errors)}")
        return HttpResponseRedirect(back)
    try:
        publication.objection_resolve(
            objection=objection,
            upheld=form.cleaned_data["decision"] == "uphold",
            reply=form.cleaned_data["reply"],
            by=request.user,
            request=request,
        )
    except (WorkflowRefused, ValidationError) as exc:
        messages.error(request, f"{objection.reference}: {_message(exc)}")
    else:
        messages.success(request, _("Objection %(ref)s resolved.") % {"ref": objection.reference})
    return HttpResponseRedirect(back)


def _staff_evidence(request, pk) -> ObjectionEvidence:
    # SECURITY: one answer, 404, for "no such file", "another tenant's", "not a publisher of this notice"
    # and "not signed in": a file's existence does not leak, and a deep link sends no one to sign in.
    if not request.user.is_authenticated:
        raise Http404
    evidence = get_object_or_404(
        ObjectionEvidence.objects.filter(objection__notice__tenant=request.tenant).select_related(
            "objection__notice__tenant"
        ),
        pk=pk,
    )
    _staff_notice(request, evidence.objection.notice_id)
    return evidence


def _evidence_back(request, evidence: ObjectionEvidence) -> str:
    return (
        _url("notice_manage", request, pk=evidence.objection.notice_id)
        + f"#objection-{evidence.objection_id}"
    )


def _attachment(evidence: ObjectionEvidence) -> str:
    """attachment with an ASCII fallback and the real name as RFC 5987 filename* (RFC 6266 §4.3).

    The fallback's extension is the stored file's, which the content decided when it was filed; the
    filer's name goes only into filename*, where quote() encodes every quote, semicolon and space.
    """
    extension = os.path.splitext(evidence.file.name)[1].lower()
    fallback = f"evidence-{evidence.objection.reference}-{evidence.pk}{extension}"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(evidence.original_name, safe='')}"


@require_safe
def objection_evidence_download(request, tenant_code, pk):
    evidence = _staff_evidence(request, pk)
    refusal = publication.evidence_download_refusal(evidence)
    if refusal:
        messages.error(request, refusal)
        return HttpResponseRedirect(_evidence_back(request, evidence))
    try:
        fh = evidence.file.open("rb")
    except (FileNotFoundError, ValueError):
        log.error("objection evidence %s: stored file %r is missing", evidence.pk, evidence.file.name)
        raise Http404 from None
    publication.objection_evidence_downloaded(evidence=evidence, by=request.user, request=request)
    response = FileResponse(fh, content_type=evidence.content_type)
    response["Content-Disposition"] = _attachment(evidence)
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it after all, it runs nothing and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_POST
def objection_evidence_rescan(request, tenant_code, pk):
    evidence = _staff_evidence(request, pk)
    try:
        publication.objection_evidence_rescan(evidence=evidence, by=request.user, request=request)
    except (WorkflowRefused, ValidationError) as exc:
        messages.error(request, f"{evidence.original_name}: {_message(exc)}")
    else:
        messages.success(
            request, _("%(name)s is being checked for malware again.") % {"name": evidence.original_name}
        )
    return HttpResponseRedirect(_evidence_back(request, evidence))


def _staff_published(request, pk) -> PublishedList:
    published = get_object_or_404(
        PublishedList.objects.for_tenant(request.tenant).select_related(
            "notice__round__program__owner_region", "notice__round__tenant", "replaces", "replaced_by"
        ),
        pk=pk,
    )
    if not publication.can_publish(request.user, published.notice.round):
        raise Http404
    return published


def certificate_progress(published: PublishedList) -> dict:
    from certification import certificates

    progress = certificates.certificate_progress(published)
    progress["pending"] = progress["total"] - progress["done"] - progress["failed"]
    progress["complete"] = progress["pending"] == 0
    return progress


@tenant_login_required
def published_manage(request, tenant_code, pk):
    published = _staff_published(request, pk)
    progress = certificate_progress(published)
    if request.GET.get("format") == "json":
        return JsonResponse({k: v for k, v in progress.items() if k != "failures"})
    return render(
        request,
        "certification/publication/published_manage.html",
        {
            "published": published,
            **_versions(published),
            "progress": progress,
            "failures": progress["failures"],
            "progress_url": _url("published_manage", request, pk=published.pk)
            + "?"
            + urlencode({"format": "json"}),
        },
    )


@tenant_login_required
def published_correct(request, tenant_code, pk):
    published = _staff_published(request, pk)
    newer = _replaced_by(published)
    if newer is not None:
        messages.info(
            request,
            _("Version %(old)d was replaced by version %(new)d: corrections are made to the newest version.")
            % {"old": published.version, "new": newer.version},
        )
        return HttpResponseRedirect(_url("published_correct", request, pk=newer.pk))
    form = CorrectionForm(request.POST or None, published=published)
    if request.method == "POST" and form.is_valid():
        try:
            correction = publication.published_list_correct(
                published=published,
                rows=form.corrected_rows(),
                title=form.cleaned_data["title"],
                note=form.cleaned_data["correction_note"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except WorkflowRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "Version %(new)d of the list is published; it replaces version %(old)d, which stays online."
                )
                % {"new": correction.version, "old": published.version},
            )
            return HttpResponseRedirect(_url("published_manage", request, pk=correction.pk))
    return render(
        request,
        "certification/publication/published_correct.html",
        {"published": published, "form": form, "errors": form.error_summary() if form.is_bound else []},
        status=400 if form.is_bound else 200,
    )


@require_POST
@tenant_login_required
def certificates_retry(request, tenant_code, pk):
    published = _staff_published(request, pk)
    with transaction.atomic():
        retry = Certification.objects.filter(published_list=published, certificate="")
        ids = list(retry.values_list("pk", flat=True))
        retry.update(certificate_error="")
        audit_record(
            action="certificates.retried",
            actor=request.user,
            tenant=request.tenant,
            obj=published,
            summary=f"{len(ids)}",
            request=request,
        )

        render_list = not published.pdf_sha256

        def enqueue():
            from certification.tasks import generate_certificate, render_published_list

            if render_list:  # the list's own PDF failed too (e.g. a worker without fonts)
                render_published_list.delay(published.pk)
            for cert_id in ids:
                generate_certificate.delay(cert_id)

        transaction.on_commit(enqueue)
    messages.success(request, _("%(n)d certificates are being generated again.") % {"n": len(ids)})
    return HttpResponseRedirect(_url("published_manage", request, pk=published.pk))


# --- enterprise ---------------------------------------------------------------------------------


@enterprise_member_required()
def certification_list(request, tenant_code, enterprise):
    certifications = list(
        Certification.objects.for_tenant(request.tenant)
        .filter(enterprise=enterprise)
        .select_related("program")
        .order_by("-issued_on", "number")
    )
    for c in certifications:
        c.state, c.state_label = certification_state(c)
    return render(
        request,
        "certification/publication/certification_list.html",
        {"enterprise": enterprise, "certifications": certifications},
    )


@enterprise_member_required()
def certificate_download(request, tenant_code, pk, enterprise):
    # SECURITY: only the member's own enterprise's certifications, in this tenant.
    certification = get_object_or_404(
        Certification.objects.for_tenant(request.tenant).filter(enterprise=enterprise), pk=pk
    )
    if not certification.certificate:
        raise Http404
    try:
        fh = certification.certificate.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    response = FileResponse(fh, content_type="application/pdf")
    ascii_number = "".join(ch for ch in certification.number if ch.isascii() and (ch.isalnum() or ch == "-"))
    response["Content-Disposition"] = content_disposition(
        f"证书-{certification.number}.pdf", f"certificate-{ascii_number}.pdf"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    audit_record(
        action="certificate.downloaded",
        actor=request.user,
        tenant=request.tenant,
        obj=certification,
        summary=f"{certification.number} · {enterprise.name}",
        request=request,
    )
    return response
