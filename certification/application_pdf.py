"""The printable application (申报书): what was submitted, from the latest snapshot, as an A4 PDF.

The enterprise downloads it from its application page and officials from the review page; both
call `application_pdf_response`, which authorises nothing itself: the caller has already found the
application through its own scoped selector.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from certification import application_form, workflow
from certification.models import Application, ApplicationSnapshot, Screening
from enterprises.models import Document
from enterprises.size_class import SizeClass
from portal.audit import audit_record
from portal.pdf import render_pdf

FIGURE_ROWS = (
    ("revenue", gettext_lazy("Revenue")),
    ("main_business_revenue", gettext_lazy("Main-business revenue")),
    ("rd_expense", gettext_lazy("R&D expense")),
    ("net_profit", gettext_lazy("Net profit")),
    ("total_assets", gettext_lazy("Total assets")),
    ("total_liabilities", gettext_lazy("Total liabilities")),
    ("employees", gettext_lazy("Employees")),
    ("rd_staff", gettext_lazy("R&D staff")),
)


def figure_rows(figures: list[dict[str, Any]]) -> tuple[list[int], list[dict[str, Any]]]:
    """The snapshot's figures as table rows: (years, oldest first; [{label, values}])."""
    by_year = sorted(figures, key=lambda f: f["fiscal_year"])
    return [f["fiscal_year"] for f in by_year], [
        {"label": label, "values": [f.get(name) for f in by_year]} for name, label in FIGURE_ROWS
    ]


def form_sections(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The application's own sections as (label, display value) pairs, in the form's order."""
    sections = []
    for section in application_form.SECTIONS:
        values = (data or {}).get(section.code) or {}
        rows = []
        for f in section.fields:
            value = values.get(f.name)
            if f.kind == "choice":
                value = dict(f.choices).get(value, value)
            elif f.kind == "bool":
                value = _("yes") if value is True else _("no")
            rows.append({"code": f.name, "label": f.label, "value": "" if value is None else value})
        sections.append({"code": section.code, "title": section.title, "rows": rows})
    return sections


def snapshot_attachments(application: Application, snapshot: ApplicationSnapshot) -> list[dict[str, Any]]:
    slots = {s["code"]: s["label"] for s in workflow.attachment_slots(application.round.program)}
    types = dict(Document.Type.choices)
    return [
        {
            **a,
            "slot_label": slots.get(a.get("slot"), a.get("slot")),
            "type_label": types.get(a.get("doc_type"), a.get("doc_type")),
        }
        for a in snapshot.attachments or []
    ]


def snapshot_context(application: Application, snapshot: ApplicationSnapshot) -> dict[str, Any]:
    """What the 申报书 and the read-only page show of a snapshot."""
    profile = snapshot.profile or {}
    basic = dict(profile.get("basic") or {})
    try:
        basic["size_class_label"] = SizeClass(basic.get("size_class")).label
    except ValueError:
        basic["size_class_label"] = basic.get("size_class") or ""
    years, rows = figure_rows(profile.get("figures") or [])
    commitment = (snapshot.data or {}).get("commitment") or {}
    result = snapshot.result or {}
    verdicts = dict(Screening.Verdict.choices)
    return {
        "application": application,
        "snapshot": snapshot,
        "basic": basic,
        "figure_years": years,
        "figure_rows": rows,
        "ip_items": profile.get("ip") or [],
        "qualifications": profile.get("qualifications") or [],
        "sections": form_sections(snapshot.data),
        "attachments": snapshot_attachments(application, snapshot),
        "result": result,
        "verdict_label": verdicts.get(result.get("verdict"), result.get("verdict") or "—"),
        "commitment": commitment,
        "declaration": application_form.DECLARATION,
    }


def application_pdf_bytes(application: Application, *, snapshot: ApplicationSnapshot | None = None) -> bytes:
    snapshot = snapshot or workflow.latest_snapshot(application)
    if snapshot is None:
        raise Http404
    context = snapshot_context(application, snapshot)
    context.update(
        {
            "printed_at": timezone.localtime(),
            # The footer's "Page X of Y": the numbers are CSS counters, filled in by WeasyPrint.
            "page_number": mark_safe('<span class="page-number"></span>'),
            "page_count": mark_safe('<span class="page-count"></span>'),
        }
    )
    return render_pdf("certification/pdf/application.html", context)


def pdf_filename(application: Application, snapshot: ApplicationSnapshot) -> str:
    uscc = ((snapshot.profile or {}).get("basic") or {}).get("uscc") or application.enterprise.uscc
    return f"申报书-{uscc}-{application.pk}.pdf"


def content_disposition(filename: str, fallback: str) -> str:
    """attachment with an ASCII fallback and the real name as RFC 5987 filename* (RFC 6266 §4.3)."""
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def application_pdf_response(request, application: Application) -> HttpResponse:
    """The 申报书 of the latest snapshot as a download; the download is audited. 404 before submission."""
    snapshot = workflow.latest_snapshot(application)
    if snapshot is None:
        raise Http404
    data = application_pdf_bytes(application, snapshot=snapshot)
    uscc = ((snapshot.profile or {}).get("basic") or {}).get("uscc") or application.enterprise.uscc
    ascii_uscc = re.sub(r"[^A-Za-z0-9]", "", uscc)
    response = HttpResponse(
        data,
        content_type="application/pdf",
        headers={
            "Content-Disposition": content_disposition(
                pdf_filename(application, snapshot), f"application-{ascii_uscc}-{application.pk}.pdf"
            ),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )
    audit_record(
        action="application.pdf_downloaded",
        actor=request.user,
        tenant=application.round.tenant,
        obj=application,
        summary=f"{application.enterprise.name} · {application.round.name} · #{snapshot.number}",
        request=request,
    )
    return response
