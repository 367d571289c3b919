"""The enterprise's main path in a browser: register, verify, figures, IP, document; the county sees it."""

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from enterprises.demo import demo_uscc
from enterprises.models import Enterprise
from portal.management.commands.seed_demo import DEMO_PASSWORD
from tests.e2e.conftest import screenshot
from tests.e2e.second_factor import complete_second_factor
from tests.e2e.steps import enter_three_years_of_figures

pytestmark = pytest.mark.browser


def sign_in(page, username, password=DEMO_PASSWORD):
    page.goto("/gz/login/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="登录").click()
    complete_second_factor(page, username)  # provincial posts, funding officers, tenant admins


def test_enterprise_registers_enters_figures_and_the_county_sees_it(page, demo, tmp_path):
    code = demo_uscc("520102", 901)
    page.goto("/gz/")
    page.get_by_role("link", name="注册", exact=True).first.click()
    page.get_by_label("用户名").fill("qianxin")
    page.get_by_label("密码", exact=True).fill("Qianxin-2026-pass")
    page.get_by_label("确认密码").fill("Qianxin-2026-pass")
    # a code typed with a full-width input method and lower case is accepted
    page.get_by_label("统一社会信用代码").fill(code[:10] + code[10:].lower())
    page.get_by_label("企业名称").fill("贵州黔新智造科技有限公司")
    page.get_by_test_id("prefecture-select").select_option(label="贵阳市")
    page.get_by_label("所在县（区）").select_option(label="南明区")
    page.get_by_label("详细地址").fill("南明区花果园大道1号")
    page.get_by_label("所属行业（GB/T 4754-2017）").fill("C3484 机械零部件加工")
    page.get_by_label("法定代表人").fill("王建国")
    page.get_by_label("联系人").fill("李红")
    page.get_by_label("手机号码").fill("13987654321")
    page.get_by_label("电子邮箱").fill("qianxin@example.cn")
    page.get_by_role("button", name="注册").click()

    expect(page).to_have_url(re.compile(r"/gz/enterprise/$"))
    expect(page.get_by_test_id("verify-banner")).to_be_visible()
    enterprise = Enterprise.objects.get(uscc=code)
    link = re.search(r"http://\S+/verify-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    expect(page.get_by_role("status")).to_contain_text("已验证")
    page.get_by_role("link", name="进入我的企业").click()
    expect(page.get_by_test_id("verify-banner")).to_have_count(0)

    # three years of figures
    page.get_by_role("link", name="年度经营数据").first.click()
    y1 = enter_three_years_of_figures(page)
    expect(page.get_by_test_id(f"rd-ratio-{y1}")).to_have_text("5.0%")
    expect(page.get_by_test_id("size-class")).to_have_text("小型")
    expect(page.get_by_test_id("cagr")).to_have_text("22.5%")

    # an invention patent
    page.goto("/gz/enterprise/")
    page.get_by_role("link", name="添加知识产权").click()
    page.get_by_label("类型", exact=True).select_option(label="发明专利")
    page.get_by_label("编号").fill("ZL202310000001.X")
    page.get_by_label("名称", exact=True).fill("一种齿轮箱零部件的加工方法")
    page.get_by_label("授权日期").fill(f"{y1}-03-01")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("ip-class")).to_have_text("Ⅰ类")

    # a document
    pdf = tmp_path / "营业执照.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    page.goto("/gz/enterprise/documents/")
    page.get_by_label("文件类型").select_option(label="营业执照")
    page.get_by_label("文件", exact=True).set_input_files(str(pdf))
    page.get_by_role("button", name="上传").click()
    expect(page.get_by_role("link", name="营业执照.pdf")).to_be_visible()
    screenshot(page, "enterprise-documents")
    page.goto("/gz/enterprise/")
    screenshot(page, "enterprise-home")

    # the county official sees it; the neighbouring county does not
    page.get_by_role("button", name="退出").click()
    sign_in(page, "gz_county")
    page.get_by_role("link", name="辖区企业").first.click()
    page.get_by_label("企业名称或信用代码").fill("黔新智造")
    page.get_by_role("button", name="查询").click()
    page.get_by_role("link", name="贵州黔新智造科技有限公司").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("贵州黔新智造科技有限公司")
    expect(page.get_by_test_id("size-class")).to_have_text("小型")
    screenshot(page, "official-enterprise")
    detail_url = page.url
    page.get_by_role("button", name="退出").click()
    sign_in(page, "gz_county2")
    response = page.goto(detail_url)
    assert response.status == 404
    assert enterprise.pk
