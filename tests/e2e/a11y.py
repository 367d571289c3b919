"""Accessibility checks in the browser tests: axe-core, from its npm package (package.json), run on a page.

`make install` runs `npm ci`, which puts axe-core in node_modules/. Locally the check skips with a reason when
it is missing; in CI (which installs npm) that is a failure like any missing service.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from tests.conftest import require

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# What fails a page: WCAG's "serious" and "critical" problems (a missing label, text without contrast, a
# button without a name). "minor" and "moderate" ones are reported by axe but left to review.
FAILING_IMPACTS = ("serious", "critical")


@cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page) -> list[dict]:
    """Every axe-core violation on the page as it is now, with its impact, help and failing elements."""
    require(AXE.exists(), f"needs axe-core from npm: run `npm ci` (make install); {AXE} is missing")
    # page.evaluate, never add_script_tag: the portal's Content-Security-Policy refuses inline scripts, and
    # code evaluated through the DevTools protocol is not subject to it.
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    return page.evaluate(
        """async () => {
            const results = await axe.run(document, {resultTypes: ["violations"]});
            return results.violations.map((v) => ({
                id: v.id,
                impact: v.impact,
                help: v.help,
                helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(" "),
                    impact: n.impact,
                    summary: n.failureSummary,
                })),
            }));
        }"""
    )


def format_violations(name: str, url: str, violations: list[dict]) -> str:
    lines = [f"{name} ({url}): {len(violations)} serious or critical accessibility violation(s)"]
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"]:
            lines.append(f"    {node['target']}")
            if node.get("summary"):
                lines.extend(f"      {line}" for line in node["summary"].splitlines())
    return "\n".join(lines)


def assert_accessible(page, name: str) -> None:
    """Fail listing rule, impact, target and help for every serious or critical axe-core violation."""
    failing = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    assert not failing, format_violations(name, page.url, failing)
