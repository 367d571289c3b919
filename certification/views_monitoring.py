"""Pages of annual updates, monitoring warnings and change reports (certification/monitoring.py).

Enterprise members see their own enterprise's annual update and change reports. Officials with a
reviewing post (or the tenant administrator) see those of the enterprises in the subtree of their posts;
anyone else, and anything outside that subtree or of another tenant, gets 404.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from certification import monitoring
from certification.forms_monitoring import (
    ChangeReportFilterForm,
    ChangeReportForm,
    ChangeReportReviewForm,
    StatusFilterForm,
    WarningFilterForm,
    WarningResolveForm,
)
from certification.models import AnnualUpdate, ChangeReport, MonitoringWarning
from enterprises.derived import DERIVED_TYPES, ratio
from enterprises.facts import FACT_LABELS, FACT_TYPES
from enterprises.models import AnnualFigures
from enterprises.views import enterprise_member_required
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.masking import mask_phone
from portal.views import tenant_login_required

PAGE_SIZE = 25
EXPORT_LIMIT = 20000

DERIVED_LABELS = {
    "revenue_growth_y1": gettext_lazy("revenue growth, last year"),
    "revenue_growth_y2": gettext_lazy("revenue growth, the year before"),
    "revenue_cagr_2y": gettext_lazy("revenue compound growth, 2 years"),
    "main_business_revenue_growth_y1": gettext_lazy("main-business revenue growth, last year"),
    "main_business_revenue_growth_y2": gettext_lazy("main-business revenue growth, the year before"),
    "main_business_revenue_cagr_2y": gettext_lazy("main-business revenue compound growth, 2 years"),
    "rd_ratio_y1": gettext_lazy("R&D expense / revenue, last year"),
    "rd_ratio_y2": gettext_lazy("R&D expense / revenue, the year before"),
    "rd_ratio_2y": gettext_lazy("R&D expense / revenue, last 2 years"),
    "rd_expense_avg_2y": gettext_lazy("average R&D expense, last 2 years (万元)"),
    "rd_expense_total_2y": gettext_lazy("total R&D expense, last 2 years (万元)"),
    "rd_staff_ratio_y1": gettext_lazy("R&D staff / employees, last year"),
    "debt_ratio_y1": gettext_lazy("debt ratio at last year end"),
    "main_business_share_y1": gettext_lazy("main-business share of revenue, last year"),
    "net_profit_margin_y1": gettext_lazy("net profit margin, last year"),
    "size_class": gettext_lazy("SME size class"),
}
KINDS = {**FACT_TYPES, **DERIVED_TYPES}


def _url(name: str, request, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": request.tenant.code, **kwargs})


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _apply_refusal(form, exc: monitoring.MonitoringRefused) -> None:
    """Put a refusal on the form: on the field it names, else at the top."""
    if exc.fields:
        for field, errors in exc.fields.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.message)


def display_value(name: str, value) -> str:
    """A fact or derived value as a person reads it: ratios in per cent, yes/no, — for unknown."""
    if value is None or value == "":
        return "—"
    kind = KINDS.get(name)
    if kind == "bool" or isinstance(value, bool):
        return _("yes") if value else _("no")
    if kind == "ratio":
        try:
            return f"{Decimal(str(value)) * 100:.2f}%"
        except InvalidOperation:
            return str(value)
    return str(value)


def value_rows(values: dict) -> list[tuple[str, str, str]]:
    """(name, label, shown value) for a warning's values."""
    return [
        (name, str(FACT_LABELS.get(name) or DERIVED_LABELS.get(name) or name), display_value(name, value))
        for name, value in (values or {}).items()
    ]


# --- enterprise ------------------------------------------------------------------------------------


def _figures_summary(row: AnnualFigures | None) -> list[tuple[str, str]]:
    if row is None:
        return []
    rows = [
        (str(AnnualFigures._meta.get_field(name).verbose_name), display_value(name, getattr(row, name)))
        for name in AnnualFigures.FIELDS
    ]
    rows.append(
        (
            str(DERIVED_LABELS["debt_ratio_y1"]),
            display_value("debt_ratio_y1", ratio(row.total_liabilities, row.total_assets)),
        )
    )
    rows.append(
        (str(DERIVED_LABELS["rd_ratio_y1"]), display_value("rd_ratio_y1", ratio(row.rd_expense, row.revenue)))
    )
    return rows


