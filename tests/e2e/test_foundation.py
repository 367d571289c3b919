import re

import pytest
from playwright.sync_api import expect

from portal.management.commands.seed_demo import DEMO_PASSWORD
from portal.models import Notification
from tests.e2e.conftest import screenshot

pytestmark = pytest.mark.browser


def test_official_signs_in_in_chinese_and_lands_on_the_role_page(page, demo):
    page.goto("/gz/")
    expect(page.locator("h1")).to_contain_text("贵州省")
    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("用户名").fill("gz_county")
    page.get_by_label("密码").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/gz/me/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的工作台")
    expect(page.get_by_test_id("role-title")).to_have_text("县区审核员 · 南明区")
    # the unread notifications (the welcome and the demo applications waiting at 南明区) are counted
    unread = Notification.objects.filter(recipient__username="gz_county", read_at__isnull=True).count()
    assert unread > 1
    expect(page.locator(".inbox-link .badge")).to_have_text(str(unread))
    screenshot(page, "dashboard-county")
    # the jurisdiction the post gives: 南明区 only
    page.get_by_role("link", name="辖区", exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("辖区")
    expect(page.get_by_role("link", name="南明区", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="云岩区", exact=True)).to_have_count(0)


def test_wrong_password_is_refused_without_saying_whether_the_user_exists(page, demo):
    page.goto("/gz/login/")
    page.get_by_label("用户名").fill("gz_county")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    alert = page.locator("#form-errors")
    expect(alert).to_contain_text("请输入一个正确的")
    text_known = alert.inner_text()
    page.get_by_label("用户名").fill("no_such_user")
    page.get_by_label("密码").fill("wrong-password")
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#form-errors")).to_have_text(text_known)


def test_language_switch_changes_the_page_and_back(page, demo):
    page.goto("/gz/")
    expect(page.get_by_role("link", name="登录").first).to_be_visible()
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    expect(page.get_by_role("link", name="Sign in").first).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screenshot(page, "home-en")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()
    expect(page.get_by_role("link", name="登录").first).to_be_visible()
    screenshot(page, "home-zh")


def test_keyboard_users_can_skip_to_the_content(page, demo):
    page.goto("/gz/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="跳转至主要内容")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_unknown_tenant_shows_the_chinese_404_page(page, demo):
    response = page.goto("/nope/")
    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("页面不存在")
