"""Notifications with the broker down at the commit (reliability.md C5, C7), on a redis-server of the test's own.

The inbox row is committed with the change; the failed enqueue of its email is logged, not shown (the request
succeeds); the outbox sweep sends the email once Redis is back, and a worker delivers it, once.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client

from certification.models import Application
from portal import notifications
from portal.models import Notification
from portal.notifications import notification_emails_requeue, notification_send
from portal.tasks import deliver_notification
from tests.certification.conftest import draft, media, ready, wf_program, wf_round  # noqa: F401
from tests.certification.workflow_fixtures import FORM
from tests.enterprises.conftest import acme, colleague, owner  # noqa: F401
from tests.faults.conftest import wait_for

pytestmark = pytest.mark.services


@pytest.fixture(autouse=True)
def _broker_backoff(monkeypatch):
    # The same back-off as in production would make the test wait 10 s for it to pass.
    monkeypatch.setattr(notifications, "BROKER_BACKOFF", 1.0)
    monkeypatch.setattr(notifications, "_broker_down_until", 0.0)


@pytest.fixture
def enqueues(monkeypatch):
    """How often the email task was handed to the broker (a spy: the real delay still runs)."""
    calls: list[int] = []
    real = deliver_notification.delay

    def counting_delay(*args, **kwargs):
        calls.append(args[0] if args else kwargs.get("notification_id"))
        return real(*args, **kwargs)

    monkeypatch.setattr(deliver_notification, "delay", counting_delay)
    return calls


def test_a_change_committed_while_the_broker_is_down_keeps_its_notifications_and_the_sweep_sends_them(
    gz, nanming_official, yunyan_official, guiyang_official, redis_server, start_worker, enqueues, caplog
):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    recipients = [nanming_official, yunyan_official, guiyang_official]
    redis_server.shutdown()
    # when a change that notifies three people commits while the broker is down
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="portal.notifications"), transaction.atomic():
        for user in recipients:
            notification_send(recipient=user, tenant=gz, subject="县区审核已通过")
    # then the commit returns within seconds, without an error: the first enqueue failed and was logged, the
    # other two were not tried (the broker back-off), and the three inbox rows are committed
    assert time.monotonic() - started < 10
    assert len(enqueues) == 1
    assert "enqueue failed, its email is left to the outbox sweep" in caplog.text
    notes = Notification.objects.filter(subject="县区审核已通过")
    assert sorted(n.recipient_id for n in notes) == sorted(u.pk for u in recipients)
    assert all(n.emailed_at is None for n in notes)
    # when Redis is back, the sweep sends each email, once
    redis_server.start()
    time.sleep(notifications.BROKER_BACKOFF)
    assert redis_server.client().llen(queue) == 0
    assert notification_emails_requeue(older_than=timedelta(0)) == {"requeued": 3, "given_up": 0}
    assert redis_server.client().llen(queue) == 3
    assert notification_emails_requeue() == {"requeued": 0, "given_up": 0}
    # and a worker emails them
    start_worker()
    wait_for(
        lambda: notes.filter(emailed_at__isnull=False).count() == 3,
        timeout=60,
        what="the three emails",
        interval=0.3,
    )
    assert notification_emails_requeue(older_than=timedelta(0)) == {"requeued": 0, "given_up": 0}


def test_an_application_submitted_while_the_broker_is_down_is_submitted_not_an_error_page(
    ready,  # noqa: F811
    owner,  # noqa: F811
    colleague,  # noqa: F811
    redis_server,
    start_worker,
):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    redis_server.shutdown()
    # when the enterprise submits its application while the broker is down
    started = time.monotonic()
    response = client.post(f"/gz/applications/{ready.pk}/submit/", _form_post(ready))
    # then the request ends within seconds on the application's page, and the submission is committed …
    assert time.monotonic() - started < 15
    assert response.status_code == 302, response.content[:2000]
    assert response["Location"] == f"/gz/applications/{ready.pk}/"
    ready.refresh_from_db()
    assert ready.state == Application.State.SUBMITTED
    # … with its inbox rows, whose emails the sweep sends once Redis is back
    told = Notification.objects.filter(emailed_at=None)
    assert told.filter(recipient=colleague).exists()
    redis_server.start()
    time.sleep(notifications.BROKER_BACKOFF)
    due = told.exclude(recipient__email="").count()
    assert notification_emails_requeue(older_than=timedelta(0)) == {"requeued": due, "given_up": 0}
    start_worker()
    wait_for(
        lambda: not Notification.objects.filter(emailed_at=None).exclude(recipient__email="").exists(),
        timeout=60,
        what="the submission's emails",
        interval=0.3,
    )


def _form_post(application) -> dict:
    from tests.certification.test_apply_pages import form_post

    return form_post(FORM, application.revision)
