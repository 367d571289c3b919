"""Pages of the reports app: the regional dashboard and its Excel exports, targets, designations, the
circular (通报) and the development reports. Thin: check, call a selector or a service, render.

SECURITY: the region of every page comes from reports.permissions.region_for (404 outside the official's
subtrees and for another tenant's code); rows looked up by id go through the region scope first.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from certification.application_pdf import content_disposition
from enterprises.models import Enterprise
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.views import tenant_login_required
from reports import permissions, report_pdf, services
from reports.aggregates import dashboard_data
from reports.circular import RANKINGS, circular_table, ranking_labels
from reports.forms import DesignationForm, ReportRequestForm, TargetForm
from reports.metrics import DEFINITIONS, TargetSpec, target_counts
from reports.models import Designation, ReportJob, Target
from reports.services import ReportRefused
from reports.tables import TABLE_NAMES, dashboard_tables, metric_label, target_progress

FIRST_YEAR = 2015
PAGE_SIZE = 50


def _url(request, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": request.tenant.code, **kwargs})


def _year(request) -> int:
    this = timezone.localdate().year
    raw = request.GET.get("year") or ""
    if raw.isdigit() and FIRST_YEAR <= int(raw) <= this + 1:
        return int(raw)
    return this


def _years() -> list[int]:
    this = timezone.localdate().year
    return list(range(this + 1, FIRST_YEAR - 1, -1))


def _sheet_title(title: str) -> str:
    """Excel refuses []:*?/\\ in a sheet's name."""
    return re.sub(r"[\[\]:*?/\\]", " ", str(title))


def _require_dashboard(request) -> None:
    if not permissions.can_see_dashboard(request.user, request.tenant):
        raise Http404  # SECURITY: 404, not 403, as every staff page does


