"""Notifications: an inbox row written with the change, and an email sent by a task after the commit (an outbox).

A change that notifies someone calls `notification_send` inside its own transaction. The inbox row is written
in that transaction, so it is rolled back or committed with the change; only the email leaves, and only after
the commit (reliability.md C2, style.md 17). The enqueue is `robust`: a broker that is down at the commit is
logged and does not turn a committed decision into an error page (C5). The row is then the outbox entry that
`notification_emails_requeue` (beat, every ten minutes) finds and sends again (C7), a bounded number of times
(C9). Each email is claimed by a conditional UPDATE on `emailed_at`, so however often its task runs, it goes
out once (C1).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from kombu.exceptions import OperationalError

from portal.audit import audit_record
from portal.models import Notification, Tenant, User
from portal.on_commit import on_commit_robust

log = logging.getLogger(__name__)

# Longer than the email task's own retries (max_retries 5 × default_retry_delay 180 s = 15 min): an email not
# sent after this long lost its message (a broker down at the commit, a Redis restart without AOF). If the
# task is merely slow, the extra send is harmless: the claim on emailed_at sends one email.
STUCK_AFTER = timedelta(minutes=20)
# Older notifications are no longer worth an email (and a recipient who adds an address later is not sent
# a backlog).
EMAIL_WINDOW = timedelta(days=2)
MAX_EMAIL_REQUEUES = 5


def notification_send(
    *, recipient: User, tenant: Tenant, subject: str, body: str = "", link: str = ""
) -> uuid.UUID:
    """Write the inbox row in the caller's transaction; send the email after it commits. Returns the key."""
    note = Notification.objects.create(
        tenant=tenant, recipient=recipient, subject=str(subject), body=str(body), link=link
    )
    if recipient.email:
        on_commit_robust(_email_enqueue, note.pk)
    return note.key


# After a failed enqueue, the emails of the next few seconds are left to the sweep without trying the broker:
# a change that notifies ten people must not make its request wait ten publish timeouts (up to ~7 s each, an
# unreachable host; CELERY_TASK_PUBLISH_RETRY_POLICY) when the first one has shown the broker is down.
BROKER_BACKOFF = 10.0  # seconds
_broker_down_until = 0.0


def _email_enqueue(notification_id: int) -> None:
    """After the commit (portal.on_commit.on_commit_robust): queue the notification's email."""
    global _broker_down_until
    from portal.tasks import deliver_notification

    if time.monotonic() < _broker_down_until:
        log.warning("notification %s: broker down, its email is left to the outbox sweep", notification_id)
        return
    try:
        deliver_notification.delay(notification_id)
    except OperationalError:  # kombu's: the broker could not be reached
        _broker_down_until = time.monotonic() + BROKER_BACKOFF
        log.exception(
            "notification %s: enqueue failed, its email is left to the outbox sweep", notification_id
        )


def notification_email_deliver(*, notification_id: int) -> bool:
    """Send the notification's email unless it was sent already. True when this call sent it.

    The email is claimed by a conditional UPDATE, so two deliveries of the same message (a redelivery, a
    sweep racing a slow task) send it once. A failed send releases the claim and raises, for the task to
    retry. A worker killed between the claim and the send loses that email: at most once, never twice.
    """
    note = Notification.objects.select_related("recipient").filter(pk=notification_id).first()
    if note is None or not note.recipient.is_active or not note.recipient.email:
        return False
    claimed = Notification.objects.filter(pk=note.pk, emailed_at=None).update(emailed_at=timezone.now())
    if not claimed:
        return False
    try:
        send_mail(
            note.subject,
            f"{note.body}\n\n{note.link}".strip(),
            settings.DEFAULT_FROM_EMAIL,
            [note.recipient.email],
        )
    except Exception:
        Notification.objects.filter(pk=note.pk).update(emailed_at=None)
        raise
    return True


def notification_emails_due(*, older_than: timedelta = STUCK_AFTER) -> QuerySet[Notification]:
    """Emails still unsent, to an active recipient with an address, of a notification younger than
    EMAIL_WINDOW, with no sign of life (written or sent again) for `older_than`."""
    now = timezone.now()
    last_sign = Greatest("created_at", Coalesce("email_requeued_at", "created_at"))
    return (
        Notification.objects.filter(
            emailed_at=None,
            email_given_up_at=None,
            created_at__gt=now - EMAIL_WINDOW,
            recipient__is_active=True,
        )
        .exclude(recipient__email="")
        .alias(last_sign=last_sign)
        .filter(last_sign__lt=now - older_than)
        .order_by("pk")
    )


def notification_emails_requeue(*, older_than: timedelta = STUCK_AFTER, limit: int = 500) -> dict[str, int]:
    """Send the due emails again, or give up on those sent again MAX_EMAIL_REQUEUES times (reliability.md C7,
    C9). Each send is claimed by a conditional UPDATE on the count, so two sweeps at once send it once."""
    requeued = given_up = 0
    for note in notification_emails_due(older_than=older_than).select_related("tenant", "recipient")[:limit]:
        now = timezone.now()
        with transaction.atomic():
            mine = Notification.objects.filter(
                pk=note.pk, emailed_at=None, email_given_up_at=None, email_requeues=note.email_requeues
            )
            if note.email_requeues >= MAX_EMAIL_REQUEUES:
                if mine.update(email_given_up_at=now):
                    audit_record(
                        action="notification.email_given_up",
                        tenant=note.tenant,
                        obj=note,
                        summary=f"{note.recipient.username} · {note.email_requeues} requeues",
                        outcome="failure",
                        actor_label="system",
                    )
                    log.error(
                        "notification %s: email to user %s given up after %d requeues",
                        note.pk,
                        note.recipient_id,
                        note.email_requeues,
                    )
                    given_up += 1
                continue
            if mine.update(email_requeues=F("email_requeues") + 1, email_requeued_at=now):
                audit_record(
                    action="notification.email_requeued",
                    tenant=note.tenant,
                    obj=note,
                    summary=f"{note.recipient.username} · requeue {note.email_requeues + 1}",
                    actor_label="system",
                )
                # robust: a broker still down must not stop the sweep; the email stays due and the next
                # sweep, STUCK_AFTER later, tries again (and counts it).
                on_commit_robust(_email_enqueue, note.pk)
                requeued += 1
    if requeued or given_up:
        log.warning("notification emails: %d sent again, %d given up", requeued, given_up)
    return {"requeued": requeued, "given_up": given_up}
