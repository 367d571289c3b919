"""Evidence files attached to a case (objection evidence, revocation evidence): malware scan, rescan and
download, with one implementation for every kind of case.

The rules are those of enterprise documents (enterprises.documents, reliability.md F6): a file is PENDING
until the scanner answers; only CLEAN files are served; an infected file is deleted from storage at once,
its signature and SHA-256 kept on the row and in the audit log. The verdict is written by a claim-by-update
on PENDING, so of two runs (a redelivered task, the hourly rescan racing the first task) only one records
and audits it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.workflow import WorkflowRefused
from enterprises.documents import RESCAN_AFTER, _local_path
from enterprises.models import Document
from enterprises.scanning import ScanError, Scanner, ScannerUnavailable, get_scanner
from portal.audit import audit_record
from portal.models import Tenant, User
from portal.on_commit import on_commit_robust

log = logging.getLogger(__name__)

Scan = Document.Scan


@dataclass(frozen=True)
class EvidenceKind:
    """What differs between kinds of evidence: the model, how a row is loaded and named, its tenant, the
    audit action prefix, the field dating the case (for the stale rescan) and the scan task."""

    model: type[models.Model]
    related: tuple[str, ...]  # select_related when loading a row
    tenant_of: Callable[[models.Model], Tenant]
    label_of: Callable[[models.Model], str]
    action: str  # audit actions are f"{action}.evidence_scanned" …
    filed_at: str  # the lookup of the case's date, e.g. "objection__filed_at"
    enqueue: Callable[[int], None]


def _loaded(kind: EvidenceKind, evidence_id: int):
    return kind.model.objects.select_related(*kind.related).filter(pk=evidence_id).first()


def _status(kind: EvidenceKind, evidence_id: int) -> str | None:
    return kind.model.objects.filter(pk=evidence_id).values_list("scan_status", flat=True).first()


def purge(kind: EvidenceKind, evidence_id: int) -> None:
    """Delete an infected file from storage and forget its name. Safe to repeat."""
    evidence = kind.model.objects.filter(pk=evidence_id, scan_status=Scan.INFECTED).first()
    if evidence is None or not evidence.file.name:
        return
    evidence.file.storage.delete(evidence.file.name)
    kind.model.objects.filter(pk=evidence_id).update(file="")


def scan(kind: EvidenceKind, *, evidence_id: int, scanner: Scanner | None = None) -> str | None:
    """Scan a PENDING evidence file and record the verdict; returns its scan status.

    Raises ScannerUnavailable, leaving the row PENDING, when the scanner cannot be reached: the task
    retries with backoff and gives up through `scan_failed`.
    """
    evidence = _loaded(kind, evidence_id)
    if evidence is None:
        return None
    if evidence.scan_status == Scan.INFECTED:
        purge(kind, evidence.pk)  # completes a purge that a crash interrupted
    if evidence.scan_status != Scan.PENDING:
        return evidence.scan_status
    scanner = scanner or get_scanner()
    # The scan runs outside any transaction: it may take seconds, and holds no lock meanwhile.
    try:
        with _local_path(evidence.file) as path:
            result = scanner.scan(path)
    except (FileNotFoundError, ValueError):  # ValueError: the row names no file
        return _failed(kind, evidence, detail="the stored file is missing")
    except ScannerUnavailable:
        raise
    except ScanError as exc:
        return _failed(kind, evidence, detail=str(exc))

    label = f"{kind.label_of(evidence)} · {evidence.original_name}"
    pending = kind.model.objects.filter(pk=evidence.pk, scan_status=Scan.PENDING)
    with transaction.atomic():
        if result.clean:
            if not pending.update(scan_status=Scan.CLEAN, scan_detail="", scanned_at=timezone.now()):
                return _status(kind, evidence.pk)
            audit_record(
                action=f"{kind.action}.evidence_scanned",
                tenant=kind.tenant_of(evidence),
                obj=evidence,
                actor_label="scanner",
                summary=f"clean: {label} sha256 {evidence.sha256}",
            )
            return Scan.CLEAN
        signature = (result.signature or "unknown")[:200]
        if not pending.update(scan_status=Scan.INFECTED, scan_detail=signature, scanned_at=timezone.now()):
            return _status(kind, evidence.pk)
        log.warning("%s evidence %s quarantined: %s", kind.action, evidence.pk, signature)
        audit_record(
            action=f"{kind.action}.evidence_quarantined",
            tenant=kind.tenant_of(evidence),
            obj=evidence,
            actor_label="scanner",
            summary=f"{signature}: {label} sha256 {evidence.sha256}",
            outcome="failure",
        )
    # After the verdict is committed: a crash between the two leaves an INFECTED row whose file is
    # never served (downloads need CLEAN) and is purged when the evidence is scanned again.
    purge(kind, evidence.pk)
    return Scan.INFECTED


def _failed(kind: EvidenceKind, evidence, *, detail: str) -> str | None:
    with transaction.atomic():
        claimed = kind.model.objects.filter(pk=evidence.pk, scan_status=Scan.PENDING).update(
            scan_status=Scan.FAILED, scan_detail=detail[:200], scanned_at=timezone.now()
        )
        if not claimed:
            return _status(kind, evidence.pk)
        log.error("scan of %s evidence %s failed: %s", kind.action, evidence.pk, detail)
        audit_record(
            action=f"{kind.action}.evidence_scan_failed",
            tenant=kind.tenant_of(evidence),
            obj=evidence,
            actor_label="scanner",
            summary=f"{detail}: {kind.label_of(evidence)} · {evidence.original_name}",
            outcome="failure",
        )
    return Scan.FAILED


def scan_failed(kind: EvidenceKind, *, evidence_id: int, detail: str) -> str | None:
    """Give up on a PENDING file after the scanner stayed unavailable through every retry."""
    evidence = _loaded(kind, evidence_id)
    if evidence is None:
        return None
    return _failed(kind, evidence, detail=detail)


def stale_pending(
    kind: EvidenceKind, *, older_than: timedelta = RESCAN_AFTER, limit: int = 1000
) -> list[int]:
    """Evidence still PENDING long after its case was filed: its scan task was lost with a broker or a
    worker. `older_than` exceeds the scan task's whole retry window; enqueueing a file twice is harmless."""
    cutoff = timezone.now() - older_than
    return list(
        kind.model.objects.filter(scan_status=Scan.PENDING, **{f"{kind.filed_at}__lt": cutoff})
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


def rescan(kind: EvidenceKind, *, evidence, by: User, request=None):
    """Send a file whose scan FAILED (the scanner was down too long) to the scanner again. The caller has
    checked that `by` may; this claims the row and audits it."""
    claimed = kind.model.objects.filter(pk=evidence.pk, scan_status=Scan.FAILED).update(
        scan_status=Scan.PENDING, scan_detail="", scanned_at=None
    )
    if not claimed:
        raise WorkflowRefused(_("Only a file whose malware scan failed is scanned again."), code="not_failed")
    audit_record(
        action=f"{kind.action}.evidence_rescan",
        actor=by,
        tenant=kind.tenant_of(evidence),
        obj=evidence,
        summary=f"{kind.label_of(evidence)} · {evidence.original_name}",
        request=request,
    )
    on_commit_robust(kind.enqueue, evidence.pk)


def refusal(evidence, *, when_failed: str) -> str | None:
    """Why the file cannot be opened now, or None when it may be (it passed the malware scan).
    `when_failed` says what to do about a scan that did not complete (it differs by kind of case)."""
    name = evidence.original_name
    if evidence.scan_status == Scan.CLEAN:
        return None
    if evidence.scan_status == Scan.PENDING:
        return _("%(name)s is still being checked for malware. Try again in a few minutes.") % {"name": name}
    if evidence.scan_status == Scan.INFECTED:
        return _(
            "%(name)s was quarantined: the malware scan found %(signature)s. The file has been deleted "
            "and can never be opened; its SHA-256 is kept in the audit log."
        ) % {"name": name, "signature": evidence.scan_detail or "malware"}
    return when_failed


def downloaded(kind: EvidenceKind, *, evidence, by: User, request=None) -> None:
    audit_record(
        action=f"{kind.action}.evidence_downloaded",
        actor=by,
        tenant=kind.tenant_of(evidence),
        obj=evidence,
        summary=f"{kind.label_of(evidence)} · {evidence.original_name} sha256 {evidence.sha256}",
        request=request,
    )
