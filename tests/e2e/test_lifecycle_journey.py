"""Issue 7 in a real browser: an enterprise files the re-verification of its certification; the county
recommends it; the province renews it and the enterprise reads the new end date. Then provincial staff
revoke another certification with evidence, and the public verification page shows it revoked."""

from __future__ import annotations

from datetime import timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from certification import workflow
from certification.models import Certification, Reverification, Revocation
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import Chain, add_document, drive, fill, make_expert, make_round
from tests.conftest import make_tenant, official
from tests.e2e.conftest import screenshot
from tests.e2e.test_review_journey import sign_in
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

STATEMENT = "公司主导产品高速精密轴承市场占有率保持全国前列，近三年研发投入持续增长，未发生重大事故。"
PDF_BYTES = b"%PDF-1.4\n% evidence\n%%EOF\n"


def certified(round_, enterprise, owner, chain) -> Certification:
    application = fill(workflow.application_start(round_=round_, enterprise=enterprise, by=owner), owner)
    drive(application, "published", Chain(owner, *chain))
    certification = Certification.objects.get(application=application)
    # Three years on: it ends in 60 days, inside the six-month re-verification window.
    until = timezone.localdate() + timedelta(days=60)
    Certification.objects.filter(pk=certification.pk).update(
        valid_until=until, issued_on=until - relativedelta(years=3)
    )
    certification.refresh_from_db()
    return certification


@pytest.fixture
def world(transactional_db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    gz = make_tenant("gz", "贵州省", "520000")
    program, version = make_program(gz, code="gz_srdi")
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
    owner = UserFactory(username="qianxin")
    enterprise = make_enterprise(gz, "520102", 7, name="贵州黔芯精密机械有限公司", admin=owner)
    report = add_document(enterprise, "audit_report", name="2025年度审计报告.pdf")
    other_owner = UserFactory(username="taicai")
    other = make_enterprise(gz, "520102", 8, name="贵州遵义钛材科技有限公司", admin=other_owner)
    return {
        "renewing": certified(round_, enterprise, owner, chain),
        "revoking": certified(round_, other, other_owner, chain),
        "report": report,
    }


def test_reverification_renewal_and_revocation_in_the_browser(page, world):
    try:
        _journey(page, world)
    except Exception:
        screenshot(page, "lifecycle-journey-failure")
        raise


def _journey(page, world):
    certification, report = world["renewing"], world["report"]
    old_until = certification.valid_until

    # The enterprise files the re-verification from its certification's page.
    sign_in(page, "qianxin")
    page.goto(f"/gz/certificates/{certification.pk}/")
    with page.expect_navigation():
        page.locator("[data-testid=reverify-start]").click()
    attach = page.locator("[data-testid=attach-form]")
    attach.locator("select[name=document]").select_option(str(report.pk))
    with page.expect_navigation():
        attach.locator("[data-testid=attach]").click()
    page.locator("textarea[name=statement]").fill(STATEMENT)
    with page.expect_navigation():
        page.locator("[data-testid=submit]").click()
    reverification = Reverification.objects.get()
    assert reverification.state == Reverification.State.SUBMITTED
    assert page.locator("[data-testid=waiting-at]").inner_text() == "南明区"
    assert page.locator("[data-testid=screening-result]").is_visible()

    # The county finds it waiting and recommends it.
    sign_in(page, "nanming")
    page.goto("/gz/lifecycle/reverifications/")
    with page.expect_navigation():
        page.locator(f"tr[data-reverification='{reverification.pk}'] a").first.click()
    assert STATEMENT in page.locator("[data-testid=statement]").inner_text()
    assert "2025年度审计报告.pdf" in page.locator("[data-testid=attachments]").inner_text()
    page.locator("#decision textarea[name=reason]").fill("企业经营正常，主要指标符合复核条件，同意推荐。")
    with page.expect_navigation():
        page.locator("[data-testid=act-recommend]").click()
    reverification.refresh_from_db()
    assert reverification.level == "province"

    # The province renews it: three more years from the old end date.
    sign_in(page, "gz_approver")
    page.goto(f"/gz/lifecycle/reverifications/{reverification.pk}/")
    with page.expect_navigation():
        page.locator("[data-testid=act-renew]").click()
    new_until = old_until + relativedelta(years=3)
    assert Certification.objects.get(pk=certification.pk).valid_until == new_until

    # The enterprise reads the new end date.
    sign_in(page, "qianxin")
    page.goto(f"/gz/certificates/{certification.pk}/")
    assert page.locator("[data-testid=valid-until]").inner_text() == new_until.isoformat()
    assert page.locator("[data-testid=lifecycle-timeline] tr[data-kind=renewed]").is_visible()

    # Staff revoke the other certification in two steps, with evidence.
    revoking = world["revoking"]
    sign_in(page, "gz_approver")
    page.goto(f"/gz/lifecycle/certifications/{revoking.pk}/")
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
    revocation = Revocation.objects.get(certification=revoking)
    assert revocation.evidence.get().original_name == "处罚决定书.pdf"
    assert page.locator("[data-testid=revocation]").is_visible()

    # The public verification page shows it revoked at once.
    page.context.clear_cookies()
    page.goto(f"/gz/verify/{revoking.number}/")
    state = page.locator("[data-testid=verify-state]")
    assert "cert-revoked" in state.get_attribute("class")