@enterprise_member_required()
def annual_update(request, tenant_code, enterprise):
    """This year's annual update: the deadline, the figures to confirm, the confirm button; past updates."""
    today = timezone.localdate()
    year = today.year
    if request.method == "POST":
        try:
            update = monitoring.annual_update_submit(enterprise=enterprise, by=request.user, request=request)
        except monitoring.MonitoringRefused as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            if update.late:
                messages.warning(
                    request,
                    _("Your figures of %(year)d are confirmed, after the deadline.")
                    % {"year": update.fiscal_year},
                )
            else:
                messages.success(
                    request, _("Your figures of %(year)d are confirmed.") % {"year": update.fiscal_year}
                )
            return HttpResponseRedirect(_url("annual_update", request))
    else:
        status = 200
    certifications = list(monitoring.active_certifications(enterprise))
    current = AnnualUpdate.objects.filter(enterprise=enterprise, year=year).first()
    row = AnnualFigures.objects.filter(enterprise=enterprise, fiscal_year=year - 1).first()
    problems = (
        monitoring.annual_update_problems(enterprise, year) if certifications and current is None else {}
    )
    deadline = monitoring.annual_update_deadline(request.tenant, year)
    warnings = list(
        MonitoringWarning.objects.for_tenant(request.tenant)
        .filter(enterprise=enterprise, resolved_at=None)
        .select_related("certification__program")
        .order_by("-fiscal_year", "rule")
    )
    for w in warnings:
        w.value_rows = value_rows(w.values)
    return render(
        request,
        "certification/monitoring/annual_update.html",
        {
            "enterprise": enterprise,
            "year": year,
            "fiscal_year": year - 1,
            "deadline": deadline,
            "overdue": today > deadline,
            "days_left": (deadline - today).days,
            "certifications": certifications,
            "current": current,
            "figures": _figures_summary(row),
            "problems": problems,
            "edit_url": _url("enterprise_figures", request) + "?" + urlencode({"year": year - 1}),
            "past": AnnualUpdate.objects.filter(enterprise=enterprise)
            .exclude(year=year)
            .order_by("-year")[:10],
            "warnings": warnings,
        },
        status=status,
    )


@enterprise_member_required()
def change_reports(request, tenant_code, enterprise):
    reports = (
        ChangeReport.objects.for_tenant(request.tenant)
        .filter(enterprise=enterprise)
        .prefetch_related("documents")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "certification/monitoring/change_reports.html",
        {
            "enterprise": enterprise,
            "page": page,
            "query": "",
            "certified": monitoring.active_certifications(enterprise).exists(),
        },
    )


@enterprise_member_required()
def change_report_new(request, tenant_code, enterprise):
    form = ChangeReportForm(request.POST or None, enterprise=enterprise)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = monitoring.change_report_file(
                enterprise=enterprise,
                by=request.user,
                kind=data["kind"],
                occurred_on=data["occurred_on"],
                description=data["description"],
                new_name=data["new_name"],
                documents=data["documents"],
                request=request,
            )
        except monitoring.MonitoringRefused as exc:
            _apply_refusal(form, exc)
        else:
            if report.late:
                messages.warning(
                    request,
                    _("The change report is filed. It was due by %(day)s: staff will see that it is late.")
                    % {"day": monitoring.change_report_due(report.occurred_on).isoformat()},
                )
            else:
                messages.success(request, _("The change report is filed; staff will review it."))
            return HttpResponseRedirect(_url("change_reports", request))
    return render(
        request,
        "certification/monitoring/change_report_form.html",
        {
            "enterprise": enterprise,
            "form": form,
            "certified": monitoring.active_certifications(enterprise).exists(),
        },
        status=400 if form.is_bound else 200,
    )


# --- officials -------------------------------------------------------------------------------------


