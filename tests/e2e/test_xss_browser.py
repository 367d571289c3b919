"""Stored XSS in a real browser (reliability.md V3, T5): the demo portal with script payloads stored in every
enterprise's name, every opinion, every objection's grounds and every notice entry; the officials' and the
public pages open in chromium, and no payload ever runs (a dialog fails the test) or becomes an element."""

from __future__ import annotations

import pytest
from django.db.models import Value
from django.db.models.functions import Concat

from certification.models import ExpertAssignment, NoticeEntry, Objection, ReviewEvent
from enterprises.models import Enterprise
from tests.e2e.test_enterprises import sign_in

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
PAYLOAD = f"{SCRIPT}{IMG}{JS_URL}"


@pytest.fixture
def poisoned(demo):
    """Every stored text an outsider or an official can type, with the payloads appended."""
    Enterprise.objects.update(name=Concat("name", Value(PAYLOAD)))
    NoticeEntry.objects.update(enterprise_name=Concat("enterprise_name", Value(PAYLOAD)))
    ReviewEvent.objects.exclude(opinion="").update(opinion=Concat("opinion", Value(PAYLOAD)))
    ExpertAssignment.objects.exclude(opinion="").update(opinion=Concat("opinion", Value(PAYLOAD)))
    Objection.objects.update(grounds=Concat("grounds", Value(PAYLOAD)))
    from django.core.cache import cache

    cache.clear()  # the directory and dashboards cache what they render from


class DialogTrap:
    """Any alert/confirm/prompt is a payload that ran."""

    def __init__(self, page):
        self.fired: list[str] = []
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog):
        self.fired.append(f"{dialog.type}: {dialog.message} at {dialog.page.url if dialog.page else '?'}")
        dialog.dismiss()


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    page.wait_for_load_state("load")
    # the payloads are text in the page, never elements or links
    assert page.locator("img[src='x']").count() == 0, path
    assert page.locator("a[href^='javascript:' i]").count() == 0, path


def links(page, prefix: str, limit: int) -> list[str]:
    """Links to one object's page below `prefix` (…/<pk>/), at most `limit`."""
    hrefs = page.eval_on_selector_all("main a[href]", "els => els.map(e => e.getAttribute('href'))")
    pages = [h for h in hrefs if h and h.startswith(prefix) and h[len(prefix) :].rstrip("/").isdigit()]
    return list(dict.fromkeys(pages))[:limit]


def test_no_stored_payload_runs_on_the_officials_and_public_pages(page, poisoned):
    trap = DialogTrap(page)
    # the public side: the notices, one notice with its entries, the directory
    visit(page, "/gz/notices/")
    for path in links(page, "/gz/notices/", 2):
        visit(page, path)
    visit(page, "/gz/directory/")
    assert page.get_by_text(SCRIPT, exact=False).count() > 0, "the directory shows the names as text"
    for path in links(page, "/gz/directory/", 1):
        visit(page, path)
    # the county official: the enterprise list, the review queue and an application under review
    sign_in(page, "gz_county")
    visit(page, "/gz/enterprises/")
    assert page.get_by_text(SCRIPT, exact=False).count() > 0, "the list shows the names as text"
    visit(page, "/gz/review/")
    reviews = links(page, "/gz/review/", 2)
    assert reviews, "the demo has applications in the county's queue"
    for path in reviews:
        visit(page, path)
    # the province: its queue, the notices it manages and their objections
    page.context.clear_cookies()
    sign_in(page, "gz_approver")
    visit(page, "/gz/review/")
    for path in links(page, "/gz/review/", 1):
        visit(page, path)
    visit(page, "/gz/notice-admin/")
    for path in links(page, "/gz/notice-admin/", 2):
        visit(page, path)
    assert trap.fired == []
