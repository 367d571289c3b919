"""The yearly development report (发展报告) of a region, rendered to PDF in the background.

Seed 000 二、（一）: “适时发布全区‘专精特新’中小企业发展报告”. The report holds the dashboard's numbers for the
year (the same tables, the charts as inline SVG) and the circular's ranking of the regions below. It is an
official document of the tenant's authority: rendered in the portal's language (settings.LANGUAGE_CODE), with
the CJK font of the other PDFs (templates/certification/pdf/_style.css), whatever the requester's language.

`report_job_request` records the job and enqueues the task after the commit; `report_job_run` (the task's
service) claims the job, moves its progress through STEPS, stores the file with its SHA-256 and marks it done,
or records the error. Idempotent: a finished job is left as it is, and of two workers racing on one job the
first file stored is kept (a conditional UPDATE, as certification.certificates does).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import DatabaseError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from certification.certificates import PAGE_COUNTERS, authority_of, chinese_date
from certification.publication import sha256_of
from portal.audit import audit_record
from portal.models import Region, User
from portal.on_commit import on_commit_robust
from portal.pdf import render_pdf
from reports.aggregates import compute
from reports.circular import circular_table
from reports.models import ReportJob
from reports.permissions import may_see_region
from reports.services import ReportRefused
from reports.tables import dashboard_tables, funnel_stages

log = logging.getLogger(__name__)

TEMPLATE = "reports/pdf/development_report.html"
ERROR_MAX = 2000
# The steps a job goes through, with the progress each starts at (the page shows the label).
STEPS = {"queued": 0, "numbers": 10, "tables": 40, "pdf": 60, "stored": 100}


def step_labels() -> dict[str, str]:
    return {
        "queued": _("waiting for a worker"),
        "numbers": _("counting"),
        "tables": _("drawing the charts and tables"),
        "pdf": _("typesetting the PDF"),
        "stored": _("done"),
    }


def report_job_request(*, region: Region, year: int, by: User, request=None) -> ReportJob:
    """Ask for the development report of `region` and `year`; it is generated in the background."""
    if not may_see_region(by, region.tenant, region):
        raise ReportRefused(_("This region is not in your jurisdiction."), code="not_found", status=404)
    today = timezone.localdate()
    if not (2000 <= year <= today.year):
        raise ReportRefused(
            _("Year: between 2000 and %(year)s.") % {"year": today.year},
            code="invalid",
            status=400,
            fields={"year": [_("between 2000 and %(year)s.") % {"year": today.year}]},
        )
    from reports.tasks import render_development_report

    with transaction.atomic():
        job = ReportJob.objects.create(tenant_id=region.tenant_id, region=region, year=year, requested_by=by)
        audit_record(
            action="report.requested",
            actor=by,
            tenant=region.tenant,
            obj=job,
            summary=f"{region.name} {year}",
            request=request,
        )
        # Robust: with the broker down the request still ends on the job's page (waiting) instead of an
        # error page; the committed QUEUED job is sent by reports.reconcile once the broker is back.
        on_commit_robust(render_development_report.delay, job.pk)
    return job


def _advance(job_id: int, step: str) -> None:
    ReportJob.objects.filter(pk=job_id, status=ReportJob.Status.RUNNING).update(
        step=step, progress=STEPS[step]
    )


def report_title(region_name: str, year: int) -> str:
    return _("%(region)s SRDI SME development report %(year)s") % {"region": region_name, "year": year}


def report_context(job: ReportJob) -> dict:
    """Everything the template prints, computed afresh (not from the dashboard cache: the report is a
    document of record and shows the numbers of the moment it was made)."""
    region = job.region
    today = timezone.localdate()
    data = compute(job.tenant, region, job.year, today=today)
    _advance(job.pk, "tables")
    tables = dashboard_tables(data)
    funnel = funnel_stages(data["funnel"])
    return {
        "title": report_title(region.name, job.year),
        "region": region,
        "year": job.year,
        "authority": authority_of(job.tenant),
        "made_on": chinese_date(today),
        "data": data,
        "tables": tables,
        "circular": circular_table(data) if region.level != Region.Level.COUNTY else None,
        "summary": {
            "certified": data["certified_total"],
            "new": sum(c.get("new", 0) for c in data["by_child"].values()),
            "applications": sum(n for k, n in funnel.items() if k != "draft"),
            "published": funnel["published"],
        },
        **PAGE_COUNTERS,
    }


def report_render(job: ReportJob) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):
        context = report_context(job)
        _advance(job.pk, "pdf")
        return render_pdf(TEMPLATE, context)


def report_job_run(*, job_id: int) -> bool:
    """Generate a job's PDF once. True when the file is on record afterwards.

    A DatabaseError propagates so that Celery retries the task (the job stays claimable); any other failure
    is recorded on the job, which the page shows."""
    claimed = ReportJob.objects.filter(
        pk=job_id, status__in=[ReportJob.Status.QUEUED, ReportJob.Status.RUNNING]
    ).update(
        status=ReportJob.Status.RUNNING, started_at=timezone.now(), step="numbers", progress=STEPS["numbers"]
    )
    job = ReportJob.objects.select_related("tenant", "region").get(pk=job_id)
    if not claimed:
        return job.status == ReportJob.Status.DONE
    field = job.file
    try:
        data = report_render(job)
        digest = sha256_of(data)
        name = field.storage.save(
            field.field.generate_filename(job, f"report-{job.region.code}-{job.year}-{job.pk}.pdf"),
            ContentFile(data),
        )
    except DatabaseError:
        raise
    except Exception as exc:
        log.exception("development report %s failed", job_id)
        ReportJob.objects.filter(pk=job_id, file="").update(
            status=ReportJob.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:ERROR_MAX],
            finished_at=timezone.now(),
        )
        return False
    # Conditional UPDATE: if another worker stored the report meanwhile, theirs stays.
    filled = ReportJob.objects.filter(pk=job_id, file="").update(
        file=name,
        sha256=digest,
        status=ReportJob.Status.DONE,
        step="stored",
        progress=100,
        error="",
        finished_at=timezone.now(),
    )
    if not filled:
        field.storage.delete(name)
        return True
    audit_record(
        action="report.generated",
        tenant=job.tenant,
        obj=job,
        summary=f"{job.region.name} {job.year} · {digest}",
        actor_label="system",
    )
    return True


def report_progress(job: ReportJob) -> dict:
    return {
        "status": job.status,
        "progress": job.progress,
        "step": step_labels().get(job.step or "queued", ""),
        "complete": job.status == ReportJob.Status.DONE,
        "failed": job.status == ReportJob.Status.FAILED,
    }
