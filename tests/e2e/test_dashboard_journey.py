"""Issue 9's regional dashboard in a real browser: a provincial, a prefecture and a county official each see
their own scope (the numbers differ as the rows say they must), drill down from a region to its children, and
export a table to Excel."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

from portal.models import Post
from tests.conftest import make_tenant, official
from tests.e2e.conftest import screenshot
from tests.e2e.test_review_journey import sign_in
from tests.reports.conftest import build_world
from tests.reports.test_dashboard import expected

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db):
    gz = make_tenant("gz", "贵州省", "520000")
    official(gz, "520000", Post.Role.PROVINCIAL_REVIEWER, username="gz_reviewer")
    official(gz, "520100", Post.Role.PREFECTURE_REVIEWER, username="guiyang")
    official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming")
    return build_world(gz)


def stat(page, name: str) -> int:
    return int(page.locator(f'[data-stat="{name}"]').inner_text())


def cell(page, table: str, key: str, col: str = "n") -> str:
    return page.locator(f'[data-testid="table-{table}"] tr[data-key="{key}"] [data-col="{col}"]').inner_text()


def test_each_official_sees_their_scope_drills_down_and_exports(page, world):
    tenant = world.tenant
    province = expected(tenant, "520000/")
    prefecture = expected(tenant, "520000/520100/")
    county = expected(tenant, "520000/520100/520102/")
    assert province["certified"] > prefecture["certified"] > county["certified"] > 0
    try:
        # the province: the whole tenant, from the navigation
        sign_in(page, "gz_reviewer")
        with page.expect_navigation():
            page.locator('nav.main-nav a[href="/gz/dashboard/"]').click()
        assert stat(page, "certified") == province["certified"]
        assert stat(page, "overdue") == province["overdue"]
        assert int(cell(page, "regions", "520100")) == province["by_child"]["520100"]
        chart = page.locator('[data-testid="chart-regions"] svg[role="img"]')
        assert (
            chart.count() == 1
            and page.locator('[data-testid="chart-regions"] svg > title').first.text_content()
        )
        screenshot(page, "dashboard-province")

        # drill down: 贵阳市, then 南明区
        with page.expect_navigation():
            page.locator('[data-testid="table-regions"] [data-testid="drill-520100"]').click()
        assert stat(page, "certified") == prefecture["certified"]
        with page.expect_navigation():
            page.locator('[data-testid="table-regions"] [data-testid="drill-520102"]').click()
        assert stat(page, "certified") == county["certified"]
        assert "贵州省" in page.locator('[data-testid="region-breadcrumbs"]').inner_text()

        # export the province's table of regions
        page.goto("/gz/dashboard/")
        with page.expect_download() as info:
            page.locator('[data-testid="export-regions"]').click()
        sheet = load_workbook(BytesIO(info.value.path().read_bytes())).active
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        assert rows[-1][1] == province["certified"]  # the total row
        assert {r[0]: r[1] for r in rows[:-1]}["贵阳市"] == province["by_child"]["520100"]

        # the prefecture: its own scope, and not 遵义市's
        sign_in(page, "guiyang")
        page.goto("/gz/dashboard/")
        assert stat(page, "certified") == prefecture["certified"]
        assert stat(page, "overdue") == prefecture["overdue"]
        assert page.locator('[data-testid="table-regions"] tr[data-key="520300"]').count() == 0
        response = page.goto("/gz/dashboard/?region=520300")
        assert response.status == 404
        screenshot(page, "dashboard-prefecture-outside")

        # the county: its own numbers only, no drill-down below it
        sign_in(page, "nanming")
        page.goto("/gz/dashboard/")
        assert stat(page, "certified") == county["certified"]
        assert stat(page, "expiring") == county["expiring"]
        assert int(cell(page, "funnel", "county")) == county["funnel"]["county"]
        assert page.locator('[data-testid="table-regions"] a[data-testid^="drill-"]').count() == 0
        screenshot(page, "dashboard-county")
    except Exception:
        screenshot(page, "dashboard-journey-failure")
        raise
