"""The payment batch and receivable pages: four eyes on screen, account numbers masked in the HTML and full
in the payment file, paid once per line, isolation by tenant and region, constant queries on the lists."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from certification import lifecycle
from certification.models import Revocation
from funding import services
from funding.account_numbers import mask_account_number
from funding.models import BatchLine, Entitlement, FundingSettings, LedgerEntry, PaymentBatch, Receivable
from portal.models import AuditEvent
from tests.conftest import region
from tests.funding.conftest import certify, enterprises_of_nanming, with_account
from tests.funding.test_pages import (
    assert_csp_clean,
    get,
    main,
    post,
    queries,
    url,
    workbook_rows,
)
from tests.funding.test_pages import xz_funding as xz_funding_fixture

xz_funding = xz_funding_fixture  # another tenant's funding officer (a fixture)

B = PaymentBatch.State
S = Entitlement.State
R = Receivable.State
D = Decimal
NUMBER = "6222021234567890123"


@pytest.fixture
def approved(city_policy, certifier, acme, owner, colleague, guiyang_funding):
    """acme's 50万 award, approved, with a confirmed bank account."""
    (entitlement,) = certify(certifier, acme)
    services.entitlement_approve(entitlement=entitlement, by=guiyang_funding)
    with_account(acme, owner, colleague, number=NUMBER)
    entitlement.refresh_from_db()
    return entitlement


@pytest.fixture
def batch(gz, approved, guiyang_funding):
    return services.batch_prepare(
        tenant=gz, region=region(gz, "520100"), entitlements=[approved], by=guiyang_funding
    )


# --- preparing ------------------------------------------------------------------------------------------


def test_an_officer_prepares_a_batch_from_the_approved_awards_of_its_region(
    client, gz, approved, certifier, guiyang_funding
):
    no_account = enterprises_of_nanming(gz, 1)[0]
    (other,) = certify(certifier, no_account)
    services.entitlement_approve(entitlement=other, by=guiyang_funding)
    response = get(client, guiyang_funding, "funding_batch_new")
    assert_csp_clean(response)
    html = main(response)
    assert "js/funding.js" in html
    # the award whose enterprise can be paid is offered checked, the other one unchecked
    assert f'value="{approved.pk}" id="pay-{approved.pk}" data-amount="500000.00" checked' in html
    assert f'value="{other.pk}" id="pay-{other.pk}" data-amount="500000.00">' in html
    post(
        client,
        guiyang_funding,
        "funding_batch_new",
        {"region": "520100", "entitlements": [approved.pk], "note": "第一批"},
    )
    batch = PaymentBatch.objects.get()
    assert (batch.state, batch.total, batch.prepared_by, batch.note) == (
        B.PREPARED,
        D("500000.00"),
        guiyang_funding,
        "第一批",
    )
    assert list(batch.lines.values_list("entitlement_id", flat=True)) == [approved.pk]


def test_the_batch_form_names_its_fields_and_states_the_services_refusals(
    client, gz, approved, certifier, guiyang_funding
):
    html = main(post(client, guiyang_funding, "funding_batch_new", {"region": "520100"}, status=400))
    assert 'href="#id_entitlements"' in html and 'id="id_entitlements"' in html
    no_account = enterprises_of_nanming(gz, 1)[0]
    (other,) = certify(certifier, no_account)
    services.entitlement_approve(entitlement=other, by=guiyang_funding)
    data = {"region": "520100", "entitlements": [approved.pk, other.pk]}
    html = main(post(client, guiyang_funding, "funding_batch_new", data, status=400))
    assert no_account.name in html.split('data-testid="form-errors"', 1)[1].split("</div>", 1)[0]
    assert not PaymentBatch.objects.exists()


def test_only_paying_officers_prepare_batches_for_their_own_region(
    client, approved, gz_admin, gz_funding, zunyi_funding
):
    # the tenant administrator reads batches and prepares none
    get(client, gz_admin, "funding_batch_new", status=404)
    assert 'data-testid="batch-new"' not in main(get(client, gz_admin, "funding_batches"))
    # the province's officer and 遵义's prepare for their own region: 贵阳's award is neither offered nor
    # accepted, whatever region the post names
    for user in (gz_funding, zunyi_funding):
        assert f'value="{approved.pk}"' not in main(get(client, user, "funding_batch_new"))
        data = {"region": "520100", "entitlements": [approved.pk]}
        post(client, user, "funding_batch_new", data, status=400)
    assert not PaymentBatch.objects.exists()


# --- the batch page -------------------------------------------------------------------------------------