def _require_monitor(request) -> None:
    # SECURITY: 404, not 403: another tenant's user, an expert or an enterprise member learns nothing.
    if not monitoring.can_monitor(request.user, request.tenant):
        raise Http404


def _scoped(request, qs: QuerySet, path_lookup: str) -> QuerySet:
    """`qs` of this tenant, within the subtrees of the user's monitoring posts."""
    condition = monitoring.scope_filter(request.user, request.tenant, path_lookup)
    if condition is None:
        raise Http404
    return qs.for_tenant(request.tenant).filter(condition)


def _status_form(request) -> tuple[StatusFilterForm, object, int]:
    regions = monitoring.scope_regions(request.user, request.tenant)
    if not regions:
        raise Http404
    form = StatusFilterForm(request.GET or None, regions=regions)
    form.is_valid()  # an invalid filter is shown with its error and ignored
    data = getattr(form, "cleaned_data", {})
    region = form.regions.get(data.get("region") or "") or regions[0]
    year = data.get("year") or timezone.localdate().year
    if not request.GET:
        form = StatusFilterForm(initial={"region": region.code, "year": year}, regions=regions)
    return form, region, year


def status_chart(rows: list[dict], *, width: int = 420, row_height: int = 26) -> dict:
    """Geometry of the annual-update chart (server-side SVG): per region a bar of its certified
    enterprises, split into confirmed on time, confirmed late and not yet confirmed."""
    scale = max([1] + [r["certified"] for r in rows])
    label_w, gap = 150, 10
    out = []
    for i, r in enumerate(rows):
        top = i * row_height + 4
        x = label_w + gap
        segments = []
        for key, css in (("on_time", "#2e7d32"), ("late", "#b26a00"), ("not_submitted", "#c62828")):
            w = round(r[key] * width / scale, 1)
            if w:
                segments.append({"key": key, "x": round(x, 1), "w": w, "fill": css, "n": r[key]})
            x += w
        out.append(
            {
                "name": r["region"].name,
                "y": top,
                "text_y": top + 14,
                "segments": segments,
                "submitted": r["submitted"],
                "certified": r["certified"],
            }
        )
    return {
        "rows": out,
        "height": len(out) * row_height + 8,
        "width": label_w + gap + width + 90,
        "bar_x": label_w + gap,
        "track_w": width,
        "value_x": label_w + gap + width + 8,
    }


@tenant_login_required
def monitoring_home(request, tenant_code):
    _require_monitor(request)
    form, region, year = _status_form(request)
    status = monitoring.annual_update_status(request.tenant, region, year)
    page = Paginator(status.missing, PAGE_SIZE).get_page(request.GET.get("page"))
    query = _query_without_page(request)
    open_warnings = _scoped(
        request, MonitoringWarning.objects.filter(resolved_at=None), "enterprise__county__path"
    )
    waiting_reports = _scoped(
        request, ChangeReport.objects.filter(state=ChangeReport.State.SUBMITTED), "enterprise__county__path"
    )
    return render(
        request,
        "certification/monitoring/home.html",
        {
            "form": form,
            "region": region,
            "status": status,
            "chart": status_chart(status.by_region) if status.by_region else None,
            "page": page,
            "query": query,
            "export_url": _url("monitoring_export", request)
            + "?"
            + urlencode({"region": region.code, "year": year}),
            "open_warnings": open_warnings.count(),
            "waiting_reports": waiting_reports.count(),
        },
    )


@tenant_login_required
def monitoring_export(request, tenant_code):
    """The certified enterprises that have not confirmed their figures, to Excel."""
    _require_monitor(request)
    _form, region, year = _status_form(request)
    status = monitoring.annual_update_status(request.tenant, region, year)
    audit_record(
        action="monitoring.missing_exported",
        actor=request.user,
        tenant=request.tenant,
        request=request,
        summary=f"{region.code} {year}",
    )
    return xlsx_response(
        filename=f"annual-updates-missing-{request.tenant.code}-{region.code}-{year}.xlsx",
        title=_("Annual updates not submitted"),
        columns=[
            (_("Enterprise"), lambda e: e.name),
            (_("Unified social credit code"), lambda e: e.uscc),
            (_("County"), lambda e: e.county.name),
            (_("Programmes"), lambda e: "、".join(c.program.name for c in e.active_certifications)),
            (_("Contact person"), lambda e: e.contact_person),
            (_("Mobile phone"), lambda e: mask_phone(e.contact_phone)),
            (_("Deadline"), lambda _e: status.deadline),
            (_("Days overdue"), lambda _e: status.days_overdue),
        ],
        rows=status.missing[:EXPORT_LIMIT],
    )


