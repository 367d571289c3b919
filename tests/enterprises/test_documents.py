"""Documents: upload checks (reliability.md F1–F4), malware scan (F6), download rights and headers (F5)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from celery.exceptions import Retry
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import timezone
from stdnum.cn import uscc as stdnum_uscc

from enterprises import documents
from enterprises.documents import document_delete, document_scan, document_upload, sanitize_filename
from enterprises.models import Document, Enterprise, Industry, Membership
from enterprises.scanning import EICAR, ClamdScanner, ScannerUnavailable, ScanResult, get_scanner
from enterprises.tasks import SCAN_MAX_RETRIES, rescan_stale_documents, scan_document
from portal.models import AuditEvent, Notification
from tests.conftest import region, require, require_postgres
from tests.factories import UserFactory

PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00" + b"\0" * 64
)
JPEG_BYTES = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64 + b"\xff\xd9"
)
OFD_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" '
    b'Version="1.0" DocType="OFD"><ofd:DocBody/></ofd:OFD>'
)
# The EICAR test string inside an otherwise ordinary PDF: uploads accept the PDF, the scanner finds EICAR.
EICAR_PDF = b"%PDF-1.4\n1 0 obj<</Length 68>>stream\n" + EICAR + b"\nendstream endobj\n%%EOF\n"


def ofd_bytes(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("OFD.xml", OFD_XML)
        package.writestr("Doc_0/Document.xml", b"<ofd:Document/>")
        for name, data in (extra or {}).items():
            package.writestr(name, data)
    return buffer.getvalue()


def zip_bytes(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


DOCX_BYTES = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})


def upload_file(name: str, content: bytes, content_type: str = "application/pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def valid_uscc(body17: str) -> str:
    return body17 + stdnum_uscc.calc_check_digit(body17)


@pytest.fixture(autouse=True)
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    return settings.MEDIA_ROOT


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def make_enterprise(tenant, county_code: str, body17: str, name: str) -> Enterprise:
    industry, _created = Industry.objects.get_or_create(
        code="C3484", defaults={"name": "机械零部件加工", "level": Industry.Level.CLASS}
    )
    return Enterprise.objects.create(
        tenant=tenant,
        uscc=valid_uscc(body17),
        name=name,
        county=region(tenant, county_code),
        address="贵阳市南明区花果园大街1号",
        industry=industry,
        legal_representative="张三",
        contact_person="李四",
        contact_phone="13800000000",
        contact_email="contact@example.cn",
    )


@pytest.fixture
def enterprise(gz) -> Enterprise:
    return make_enterprise(gz, "520102", "91520102MA6DKQ123", "贵阳精工机械有限公司")


@pytest.fixture
def owner(enterprise):
    user = UserFactory(username="owner")
    Membership.objects.create(enterprise=enterprise, user=user, role=Membership.Role.ADMIN)
    return user


@pytest.fixture
def colleague(enterprise):
    user = UserFactory(username="colleague")
    Membership.objects.create(enterprise=enterprise, user=user, role=Membership.Role.MEMBER)
    return user


@pytest.fixture
def outsider(gz):
    other = make_enterprise(gz, "520103", "91520103MA6DKQ456", "云岩其他有限公司")
    user = UserFactory(username="outsider")
    Membership.objects.create(enterprise=other, user=user, role=Membership.Role.ADMIN)
    return user


def refusal_code(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    return exc.value.error_dict["file"][0].code


def assert_nothing_stored(media: Path) -> None:
    assert Document.objects.count() == 0
    assert stored_files(media) == []
    assert not AuditEvent.objects.filter(action="enterprise.document_uploaded").exists()


# --- upload checks ------------------------------------------------------------------------


def test_a_clean_pdf_is_stored_under_a_generated_name_and_scanned_clean(
    enterprise, owner, media, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        document = document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="business_licence",
            uploaded_file=upload_file("营业执照.pdf", PDF_BYTES, content_type="text/html"),
        )
    # then the browser's content type was ignored, the name is only metadata, and the scan passed it
    document.refresh_from_db()
    assert document.content_type == "application/pdf"
    assert document.original_name == "营业执照.pdf"
    assert document.size == len(PDF_BYTES)
    assert len(document.sha256) == 64
    assert document.file.name.startswith(f"documents/{enterprise.tenant_id}/{enterprise.pk}/")
    assert "营业执照" not in document.file.name and not document.file.name.endswith(".pdf")
    assert Path(document.file.path).read_bytes() == PDF_BYTES
    assert document.scan_status == Document.Scan.CLEAN
    assert document.scanned_at is not None
    assert (
        AuditEvent.objects.filter(action="enterprise.document_uploaded", object_id=str(document.pk)).count()
        == 1
    )


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        pytest.param(
            "evil.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "type", id="html-as-pdf"
        ),
        pytest.param("image.pdf", PNG_BYTES, "extension", id="png-named-pdf"),
        pytest.param("photo.png", JPEG_BYTES, "extension", id="jpeg-named-png"),
        pytest.param("shell.jpg.php", JPEG_BYTES, "extension", id="double-extension"),
        pytest.param("noextension", PDF_BYTES, "extension", id="no-extension"),
        pytest.param(
            "x.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>', "type", id="svg"
        ),
        pytest.param(
            "png-html.png", PNG_BYTES + b"<html><script>alert(1)</script>", "markup", id="png-with-html"
        ),
        pytest.param("empty.pdf", b"", "empty", id="empty"),
        pytest.param("archive.ofd", b"PK\x03\x04" + b"\0" * 100, "ofd", id="broken-zip"),
        pytest.param("plain.ofd", b"", "empty", id="empty-ofd"),
        pytest.param("report.docx", DOCX_BYTES, "type", id="docx"),
    ],
)
def test_a_disguised_or_unusable_file_is_refused_and_nothing_is_stored(
    enterprise, owner, media, name, content, code
):
    with pytest.raises(ValidationError) as exc:
        document_upload(
            enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file(name, content)
        )
    assert refusal_code(exc) == code
    assert exc.value.error_dict["file"][0].message  # says what is wrong
    assert_nothing_stored(media)


def test_a_pdf_that_is_also_a_zip_archive_is_refused(enterprise, owner, media):
    buffer = io.BytesIO()
    buffer.write(PDF_BYTES)
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("payload.exe", b"MZ\x90\x00" + b"\0" * 64)
    with pytest.raises(ValidationError) as exc:
        document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="other",
            uploaded_file=upload_file("polyglot.pdf", buffer.getvalue()),
        )
    assert refusal_code(exc) == "polyglot"
    assert_nothing_stored(media)


def test_a_file_over_the_size_limit_is_refused(enterprise, owner, media, settings):
    settings.DOCUMENT_MAX_BYTES = 1000
    content = PDF_BYTES + b"%" * (1001 - len(PDF_BYTES))
    with pytest.raises(ValidationError) as exc:
        document_upload(
            enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("big.pdf", content)
        )
    assert refusal_code(exc) == "too_large"
    assert_nothing_stored(media)
    # exactly at the limit is fine
    document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("ok.pdf", content[:1000])
    )
    assert Document.objects.count() == 1


def test_a_valid_ofd_package_is_accepted(enterprise, owner):
    document = document_upload(
        enterprise=enterprise,
        by=owner,
        doc_type="audit_report",
        uploaded_file=upload_file("审计报告.ofd", ofd_bytes(), "application/zip"),
    )
    assert document.content_type == "application/ofd"


def test_a_zip_that_is_not_an_ofd_package_is_refused(enterprise, owner, media):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", b"hello")
    with pytest.raises(ValidationError) as exc:
        document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="other",
            uploaded_file=upload_file("fake.ofd", buffer.getvalue()),
        )
    assert refusal_code(exc) == "ofd"
    assert_nothing_stored(media)


def test_an_ofd_zip_bomb_is_refused_without_inflating_it(enterprise, owner, media):
    # given an OFD whose one entry inflates from ~100 KB to more than OFD_MAX_UNCOMPRESSED (a 10 KB → 10 GB
    # bomb is the same shape; this one stays small enough to build in a test)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as package:
        package.writestr("OFD.xml", OFD_XML)
        with package.open("Doc_0/Res/zeros.bin", "w", force_zip64=True) as entry:
            block = b"\0" * (1024 * 1024)
            for _ in range(documents.OFD_MAX_UNCOMPRESSED // len(block) + 1):
                entry.write(block)
    assert len(buffer.getvalue()) < django_settings.DOCUMENT_MAX_BYTES
    # when / then
    with pytest.raises(ValidationError) as exc:
        document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="other",
            uploaded_file=upload_file("bomb.ofd", buffer.getvalue()),
        )
    assert refusal_code(exc) == "ofd_bomb"
    assert_nothing_stored(media)


def test_an_ofd_with_too_many_entries_is_refused(enterprise, owner, media):
    entries = {f"Doc_0/Res/{i}.xml": b"" for i in range(documents.OFD_MAX_ENTRIES)}
    with pytest.raises(ValidationError) as exc:
        document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="other",
            uploaded_file=upload_file("many.ofd", ofd_bytes(entries)),
        )
    assert refusal_code(exc) == "ofd_bomb"
    assert_nothing_stored(media)


def test_a_path_traversal_name_is_stored_under_a_generated_name(enterprise, owner, media):
    document = document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("../../x.pdf", PDF_BYTES)
    )
    assert document.original_name == "x.pdf"
    path = Path(document.file.path).resolve()
    assert path.is_relative_to(media.resolve())
    assert path.name != "x.pdf" and len(path.name) == 32
    assert stored_files(media) == [Path(document.file.path)]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\x.pdf", "x.pdf"),
        ("/abs/path.pdf", "path.pdf"),
        ("C:\\Users\\张三\\营业执照（副本）.pdf", "营业执照（副本）.pdf"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
        ("x.php\x00.jpg", "x.php.jpg"),
        ("line\r\nbreak.pdf", "linebreak.pdf"),
        ('a"b;c.pdf', "a_b;c.pdf"),
        ("..", "document"),
        (".hidden.pdf", "hidden.pdf"),
        ("evil\uff0f..\uff0fx.pdf", "evil_.._x.pdf"),
    ],
)
def test_original_names_are_sanitised(raw, clean):
    assert sanitize_filename(raw) == clean


def test_a_long_name_is_shortened_keeping_its_extension():
    name = sanitize_filename("很" * 300 + ".pdf")
    assert len(name) == documents.ORIGINAL_NAME_MAX
    assert name.endswith(".pdf")


def test_the_enterprise_total_cap_is_enforced(enterprise, owner, media, settings):
    settings.ENTERPRISE_DOCUMENTS_MAX_BYTES = 2 * len(PDF_BYTES) + 10
    for n in range(2):
        document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="other",
            uploaded_file=upload_file(f"{n}.pdf", PDF_BYTES),
        )
    with pytest.raises(ValidationError) as exc:
        document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="other",
            uploaded_file=upload_file("third.pdf", PDF_BYTES),
        )
    assert refusal_code(exc) == "quota"
    assert Document.objects.count() == 2
    assert len(stored_files(media)) == 2


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_uploads_cannot_both_pass_the_cap(gz, settings, media):
    require_postgres()
    enterprise = make_enterprise(gz, "520102", "91520102MA6DKQ123", "贵阳精工机械有限公司")
    user = UserFactory(username="racer")
    Membership.objects.create(enterprise=enterprise, user=user, role=Membership.Role.ADMIN)
    settings.ENTERPRISE_DOCUMENTS_MAX_BYTES = len(PDF_BYTES) + 10  # room for one
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def upload(n: int) -> None:
        try:
            barrier.wait()
            document_upload(
                enterprise=enterprise,
                by=user,
                doc_type="other",
                uploaded_file=upload_file(f"{n}.pdf", PDF_BYTES),
            )
            outcomes.append("stored")
        except ValidationError as exc:
            outcomes.append(exc.error_dict["file"][0].code)
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["quota", "stored"]
    assert Document.objects.count() == 1
    assert len(stored_files(media)) == 1


def test_an_unknown_document_type_is_refused(enterprise, owner, media):
    with pytest.raises(ValidationError) as exc:
        document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="weapons_plans",
            uploaded_file=upload_file("x.pdf", PDF_BYTES),
        )
    assert "doc_type" in exc.value.error_dict
    assert_nothing_stored(media)


# --- malware scan ---------------------------------------------------------------------------


def test_an_eicar_upload_is_quarantined_deleted_and_the_uploader_notified(
    enterprise, owner, media, django_capture_on_commit_callbacks, mailoutbox
):
    # given / when: the scan runs after the upload commits (the configured scanner: clamd in CI)
    with django_capture_on_commit_callbacks(execute=True):
        document = document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="tax_proof",
            uploaded_file=upload_file("完税证明.pdf", EICAR_PDF),
        )
    # then
    document.refresh_from_db()
    assert document.scan_status == Document.Scan.INFECTED
    assert "eicar" in document.scan_detail.lower()
    assert document.file.name == ""
    assert stored_files(media) == []
    note = Notification.objects.get(recipient=owner)
    assert "完税证明.pdf" in note.subject
    assert note.link == "/gz/enterprise/documents/"
    assert len(mailoutbox) == 1
    assert (
        AuditEvent.objects.filter(
            action="enterprise.document_quarantined", object_id=str(document.pk)
        ).count()
        == 1
    )


def test_scanning_twice_has_one_effect(enterprise, owner, django_capture_on_commit_callbacks):
    # given a pending infected document
    document = document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("e.pdf", EICAR_PDF)
    )
    # when the task runs twice (a redelivery)
    with django_capture_on_commit_callbacks(execute=True):
        first = scan_document.apply(args=[document.pk]).get()
        second = scan_document.apply(args=[document.pk]).get()
    # then one verdict, one audit event, one notification
    assert first == second == Document.Scan.INFECTED
    assert AuditEvent.objects.filter(action="enterprise.document_quarantined").count() == 1
    assert Notification.objects.filter(recipient=owner).count() == 1


def test_a_verdict_already_recorded_is_not_overwritten(enterprise, owner):
    # given a document that a concurrent run has already decided between our load and our update
    document = document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("c.pdf", PDF_BYTES)
    )

    class RacingScanner:
        def scan(self, path: str) -> ScanResult:
            Document.objects.filter(pk=document.pk).update(scan_status=Document.Scan.CLEAN)
            return ScanResult(clean=False, signature="Late.Verdict")

    # when
    status = document_scan(document_id=document.pk, scanner=RacingScanner())
    # then the first verdict stands and nothing else happened
    assert status == Document.Scan.CLEAN
    document.refresh_from_db()
    assert document.scan_detail == "" and document.file.name
    assert not AuditEvent.objects.filter(action="enterprise.document_quarantined").exists()


class DownScanner:
    calls = 0

    def scan(self, path: str) -> ScanResult:
        DownScanner.calls += 1
        raise ScannerUnavailable("connection refused")


def test_an_unavailable_scanner_leaves_the_document_pending(enterprise, owner):
    document = document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("p.pdf", PDF_BYTES)
    )
    with pytest.raises(ScannerUnavailable):
        document_scan(document_id=document.pk, scanner=DownScanner())
    document.refresh_from_db()
    assert document.scan_status == Document.Scan.PENDING


def test_a_scan_attempt_with_the_scanner_down_is_retried(enterprise, owner, monkeypatch):
    document = document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("p.pdf", PDF_BYTES)
    )
    monkeypatch.setattr(documents, "get_scanner", DownScanner)
    with pytest.raises(Retry):
        scan_document.apply(args=[document.pk])
    document.refresh_from_db()
    assert document.scan_status == Document.Scan.PENDING


def test_the_scan_fails_after_every_retry_and_the_uploader_is_told(
    enterprise, owner, monkeypatch, django_capture_on_commit_callbacks
):
    document = document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("p.pdf", PDF_BYTES)
    )
    monkeypatch.setattr(documents, "get_scanner", DownScanner)
    # Eager retries run at once; propagating the Retry (the test settings) would stop after the first.
    monkeypatch.setitem(scan_document.app.conf, "task_eager_propagates", False)
    DownScanner.calls = 0
    # when the task runs through all its retries
    with django_capture_on_commit_callbacks(execute=True):
        result = scan_document.apply(args=[document.pk])
    # then it tried 1 + SCAN_MAX_RETRIES times and gave up
    assert DownScanner.calls == SCAN_MAX_RETRIES + 1
    assert result.get() == Document.Scan.FAILED
    document.refresh_from_db()
    assert document.scan_status == Document.Scan.FAILED
    assert "unavailable" in document.scan_detail
    assert Notification.objects.filter(recipient=owner).count() == 1
    assert AuditEvent.objects.filter(action="enterprise.document_scan_failed").count() == 1


def test_documents_left_pending_by_a_lost_task_are_scanned_again(
    enterprise, owner, django_capture_on_commit_callbacks
):
    # given two pending documents whose scan task never ran, one of them old
    old = document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("old.pdf", PDF_BYTES)
    )
    recent = document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("recent.pdf", PDF_BYTES)
    )
    Document.objects.filter(pk=old.pk).update(uploaded_at=timezone.now() - timedelta(hours=3))
    # when
    assert rescan_stale_documents.apply().get() == 1
    # then only the old one was scanned
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.scan_status, recent.scan_status) == (Document.Scan.CLEAN, Document.Scan.PENDING)


def test_the_eicar_only_scanner_finds_eicar_across_chunk_boundaries(tmp_path):
    from enterprises.scanning import CHUNK, EicarOnlyScanner

    path = tmp_path / "split.bin"
    path.write_bytes(b"\0" * (CHUNK - 30) + EICAR + b"\0" * 100)
    assert EicarOnlyScanner().scan(str(path)).clean is False
    path.write_bytes(b"\0" * (CHUNK * 2))
    assert EicarOnlyScanner().scan(str(path)).clean is True


def test_clamd_finds_eicar_and_passes_a_clean_file(tmp_path):
    require(
        django_settings.MALWARE_SCANNER == "clamd",
        "needs clamd: run .ci/clamd-start, then MALWARE_SCANNER=clamd CLAMD_SOCKET=/run/clamav-srdi/clamd.ctl",
    )
    scanner = get_scanner()
    assert isinstance(scanner, ClamdScanner)
    require(scanner.ping(), f"clamd does not answer PING at {scanner.socket_path or scanner.host}")
    eicar = tmp_path / "eicar.com"
    eicar.write_bytes(EICAR)
    clean = tmp_path / "clean.pdf"
    clean.write_bytes(PDF_BYTES)
    infected = scanner.scan(str(eicar))
    assert infected.clean is False and "eicar" in (infected.signature or "").lower()
    assert scanner.scan(str(clean)) == ScanResult(clean=True)
    # EICAR inside an accepted format (a PDF stream, an OFD entry) is found too
    embedded = tmp_path / "embedded.pdf"
    embedded.write_bytes(EICAR_PDF)
    assert scanner.scan(str(embedded)).clean is False
    package = tmp_path / "embedded.ofd"
    package.write_bytes(ofd_bytes({"Doc_0/Res/eicar.com": EICAR}))
    assert scanner.scan(str(package)).clean is False


def test_an_unreachable_clamd_is_reported_as_unavailable(tmp_path):
    path = tmp_path / "x.pdf"
    path.write_bytes(PDF_BYTES)
    scanner = ClamdScanner(socket_path=str(tmp_path / "no-such.sock"), timeout=1)
    assert scanner.ping() is False
    with pytest.raises(ScannerUnavailable):
        scanner.scan(str(path))


# --- pages: upload, download, delete ----------------------------------------------------------


def login(client: Client, user) -> Client:
    client.force_login(user)
    return client


def test_the_documents_page_lists_and_uploads(client, enterprise, owner, django_capture_on_commit_callbacks):
    login(client, owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/gz/enterprise/documents/",
            {"doc_type": "audit_report", "file": upload_file("审计报告.pdf", PDF_BYTES)},
        )
    assert response.status_code == 302
    assert response["Location"] == "/gz/enterprise/documents/"
    page = client.get("/gz/enterprise/documents/")
    assert page.status_code == 200
    html = page.content.decode()
    document = Document.objects.get()
    assert "审计报告.pdf" in html
    assert f"/gz/documents/{document.pk}/download/" in html


def test_the_upload_form_shows_what_is_wrong(client, enterprise, owner, media):
    login(client, owner)
    response = client.post(
        "/gz/enterprise/documents/",
        {"doc_type": "other", "file": upload_file("evil.pdf", b"<html>hi</html>")},
    )
    assert response.status_code == 400
    assert response.context["form"].errors["file"]
    assert 'role="alert"' in response.content.decode()
    assert_nothing_stored(media)


def test_the_upload_form_asks_for_a_file(client, enterprise, owner, media):
    login(client, owner)
    response = client.post("/gz/enterprise/documents/", {"doc_type": "other"})
    assert response.status_code == 400
    assert [e.code for e in response.context["form"].errors.as_data()["file"]] == ["required"]
    assert_nothing_stored(media)


def test_an_oversize_upload_is_cut_off_while_it_streams_in(
    client, enterprise, owner, media, settings, tmp_path
):
    # given a cap of 100 KB and uploads going to temporary files from the first byte
    settings.DOCUMENT_MAX_BYTES = 100 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    login(client, owner)
    big = PDF_BYTES + b"%" * (5 * 1024 * 1024)
    # when
    response = client.post(
        "/gz/enterprise/documents/", {"doc_type": "other", "file": upload_file("big.pdf", big)}
    )
    # then refused as too large, no temporary file left, nothing stored
    assert response.status_code == 413
    assert [e.code for e in response.context["form"].errors.as_data()["file"]] == ["too_large"]
    assert list((tmp_path / "upload-tmp").iterdir()) == []
    assert_nothing_stored(media)


def test_the_upload_page_checks_csrf(enterprise, owner, media):
    client = login(Client(enforce_csrf_checks=True), owner)
    response = client.post(
        "/gz/enterprise/documents/", {"doc_type": "other", "file": upload_file("a.pdf", PDF_BYTES)}
    )
    assert response.status_code == 403
    assert_nothing_stored(media)


@pytest.fixture
def clean_document(enterprise, owner, django_capture_on_commit_callbacks) -> Document:
    with django_capture_on_commit_callbacks(execute=True):
        document = document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="business_licence",
            uploaded_file=upload_file("营业执照 2025.pdf", PDF_BYTES),
        )
    document.refresh_from_db()
    assert document.scan_status == Document.Scan.CLEAN
    return document


@pytest.fixture
def pending_document(enterprise, owner) -> Document:
    # No on-commit capture: the scan is never enqueued, the document stays PENDING.
    return document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("pending.pdf", PDF_BYTES)
    )


def download(client: Client, document: Document, tenant_code: str = "gz"):
    response = client.get(f"/{tenant_code}/documents/{document.pk}/download/")
    if hasattr(response, "streaming_content"):
        # Reading to the end closes the file; the test client wraps that close so that it keeps the
        # test's database connection (a second, explicit close() would drop it).
        response.body = b"".join(response.streaming_content)
    return response


def test_a_member_downloads_a_clean_document_as_an_attachment(client, clean_document, colleague):
    response = download(login(client, colleague), clean_document)
    assert response.status_code == 200
    assert response.body == PDF_BYTES
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7%202025.pdf" in disposition
    assert 'filename="2025.pdf"' in disposition
    assert "sandbox" in response["Content-Security-Policy"]
    assert AuditEvent.objects.filter(action="enterprise.document_downloaded", actor=colleague).count() == 1


def test_the_uploader_may_open_their_pending_document_but_no_one_else(
    client, pending_document, owner, colleague, nanming_official
):
    assert download(login(client, owner), pending_document).status_code == 200
    assert download(login(Client(), colleague), pending_document).status_code == 404
    assert download(login(Client(), nanming_official), pending_document).status_code == 404


def test_the_county_official_opens_clean_documents_only(
    client, clean_document, nanming_official, guiyang_official
):
    assert download(login(client, nanming_official), clean_document).status_code == 200
    assert download(login(Client(), guiyang_official), clean_document).status_code == 200


@pytest.mark.parametrize("status", [Document.Scan.INFECTED, Document.Scan.FAILED])
def test_no_one_opens_a_quarantined_or_unscanned_document(
    client, clean_document, owner, nanming_official, status
):
    Document.objects.filter(pk=clean_document.pk).update(scan_status=status)
    assert download(login(client, owner), clean_document).status_code == 404
    assert download(login(Client(), nanming_official), clean_document).status_code == 404


def test_outsiders_get_404(client, clean_document, yunyan_official, outsider, xz_admin):
    assert download(login(client, yunyan_official), clean_document).status_code == 404
    assert download(login(Client(), outsider), clean_document).status_code == 404
    other_tenant = login(Client(), xz_admin)
    assert download(other_tenant, clean_document).status_code == 404
    assert download(other_tenant, clean_document, tenant_code="xz").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client, clean_document):
    response = client.get(f"/gz/documents/{clean_document.pk}/download/")
    assert response.status_code == 302
    assert response["Location"].startswith("/gz/login/?next=")


def test_the_uploader_and_admins_may_delete_but_other_members_may_not(
    enterprise, owner, colleague, media, django_capture_on_commit_callbacks
):
    mine = document_upload(
        enterprise=enterprise,
        by=colleague,
        doc_type="other",
        uploaded_file=upload_file("mine.pdf", PDF_BYTES),
    )
    theirs = document_upload(
        enterprise=enterprise, by=owner, doc_type="other", uploaded_file=upload_file("theirs.pdf", PDF_BYTES)
    )
    with pytest.raises(PermissionDenied):
        document_delete(document=theirs, by=colleague)
    with django_capture_on_commit_callbacks(execute=True):
        document_delete(document=mine, by=colleague)
        document_delete(document=theirs, by=owner)
    assert Document.objects.count() == 0
    assert stored_files(media) == []
    assert AuditEvent.objects.filter(action="enterprise.document_deleted").count() == 2


def test_the_delete_button_works_and_refuses_others(
    client, enterprise, owner, colleague, outsider, pending_document
):
    login(client, colleague)
    assert client.post(f"/gz/enterprise/documents/{pending_document.pk}/remove/").status_code == 403
    assert (
        login(Client(), outsider).post(f"/gz/enterprise/documents/{pending_document.pk}/remove/").status_code
        == 404
    )
    response = login(Client(), owner).post(f"/gz/enterprise/documents/{pending_document.pk}/remove/")
    assert response.status_code == 302
    assert not Document.objects.exists()


# --- settings -------------------------------------------------------------------------------


def _settings_load(**env_overrides: str) -> subprocess.CompletedProcess:
    drop = {"DEBUG", "DJANGO_SETTINGS_MODULE", "MALWARE_SCANNER", "CLAMD_SOCKET", "CLAMD_HOST", "CLAMD_PORT"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"DJANGO_SETTINGS_MODULE": "portal.settings", "SECRET_KEY": "k" * 60, **env_overrides})
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; print(s.MALWARE_SCANNER)",
        ],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_a_malware_scanner_refuses_to_start():
    result = _settings_load(DEBUG="false")
    assert result.returncode != 0
    assert "CLAMD_SOCKET" in result.stderr and "CLAMD_HOST" in result.stderr


@pytest.mark.parametrize(
    ("env", "scanner"),
    [
        ({"DEBUG": "false", "CLAMD_SOCKET": "/run/clamav/clamd.ctl"}, "clamd"),
        ({"DEBUG": "false", "CLAMD_HOST": "clamav"}, "clamd"),
        ({"DEBUG": "false", "MALWARE_SCANNER": "eicar-only"}, "eicar-only"),
        ({"DEBUG": "true"}, "eicar-only"),
    ],
)
def test_the_scanner_is_chosen_from_the_environment(env, scanner):
    result = _settings_load(**env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [scanner]
