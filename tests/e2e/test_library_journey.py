"""Issue 7's cultivation library in a real browser: a county official sees its shortfall against the target the
prefecture set, finds an enterprise of its county and adds it to the library, moves it to 培育 with a note,
reads the entry's history, and sees the shortfall go down."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from certification import library
from certification.models import LibraryEntry
from portal.models import Post
from tests.certification.conftest import make_program
from tests.conftest import make_tenant, official, region
from tests.e2e.conftest import screenshot
from tests.e2e.test_review_journey import sign_in
from tests.enterprises.conftest import make_enterprise

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db):
    gz = make_tenant("gz", "贵州省", "520000")
    program, _version = make_program(gz, code="gz_srdi")
    county = official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming")
    prefecture = official(gz, "520100", Post.Role.PREFECTURE_REVIEWER, username="guiyang")
    enterprise = make_enterprise(gz, "520102", 7, name="贵州苗绣民族工艺品有限公司")
    make_enterprise(gz, "520103", 8, name="贵州云岩苗绣有限公司")  # next door: never offered to 南明区
    # 南明区: 30 regulated industrial enterprises → ⌈3⌉ = 3, minimum 2 → target 3
    library.library_target_save(
        region=region(gz, "520102"),
        year=library.today_year(),
        regulated_enterprises=30,
        share_percent=Decimal(10),
        minimum=2,
        by=prefecture,
    )
    return {"program": program, "county": county, "enterprise": enterprise}


def shortfall(page) -> str:
    return page.locator('tr[data-region="520102"] [data-col="shortfall"]').inner_text().split()[0]


def test_an_official_adds_an_enterprise_moves_it_to_cultivating_and_the_shortfall_goes_down(page, world):
    try:
        sign_in(page, "nanming")
        page.goto("/gz/library/targets/")
        assert shortfall(page) == "3"
        assert page.locator('tr[data-region="520102"] [data-col="target"]').inner_text() == "3"
        assert page.locator('[data-testid="targets-chart"]').count() == 1

        # find the enterprise by name and add it at 储备
        page.locator('[data-testid="library-add-link"]').click()
        page.locator("#library-q").fill("苗绣")
        with page.expect_navigation():
            page.locator('[data-testid="library-search"] button[type=submit]').click()
        options = page.locator('input[name="enterprise"]')
        assert options.count() == 1  # 云岩区's 苗绣 enterprise is outside 南明区
        options.first.check()
        page.locator("#id_program").select_option(str(world["program"].pk))
        page.locator("#id_stage").select_option("reserve")
        page.locator("#id_note").fill("非遗苗绣工艺，发明专利不足，列入储备")
        with page.expect_navigation():
            page.locator('[data-testid="library-add-submit"]').click()
        assert re.search(r"/gz/library/\d+/$", page.url)
        assert (
            "储备" in page.locator('[data-testid="entry-stage"]').inner_text()
            or "reserve" in page.locator('[data-testid="entry-stage"]').inner_text()
        )

        # a move without a note is refused, naming the field
        page.locator("#id_to_stage").select_option("cultivating")
        with page.expect_navigation():
            page.locator('[data-testid="move-submit"]').click()
        assert page.locator('[data-testid="problem-summary"]').is_visible()
        # then moved to 培育 with a note
        page.locator("#id_to_stage").select_option("cultivating")
        page.locator("#id_note").fill("已与贵州大学共建研发中心，转入培育")
        with page.expect_navigation():
            page.locator('[data-testid="move-submit"]').click()
        history = page.locator('[data-testid="library-history"] tbody tr')
        assert history.count() == 2
        assert "已与贵州大学共建研发中心，转入培育" in history.nth(1).inner_text()
        assert history.nth(1).get_attribute("data-kind") == "moved"
        entry = LibraryEntry.objects.get(enterprise=world["enterprise"])
        assert entry.stage == "cultivating"

        # the target's shortfall went down by one
        page.locator('[data-testid="library-targets-link"]').click()
        page.wait_for_load_state()
        assert shortfall(page) == "2"
        assert page.locator('tr[data-region="520102"] [data-col="current"]').inner_text() == "1"
        screenshot(page, "library-targets")
    except Exception:
        screenshot(page, "library-journey-failure")
        raise
