"""Development reports whose task was lost are sent to the workers again (reliability.md C4, C7, C9).

The report task acks late, so a worker killed outright (kill -9 of its main process, a machine lost) leaves
its message unacknowledged and Redis hands it out again after the visibility timeout. Two losses remain, and
both leave the job QUEUED or RUNNING for good:

- a pool child killed mid-task (OOM killer, the hard time limit) has its message acknowledged with the
  failure: we do not set reject_on_worker_lost, because a report that kills its worker every time would then be
  redelivered in a loop (celery docs; OasisPlatform #975);
- a broker that was unreachable when the request committed never got the message (the page shows the error,
  the job row is already committed).

`report_jobs_requeue` (beat, every ten minutes) sends such a job again. STUCK_AFTER exceeds the task's hard time
limit, so a job still really running is normally left alone; if it is sent twice anyway, report_job_run keeps
one file (C1). Each send is claimed by a conditional UPDATE on the job's `requeues` count, so two sweeps at once
send it once; a job sent MAX_REQUEUES times and stuck again is marked FAILED (C9), with an audit event.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.on_commit import on_commit_robust
from reports.models import ReportJob

log = logging.getLogger(__name__)

# Longer than the task's hard time limit (settings.CELERY_TASK_TIME_LIMIT, 600 s): a job RUNNING this long has
# lost its worker. A job QUEUED this long lost its message, or waits behind a very long queue (then the extra
# send is harmless: C1).
STUCK_AFTER = timedelta(minutes=15)
MAX_REQUEUES = 3
ACTIVE = (ReportJob.Status.QUEUED, ReportJob.Status.RUNNING)


def report_jobs_stuck(*, older_than: timedelta = STUCK_AFTER) -> QuerySet[ReportJob]:
    """Jobs QUEUED or RUNNING with no sign of life (requested, started or re-sent) for `older_than`."""
    cutoff = timezone.now() - older_than
    last_sign = Greatest(
        "created_at", Coalesce("started_at", "created_at"), Coalesce("requeued_at", "created_at")
    )
    return (
        ReportJob.objects.filter(status__in=ACTIVE)
        .alias(last_sign=last_sign)
        .filter(last_sign__lt=cutoff)
        .order_by("pk")
    )


def _enqueue(job_id: int) -> None:
    from reports.tasks import render_development_report

    render_development_report.delay(job_id)


def report_jobs_requeue(*, older_than: timedelta = STUCK_AFTER, limit: int = 500) -> dict[str, int]:
    """Send the stuck jobs again, or give up on those sent MAX_REQUEUES times. Idempotent by the count."""
    requeued = abandoned = 0
    stuck = report_jobs_stuck(older_than=older_than).select_related("tenant", "region")[:limit]
    for job in stuck:
        now = timezone.now()
        with transaction.atomic():
            mine = ReportJob.objects.filter(pk=job.pk, status__in=ACTIVE, requeues=job.requeues)
            if job.requeues >= MAX_REQUEUES:
                with translation.override(settings.LANGUAGE_CODE):
                    error = _("its worker stopped before the end, %(count)d times.") % {
                        "count": job.requeues + 1
                    }
                if mine.update(status=ReportJob.Status.FAILED, error=error, finished_at=now):
                    audit_record(
                        action="report.abandoned",
                        tenant=job.tenant,
                        obj=job,
                        summary=f"{job.region.name} {job.year} · {job.requeues} requeues",
                        outcome="failure",
                        actor_label="system",
                    )
                    abandoned += 1
                continue
            if mine.update(requeues=F("requeues") + 1, requeued_at=now):
                audit_record(
                    action="report.requeued",
                    tenant=job.tenant,
                    obj=job,
                    summary=f"{job.region.name} {job.year} · {job.status} · requeue {job.requeues + 1}",
                    actor_label="system",
                )
                # robust: a broker still down must not stop the sweep; the job stays stuck and the next
                # sweep, STUCK_AFTER later, tries again (and counts it).
                on_commit_robust(_enqueue, job.pk)
                requeued += 1
    if requeued or abandoned:
        log.warning("report jobs: %d sent again, %d given up", requeued, abandoned)
    return {"requeued": requeued, "abandoned": abandoned}