def _apply_refusal(form, exc: ReportRefused) -> None:
    """Put the refusal on the field it names (or on the form), so that the error summary names the field."""
    placed = False
    for name, errors in exc.fields.items():
        if name in form.fields:
            for error in errors:
                form.add_error(name, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _breadcrumbs(request, region) -> list:
    """The region's ancestors the user may see, from the top: each links to its own dashboard."""
    return [r for r in region.ancestors() if permissions.may_see_region(request.user, request.tenant, r)]


# --- the dashboard -------------------------------------------------------------------------------


@tenant_login_required
def dashboard(request, tenant_code):
    _require_dashboard(request)
    tenant = request.tenant
    region = permissions.region_for(request.user, tenant, request.GET.get("region"))
    year = _year(request)
    data = dashboard_data(tenant, region, year)
    base = _url(request, "region_dashboard")

    def link(code: str) -> str:
        return f"{base}?{urlencode({'region': code, 'year': year})}"

    tables = dashboard_tables(data, link=link)
    attention = next(t for t in tables if t.name == "attention")
    return render(
        request,
        "reports/dashboard.html",
        {
            "region": region,
            "year": year,
            "years": _years(),
            "tables": tables,
            "data": data,
            "attention_total": attention.total.cells,
            "breadcrumbs": _breadcrumbs(request, region),
            "link": link,
            "query": urlencode({"region": region.code, "year": year}),
            "can_keep_targets": permissions.can_keep_targets(request.user, tenant),
        },
    )


@tenant_login_required
def dashboard_export(request, tenant_code):
    _require_dashboard(request)
    tenant = request.tenant
    name = request.GET.get("table") or ""
    if name not in TABLE_NAMES:
        raise Http404
    region = permissions.region_for(request.user, tenant, request.GET.get("region"))
    year = _year(request)
    table = next(t for t in dashboard_tables(dashboard_data(tenant, region, year)) if t.name == name)
    audit_record(
        action="dashboard.exported",
        actor=request.user,
        request=request,
        summary=f"{region.name} {year} {name}",
    )
    return xlsx_response(
        filename=f"dashboard-{name}-{region.code}-{year}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_sheet_title(table.title),
        columns=table.excel_columns(),
        rows=table.excel_rows(),
    )


# --- the circular ---------------------------------------------------------------------------------


def _circular(request):
    _require_dashboard(request)
    tenant = request.tenant
    region = permissions.region_for(request.user, tenant, request.GET.get("region"))
    year = _year(request)
    by = request.GET.get("by") or "certified"
    if by not in RANKINGS:
        by = "certified"
    base = _url(request, "region_circular")

    def link(code: str) -> str:
        return f"{base}?{urlencode({'region': code, 'year': year, 'by': by})}"

    table = circular_table(dashboard_data(tenant, region, year), by=by, link=link)
    return region, year, by, table


@tenant_login_required
def circular(request, tenant_code):
    region, year, by, table = _circular(request)
    return render(
        request,
        "reports/circular.html",
        {
            "region": region,
            "year": year,
            "years": _years(),
            "by": by,
            "rankings": list(ranking_labels().items()),
            "table": table,
            "breadcrumbs": _breadcrumbs(request, region),
            "query": urlencode({"region": region.code, "year": year, "by": by}),
            "can_keep_targets": permissions.can_keep_targets(request.user, request.tenant),
        },
    )


@tenant_login_required
def circular_export(request, tenant_code):
    region, year, by, table = _circular(request)
    audit_record(
        action="circular.exported", actor=request.user, request=request, summary=f"{region.name} {year} {by}"
    )
    return xlsx_response(
        filename=f"circular-{region.code}-{year}-{by}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_sheet_title(table.title),
        columns=table.excel_columns(),
        rows=table.excel_rows(),
    )


# --- targets --------------------------------------------------------------------------------------


def _require_keeper(request) -> list:
    regions = permissions.target_regions(request.user, request.tenant)
    if not regions:
        raise Http404
    return regions


def _targets(request, regions):
    return (
        Target.objects.for_tenant(request.tenant)
        .filter(region_id__in=[r.pk for r in regions])
        .select_related("region", "program", "created_by")
    )


def _target_from(form: TargetForm, target: Target) -> Target:
    data = form.cleaned_data
    target.region = data["region"]
    target.metric = data["metric"]
    target.program = data["program"]
    target.value = data["value"]
    target.baseline = data["baseline"]
    target.counts_from = data["counts_from"]
    target.deadline = data["deadline"]
    target.source = data["source"]
    return target


@tenant_login_required
def targets(request, tenant_code):
    tenant = request.tenant
    regions = _require_keeper(request)
    form = TargetForm(request.POST or None, tenant=tenant, regions=regions)
    if request.method == "POST" and form.is_valid():
        try:
            target = services.target_save(
                target=_target_from(form, Target(tenant=tenant)), by=request.user, request=request
            )
        except ReportRefused as exc:
            _apply_refusal(form, exc)
        else:
            messages.success(
                request,
                _("The target of %(region)s has been recorded: %(metric)s, %(value)s by %(deadline)s.")
                % {
                    "region": target.region.name,
                    "metric": metric_label(target.metric, target.program.name if target.program_id else ""),
                    "value": target.value,
                    "deadline": target.deadline,
                },
            )
            return HttpResponseRedirect(_url(request, "reports_targets"))
    page = Paginator(
        _targets(request, regions).order_by("region__path", "deadline", "metric", "pk"), PAGE_SIZE
    )
    page = page.get_page(request.GET.get("page"))
    today = timezone.localdate()
    counts = target_counts(tenant.pk, [TargetSpec.of(t) for t in page], today)
    rows = []
    for t in page:
        progress = target_progress(
            {"value": t.value, "count": counts.get(t.pk, 0), "deadline": t.deadline}, today
        )
        rows.append(
            {
                "target": t,
                "progress": progress,
                "label": metric_label(t.metric, t.program.name if t.program_id else ""),
            }
        )
    return render(
        request,
        "reports/targets.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "definitions": [(Target.Metric(m).label, d) for m, d in DEFINITIONS.items()],
        },
        status=400 if request.method == "POST" else 200,
    )


