"""Every upload endpoint against one attack corpus (reliability.md F1–F5, T6), through the real pages.

The endpoint families: an enterprise's documents (enterprise_documents), the evidence of a public
objection (objection_new, anonymous) and the evidence of a revocation (revocation_new, provincial
staff). Each is posted the same disguised files, oversize files and crafted names; each must refuse
with a Chinese message that names the field, store nothing and leave no temporary file, or store the
file under a generated name inside MEDIA_ROOT and serve it as a sniff-proof attachment.

The annual-figures import is the one place that parses an archive (an .xlsx is a ZIP): F4 is tested
there with a zip bomb built at test time. The published-list check (published_verify) only hashes the
upload and stores nothing.
"""

# ruff: noqa: F811 - fixtures imported from the certification tests are test arguments
from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from certification.forms_lifecycle import EVIDENCE_MAX_BYTES as REVOCATION_MAX_BYTES
from certification.forms_lifecycle import EVIDENCE_MAX_FILES as REVOCATION_MAX_FILES
from certification.forms_publication import EVIDENCE_MAX_BYTES as OBJECTION_MAX_BYTES
from certification.forms_publication import EVIDENCE_MAX_FILES as OBJECTION_MAX_FILES
from certification.models import Certification, Objection, ObjectionEvidence, RevocationEvidence
from enterprises import documents
from enterprises.figures_excel import figures_parse, figures_workbook
from enterprises.models import Document
from tests.certification.test_lifecycle_pages import certification, revoke_through_the_pages  # noqa: F401
from tests.certification.test_publication_pages import approved, file_objection, notice  # noqa: F401
from tests.certification.workflow_fixtures import (  # noqa: F401
    chain_fixture,
    draft,
    experts,
    media,
    province_approver,
    province_reviewer,
    ready,
    wf_program,
    wf_round,
)

# Every test touches the database through the family fixtures (getfixturevalue): marked, so that the reference
# data (industries) a transactional test flushed is loaded again first (tests/conftest.py _reference_data).
pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64 + b"\xff\xd9"
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
PHP = b"<?php system($_GET['c']); ?>"


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


# (name, content, the refusal's code in enterprises.documents)
DISGUISED = [
    pytest.param("evil.pdf", b"<html><script>alert(1)</script></html>", "type", id="html-named-pdf"),
    # Django's own warning: a PNG header in front of HTML passes an image library.
    pytest.param(
        "logo.png", PNG_HEADER + b"<html><script>alert(1)</script>", "markup", id="png-header-script"
    ),
    pytest.param(
        "logo.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "type",
        id="svg-with-script",
    ),
    pytest.param("photo.jpg.php", JPEG, "extension", id="double-extension"),
    pytest.param("x.php%00.jpg", PHP, "type", id="encoded-nul"),
    pytest.param("x.php\x00.jpg", PHP, "type", id="raw-nul"),
    # A PDF that is also a ZIP archive (central directory at its end).
    pytest.param(
        "report.pdf", PDF + _zip({"payload.html": b"<script>alert(1)</script>"}), "polyglot", id="pdf-zip"
    ),
    pytest.param("archive.zip", _zip({"a.pdf": PDF}), "type", id="plain-zip"),
    pytest.param(
        "report.docx",
        _zip({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}),
        "type",
        id="docx",
    ),
]

ODD_NAMES = [
    pytest.param("../../etc/passwd.pdf", id="traversal"),
    pytest.param("..\\..\\x.pdf", id="windows-traversal"),
    pytest.param("/abs/path.pdf", id="absolute"),
    pytest.param("a" * 300 + ".pdf", id="300-chars"),
    pytest.param("invoice\u202efdp.exe.pdf", id="rtl-override"),
    pytest.param("nul\x00byte.pdf", id="nul"),
    pytest.param("营业执照（2026年）.pdf", id="chinese"),
]


