"""The dynamic-management pages (views_lifecycle): the enterprise's certification and re-verification, the
officials' queue, review, certifications, revocation and evidence, and the tenant's settings.

The certification comes from publication through the real services (`drive` to "published"); its dates
are then moved so that it ends 60 days from today, inside the six-month re-verification window.
"""

# ruff: noqa: F811 - the enterprise fixtures imported from tests.enterprises.conftest are test arguments
from __future__ import annotations

import dataclasses
import os
import re
from datetime import timedelta
from io import BytesIO

import pytest
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from certification import evidence_scan, lifecycle, lifecycle_evidence, workflow
from certification.lifecycle import RECOMMEND, RENEW
from certification.models import (
    Application,
    Certification,
    DailyRun,
    LifecycleEvent,
    LifecycleSettings,
    Reverification,
    Revocation,
    RevocationEvidence,
)
from certification.tasks_lifecycle import scan_revocation_evidence
from enterprises.models import Document
from enterprises.scanning import EICAR, ScannerUnavailable, ScanResult
from portal.models import AuditEvent
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import (
    add_document,
    chain_fixture,  # noqa: F401 - the `chain` fixture
    drive,
    fill,
)
from tests.enterprises.conftest import make_enterprise, xz_enterprise, yunyan_enterprise  # noqa: F401

CS = Certification.Status
RS = Reverification.State
Scan = Document.Scan
PDF_BYTES = b"%PDF-1.4\n% evidence\n%%EOF\n"
EICAR_PDF = b"%PDF-1.4\n1 0 obj<</Length 68>>stream\n" + EICAR + b"\nendstream endobj\n%%EOF\n"
STATEMENT = "企业主导产品高速精密轴承市场占有率保持全国前列，近三年研发投入持续增长。"


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(name, tenant="gz", **kwargs):
    return reverse(name, kwargs={"tenant_code": tenant, **kwargs})


def ends_in(certification: Certification, days: int) -> Certification:
    """Move the certification's three years so that it ends `days` from today."""
    until = timezone.localdate() + timedelta(days=days)
    Certification.objects.filter(pk=certification.pk).update(
        valid_until=until, issued_on=until - relativedelta(years=3)
    )
    certification.refresh_from_db()
    return certification


def publish(round_, enterprise, by, chain) -> Certification:
    application = fill(workflow.application_start(round_=round_, enterprise=enterprise, by=by), by)
    drive(application, "published", dataclasses.replace(chain, owner=by))
    return Certification.objects.get(application=application)


@pytest.fixture
def certification(wf_round, acme, owner, chain, media) -> Certification:
    return ends_in(publish(wf_round, acme, owner, chain), 60)


@pytest.fixture
def audit_report(acme):
    return add_document(acme, "audit_report", name="2025年度审计报告.pdf")


def file_reverification(certification, owner, document) -> Reverification:
    reverification = lifecycle.reverification_start(certification=certification, by=owner)
    lifecycle.reverification_save(reverification=reverification, by=owner, statement=STATEMENT)
    lifecycle.reverification_attach(reverification=reverification, document=document, by=owner)
    return lifecycle.reverification_submit(reverification=reverification, by=owner)


@pytest.fixture
def filed(certification, owner, audit_report) -> Reverification:
    return file_reverification(certification, owner, audit_report)


def html(response) -> str:
    return response.content.decode()


def marked(response, prefix: str) -> list[str]:
    return re.findall(rf'data-testid="{prefix}([^"]*)"', html(response))


# --- the enterprise: its certification -----------------------------------------------------------------


def test_the_enterprise_reads_its_certification_with_its_timeline(client, certification, owner):
    client.force_login(owner)
    response = client.get(url("certification_detail", pk=certification.pk))
    page = html(response)
    assert response.status_code == 200
    assert certification.number in page and certification.program.name in page
    assert 'data-testid="certification-state">Valid<' in page
    assert certification.valid_until.isoformat() in page
    assert 'data-testid="reverify-start"' in page  # the window is open: 60 days left
    assert 'data-testid="lifecycle-timeline"' in page


def test_outside_the_window_the_page_says_when_filing_opens(client, certification, owner):
    ends_in(certification, 400)
    client.force_login(owner)
    page = html(client.get(url("certification_detail", pk=certification.pk)))
    assert 'data-testid="reverify-start"' not in page
    opens = (certification.valid_until - timedelta(days=lifecycle.REVERIFY_WINDOW_DAYS)).isoformat()
    assert 'data-testid="reverify-refusal"' in page and f"Re-verification opens on {opens}" in page


