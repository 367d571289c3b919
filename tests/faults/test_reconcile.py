"""The sweep that sends stuck development reports again (reliability.md C7) and gives up on them (C9).

Unit tests with a frozen clock; the end-to-end cases with real workers are in test_worker_killed.py and
test_redis_restart.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone, translation
from freezegun import freeze_time

from portal.models import AuditEvent
from reports.models import ReportJob
from reports.reconcile import MAX_REQUEUES, STUCK_AFTER, report_jobs_requeue
from tests.conftest import region

pytestmark = pytest.mark.django_db

T0 = "2026-03-02 09:00:00+08:00"


def _job(gz, **fields) -> ReportJob:
    return ReportJob.objects.create(tenant=gz, region=region(gz, "520100"), year=2025, **fields)


def _sweep(capture, **kwargs) -> tuple[dict, int]:
    with capture(execute=False) as callbacks:
        result = report_jobs_requeue(**kwargs)
    return result, len(callbacks)


def test_a_queued_job_is_left_alone_until_it_is_stuck_then_sent_once(gz, django_capture_on_commit_callbacks):
    with freeze_time(T0) as clock:
        job = _job(gz)
        # given a job waiting less than STUCK_AFTER: a worker may still take it
        clock.tick(STUCK_AFTER - timedelta(seconds=1))
        assert _sweep(django_capture_on_commit_callbacks) == ({"requeued": 0, "abandoned": 0}, 0)
        # when it has waited longer, it is sent again, once
        clock.tick(timedelta(seconds=2))
        assert _sweep(django_capture_on_commit_callbacks) == ({"requeued": 1, "abandoned": 0}, 1)
        job.refresh_from_db()
        assert (job.requeues, job.requeued_at, job.status) == (1, timezone.now(), ReportJob.Status.QUEUED)
        assert AuditEvent.objects.filter(action="report.requeued", object_id=str(job.pk)).count() == 1
        # and a second sweep at once does not send it again: the send restarted its clock
        assert _sweep(django_capture_on_commit_callbacks) == ({"requeued": 0, "abandoned": 0}, 0)
        clock.tick(STUCK_AFTER + timedelta(seconds=1))
        assert _sweep(django_capture_on_commit_callbacks) == ({"requeued": 1, "abandoned": 0}, 1)


def test_a_running_job_is_stuck_only_long_after_it_started(gz, django_capture_on_commit_callbacks):
    with freeze_time(T0) as clock:
        job = _job(gz)
        clock.tick(timedelta(hours=1))
        # a job claimed just now by a worker (started_at) is not stuck, however old the request
        ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.RUNNING, started_at=timezone.now())
        assert _sweep(django_capture_on_commit_callbacks) == ({"requeued": 0, "abandoned": 0}, 0)
        clock.tick(STUCK_AFTER + timedelta(seconds=1))
        assert _sweep(django_capture_on_commit_callbacks) == ({"requeued": 1, "abandoned": 0}, 1)


def test_finished_jobs_are_never_sent(gz, django_capture_on_commit_callbacks):
    with freeze_time(T0) as clock:
        _job(gz, status=ReportJob.Status.DONE)
        _job(gz, status=ReportJob.Status.FAILED)
        clock.tick(timedelta(days=1))
        assert _sweep(django_capture_on_commit_callbacks, older_than=timedelta(0)) == (
            {"requeued": 0, "abandoned": 0},
            0,
        )


def test_a_job_stuck_after_every_requeue_fails_with_a_reason_and_an_audit_event(
    gz, django_capture_on_commit_callbacks
):
    with freeze_time(T0) as clock:
        job = _job(gz, status=ReportJob.Status.RUNNING, started_at=timezone.now(), requeues=MAX_REQUEUES)
        clock.tick(STUCK_AFTER + timedelta(seconds=1))
        # when the sweep finds it stuck once more, it gives up instead of sending it again (no loop, C9)
        assert _sweep(django_capture_on_commit_callbacks) == ({"requeued": 0, "abandoned": 1}, 0)
    job.refresh_from_db()
    assert job.status == ReportJob.Status.FAILED and job.requeues == MAX_REQUEUES
    # the reason is in the portal's language whatever the sweep's, as the job page shows it
    assert job.error == f"后台进程在生成完成前中断，共 {MAX_REQUEUES + 1} 次。"
    event = AuditEvent.objects.get(action="report.abandoned", object_id=str(job.pk))
    assert event.outcome == "failure" and event.actor_label == "system"
    with translation.override("en"):
        assert _sweep(django_capture_on_commit_callbacks, older_than=timedelta(0)) == (
            {"requeued": 0, "abandoned": 0},
            0,
        )


def _sweep_in_thread(line_up, results: list) -> None:
    from django.db import connection

    try:
        line_up.wait(timeout=10)
        results.append(report_jobs_requeue())
    finally:
        connection.close()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_a_stuck_job_once(gz, monkeypatch):
    import threading

    import reports.reconcile as reconcile
    from tests.conftest import require_postgres

    require_postgres()
    # the enqueue after each commit is recorded, not run (the broker is not what this test is about)
    sent: list[int] = []
    monkeypatch.setattr(reconcile, "_enqueue", sent.append)
    for _attempt in range(5):
        job = _job(gz)
        ReportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - STUCK_AFTER * 2)
        line_up, results = threading.Barrier(2), []
        threads = [threading.Thread(target=_sweep_in_thread, args=(line_up, results)) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(r["requeued"] for r in results) == [0, 1]
        job.refresh_from_db()
        assert job.requeues == 1
        ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.DONE)
    assert len(sent) == 5 and len(set(sent)) == 5
