"""Screening in a browser: an enterprise's self-evaluation, the public calculator, an official's batch."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot
from tests.e2e.test_enterprises import sign_in

pytestmark = pytest.mark.browser


def test_enterprise_sees_its_self_evaluation_with_score_and_unmet_conditions(page, demo):
    sign_in(page, "gz_ent1")
    page.get_by_role("link", name="企业自评").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("企业自评")
    expect(page.get_by_test_id("verdict")).to_be_visible()
    expect(page.get_by_test_id("indicators")).to_be_visible()
    screenshot(page, "self-evaluation")
    # another programme from the list
    page.get_by_role("navigation", name="申报项目").get_by_role("link").nth(1).click()
    expect(page.get_by_test_id("screening-result")).to_be_visible()


def test_anyone_can_use_the_calculator_without_signing_in(page, demo):
    page.goto("/gz/")
    page.get_by_role("link", name="认定条件自测").first.click()
    page.get_by_label("申报项目").select_option(index=0)
    page.get_by_label("行业代码（GB/T 4754-2017）").fill("C3484")
    page.get_by_label("上年末从业人员").fill("120")
    page.get_by_label("上年度营业收入（万元）").fill("3000")
    page.get_by_label("上年度研发费用（万元）").fill("180")
    page.get_by_role("button", name="测算").click()
    expect(page.get_by_test_id("verdict")).to_be_visible()
    expect(page.get_by_test_id("result-size")).to_have_text("小型")
    screenshot(page, "calculator")


def test_official_screens_a_prefecture_and_watches_the_progress(page, demo):
    sign_in(page, "gz_prefecture")
    page.get_by_role("link", name="筛查").first.click()
    page.get_by_label("适用标准版本").select_option(index=0)
    page.get_by_label("区域").select_option(label="贵阳市")
    page.get_by_role("button", name="开始筛查").click()
    expect(page).to_have_url(re.compile(r"/gz/screening/batches/\d+/$"))
    expect(page.get_by_test_id("batch-progress")).to_have_attribute("value", re.compile(r"\d+"))
    expect(page.get_by_test_id("batch-counts")).to_be_visible(timeout=20000)
    screenshot(page, "screening-batch")