@dataclass
class Family:
    """One upload endpoint as a test sees it."""

    name: str
    field: str  # the form field that carries the files
    max_bytes: int
    max_files: int
    post: Callable[[list[tuple[str, bytes]]], object]  # files → response
    rows: Callable[[], list]  # the rows that hold stored files
    nothing_else_changed: Callable[[], bool]
    download: Callable[[object], object]  # row → response
    before: set = field(default_factory=set)  # files in MEDIA_ROOT before the test posted


def _label(form_class, field: str) -> str:
    with translation.override("zh-hans"):
        return str(form_class.base_fields[field].label)


@pytest.fixture
def uploads_tmp(settings, tmp_path) -> Path:
    """Every uploaded file goes through a temporary file in a directory of the test's own."""
    directory = tmp_path / "upload-tmp"
    directory.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(directory)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0
    return directory


def _documents_family(request) -> Family:
    from enterprises.document_views import DocumentUploadForm

    client, owner, acme = (request.getfixturevalue(n) for n in ("client", "owner", "acme"))
    client.force_login(owner)
    capture = request.getfixturevalue("django_capture_on_commit_callbacks")
    settings = request.getfixturevalue("settings")
    settings.DOCUMENT_MAX_BYTES = 64 * 1024

    def post(files):
        (name, content), *rest = files
        assert not rest, "one file per document"
        with capture(execute=True):
            return client.post(
                reverse("enterprise_documents", kwargs={"tenant_code": "gz"}),
                {
                    "doc_type": "business_licence",
                    "file": SimpleUploadedFile(name, content, "application/pdf"),
                },
            )

    return Family(
        name="document",
        field=_label(DocumentUploadForm, "file"),
        max_bytes=64 * 1024,
        max_files=1,
        post=post,
        rows=lambda: list(Document.objects.all()),
        nothing_else_changed=lambda: not Document.objects.exists(),
        download=lambda row: client.get(
            reverse("enterprise_document_download", kwargs={"tenant_code": "gz", "pk": row.pk})
        ),
    )


def _objection_family(request) -> Family:
    from certification.forms_publication import ObjectionForm

    client, the_notice, chain = (request.getfixturevalue(n) for n in ("client", "notice", "chain"))
    capture = request.getfixturevalue("django_capture_on_commit_callbacks")

    def post(files):
        evidence = [SimpleUploadedFile(name, content, "application/pdf") for name, content in files]
        with capture(execute=True):
            return file_objection(client, the_notice, evidence=evidence)

    def download(row):
        client.force_login(chain.province_approver)
        return client.get(reverse("objection_evidence_download", kwargs={"tenant_code": "gz", "pk": row.pk}))

    return Family(
        name="objection evidence",
        field=_label(ObjectionForm, "evidence"),
        max_bytes=OBJECTION_MAX_BYTES,
        max_files=OBJECTION_MAX_FILES,
        post=post,
        rows=lambda: list(ObjectionEvidence.objects.all()),
        nothing_else_changed=lambda: not Objection.objects.exists(),
        download=download,
    )


def _revocation_family(request) -> Family:
    from certification.forms_lifecycle import RevocationConfirmForm

    client, cert, chain = (request.getfixturevalue(n) for n in ("client", "certification", "chain"))
    capture = request.getfixturevalue("django_capture_on_commit_callbacks")
    client.force_login(chain.province_approver)

    def post(files):
        with capture(execute=True):
            return revoke_through_the_pages(client, cert, files=files)

    return Family(
        name="revocation evidence",
        field=_label(RevocationConfirmForm, "evidence"),
        max_bytes=REVOCATION_MAX_BYTES,
        max_files=REVOCATION_MAX_FILES,
        post=post,
        rows=lambda: list(RevocationEvidence.objects.all()),
        nothing_else_changed=lambda: (
            Certification.objects.get(pk=cert.pk).status == Certification.Status.ACTIVE
            and not RevocationEvidence.objects.exists()
        ),
        download=lambda row: client.get(
            reverse("revocation_evidence_download", kwargs={"tenant_code": "gz", "pk": row.pk})
        ),
    )


FAMILIES = {"document": _documents_family, "objection": _objection_family, "revocation": _revocation_family}


