"""A real Celery worker process, against Redis and the test database, delivers a notification."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection, transaction

from portal.celery import app as celery_app
from portal.models import Notification
from portal.notifications import notification_send
from tests.conftest import require_postgres, require_redis

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db):
    require_postgres()
    require_redis()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": _database_url()}
    log_path = ROOT / ".pytest_cache" / "celery-worker.log"
    log_path.parent.mkdir(exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "-Q",
                settings.CELERY_TASK_DEFAULT_QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        celery_app.conf.task_always_eager = False
        try:
            yield proc
        finally:
            celery_app.conf.task_always_eager = True
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            connection.close()


@pytest.mark.services
def test_a_real_worker_emails_the_notification_after_commit(gz, nanming_official, celery_worker_process):
    # given a committed change that notifies someone
    with transaction.atomic():
        notification_send(
            recipient=nanming_official, tenant=gz, subject="县区审核已通过", body="已推荐至市州"
        )
        # the inbox row is written with the change (a task sent before the commit would not find it, and the
        # email would never go)
        note = Notification.objects.get(recipient=nanming_official)
        assert note.emailed_at is None
    # then the worker process picks the email task from Redis and sends it (the worker's locmem outbox is
    # in its own process: emailed_at, set by the claim of a send that did not fail, is what we can see)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        note.refresh_from_db()
        if note.emailed_at is not None:
            break
        assert celery_worker_process.poll() is None, (
            "the worker process died; see .pytest_cache/celery-worker.log"
        )
        time.sleep(0.3)
    assert note.emailed_at is not None, "the worker did not send the email within 60 s"
    assert note.subject == "县区审核已通过"


@pytest.mark.services
def test_a_real_worker_runs_a_screening_batch_to_the_end(gz, celery_worker_process):
    from certification import services
    from certification.models import ScreeningBatch
    from enterprises.services import enterprise_refresh_facts
    from portal.models import Post
    from tests.certification.conftest import make_program
    from tests.conftest import official
    from tests.enterprises.conftest import make_enterprise

    # given enterprises with stored facts and a frozen version (set up in-process, eagerly)
    celery_app.conf.task_always_eager = True
    _program, version = make_program(gz)
    for serial in range(4):
        enterprise_refresh_facts(enterprise=make_enterprise(gz, "520102", 300 + serial))
    celery_app.conf.task_always_eager = False
    staff = official(gz, "520000", Post.Role.PROVINCIAL_REVIEWER)
    # when staff start a batch, the planner and its chunk tasks run in the worker process
    with transaction.atomic():
        batch = services.screening_batch_start(tenant=gz, version=version, region=gz.root_region, by=staff)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.status in ("done", "failed"):
            break
        assert celery_worker_process.poll() is None, (
            "the worker process died; see .pytest_cache/celery-worker.log"
        )
        time.sleep(0.3)
    # then it is done, with every enterprise counted once
    assert batch.status == ScreeningBatch.Status.DONE, batch.error
    assert batch.done == batch.total == 4
    assert sum(batch.counts.values()) == 4
