"""Writing audit events. Every state change in the portal calls `audit_record` in its transaction."""

from __future__ import annotations

import re
from typing import Any

from django.db import models

from portal.models import AuditEvent, Tenant, User

# Control characters would let a crafted value forge a line in an exported log (reliability.md L4).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clean(text: str, limit: int) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:limit]


def client_ip(request) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: X-Forwarded-For is forgeable unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    tenant: Tenant | None = None,
    obj: models.Model | None = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
    request=None,
    outcome: str = "success",
    actor_label: str = "",
) -> AuditEvent:
    if actor is not None and not actor.is_authenticated:
        actor = None
    if tenant is None and request is not None:
        tenant = getattr(request, "tenant", None)
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=_clean(actor_label or (actor.get_username() if actor else ""), 150),
        tenant=tenant,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        summary=_clean(summary, 2000),
        changes=changes or {},
        ip_address=client_ip(request),
        outcome=outcome,
    )


def diff(instance: models.Model, before: dict[str, Any], fields: list[str]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields that changed, as JSON-safe strings."""
    changed = {}
    for name in fields:
        new = getattr(instance, name)
        if before.get(name) != new:
            changed[name] = [
                None if before.get(name) is None else str(before.get(name)),
                None if new is None else str(new),
            ]
    return changed
