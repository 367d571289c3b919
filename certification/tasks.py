"""Background screening. Tasks take ids and call one service; they are idempotent by facts hash and version."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from certification import services
from certification.models import ScreeningBatch


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