@pytest.fixture(params=list(FAMILIES))
def family(request, media, uploads_tmp) -> Family:
    family = FAMILIES[request.param](request)
    # The fixtures' own files (the application's attachments) are there before the test posts anything.
    family.before = set(all_files(media))
    return family


def all_files(media: Path) -> list[Path]:
    return [p for p in Path(media).rglob("*") if p.is_file()] if Path(media).exists() else []


def new_files(family: Family, media: Path) -> list[Path]:
    return sorted(set(all_files(media)) - family.before)


def assert_accepted(family: Family, response) -> None:
    # Documents and revocations redirect; an objection answers with its receipt page.
    assert response.status_code in (200, 302), response.status_code
    assert family.rows(), field_alerts(response.content.decode())


def field_alerts(html: str) -> list[str]:
    """The text of the page's error messages (role="alert"), tags removed."""
    found = re.findall(r'role="alert"[^>]*>(.*?)</(?:p|div|li|span)>', html, flags=re.S)
    return [re.sub(r"<[^>]+>", "", text).strip() for text in found]


def expected_refusal(name: str, content: bytes) -> tuple[str, str]:
    """The refusal enterprises.documents gives this file, in Chinese, and its code."""
    with translation.override("zh-hans"):
        with pytest.raises(Exception) as exc:
            documents._check_content(SimpleUploadedFile(name, content), documents.sanitize_filename(name))
        error = exc.value.error_dict["file"][0]
        return error.messages[0], error.code


def assert_refused_naming_the_field(family: Family, response, message: str) -> None:
    html = response.content.decode()
    assert response.status_code in (400, 413), response.status_code
    alerts = [a for a in field_alerts(html) if family.field in a]
    assert alerts, f"no error names the field {family.field!r}: {field_alerts(html)}"
    assert any(message in a for a in alerts), (message, alerts)
    assert re.search(r"[\u4e00-\u9fff]", message), "the refusal is in Chinese"


# --- F2: type by content ------------------------------------------------------------------------------


def test_every_disguised_file_is_refused_naming_the_field_and_nothing_is_stored(
    family, media, uploads_tmp, subtests
):
    # One endpoint set-up for the whole corpus (it is costly: an application taken to its notice or
    # certification); each file is its own subtest and a refusal changes nothing for the next.
    for case in DISGUISED:
        name, content, code = case.values
        with subtests.test(msg=case.id):
            # given the refusal enterprises.documents gives this file
            message, actual_code = expected_refusal(name, content)
            assert actual_code == code
            # when it is posted to the endpoint
            response = family.post([(name, content)])
            # then the page names the field with the Chinese reason, and nothing is kept anywhere
            assert_refused_naming_the_field(family, response, message)
            assert family.nothing_else_changed()
            assert new_files(family, media) == []
            assert list(uploads_tmp.iterdir()) == []


# --- F1: size and quota ---------------------------------------------------------------------------------


def test_a_file_one_byte_over_the_limit_is_refused_and_no_temporary_file_is_left(family, media, uploads_tmp):
    big = PDF + b"%" + b"0" * (family.max_bytes - len(PDF))
    assert len(big) == family.max_bytes + 1
    response = family.post([("big.pdf", big)])
    html = response.content.decode()
    assert response.status_code in (400, 413)
    assert any(family.field in a for a in field_alerts(html)), field_alerts(html)
    assert family.nothing_else_changed()
    assert new_files(family, media) == []
    assert list(uploads_tmp.iterdir()) == []


def test_a_file_exactly_at_the_limit_is_accepted(family, media):
    exact = PDF + b"%" + b"0" * (family.max_bytes - len(PDF) - 1)
    response = family.post([("exact.pdf", exact)])
    assert_accepted(family, response)
    assert [row.size for row in family.rows()] == [family.max_bytes]


