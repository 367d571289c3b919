"""Background work of the portal core. Tasks take ids, load, and call one function."""

from __future__ import annotations

import logging

from celery import shared_task

from portal import notifications
from portal.models import Notification, User

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, default_retry_delay=180, acks_late=True)
def deliver_notification(self, notification_id: int | None = None, **legacy):
    """Send the email of a notification whose inbox row is committed (portal.notifications, the outbox); once
    per notification however often the task runs. A failed send is retried; after the retries the outbox
    sweep sends it again (reliability.md C7)."""
    if notification_id is None:
        # A message queued before the outbox, by notification_send's earlier form: the task created the row.
        notification_id = _legacy_notification(**legacy)
        if notification_id is None:
            return None
    try:
        notifications.notification_email_deliver(notification_id=notification_id)
    except Exception as exc:
        log.warning("email for notification %s failed: %s", notification_id, exc)
        raise self.retry(exc=exc) from exc
    return notification_id


def _legacy_notification(
    *, key: str, tenant_id: int, recipient_id: int, subject: str, body: str = "", link: str = ""
) -> int | None:
    recipient = User.objects.filter(pk=recipient_id, is_active=True).first()
    if recipient is None:
        return None
    note, _created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "tenant_id": tenant_id,
            "recipient": recipient,
            "subject": subject,
            "body": body,
            "link": link,
        },
    )
    return note.pk


@shared_task
def requeue_notification_emails() -> dict:
    """Send again the notification emails whose task was lost (reliability.md C7); beat, every ten minutes.
    Acks early: a run lost with its worker is replaced by the next one."""
    return notifications.notification_emails_requeue()


@shared_task(acks_late=True)
def purge_audit_events():
    """The daily retention purge of the audit log (reliability.md L6): idempotent, a second run the
    same day finds nothing older than the retention and writes a row saying it removed 0."""
    from portal.audit import audit_purge

    return audit_purge()
