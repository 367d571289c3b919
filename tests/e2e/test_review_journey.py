"""Issue 5 in a real browser: an enterprise fills, saves, leaves, comes back and submits; the county
returns it with a reason; the enterprise corrects and resubmits; the county and the prefecture recommend;
two experts score; the province approves. Every step shows in the timeline and the audit log."""

from __future__ import annotations

import re

import pytest
from django.core.files.base import ContentFile

from certification.models import Application
from enterprises.models import Document
from portal.models import AuditEvent, Post
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import add_figures, make_expert, make_round
from tests.conftest import make_tenant, official
from tests.e2e.conftest import screenshot
from tests.e2e.second_factor import complete_second_factor
from tests.e2e.steps import complete_application
from tests.enterprises.conftest import make_enterprise
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    gz = make_tenant("gz", "贵州省", "520000")
    program, version = make_program(gz, code="journey_srdi")
    program.min_expert_reviews = 2
    program.save()
    round_ = make_round(program, version, name="2026年专精特新申报")
    owner = UserFactory(username="qianxin")
    enterprise = make_enterprise(gz, "520102", 7, name="贵州黔芯精密机械有限公司", admin=owner)
    enterprise.established_date = enterprise.created_at.date().replace(year=2012)
    enterprise.save()
    add_figures(enterprise)
    for doc_type, name in (
        ("business_licence", "营业执照.pdf"),
        ("audit_report", "审计报告.pdf"),
        ("ip_certificate", "专利证书.pdf"),
    ):
        document = Document(
            enterprise=enterprise,
            doc_type=doc_type,
            original_name=name,
            content_type="application/pdf",
            size=20,
            sha256="a" * 64,
            scan_status=Document.Scan.CLEAN,
        )
        document.file.save(name, ContentFile(b"%PDF-1.4\n% journey\n"), save=False)
        document.save()
    people = {
        "county": official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming"),
        "prefecture": official(gz, "520100", Post.Role.PREFECTURE_REVIEWER, username="guiyang"),
        "province": official(gz, "520000", Post.Role.PROVINCIAL_REVIEWER, username="gz_reviewer"),
        "approver": official(gz, "520000", Post.Role.PROVINCIAL_APPROVER, username="gz_approver"),
        "admin": official(gz, "520000", Post.Role.TENANT_ADMIN, username="gz_admin"),
        "expert_a": make_expert(gz, "expert_a", home_county="520300"),
        "expert_b": make_expert(gz, "expert_b"),
    }
    return {"tenant": gz, "round": round_, "enterprise": enterprise, "owner": owner, **people}


