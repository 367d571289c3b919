"""Writing audit events. Every state change in the portal calls `audit_record` in its transaction.

Besides the events the services write, the request middleware (portal.audit_middleware) records every
refusal (403) and every file handed out (exports and downloads) through `audit_denied` and
`audit_delivery`; `audit_purge` is the only way rows ever leave the table (reliability.md L6).
"""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models, transaction
from django.utils import timezone

from portal.audit_middleware import current_context
from portal.masking import mask_changes, mask_text
from portal.models import AuditEvent, Post, Tenant, User

log = logging.getLogger(__name__)

# Control characters would let a crafted value forge a line in an exported log (reliability.md L4).
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _clean(text: str, limit: int) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)[:limit]


def client_ip(request) -> str | None:
    if request is None:
        return None
    # REMOTE_ADDR only: X-Forwarded-For is forgeable unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR") or None


def actor_roles(actor: User | None, tenant: Tenant | None) -> str:
    """The actor's capacities now, as stored on the row: "tenant_admin@520000,enterprise_admin#12".

    Posts in this tenant (in every tenant when there is none), then enterprise memberships, read through
    the reverse relation so that the portal core does not import the enterprises app.
    """
    if actor is None:
        return ""
    cached = actor.__dict__.setdefault("_audit_roles_cache", {})
    key = tenant.pk if tenant is not None else None
    if key not in cached:
        roles = ["superuser"] if actor.is_superuser else []
        if tenant is not None:
            posts = actor.posts_in(tenant)
        else:
            posts = list(Post.objects.filter(user=actor, is_active=True).select_related("region"))
        roles += [f"{p.role}@{p.region.code}" for p in posts]
        memberships = getattr(actor, "memberships", None)
        if memberships is not None:
            found = memberships.all()
            if tenant is not None:
                found = found.filter(enterprise__tenant=tenant)
            roles += [f"enterprise_{role}#{ent}" for ent, role in found.values_list("enterprise_id", "role")]
        cached[key] = ",".join(roles)[:255]
    return cached[key]


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
    object_ref: tuple[str, str] | None = None,
) -> AuditEvent:
    """`object_ref` (type, id) names an object that is not at hand as a model instance."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    if tenant is None and request is not None:
        tenant = getattr(request, "tenant", None)
    ctx = current_context()
    # A service called without the request still runs inside one: its IP and id go on the row (L2).
    source = request if request is not None else (ctx.request if ctx is not None else None)
    if obj is not None:
        object_type, object_id = obj._meta.label_lower, str(obj.pk)
    else:
        object_type, object_id = object_ref or ("", "")
    event = AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_label=_clean(actor_label or (actor.get_username() if actor else ""), 150),
        actor_roles=actor_roles(actor, tenant),
        tenant=tenant,
        object_type=object_type[:64],
        object_id=object_id[:64],
        # reliability.md L3, P3: mobile, ID and account numbers are stored masked, whoever passes them.
        summary=_clean(mask_text(summary), 2000),
        changes=mask_changes(changes),
        ip_address=client_ip(source),
        outcome=outcome,
        request_id=ctx.request_id if ctx is not None else "",
    )
    if ctx is not None:
        ctx.actions.append(action)
    return event


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


# --- refusals (reliability.md L1: permission denied) ----------------------------------------------

# A refusal in a loop (a script, a page polling what it may not see) writes one row a minute per user
# and path, not one per request: the table must not become the way to fill the disk.
DENIAL_FLOOD_SECONDS = 60


def note_denial(request, exception=None) -> None:
    """Remember why the request was refused, for the row the middleware writes (handler403, the API)."""
    if request is not None and exception is not None and str(exception):
        request.audit_denial_reason = str(exception)


def audit_denied(*, request, status: int = 403) -> AuditEvent | None:
    """One "auth.denied" row for a refused request, unless the same user was refused the same path in
    the last minute. Anonymous visitors count by IP (the login redirect is a 302, not a refusal)."""
    user = getattr(request, "user", None)
    actor = user if user is not None and user.is_authenticated else None
    who = f"u{actor.pk}" if actor is not None else f"ip{client_ip(request)}"
    digest = hashlib.sha256(f"{who} {request.path}".encode()).hexdigest()[:32]
    key = f"audit:denied:{digest}"
    # "Not added" while the key is absent means the cache is away (portal.cache answers so): then the
    # refusal is written anyway. Losing refusals during an outage would be worse than a few rows too many.
    if not cache.add(key, 1, DENIAL_FLOOD_SECONDS) and cache.get(key) is not None:
        return None
    with transaction.atomic():
        return audit_record(
            action="auth.denied",
            actor=actor,
            request=request,
            summary=getattr(request, "audit_denial_reason", ""),
            changes={"method": request.method, "path": request.path[:300], "status": status},
            outcome="denied",
        )


# --- files handed out (reliability.md L1: download, export; P6) ---------------------------------

EXPORT_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-excel",
    "text/csv",
}


def audit_delivery(*, request, response, filename: str) -> AuditEvent:
    """One "export" or "download" row for a file the response hands to a signed-in user.

    The object is what the view put on `response.audit_object`, else the route and its `pk`; an export
    made by portal.exports also carries its title and row count. Nothing of the file's content is kept.
    """
    export = getattr(response, "audit_export", None)
    content_type = response.get("Content-Type", "").split(";")[0].strip()
    obj = getattr(response, "audit_object", None)
    match = getattr(request, "resolver_match", None)
    route = match.view_name if match is not None else ""
    pk = match.kwargs.get("pk") if match is not None else None
    with transaction.atomic():
        return audit_record(
            action="export" if export is not None or content_type in EXPORT_TYPES else "download",
            actor=request.user,
            request=request,
            obj=obj,
            # No model instance at hand: the route says what kind of thing the pk is.
            object_ref=(route, str(pk)) if obj is None and pk is not None else None,
            summary=filename,
            changes={"filename": filename, "content_type": content_type, "route": route, **(export or {})},
        )


# --- retention (reliability.md L6) -----------------------------------------------------------------

# 网络安全法 §21: network logs are kept for at least six months. settings.py refuses a shorter
# AUDIT_RETENTION_DAYS at startup; the purge checks again, since a test or a shell can override it.
MIN_RETENTION_DAYS = 183


def check_retention(days: int) -> int:
    if days < MIN_RETENTION_DAYS:
        raise ImproperlyConfigured(
            f"AUDIT_RETENTION_DAYS is {days}: audit events must be kept at least {MIN_RETENTION_DAYS} days "
            "(网络安全法 §21: six months)."
        )
    return days


def audit_purgeable(*, now=None):
    """The events older than the retention: the only rows the purge may remove."""
    days = check_retention(settings.AUDIT_RETENTION_DAYS)
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return AuditEvent.objects.filter(occurred_at__lt=cutoff), cutoff, days


def audit_purge(*, dry_run: bool = False, batch_size: int = 1000, now=None) -> int:
    """Remove the events older than AUDIT_RETENTION_DAYS, `batch_size` at a time (short transactions,
    no long lock on the table), then write one event saying how many went. Returns that number.

    Deletes go around the ORM's append-only guard by raw SQL, and past PostgreSQL's trigger by the
    transaction-local setting srdi.audit_purge, which only this function turns on and turns off again
    before its transaction ends (migration 0003). The trigger still refuses any row younger than 180
    days, whatever the setting says.
    """
    old, cutoff, days = audit_purgeable(now=now)
    if dry_run:
        return old.count()
    postgres = connection.vendor == "postgresql"
    removed, through_id = 0, 0
    while True:
        with transaction.atomic():
            ids = list(old.order_by("id").values_list("id", flat=True)[:batch_size])
            if not ids:
                break
            with connection.cursor() as cur:
                if postgres:
                    cur.execute("SELECT set_config('srdi.audit_purge', 'on', true)")
                try:
                    # The batch is exactly the old rows between its first and last id.
                    cur.execute(
                        "DELETE FROM portal_auditevent WHERE id BETWEEN %s AND %s AND occurred_at < %s",
                        [ids[0], ids[-1], cutoff],
                    )
                    deleted = cur.rowcount
                finally:
                    if postgres:
                        # Off again at once: a caller's enclosing transaction must not inherit it.
                        cur.execute("SELECT set_config('srdi.audit_purge', 'off', true)")
            if not deleted:
                break  # someone else's purge took them: nothing left to do here
            removed += deleted
            through_id = max(through_id, ids[-1])
    with transaction.atomic():
        audit_record(
            action="audit.purged",
            actor_label="purge_audit",
            summary=f"{removed} audit events older than {days} days removed",
            # through_id: the chain's verification accepts a missing predecessor up to this id.
            changes={
                "removed": removed,
                "retention_days": days,
                "older_than": cutoff.isoformat(),
                "through_id": through_id or None,
            },
        )
    log.info("audit purge: %d events older than %s removed", removed, cutoff.isoformat())
    return removed
