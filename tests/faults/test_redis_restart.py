"""Redis stopped and started again (reliability.md C5), on a redis-server of the test's own.

- pages that read the cache keep serving while it is down (portal.cache.ResilientRedisCache);
- a producer gets an error within seconds, not a hang and not a silent loss; a report requested meanwhile
  shows the error page, its job row is committed and the reconcile sweep sends it once Redis is back (C7);
- tasks queued before a restart are run afterwards, with AOF persistence; without persistence they are lost
  (documented, not wished away).
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from portal.models import Notification
from portal.notifications import notification_send
from reports.models import ReportJob
from reports.reconcile import report_jobs_requeue
from reports.tasks import render_development_report
from tests.faults.conftest import RedisServer, point_at, wait_for

pytestmark = pytest.mark.services


def _pages(tenant) -> list[str]:
    return [
        reverse("home"),
        reverse("tenant_home", kwargs={"tenant_code": tenant.code}),
        reverse("directory", kwargs={"tenant_code": tenant.code}),
        reverse("region_dashboard", kwargs={"tenant_code": tenant.code}),
    ]


def test_pages_that_read_the_cache_keep_serving_while_redis_is_down(db, gz, guiyang_official, redis_server):
    with point_at(redis_server.url):
        client = Client()
        client.force_login(guiyang_official)
        # given pages served once with the cache up (so it holds the tenant and the dashboard)
        for url in _pages(gz):
            assert client.get(url).status_code == 200, url
        assert redis_server.client().execute_command("INFO", "keyspace").get("db1", {}).get("keys", 0) > 0
        # when Redis stops
        redis_server.shutdown()
        # then the same pages still render, each within the cache's short timeouts
        for url in _pages(gz):
            started = time.monotonic()
            assert client.get(url).status_code == 200, url
            assert time.monotonic() - started < 10, url
        # while monitoring still sees that the cache is down
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["checks"]["cache"]["status"] == "down"
        # and when Redis is back, the cache is used again without a restart of this process
        redis_server.start()
        cache.set("faults-probe", "back", 30)
        assert cache.get("faults-probe") == "back"


def test_pages_keep_serving_when_a_full_redis_refuses_writes(db, gz, guiyang_official, redis_server):
    with point_at(redis_server.url):
        client = Client()
        client.force_login(guiyang_official)
        # given Redis full under maxmemory-policy noeviction: every write is refused with OOM
        redis_server.client().config_set("maxmemory", 1)
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            redis_server.client().set("probe", "x")
        # then the pages that write to the cache still render
        for url in _pages(gz):
            assert client.get(url).status_code == 200, url


def test_without_the_resilient_backend_a_redis_outage_is_an_error_page(db, gz, redis_server):
    # The reason portal.cache exists: Django's RedisCache raises on a connection error.
    with point_at(redis_server.url):
        redis_server.shutdown()
        plain = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_server.url,
            }
        }
        with override_settings(CACHES=plain), pytest.raises(redis.exceptions.ConnectionError):
            Client().get(reverse("tenant_home", kwargs={"tenant_code": gz.code}))


def test_a_producer_gets_an_error_within_seconds_when_the_broker_is_down(db, redis_server):
    with point_at(redis_server.url):
        redis_server.shutdown()
        started = time.monotonic()
        with pytest.raises(OperationalError):
            render_development_report.delay(1)
        assert time.monotonic() - started < 5


def test_a_report_requested_while_the_broker_is_down_is_sent_by_the_sweep_once_it_is_back(
    transactional_db, gz, guiyang_official, redis_server
):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with point_at(redis_server.url):
        client = Client(raise_request_exception=False)
        client.force_login(guiyang_official)
        redis_server.shutdown()
        # when an official asks for a report while the broker is down
        started = time.monotonic()
        response = client.post(
            reverse("reports_jobs", kwargs={"tenant_code": gz.code}),
            {"region": "520100", "year": str(timezone.localdate().year)},
        )
        # then the request ends within seconds on the job's page (the failed enqueue is logged, not shown) …
        assert time.monotonic() - started < 10
        job = ReportJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("reports_job", kwargs={"tenant_code": gz.code, "pk": job.pk})
        # … where the job, committed before the enqueue, waits QUEUED: not lost
        assert job.status == ReportJob.Status.QUEUED
        # when Redis is back, the sweep sends it, once
        redis_server.start()
        assert redis_server.client().llen(queue) == 0
        assert report_jobs_requeue(older_than=timedelta(0)) == {"requeued": 1, "abandoned": 0}
        assert redis_server.client().llen(queue) == 1
        job.refresh_from_db()
        assert job.requeues == 1
        assert report_jobs_requeue() == {"requeued": 0, "abandoned": 0}


def _notify(recipient, tenant, count: int) -> None:
    with transaction.atomic():
        for n in range(count):
            notification_send(recipient=recipient, tenant=tenant, subject=f"通知 {n}")


@pytest.mark.parametrize("nosave", [False, True], ids=["shutdown", "shutdown-nosave"])
def test_tasks_queued_before_a_redis_restart_run_afterwards(
    gz, nanming_official, redis_server, start_worker, nosave
):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    # given 20 notifications queued while no worker runs
    _notify(nanming_official, gz, 20)
    assert redis_server.client().llen(queue) == 20
    # when Redis stops and starts again from its AOF (appendfsync everysec: wait past the second)
    time.sleep(1.2)
    redis_server.shutdown(nosave=nosave)
    redis_server.start()
    assert redis_server.client().llen(queue) == 20
    # then a worker started afterwards emails every one, once (emailed_at: the worker's outbox is its own)
    start_worker()
    wait_for(
        lambda: (
            Notification.objects.filter(recipient=nanming_official, emailed_at__isnull=False).count() == 20
        ),
        timeout=60,
        what="the 20 notification emails",
        interval=0.3,
    )
    wait_for(lambda: redis_server.client().llen(queue) == 0, timeout=10, what="an empty queue")
    assert Notification.objects.filter(recipient=nanming_official).count() == 20
    assert sorted(Notification.objects.values_list("subject", flat=True)) == sorted(
        f"通知 {n}" for n in range(20)
    )


def test_without_persistence_a_redis_restart_loses_the_queued_tasks(
    transactional_db, gz, nanming_official, tmp_path
):
    # Documents the loss the AOF prevents: the deployment must run Redis with appendonly yes. The inbox rows
    # are committed; their emails wait for the outbox sweep (tests/faults/test_notification_outbox.py).
    directory = tmp_path / "volatile"
    directory.mkdir()
    server = RedisServer(directory, persistent=False)
    server.start()
    try:
        with point_at(server.url):
            _notify(nanming_official, gz, 5)
            assert server.client().llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 5
            server.shutdown(nosave=True)
            server.start()
            assert server.client().llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 0
    finally:
        server.stop()


def test_a_running_worker_reconnects_after_a_redis_restart(gz, nanming_official, redis_server, start_worker):
    # given a worker that has emailed a notification
    worker = start_worker()
    _notify(nanming_official, gz, 1)
    emailed = Notification.objects.filter(emailed_at__isnull=False)
    wait_for(lambda: emailed.count() == 1, timeout=30, what="the first notification email", interval=0.3)
    # when Redis restarts under it
    redis_server.shutdown()
    time.sleep(1)
    redis_server.start()
    # then work sent afterwards is taken by the same worker process, once it has reconnected
    _notify(nanming_official, gz, 5)
    wait_for(lambda: emailed.count() == 6, timeout=60, what="the later notification emails", interval=0.3)
    assert worker.alive()
