"""The portal's Celery app as the fault tests' workers run it (`celery -A tests.faults.worker_app worker`).

Two test-only additions, kept out of the production code paths:
- FAULTS_VISIBILITY_TIMEOUT: a short Redis visibility timeout, and a check for expired unacknowledged messages
  every second (kombu's default is about every 100 s), so that a message of a killed worker comes back within
  the test;
- FAULTS_BARRIER_DIR: the development report's rendering waits, after the job is claimed (RUNNING), until a
  file named `release` exists in that directory; it first writes `started-<job id>-<pid>` there, so the test
  knows which process to kill.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from portal.celery import app

# tests.settings runs tasks in-process for the unit tests; in a worker that would make a task's retry (and any
# task it enqueues) run at once inside it, on the same dead connection, instead of going through the broker.
app.conf.task_always_eager = False
app.conf.broker_transport_options = {
    **app.conf.broker_transport_options,
    "visibility_timeout": int(os.environ.get("FAULTS_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}


@worker_process_init.connect
def _install_barrier(**_kwargs):
    barrier = os.environ.get("FAULTS_BARRIER_DIR")
    if not barrier:
        return
    from reports import report_pdf

    render = report_pdf.report_render

    def report_render_after_the_barrier(job):
        directory = Path(barrier)
        (directory / f"started-{job.pk}-{os.getpid()}").touch()
        while not (directory / "release").exists():
            time.sleep(0.05)
        return render(job)

    report_pdf.report_render = report_render_after_the_barrier


__all__ = ["app"]