def test_the_enterprise_files_a_reverification_through_the_pages(client, certification, owner, audit_report):
    client.force_login(owner)
    # when it starts one
    response = client.post(url("reverification_start", pk=certification.pk))
    reverification = Reverification.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("reverification_detail", pk=reverification.pk)
    page = html(client.get(response["Location"]))
    assert 'data-testid="statement-form"' in page and audit_report.original_name in page
    # then saves its statement, attaches a clean document and files it
    client.post(url("reverification_save", pk=reverification.pk), {"statement": STATEMENT, "revision": "0"})
    client.post(
        url("reverification_attachments", pk=reverification.pk),
        {"document": audit_report.pk, "label": "上年度审计报告"},
    )
    reverification.refresh_from_db()
    response = client.post(
        url("reverification_submit", pk=reverification.pk),
        {"statement": STATEMENT, "revision": str(reverification.revision)},
    )
    assert response.status_code == 302
    reverification.refresh_from_db()
    assert reverification.state == RS.SUBMITTED
    assert reverification.current_region.name == "南明区" and reverification.level == "county"
    assert reverification.attachments.get().label == "上年度审计报告"
    # and the page shows where it waits and the screening at submission
    page = html(client.get(url("reverification_detail", pk=reverification.pk)))
    assert 'data-testid="waiting-at">南明区<' in page
    assert 'data-testid="screening-result"' in page
    assert 'data-testid="statement-form"' not in page  # no longer editable
    certification_page = html(client.get(url("certification_detail", pk=certification.pk)))
    assert 'data-testid="current-reverification"' in certification_page


def test_filing_names_every_missing_field_and_changes_nothing(client, certification, owner):
    client.force_login(owner)
    client.post(url("reverification_start", pk=certification.pk))
    reverification = Reverification.objects.get()
    response = client.post(
        url("reverification_submit", pk=reverification.pk), {"statement": "太短", "revision": "0"}
    )
    assert response.status_code == 400
    assert set(re.findall(r'<li data-field="(\w+)"', html(response))) == {"statement", "attachments"}
    assert 'href="#id_statement"' in html(response)
    reverification.refresh_from_db()
    assert reverification.state == RS.DRAFT and reverification.statement == "太短"


def test_a_stale_save_keeps_what_was_typed(client, certification, owner):
    client.force_login(owner)
    client.post(url("reverification_start", pk=certification.pk))
    reverification = Reverification.objects.get()
    client.post(
        url("reverification_save", pk=reverification.pk), {"statement": "另一个窗口写的说明", "revision": "0"}
    )
    # a second tab still shows revision 0
    response = client.post(
        url("reverification_save", pk=reverification.pk), {"statement": STATEMENT, "revision": "0"}
    )
    assert response.status_code == 409
    assert STATEMENT in html(response) and "changed meanwhile" in html(response)
    reverification.refresh_from_db()
    assert reverification.statement == "另一个窗口写的说明"
    assert f'name="revision" value="{reverification.revision}"' in html(response)


def test_only_the_enterprises_own_clean_documents_can_be_attached(
    client,
    certification,
    owner,
    yunyan_enterprise,
):
    pending = add_document(certification.enterprise, "audit_report", clean=False, name="未扫描.pdf")
    foreign = add_document(yunyan_enterprise, "audit_report", name="别家的.pdf")
    client.force_login(owner)
    client.post(url("reverification_start", pk=certification.pk))
    reverification = Reverification.objects.get()
    page = html(client.get(url("reverification_detail", pk=reverification.pk)))
    assert "未扫描.pdf" not in page and "别家的.pdf" not in page
    for document in (pending, foreign):
        response = client.post(
            url("reverification_attachments", pk=reverification.pk), {"document": document.pk}
        )
        assert response.status_code == 400
        assert "Document: Select a valid choice" in html(response)
    assert not reverification.attachments.exists()


def test_the_enterprise_withdraws_only_when_it_ticks_the_box(client, filed, owner):
    client.force_login(owner)
    client.post(url("reverification_withdraw", pk=filed.pk))
    filed.refresh_from_db()
    assert filed.state == RS.SUBMITTED
    client.post(url("reverification_withdraw", pk=filed.pk), {"confirm": "yes"})
    filed.refresh_from_db()
    assert filed.state == RS.WITHDRAWN


def test_another_enterprise_and_another_tenant_find_nothing(
    client,
    filed,
    yunyan_enterprise,
    xz_enterprise,
):
    certification = filed.certification
    for user, tenant in (
        (yunyan_enterprise.memberships.get().user, "gz"),
        (xz_enterprise.memberships.get().user, "xz"),
    ):
        client.force_login(user)
        for name, pk in [("certification_detail", certification.pk), ("reverification_detail", filed.pk)]:
            assert client.get(url(name, tenant=tenant, pk=pk)).status_code == 404, (name, tenant)
        for name, pk in [
            ("reverification_start", certification.pk),
            ("reverification_save", filed.pk),
            ("reverification_attachments", filed.pk),
            ("reverification_submit", filed.pk),
            ("reverification_withdraw", filed.pk),
        ]:
            assert client.post(url(name, tenant=tenant, pk=pk), {"confirm": "yes"}).status_code == 404, name
    filed.refresh_from_db()
    assert filed.state == RS.SUBMITTED


