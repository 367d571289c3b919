"""Celery tasks of dynamic management (imported by certification/tasks.py, so that autodiscovery finds them)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval

from enterprises.scanning import ScannerUnavailable
from enterprises.tasks import SCAN_BACKOFF_FACTOR, SCAN_BACKOFF_MAX, SCAN_MAX_RETRIES

log = logging.getLogger(__name__)


@shared_task(acks_late=True)
def run_daily(day: str | None = None) -> dict | None:
    """The daily dynamic-management job (beat "daily-lifecycle"): reminders, expiry, monitoring.
    Idempotent per day: lifecycle.run_daily's DailyRun row keeps a second beat from doubling it."""
    from datetime import date

    from certification import lifecycle

    run = lifecycle.run_daily(day=date.fromisoformat(day) if day else None)
    return run.stats if run is not None else None


# --- revocation evidence: malware scan (the same policy as enterprises.tasks.scan_document) ------------


@shared_task(bind=True, max_retries=SCAN_MAX_RETRIES, acks_late=True, soft_time_limit=240, time_limit=300)
def scan_revocation_evidence(self, evidence_id: int) -> str | None:
    """Scan one evidence file of a revocation; retried with backoff while the scanner is unreachable."""
    from certification import lifecycle_evidence

    try:
        return lifecycle_evidence.revocation_evidence_scan(evidence_id=evidence_id)
    except ScannerUnavailable as exc:
        if self.request.retries >= self.max_retries:
            log.error(
                "revocation evidence %s: scanner unavailable after %d retries: %s",
                evidence_id,
                self.max_retries,
                exc,
            )
            return lifecycle_evidence.revocation_evidence_scan_failed(
                evidence_id=evidence_id, detail=f"scanner unavailable: {exc}"
            )
        countdown = get_exponential_backoff_interval(
            factor=SCAN_BACKOFF_FACTOR,
            retries=self.request.retries,
            maximum=SCAN_BACKOFF_MAX,
            full_jitter=True,
        )
        log.warning(
            "revocation evidence %s: scanner unavailable (%s); retry in %d s", evidence_id, exc, countdown
        )
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task
def rescan_stale_revocation_evidence() -> int:
    """Re-enqueue the scans of revocation evidence left PENDING by a lost task (hourly, beat schedule)."""
    from certification import lifecycle_evidence

    ids = lifecycle_evidence.revocation_evidence_stale_pending()
    for evidence_id in ids:
        scan_revocation_evidence.delay(evidence_id)
    if ids:
        log.warning("re-enqueued the malware scan of %d revocation evidence files left pending", len(ids))
    return len(ids)