def test_a_document_oversize_upload_is_cut_off_before_the_temporary_file_takes_it(
    client, owner, acme, settings, media, uploads_tmp, monkeypatch
):
    # given a limit smaller than one upload chunk (64 KB) and a spy on what reaches the temporary file
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    settings.DOCUMENT_MAX_BYTES = 1024
    received: list[int] = []
    original = TemporaryFileUploadHandler.receive_data_chunk
    monkeypatch.setattr(
        TemporaryFileUploadHandler,
        "receive_data_chunk",
        lambda self, raw, start: received.append(len(raw)) or original(self, raw, start),
    )
    client.force_login(owner)
    # when a file 1 byte over it is posted
    response = client.post(
        reverse("enterprise_documents", kwargs={"tenant_code": "gz"}),
        {
            "doc_type": "business_licence",
            "file": SimpleUploadedFile("big.pdf", PDF + b"0" * (1025 - len(PDF))),
        },
    )
    # then it is refused before a byte of it was written to disk
    assert response.status_code == 413
    assert received == []
    assert all_files(media) == [] and list(uploads_tmp.iterdir()) == []


def test_an_oversize_file_is_cut_off_while_it_streams_in(db, family, media, uploads_tmp, monkeypatch):
    """Every family, evidence included (certification.upload_limits): the temporary file never takes in
    more than the limit, whatever the size of the body."""
    from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler

    # what each of Django's own handlers is handed (the memory one passes on what it does not keep)
    received: dict[str, int] = {}
    for handler in (TemporaryFileUploadHandler, MemoryFileUploadHandler):
        original = handler.receive_data_chunk

        def spy(self, raw, start, original=original, name=handler.__name__):
            received[name] = received.get(name, 0) + len(raw)
            return original(self, raw, start)

        monkeypatch.setattr(handler, "receive_data_chunk", spy)
    big = PDF + b"%" + b"0" * (3 * family.max_bytes)
    response = family.post([("huge.pdf", big)])
    assert response.status_code in (400, 413)
    assert any(family.field in a for a in field_alerts(response.content.decode()))
    assert received and max(received.values()) <= family.max_bytes
    assert new_files(family, media) == [] and list(uploads_tmp.iterdir()) == []


def test_the_enterprise_quota_refuses_the_upload_that_would_pass_it(client, owner, acme, settings, media):
    settings.ENTERPRISE_DOCUMENTS_MAX_BYTES = 2 * len(PDF) - 1
    client.force_login(owner)
    url = reverse("enterprise_documents", kwargs={"tenant_code": "gz"})
    first = client.post(url, {"doc_type": "business_licence", "file": SimpleUploadedFile("a.pdf", PDF)})
    assert first.status_code == 302
    second = client.post(url, {"doc_type": "audit_report", "file": SimpleUploadedFile("b.pdf", PDF)})
    assert second.status_code == 400
    with translation.override("zh-hans"):
        from enterprises.document_views import DocumentUploadForm

        label = str(DocumentUploadForm.base_fields["file"].label)
    alerts = [a for a in field_alerts(second.content.decode()) if label in a]
    assert alerts and re.search(r"[\u4e00-\u9fff]", alerts[0])
    assert Document.objects.count() == 1 and len(all_files(media)) == 1


# Evidence families only: a document upload takes one file (its form has a single file field).
@pytest.mark.parametrize("family", ["objection", "revocation"], indirect=True)
def test_more_evidence_files_than_allowed_are_refused(family, media):
    response = family.post([(f"e{i}.pdf", PDF) for i in range(family.max_files + 1)])
    assert response.status_code == 400
    assert any(family.field in a for a in field_alerts(response.content.decode()))
    assert family.nothing_else_changed() and new_files(family, media) == []


# --- F3 and F5: names are metadata, downloads are attachments ---------------------------------------------