@tenant_login_required
def target_edit(request, tenant_code, pk):
    tenant = request.tenant
    regions = _require_keeper(request)
    target = get_object_or_404(_targets(request, regions), pk=pk)
    initial = {
        "region": target.region.code,
        "metric": target.metric,
        "program": target.program_id,
        "value": target.value,
        "baseline": target.baseline,
        "counts_from": target.counts_from,
        "deadline": target.deadline,
        "source": target.source,
    }
    form = TargetForm(request.POST or None, tenant=tenant, regions=regions, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.target_save(target=_target_from(form, target), by=request.user, request=request)
        except ReportRefused as exc:
            _apply_refusal(form, exc)
        else:
            messages.success(request, _("The target has been changed."))
            return HttpResponseRedirect(_url(request, "reports_targets"))
    return render(
        request,
        "reports/target_form.html",
        {"form": form, "target": target},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@tenant_login_required
def target_delete(request, tenant_code, pk):
    regions = _require_keeper(request)
    target = get_object_or_404(_targets(request, regions), pk=pk)
    try:
        services.target_delete(target=target, by=request.user, request=request)
    except ReportRefused as exc:
        raise Http404 from exc
    messages.success(request, _("The target has been deleted."))
    return HttpResponseRedirect(_url(request, "reports_targets"))


# --- designations ---------------------------------------------------------------------------------


def _designations(request, regions):
    return (
        Designation.objects.for_tenant(request.tenant)
        .filter(enterprise__county_id__in=[r.pk for r in regions])
        .select_related("enterprise__county", "recorded_by")
        .order_by("-on", "-pk")
    )


@tenant_login_required
def designations(request, tenant_code):
    tenant = request.tenant
    regions = _require_keeper(request)
    form = DesignationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = (
            Enterprise.objects.for_tenant(tenant)
            .filter(uscc=data["uscc"])
            .select_related("county", "tenant")
            .first()
        )
        if enterprise is None or not permissions.may_keep_targets(request.user, enterprise.county):
            # SECURITY: an enterprise outside the region reads as absent.
            form.add_error("uscc", _("no enterprise with this code in your region."))
        else:
            try:
                services.designation_record(
                    enterprise=enterprise,
                    kind=data["kind"],
                    on=data["on"],
                    reference=data["reference"],
                    by=request.user,
                    request=request,
                )
            except ReportRefused as exc:
                _apply_refusal(form, exc)
            else:
                messages.success(
                    request,
                    _("%(enterprise)s has been recorded as %(kind)s.")
                    % {"enterprise": enterprise.name, "kind": Designation.Kind(data["kind"]).label},
                )
                return HttpResponseRedirect(_url(request, "reports_designations"))
    page = Paginator(_designations(request, regions), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/designations.html",
        {"form": form, "page": page},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@tenant_login_required
def designation_delete(request, tenant_code, pk):
    regions = _require_keeper(request)
    designation = get_object_or_404(_designations(request, regions), pk=pk)
    try:
        services.designation_remove(designation=designation, by=request.user, request=request)
    except ReportRefused as exc:
        raise Http404 from exc
    messages.success(request, _("The designation has been removed."))
    return HttpResponseRedirect(_url(request, "reports_designations"))


# --- development reports --------------------------------------------------------------------------


def _jobs(request):
    regions = permissions.dashboard_regions(request.user, request.tenant)
    jobs = ReportJob.objects.for_tenant(request.tenant).filter(region_id__in=[r.pk for r in regions])
    return jobs.select_related("region", "requested_by"), regions


@tenant_login_required
def report_list(request, tenant_code):
    _require_dashboard(request)
    jobs, regions = _jobs(request)
    initial = {"year": timezone.localdate().year - 1}
    code = request.GET.get("region")
    if code:
        initial["region"] = code
    form = ReportRequestForm(request.POST or None, regions=regions, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            job = report_pdf.report_job_request(
                region=form.cleaned_data["region"],
                year=form.cleaned_data["year"],
                by=request.user,
                request=request,
            )
        except ReportRefused as exc:
            _apply_refusal(form, exc)
        else:
            return HttpResponseRedirect(_url(request, "reports_job", pk=job.pk))
    page = Paginator(jobs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "reports/report_list.html",
        {"form": form, "page": page, "steps": report_pdf.step_labels()},
        status=400 if request.method == "POST" else 200,
    )


def _job(request, pk) -> ReportJob:
    _require_dashboard(request)
    jobs, _regions = _jobs(request)
    return get_object_or_404(jobs, pk=pk)


@tenant_login_required
def report_job(request, tenant_code, pk):
    job = _job(request, pk)
    return render(
        request,
        "reports/report_job.html",
        {
            "job": job,
            "progress": report_pdf.report_progress(job),
            "title": report_pdf.report_title(job.region.name, job.year),
        },
    )


@tenant_login_required
def report_job_progress(request, tenant_code, pk):
    job = _job(request, pk)
    return JsonResponse(report_pdf.report_progress(job))


@tenant_login_required
def report_job_download(request, tenant_code, pk):
    job = _job(request, pk)
    if job.status != ReportJob.Status.DONE or not job.file:
        raise Http404
    try:
        fh = job.file.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    audit_record(
        action="report.downloaded",
        actor=request.user,
        request=request,
        obj=job,
        summary=f"{job.region.name} {job.year}",
    )
    response = FileResponse(fh, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(
        f"{report_pdf.report_title(job.region.name, job.year)}.pdf",
        f"report-{job.region.code}-{job.year}.pdf",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
