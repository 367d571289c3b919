"""A revocation stops unpaid awards; for false information it also recovers what was paid (a receivable,
tracked until repaid or written off with four eyes)."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from openpyxl import load_workbook

from certification import lifecycle
from certification.models import Revocation
from funding import services
from funding.models import (
    AwardLevel,
    Budget,
    Entitlement,
    FundingSettings,
    LedgerEntry,
    PaymentBatch,
    Receivable,
)
from funding.services import AmountSpec, FundingRefused
from tests.certification.conftest import make_program
from tests.conftest import region
from tests.funding.conftest import certify, enterprises_of_nanming, make_policy, with_account

S = Entitlement.State
R = Receivable.State
D = Decimal
FRAUD = Revocation.Ground.FALSE_INFORMATION


def revoke(certification, by, ground=FRAUD):
    return lifecycle.certification_revoke(
        certification=certification, by=by, ground=ground, reason="经核查，申报材料中的研发费用数据不实。"
    )


@pytest.fixture
def paid(gz, city_policy, certifier, acme, owner, colleague, guiyang_funding, guiyang_funding2):
    """acme's 50万 award, approved and paid through a batch."""
    (entitlement,) = certify(certifier, acme)
    services.entitlement_approve(entitlement=entitlement, by=guiyang_funding)
    with_account(acme, owner, colleague)
    batch = services.batch_prepare(
        tenant=gz, region=region(gz, "520100"), entitlements=[entitlement], by=guiyang_funding
    )
    batch = services.batch_approve(batch=batch, by=guiyang_funding2)
    services.batch_line_mark_paid(line=batch.lines.get(), bank_reference="ICBC-1", by=guiyang_funding)
    entitlement.refresh_from_db()
    return entitlement


def test_false_information_turns_a_paid_award_into_a_receivable(
    paid, city_policy, province_approver, guiyang_funding
):
    budget_before = Budget.objects.values("committed", "paid").get(policy=city_policy)
    # when
    revoke(paid.certification, province_approver)
    # then
    paid.refresh_from_db()
    receivable = Receivable.objects.get(entitlement=paid)
    assert paid.state == S.CLAWED_BACK
    assert (receivable.amount, receivable.outstanding, receivable.state) == (
        D("500000.00"),
        D("500000.00"),
        R.OPEN,
    )
    assert receivable.revocation.certification_id == paid.certification_id
    assert (
        LedgerEntry.objects.filter(kind="clawback", receivable=receivable, amount=D("500000.00")).count() == 1
    )
    # the money was spent: the budget's totals do not move, and its invariants hold
    budget = Budget.objects.get(policy=city_policy)
    assert {"committed": budget.committed, "paid": budget.paid} == budget_before
    assert services.budget_invariants(budget) == []
    assert services.receivable_invariants(receivable) == []


def test_other_grounds_stop_unpaid_awards_but_recover_nothing(paid, city_policy, province_approver):
    revoke(paid.certification, province_approver, ground=Revocation.Ground.SAFETY_ACCIDENT)
    paid.refresh_from_db()
    assert paid.state == S.PAID
    assert not Receivable.objects.exists()


def test_a_revocation_cancels_pending_and_releases_approved_unpaid_awards(
    gz, city_policy, certifier, province_approver, guiyang_funding
):
    pending_one, approved_one = enterprises_of_nanming(gz, 2)
    (pending,) = certify(certifier, pending_one)
    (approved,) = certify(certifier, approved_one)
    services.entitlement_approve(entitlement=approved, by=guiyang_funding)
    # when
    revoke(pending.certification, province_approver)
    revoke(approved.certification, province_approver)
    # then
    pending.refresh_from_db()
    approved.refresh_from_db()
    assert (pending.state, approved.state, approved.budget_id) == (S.CANCELLED, S.CANCELLED, None)
    budget = Budget.objects.get(policy=city_policy)
    assert budget.committed == D("0.00")
    reversal = LedgerEntry.objects.get(kind="reversal", entitlement=approved)
    assert reversal.reverses.kind == "approval" and reversal.amount == D("500000.00")
    assert services.budget_invariants(budget) == []
    assert not Receivable.objects.exists()


