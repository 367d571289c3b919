"""Issue 10: the whole journey in one real browser test, on PostgreSQL with a real Celery worker.

An enterprise registers and verifies its email; enters its profile, three years of figures, a patent and its
documents (scanned by the worker); evaluates itself; applies and submits; the county returns it; it corrects
and resubmits; the county and the prefecture recommend; two experts score; the province approves; a notice is
published; an anonymous objection is dismissed; the list is published and the worker renders the certificate;
the enterprise downloads it and its QR code's URL verifies it; the award is approved and paid.

Each step is one function that acts as a person would and then asserts what that person sees and what the
database holds. Every page the journey visits is checked with axe-core (tests/e2e/a11y.py): no serious or
critical accessibility violation. A failure leaves a screenshot of every open page in test-artifacts/ (the
hook in tests/e2e/conftest.py).

reliability.md T5 (the browser flow: enterprise submit with attachment → county → prefecture → province →
publish), with F6 on the way (the worker's malware scan passes every upload, the enterprise's documents and
the objection's evidence, before they are used) and A9 (provincial and funding posts sign in with a second factor).
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from certification import certificates
from certification.models import Application, Certification, Notice, Objection
from certification.transitions import Action
from enterprises.demo import demo_uscc
from enterprises.models import Document, Enterprise
from funding.models import BankAccount, Budget, Entitlement, PaymentBatch
from portal.models import AuditEvent, Notification, Post
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import make_expert, make_round
from tests.conftest import make_tenant, official
from tests.e2e.a11y import assert_accessible
from tests.e2e.second_factor import complete_second_factor
from tests.e2e.steps import complete_application, enter_three_years_of_figures, file_objection
from tests.e2e.test_review_journey import sign_in
from tests.factories import PASSWORD, UserFactory
from tests.funding.conftest import make_policy
from tests.portal.test_worker import celery_worker_process  # noqa: F401  (a fixture: a real worker process)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "贵州黔芯精密机械有限公司"
ACCOUNT = "6222020200112233445"
WORKER_WAIT = 60  # seconds: the worker's tasks (scans, certificate rendering) finish well within this


@dataclass
class Journey:
    """What the steps share: the people of 贵州省, the open round, and what the journey has made so far."""

    page: object
    live_server_url: str
    round: object
    policy: object
    visited: list[str] = field(default_factory=list)
    enterprise: Enterprise | None = None
    application: Application | None = None
    notice: Notice | None = None
    certification: Certification | None = None

    def check(self, name: str) -> None:
        """The page as the person sees it now passes axe-core."""
        assert_accessible(self.page, name)
        self.visited.append(name)


@pytest.fixture
def world(transactional_db):
    """贵州省 with its officials, an open round of a programme it owns, experts, and an award policy of 贵阳市
    with this year's budget. The enterprise does not exist yet: it registers in the browser.

    MEDIA_ROOT stays the suite's own (tests/settings.py), which the worker process shares through the
    environment: the worker scans the uploads and writes the certificate where the live server reads them."""
    gz = make_tenant("gz", "贵州省", "520000")
    gz.authority_name = "贵州省工业和信息化厅"
    gz.save()
    program, version = make_program(gz, code="gz_srdi")  # tier srdi: 省级专精特新
    program.min_expert_reviews = 2
    program.save()
    round_ = make_round(program, version, name="2026年专精特新申报")
    official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming")
    official(gz, "520100", Post.Role.PREFECTURE_REVIEWER, username="guiyang")
    official(gz, "520000", Post.Role.PROVINCIAL_REVIEWER, username="gz_reviewer")
    official(gz, "520000", Post.Role.PROVINCIAL_APPROVER, username="gz_approver")
    make_expert(gz, "expert_a", home_county="520300")
    make_expert(gz, "expert_b")
    for username in ("funding_a", "funding_b", "funding_c"):
        official(gz, "520100", Post.Role.FUNDING_OFFICER, username=username)
    # The enterprise's finance colleague: invited once the enterprise exists, confirms its bank account.
    UserFactory(username="qianxin_cw")
    policy = make_policy(gz, "520100")  # seed 003: 省级专精特新 50万 paid by 贵阳市
    return {"round": round_, "policy": policy}


@pytest.mark.services
@pytest.mark.usefixtures("celery_worker_process")  # Celery not eager: a worker process runs the tasks
def test_the_whole_journey_from_registration_to_payment_in_the_browser(page, live_server, world):
    journey = Journey(
        page=page, live_server_url=live_server.url, round=world["round"], policy=world["policy"]
    )
    register_and_verify_email(journey)
    enter_profile_figures_ip_and_documents(journey)
    evaluate_itself(journey)
    apply_and_submit(journey)
    county_returns(journey)
    correct_and_resubmit(journey)
    county_and_prefecture_recommend(journey)
    experts_score(journey)
    province_approves(journey)
    notice_is_published(journey)
    objection_is_filed_and_dismissed(journey)
    list_is_published_with_certificates(journey)
    certificate_downloaded_and_verified_by_its_qr_code(journey)
    entitlement_approved_and_paid(journey)
    # every step left its trace in the audit log
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    for action in (
        "enterprise.member_invited",
        "enterprise.member_joined",
        "application.started",
        "application.submit",
        "application.return",
        "application.resubmit",
        "application.recommend",
        "application.assign_expert",
        "application.expert_score",
        "application.approve",
    ):
        assert action in actions, action
    assert len(journey.visited) >= 30, journey.visited


# --- the steps ------------------------------------------------------------------------------------------


def register_and_verify_email(j: Journey) -> None:
    page = j.page
    page.goto("/gz/")
    j.check("tenant home")
    page.get_by_role("link", name="注册", exact=True).first.click()
    j.check("registration form")
    # a first attempt with passwords that differ is refused, with the errors next to the fields
    page.get_by_label("用户名").fill("qianxin")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD + "x")
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()
    assert page.locator("#id_password2").get_attribute("aria-invalid") == "true"
    j.check("registration form with errors")
    assert not Enterprise.objects.exists()
    page.get_by_label("用户名").fill("qianxin")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_label("确认密码").fill(PASSWORD)
    page.get_by_label("统一社会信用代码").fill(demo_uscc("520102", 907))
    page.get_by_label("企业名称").fill(NAME)
    page.get_by_test_id("prefecture-select").select_option(label="贵阳市")
    page.get_by_label("所在县（区）").select_option(label="南明区")
    page.get_by_label("详细地址").fill("南明区花果园大道1号")
    page.get_by_label("所属行业（GB/T 4754-2017）").fill("C3484 机械零部件加工")
    page.get_by_label("法定代表人").fill("王建国")
    page.get_by_label("联系人").fill("李红")
    page.get_by_label("手机号码").fill("13987654321")
    page.get_by_label("电子邮箱").fill("qianxin@example.cn")
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()

    page.wait_for_url(re.compile(r"/gz/enterprise/$"))
    assert page.get_by_test_id("verify-banner").is_visible()
    j.check("enterprise home, email not verified")
    j.enterprise = Enterprise.objects.get(name=NAME)
    assert j.enterprise.county.code == "520102"
    assert j.enterprise.memberships.filter(user__username="qianxin").exists()

    link = re.search(r"http://\S+/verify-email/\S+/", mail.outbox[-1].body).group(0)
    page.goto(link)
    assert "已验证" in page.get_by_role("status").inner_text()
    j.check("email verified")
    j.enterprise.refresh_from_db()
    assert j.enterprise.email_verified_at is not None


def enter_profile_figures_ip_and_documents(j: Journey) -> None:
    page, enterprise = j.page, j.enterprise
    # the profile: the date of establishment an application needs
    page.goto("/gz/enterprise/profile/")
    j.check("enterprise profile")
    page.locator("#id_established_date").fill("2012-05-18")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    enterprise.refresh_from_db()
    assert enterprise.established_date == date(2012, 5, 18)

    # three years of figures
    y1 = enter_three_years_of_figures(page)
    j.check("annual figures")
    assert page.get_by_test_id(f"rd-ratio-{y1}").inner_text() == "5.0%"
    assert enterprise.figures.count() == 3

    # an invention patent
    page.goto("/gz/enterprise/ip/new/")
    j.check("intellectual property form")
    page.get_by_label("类型", exact=True).select_option(label="发明专利")
    page.get_by_label("编号").fill("ZL202310000001.X")
    page.get_by_label("名称", exact=True).fill("一种齿轮箱零部件的加工方法")
    page.get_by_label("授权日期").fill(f"{y1}-03-01")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()
    assert page.get_by_test_id("ip-class").inner_text() == "Ⅰ类"
    j.check("enterprise home with figures and IP")

    # the documents the application's slots take; the worker scans each after its upload's commit
    page.goto("/gz/enterprise/documents/")
    j.check("documents")
    for doc_type, filename in (
        ("business_licence", "营业执照.pdf"),
        ("audit_report", "审计报告.pdf"),
        ("ip_certificate", "专利证书.pdf"),
    ):
        page.get_by_label("文件类型").select_option(doc_type)
        page.get_by_label("文件", exact=True).set_input_files(
            files=[
                {
                    "name": filename,
                    "mimeType": "application/pdf",
                    "buffer": b"%PDF-1.4\n% " + filename.encode(),
                }
            ]
        )
        with page.expect_navigation():
            page.get_by_role("button", name="上传").click()
        assert page.get_by_role("link", name=filename).is_visible()
    wait_for(
        lambda: Document.objects.filter(enterprise=enterprise, scan_status=Document.Scan.CLEAN).count() == 3,
        "the worker to scan the three uploads",
    )
    page.reload()
    with translation.override("zh-hans"):
        clean = str(Document.Scan.CLEAN.label)
    assert page.locator("main .tag").filter(has_text=clean).count() == 3
    j.check("documents scanned")


def evaluate_itself(j: Journey) -> None:
    page = j.page
    page.goto("/gz/self-evaluation/")
    assert page.get_by_role("heading", level=1).inner_text() == "企业自评"
    assert page.get_by_test_id("verdict").is_visible()
    assert page.get_by_test_id("indicators").is_visible()
    j.check("self-evaluation")


def apply_and_submit(j: Journey) -> None:
    page, round_ = j.page, j.round
    page.goto("/gz/applications/")
    j.check("applications")
    with page.expect_navigation():
        page.locator(f"[data-testid=start-{round_.pk}]").click()
    page.wait_for_url(re.compile(r"/gz/applications/\d+/$"))
    j.application = application = Application.objects.get(round=round_, enterprise=j.enterprise)
    assert application.state == Application.State.DRAFT
    j.check("application form")

    page.locator("#f-products-main_product").fill("高速精密轴承")
    page.locator("#f-products-niche_market").fill("数控机床主轴轴承")
    page.locator("#f-products-market_share").fill("12.5")
    page.locator("#f-products-main_customers").fill("沈阳机床、大连机床")
    complete_application(page)
    j.check("application form, complete")
    with page.expect_navigation():
        page.locator("[data-testid=submit]").click()
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED, page.locator("main").inner_text()[:2000]
    assert application.attachments.count() == 3
    j.check("application submitted")


def county_returns(j: Journey) -> None:
    page, application = j.page, j.application
    page.context.clear_cookies()
    page.goto("/gz/login/")
    j.check("sign-in")
    sign_in(page, "nanming")
    page.goto("/gz/me/")
    j.check("county official's workbench")
    page.goto("/gz/review/")
    j.check("county review queue")
    with page.expect_navigation():
        page.get_by_role("link", name=NAME).click()
    j.check("county review of the application")
    page.locator("#decision textarea").fill("请补充主要客户的供货合同")
    with page.expect_navigation():
        page.locator("[data-testid=act-return]").click()
    application.refresh_from_db()
    assert application.state == Application.State.RETURNED
    returned = application.events.last()
    assert (returned.action, returned.level, returned.opinion) == (
        Action.RETURN,
        "county",
        "请补充主要客户的供货合同",
    )


def correct_and_resubmit(j: Journey) -> None:
    page, application = j.page, j.application
    sign_in(page, "qianxin")
    # the county's message is in the enterprise's inbox (written with the return) and the worker emailed it
    wait_for(
        lambda: Notification.objects.filter(
            recipient__username="qianxin", body__contains="请补充主要客户的供货合同", emailed_at__isnull=False
        ).exists(),
        "the worker to email the return notification",
    )
    page.goto("/gz/inbox/")
    assert "请补充主要客户的供货合同" in page.locator("main .inbox").inner_text()
    j.check("enterprise inbox")
    page.goto(f"/gz/applications/{application.pk}/")
    assert "请补充主要客户的供货合同" in page.locator("[data-testid=returned-opinion]").inner_text()
    j.check("returned application")
    page.locator("#f-products-main_customers").fill("沈阳机床（合同编号 2025-031）、大连机床")
    with page.expect_navigation():
        page.locator("[data-testid=submit]").click()
    application.refresh_from_db()
    assert application.state == Application.State.SUBMITTED
    assert application.snapshots.count() == 2
    assert "2025-031" in application.data["products"]["main_customers"]


def decide(j: Journey, action: str, opinion: str, name: str) -> None:
    page = j.page
    page.goto(f"/gz/review/{j.application.pk}/")
    j.check(name)
    page.locator("#decision textarea").fill(opinion)
    with page.expect_navigation():
        page.locator(f"[data-testid=act-{action}]").click()


def county_and_prefecture_recommend(j: Journey) -> None:
    page, application = j.page, j.application
    sign_in(page, "nanming")
    decide(j, "recommend", "材料齐全，同意推荐", "county review of the resubmission")
    application.refresh_from_db()
    assert application.level == "prefecture"
    sign_in(page, "guiyang")
    page.goto("/gz/review/")
    assert page.get_by_role("link", name=NAME).is_visible()
    j.check("prefecture review queue")
    decide(j, "recommend", "同意推荐至省级", "prefecture review")
    application.refresh_from_db()
    assert application.level == "province"
    assert application.state == Application.State.IN_REVIEW


def experts_score(j: Journey) -> None:
    page, application = j.page, j.application
    sign_in_checking_second_factor(j, "gz_reviewer")  # the first provincial sign-in: the enrolment page
    page.goto(f"/gz/review/{application.pk}/")
    j.check("province review with the expert pool")
    for username in ("expert_a", "expert_b"):
        user = Post.objects.get(user__username=username).user
        with page.expect_navigation():
            page.locator("[data-testid=expert-pool] form").filter(
                has=page.locator(f"input[value='{user.pk}']")
            ).locator("button").click()
    assert application.expert_assignments.count() == 2

    for username, points in (("expert_a", ("22", "20", "16", "26")), ("expert_b", ("20", "18", "15", "24"))):
        sign_in(page, username)
        page.goto("/gz/expert/")
        j.check(f"{username}: assignments")
        with page.expect_navigation():
            page.locator("[data-testid=expert-assignments] a").first.click()
        j.check(f"{username}: scoring form")
        inputs = page.locator(
            "[data-testid=expert-scoring] input[type=text], [data-testid=expert-scoring] input[type=number]"
        )
        for i, value in enumerate(points):
            inputs.nth(i).fill(value)
        page.locator("[data-testid=expert-scoring] textarea").fill("主导产品细分市场地位突出，研发投入稳定")
        with page.expect_navigation():
            page.locator("[data-testid=expert-submit]").click()
        assert page.locator("[data-testid=expert-submitted]").is_visible()
        j.check(f"{username}: scores submitted")
    assert application.expert_assignments.filter(submitted_at__isnull=False).count() == 2


def province_approves(j: Journey) -> None:
    page, application = j.page, j.application
    sign_in(page, "gz_approver")
    page.goto(f"/gz/review/{application.pk}/")
    assert "2" in page.locator("[data-testid=experts-count]").inner_text()
    decide(j, "approve", "经专家评审，同意认定", "province approval")
    application.refresh_from_db()
    assert application.state == Application.State.APPROVED
    timeline = page.locator("[data-testid=timeline]").inner_text()
    for opinion in (
        "请补充主要客户的供货合同",
        "材料齐全，同意推荐",
        "同意推荐至省级",
        "经专家评审，同意认定",
    ):
        assert opinion in timeline
    j.check("approved application with its timeline")


def notice_is_published(j: Journey) -> None:
    page = j.page
    page.goto("/gz/notice-admin/")
    j.check("notices (staff)")
    with page.expect_navigation():
        page.locator(f"a[href$='/gz/notice-admin/new/{j.round.pk}/']").first.click()
    j.check("new notice form")
    with page.expect_navigation():
        page.locator("[data-testid=notice-form] button[type=submit]").click()
    j.notice = Notice.objects.get()
    assert j.notice.status == Notice.Status.OPEN
    assert list(j.notice.entries.values_list("application_id", flat=True)) == [j.application.pk]
    j.application.refresh_from_db()
    assert j.application.state == Application.State.IN_NOTICE


def objection_is_filed_and_dismissed(j: Journey) -> None:
    page, notice = j.page, j.notice
    # an anonymous visitor reads the notice (no personal data) and objects with an evidence file
    page.context.clear_cookies()
    page.goto(f"/gz/notices/{notice.pk}/")
    assert NAME in page.locator("[data-testid=notice-entries]").inner_text()
    assert "13987654321" not in page.content()
    j.check("public notice with the objection form")
    file_objection(page)
    objection = Objection.objects.get()
    assert objection.reference in page.locator("main").inner_text()
    j.check("objection received")

    # the worker scans the evidence after the filing's commit; staff see it clean and dismiss the objection
    evidence = objection.evidence.get()
    wait_for(
        lambda: type(evidence).objects.get(pk=evidence.pk).scan_status == "clean",
        "the worker to scan the objection's evidence",
    )
    sign_in_checking_second_factor(j, "gz_approver")  # enrolled before: the code page
    page.goto(f"/gz/notice-admin/{notice.pk}/")
    assert page.locator(f"[data-testid=evidence-scan-{evidence.pk}]").is_visible()
    j.check("notice (staff) with the objection")
    resolve = page.locator(f"[data-testid=resolve-{objection.pk}]")
    resolve.locator("input[value=dismiss]").check()
    resolve.locator("textarea").fill("经核查，该企业材料属实，异议不予采纳。")
    with page.expect_navigation():
        resolve.locator("button[type=submit]").click()
    assert Objection.objects.get().status == Objection.Status.DISMISSED
    assert page.locator("[data-testid=publish-button]").is_disabled()
    j.check("notice (staff), objection dismissed, period running")


def list_is_published_with_certificates(j: Journey) -> None:
    page, notice = j.page, j.notice
    # the notice period passes (the test moves the notice's dates back rather than the worker's clock)
    Notice.objects.filter(pk=notice.pk).update(
        starts_on=notice.starts_on - timedelta(days=20), ends_on=notice.ends_on - timedelta(days=20)
    )
    page.goto(f"/gz/notice-admin/{notice.pk}/")
    with page.expect_navigation():
        page.locator("[data-testid=publish-button]").click()
    j.certification = certification = Certification.objects.get()
    assert certification.enterprise_id == j.enterprise.pk
    assert certification.number == f"GZ-ZJTX-{certification.issued_on.year}-0001"
    j.application.refresh_from_db()
    assert j.application.state == Application.State.PUBLISHED
    # the worker renders the certificate; the staff page shows the progress
    page.locator("#progress-done").filter(has_text="1").wait_for(timeout=WORKER_WAIT * 1000)
    assert page.locator("#progress-total").inner_text() == "1"
    j.check("published list (staff) with certificate progress")
    certification.refresh_from_db()
    assert certification.certificate


def certificate_downloaded_and_verified_by_its_qr_code(j: Journey) -> None:
    page, certification = j.page, j.certification
    sign_in(page, "qianxin")
    page.goto("/gz/enterprise/certifications/")
    j.check("enterprise certifications")
    with page.expect_download() as download_info:
        page.locator(f"[data-testid=certificate-link-{certification.pk}]").click()
    pdf = download_info.value.path()
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    assert NAME in text.stdout and certification.number in text.stdout

    # the QR code, read the way a phone reads it: the page rendered to an image and the code decoded
    image = pdf.parent / f"{pdf.name}-page"
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(pdf), str(image)], check=True)
    decoded = subprocess.run(
        ["zbarimg", "--quiet", "--raw", f"{image}.png"], capture_output=True, text=True, check=False
    ).stdout.split()
    assert decoded == [certificates.verification_url(certification)]
    # followed by an anonymous visitor (on the live server: the same path)
    page.context.clear_cookies()
    page.goto(j.live_server_url + urlsplit(decoded[0]).path)
    assert page.locator("[data-testid=verify-state]").is_visible()
    result = page.locator("[data-testid=verify-result]").inner_text()
    assert NAME in result and certification.number in result
    j.check("public certificate verification")
    page.goto("/gz/directory/")
    assert NAME in page.locator("[data-testid=directory-table]").inner_text()
    j.check("public directory")


def entitlement_approved_and_paid(j: Journey) -> None:
    page, enterprise = j.page, j.enterprise
    entitlement = Entitlement.objects.get(certification=j.certification)
    assert entitlement.state == Entitlement.State.PENDING

    # the enterprise enters its bank account; a colleague confirms it (four eyes)
    sign_in(page, "qianxin")
    page.goto("/gz/awards/bank-account/")
    j.check("bank account form")
    form = page.locator("[data-testid=account-form]")
    form.locator("input[name=account_name]").fill(NAME)
    form.locator("input[name=bank_name]").fill("中国工商银行贵阳南明支行")
    form.locator("input[name=account_number]").fill(ACCOUNT)
    with page.expect_navigation():
        page.locator("[data-testid=propose-account]").click()
    assert page.locator("[data-testid=confirm-reason]").is_visible()
    j.check("bank account waiting for confirmation")
    # … which another member must confirm: the owner invites its finance colleague, who accepts
    page.goto("/gz/enterprise/members/")
    j.check("enterprise members")
    page.locator("#id_email").fill("qianxin_cw@example.cn")
    page.locator("#id_role").select_option("member")
    with page.expect_navigation():
        page.locator("form:has(#id_email) button[type=submit]").click()
    invitation = re.search(r"http://\S+/invitation/\S+/", mail.outbox[-1].body).group(0)
    sign_in(page, "qianxin_cw")
    page.goto(invitation)
    j.check("invitation")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert enterprise.memberships.filter(user__username="qianxin_cw").exists()
    page.goto("/gz/awards/bank-account/")
    with page.expect_navigation():
        page.locator("[data-testid=confirm-account]").click()
    assert BankAccount.objects.get(enterprise=enterprise).state == BankAccount.State.EFFECTIVE

    # funding officer A approves the award within the budget
    sign_in(page, "funding_a")
    page.goto("/gz/funding/entitlements/")
    j.check("entitlements (funding)")
    row = page.locator(f"tr[data-entitlement='{entitlement.pk}']")
    assert row.get_attribute("data-state") == "pending"
    assert NAME in row.inner_text() and "500,000.00" in row.inner_text()
    with page.expect_navigation():
        row.locator("th a").click()
    j.check("entitlement (funding)")
    with page.expect_navigation():
        page.locator("[data-testid=approve]").click()
    assert page.locator("[data-testid=entitlement-state]").get_attribute("data-state") == "approved"
    assert Budget.objects.get(policy=j.policy).committed == Decimal("500000.00")

    # officer B prepares a payment batch; officer C approves it
    sign_in(page, "funding_b")
    page.goto("/gz/funding/batches/")
    j.check("payment batches")
    with page.expect_navigation():
        page.locator("[data-testid=batch-new]").click()
    j.check("new payment batch")
    assert page.locator(f"#pay-{entitlement.pk}").is_checked()
    page.locator("input[name=note]").fill("2026年第一批专精特新奖励")
    with page.expect_navigation():
        page.locator("[data-testid=batch-prepare]").click()
    batch = PaymentBatch.objects.get()
    assert page.locator("[data-testid=batch-state]").get_attribute("data-state") == "prepared"
    assert ACCOUNT not in page.content()
    j.check("payment batch prepared")
    sign_in(page, "funding_c")
    page.goto(f"/gz/funding/batches/{batch.pk}/")
    with page.expect_navigation():
        page.locator("[data-testid=batch-approve]").click()
    assert page.locator("[data-testid=batch-state]").get_attribute("data-state") == "approved"

    # the bank's file, with the full account number; then the bank's reference marks the line paid
    with page.expect_download() as download:
        page.locator("[data-testid=payment-file]").click()
    with open(download.value.path(), "rb") as fh:
        payee = [cell.value for cell in load_workbook(fh).active[2]]
    assert payee[1] == NAME and payee[4] == ACCOUNT
    line = batch.lines.get()
    page.locator(f"input[name='line{line.pk}-bank_reference']").fill("ICBC20261015-0001")
    with page.expect_navigation():
        page.locator("[data-testid=line-mark-paid]").click()
    assert page.locator("[data-testid=batch-state]").get_attribute("data-state") == "paid"
    j.check("payment batch paid")
    entitlement.refresh_from_db()
    assert entitlement.state == Entitlement.State.PAID

    # the enterprise sees the money
    sign_in(page, "qianxin")
    page.goto("/gz/awards/")
    award = page.locator(f"tr[data-entitlement='{entitlement.pk}']")
    assert award.get_attribute("data-state") == "paid"
    assert page.locator("[data-testid=total-paid]").inner_text() == "500,000.00"
    j.check("enterprise awards, paid")


def sign_in_checking_second_factor(j: Journey, username: str) -> None:
    """`sign_in`'s steps, with the second-factor page the person stops at checked like every other page
    (`sign_in` itself passes through it)."""
    page = j.page
    page.context.clear_cookies()
    page.goto("/gz/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    path = urlsplit(page.url).path
    assert path in (reverse("second_factor"), reverse("second_factor_enrol")), path
    j.check(f"second factor: {path}")
    complete_second_factor(page, username)
    assert urlsplit(page.url).path not in (reverse("second_factor"), reverse("second_factor_enrol"))


def wait_for(condition, what: str, timeout: float = WORKER_WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, (
            f"timed out waiting for {what}: see .pytest_cache/celery-worker.log"
        )
        time.sleep(0.3)


# --- the accessibility check itself can fail -------------------------------------------------------------


def test_the_accessibility_check_names_each_serious_violation(page):
    page.set_content(
        '<html lang="zh-CN"><head><title>t</title></head><body><main><h1>表单</h1>'
        '<form><input type="text" name="q"><button type="submit"></button></form>'
        '<img src="data:," ></main></body></html>'
    )
    with pytest.raises(AssertionError) as info:
        assert_accessible(page, "broken form")
    message = str(info.value)
    assert "broken form" in message
    for rule in ("label", "button-name", "image-alt"):
        assert f"- {rule} [critical]" in message, message
    assert 'input[name="q"]' in message or "input" in message
