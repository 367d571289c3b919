"""How funding hears of certifications without certification importing funding (design.md: funding →
certification, never back): a post_save receiver on Certification and a revocation hook, connected in
FundingConfig.ready().

The receiver holds no business logic: it schedules `entitlements_create_for` for after the publication's
commit, so a failure in funding can never undo a publication, and the entitlements never refer to a
certification that was rolled back. The service is idempotent and the daily sweep
(`entitlements_sweep`) creates whatever a crash between commit and callback left out.
"""

from __future__ import annotations

from portal.on_commit import on_commit_robust


def certification_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if raw or not created:
        return
    on_commit_robust(_entitlements_after_commit, instance.pk)


def _entitlements_after_commit(certification_id: int) -> None:
    from certification.models import Certification
    from funding.services import entitlements_create_for

    certification = Certification.objects.filter(pk=certification_id).first()
    if certification is None:
        return
    # Scheduled robust=True: an error is logged by Django and does not reach the publisher, whose
    # transaction is committed; the daily sweep retries.
    entitlements_create_for(certification=certification)