def sign_in(page, username):
    page.context.clear_cookies()
    page.goto("/gz/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    complete_second_factor(page, username)  # provincial posts, funding officers, tenant admins


def decide(page, application, action, opinion, *, minor=False):
    page.goto(f"/gz/review/{application.pk}/")
    page.locator("#decision textarea").fill(opinion)
    if minor:
        page.locator("#decision input[name=minor]").check()
    with page.expect_navigation():
        page.locator(f"[data-testid=act-{action}]").click()


def test_an_application_goes_through_the_whole_chain_in_the_browser(page, world):
    try:
        _journey(page, world)
    except Exception:
        screenshot(page, "review-journey-failure")
        raise


def _journey(page, world):
    round_ = world["round"]
    # The enterprise starts an application for the open round.
    sign_in(page, "qianxin")
    page.goto("/gz/applications/")
    page.locator(f"[data-testid=start-{round_.pk}]").click()
    page.wait_for_url(re.compile(r"/gz/applications/\d+/$"))
    application = Application.objects.get(round=round_)

    # It fills part of the form; the draft saves itself (autosave) before it leaves.
    page.locator("#f-products-main_product").fill("高速精密轴承")
    page.locator("#f-products-niche_market").fill("数控机床主轴轴承")
    page.locator("#f-products-market_share").fill("12.5")
    page.locator("#f-products-main_customers").fill("沈阳机床、大连机床")
    page.locator("#f-products-main_product").focus()
    page.locator("#autosave-status").filter(has_text=re.compile(r"\d{2}:\d{2}")).wait_for()
    page.goto("/gz/")

    # It comes back: what it typed is there, and it completes the rest.
    page.goto(f"/gz/applications/{application.pk}/")
    assert page.locator("#f-products-niche_market").input_value() == "数控机床主轴轴承"
    complete_application(page)
    with page.expect_navigation():
        page.locator("[data-testid=submit]").click()
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED, page.content()[:2000]

    # The county returns it with a reason.
    sign_in(page, "nanming")
    page.goto("/gz/review/")
    page.get_by_role("link", name="贵州黔芯精密机械有限公司").click()
    page.locator("#decision textarea").fill("请补充主要客户的供货合同")
    with page.expect_navigation():
        page.locator("[data-testid=act-return]").click()
    application.refresh_from_db()
    assert application.state == Application.State.RETURNED

    # The enterprise reads the reason, corrects and resubmits.
    sign_in(page, "qianxin")
    page.goto(f"/gz/applications/{application.pk}/")
    assert "请补充主要客户的供货合同" in page.locator("[data-testid=returned-opinion]").inner_text()
    page.locator("#f-products-main_customers").fill("沈阳机床（合同编号 2025-031）、大连机床")
    with page.expect_navigation():
        page.locator("[data-testid=submit]").click()
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED
    assert application.snapshots.count() == 2

    # The county and the prefecture recommend.
    sign_in(page, "nanming")
    decide(page, application, "recommend", "材料齐全，同意推荐")
    sign_in(page, "guiyang")
    page.goto("/gz/review/")
    assert page.get_by_role("link", name="贵州黔芯精密机械有限公司").is_visible()
    decide(page, application, "recommend", "同意推荐至省级")
    application.refresh_from_db()
    assert application.level == "province"

    # The province assigns two experts; approving is refused until both have scored.
    sign_in(page, "gz_reviewer")
    page.goto(f"/gz/review/{application.pk}/")
    for name in ("expert_a", "expert_b"):
        user = world[name]
        with page.expect_navigation():
            page.locator("[data-testid=expert-pool] form").filter(
                has=page.locator(f"input[value='{user.pk}']")
            ).locator("button").click()
    sign_in(page, "gz_approver")
    page.goto(f"/gz/review/{application.pk}/")
    assert page.locator("[data-testid=reason-approve]").inner_text().strip()

    for name, points in (("expert_a", ("22", "20", "16", "26")), ("expert_b", ("20", "18", "15", "24"))):
        sign_in(page, name)
        page.goto("/gz/expert/")
        page.locator("[data-testid=expert-assignments] a").first.click()
        inputs = page.locator(
            "[data-testid=expert-scoring] input[type=text], [data-testid=expert-scoring] input[type=number]"
        )
        for i, value in enumerate(points):
            inputs.nth(i).fill(value)
        page.locator("[data-testid=expert-scoring] textarea").fill("主导产品细分市场地位突出，研发投入稳定")
        with page.expect_navigation():
            page.locator("[data-testid=expert-submit]").click()
        assert page.locator("[data-testid=expert-submitted]").is_visible()

    # The approver sees both scores and the mean, and approves.
    sign_in(page, "gz_approver")
    page.goto(f"/gz/review/{application.pk}/")
    assert "2" in page.locator("[data-testid=experts-count]").inner_text()
    decide(page, application, "approve", "经专家评审，同意认定")
    application.refresh_from_db()
    assert application.state == Application.State.APPROVED

    # Every step is in the timeline …
    timeline = page.locator("[data-testid=timeline]").inner_text()
    for opinion in (
        "请补充主要客户的供货合同",
        "材料齐全，同意推荐",
        "同意推荐至省级",
        "经专家评审，同意认定",
    ):
        assert opinion in timeline
    # … and in the audit log, which the tenant admin filters by action.
    actions = set(AuditEvent.objects.filter(object_id=str(application.pk)).values_list("action", flat=True))
    assert {
        "application.started",
        "application.submit",
        "application.return",
        "application.resubmit",
        "application.recommend",
        "application.assign_expert",
        "application.expert_score",
        "application.approve",
    } <= actions
    sign_in(page, "gz_admin")
    page.goto("/gz/audit/?action=application.approve")
    assert "application.approve" in page.locator("main").inner_text()
