"""The evidence files of revocations: malware scan, rescan and download (certification.lifecycle stores them).

The same rules as enterprise documents and objection evidence (enterprises.documents, publication.py,
reliability.md F6): a file is PENDING until the scanner answers; only CLEAN files are served; an
infected file is deleted from storage at once, its signature and SHA-256 kept on the row and in the
audit log. The verdict is written by a claim-by-update on PENDING, so of two runs (a redelivered task,
the hourly rescan racing the first task) only one records and audits it.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils.translation import gettext as _

from certification import evidence_scan
from certification.models import RevocationEvidence
from certification.workflow import WorkflowRefused
from enterprises.documents import RESCAN_AFTER
from enterprises.scanning import Scanner
from portal.models import User


def _enqueue_scan(evidence_id: int) -> None:
    from certification.tasks_lifecycle import scan_revocation_evidence

    scan_revocation_evidence.delay(evidence_id)


KIND = evidence_scan.EvidenceKind(
    model=RevocationEvidence,
    related=("revocation__certification", "revocation__tenant"),
    tenant_of=lambda e: e.revocation.tenant,
    label_of=lambda e: e.revocation.certification.number,
    action="revocation",
    filed_at="revocation__created_at",
    enqueue=_enqueue_scan,
)


def revocation_evidence_scan(*, evidence_id: int, scanner: Scanner | None = None) -> str | None:
    """Scan a PENDING evidence file and record the verdict (evidence_scan.scan)."""
    return evidence_scan.scan(KIND, evidence_id=evidence_id, scanner=scanner)


def revocation_evidence_scan_failed(*, evidence_id: int, detail: str) -> str | None:
    """Give up on a PENDING file after the scanner stayed unavailable through every retry."""
    return evidence_scan.scan_failed(KIND, evidence_id=evidence_id, detail=detail)


def revocation_evidence_stale_pending(
    *, older_than: timedelta = RESCAN_AFTER, limit: int = 1000
) -> list[int]:
    """Evidence still PENDING long after the revocation: its scan task was lost."""
    return evidence_scan.stale_pending(KIND, older_than=older_than, limit=limit)


def revocation_evidence_rescan(*, evidence: RevocationEvidence, by: User, request=None) -> RevocationEvidence:
    """Provincial staff send a file whose scan FAILED (the scanner was down too long) to the scanner again."""
    from certification.lifecycle import can_revoke

    with transaction.atomic():
        if not can_revoke(by, evidence.revocation.certification):
            raise WorkflowRefused(_("Only provincial staff can have evidence scanned again."), status=403)
        evidence_scan.rescan(KIND, evidence=evidence, by=by, request=request)
    evidence.refresh_from_db()
    return evidence


def revocation_evidence_refusal(evidence: RevocationEvidence) -> str | None:
    """Why the file cannot be opened now, or None when it may be (it passed the malware scan)."""
    return evidence_scan.refusal(
        evidence,
        when_failed=_(
            "The malware scan of %(name)s did not complete, so the file cannot be opened. Have it scanned "
            "again; if it fails again, attach another copy to the case file."
        )
        % {"name": evidence.original_name},
    )


def revocation_evidence_downloaded(*, evidence: RevocationEvidence, by: User, request=None) -> None:
    evidence_scan.downloaded(KIND, evidence=evidence, by=by, request=request)
