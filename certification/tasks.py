"""Background screening. Tasks take ids and call one service; they are idempotent by facts hash and version."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.db import DatabaseError

from certification import services
from certification.models import ScreeningBatch
from enterprises.scanning import ScannerUnavailable
from enterprises.tasks import SCAN_BACKOFF_FACTOR, SCAN_BACKOFF_MAX, SCAN_MAX_RETRIES

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def screen_enterprise(self, enterprise_id: int) -> int:
    """After an enterprise's facts changed: screen it against the programmes open to it."""
    return services.enterprise_screen_background(enterprise_id=enterprise_id)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=600,
    max_retries=5,
)
def run_screening_batch(self, batch_id: int) -> dict:
    try:
        batch = services.screening_batch_run(batch_id=batch_id)
    except DatabaseError:
        raise
    except Exception as exc:
        ScreeningBatch.objects.filter(pk=batch_id).update(
            status=ScreeningBatch.Status.FAILED, error=str(exc)[:2000]
        )
        raise
    return {"done": batch.done, "counts": batch.counts}


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def send_deadline_reminders(day: str | None = None) -> int:
    """Daily: reminders of review deadlines. Idempotent per (stage, region, day)."""
    from datetime import date

    from certification import workflow

    return workflow.deadline_reminders_send(day=date.fromisoformat(day) if day else None)


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def generate_certificate(certification_id: int) -> bool:
    """Render one certificate PDF (idempotent: a certificate already rendered is kept)."""
    from certification import certificates

    return certificates.certificate_generate(certification_id=certification_id)


@shared_task(acks_late=True, autoretry_for=(DatabaseError,), retry_backoff=True, max_retries=5)
def render_published_list(published_id: int) -> bool:
    """Render a published list's PDF once and record its SHA-256."""
    from certification import certificates

    return certificates.published_list_render(published_id=published_id)


# --- objection evidence: malware scan (the same policy as enterprises.tasks.scan_document) -------------


@shared_task(bind=True, max_retries=SCAN_MAX_RETRIES, acks_late=True, soft_time_limit=240, time_limit=300)
def scan_objection_evidence(self, evidence_id: int) -> str | None:
    """Scan one evidence file of an objection; retried with backoff while the scanner is unreachable."""
    from certification import publication

    try:
        return publication.objection_evidence_scan(evidence_id=evidence_id)
    except ScannerUnavailable as exc:
        if self.request.retries >= self.max_retries:
            log.error(
                "objection evidence %s: scanner unavailable after %d retries: %s",
                evidence_id,
                self.max_retries,
                exc,
            )
            return publication.objection_evidence_scan_failed(
                evidence_id=evidence_id, detail=f"scanner unavailable: {exc}"
            )
        countdown = get_exponential_backoff_interval(
            factor=SCAN_BACKOFF_FACTOR,
            retries=self.request.retries,
            maximum=SCAN_BACKOFF_MAX,
            full_jitter=True,
        )
        log.warning(
            "objection evidence %s: scanner unavailable (%s); retry in %d s", evidence_id, exc, countdown
        )
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task
def rescan_stale_objection_evidence() -> int:
    """Re-enqueue the scans of evidence files left PENDING by a lost task. Hourly, from the beat schedule."""
    from certification import publication

    ids = publication.objection_evidence_stale_pending()
    for evidence_id in ids:
        scan_objection_evidence.delay(evidence_id)
    if ids:
        log.warning("re-enqueued the malware scan of %d objection evidence files left pending", len(ids))
    return len(ids)


from certification.tasks_lifecycle import run_daily  # noqa: E402, F401