def test_past_its_end_date_a_filed_certification_reads_valid_under_reverification(client, filed, owner):
    ends_in(filed.certification, -3)
    client.force_login(owner)
    page = html(client.get(url("certification_detail", pk=filed.certification_id)))
    assert 'data-testid="certification-state">Valid (under re-verification)<' in page


# --- officials: the queue and the review -----------------------------------------------------------


def test_the_county_sees_the_filing_waiting_and_recommends_it(client, filed, chain, audit_report):
    client.force_login(chain.county)
    queue = client.get(url("reverification_queue"))
    assert queue.status_code == 200
    assert f'data-reverification="{filed.pk}"' in html(queue)
    review = client.get(url("reverification_review", pk=filed.pk))
    page = html(review)
    assert review.status_code == 200
    assert 'data-testid="screening-result"' in page and STATEMENT in page
    assert marked(review, "act-") == ["return", "recommend"]
    # the attached document opens for the reviewer (officials of the region read the enterprise's files)
    download = client.get(url("enterprise_document_download", pk=audit_report.pk))
    assert download.status_code == 200
    response = client.post(url("reverification_act", pk=filed.pk), {"action": RECOMMEND, "reason": "同意"})
    assert response.status_code == 302
    filed.refresh_from_db()
    assert (filed.level, filed.current_region.code) == ("province", "520000")


def test_returning_without_a_reason_names_the_field_and_changes_nothing(client, filed, chain):
    client.force_login(chain.county)
    response = client.post(url("reverification_act", pk=filed.pk), {"action": "return", "reason": ""})
    assert response.status_code == 400
    assert "Reason or opinion</a>: A reason is required." in html(response)
    filed.refresh_from_db()
    assert (filed.state, filed.level) == (RS.SUBMITTED, "county")


def test_the_province_renews_and_the_enterprise_sees_the_new_end_date(client, filed, chain, owner):
    old_until = filed.certification.valid_until
    lifecycle.reverification_act(reverification=filed, by=chain.county, action=RECOMMEND)
    client.force_login(chain.province_reviewer)
    assert marked(client.get(url("reverification_review", pk=filed.pk)), "act-") == ["return"]
    client.force_login(chain.province_approver)
    response = client.post(url("reverification_act", pk=filed.pk), {"action": RENEW, "reason": ""})
    assert response.status_code == 302
    certification = Certification.objects.get(pk=filed.certification_id)
    assert certification.valid_until == old_until + relativedelta(years=3)
    client.force_login(owner)
    page = html(client.get(url("certification_detail", pk=certification.pk)))
    assert f'data-testid="valid-until">{certification.valid_until.isoformat()}<' in page
    assert 'data-kind="renewed"' in page


def test_officials_outside_the_county_and_other_tenants_get_404(
    client, filed, yunyan_official, zunyi_official, xz_admin, owner, experts
):
    for user in (yunyan_official, zunyi_official):
        client.force_login(user)
        assert f'data-reverification="{filed.pk}"' not in html(
            client.get(url("reverification_queue") + "?tab=all")
        )
        assert client.get(url("reverification_review", pk=filed.pk)).status_code == 404
        assert client.post(url("reverification_act", pk=filed.pk), {"action": RECOMMEND}).status_code == 404
        assert client.get(url("certification_manage", pk=filed.certification_id)).status_code == 404
    client.force_login(xz_admin)
    for name, pk in [("reverification_review", filed.pk), ("certification_manage", filed.certification_id)]:
        assert client.get(url(name, tenant="xz", pk=pk)).status_code == 404
    # enterprise members and experts have no officials' pages
    for user in (owner, experts[0]):
        client.force_login(user)
        for name in (
            "reverification_queue",
            "certification_manage_list",
            "revocation_list",
            "lifecycle_settings",
        ):
            assert client.get(url(name)).status_code == 404, (user, name)
    filed.refresh_from_db()
    assert filed.level == "county"


def test_officials_never_see_an_unfiled_draft(client, certification, owner, chain):
    draft = lifecycle.reverification_start(certification=certification, by=owner)
    client.force_login(chain.county)
    assert client.get(url("reverification_review", pk=draft.pk)).status_code == 404
    assert f'data-reverification="{draft.pk}"' not in html(
        client.get(url("reverification_queue") + "?tab=all")
    )


