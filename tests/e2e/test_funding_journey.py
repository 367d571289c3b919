"""Issue 8 in a real browser: publishing a certification creates its award; funding officer A approves it
within the budget; officer B prepares a payment batch; officer C approves it; the payment file downloads
with the full account number (masked on screen); the batch is marked paid with the bank's reference; the
enterprise sees the money on its awards page; a revocation for false information then creates a clawback
that the officers see."""

from __future__ import annotations

from decimal import Decimal

import pytest
from openpyxl import load_workbook

from certification import workflow
from certification.models import Certification
from funding import services
from funding.account_numbers import mask_account_number
from funding.models import Budget, Entitlement, PaymentBatch, Receivable
from portal.models import Post
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import Chain, drive, fill, make_expert, make_round
from tests.conftest import make_tenant, official
from tests.e2e.conftest import screenshot
from tests.e2e.test_review_journey import sign_in
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory
from tests.funding.conftest import make_policy

pytestmark = pytest.mark.django_db(transaction=True)

NUMBER = "6222020200112233445"
PDF_BYTES = b"%PDF-1.4\n% evidence\n%%EOF\n"


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    gz = make_tenant("gz", "贵州省", "520000")
    program, version = make_program(gz, code="gz_srdi")  # tier srdi: 省级专精特新
    program.min_expert_reviews = 1
    program.save()
    round_ = make_round(program, version, name="2026年专精特新申报")
    chain = (
        official(gz, "520102", "county_reviewer", username="nanming"),
        official(gz, "520100", "prefecture_reviewer", username="guiyang"),
        official(gz, "520000", "provincial_reviewer", username="gz_reviewer"),
        official(gz, "520000", "provincial_approver", username="gz_approver"),
        [make_expert(gz, "expert_a")],
    )
    for username in ("funding_a", "funding_b", "funding_c"):
        official(gz, "520100", Post.Role.FUNDING_OFFICER, username=username)
    # seed 003's schedule paid by 贵阳: 省级专精特新 50万, a budget of 1000万 this year
    policy = make_policy(gz, "520100")
    owner = UserFactory(username="qianxin")
    finance = UserFactory(username="qianxin_cw")
    enterprise = make_enterprise(gz, "520102", 7, name="贵州黔芯精密机械有限公司", admin=owner)
    enterprise.memberships.create(user=finance)
    account = services.bank_account_propose(
        enterprise=enterprise,
        by=owner,
        account_name=enterprise.name,
        bank_name="中国工商银行贵阳南明支行",
        account_number=NUMBER,
    )
    services.bank_account_confirm(account=account, by=finance)
    # published through the real workflow: the on-commit receiver creates the award
    application = fill(workflow.application_start(round_=round_, enterprise=enterprise, by=owner), owner)
    drive(application, "published", Chain(owner, *chain))
    return {
        "certification": Certification.objects.get(application=application),
        "policy": policy,
        "enterprise": enterprise,
    }


def test_an_award_from_publication_to_payment_and_clawback_in_the_browser(page, world):
    try:
        _journey(page, world)
    except Exception:
        screenshot(page, "funding-journey-failure")
        raise


