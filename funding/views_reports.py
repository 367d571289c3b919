"""Award reports by policy, paying region or year: a table, a chart of the same numbers, an Excel export."""

from __future__ import annotations

from decimal import Decimal

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from funding import selectors
from funding.forms import GROUP_LABELS, ReportForm
from funding.money import ZERO
from funding.views_common import require_funding_official, url
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.views import tenant_login_required


def _group_by(request) -> str:
    form = ReportForm(request.GET)
    form.is_valid()
    return getattr(form, "cleaned_data", {}).get("group_by") or "policy"


def report_chart(rows, *, width: int = 360, row_height: int = 30) -> dict:
    """Geometry of the report chart (a server-side SVG): per row a bar of what is committed (approved, paid
    and clawed back), the paid part darker, on one scale, the largest row's committed total. Display only."""
    label_w, gap = 200, 10
    scale = max([Decimal(0)] + [r.committed for r in rows])
    out = []
    for i, r in enumerate(rows):
        top = i * row_height + 6
        out.append(
            {
                "label": r.label if len(r.label) <= 16 else r.label[:15] + "…",
                "full_label": r.label,
                "y": top,
                "text_y": top + 14,
                "committed_w": round(float(r.committed / scale) * width, 1) if scale else 0,
                "paid_w": round(float(r.paid / scale) * width, 1) if scale else 0,
                "committed": r.committed,
            }
        )
    return {
        "rows": out,
        "height": len(out) * row_height + 10,
        "width": label_w + gap + width + 130,
        "bar_x": label_w + gap,
        "track_w": width,
        "value_x": label_w + gap + width + 8,
    }


@tenant_login_required
def report(request, tenant_code):
    require_funding_official(request)
    group_by = _group_by(request)
    rows = selectors.award_report(user=request.user, tenant=request.tenant, group_by=group_by)
    totals = {
        "count": sum(r.count for r in rows),
        "pending": sum((r.pending for r in rows), ZERO),
        "approved": sum((r.approved for r in rows), ZERO),
        "paid": sum((r.paid for r in rows), ZERO),
        "clawed_back": sum((r.clawed_back for r in rows), ZERO),
        "committed": sum((r.committed for r in rows), ZERO),
    }
    return render(
        request,
        "funding/reports.html",
        {
            "rows": rows,
            "totals": totals,
            "group_by": group_by,
            "groupings": list(GROUP_LABELS.items()),
            "group_label": GROUP_LABELS[group_by],
            "chart": report_chart(rows),
            "export_url": url("funding_reports_export", request) + f"?group_by={group_by}",
        },
    )


@tenant_login_required
def report_export(request, tenant_code):
    require_funding_official(request)
    group_by = _group_by(request)
    rows = selectors.award_report(user=request.user, tenant=request.tenant, group_by=group_by)
    audit_record(action="award_report.exported", actor=request.user, request=request, summary=group_by)
    return xlsx_response(
        filename=f"award-report-{group_by}-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=str(GROUP_LABELS[group_by]),
        columns=[
            (str(GROUP_LABELS[group_by]), lambda r: r.label),
            (_("Number of awards"), lambda r: r.count),
            (_("Waiting for review (yuan)"), lambda r: r.pending),
            (_("Approved, not yet paid (yuan)"), lambda r: r.approved),
            (_("Paid (yuan)"), lambda r: r.paid),
            (_("Being recovered (yuan)"), lambda r: r.clawed_back),
            (_("Committed (yuan)"), lambda r: r.committed),
        ],
        rows=rows,
    )
