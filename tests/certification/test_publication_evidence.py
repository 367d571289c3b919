"""Evidence files of objections: the malware scan after filing, and the staff download (publication,
views_publication).

The same rules as enterprise documents (tests/enterprises/test_documents.py): a file is PENDING until
the scanner answers, only a CLEAN file is served, an infected one is deleted at once.
"""

# ruff: noqa: F811 - the fixtures imported from test_publication_pages are used as test arguments
from __future__ import annotations

import os
from datetime import timedelta
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from certification import demo, evidence_scan, publication
from certification.models import Objection, ObjectionEvidence
from certification.tasks import (
    rescan_stale_objection_evidence,
    scan_objection_evidence,
)
from enterprises.documents import PDF
from enterprises.models import Document
from enterprises.scanning import EICAR, ScannerUnavailable, ScanResult
from enterprises.tasks import SCAN_MAX_RETRIES
from portal.models import AuditEvent
from tests.certification.test_publication_pages import (  # noqa: F401 - fixtures
    DURING,
    approved,
    aware,
    client,
    notice,
    url,
)
from tests.certification.workflow_fixtures import chain_fixture  # noqa: F401 - the `chain` fixture
from tests.enterprises.conftest import xz_enterprise  # noqa: F401

Scan = Document.Scan
PDF_BYTES = b"%PDF-1.4\n% evidence\n%%EOF\n"
# The EICAR test string inside an otherwise ordinary PDF: the form accepts the PDF, the scanner finds EICAR.
EICAR_PDF = b"%PDF-1.4\n1 0 obj<</Length 68>>stream\n" + EICAR + b"\nendstream endobj\n%%EOF\n"
NAME = "行业协会统计摘录.pdf"


def file_with_evidence(notice, *files: tuple[str, bytes]) -> Objection:
    """An objection with evidence, through the service; the scan is queued on commit (not run here)."""
    return publication.objection_file(
        notice=notice,
        entry_id=notice.entries.get().pk,
        filer_name="王五",
        filer_phone="13812345678",
        grounds="该企业近三年研发投入数据与实际不符。",
        evidence=[
            (SimpleUploadedFile(name, content, PDF.content_type), name, PDF) for name, content in files
        ],
        at=aware(DURING),
    )


def stored_evidence(media) -> list[str]:
    return [f for _root, _dirs, files in os.walk(media / "objections") for f in files]


@pytest.fixture
def pending(notice, media):
    """One evidence file, filed and not yet scanned (its task was queued and not run)."""
    return file_with_evidence(notice, (NAME, PDF_BYTES)).evidence.get()


@pytest.fixture
def clean(pending):
    assert publication.objection_evidence_scan(evidence_id=pending.pk) == Scan.CLEAN
    pending.refresh_from_db()
    return pending


class DownScanner:
    calls = 0

    def scan(self, path: str) -> ScanResult:
        DownScanner.calls += 1
        raise ScannerUnavailable("connection refused")


# --- the scan -------------------------------------------------------------------------------------


def test_evidence_is_pending_until_the_scan_queued_on_commit_runs(
    notice, media, django_capture_on_commit_callbacks
):
    # when an objection with two files is filed
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        objection = file_with_evidence(notice, (NAME, PDF_BYTES), ("审计报告节选.pdf", PDF_BYTES))
    # then both are stored PENDING, and one scan per file waits for the commit
    assert set(objection.evidence.values_list("scan_status", flat=True)) == {Scan.PENDING}
    scans = [c for c in callbacks if getattr(c, "func", None) is publication._enqueue_evidence_scan]
    assert len(scans) == 2
    for scan in scans:
        scan()
    assert set(objection.evidence.values_list("scan_status", flat=True)) == {Scan.CLEAN}
    assert AuditEvent.objects.filter(action="objection.evidence_scanned", actor_label="scanner").count() == 2
    assert all(e.scanned_at for e in objection.evidence.all())


def test_an_infected_file_is_quarantined_and_deleted_from_storage(
    notice, media, django_capture_on_commit_callbacks
):
    # given an objection whose evidence carries the EICAR test string
    with django_capture_on_commit_callbacks(execute=True):
        objection = file_with_evidence(notice, ("恶意.pdf", EICAR_PDF))
    evidence = objection.evidence.get()
    # then the scan ran after the commit and quarantined it
    # the EICAR-only scanner says "Eicar-Test-Signature"; CI's clamd, its local signature "…-SRDI.UNOFFICIAL"
    assert evidence.scan_status == Scan.INFECTED and evidence.scan_detail.startswith("Eicar-Test-Signature")
    assert evidence.file.name == ""
    assert not stored_evidence(media)  # nothing left on disk
    event = AuditEvent.objects.get(action="objection.evidence_quarantined")
    assert event.outcome == "failure" and evidence.sha256 in event.summary