def test_the_batch_page_masks_account_numbers_and_the_preparer_cannot_approve(client, batch, guiyang_funding):
    response = get(client, guiyang_funding, "funding_batch", pk=batch.pk)
    assert_csp_clean(response)
    html = main(response)
    assert NUMBER not in response.content.decode()
    assert mask_account_number(NUMBER) in html.split('data-testid="line-account"', 1)[1]
    assert 'data-testid="approve-reason"' in html and 'data-testid="batch-approve"' not in html
    post(client, guiyang_funding, "funding_batch_approve", {}, pk=batch.pk)
    batch.refresh_from_db()
    assert batch.state == B.PREPARED


def test_a_second_officer_approves_and_the_payment_file_holds_the_full_number(
    client, batch, guiyang_funding, guiyang_funding2
):
    html = main(get(client, guiyang_funding2, "funding_batch", pk=batch.pk))
    assert 'data-testid="batch-approve"' in html
    get(client, guiyang_funding, "funding_batch_file", status=302, pk=batch.pk)  # not approved yet
    post(client, guiyang_funding2, "funding_batch_approve", {}, pk=batch.pk)
    batch.refresh_from_db()
    assert (batch.state, batch.approved_by) == (B.APPROVED, guiyang_funding2)
    html = main(get(client, guiyang_funding, "funding_batch", pk=batch.pk))
    assert batch.sha256 in html and 'data-testid="digest-ok"' in html
    assert NUMBER not in html
    response = get(client, guiyang_funding, "funding_batch_file", pk=batch.pk)
    assert "no-store" in response["Cache-Control"]
    assert f'filename="{batch.reference}.xlsx"' in response["Content-Disposition"]
    rows = workbook_rows(response)
    line = rows[1]
    assert line[1] == "贵州黔芯精密机械有限公司" and line[4] == NUMBER and D(str(line[5])) == D("500000")
    assert batch.sha256 in [row[1] for row in rows if row and len(row) > 1]
    assert AuditEvent.objects.filter(action="batch.payment_file_exported", actor=guiyang_funding).count() == 1


def test_above_the_threshold_a_third_officer_gives_the_second_approval(
    client, gz, batch, guiyang_funding, guiyang_funding2, guiyang_funding3
):
    FundingSettings.objects.create(tenant=gz, second_approval_above=D("100000.00"))
    # the batch keeps the threshold it was prepared under: prepare it again
    services.batch_cancel(batch=batch, by=guiyang_funding, reason="按新阈值重新编制")
    post(
        client,
        guiyang_funding,
        "funding_batch_new",
        {"region": "520100", "entitlements": [batch.lines.get().entitlement_id]},
    )
    new = PaymentBatch.objects.exclude(pk=batch.pk).get()
    assert new.needs_second_approval
    post(client, guiyang_funding2, "funding_batch_approve", {}, pk=new.pk)
    new.refresh_from_db()
    assert new.state == B.FIRST_APPROVED
    html = main(get(client, guiyang_funding2, "funding_batch", pk=new.pk))
    assert 'data-testid="approve-reason"' in html  # the first approver cannot give the second
    assert "100,000.00" in html.split('data-testid="second-approval"', 1)[1].split("</dd>", 1)[0]
    post(client, guiyang_funding3, "funding_batch_approve", {}, pk=new.pk)
    new.refresh_from_db()
    assert (new.state, new.second_approved_by) == (B.APPROVED, guiyang_funding3)


def test_a_line_is_marked_paid_once_with_its_bank_reference(
    client, batch, approved, guiyang_funding, guiyang_funding2
):
    services.batch_approve(batch=batch, by=guiyang_funding2)
    line = batch.lines.get()
    name = f"line{line.pk}-bank_reference"
    html = main(
        post(
            client,
            guiyang_funding,
            "funding_batch_line_paid",
            {name: ""},
            status=400,
            pk=batch.pk,
            line_pk=line.pk,
        )
    )
    assert f'href="#id_{name}"' in html
    for _attempt in range(2):  # a double click: the same request twice, one payment
        post(
            client,
            guiyang_funding,
            "funding_batch_line_paid",
            {name: "ICBC20261201-0001"},
            pk=batch.pk,
            line_pk=line.pk,
        )
    assert LedgerEntry.objects.filter(kind="payment", batch_line=line).count() == 1
    batch.refresh_from_db()
    approved.refresh_from_db()
    assert (batch.state, approved.state) == (B.PAID, S.PAID)
    # another reference for a paid line is refused, and nothing changes
    response = post(
        client,
        guiyang_funding,
        "funding_batch_line_paid",
        {name: "OTHER-2"},
        follow=True,
        pk=batch.pk,
        line_pk=line.pk,
    )
    assert "ICBC20261201-0001" in main(response)
    assert BatchLine.objects.get(pk=line.pk).bank_reference == "ICBC20261201-0001"
    assert 'data-testid="line-paid"' in main(get(client, guiyang_funding, "funding_batch", pk=batch.pk))


