"""Issue 6 in a real browser: staff create a notice; an anonymous visitor reads it and files an objection
with an evidence file; staff see the file scanned, open it and dismiss the objection; after the period
staff publish; certificates appear with progress; the enterprise downloads its certificate; the QR
code's URL verifies it; the directory lists it; staff correct the list, and its first version says it
was superseded."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from certification import certificates, workflow
from certification.models import Application, Certification, Notice, Objection, PublishedList
from certification.transitions import Action
from enterprises.models import Document
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import expert_reviews, fill, make_expert, make_round
from tests.conftest import make_tenant, official
from tests.e2e.conftest import screenshot
from tests.e2e.steps import EVIDENCE, file_objection
from tests.e2e.test_review_journey import sign_in
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def approved(transactional_db, settings, tmp_path):
    """An approved application of 贵州黔芯精密机械有限公司, through the real workflow."""
    settings.MEDIA_ROOT = tmp_path / "media"
    gz = make_tenant("gz", "贵州省", "520000")
    gz.authority_name = "贵州省工业和信息化厅"
    gz.save()
    program, version = make_program(gz, code="gz_srdi")
    program.min_expert_reviews = 1
    program.save()
    round_ = make_round(program, version, name="2026年专精特新申报")
    owner = UserFactory(username="qianxin")
    enterprise = make_enterprise(gz, "520102", 7, name="贵州黔芯精密机械有限公司", admin=owner)
    county = official(gz, "520102", "county_reviewer", username="nanming")
    prefecture = official(gz, "520100", "prefecture_reviewer", username="guiyang")
    reviewer = official(gz, "520000", "provincial_reviewer", username="gz_reviewer")
    approver = official(gz, "520000", "provincial_approver", username="gz_approver")
    expert = make_expert(gz, "expert_a")
    application = workflow.application_start(round_=round_, enterprise=enterprise, by=owner)
    application = fill(application, owner)
    act = workflow.application_act
    application = act(application=application, action=Action.SUBMIT, by=owner)
    application = act(application=application, action=Action.RECOMMEND, by=county, opinion="同意")
    application = act(application=application, action=Action.RECOMMEND, by=prefecture, opinion="同意")
    application = expert_reviews(application, [expert], reviewer)
    application = act(application=application, action=Action.APPROVE, by=approver, opinion="批准")
    assert application.state == Application.State.APPROVED
    return {"round": round_, "application": application, "enterprise": enterprise}


def test_notice_objection_publication_certificate_and_directory_in_the_browser(page, approved, live_server):
    try:
        _journey(page, approved, live_server)
    except Exception:
        screenshot(page, "publication-journey-failure")
        raise


def _journey(page, approved, live_server):
    round_ = approved["round"]

    # Staff create the notice from the round's approved applications.
    sign_in(page, "gz_approver")
    page.goto("/gz/notice-admin/")
    page.locator(f"a[href$='/gz/notice-admin/new/{round_.pk}/']").first.click()
    with page.expect_navigation():
        page.locator("[data-testid=notice-form] button[type=submit]").click()
    notice = Notice.objects.get()
    assert notice.status == Notice.Status.OPEN

    # An anonymous visitor reads it (no personal data) and files an objection.
    page.context.clear_cookies()
    page.goto(f"/gz/notices/{notice.pk}/")
    entries = page.locator("[data-testid=notice-entries]").inner_text()
    assert "贵州黔芯精密机械有限公司" in entries and "13900000000" not in page.content()
    file_objection(page)
    objection = Objection.objects.get()
    assert objection.reference in page.locator("main").inner_text()

    # Staff see the evidence file passed by the malware scan (run after the filing's commit) and open it.
    evidence = objection.evidence.get()
    assert evidence.scan_status == Document.Scan.CLEAN
    sign_in(page, "gz_approver")
    page.goto(f"/gz/notice-admin/{notice.pk}/")
    assert page.locator(f"[data-testid=evidence-scan-{evidence.pk}]").is_visible()
    with page.expect_download() as download_info:
        page.locator(f"[data-testid=evidence-link-{evidence.pk}]").click()
    assert download_info.value.suggested_filename == "行业协会统计.pdf"
    with open(download_info.value.path(), "rb") as fh:
        assert fh.read() == EVIDENCE

    # Staff dismiss it; publishing is refused while the period runs.
    resolve = page.locator(f"[data-testid=resolve-{objection.pk}]")
    resolve.locator("input[value=dismiss]").check()
    resolve.locator("textarea").fill("经核查，该企业材料属实，异议不予采纳。")
    with page.expect_navigation():
        resolve.locator("button[type=submit]").click()
    assert Objection.objects.get().status == Objection.Status.DISMISSED
    assert page.locator("[data-testid=publish-button]").is_disabled()

    # The period passes (the test moves the notice's dates back instead of the clock).
    Notice.objects.filter(pk=notice.pk).update(
        starts_on=notice.starts_on - timedelta(days=20), ends_on=notice.ends_on - timedelta(days=20)
    )
    page.goto(f"/gz/notice-admin/{notice.pk}/")
    with page.expect_navigation():
        page.locator("[data-testid=publish-button]").click()
    certification = Certification.objects.get()
    assert certification.number == f"GZ-ZJTX-{certification.issued_on.year}-0001"

    # Certificates appear with their progress (publishing leads to the list's staff page).
    page.locator("#progress-done").filter(has_text="1").wait_for()
    assert page.locator("#progress-total").inner_text() == "1"

    # The enterprise downloads its certificate.
    sign_in(page, "qianxin")
    page.goto("/gz/enterprise/certifications/")
    with page.expect_download() as download_info:
        page.locator(f"[data-testid=certificate-link-{certification.pk}]").click()
    path = download_info.value.path()
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "贵州黔芯精密机械有限公司" in text and certification.number in text

    # The QR code's URL verifies it (the same URL on the live server).
    qr_url = certificates.verification_url(certification)
    assert qr_url.endswith(f"/gz/verify/{certification.number}/")
    page.context.clear_cookies()
    page.goto(live_server.url + urlsplit(qr_url).path)
    assert page.locator("[data-testid=verify-state]").is_visible()
    assert "贵州黔芯精密机械有限公司" in page.locator("[data-testid=verify-result]").inner_text()

    # The public directory lists it.
    page.goto("/gz/directory/")
    assert "贵州黔芯精密机械有限公司" in page.locator("[data-testid=directory-table]").inner_text()

    # Staff correct the published list: a version 2 linked to version 1, which stays as it was.
    first = PublishedList.objects.get()
    sign_in(page, "gz_approver")
    page.goto(f"/gz/published-admin/{first.pk}/")
    page.locator("[data-testid=correct-link]").click()
    correction = page.locator("[data-testid=correction-form]")
    correction.locator("textarea[name=correction_note]").fill("企业名称更正为股份有限公司。")
    correction.locator("input[name='rows-0-enterprise']").fill("贵州黔芯精密机械股份有限公司")
    with page.expect_navigation():
        correction.locator("button[type=submit]").click()
    second = PublishedList.objects.get(version=2)
    assert second.replaces_id == first.pk
    assert PublishedList.objects.get(pk=first.pk).rows[0]["enterprise"] == "贵州黔芯精密机械有限公司"
    page.context.clear_cookies()
    page.goto(f"/gz/published/{first.pk}/")
    assert page.locator("[data-testid=superseded]").is_visible()
    page.locator("[data-testid=replaced-by]").click()
    assert page.locator("[data-testid=correction-note]").inner_text() == "企业名称更正为股份有限公司。"
    assert "贵州黔芯精密机械股份有限公司" in page.locator("[data-testid=published-rows]").inner_text()