def test_scanning_twice_has_one_effect(pending):
    first = scan_objection_evidence.apply(args=[pending.pk]).get()
    second = scan_objection_evidence.apply(args=[pending.pk]).get()
    assert first == second == Scan.CLEAN
    assert AuditEvent.objects.filter(action="objection.evidence_scanned").count() == 1


def test_an_unavailable_scanner_leaves_the_file_pending(pending):
    with pytest.raises(ScannerUnavailable):
        publication.objection_evidence_scan(evidence_id=pending.pk, scanner=DownScanner())
    pending.refresh_from_db()
    assert pending.scan_status == Scan.PENDING


def test_the_scan_is_retried_then_fails_when_the_scanner_stays_down(pending, monkeypatch):
    monkeypatch.setattr(evidence_scan, "get_scanner", DownScanner)
    # Eager retries run at once; propagating the Retry (the test settings) would stop after the first.
    monkeypatch.setitem(scan_objection_evidence.app.conf, "task_eager_propagates", False)
    DownScanner.calls = 0
    result = scan_objection_evidence.apply(args=[pending.pk])
    assert DownScanner.calls == SCAN_MAX_RETRIES + 1
    assert result.get() == Scan.FAILED
    pending.refresh_from_db()
    assert pending.scan_status == Scan.FAILED and "unavailable" in pending.scan_detail
    assert AuditEvent.objects.filter(action="objection.evidence_scan_failed", outcome="failure").count() == 1


def test_files_left_pending_by_a_lost_task_are_scanned_again_by_the_hourly_job(notice, media):
    # given two objections whose scan tasks never ran, one filed three hours ago
    old = file_with_evidence(notice, ("old.pdf", PDF_BYTES))
    recent = file_with_evidence(notice, ("recent.pdf", PDF_BYTES))
    Objection.objects.filter(pk=old.pk).update(filed_at=timezone.now() - timedelta(hours=3))
    Objection.objects.filter(pk=recent.pk).update(filed_at=timezone.now() - timedelta(minutes=5))
    # when
    assert rescan_stale_objection_evidence.apply().get() == 1
    # then only the old one was scanned
    assert old.evidence.get().scan_status == Scan.CLEAN
    assert recent.evidence.get().scan_status == Scan.PENDING


def test_the_hourly_rescan_is_on_the_beat_schedule():
    from portal.celery import app

    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert rescan_stale_objection_evidence.name in tasks


