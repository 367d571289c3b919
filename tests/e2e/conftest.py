"""Browser tests: Playwright for Python driving Debian's chromium against pytest-django's live server.

Never `playwright install`: it downloads a browser, which this network refuses.
Locally these skip with a reason when chromium is absent; in CI they must run.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import require_chromium
from tests.demo_snapshot import demo_portal

# Playwright's sync API runs an event loop in the test thread; the ORM calls our
# fixtures make from that thread are ordinary synchronous ones.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def demo(transactional_db):
    """The demo portal as `make run` shows it (seeded once per run, restored after: tests/demo_snapshot.py)."""
    demo_portal(tenants=["gz"])  # the browser tests visit /gz/ only


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A browser test that fails leaves a full-page screenshot of every page it had open in test-artifacts/,
    named after the test, taken before the fixtures close the pages."""
    report = yield
    if report.when == "call" and report.failed:
        browser = item.funcargs.get("browser")
        if browser is None and "page" in item.funcargs:
            browser = item.funcargs["page"].context.browser
        if browser is not None:
            _screenshot_open_pages(browser, re.sub(r"[^\w.-]+", "_", item.name))
    return report


def _screenshot_open_pages(browser, name: str) -> None:
    pages = [p for context in browser.contexts for p in context.pages if not p.is_closed()]
    for i, open_page in enumerate(pages, start=1):
        try:
            screenshot(open_page, name if len(pages) == 1 else f"{name}-{i}")
        except Exception as exc:  # a crashed page must not hide the test's own failure
            sys.stderr.write(f"could not screenshot {open_page.url}: {exc}\n")
