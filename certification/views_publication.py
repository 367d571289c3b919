"""Pages of the public notice (公示), objections (异议), publication (认定名单), verification, and the
enterprise's certificates.

Public pages need no sign-in; the tenant comes from the URL and every query is scoped to it. They show
what the notice and the published list copied for the public (names, counties, programmes, numbers)
and never a filer's or an enterprise's contact data. Staff pages are for the people
`publication.can_publish` names for the notice's round; anyone else gets 404.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlencode

from django.contrib import messages
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from certification import publication
from certification.application_pdf import content_disposition
from certification.forms_publication import (
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
    PublishedList,
    Round,
)
from certification.workflow import WorkflowRefused
from enterprises.documents import file_sha256
from enterprises.views import enterprise_member_required
from portal import permissions as portal_permissions
from portal.api.errors import DomainError
from portal.audit import audit_record, client_ip
from portal.exports import xlsx_response
from portal.views import tenant_login_required

# Anti-abuse limits of the public objection form (per client IP).
OBJECTIONS_PER_HOUR = 5
OBJECTIONS_PER_DAY_PER_NOTICE = 20


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
    notices = publication.public_notices(request.tenant).prefetch_related(
        Prefetch("published_lists", queryset=PublishedList.objects.order_by("-version"))
    )
    rows = [
        {
            "notice": n,
            "open": publication.notice_is_open_for_objections(n),
            "published": next(iter(n.published_lists.all()), None),
        }
        for n in notices[:200]
    ]
    return render(request, "certification/publication/notice_list.html", {"rows": rows})


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


def _rate_limited(ip: str, notice: Notice) -> bool:
    return any((cache.get(key) or 0) >= limit for key, _timeout, limit in _rate_keys(ip, notice))


def _rate_count(ip: str, notice: Notice) -> None:
    for key, timeout, _limit in _rate_keys(ip, notice):
        # add() then incr(): atomic on Redis, so two posts at once are both counted.
        cache.add(key, 0, timeout)
        try:
            cache.incr(key)
        except ValueError:
            cache.set(key, 1, timeout)


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
    if _rate_limited(ip, notice):
        return render(
            request,
            "certification/publication/objection_refused.html",
            {"notice": notice},
            status=429,
        )
    form = ObjectionForm(request.POST, request.FILES, notice=notice)
    if form.is_valid():
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
            _rate_count(ip, notice)
            return render(
                request,
                "certification/publication/objection_receipt.html",
                {"notice": notice, "objection": objection},
            )
    return render(
        request,
        "certification/publication/objection_form.html",
        {"notice": notice, "form": form},
        status=400,
    )


# --- public: published lists and verification ---------------------------------------------------


def _public_published(request, pk) -> PublishedList:
    return get_object_or_404(
        PublishedList.objects.for_tenant(request.tenant).select_related("notice", "replaces"), pk=pk
    )


def _replaced_by(published: PublishedList) -> PublishedList | None:
    try:
        return published.replaced_by
    except PublishedList.DoesNotExist:
        return None


def published_public(request, tenant_code, pk):
    published = _public_published(request, pk)
    return render(
        request,
        "certification/publication/published_public.html",
        {"published": published, "replaced_by": _replaced_by(published), "rows": published.rows},
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
    """(code, label): a certification past its end date reads as expired even before the nightly job."""
    if certification.status == Certification.Status.REVOKED:
        return "revoked", _("Revoked")
    if (
        certification.status == Certification.Status.EXPIRED
        or certification.valid_until < timezone.localdate()
    ):
        return "expired", _("Expired")
    return "valid", _("Valid")


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
        notice.objections.select_related("entry").prefetch_related("evidence").order_by("filed_at", "pk")
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


def _staff_published(request, pk) -> PublishedList:
    published = get_object_or_404(
        PublishedList.objects.for_tenant(request.tenant).select_related(
            "notice__round__program__owner_region", "notice__round__tenant"
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
            "replaced_by": _replaced_by(published),
            "progress": progress,
            "failures": progress["failures"],
            "progress_url": _url("published_manage", request, pk=published.pk)
            + "?"
            + urlencode({"format": "json"}),
        },
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
