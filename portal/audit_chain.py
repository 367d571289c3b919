"""The audit log's hash chain: tamper evidence, not tamper proof (reliability.md L5).

Every row gets `row_hash`, an HMAC-SHA256 (keyed by SECRET_KEY) of its content and of the hash of the
row written before it (`prev_id`, `prev_hash`). Someone who edits a row in the database without the
key cannot make its hash match again; deleting a row leaves its successor pointing at a row that is
gone. `manage.py verify_audit` recomputes both.

Two transactions writing at the same moment may both link to the same predecessor: the chain forks
instead of serialising every audited transaction on one lock (which would also risk deadlocks with the
row locks the services hold). A fork is valid; its cost is that the deletion of a row nobody links to
(the newest row, or one side of a fork) goes unnoticed. A superuser who holds the key, or the database
owner who drops the trigger, can still rewrite history: the backups and their checksums (L7) cover that.
"""

from __future__ import annotations

import ipaddress
import json
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

SALT = "portal.audit_chain"
# Rows whose predecessor is looked up from memory before asking the database.
_WINDOW = 4096


def _canonical(event) -> str:
    ip = event.ip_address
    if ip:
        # PostgreSQL's inet hands back its own spelling of an address; hash one spelling.
        ip = ipaddress.ip_address(str(ip)).compressed
    occurred = event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(
        [
            occurred,
            event.actor_id,
            event.actor_label,
            event.tenant_id,
            event.action,
            event.object_type,
            event.object_id,
            event.summary,
            event.changes or {},
            ip or None,
            event.outcome,
            event.actor_roles,
            event.request_id,
            event.prev_id,
            event.prev_hash,
        ],
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )


def compute(event, secret: str | None = None) -> str:
    return salted_hmac(SALT, _canonical(event), secret=secret, algorithm="sha256").hexdigest()


def link(event) -> None:
    """Set prev_id, prev_hash and row_hash of an event about to be inserted."""
    from portal.models import AuditEvent

    last = AuditEvent.objects.order_by("-id").values_list("id", "row_hash").first()
    event.prev_id, event.prev_hash = last if last else (None, "")
    event.row_hash = compute(event)


def _matches(event) -> bool:
    # A rotated SECRET_KEY stays in SECRET_KEY_FALLBACKS for as long as old rows must verify.
    for secret in [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]:
        if constant_time_compare(compute(event, secret=secret), event.row_hash):
            return True
    return False


@dataclass(frozen=True)
class Problem:
    event_id: int
    message: str

    def __str__(self) -> str:
        return f"#{self.event_id}: {self.message}"


def verify(*, chunk_size: int = 2000) -> Iterator[Problem]:
    """Every row whose content no longer matches its hash, or whose predecessor was edited or deleted.

    Rows written before the chain existed (no hash, lower ids than the first hashed row) are skipped. A
    missing predecessor is expected only when the retention purge removed it: the purge's own audit row
    records the highest id it removed (`through_id`).
    """
    from portal.models import AuditEvent

    purged_through = 0
    for changes in AuditEvent.objects.filter(action="audit.purged").values_list("changes", flat=True):
        purged_through = max(purged_through, int((changes or {}).get("through_id") or 0))

    recent: OrderedDict[int, str] = OrderedDict()
    chained = False
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=chunk_size):
        if not event.row_hash:
            if chained:
                yield Problem(event.pk, "has no hash (written around the chain, or its hash was removed)")
            continue
        if not _matches(event):
            yield Problem(event.pk, "its content does not match its hash: the row was changed")
        if event.prev_id is None:
            if chained:
                yield Problem(event.pk, "starts a new chain although earlier rows exist")
        else:
            prev_hash = recent.get(event.prev_id)
            if prev_hash is None:
                prev_hash = (
                    AuditEvent.objects.filter(pk=event.prev_id).values_list("row_hash", flat=True).first()
                )
            if prev_hash is None:
                if event.prev_id > purged_through:
                    yield Problem(event.pk, f"the row before it (#{event.prev_id}) has been deleted")
            elif not constant_time_compare(prev_hash, event.prev_hash):
                yield Problem(event.pk, f"the row before it (#{event.prev_id}) was changed")
        chained = True
        recent[event.pk] = event.row_hash
        if len(recent) > _WINDOW:
            recent.popitem(last=False)
