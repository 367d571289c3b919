"""Notifications: an inbox row and an email, delivered by a task after the transaction commits.

A change that notifies someone calls `notification_send` inside its own transaction.
Nothing leaves before the commit: if the transaction rolls back, no one hears of a
change that never happened (reliability.md C2, style.md 17).
"""

from __future__ import annotations

import uuid
from functools import partial

from django.db import transaction

from portal.models import Tenant, User


def notification_send(
    *, recipient: User, tenant: Tenant, subject: str, body: str = "", link: str = ""
) -> uuid.UUID:
    from portal.tasks import deliver_notification

    key = uuid.uuid4()
    transaction.on_commit(
        partial(
            deliver_notification.delay,
            key=str(key),
            tenant_id=tenant.pk,
            recipient_id=recipient.pk,
            subject=str(subject),
            body=str(body),
            link=link,
        )
    )
    return key
