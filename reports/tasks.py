"""Background work of the reports app: thin adapters that take ids and call one service (style.md 16)."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def render_development_report(job_id: int) -> bool:
    """Render a development report's PDF once (idempotent: a finished job is left as it is)."""
    from reports import report_pdf

    return report_pdf.report_job_run(job_id=job_id)


@shared_task
def requeue_stuck_report_jobs() -> dict:
    """Send again the report jobs whose task was lost (reliability.md C7); beat, every ten minutes.
    Acks early: a run lost with its worker is replaced by the next one."""
    from reports import reconcile

    return reconcile.report_jobs_requeue()


@shared_task(ignore_result=True, time_limit=300, soft_time_limit=280)
def refresh_dashboards(tenant_id: int, within: int | None = None) -> int:
    """Count again the dashboards in use of a tenant after a change (reports.aggregates.refresh_soon), or
    overnight those looked at in the last week (`within`, reports.aggregates.refresh_overnight).
    Acks early, no retry: a lost refresh only leaves the counting to the next visitor."""
    from reports import aggregates

    return aggregates.refresh(tenant_id, within=within or aggregates.VIEWED_FOR)