def _warnings(request, form: WarningFilterForm) -> QuerySet[MonitoringWarning]:
    qs = _scoped(request, MonitoringWarning.objects.all(), "enterprise__county__path").select_related(
        "enterprise__county", "certification__program", "resolved_by"
    )
    data = getattr(form, "cleaned_data", {})
    state = data.get("state") or "open"
    if state == "open":
        qs = qs.filter(resolved_at=None)
    elif state == "resolved":
        qs = qs.exclude(resolved_at=None)
    if data.get("fiscal_year"):
        qs = qs.filter(fiscal_year=data["fiscal_year"])
    return qs.order_by("-created_at", "-pk")


@tenant_login_required
def monitoring_warnings(request, tenant_code):
    _require_monitor(request)
    form = WarningFilterForm(request.GET or None)
    form.is_valid()
    page = Paginator(_warnings(request, form), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for w in page:
        rows.append(
            {
                "warning": w,
                "values": value_rows(w.values),
                "exclusion": w.rule.startswith(monitoring.EXCLUSION_PREFIX),
                "form": WarningResolveForm(prefix=f"w{w.pk}") if w.resolved_at is None else None,
            }
        )
    query = _query_without_page(request)
    return render(
        request,
        "certification/monitoring/warnings.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query,
            "export_url": _url("monitoring_warnings_export", request) + (f"?{query}" if query else ""),
        },
    )


@tenant_login_required
def monitoring_warnings_export(request, tenant_code):
    _require_monitor(request)
    form = WarningFilterForm(request.GET or None)
    form.is_valid()
    qs = _warnings(request, form)
    audit_record(
        action="monitoring.warnings_exported",
        actor=request.user,
        tenant=request.tenant,
        request=request,
        summary=request.GET.urlencode()[:500],
    )

    def values(w):
        return "; ".join(f"{label}: {shown}" for _n, label, shown in value_rows(w.values))

    return xlsx_response(
        filename=f"monitoring-warnings-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Monitoring warnings"),
        columns=[
            (_("Enterprise"), lambda w: w.enterprise.name),
            (_("Unified social credit code"), lambda w: w.enterprise.uscc),
            (_("County"), lambda w: w.enterprise.county.name),
            (_("Programme"), lambda w: w.certification.program.name),
            (_("Certificate number"), lambda w: w.certification.number),
            (_("Fiscal year"), lambda w: w.fiscal_year),
            (_("Rule"), lambda w: w.rule),
            (_("Condition"), lambda w: w.label),
            (_("Values"), values),
            (_("Source"), lambda w: w.source),
            (_("Raised"), lambda w: w.created_at),
            (_("Resolved"), lambda w: w.resolved_at),
            (_("Resolution"), lambda w: _resolution_text(w)),
        ],
        rows=qs[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


def _resolution_text(w: MonitoringWarning) -> str:
    if w.resolved_at is None:
        return ""
    return w.resolution if w.resolved_by_id else _(monitoring.AUTO_RESOLUTION)


def _back(request, name: str) -> HttpResponseRedirect:
    # Re-encode the kept query so that only our own page's parameters come back.
    safe = QueryDict(request.POST.get("query") or "").urlencode()
    url = _url(name, request)
    return HttpResponseRedirect(f"{url}?{safe}" if safe else url)


@require_POST
@tenant_login_required
def warning_resolve(request, tenant_code, pk):
    _require_monitor(request)
    warning = get_object_or_404(
        _scoped(request, MonitoringWarning.objects.all(), "enterprise__county__path").select_related(
            "enterprise"
        ),
        pk=pk,
    )
    form = WarningResolveForm(request.POST, prefix=f"w{warning.pk}")
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = form.fields[field].label if field in form.fields else ""
            messages.error(request, f"{warning.enterprise.name} · {label}: {' '.join(errors)}")
        return _back(request, "monitoring_warnings")
    try:
        monitoring.warning_resolve(
            warning=warning, by=request.user, resolution=form.cleaned_data["resolution"], request=request
        )
    except monitoring.MonitoringRefused as exc:
        messages.error(request, f"{warning.enterprise.name}: {exc.message}")
    else:
        messages.success(
            request, _("The warning on %(name)s is resolved.") % {"name": warning.enterprise.name}
        )
    return _back(request, "monitoring_warnings")


def _change_reports(request, form: ChangeReportFilterForm) -> QuerySet[ChangeReport]:
    qs = _scoped(request, ChangeReport.objects.all(), "enterprise__county__path").select_related(
        "enterprise__county", "reviewed_by"
    )
    state = getattr(form, "cleaned_data", {}).get("state")
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-pk")


@tenant_login_required
def change_report_list(request, tenant_code):
    _require_monitor(request)
    form = ChangeReportFilterForm(request.GET or None)
    form.is_valid()
    page = Paginator(_change_reports(request, form), PAGE_SIZE).get_page(request.GET.get("page"))
    query = _query_without_page(request)
    return render(
        request,
        "certification/monitoring/change_report_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "export_url": _url("change_report_export", request) + (f"?{query}" if query else ""),
        },
    )


