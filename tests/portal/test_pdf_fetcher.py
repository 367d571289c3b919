# ruff: noqa: F811 - pdf_templates, imported from test_pdf, is a fixture
"""WeasyPrint is fed only trusted templates and fetches nothing but our static files (reliability.md F7).

WeasyPrint's docs: untrusted HTML can read local files, reach the network and loop forever; its 10 s
timeout applies only to HTTP/FTP. So: the templates autoescape what users typed, portal.pdf's fetcher
refuses file:// and every host, and the PDF tasks run under Celery time limits.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pytest
from django.conf import settings

from portal import pdf
from portal.celery import app
from tests.portal.test_pdf import pdf_templates, pdf_text  # noqa: F401 - pdf_templates is a fixture

# An address nothing listens on: a fetch would hang until a timeout or fail slowly; it must not be tried.
TRAP = "http://127.0.0.2:9/"


@pytest.fixture
def no_network(monkeypatch):
    """Records every attempt to open a connection (and refuses it)."""
    attempts: list[object] = []

    def refuse(self, address, *args, **kwargs):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def test_a_name_pointing_at_a_server_file_and_a_css_import_of_a_host_fetch_nothing(
    pdf_templates, no_network, caplog
):
    # given a template that prints an enterprise name and carries a CSS @import of another host
    (pdf_templates / "enterprise.html").write_text(
        "<html><head><style>@import url(" + TRAP + "x.css); body { font-family: 'Noto Sans CJK SC' }"
        "</style><link rel=stylesheet href='" + TRAP + "y.css'></head>"
        "<body><h1>{{ name }}</h1><p style=\"background: url('" + TRAP + "bg.png')\">x</p></body></html>",
        encoding="utf-8",
    )
    (pdf_templates / "baseline.html").write_text(
        "<html><head><style>body { font-family: 'Noto Sans CJK SC' }</style></head>"
        "<body><h1>{{ name }}</h1><p>x</p></body></html>",
        encoding="utf-8",
    )
    name = '贵州<img src="file:///etc/passwd">精密机械有限公司'
    started = time.monotonic()
    pdf.render_pdf("baseline.html", {"name": name})
    baseline = time.monotonic() - started
    # when it is rendered
    started = time.monotonic()
    data = pdf.render_pdf("enterprise.html", {"name": name})
    elapsed = time.monotonic() - started
    # then nothing was fetched: no connection was even tried, and every URL was refused by our fetcher
    assert no_network == []
    refused = " ".join(r.getMessage() for r in caplog.records if r.name == "portal.pdf")
    assert "127.0.0.2" in refused
    # and the name printed as text, the server file's content nowhere
    text = pdf_text(data)
    assert re.sub(r"\s+", "", name) in re.sub(r"\s+", "", text)
    assert "root:" not in text and b"root:x:0:0" not in data
    # and it did not wait on the unreachable host: WeasyPrint's own timeout is 10 s for each of the three
    # URLs; the render takes about as long as the same page without them (the machine may be busy).
    assert elapsed < baseline + 8, (elapsed, baseline)


def test_an_image_of_a_server_file_in_the_template_itself_is_not_embedded(pdf_templates, no_network):
    (pdf_templates / "img.html").write_text(
        '<html><body><p>ok</p><img src="file:///etc/hostname"><img src="/etc/hostname">'
        '<object data="file:///etc/passwd"></object></body></html>',
        encoding="utf-8",
    )
    data = pdf.render_pdf("img.html", {})
    hostname = Path("/etc/hostname").read_bytes().strip() if Path("/etc/hostname").exists() else b""
    if hostname:
        assert hostname not in data
    assert no_network == []


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "file://localhost/etc/passwd",
        TRAP,
        "http://127.0.0.1:8000/static/css/portal.css",  # our own site, but over the network
        "http://localhost/static/css/portal.css",
        "gopher://127.0.0.1:6379/_FLUSHALL",
        pdf.BASE_URL.replace("http:", "https:") + "static/css/portal.css",  # another origin
        pdf.BASE_URL + "static/css/../../settings.py",
        pdf.BASE_URL + "static/%2e%2e%2fportal%2fsettings.py",
        pdf.BASE_URL + "static/css\\..\\..\\portal\\settings.py",
    ],
)
def test_the_fetcher_refuses_anything_but_a_static_file(url):
    with pytest.raises(pdf.ResourceRefused):
        pdf.url_fetcher(url)


def test_weasyprint_is_given_our_fetcher_for_every_url(pdf_templates, monkeypatch):
    # given a spy on portal.pdf.url_fetcher
    seen: list[str] = []
    real = pdf.url_fetcher

    def spy(url, headers=None):
        seen.append(url)
        return real(url, headers)

    monkeypatch.setattr(pdf, "url_fetcher", spy)
    (pdf_templates / "spy.html").write_text(
        '<html><head><link rel=stylesheet href="/static/css/portal.css"></head>'
        f'<body><img src="file:///etc/passwd"><img src="{TRAP}a.png"></body></html>',
        encoding="utf-8",
    )
    pdf.render_pdf("spy.html", {})
    # then every resource went through it: our stylesheet, the file and the host (both refused there)
    assert pdf.BASE_URL + "static/css/portal.css" in seen
    assert "file:///etc/passwd" in seen
    assert TRAP + "a.png" in seen


PDF_TEMPLATES = sorted(
    p
    for p in (Path(settings.BASE_DIR) / "templates").rglob("*")
    if p.suffix in (".html", ".css") and "pdf" in p.relative_to(Path(settings.BASE_DIR) / "templates").parts
)


def test_the_pdf_templates_reference_no_outside_resource():
    """The shipped PDF templates load nothing at all: their CSS is inline and the QR code is inline SVG."""
    assert PDF_TEMPLATES, "no PDF templates found"
    loads = re.compile(r"\bsrc\s*=|url\s*\(|@import|<link\b|<object\b|<embed\b|<iframe\b", re.I)
    offenders = [
        f"{p.name}: {line.strip()}"
        for p in PDF_TEMPLATES
        for line in p.read_text(encoding="utf-8").splitlines()
        if loads.search(line)
    ]
    assert offenders == []


# The tasks that render PDFs, and their effective limits (a task's own, else the app's default).
PDF_TASKS = [
    "certification.tasks.generate_certificate",
    "certification.tasks.render_published_list",
    "reports.tasks.render_development_report",
]


@pytest.mark.parametrize("name", PDF_TASKS)
def test_pdf_tasks_run_under_a_time_limit(name):
    import importlib

    module, _, attr = name.rpartition(".")
    task = getattr(importlib.import_module(module), attr)
    hard = task.time_limit or app.conf.task_time_limit
    soft = task.soft_time_limit or app.conf.task_soft_time_limit
    # A render that loops is killed: hard limit set, the soft one first so the task can record the failure.
    assert hard and 0 < hard <= 600, hard
    assert soft and 0 < soft < hard, (soft, hard)


def test_pdf_rendering_is_done_where_the_limits_apply():
    """Every caller of render_pdf is a task above, a view of one PDF (the 申报书, the notice), or the
    functions those call; none is a loop over many rows in a request."""
    root = Path(settings.BASE_DIR)
    callers = sorted(
        p.relative_to(root).as_posix()
        for top in ("portal", "enterprises", "certification", "funding", "reports")
        for p in (root / top).rglob("*.py")
        if "render_pdf(" in p.read_text(encoding="utf-8") and p.name != "pdf.py"
    )
    assert callers == [
        "certification/application_pdf.py",
        "certification/certificates.py",
        "reports/report_pdf.py",
    ]


def test_workers_give_back_the_memory_a_render_took():
    # A pool child that grew past the limit (a PDF fed something huge) is replaced after its task.
    limit = app.conf.worker_max_memory_per_child
    assert limit and 0 < limit <= 2 * 1024 * 1024, limit  # KiB
