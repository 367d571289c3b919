"""The database connection dropped in the middle of a request that writes (reliability.md C6, PostgreSQL only).

A real server (pytest-django's live_server, Django's WSGI handler with its request_started/finished signals) and a
real backend terminated with pg_terminate_backend from a second connection, after the request's first write and
before its second. The user gets the error page in Chinese, the first write is rolled back with the second, and
the next request on the same session reconnects (close_old_connections, CONN_HEALTH_CHECKS).
"""

from __future__ import annotations

import threading

import psycopg2
import pytest
import requests
from django.conf import settings
from django.db.backends.utils import CursorWrapper
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from reports.models import ReportJob
from tests.conftest import region, require_postgres

pytestmark = pytest.mark.services


def _browser_session(user) -> requests.Session:
    client = Client()
    client.force_login(user)
    session = requests.Session()
    session.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return session


class DropAfterFirstWrite:
    """Wraps CursorWrapper.execute: in the server thread, once `table` has been inserted into, the next
    statement finds its backend terminated."""

    def __init__(self, table: str):
        self.insert = f'INSERT INTO "{table}"'
        self.seen_insert = False
        self.killed: list[int] = []
        self.original = CursorWrapper.execute

    def __call__(self, cursor: CursorWrapper, sql, params=None):
        in_server = threading.current_thread() is not threading.main_thread()
        if in_server and not self.killed:
            if self.seen_insert:
                pid = cursor.db.connection.get_backend_pid()
                other = psycopg2.connect(**cursor.db.get_connection_params())
                try:
                    other.autocommit = True
                    with other.cursor() as c:
                        c.execute("SELECT pg_terminate_backend(%s)", [pid])
                        assert c.fetchone() == (True,)
                finally:
                    other.close()
                self.killed.append(pid)
            elif sql.startswith(self.insert):
                self.seen_insert = True
        return self.original(cursor, sql, params)


def test_a_request_whose_connection_drops_shows_the_chinese_error_page_writes_nothing_and_the_next_succeeds(
    live_server, gz, guiyang_official, monkeypatch
):
    require_postgres()
    session = _browser_session(guiyang_official)
    url = live_server.url + reverse("reports_jobs", kwargs={"tenant_code": gz.code})
    assert session.get(url, timeout=30).status_code == 200
    # given the database connection of the server's thread dies after the job's INSERT, before the audit row
    fault = DropAfterFirstWrite(ReportJob._meta.db_table)
    monkeypatch.setattr(CursorWrapper, "execute", lambda cursor, sql, params=None: fault(cursor, sql, params))
    # when an official asks for a report
    response = session.post(
        url,
        data={
            "region": "520100",
            "year": str(timezone.localdate().year),
            "csrfmiddlewaretoken": session.cookies[settings.CSRF_COOKIE_NAME],
        },
        allow_redirects=False,
        timeout=30,
    )
    monkeypatch.undo()
    # then the connection was cut in the middle of the transaction …
    assert fault.seen_insert and len(fault.killed) == 1
    # … the answer is the error page, in Chinese, without a traceback
    assert response.status_code == 500
    page = response.text
    assert "服务器错误" in page and "请稍后重试" in page
    assert "Traceback" not in page and "OperationalError" not in page and "pg_terminate" not in page
    # the job's INSERT rolled back with the rest: no job, no audit row
    assert not ReportJob.objects.exists()
    assert AuditEvent.objects.filter(action="report.requested").count() == 0
    # and the next request on the same session is served by a new connection
    again = session.get(url, timeout=30, allow_redirects=False)
    assert again.status_code == 200
    assert "服务器错误" not in again.text


def test_a_task_whose_connection_drops_retries_with_backoff_and_makes_the_report_once(
    gz, guiyang_official, start_worker, tmp_path
):
    from django.db import connection

    from reports import report_pdf
    from tests.faults.conftest import wait_for

    barrier = tmp_path / "barrier"
    barrier.mkdir()
    worker = start_worker(barrier=barrier)
    # given a report being generated: the job is claimed and the task waits at the barrier, its connection open
    job = report_pdf.report_job_request(
        region=region(gz, "520100"), year=timezone.localdate().year, by=guiyang_official
    )
    wait_for(lambda: list(barrier.glob(f"started-{job.pk}-*")), timeout=20, what="the task to start")
    # when every other backend of the test database is terminated (the worker's among them)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchone()[0] >= 1
    (barrier / "release").touch()
    # then the task fails on its dead connection, is retried with a countdown, and the retry makes the report
    wait_for(
        lambda: ReportJob.objects.filter(pk=job.pk, status__in=["done", "failed"]).exists(),
        timeout=60,
        what="the report to be finished",
        interval=0.3,
    )
    job.refresh_from_db()
    assert job.status == ReportJob.Status.DONE, job.error
    log = worker.log()
    assert log.count(" retry: Retry in ") == 1, log[-3000:]
    assert "OperationalError" in log or "InterfaceError" in log, log[-3000:]
    assert AuditEvent.objects.filter(action="report.generated", object_id=str(job.pk)).count() == 1
