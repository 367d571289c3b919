"""PDF rendering (portal.pdf): only our static files are fetched, and what users typed prints as text."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from portal import pdf
from tests.conftest import require


def pdf_text(data: bytes) -> str:
    """The text of a PDF, by poppler's pdftotext (CI installs poppler-utils)."""
    require(shutil.which("pdftotext") is not None, "needs pdftotext: apt-get install poppler-utils")
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True, timeout=60
    )
    return result.stdout.decode("utf-8")


@pytest.fixture
def pdf_templates(settings, tmp_path):
    """A template directory of the test's own, ahead of the project's."""
    (tmp_path / "t").mkdir()
    templates = [dict(t) for t in settings.TEMPLATES]
    templates[0] = {**templates[0], "DIRS": [tmp_path / "t", *templates[0].get("DIRS", [])]}
    settings.TEMPLATES = templates
    return tmp_path / "t"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://example.com/",
        "https://example.com/static/css/portal.css",
        "http://169.254.169.254/latest/meta-data/",
        "ftp://example.com/x",
        "data:text/plain,hello",
        pdf.BASE_URL + "media/documents/x.pdf",
        pdf.BASE_URL + "static/../../../../etc/passwd",
        pdf.BASE_URL + "static/%2e%2e/%2e%2e/etc/passwd",
        pdf.BASE_URL + "static/css/no-such-file.css",
    ],
)
def test_url_fetcher_refuses_anything_but_our_static_files(url):
    with pytest.raises(pdf.ResourceRefused):
        pdf.url_fetcher(url)


def test_url_fetcher_serves_our_static_files():
    response = pdf.url_fetcher(pdf.BASE_URL + "static/css/portal.css")
    body = response.read()
    response.close()
    assert b"--brand" in body
    assert response.content_type == "text/css"


def test_a_document_pointing_at_a_server_file_renders_without_it(pdf_templates, caplog):
    # given a (buggy) template that points at a server file and at the network
    (pdf_templates / "leak.html").write_text(
        '<html><body><p>ok</p><img src="file:///etc/passwd"><img src="http://example.com/x.png">'
        '<link rel="stylesheet" href="file:///etc/passwd"></body></html>',
        encoding="utf-8",
    )
    # when it is rendered
    data = pdf.render_pdf("leak.html", {})
    # then neither was fetched: both were refused, and the PDF holds only the text
    refused = [r.getMessage() for r in caplog.records if r.name == "portal.pdf"]
    assert any("file:///etc/passwd" in m for m in refused)
    assert any("example.com" in m for m in refused)
    assert b"root:x:0:0" not in data
    assert "root:" not in pdf_text(data)


def test_an_html_injection_in_a_name_prints_as_literal_text(pdf_templates):
    (pdf_templates / "name.html").write_text(
        "<html><body style=\"font-family: 'Noto Sans CJK SC', sans-serif\"><h1>{{ name }}</h1></body></html>",
        encoding="utf-8",
    )
    name = '贵州<img src="file:///etc/passwd">公司'
    text = pdf_text(pdf.render_pdf("name.html", {"name": name}))
    assert name in text
    assert "root:" not in text


def test_chinese_text_is_embedded_with_a_cjk_font(pdf_templates):
    (pdf_templates / "zh.html").write_text(
        "<html><body><p style=\"font-family: 'Noto Sans CJK SC', 'WenQuanYi Zen Hei', sans-serif\">"
        "专精特新中小企业</p></body></html>",
        encoding="utf-8",
    )
    data = pdf.render_pdf("zh.html", {})
    assert data.startswith(b"%PDF")
    assert "专精特新中小企业" in pdf_text(data)