def test_a_batch_is_cancelled_with_a_reason_that_the_form_names(client, batch, approved, guiyang_funding):
    html = main(
        post(client, guiyang_funding, "funding_batch_cancel", {"cancel-reason": ""}, status=400, pk=batch.pk)
    )
    assert 'href="#id_cancel-reason"' in html
    post(client, guiyang_funding, "funding_batch_cancel", {"cancel-reason": "收款账户需核对"}, pk=batch.pk)
    batch.refresh_from_db()
    assert (batch.state, batch.cancel_reason) == (B.CANCELLED, "收款账户需核对")
    # its award can go into a new batch
    assert f'value="{approved.pk}"' in main(get(client, guiyang_funding, "funding_batch_new"))


def test_another_tenant_s_or_region_s_batch_is_not_found(
    client, batch, zunyi_funding, xz_funding, guiyang_funding2
):
    line = batch.lines.get()
    for user in (zunyi_funding, xz_funding):
        get(client, user, "funding_batch", status=404, pk=batch.pk)
        get(client, user, "funding_batch_file", status=404, pk=batch.pk)
        post(client, user, "funding_batch_approve", {}, status=404, pk=batch.pk)
        post(client, user, "funding_batch_cancel", {"cancel-reason": "取消"}, status=404, pk=batch.pk)
        post(
            client,
            user,
            "funding_batch_line_paid",
            {f"line{line.pk}-bank_reference": "X"},
            status=404,
            pk=batch.pk,
            line_pk=line.pk,
        )
    get(client, xz_funding, "funding_batch", status=404, tenant_code="xz", pk=batch.pk)
    batch.refresh_from_db()
    assert batch.state == B.PREPARED
    # a line of another batch is not found under this one
    other = PaymentBatch.objects.create(
        tenant=batch.tenant, region=batch.region, reference="X-1", prepared_by=guiyang_funding2
    )
    post(client, guiyang_funding2, "funding_batch_line_paid", {}, status=404, pk=other.pk, line_pk=line.pk)


def test_the_payment_file_needs_a_signed_in_officer_and_marking_paid_needs_the_csrf_token(
    batch, guiyang_funding, guiyang_funding2
):
    services.batch_approve(batch=batch, by=guiyang_funding2)
    client = Client(enforce_csrf_checks=True)
    response = client.get(url("funding_batch_file", pk=batch.pk))
    assert response.status_code == 302 and "/gz/login/" in response["Location"]
    client.force_login(guiyang_funding)
    line = batch.lines.get()
    response = client.post(
        url("funding_batch_line_paid", pk=batch.pk, line_pk=line.pk), {f"line{line.pk}-bank_reference": "R-1"}
    )
    assert response.status_code == 403
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_the_batch_list_runs_a_constant_number_of_queries(
    client, gz, city_policy, certifier, guiyang_funding
):
    entitlements = []
    for enterprise in enterprises_of_nanming(gz, 6):
        (e,) = certify(certifier, enterprise)
        services.entitlement_approve(entitlement=e, by=guiyang_funding)
        with_account(enterprise)
        entitlements.append(e)
    prepare = services.batch_prepare
    prepare(tenant=gz, region=region(gz, "520100"), entitlements=entitlements[:1], by=guiyang_funding)
    client.force_login(guiyang_funding)
    few = queries(lambda: client.get(url("funding_batches")))
    for e in entitlements[1:]:
        prepare(tenant=gz, region=region(gz, "520100"), entitlements=[e], by=guiyang_funding)
    assert PaymentBatch.objects.count() == 6
    assert queries(lambda: client.get(url("funding_batches"))) == few
    html = main(get(client, guiyang_funding, "funding_batches", data={"state": "prepared"}))
    assert html.count("<tr data-batch=") == 6
    assert "<tr data-batch=" not in main(
        get(client, guiyang_funding, "funding_batches", data={"state": "paid"})
    )


# --- receivables ----------------------------------------------------------------------------------------


@pytest.fixture
def receivable(batch, guiyang_funding, guiyang_funding2, province_approver):
    """acme's paid award, its certification then revoked for false information."""
    batch = services.batch_approve(batch=batch, by=guiyang_funding2)
    line = batch.lines.get()
    services.batch_line_mark_paid(line=line, bank_reference="ICBC-1", by=guiyang_funding)
    lifecycle.certification_revoke(
        certification=line.entitlement.certification,
        by=province_approver,
        ground=Revocation.Ground.FALSE_INFORMATION,
        reason="经核查，申报材料中的研发费用数据不实。",
    )
    return Receivable.objects.get()