def test_a_filing_that_fails_leaves_no_file_behind(notice, media, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("inbox down")

    monkeypatch.setattr(publication, "notification_send", broken)
    with pytest.raises(RuntimeError):
        file_with_evidence(notice, (NAME, PDF_BYTES))
    assert not Objection.objects.exists() and not ObjectionEvidence.objects.exists()
    assert (media / "objections").is_dir()  # the file was written before the failure…
    assert not stored_evidence(media)  # …and is gone with the rows


def test_the_demo_seed_files_evidence_that_is_already_scanned(notice, media):
    # seed_publication files its objections through demo._objection, inside the seed's transaction
    objection = demo._objection(
        notice, notice.entries.get(), 0, at=aware(DURING), evidence=demo.EVIDENCE_FILES
    )
    assert objection.evidence.count() == len(demo.EVIDENCE_FILES)
    assert set(objection.evidence.values_list("scan_status", flat=True)) == {Scan.CLEAN}


# --- the staff page and the download ------------------------------------------------------------------


def manage(client, evidence) -> str:
    return client.get(url("notice_manage", pk=evidence.objection.notice_id)).content.decode()


def test_the_staff_page_shows_each_files_scan_status(client, pending, province_approver):
    client.force_login(province_approver)
    html = manage(client, pending)
    assert f'data-testid="evidence-scan-{pending.pk}"' in html and "being scanned" in html
    assert f'data-testid="evidence-link-{pending.pk}"' not in html  # not a link until clean
    publication.objection_evidence_scan(evidence_id=pending.pk)
    html = manage(client, pending)
    assert f'data-testid="evidence-link-{pending.pk}"' in html
    assert url("objection_evidence_download", pk=pending.pk) in html


def test_staff_download_a_clean_file_as_an_attachment(client, clean, province_approver):
    client.force_login(province_approver)
    response = client.get(url("objection_evidence_download", pk=clean.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    reference = clean.objection.reference
    assert response["Content-Disposition"] == (
        f"attachment; filename=\"evidence-{reference}-{clean.pk}.pdf\"; filename*=UTF-8''{quote(NAME)}"
    )
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    event = AuditEvent.objects.get(action="objection.evidence_downloaded")
    assert event.actor == province_approver and NAME in event.summary


def test_a_hostile_name_cannot_break_out_of_the_header(client, clean, province_approver):
    ObjectionEvidence.objects.filter(pk=clean.pk).update(original_name='证据"; filename="evil.exe')
    client.force_login(province_approver)
    disposition = client.get(url("objection_evidence_download", pk=clean.pk))["Content-Disposition"]
    assert disposition.count('"') == 2  # only the ASCII fallback's own quotes
    assert disposition.startswith(
        f'attachment; filename="evidence-{clean.objection.reference}-{clean.pk}.pdf";'
    )
    assert disposition.endswith("filename*=UTF-8''%E8%AF%81%E6%8D%AE%22%3B%20filename%3D%22evil.exe")


def test_a_file_still_being_scanned_is_refused_with_a_message(client, pending, province_approver):
    client.force_login(province_approver)
    response = client.get(url("objection_evidence_download", pk=pending.pk))
    assert response.status_code == 302
    assert response["Location"].endswith(f"#objection-{pending.objection_id}")
    page = client.get(response["Location"]).content.decode()
    assert f"{NAME} is still being checked for malware. Try again in a few minutes." in page
    assert not AuditEvent.objects.filter(action="objection.evidence_downloaded").exists()


def test_an_infected_file_is_never_served(client, pending, province_approver):
    # given a verdict recorded and the purge not yet done (a crash between the two): the file is on disk
    ObjectionEvidence.objects.filter(pk=pending.pk).update(
        scan_status=Scan.INFECTED, scan_detail="Eicar-Test-Signature"
    )
    client.force_login(province_approver)
    response = client.get(url("objection_evidence_download", pk=pending.pk), follow=True)
    html = response.content.decode()
    assert response.redirect_chain and not hasattr(response, "streaming_content")
    assert "was quarantined: the malware scan found Eicar-Test-Signature" in html
    assert "quarantined: malware found" in html  # the status next to the file
    assert not AuditEvent.objects.filter(action="objection.evidence_downloaded").exists()


def test_a_failed_scan_is_refused_and_staff_scan_the_file_again(
    client, pending, province_approver, django_capture_on_commit_callbacks
):
    ObjectionEvidence.objects.filter(pk=pending.pk).update(scan_status=Scan.FAILED, scan_detail="timeout")
    client.force_login(province_approver)
    page = client.get(url("objection_evidence_download", pk=pending.pk), follow=True).content.decode()
    assert f"The malware scan of {NAME} did not complete" in page
    assert f'data-testid="evidence-rescan-{pending.pk}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("objection_evidence_rescan", pk=pending.pk))
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.scan_status == Scan.CLEAN
    assert AuditEvent.objects.filter(action="objection.evidence_rescan", actor=province_approver).exists()
    assert client.get(url("objection_evidence_download", pk=pending.pk)).status_code == 200


def test_only_a_failed_scan_is_run_again(client, clean, province_approver):
    client.force_login(province_approver)
    page = client.post(url("objection_evidence_rescan", pk=clean.pk), follow=True).content.decode()
    assert "Only a file whose malware scan failed is scanned again." in page
    clean.refresh_from_db()
    assert clean.scan_status == Scan.CLEAN
    assert not AuditEvent.objects.filter(action="objection.evidence_rescan").exists()


def test_a_clean_file_missing_from_storage_is_404(client, clean, province_approver):
    clean.file.storage.delete(clean.file.name)
    client.force_login(province_approver)
    assert client.get(url("objection_evidence_download", pk=clean.pk)).status_code == 404


def test_no_one_but_the_publishers_of_the_tenant_gets_the_file(
    client,
    clean,
    nanming_official,
    guiyang_official,
    owner,
    xz_admin,
    xz_enterprise,  # noqa: F811
):
    download = url("objection_evidence_download", pk=clean.pk)
    rescan = url("objection_evidence_rescan", pk=clean.pk)
    # anonymous: 404, not a sign-in page (a deep link to a file reveals nothing)
    assert client.get(download).status_code == 404
    for user in (nanming_official, guiyang_official, owner, xz_admin):
        client.force_login(user)
        assert client.get(download).status_code == 404, user
        assert client.post(rescan).status_code == 404, user
    # another tenant's address for the same file
    client.force_login(xz_admin)
    assert client.get(url("objection_evidence_download", tenant="xz", pk=clean.pk)).status_code == 404
    assert client.get(url("objection_evidence_download", pk=clean.pk + 1000)).status_code == 404
    assert not AuditEvent.objects.filter(action="objection.evidence_downloaded").exists()