def test_the_queue_filters_and_exports_what_it_shows(client, filed, chain):
    client.force_login(chain.county)
    assert f'data-reverification="{filed.pk}"' in html(
        client.get(url("reverification_queue") + "?q=贵州黔芯")
    )
    assert f'data-reverification="{filed.pk}"' not in html(
        client.get(url("reverification_queue") + "?tab=renewed")
    )
    response = client.get(url("reverification_queue_export") + "?tab=waiting")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Certificate number" and len(rows) == 2
    assert rows[1][0] == filed.certification.number and rows[1][1] == filed.enterprise.name
    assert AuditEvent.objects.filter(action="reverification.queue_exported").count() == 1


def _many_filed(gz, round_, published_list, county_code: str, n: int, start: int) -> None:
    """`n` certified enterprises of one county, each with a re-verification waiting at the county (rows)."""
    today = timezone.localdate()
    for i in range(n):
        enterprise = make_enterprise(gz, county_code, start + i, name=f"批量企业{start + i}有限公司")
        application = Application.objects.create(
            tenant=gz, round=round_, enterprise=enterprise, county=enterprise.county, state="published"
        )
        certification = Certification.objects.create(
            tenant=gz,
            number=f"GZ-TEST-{start + i:05d}",
            program=round_.program,
            enterprise=enterprise,
            application=application,
            published_list=published_list,
            issued_on=today - relativedelta(years=3) + timedelta(days=30),
            valid_until=today + timedelta(days=30),
        )
        Reverification.objects.create(
            tenant=gz,
            certification=certification,
            enterprise=enterprise,
            state=RS.SUBMITTED,
            levels=["county", "province"],
            level="county",
            current_region=enterprise.county,
            verdict="eligible",
            submitted_at=timezone.now() - timedelta(minutes=i),
        )


def test_the_queue_and_the_certification_list_cost_the_same_queries_for_3_or_25_rows(
    client, gz, certification, chain
):
    round_, published_list = certification.application.round, certification.published_list
    _many_filed(gz, round_, published_list, "520102", 3, 100)
    client.force_login(chain.county)
    for name in ("reverification_queue", "certification_manage_list"):
        client.get(url(name))  # warm the session and the caches
    small = {}
    for name in ("reverification_queue", "certification_manage_list"):
        with CaptureQueriesContext(connection) as queries:
            client.get(url(name))
        small[name] = len(queries.captured_queries)
    _many_filed(gz, round_, published_list, "520102", 25, 200)
    for name, rows in (
        ("reverification_queue", "data-reverification="),
        ("certification_manage_list", "data-certification="),
    ):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url(name))
        assert html(response).count(rows) == 25, name
        assert "page=2" in html(response)
        assert len(queries.captured_queries) == small[name], name


# --- officials: certifications -------------------------------------------------------------------------


@pytest.fixture
def five(gz, certification, chain, media):
    """Certifications of 南明区 in each status: expiring (certification, 60 days), under re-verification,
    in force for years, expired, revoked."""
    round_, published_list = certification.application.round, certification.published_list
    today = timezone.localdate()
    rows = {"expiring": certification}
    for i, (key, days, status) in enumerate(
        [
            ("reverification", 20, CS.ACTIVE),
            ("in_force", 700, CS.ACTIVE),
            ("expired", -5, CS.EXPIRED),
            ("revoked", 300, CS.REVOKED),
        ]
    ):
        enterprise = make_enterprise(gz, "520102", 50 + i, name=f"{key}企业有限公司")
        application = Application.objects.create(
            tenant=gz, round=round_, enterprise=enterprise, county=enterprise.county, state="published"
        )
        until = today + timedelta(days=days)
        rows[key] = Certification.objects.create(
            tenant=gz,
            number=f"GZ-T-{i}",
            program=round_.program,
            enterprise=enterprise,
            application=application,
            published_list=published_list,
            status=status,
            issued_on=until - relativedelta(years=3),
            valid_until=until,
        )
    Reverification.objects.create(
        tenant=gz,
        certification=rows["reverification"],
        enterprise=rows["reverification"].enterprise,
        state=RS.SUBMITTED,
        levels=["county", "province"],
        level="county",
        current_region=rows["reverification"].enterprise.county,
        submitted_at=timezone.now(),
    )
    return rows


@pytest.mark.parametrize(
    "status, expected",
    [
        ("", {"expiring", "reverification", "in_force", "expired", "revoked"}),
        ("in_force", {"expiring", "reverification", "in_force"}),
        ("expiring", {"expiring"}),
        ("reverification", {"reverification"}),
        ("expired", {"expired"}),
        ("revoked", {"revoked"}),
    ],
)
def test_the_certification_list_filters_by_status(client, five, chain, status, expected):
    client.force_login(chain.county)
    response = client.get(url("certification_manage_list") + f"?status={status}")
    shown = {int(pk) for pk in re.findall(r'data-certification="(\d+)"', html(response))}
    assert shown == {five[key].pk for key in expected}


