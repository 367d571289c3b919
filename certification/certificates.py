"""Certificate PDFs (证书), the published list's PDF and the notice's PDF.

`certificate_generate` and `published_list_render` run in Celery tasks (certification.tasks) right after
publication; both are idempotent: a file already recorded is kept, and two workers racing on the same
row keep the first file (the row is filled by a conditional UPDATE, the loser's file is deleted).

A certificate carries a QR code of its public verification address (verify_number): inline SVG made by
segno, so WeasyPrint fetches nothing for it. Everything else in the templates is autoescaped.

Certificates are official documents of the tenant's authority: they are rendered in the portal's
language (settings.LANGUAGE_CODE), whatever language the worker or the requesting official uses.
"""

from __future__ import annotations

import logging
from datetime import date
from urllib.parse import quote

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe

from certification.models import Certification, Notice, PublishedList
from certification.publication import sha256_of
from portal.audit import audit_record
from portal.pdf import render_pdf

log = logging.getLogger(__name__)

# The portal's public address, for the QR code; settings.PORTAL_BASE_URL overrides it when defined.
DEFAULT_BASE_URL = "http://127.0.0.1:8000"
CERTIFICATE_TEMPLATE = "certification/pdf/certificate.html"
PUBLISHED_TEMPLATE = "certification/pdf/published_list.html"
NOTICE_TEMPLATE = "certification/pdf/notice.html"
ERROR_MAX = 2000
# The running footer's page counters (CSS counters; the template translates the sentence around them).
PAGE_COUNTERS = {
    "page_number": mark_safe('<span class="page-number"></span>'),
    "page_count": mark_safe('<span class="page-count"></span>'),
}


def public_base_url() -> str:
    """PORTAL_BASE_URL, else https:// and the first concrete host the portal answers to."""
    configured = getattr(settings, "PORTAL_BASE_URL", "")
    if configured:
        return configured.rstrip("/")
    hosts = [h.lstrip(".") for h in settings.ALLOWED_HOSTS if h not in ("*", "") and "*" not in h]
    if not settings.DEBUG and hosts and hosts[0] not in ("localhost", "127.0.0.1", "testserver"):
        return f"https://{hosts[0]}"
    return DEFAULT_BASE_URL


def verification_url(certification: Certification) -> str:
    """The absolute public address where anyone checks this certificate."""
    path = reverse(
        "verify_number", kwargs={"tenant_code": certification.tenant.code, "number": certification.number}
    )
    return public_base_url() + path


def chinese_date(day: date | None) -> str:
    """2026年10月20日 (no leading zeros), as Chinese official documents write dates."""
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def qr_svg(data: str) -> SafeString:
    """A QR code of `data` as inline SVG markup (segno builds it; nothing user-typed goes into the markup
    except the encoded modules, so it is safe to mark safe)."""
    import segno

    qr = segno.make(data, error="m", micro=False)
    return mark_safe(qr.svg_inline(scale=4, border=2, dark="#1f2328", omitsize=False))  # noqa: S308


def authority_of(tenant) -> str:
    return tenant.authority_name or tenant.name


# --- certificates --------------------------------------------------------------------------------


def certificate_context(certification: Certification) -> dict:
    url = verification_url(certification)
    return {
        "certification": certification,
        "program_name": certification.program.name,
        "enterprise_name": certification.enterprise.name,
        "uscc": certification.enterprise.uscc,
        "number": certification.number,
        "issued_on": chinese_date(certification.issued_on),
        "valid_until": chinese_date(certification.valid_until),
        "authority": authority_of(certification.tenant),
        "verification_url": url,
        "qr_svg": qr_svg(url),
    }


def certificate_render(certification: Certification) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):
        return render_pdf(CERTIFICATE_TEMPLATE, certificate_context(certification))


