"""Notifications as an outbox (reliability.md C1, C2, C7, C9): the inbox row is written with the change, the
email is sent after the commit, once, and a lost send is sent again by the sweep a bounded number of times.

The broker-down cases with a real Redis are in tests/faults/test_notification_outbox.py.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from portal import notifications
from portal.models import AuditEvent, Notification
from portal.notifications import (
    EMAIL_WINDOW,
    MAX_EMAIL_REQUEUES,
    STUCK_AFTER,
    notification_email_deliver,
    notification_emails_requeue,
    notification_send,
)
from portal.tasks import deliver_notification, requeue_notification_emails

T0 = "2026-03-02 09:00:00+08:00"


@pytest.fixture(autouse=True)
def _broker_not_marked_down(monkeypatch):
    monkeypatch.setattr(notifications, "_broker_down_until", 0.0)


def test_the_inbox_row_is_written_with_the_change_and_the_email_sent_after_the_commit(
    gz, nanming_official, django_capture_on_commit_callbacks, mailoutbox
):
    # given a change that notifies, still inside its transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        key = notification_send(
            recipient=nanming_official, tenant=gz, subject="申报已退回", body="请补充材料"
        )
        # then the inbox row is there at once, in the same transaction, and no email has left
        note = Notification.objects.get()
        assert (note.key, note.recipient, note.tenant, note.subject) == (
            key,
            nanming_official,
            gz,
            "申报已退回",
        )
        assert note.emailed_at is None
        assert mailoutbox == []
    # when the transaction commits, the email goes out
    assert len(callbacks) == 1
    note.refresh_from_db()
    assert note.emailed_at is not None
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [nanming_official.email]
    assert mailoutbox[0].subject == "申报已退回" and mailoutbox[0].body == "请补充材料"


def test_a_rolled_back_change_leaves_no_inbox_row_and_sends_nothing(
    gz, nanming_official, django_capture_on_commit_callbacks, mailoutbox
):
    class Boom(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Boom),
        transaction.atomic(),
    ):
        notification_send(recipient=nanming_official, tenant=gz, subject="never")
        assert Notification.objects.count() == 1
        raise Boom
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_a_recipient_without_an_address_gets_the_inbox_row_and_no_email_task(
    gz, nanming_official, django_capture_on_commit_callbacks, mailoutbox
):
    nanming_official.email = ""
    nanming_official.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification_send(recipient=nanming_official, tenant=gz, subject="站内消息")
    assert callbacks == []
    assert Notification.objects.get().subject == "站内消息"
    assert mailoutbox == []


def test_delivering_the_same_notification_twice_sends_one_email(gz, nanming_official, mailoutbox):
    note = Notification.objects.create(tenant=gz, recipient=nanming_official, subject="s", body="b")
    # a redelivered message, or the sweep racing a slow task: the task runs twice
    first = deliver_notification.apply(args=[note.pk]).get()
    second = deliver_notification.apply(args=[note.pk]).get()
    assert first == second == note.pk
    assert len(mailoutbox) == 1
    assert Notification.objects.count() == 1


def test_a_message_queued_before_the_outbox_still_writes_the_row_and_sends_once(
    gz, nanming_official, mailoutbox
):
    # the kwargs notification_send queued before the outbox: the task wrote the row itself
    legacy = {
        "key": "6f1c1b8e-1111-4a7b-9a55-000000000001",
        "tenant_id": gz.pk,
        "recipient_id": nanming_official.pk,
        "subject": "s",
        "body": "b",
        "link": "",
    }
    first = deliver_notification.apply(kwargs=legacy).get()
    second = deliver_notification.apply(kwargs=legacy).get()
    note = Notification.objects.get()
    assert first == second == note.pk
    assert str(note.key) == legacy["key"] and note.emailed_at is not None
    assert len(mailoutbox) == 1


def test_a_failed_send_releases_its_claim_for_the_retry(gz, nanming_official, monkeypatch, mailoutbox):
    note = Notification.objects.create(tenant=gz, recipient=nanming_official, subject="s")

    def smtp_down(*args, **kwargs):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(notifications, "send_mail", smtp_down)
    with pytest.raises(ConnectionRefusedError):
        notification_email_deliver(notification_id=note.pk)
    note.refresh_from_db()
    assert note.emailed_at is None
    # when the mail server is back, the retry sends it
    monkeypatch.undo()
    assert notification_email_deliver(notification_id=note.pk) is True
    note.refresh_from_db()
    assert note.emailed_at is not None and len(mailoutbox) == 1


def test_an_inactive_recipient_is_not_emailed(gz, nanming_official, mailoutbox):
    note = Notification.objects.create(tenant=gz, recipient=nanming_official, subject="s")
    nanming_official.is_active = False
    nanming_official.save(update_fields=["is_active"])
    assert notification_email_deliver(notification_id=note.pk) is False
    assert mailoutbox == []


# --- the outbox sweep ----------------------------------------------------------------------------


def _sweep(capture, **kwargs) -> tuple[dict, list]:
    with capture(execute=False) as callbacks:
        result = notification_emails_requeue(**kwargs)
    return result, callbacks


def _unsent(gz, recipient) -> Notification:
    """A committed notification whose email message never reached the broker (its callback not run)."""
    return Notification.objects.create(tenant=gz, recipient=recipient, subject="通知")


def test_an_unsent_email_is_left_alone_until_it_is_stuck_then_sent_once(
    gz, nanming_official, django_capture_on_commit_callbacks, mailoutbox
):
    with freeze_time(T0) as clock:
        note = _unsent(gz, nanming_official)
        # given an email waiting less than STUCK_AFTER: its task may still be retrying
        clock.tick(STUCK_AFTER - timedelta(seconds=1))
        assert _sweep(django_capture_on_commit_callbacks)[0] == {"requeued": 0, "given_up": 0}
        # when it has waited longer, it is sent again, once
        clock.tick(timedelta(seconds=2))
        result, callbacks = _sweep(django_capture_on_commit_callbacks)
        assert (result, len(callbacks)) == ({"requeued": 1, "given_up": 0}, 1)
        note.refresh_from_db()
        assert (note.email_requeues, note.email_requeued_at) == (1, timezone.now())
        assert (
            AuditEvent.objects.filter(action="notification.email_requeued", object_id=str(note.pk)).count()
            == 1
        )
        # and a second sweep at once does not send it again: the send restarted its clock
        assert _sweep(django_capture_on_commit_callbacks)[0] == {"requeued": 0, "given_up": 0}
        # when the sent task runs, the email goes out and the sweep has nothing left
        callbacks[0]()
        assert len(mailoutbox) == 1 and mailoutbox[0].to == [nanming_official.email]
        clock.tick(STUCK_AFTER * 2)
        assert _sweep(django_capture_on_commit_callbacks)[0] == {"requeued": 0, "given_up": 0}


def test_the_sweep_gives_up_after_the_cap_with_a_log_line_and_an_audit_event(
    gz, nanming_official, django_capture_on_commit_callbacks, caplog, mailoutbox
):
    with freeze_time(T0) as clock:
        note = _unsent(gz, nanming_official)
        # given a broker that loses every send: each sweep sends it again, MAX_EMAIL_REQUEUES times
        for n in range(1, MAX_EMAIL_REQUEUES + 1):
            clock.tick(STUCK_AFTER + timedelta(seconds=1))
            result, callbacks = _sweep(django_capture_on_commit_callbacks)
            assert (result, len(callbacks)) == ({"requeued": 1, "given_up": 0}, 1), n
        # when it is stuck once more, the sweep gives up on it, and says so
        clock.tick(STUCK_AFTER + timedelta(seconds=1))
        with caplog.at_level(logging.ERROR, logger="portal.notifications"):
            result, callbacks = _sweep(django_capture_on_commit_callbacks)
        assert (result, callbacks) == ({"requeued": 0, "given_up": 1}, [])
        assert f"notification {note.pk}: email to user {nanming_official.pk} given up" in caplog.text
        note.refresh_from_db()
        assert (note.email_requeues, note.email_given_up_at, note.emailed_at) == (
            MAX_EMAIL_REQUEUES,
            timezone.now(),
            None,
        )
        event = AuditEvent.objects.get(action="notification.email_given_up", object_id=str(note.pk))
        assert event.outcome == "failure"
        # and it is never sent or counted again; the inbox row stays
        clock.tick(STUCK_AFTER * 3)
        assert _sweep(django_capture_on_commit_callbacks)[0] == {"requeued": 0, "given_up": 0}
    assert AuditEvent.objects.filter(action="notification.email_given_up").count() == 1
    assert Notification.objects.filter(pk=note.pk).exists()
    assert mailoutbox == []


def test_the_sweep_skips_sent_addressless_inactive_and_old_notifications(
    gz, nanming_official, yunyan_official, guiyang_official, django_capture_on_commit_callbacks
):
    with freeze_time(T0) as clock:
        Notification.objects.create(
            tenant=gz, recipient=nanming_official, subject="sent", emailed_at=timezone.now()
        )
        yunyan_official.email = ""
        yunyan_official.save(update_fields=["email"])
        _unsent(gz, yunyan_official)
        guiyang_official.is_active = False
        guiyang_official.save(update_fields=["is_active"])
        _unsent(gz, guiyang_official)
        clock.tick(STUCK_AFTER * 2)
        assert _sweep(django_capture_on_commit_callbacks)[0] == {"requeued": 0, "given_up": 0}
        # an email due for longer than EMAIL_WINDOW is not worth sending any more
        old = _unsent(gz, nanming_official)
        clock.tick(EMAIL_WINDOW + timedelta(seconds=1))
        assert _sweep(django_capture_on_commit_callbacks)[0] == {"requeued": 0, "given_up": 0}
        # while one just inside the window is sent
        Notification.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - EMAIL_WINDOW + timedelta(minutes=1)
        )
        result, callbacks = _sweep(django_capture_on_commit_callbacks)
        assert (result, len(callbacks)) == ({"requeued": 1, "given_up": 0}, 1)


def test_a_send_claimed_by_another_sweep_is_not_sent_twice(
    gz, nanming_official, django_capture_on_commit_callbacks, monkeypatch
):
    with freeze_time(T0) as clock:
        note = _unsent(gz, nanming_official)
        clock.tick(STUCK_AFTER + timedelta(seconds=1))
        # given a second sweep that read the same row and sends it between our read and our claim
        due = notifications.notification_emails_due

        def read_then_lose_the_race(**kwargs):
            rows = _Stale(due(**kwargs))
            Notification.objects.filter(pk=note.pk).update(email_requeues=1, email_requeued_at=timezone.now())
            return rows

        monkeypatch.setattr(notifications, "notification_emails_due", read_then_lose_the_race)
        result, callbacks = _sweep(django_capture_on_commit_callbacks)
    # then our claim on the count finds it taken and sends nothing
    assert (result, callbacks) == ({"requeued": 0, "given_up": 0}, [])
    note.refresh_from_db()
    assert note.email_requeues == 1


class _Stale(list):
    """The rows a sweep read, as the queryset chain in notification_emails_requeue uses them."""

    def select_related(self, *fields):
        return self


def test_the_beat_schedule_runs_the_sweep_every_ten_minutes():
    from portal.celery import TASK_ACKS
    from portal.celery import app as celery_app

    entries = [
        e for e in celery_app.conf.beat_schedule.values() if e["task"] == requeue_notification_emails.name
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"].minute == set(range(0, 60, 10))
    assert TASK_ACKS[requeue_notification_emails.name][0] == "early"
    assert not requeue_notification_emails.acks_late


def test_the_sweep_waits_longer_than_the_email_task_retries():
    # a task still retrying a failed send (emailed_at released) is not sent a second time meanwhile
    retrying = deliver_notification.max_retries * deliver_notification.default_retry_delay
    assert STUCK_AFTER.total_seconds() > retrying


# --- the inbox pages -----------------------------------------------------------------------------


def test_unread_count_shows_in_the_header_and_opening_marks_read(
    client, gz, nanming_official, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(recipient=nanming_official, tenant=gz, subject="消息一", link="/gz/regions/")
    client.force_login(nanming_official)
    page = client.get("/gz/me/")
    assert page.context["unread_count"] == 1
    assert "1 条未读消息" in page.content.decode()
    note = Notification.objects.get()
    response = client.post(f"/gz/inbox/{note.pk}/open/")
    assert response["Location"] == "/gz/regions/"
    assert client.get("/gz/me/").context["unread_count"] == 0


def test_a_notification_link_cannot_send_the_reader_elsewhere(client, gz, nanming_official):
    note = Notification.objects.create(
        tenant=gz, recipient=nanming_official, subject="x", link="https://evil.example/"
    )
    client.force_login(nanming_official)
    assert client.post(f"/gz/inbox/{note.pk}/open/")["Location"] == "/gz/inbox/"


def test_someone_elses_notification_is_a_404(client, gz, nanming_official, yunyan_official):
    note = Notification.objects.create(tenant=gz, recipient=yunyan_official, subject="x")
    client.force_login(nanming_official)
    assert client.post(f"/gz/inbox/{note.pk}/open/").status_code == 404
    assert client.get(f"/api/v1/gz/notifications/{note.pk}/").status_code == 404
    assert client.post(f"/api/v1/gz/notifications/{note.pk}/read/").status_code == 404