def test_the_certification_list_exports_its_rows_with_their_status(client, five, chain):
    client.force_login(chain.county)
    response = client.get(url("certification_manage_export") + "?status=expiring")
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == "Certificate number"
    assert [(r[0], r[7]) for r in rows[1:]] == [(five["expiring"].number, "Valid")]
    assert AuditEvent.objects.filter(action="certification.list_exported").count() == 1


def test_the_manage_page_shows_reminders_reverifications_and_the_timeline(
    client, certification, owner, audit_report, chain
):
    # the 90-day reminder went out 20 days ago (60 days are left), then the enterprise filed
    lifecycle.reminders_send(day=timezone.localdate() - timedelta(days=20))
    filed = file_reverification(certification, owner, audit_report)
    client.force_login(chain.county)
    response = client.get(url("certification_manage", pk=filed.certification_id))
    page = html(response)
    assert response.status_code == 200
    assert 'data-testid="reminders"' in page and '<td class="num">90</td>' in page
    assert url("reverification_review", pk=filed.pk) in page
    assert 'data-kind="filed"' in page and 'data-kind="reminder"' in page
    assert 'data-testid="revoke-link"' not in page  # a county official does not revoke


# --- officials: revocation -----------------------------------------------------------------------------


def revoke_through_the_pages(client, certification, *, files=(("处罚决定书.pdf", PDF_BYTES),), **extra):
    step1 = {
        "step": "review",
        "ground": "false_information",
        "reason": "经核查，企业申报材料中研发费用数据虚假。",
    }
    confirm = {**step1, "step": "confirm", "confirm": "on", **extra}
    confirm["evidence"] = [SimpleUploadedFile(name, content, "application/pdf") for name, content in files]
    return client.post(url("revocation_new", pk=certification.pk), confirm)


def test_staff_revoke_in_two_steps_with_evidence(
    client, certification, chain, owner, django_capture_on_commit_callbacks, filed
):
    client.force_login(chain.province_approver)
    manage = html(client.get(url("certification_manage", pk=certification.pk)))
    assert 'data-testid="revoke-link"' in manage
    step1 = client.get(url("revocation_new", pk=certification.pk))
    assert step1.status_code == 200 and "Its open re-verification is withdrawn." in html(step1)
    review = client.post(
        url("revocation_new", pk=certification.pk),
        {
            "step": "review",
            "ground": "false_information",
            "reason": "经核查，企业申报材料中研发费用数据虚假。",
        },
    )
    assert review.status_code == 200 and 'data-testid="revocation-confirm"' in html(review)
    assert "false information or data fraud" in html(review)
    certification.refresh_from_db()
    assert certification.status == CS.ACTIVE  # nothing happens before the confirmation
    with django_capture_on_commit_callbacks(execute=True):
        response = revoke_through_the_pages(client, certification)
    assert response.status_code == 302
    assert response["Location"] == url("certification_manage", pk=certification.pk)
    certification.refresh_from_db()
    revocation = Revocation.objects.get(certification=certification)
    assert certification.status == CS.REVOKED and revocation.ground == "false_information"
    evidence = revocation.evidence.get()
    assert (
        evidence.original_name == "处罚决定书.pdf" and evidence.scan_status == Scan.CLEAN
    )  # scanned on commit
    filed.refresh_from_db()
    assert filed.state == RS.WITHDRAWN
    # the enterprise reads the revocation and its bar; the public verification page says revoked
    client.force_login(owner)
    page = html(client.get(url("certification_detail", pk=certification.pk)))
    assert 'data-testid="certification-state">Revoked<' in page
    assert f'data-testid="barred-until">{revocation.barred_until.isoformat()}<' in page
    client.logout()  # (which forgets the cookies: ask for English again)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    verify = html(client.get(url("verify_number", number=certification.number)))
    assert 'data-testid="verify-state">Revoked<' in verify


def test_revocation_errors_name_their_fields_and_revoke_nothing(client, certification, chain):
    client.force_login(chain.province_approver)
    step1 = client.post(
        url("revocation_new", pk=certification.pk), {"step": "review", "ground": "", "reason": "短"}
    )
    assert step1.status_code == 400
    summary = html(step1).split('data-testid="form-errors"')[1].split("</div>")[0]
    assert "Ground</a>" in summary and "Reason</a>" in summary
    # a file that is not a PDF, JPG or PNG, whatever its name says
    bad = revoke_through_the_pages(client, certification, files=(("证据.pdf", b"MZ\x90\x00 not a pdf"),))
    assert bad.status_code == 400 and "Evidence</a>: 证据.pdf:" in html(bad)
    # the confirmation box is required
    unconfirmed = revoke_through_the_pages(client, certification, confirm="")
    assert unconfirmed.status_code == 400 and "I confirm the revocation</a>" in html(unconfirmed)
    # a forged ground on the confirmation step sends back to step 1 with the error
    forged = revoke_through_the_pages(client, certification, ground="reverification")
    assert forged.status_code == 400 and 'data-testid="revocation-form"' in html(forged)
    certification.refresh_from_db()
    assert certification.status == CS.ACTIVE and not Revocation.objects.exists()
    assert not RevocationEvidence.objects.exists()