@pytest.mark.parametrize("name", ODD_NAMES)
def test_an_odd_name_is_stored_under_a_generated_name_and_served_as_an_attachment(family, media, name):
    # when a clean PDF is uploaded under the name
    response = family.post([(name, PDF)])
    assert_accepted(family, response)
    (row,) = family.rows()
    # then the stored path is inside MEDIA_ROOT, and its last part is generated (hex), not the user's
    root = Path(media).resolve()
    path = (root / row.file.name).resolve()
    assert path.is_relative_to(root) and path.is_file()
    assert re.fullmatch(r"[0-9a-f]{32}(\.pdf)?", path.name), path.name
    # and the name kept as metadata cannot act as a path or hide its extension
    original = row.original_name
    assert not any(ch in original for ch in ("/", "\\", "\x00", "\u202e")) and ".." not in original.split("/")
    assert 0 < len(original) <= documents.ORIGINAL_NAME_MAX
    # and the download is a sniff-proof attachment carrying the name as RFC 5987 filename*
    download = family.download(row)
    assert download.status_code == 200
    disposition = download["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(original, safe='')}" in disposition
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PDF


def test_a_chinese_name_round_trips_through_the_download_header(family, media):
    response = family.post([("营业执照（2026年）.pdf", PDF)])
    assert_accepted(family, response)
    (row,) = family.rows()
    assert row.original_name == "营业执照（2026年）.pdf"
    disposition = family.download(row)["Content-Disposition"]
    encoded = re.search(r"filename\*=UTF-8''(\S+)", disposition).group(1)
    from urllib.parse import unquote

    assert unquote(encoded) == "营业执照（2026年）.pdf"
    # the ASCII fallback is plain ASCII
    fallback = re.search(r'filename="([^"]*)"', disposition).group(1)
    assert fallback.isascii() and "/" not in fallback and "\\" not in fallback


# --- F4: the one archive the portal parses: the annual-figures .xlsx -------------------------------------


def _zip_bomb(*, members: int = 1, member_size: int) -> bytes:
    """Zeros compress about 1000:1: 10 MB of them become about 10 KB of ZIP."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        zeros = b"\0" * member_size
        for i in range(members):
            archive.writestr(f"xl/worksheets/sheet{i + 1}.xml", zeros)
    return buffer.getvalue()


def test_an_xlsx_zip_bomb_is_refused_before_anything_is_inflated(acme, monkeypatch):
    # given a 30 MB member in a package of a few tens of KB
    bomb = _zip_bomb(member_size=30 * 1024 * 1024)
    assert len(bomb) < 100 * 1024
    # and openpyxl's reader spied on: it must not even be asked
    import enterprises.figures_excel as figures_excel

    opened: list[int] = []
    monkeypatch.setattr(figures_excel, "load_workbook", lambda *a, **k: opened.append(1))
    # when it is parsed
    with translation.override("zh-hans"):
        result = figures_parse(bomb)
    # then it is refused, unread
    assert result.errors and not result.rows and opened == []


def test_an_xlsx_with_too_many_members_is_refused(acme, monkeypatch):
    import enterprises.figures_excel as figures_excel

    many = _zip_bomb(members=figures_excel.XLSX_MAX_ENTRIES + 1, member_size=1)
    opened: list[int] = []
    monkeypatch.setattr(figures_excel, "load_workbook", lambda *a, **k: opened.append(1))
    assert figures_parse(many).errors and opened == []


def test_the_real_template_passes_the_archive_limits(acme):
    from enterprises.figures_excel import XLSX_MAX_ENTRIES, XLSX_MAX_UNCOMPRESSED

    template = figures_workbook(acme, with_data=False)
    assert documents.archive_within_limits(
        io.BytesIO(template), max_entries=XLSX_MAX_ENTRIES, max_uncompressed=XLSX_MAX_UNCOMPRESSED
    )
    with translation.override("zh-hans"):
        from django.utils.translation import gettext

        unreadable = gettext("The file could not be read as an Excel workbook.")
        # the empty template is read (and found to hold no figures), not refused as unreadable
        assert unreadable not in figures_parse(template).errors


def test_the_figures_import_page_refuses_a_zip_bomb(client, owner, acme, media):
    client.force_login(owner)
    response = client.post(
        reverse("enterprise_figures_import", kwargs={"tenant_code": "gz"}),
        {"file": SimpleUploadedFile("figures.xlsx", _zip_bomb(member_size=30 * 1024 * 1024))},
    )
    assert response.status_code in (200, 400)
    with translation.override("zh-hans"):
        from django.utils.translation import gettext

        message = gettext("The file could not be read as an Excel workbook.")
    assert message in response.content.decode()
    assert not acme.figures.exists()
