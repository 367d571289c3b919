"""The Content-Security-Policy in a real browser (reliability.md D3): every main page of every role on the demo
renders with zero CSP violations, so no page relies on an inline script, style or handler that the policy
refuses; and the things the inline code used to do still happen (the tenant's colour, the score bars, the
Swagger UI)."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from tests.e2e.test_enterprises import sign_in

pytestmark = pytest.mark.browser

# Recorded in the page before any of its own code runs; an init script comes through the DevTools protocol, so
# the policy under test does not apply to it.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || "inline"} at ${e.sourceFile}:${e.lineNumber}`);
});
"""

# Each role's sign-in and the pages it starts from; the test then follows every link of the main navigation and
# of the workspace (same site, GET), up to PAGES_PER_ROLE pages per role.
ROLES = {
    "enterprise": ("gz_ent1", ["/gz/me/", "/gz/enterprise/"]),
    "county": ("gz_county", ["/gz/me/"]),
    "prefecture": ("gz_prefecture", ["/gz/me/"]),
    "province": ("gz_province", ["/gz/me/"]),
    "approver": ("gz_approver", ["/gz/me/"]),
    "expert": ("gz_expert", ["/gz/me/"]),
    "funding": ("gz_funding", ["/gz/me/"]),
    "commissioner": ("gz_commissioner", ["/gz/me/"]),
    "tenant_admin": ("gz_admin", ["/gz/me/"]),
}
PAGES_PER_ROLE = 14
# Links that change state on GET would be a bug of their own; these only leave the portal's pages.
SKIP = ("/logout/", "/api/", "/admin/", ".xlsx", ".pdf", "/download", "/export")


class Watcher:
    """Collects CSP complaints from the console and from securitypolicyviolation events, per page."""

    def __init__(self, page):
        self.page = page
        self.console: list[str] = []
        page.context.add_init_script(RECORD_VIOLATIONS)
        page.on("console", self._on_console)

    def _on_console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def visit(self, path: str) -> list[str]:
        self.console.clear()
        response = self.page.goto(path)
        self.page.wait_for_load_state("load")
        events = self.page.evaluate("window.__cspViolations || []")
        crashed = [f"answered {response.status}"] if response is None or response.status >= 500 else []
        return [f"{path}: {v}" for v in [*crashed, *self.console, *events]]


def links_on(page, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "nav a[href], main a[href]", "els => els.map(e => e.getAttribute('href'))"
    )
    host = urlparse(base).netloc
    found = []
    for href in hrefs:
        parsed = urlparse(href)
        if parsed.netloc and parsed.netloc != host:
            continue
        path = parsed.path
        if not path.startswith("/gz/") or any(s in path for s in SKIP) or path in found:
            continue
        found.append(path)
    return found


def test_public_pages_render_without_csp_violations(page, demo, live_server):
    watcher = Watcher(page)
    violations = []
    for path in ["/", "/gz/", "/gz/login/", "/accounts/login/", "/gz/register/"]:
        violations += watcher.visit(path)
    for path in links_on(page, live_server.url)[:PAGES_PER_ROLE]:
        violations += watcher.visit(path)
    assert not violations, "\n".join(violations)


def test_every_roles_main_pages_render_without_csp_violations(page, demo, live_server):
    # One test for all roles: the demo is seeded once.
    watcher = Watcher(page)
    violations: list[str] = []
    for role, (username, starts) in ROLES.items():
        page.context.clear_cookies()
        sign_in(page, username)
        seen: list[str] = []
        queue = list(starts)
        while queue and len(seen) < PAGES_PER_ROLE:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.append(path)
            violations += [f"{role} {v}" for v in watcher.visit(path)]
            assert "/login/" not in page.url, f"{role} was not signed in at {path}"
            queue += [p for p in links_on(page, live_server.url) if p not in seen]
        assert len(seen) >= 3, (role, seen)
    assert not violations, "\n".join(violations)


def test_tenant_colour_and_score_bars_work_without_inline_style(page, demo):
    from portal.models import Tenant

    Tenant.objects.filter(code="gz").update(primary_color="#0b6e4f")
    watcher = Watcher(page)
    assert watcher.visit("/gz/") == []
    background = page.eval_on_selector(".site-header", "el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(11, 110, 79)"
    # the self-evaluation's bars are drawn to scale (an SVG rect per group, no style attribute)
    sign_in(page, "gz_ent1")
    page.get_by_role("link", name="企业自评").first.click()
    expect(page.get_by_test_id("screening-result")).to_be_visible()
    bars = page.locator("svg.bar rect.bar-fill")
    assert bars.count() > 0
    width = float(bars.first.get_attribute("width"))
    assert 0 <= width <= 100
    box = page.locator("svg.bar").first.bounding_box()
    fill_box = bars.first.bounding_box()
    assert box is not None and fill_box is not None
    assert abs(fill_box["width"] - box["width"] * width / 100) < 2
    assert page.evaluate("window.__cspViolations") == []


def test_swagger_ui_renders_under_the_policy(page, demo):
    watcher = Watcher(page)
    violations = watcher.visit("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("SRDI Portal API")
    expect(page.locator(".opblock").first).to_be_visible()
    violations += [f"/api/docs/ (after render): {v}" for v in page.evaluate("window.__cspViolations")]
    assert not violations, "\n".join(violations)