def test_only_provincial_staff_of_the_programme_reach_the_revocation_page(
    client, certification, chain, yunyan_official, xz_admin, owner
):
    for user in (chain.county, chain.prefecture, yunyan_official, owner):
        client.force_login(user)
        assert client.get(url("revocation_new", pk=certification.pk)).status_code == 404
        assert revoke_through_the_pages(client, certification).status_code == 404
    client.force_login(xz_admin)
    assert client.get(url("revocation_new", tenant="xz", pk=certification.pk)).status_code == 404
    certification.refresh_from_db()
    assert certification.status == CS.ACTIVE


@pytest.fixture
def revoked(certification, chain, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return lifecycle.certification_revoke(
            certification=certification,
            by=chain.province_approver,
            ground="tax_evasion",
            reason="税务机关认定企业存在偷逃税款行为。",
            evidence=[
                (SimpleUploadedFile("税务处理决定书.pdf", PDF_BYTES, "application/pdf"), "税务处理决定书.pdf")
            ],
        )


def test_staff_in_the_region_download_clean_evidence_and_it_is_audited(client, revoked, chain):
    evidence = revoked.evidence.get()
    client.force_login(chain.county)
    page = html(client.get(url("certification_manage", pk=revoked.certification_id)))
    assert f'data-testid="evidence-link-{evidence.pk}"' in page
    response = client.get(url("revocation_evidence_download", pk=evidence.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert "filename*=UTF-8''" in response["Content-Disposition"]
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert AuditEvent.objects.filter(action="revocation.evidence_downloaded", actor=chain.county).count() == 1


def test_evidence_is_404_across_tenants_regions_and_to_the_public(
    client, revoked, yunyan_official, xz_admin, owner
):
    evidence = revoked.evidence.get()
    assert client.get(url("revocation_evidence_download", pk=evidence.pk)).status_code == 404  # anonymous
    for user, tenant in ((yunyan_official, "gz"), (owner, "gz"), (xz_admin, "xz")):
        client.force_login(user)
        assert (
            client.get(url("revocation_evidence_download", tenant=tenant, pk=evidence.pk)).status_code == 404
        )
    assert not AuditEvent.objects.filter(action="revocation.evidence_downloaded").exists()


def test_evidence_not_yet_clean_is_not_served(client, revoked, chain):
    evidence = revoked.evidence.get()
    RevocationEvidence.objects.filter(pk=evidence.pk).update(scan_status=Scan.PENDING)
    client.force_login(chain.county)
    response = client.get(url("revocation_evidence_download", pk=evidence.pk))
    assert response.status_code == 302 and response["Location"].endswith("#revocation")


def test_the_revocation_list_shows_and_exports_the_regions_revocations(
    client, revoked, chain, yunyan_official
):
    client.force_login(chain.county)
    page = html(client.get(url("revocation_list") + "?ground=tax_evasion"))
    assert f'data-revocation="{revoked.pk}"' in page
    assert f'data-revocation="{revoked.pk}"' not in html(client.get(url("revocation_list") + "?ground=other"))
    rows = list(
        load_workbook(BytesIO(client.get(url("revocation_list_export")).content)).active.iter_rows(
            values_only=True
        )
    )
    assert rows[1][0] == revoked.certification.number and rows[1][5] == "tax evasion or other violations"
    assert rows[1][9] == 1
    client.force_login(yunyan_official)
    assert f'data-revocation="{revoked.pk}"' not in html(client.get(url("revocation_list")))


# --- revocation evidence: the malware scan -----------------------------------------------------------


class DownScanner:
    def scan(self, path: str) -> ScanResult:
        raise ScannerUnavailable("connection refused")


@pytest.fixture
def pending_evidence(certification, chain, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        revocation = lifecycle.certification_revoke(
            certification=certification,
            by=chain.province_approver,
            ground="safety_accident",
            reason="企业发生重大安全生产事故，造成人员伤亡。",
            evidence=[
                (SimpleUploadedFile("事故调查报告.pdf", EICAR_PDF, "application/pdf"), "事故调查报告.pdf")
            ],
        )
    return revocation.evidence.get()


def test_infected_evidence_is_quarantined_once_and_deleted_from_storage(pending_evidence):
    path = pending_evidence.file.path
    assert os.path.exists(path)
    first = scan_revocation_evidence.apply(args=[pending_evidence.pk]).get()
    second = scan_revocation_evidence.apply(args=[pending_evidence.pk]).get()
    assert first == second == Scan.INFECTED
    pending_evidence.refresh_from_db()
    # the EICAR-only scanner says "Eicar-Test-Signature"; CI's clamd, its local signature "…-SRDI.UNOFFICIAL"
    assert (
        pending_evidence.scan_detail.startswith("Eicar-Test-Signature") and pending_evidence.file.name == ""
    )
    assert not os.path.exists(path)
    assert AuditEvent.objects.filter(action="revocation.evidence_quarantined").count() == 1


def test_the_scan_retries_then_fails_and_staff_can_have_it_scanned_again(
    pending_evidence, chain, monkeypatch
):
    monkeypatch.setattr(evidence_scan, "get_scanner", DownScanner)
    monkeypatch.setitem(scan_revocation_evidence.app.conf, "task_eager_propagates", False)
    assert scan_revocation_evidence.apply(args=[pending_evidence.pk]).get() == Scan.FAILED
    pending_evidence.refresh_from_db()
    assert pending_evidence.scan_status == Scan.FAILED
    with pytest.raises(lifecycle.WorkflowRefused):
        lifecycle_evidence.revocation_evidence_rescan(evidence=pending_evidence, by=chain.county)
    lifecycle_evidence.revocation_evidence_rescan(evidence=pending_evidence, by=chain.province_approver)
    pending_evidence.refresh_from_db()
    assert pending_evidence.scan_status == Scan.PENDING


def test_evidence_left_pending_is_found_for_the_hourly_rescan(pending_evidence):
    assert lifecycle_evidence.revocation_evidence_stale_pending() == []
    Revocation.objects.filter(pk=pending_evidence.revocation_id).update(
        created_at=timezone.now() - timedelta(hours=3)
    )
    assert lifecycle_evidence.revocation_evidence_stale_pending() == [pending_evidence.pk]


# --- the tenant's settings -----------------------------------------------------------------------------


SETTINGS = {
    "reminder_offsets": "60, 14，3",
    "reapply_bar_years": "5",
    "annual_update_month": "5",
    "annual_update_day": "31",
    "reverify_levels": ["county", "prefecture"],
    "visit_interval_days": "90",
}


def test_the_tenant_admin_changes_the_settings_and_it_is_audited(client, gz, gz_admin):
    DailyRun.objects.create(
        day=timezone.localdate(), finished_at=timezone.now(), stats={"reminders": 2, "expired": 1}
    )
    client.force_login(gz_admin)
    page = client.get(url("lifecycle_settings"))
    assert page.status_code == 200
    assert 'value="90, 30, 7"' in html(page)  # the defaults
    assert "expired: 1; reminders: 2" in html(page)  # sorted by name
    response = client.post(url("lifecycle_settings"), SETTINGS)
    assert response.status_code == 302
    saved = LifecycleSettings.objects.get(tenant=gz)
    assert saved.reminder_offsets == [60, 14, 3] and saved.reapply_bar_years == 5
    assert saved.reverify_levels == ["county", "prefecture", "province"]
    assert (saved.annual_update_month, saved.annual_update_day, saved.visit_interval_days) == (5, 31, 90)
    event = AuditEvent.objects.get(action="lifecycle.settings_changed")
    assert event.actor == gz_admin and "reminder_offsets" in event.changes


@pytest.mark.parametrize(
    "field, value, label, message",
    [
        (
            "reminder_offsets",
            "90, abc",
            "Expiry reminders (days before expiry)",
            "“abc” is not a whole number",
        ),
        ("reminder_offsets", "400, 30", "Expiry reminders (days before expiry)", "400 is not"),
        ("reminder_offsets", "30, 30", "Expiry reminders (days before expiry)", "only once"),
        ("annual_update_day", "30", "Annual figures deadline: day", "2/30 is not a date"),
        (
            "reapply_bar_years",
            "11",
            "Years barred from applying after a revocation",
            "less than or equal to 10",
        ),
    ],
)
def test_wrong_settings_are_named_and_nothing_is_saved(client, gz, gz_admin, field, value, label, message):
    client.force_login(gz_admin)
    data = {**SETTINGS, field: value}
    if field == "annual_update_day":
        data["annual_update_month"] = "2"
    response = client.post(url("lifecycle_settings"), data)
    assert response.status_code == 400
    summary = html(response).split('data-testid="form-errors"')[1].split("</div>")[0]
    assert f"{label}</a>: " in summary and message in summary
    assert not LifecycleSettings.objects.exists()


def test_the_tenant_admin_chooses_the_criteria_for_reverification(client, gz, gz_admin, xz, wf_program):
    program, version = wf_program
    other_program, other_version = make_program(xz, code="xz_rv")
    client.force_login(gz_admin)
    page = html(client.get(url("lifecycle_settings")))
    assert f'data-testid="rv-select-{program.code}"' in page and other_program.code not in page
    response = client.post(
        url("lifecycle_settings"),
        {"reverification_program": program.pk, "reverification_version": version.pk},
    )
    assert response.status_code == 302
    program.refresh_from_db()
    assert program.reverification_version == version
    assert AuditEvent.objects.get(action="program.reverification_version").actor == gz_admin
    # back to "the version in force when it is filed"
    client.post(
        url("lifecycle_settings"), {"reverification_program": program.pk, "reverification_version": ""}
    )
    program.refresh_from_db()
    assert program.reverification_version is None
    # another tenant's programme or version: 404, and nothing changes
    assert (
        client.post(
            url("lifecycle_settings"),
            {"reverification_program": other_program.pk, "reverification_version": other_version.pk},
        ).status_code
        == 404
    )
    assert (
        client.post(
            url("lifecycle_settings"),
            {"reverification_program": program.pk, "reverification_version": other_version.pk},
        ).status_code
        == 404
    )
    program.refresh_from_db()
    other_program.refresh_from_db()
    assert program.reverification_version is None and other_program.reverification_version is None


def test_only_the_tenant_admin_reaches_the_settings(
    client, gz, nanming_official, province_approver, xz_admin
):
    for user in (nanming_official, province_approver):
        client.force_login(user)
        assert client.get(url("lifecycle_settings")).status_code == 404
        assert client.post(url("lifecycle_settings"), SETTINGS).status_code == 404
    client.force_login(xz_admin)
    assert client.post(url("lifecycle_settings", tenant="gz"), SETTINGS).status_code == 404
    assert not LifecycleSettings.objects.exists()


def test_the_navigation_offers_the_pages_to_whom_they_serve(
    client, gz, gz_admin, nanming_official, owner, acme
):
    client.force_login(gz_admin)
    page = html(client.get(url("dashboard")))
    assert url("lifecycle_settings") in page and url("certification_manage_list") in page
    client.force_login(nanming_official)
    page = html(client.get(url("dashboard")))
    assert url("reverification_queue") in page and url("lifecycle_settings") not in page
    client.force_login(owner)
    assert url("reverification_queue") not in html(client.get(url("dashboard")))


# --- the demo ------------------------------------------------------------------------------------------


def test_the_demo_shows_each_point_of_the_lifecycle_and_a_second_run_adds_nothing(db, settings, tmp_path):
    from django.core.management import call_command

    from tests.demo_snapshot import demo_portal

    settings.DEBUG, settings.MEDIA_ROOT = True, tmp_path / "media"
    demo_portal(tenants=["gz"])  # the seeding's rows (seeded once per run); seeded again at the end
    today = timezone.localdate()
    by_name = {c.enterprise.name: c for c in Certification.objects.select_related("enterprise")}
    expiring = by_name["贵州黔东精密模具有限公司"]
    assert expiring.status == CS.ACTIVE and 0 < (expiring.valid_until - today).days <= 90
    assert sorted(expiring.reminders.values_list("offset_days", flat=True)) == [30, 90]
    waiting = Reverification.objects.get(enterprise__name="贵阳南明智能仪表有限公司")
    assert (waiting.state, waiting.level, waiting.current_region.name) == (RS.SUBMITTED, "county", "南明区")
    renewed = by_name["贵州云岩新型建材有限公司"]
    assert renewed.reverifications.get().state == RS.RENEWED
    assert renewed.valid_until == renewed.issued_on + relativedelta(years=6)
    assert by_name["贵州花溪生态茶具有限公司"].status == CS.EXPIRED
    revocation = Revocation.objects.get()
    assert revocation.ground == "false_information" and revocation.certification.status == CS.REVOKED
    assert revocation.certification.enterprise.apply_bars.get().until == revocation.barred_until
    assert revocation.evidence.get().scan_status == Scan.CLEAN
    # the timeline reads in order, every event in the past
    for certification in by_name.values():
        stamps = list(certification.lifecycle_events.values_list("created_at", flat=True))
        assert stamps == sorted(stamps) and all(s <= timezone.now() for s in stamps)
    counts = [m.objects.count() for m in (Certification, LifecycleEvent, Reverification, Revocation)]
    call_command("seed_demo", quiet_accounts=True, tenants=["gz"])
    assert [m.objects.count() for m in (Certification, LifecycleEvent, Reverification, Revocation)] == counts
