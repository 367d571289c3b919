"""Issue 7, annual monitoring, in a real browser: a certified enterprise confirms its figures of last year
(its debt ratio is 80%); the county's reviewer sees the warning with the failing rule and its value on
the monitoring pages and resolves it."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from certification.models import AnnualUpdate, MonitoringWarning
from portal.models import Post
from tests.certification.conftest import make_program
from tests.certification.test_directory import Certifier
from tests.certification.test_monitoring import MONITORED, set_figures
from tests.conftest import make_tenant, official
from tests.e2e.conftest import screenshot
from tests.e2e.test_review_journey import sign_in
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db):
    gz = make_tenant("gz", "贵州省", "520000")
    program, version = make_program(gz, code="monitored_srdi", definition=MONITORED)
    owner = UserFactory(username="qianxin")
    enterprise = make_enterprise(gz, "520102", 7, name="贵州黔芯精密机械有限公司", admin=owner)
    # the figures of the last fiscal year: liabilities 8,000 of assets 10,000
    set_figures(enterprise, year=timezone.localdate().year - 1, liabilities="8000")
    certification = Certifier(gz, program, version).certify(enterprise, issued_on=date(2025, 3, 1))
    county = official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming")
    return {"enterprise": enterprise, "certification": certification, "county": county}


def test_an_enterprise_confirms_its_figures_and_the_county_resolves_the_warning(page, world):
    try:
        _journey(page, world)
    except Exception:
        screenshot(page, "monitoring-journey-failure")
        raise


def _journey(page, world):
    enterprise = world["enterprise"]
    fiscal_year = timezone.localdate().year - 1

    # The enterprise reviews its figures of last year and confirms them.
    sign_in(page, "qianxin")
    page.goto("/gz/enterprise/annual-update/")
    summary = page.locator("[data-testid=figures-summary]")
    assert "80.00%" in summary.inner_text()
    assert page.locator("[data-testid=edit-figures]").get_attribute("href") == (
        f"/gz/enterprise/figures/?year={fiscal_year}"
    )
    with page.expect_navigation():
        page.locator("[data-testid=confirm-update]").click()
    update = AnnualUpdate.objects.get(enterprise=enterprise)
    assert update.fiscal_year == fiscal_year
    assert page.locator("[data-testid=confirm-update]").count() == 0
    assert (
        str(timezone.localdate(update.submitted_at).year)
        in page.locator("[data-testid=update-status]").inner_text()
    )
    # The condition its figures fail is shown to the enterprise too.
    assert "上年末资产负债率不高于70%" in page.locator("[data-testid=enterprise-warnings]").inner_text()
    warning = MonitoringWarning.objects.get(certification=world["certification"])
    assert warning.rule == "debt_ratio"

    # The county's reviewer finds the warning from the monitoring page and resolves it.
    sign_in(page, "nanming")
    page.goto("/gz/monitoring/")
    assert page.locator("[data-testid=status-chart]").count() == 1
    assert page.locator("[data-count=submitted]").inner_text() == "1"
    page.locator("[data-testid=nav-warnings]").click()
    row = page.locator(f"tr[data-warning='{warning.pk}']")
    assert row.get_attribute("data-rule") == "debt_ratio"
    assert "80.00%" in row.inner_text() and str(warning.fiscal_year) in row.inner_text()
    row.locator("textarea").fill("已上门核实：因新建厂房贷款负债率上升，企业已制定压降计划")
    with page.expect_navigation():
        row.locator("button[type=submit]").click()
    assert page.locator(f"tr[data-warning='{warning.pk}']").count() == 0
    warning.refresh_from_db()
    assert warning.resolved_at is not None
    assert warning.resolved_by == world["county"]
    assert warning.resolution.startswith("已上门核实")

    # It now appears among the resolved warnings, with the resolution.
    page.goto("/gz/monitoring/warnings/?state=resolved")
    assert "已上门核实" in page.locator(f"tr[data-warning='{warning.pk}']").inner_text()