def test_a_revocation_stops_the_line_of_an_approved_batch(
    gz, city_policy, certifier, province_approver, guiyang_funding, guiyang_funding2
):
    # given: two approved awards in an approved batch
    FundingSettings.objects.create(tenant=gz, second_approval_above=D("5000000"))
    enterprises = enterprises_of_nanming(gz, 2)
    rows = []
    for enterprise in enterprises:
        (entitlement,) = certify(certifier, enterprise)
        rows.append(services.entitlement_approve(entitlement=entitlement, by=guiyang_funding))
        with_account(enterprise)
    batch = services.batch_prepare(
        tenant=gz, region=region(gz, "520100"), entitlements=rows, by=guiyang_funding
    )
    batch = services.batch_approve(batch=batch, by=guiyang_funding2)
    # when: the first enterprise's certification is revoked before the bank pays
    revoke(rows[0].certification, province_approver)
    # then: its line is stopped: not in the file, never marked paid; the batch completes without it
    stopped = batch.lines.get(entitlement=rows[0])
    assert stopped.stopped_at is not None
    _name, data = services.batch_payment_file(batch=batch, by=guiyang_funding)
    sheet_rows = list(load_workbook(BytesIO(data)).active.iter_rows(values_only=True))
    assert enterprises[0].name not in [r[1] for r in sheet_rows] and enterprises[1].name in [
        r[1] for r in sheet_rows
    ]
    with pytest.raises(FundingRefused) as info:
        services.batch_line_mark_paid(line=stopped, bank_reference="B-1", by=guiyang_funding)
    assert info.value.code == "stopped"
    other = batch.lines.get(entitlement=rows[1])
    services.batch_line_mark_paid(line=other, bank_reference="B-2", by=guiyang_funding)
    batch.refresh_from_db()
    assert batch.state == PaymentBatch.State.PAID
    assert services.budget_invariants(Budget.objects.get(policy=city_policy)) == []


def test_the_award_a_revoked_one_covered_is_due_again(
    gz, certifier, acme, province_approver, guiyang_funding
):
    # given: a provincial little giant award (100万) covers acme's later SRDI one (50万)
    make_policy(
        gz,
        "520100",
        amounts=[
            AmountSpec(AwardLevel.LITTLE_GIANT_PROVINCIAL, "1000000"),
            AmountSpec(AwardLevel.SRDI, "500000"),
        ],
    )
    little_giant, _version = make_program(gz, code="gz_lg")
    little_giant.tier = "little_giant"
    little_giant.save()
    (higher,) = certify(certifier, acme, program=little_giant)
    (lower,) = certify(certifier, acme)
    assert (higher.amount, lower.state) == (D("1000000.00"), S.COVERED)
    # when: the little giant certification is revoked
    revoke(higher.certification, province_approver)
    # then
    lower.refresh_from_db()
    assert (lower.state, lower.amount) == (S.PENDING, D("500000.00"))


def test_a_receivable_is_repaid_in_parts_each_recorded_once(
    paid, province_approver, guiyang_funding, zunyi_funding
):
    revoke(paid.certification, province_approver)
    receivable = Receivable.objects.get()
    with pytest.raises(FundingRefused) as info:
        services.receivable_repay(receivable=receivable, amount="1", bank_reference="R-0", by=zunyi_funding)
    assert info.value.code == "forbidden"
    services.receivable_repay(
        receivable=receivable, amount="200000", bank_reference="R-1", by=guiyang_funding
    )
    services.receivable_repay(
        receivable=receivable, amount="200000", bank_reference="R-1", by=guiyang_funding
    )
    with pytest.raises(FundingRefused) as info:
        services.receivable_repay(
            receivable=receivable, amount="300000.01", bank_reference="R-2", by=guiyang_funding
        )
    assert info.value.code == "over_outstanding"
    receivable = services.receivable_repay(
        receivable=receivable, amount="300000", bank_reference="R-2", by=guiyang_funding
    )
    assert (receivable.state, receivable.repaid, receivable.outstanding) == (
        R.REPAID,
        D("500000.00"),
        D("0.00"),
    )
    assert LedgerEntry.objects.filter(kind="repayment").count() == 2
    assert services.receivable_invariants(receivable) == []
    with pytest.raises(ValidationError):
        services.receivable_repay(receivable=receivable, amount="1", bank_reference="", by=guiyang_funding)


def test_a_write_off_needs_a_reason_and_a_second_officer(
    paid, province_approver, guiyang_funding, guiyang_funding2
):
    revoke(paid.certification, province_approver)
    receivable = Receivable.objects.get()
    services.receivable_repay(
        receivable=receivable, amount="100000", bank_reference="R-1", by=guiyang_funding
    )
    with pytest.raises(ValidationError):
        services.receivable_write_off_request(receivable=receivable, by=guiyang_funding, reason="无")
    receivable = services.receivable_write_off_request(
        receivable=receivable, by=guiyang_funding, reason="企业已破产清算，经法院裁定无财产可供执行。"
    )
    with pytest.raises(FundingRefused) as info:
        services.receivable_write_off_decide(receivable=receivable, by=guiyang_funding, approve=True)
    assert info.value.code == "four_eyes"
    receivable = services.receivable_write_off_decide(
        receivable=receivable, by=guiyang_funding2, approve=True
    )
    assert (receivable.state, receivable.written_off, receivable.outstanding) == (
        R.WRITTEN_OFF,
        D("400000.00"),
        D("0.00"),
    )
    assert LedgerEntry.objects.get(kind="write_off").amount == D("400000.00")
    assert services.receivable_invariants(receivable) == []