def _journey(page, world):
    certification, policy = world["certification"], world["policy"]
    entitlement = Entitlement.objects.get(certification=certification)

    # Officer A finds the award publication created, through the navigation, and approves it.
    sign_in(page, "funding_a")
    page.goto("/gz/me/")
    with page.expect_navigation():
        page.locator("nav.main-nav a[href='/gz/funding/entitlements/']").click()
    row = page.locator(f"tr[data-entitlement='{entitlement.pk}']")
    assert row.get_attribute("data-state") == "pending"
    assert "贵州黔芯精密机械有限公司" in row.inner_text() and "500,000.00" in row.inner_text()
    with page.expect_navigation():
        row.locator("th a").click()
    with page.expect_navigation():
        page.locator("[data-testid=approve]").click()
    assert page.locator("[data-testid=entitlement-state]").get_attribute("data-state") == "approved"
    assert Budget.objects.get(policy=policy).committed == Decimal("500000.00")

    # Officer B prepares a batch of the approved award; B cannot approve what B prepared.
    sign_in(page, "funding_b")
    page.goto("/gz/funding/batches/")
    with page.expect_navigation():
        page.locator("[data-testid=batch-new]").click()
    checkbox = page.locator(f"#pay-{entitlement.pk}")
    assert checkbox.is_checked()
    assert page.locator("[data-selected-total] output").inner_text() == "500,000.00"  # funding.js
    page.locator("input[name=note]").fill("2026年第一批专精特新奖励")
    with page.expect_navigation():
        page.locator("[data-testid=batch-prepare]").click()
    batch = PaymentBatch.objects.get()
    assert page.locator("[data-testid=batch-state]").get_attribute("data-state") == "prepared"
    assert page.locator("[data-testid=approve-reason]").is_visible()
    assert page.locator("[data-testid=line-account]").inner_text() == mask_account_number(NUMBER)
    assert NUMBER not in page.content()

    # Officer C approves it: frozen, with its digest.
    sign_in(page, "funding_c")
    page.goto(f"/gz/funding/batches/{batch.pk}/")
    with page.expect_navigation():
        page.locator("[data-testid=batch-approve]").click()
    assert page.locator("[data-testid=batch-state]").get_attribute("data-state") == "approved"
    batch.refresh_from_db()
    assert page.locator("[data-testid=batch-digest]").inner_text() == batch.sha256

    # The payment file downloads, with the full account number for the bank.
    with page.expect_download() as download:
        page.locator("[data-testid=payment-file]").click()
    assert download.value.suggested_filename == f"{batch.reference}.xlsx"
    with open(download.value.path(), "rb") as fh:
        sheet = load_workbook(fh).active
    payee = [cell.value for cell in sheet[2]]
    assert payee[1] == "贵州黔芯精密机械有限公司" and payee[4] == NUMBER
    assert Decimal(str(payee[5])) == Decimal("500000")

    # The bank paid: the line is recorded with its reference and the batch is paid.
    line = batch.lines.get()
    page.locator(f"input[name='line{line.pk}-bank_reference']").fill("ICBC20261015-0001")
    with page.expect_navigation():
        page.locator("[data-testid=line-mark-paid]").click()
    assert page.locator("[data-testid=batch-state]").get_attribute("data-state") == "paid"
    assert "ICBC20261015-0001" in page.locator("[data-testid=line-paid]").inner_text()

    # The enterprise sees the money.
    sign_in(page, "qianxin")
    page.goto("/gz/me/")
    with page.expect_navigation():
        page.locator("nav.main-nav a[href='/gz/awards/']").click()
    award = page.locator(f"tr[data-entitlement='{entitlement.pk}']")
    assert award.get_attribute("data-state") == "paid"
    assert award.locator("[data-testid=award-amount]").inner_text() == "500,000.00"
    assert award.locator("[data-testid=award-paid-on]").inner_text() != "—"
    assert page.locator("[data-testid=total-paid]").inner_text() == "500,000.00"

    # The certification is revoked for false information …
    sign_in(page, "gz_approver")
    page.goto(f"/gz/lifecycle/certifications/{certification.pk}/")
    with page.expect_navigation():
        page.locator("[data-testid=revoke-link]").click()
    form = page.locator("[data-testid=revocation-form]")
    form.locator("select[name=ground]").select_option("false_information")
    form.locator("textarea[name=reason]").fill("经核查，企业申报材料中研发费用数据虚假。")
    with page.expect_navigation():
        form.locator("[data-testid=revocation-next]").click()
    confirm = page.locator("[data-testid=revocation-confirm]")
    confirm.locator("input[name=evidence]").set_input_files(
        [{"name": "处罚决定书.pdf", "mimeType": "application/pdf", "buffer": PDF_BYTES}]
    )
    confirm.locator("input[name=confirm]").check()
    with page.expect_navigation():
        confirm.locator("[data-testid=revocation-confirm-button]").click()

    # … and the officers see the clawback.
    receivable = Receivable.objects.get(entitlement=entitlement)
    sign_in(page, "funding_a")
    page.goto("/gz/funding/receivables/")
    row = page.locator(f"tr[data-receivable='{receivable.pk}']")
    assert row.get_attribute("data-state") == "open"
    assert "500,000.00" in row.inner_text()
    with page.expect_navigation():
        row.locator("th a").click()
    assert page.locator("[data-testid=receivable-outstanding]").inner_text() == "500,000.00"
    assert page.locator("[data-testid=repay-form]").is_visible()
    entitlement.refresh_from_db()
    assert entitlement.state == Entitlement.State.CLAWED_BACK