def certificate_generate(*, certification_id: int) -> bool:
    """Render and store a certification's certificate once. True when a certificate is on file afterwards.

    Any failure but a database one is recorded in certificate_error (the publication page lists it and
    offers a retry) and returns False; a DatabaseError propagates so that Celery retries the task."""
    certification = Certification.objects.select_related("tenant", "program", "enterprise").get(
        pk=certification_id
    )
    if certification.certificate:
        return True
    field = certification.certificate
    try:
        data = certificate_render(certification)
        digest = sha256_of(data)
        name = field.storage.save(
            field.field.generate_filename(certification, f"{certification.number}.pdf"), ContentFile(data)
        )
    except DatabaseError:
        raise
    except Exception as exc:
        log.exception("certificate %s failed", certification.number)
        Certification.objects.filter(pk=certification_id, certificate="").update(
            certificate_error=f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
        )
        return False
    # Conditional UPDATE: if another worker stored a certificate meanwhile, theirs stays.
    filled = Certification.objects.filter(pk=certification_id, certificate="").update(
        certificate=name, certificate_sha256=digest, certificate_error=""
    )
    if not filled:
        field.storage.delete(name)
        return True
    audit_record(
        action="certificate.generated",
        tenant=certification.tenant,
        obj=certification,
        summary=f"{certification.number} · {digest}",
        actor_label="system",
    )
    return True


def certificate_progress(published: PublishedList) -> dict:
    """How far the certificates of a published list are: total, done, failed, failures [(number, error)]."""
    qs = Certification.objects.filter(published_list=published)
    pending_with_error = Q(certificate="") & ~Q(certificate_error="")
    counts = qs.aggregate(
        total=Count("pk"),
        done=Count("pk", filter=~Q(certificate="")),
        failed=Count("pk", filter=pending_with_error),
    )
    failures = (
        list(qs.filter(pending_with_error).order_by("number").values_list("number", "certificate_error"))
        if counts["failed"]
        else []
    )
    return {**counts, "failures": failures}


# --- the published list --------------------------------------------------------------------------


def published_context(published: PublishedList) -> dict:
    rows = [
        {
            **row,
            "issued_on_display": chinese_date(_day(row.get("issued_on"))),
            "valid_until_display": chinese_date(_day(row.get("valid_until"))),
        }
        for row in published.rows or []
    ]
    return {
        "published": published,
        "rows": rows,
        "authority": authority_of(published.tenant),
        "published_on": chinese_date(timezone.localdate(published.published_at)),
        "corrects": published.replaces.version if published.replaces_id else None,
        **PAGE_COUNTERS,
    }


def published_list_render(*, published_id: int) -> bool:
    """Render a published list's PDF once; its SHA-256 is recorded with it and never changes."""
    published = PublishedList.objects.select_related("tenant", "notice", "replaces").get(pk=published_id)
    if published.pdf_sha256:
        return True
    try:
        with translation.override(settings.LANGUAGE_CODE):
            data = render_pdf(PUBLISHED_TEMPLATE, published_context(published))
    except DatabaseError:
        raise  # Celery retries
    except Exception:  # noqa: BLE001 — e.g. no pango on the machine: the list stays without a PDF, publication stands
        log.exception("published list %s: the PDF could not be rendered", published_id)
        return False
    digest = sha256_of(data)
    field = published.pdf
    name = field.storage.save(
        field.field.generate_filename(
            published, f"{published.tenant.code}-{published.notice_id}-v{published.version}.pdf"
        ),
        ContentFile(data),
    )
    # PublishedList.save() would re-check immutability; the one allowed write is this conditional UPDATE.
    filled = PublishedList.objects.filter(pk=published_id, pdf_sha256="").update(pdf=name, pdf_sha256=digest)
    if not filled:
        field.storage.delete(name)
        return True
    audit_record(
        action="published_list.rendered",
        tenant=published.tenant,
        obj=published,
        summary=f"v{published.version} · {digest}",
        actor_label="system",
    )
    return True


# --- the notice ----------------------------------------------------------------------------------


def notice_context(notice: Notice) -> dict:
    return {
        "notice": notice,
        "entries": list(notice.entries.filter(removed_at__isnull=True).order_by("position")),
        "authority": authority_of(notice.tenant),
        "starts_on": chinese_date(notice.starts_on),
        "ends_on": chinese_date(notice.ends_on),
        **PAGE_COUNTERS,
    }


def notice_pdf_response(request, notice: Notice) -> HttpResponse:
    """The notice as a PDF, rendered on request (it changes while objections remove entries). The caller
    has found `notice` through its own scoped query."""
    data = render_pdf(NOTICE_TEMPLATE, notice_context(notice), request=request)
    filename = f"公示-{notice.pk}.pdf"
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f"inline; filename=\"notice-{notice.pk}.pdf\"; filename*=UTF-8''{quote(filename, safe='')}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- small parts ---------------------------------------------------------------------------------


def _day(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None