@tenant_login_required
def change_report_export(request, tenant_code):
    _require_monitor(request)
    form = ChangeReportFilterForm(request.GET or None)
    form.is_valid()
    qs = _change_reports(request, form)
    audit_record(
        action="monitoring.change_reports_exported",
        actor=request.user,
        tenant=request.tenant,
        request=request,
        summary=request.GET.urlencode()[:500],
    )
    return xlsx_response(
        filename=f"change-reports-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Change reports"),
        columns=[
            (_("Enterprise"), lambda r: r.enterprise.name),
            (_("Unified social credit code"), lambda r: r.enterprise.uscc),
            (_("County"), lambda r: r.enterprise.county.name),
            (_("Kind of change"), lambda r: r.get_kind_display()),
            (_("Date of the change"), lambda r: r.occurred_on),
            (_("New name"), lambda r: r.new_name),
            (_("Filed"), lambda r: r.created_at),
            (_("Reported late"), lambda r: _("yes") if r.late else _("no")),
            (_("State"), lambda r: r.get_state_display()),
            (_("Review note"), lambda r: r.review_note),
        ],
        rows=qs[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


@tenant_login_required
def change_report_review(request, tenant_code, pk):
    _require_monitor(request)
    report = get_object_or_404(
        _scoped(request, ChangeReport.objects.all(), "enterprise__county__path")
        .select_related("enterprise__county", "created_by", "reviewed_by")
        .prefetch_related("documents"),
        pk=pk,
    )
    can_review = report.state != ChangeReport.State.ACCEPTED
    form = ChangeReportReviewForm(request.POST or None) if can_review else None
    if request.method == "POST":
        if form is None:
            messages.error(request, _("This change report has already been accepted."))
            return HttpResponseRedirect(_url("change_report_review", request, pk=report.pk))
        if form.is_valid():
            try:
                monitoring.change_report_review(
                    report=report,
                    by=request.user,
                    state=form.cleaned_data["state"],
                    note=form.cleaned_data["note"],
                    request=request,
                )
            except monitoring.MonitoringRefused as exc:
                _apply_refusal(form, exc)
            else:
                messages.success(request, _("The review of the change report is saved."))
                return HttpResponseRedirect(_url("change_report_list", request))
    return render(
        request,
        "certification/monitoring/change_report_review.html",
        {
            "report": report,
            "form": form,
            "due": monitoring.change_report_due(report.occurred_on),
        },
        status=400 if form is not None and form.is_bound else 200,
    )
