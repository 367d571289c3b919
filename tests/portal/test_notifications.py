import pytest
from django.db import transaction

from portal.models import Notification
from portal.notifications import notification_send
from portal.tasks import deliver_notification


def test_notification_is_delivered_only_after_commit(
    gz, nanming_official, django_capture_on_commit_callbacks, mailoutbox
):
    # given a change that notifies, still inside its transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        notification_send(recipient=nanming_official, tenant=gz, subject="申报已退回", body="请补充材料")
        # then nothing has been sent yet
        assert Notification.objects.count() == 0
        assert mailoutbox == []
    # when the transaction commits, the inbox row and the email exist
    assert len(callbacks) == 1
    note = Notification.objects.get()
    assert (note.recipient, note.tenant, note.subject) == (nanming_official, gz, "申报已退回")
    assert note.emailed_at is not None
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [nanming_official.email]


def test_nothing_is_sent_when_the_transaction_rolls_back(
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
        raise Boom
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert mailoutbox == []


def test_delivering_the_same_notification_twice_has_one_effect(gz, nanming_official, mailoutbox):
    args = {
        "key": "6f1c1b8e-1111-4a7b-9a55-000000000001",
        "tenant_id": gz.pk,
        "recipient_id": nanming_official.pk,
        "subject": "s",
        "body": "b",
        "link": "",
    }
    first = deliver_notification.apply(kwargs=args).get()
    second = deliver_notification.apply(kwargs=args).get()
    assert first == second
    assert Notification.objects.count() == 1
    assert len(mailoutbox) == 1


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