def test_the_clawback_is_listed_for_the_officers_who_see_the_paying_region(
    client, receivable, guiyang_funding, gz_funding, zunyi_funding
):
    for user in (guiyang_funding, gz_funding):
        html = main(get(client, user, "funding_receivables"))
        row = html.split(f'data-receivable="{receivable.pk}"', 1)[1].split("</tr>", 1)[0]
        assert "贵州黔芯精密机械有限公司" in row and "500,000.00" in row
    assert f'data-receivable="{receivable.pk}"' not in main(get(client, zunyi_funding, "funding_receivables"))
    get(client, zunyi_funding, "funding_receivable", status=404, pk=receivable.pk)


def test_a_repayment_is_recorded_with_its_reference(client, receivable, guiyang_funding, gz_funding):
    html = main(get(client, gz_funding, "funding_receivable", pk=receivable.pk))
    assert 'data-testid="act-reason"' in html and 'data-testid="repay-form"' not in html
    html = main(
        post(
            client,
            guiyang_funding,
            "funding_receivable_repay",
            {"repay-amount": "", "repay-bank_reference": ""},
            status=400,
            pk=receivable.pk,
        )
    )
    assert 'href="#id_repay-amount"' in html and 'href="#id_repay-bank_reference"' in html
    data = {"repay-amount": "200000.00", "repay-bank_reference": "HK-0001"}
    post(client, guiyang_funding, "funding_receivable_repay", data, pk=receivable.pk)
    post(client, guiyang_funding, "funding_receivable_repay", data, pk=receivable.pk)  # repeated: once
    receivable.refresh_from_db()
    assert (receivable.repaid, receivable.outstanding) == (D("200000.00"), D("300000.00"))
    # more than is outstanding is refused with the outstanding amount
    response = post(
        client,
        guiyang_funding,
        "funding_receivable_repay",
        {"repay-amount": "400000", "repay-bank_reference": "HK-2"},
        follow=True,
        pk=receivable.pk,
    )
    assert "300,000.00" in main(response)


def test_a_write_off_is_requested_by_one_officer_and_decided_by_another(
    client, receivable, guiyang_funding, guiyang_funding2
):
    html = main(
        post(
            client,
            guiyang_funding,
            "funding_receivable_write_off",
            {"writeoff-reason": "短"},
            status=400,
            pk=receivable.pk,
        )
    )
    assert 'href="#id_writeoff-reason"' in html
    reason = "企业已注销，经法院裁定无财产可供执行。"
    post(
        client, guiyang_funding, "funding_receivable_write_off", {"writeoff-reason": reason}, pk=receivable.pk
    )
    html = main(get(client, guiyang_funding, "funding_receivable", pk=receivable.pk))
    assert 'data-testid="decide-reason"' in html and 'data-testid="write-off-decide-form"' not in html
    html = main(
        post(
            client, guiyang_funding2, "funding_receivable_write_off_decide", {}, status=400, pk=receivable.pk
        )
    )
    assert 'href="#id_decide-decision"' in html
    post(
        client,
        guiyang_funding2,
        "funding_receivable_write_off_decide",
        {"decide-decision": "approve"},
        pk=receivable.pk,
    )
    receivable.refresh_from_db()
    assert (receivable.state, receivable.written_off, receivable.written_off_by) == (
        R.WRITTEN_OFF,
        D("500000.00"),
        guiyang_funding2,
    )


def test_the_receivable_list_runs_a_constant_number_of_queries(
    client, gz, receivable, certifier, guiyang_funding
):
    client.force_login(guiyang_funding)
    few = queries(lambda: client.get(url("funding_receivables")))
    # more receivables (written straight into the table: the list only reads them)
    for enterprise in enterprises_of_nanming(gz, 5):
        (e,) = certify(certifier, enterprise)
        Receivable.objects.create(
            tenant=gz, entitlement=e, policy=e.policy, enterprise=enterprise, amount=D("500000.00")
        )
    assert queries(lambda: client.get(url("funding_receivables"))) == few
    html = main(get(client, guiyang_funding, "funding_receivables", data={"state": "open"}))
    assert html.count("<tr data-receivable=") == 6
    assert "<tr data-receivable=" not in main(
        get(client, guiyang_funding, "funding_receivables", data={"state": "repaid"})
    )
