"""Background work of the portal core. Tasks take ids, load, and call one function."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone

from portal.models import Notification, User

log = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=5, retry_backoff=True, retry_backoff_max=600, acks_late=True)
def deliver_notification(
    self, *, key: str, tenant_id: int, recipient_id: int, subject: str, body: str, link: str
):
    """Create the inbox row and send the email, once per key however often the task runs."""
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
    if not recipient.email:
        return note.pk
    # Claim the email by update so that two deliveries of the same message send it once.
    claimed = Notification.objects.filter(pk=note.pk, emailed_at=None).update(emailed_at=timezone.now())
    if claimed:
        try:
            send_mail(subject, f"{body}\n\n{link}".strip(), settings.DEFAULT_FROM_EMAIL, [recipient.email])
        except Exception as exc:
            Notification.objects.filter(pk=note.pk).update(emailed_at=None)
            log.warning("email for notification %s failed: %s", note.pk, exc)
            raise self.retry(exc=exc) from exc
    return note.pk
