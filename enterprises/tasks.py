"""Background work of the enterprises app. Tasks take ids, load, and call one service."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from enterprises import documents
from enterprises.scanning import ScannerUnavailable

log = logging.getLogger(__name__)

# 30 s, 60 s, 2 min, … capped at 10 min: about 45 minutes of clamd outage before a document is FAILED.
# The longest delay stays far below the broker's visibility_timeout (3600 s), so Redis never redelivers
# a retry that is still waiting (reliability.md §8).
SCAN_MAX_RETRIES = 8
SCAN_BACKOFF_FACTOR = 30
SCAN_BACKOFF_MAX = 600


# acks_late: the scan is idempotent (documents.document_scan claims the PENDING row), so a task lost
# with its worker is better run twice than not at all.
@shared_task(bind=True, max_retries=SCAN_MAX_RETRIES, acks_late=True, soft_time_limit=240, time_limit=300)
def scan_document(self, document_id: int) -> str | None:
    try:
        return documents.document_scan(document_id=document_id)
    except ScannerUnavailable as exc:
        if self.request.retries >= self.max_retries:
            log.error(
                "document %s: scanner unavailable after %d retries: %s", document_id, self.max_retries, exc
            )
            return documents.document_scan_failed(
                document_id=document_id, detail=f"scanner unavailable: {exc}"
            )
        countdown = get_exponential_backoff_interval(
            factor=SCAN_BACKOFF_FACTOR,
            retries=self.request.retries,
            maximum=SCAN_BACKOFF_MAX,
            full_jitter=True,
        )
        log.warning("document %s: scanner unavailable (%s); retry in %d s", document_id, exc, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task
def rescan_stale_documents() -> int:
    """Re-enqueue the scans of documents left PENDING by a lost task. Hourly, from the beat schedule."""
    ids = documents.documents_stale_pending()
    for document_id in ids:
        scan_document.delay(document_id)
    if ids:
        log.warning("re-enqueued the malware scan of %d documents left pending", len(ids))
    return len(ids)


@shared_task(acks_late=True)
def refresh_facts() -> int:
    """Daily (beat "daily-refresh-enterprise-facts"): recompute every enterprise's stored facts and size class,
    since "the last complete fiscal year" moves on 1 January. Idempotent: only changed rows are written."""
    from django.db import transaction

    from enterprises.models import Enterprise
    from enterprises.services import enterprise_refresh_facts

    changed = 0
    qs = Enterprise.objects.select_related("industry").prefetch_related(
        "figures", "ip_items", "qualifications"
    )
    for enterprise in qs.order_by("pk").iterator(chunk_size=200):
        with transaction.atomic():
            changed += enterprise_refresh_facts(enterprise=enterprise)
    return changed
