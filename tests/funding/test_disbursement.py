"""Payment batches: four eyes, a second approver above the threshold, the frozen hash, the payment file,
and a line paid once."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from openpyxl import load_workbook

from funding import services
from funding.models import Budget, Entitlement, FundingSettings, LedgerEntry, PaymentBatch
from funding.services import FundingRefused
from portal.models import AuditEvent
from tests.funding.conftest import certify, enterprises_of_nanming, with_account

B = PaymentBatch.State
D = Decimal
NUMBER = "6222021234567890123"


@pytest.fixture
def approved(gz, city_policy, certifier, acme, owner, colleague, guiyang_funding):
    """Three enterprises of 南明区 with an approved 50万 award each and a confirmed bank account."""
    rows = []
    for enterprise in [acme, *enterprises_of_nanming(gz, 2)]:
        (entitlement,) = certify(certifier, enterprise)
        rows.append(services.entitlement_approve(entitlement=entitlement, by=guiyang_funding))
        if enterprise == acme:
            with_account(enterprise, owner, colleague, number=NUMBER)
        else:
            with_account(enterprise)
    return rows


def prepare(gz, approved, by, **kwargs):
    from tests.conftest import region

    return services.batch_prepare(
        tenant=gz, region=region(gz, "520100"), entitlements=approved, by=by, **kwargs
    )


def test_the_preparer_cannot_approve_the_batch(gz, approved, guiyang_funding, guiyang_funding2):
    batch = prepare(gz, approved, guiyang_funding)
    assert (batch.state, batch.line_count, batch.total) == (B.PREPARED, 3, D("1500000.00"))
    assert services.batch_can(batch, "approve", by=guiyang_funding)
    with pytest.raises(FundingRefused) as info:
        services.batch_approve(batch=batch, by=guiyang_funding)
    assert info.value.code == "four_eyes"
    batch.refresh_from_db()
    assert (batch.state, batch.approved_by_id, batch.sha256) == (B.PREPARED, None, "")
    assert AuditEvent.objects.filter(action="batch.approve", outcome="refused").count() == 1


def test_a_batch_above_the_threshold_needs_a_second_approver(
    gz, approved, guiyang_funding, guiyang_funding2, guiyang_funding3
):
    # given: the default threshold is 100万; this batch is 150万
    batch = prepare(gz, approved, guiyang_funding)
    assert batch.needs_second_approval and batch.threshold == D("1000000.00")
    # when: a first approval
    batch = services.batch_approve(batch=batch, by=guiyang_funding2)
    # then: not yet frozen, and the first approver cannot give the second approval
    assert (batch.state, batch.sha256) == (B.FIRST_APPROVED, "")
    with pytest.raises(FundingRefused):
        services.batch_approve(batch=batch, by=guiyang_funding2)
    with pytest.raises(FundingRefused):
        services.batch_payment_file(batch=batch, by=guiyang_funding2)
    batch = services.batch_approve(batch=batch, by=guiyang_funding3)
    assert batch.state == B.APPROVED and batch.second_approved_by == guiyang_funding3


def test_a_batch_at_or_below_the_threshold_needs_one_approver(
    gz, approved, guiyang_funding, guiyang_funding2
):
    FundingSettings.objects.create(tenant=gz, second_approval_above=D("1500000.00"))
    batch = prepare(gz, approved, guiyang_funding)
    assert not batch.needs_second_approval
    batch = services.batch_approve(batch=batch, by=guiyang_funding2)
    assert batch.state == B.APPROVED and batch.second_approved_by is None


def test_approval_freezes_total_count_payees_and_their_hash(gz, approved, guiyang_funding, guiyang_funding2):
    FundingSettings.objects.create(tenant=gz, second_approval_above=D("5000000"))
    batch = services.batch_approve(batch=prepare(gz, approved, guiyang_funding), by=guiyang_funding2)
    assert len(batch.sha256) == 64 and batch.frozen_at is not None
    assert batch.sha256 == services.batch_digest(batch)
    # a payee's details changed behind the services' back: the file is refused
    line = batch.lines.first()
    line.account_number = "6222999999999999999"
    line.save()
    assert services.batch_digest(batch) != batch.sha256
    with pytest.raises(FundingRefused) as info:
        services.batch_payment_file(batch=batch, by=guiyang_funding)
    assert info.value.code == "changed"


def test_the_payment_file_holds_the_full_account_numbers_and_is_audited(
    gz, approved, acme, guiyang_funding, guiyang_funding2
):
    FundingSettings.objects.create(tenant=gz, second_approval_above=D("5000000"))
    batch = services.batch_approve(batch=prepare(gz, approved, guiyang_funding), by=guiyang_funding2)
    with translation.override("en"):
        filename, data = services.batch_payment_file(batch=batch, by=guiyang_funding)
    assert filename == f"{batch.reference}.xlsx"
    rows = list(load_workbook(BytesIO(data)).active.iter_rows(values_only=True))
    assert rows[0] == (
        "No.",
        "Payee",
        "Unified social credit code",
        "Bank and branch",
        "Account number",
        "Amount (yuan)",
        "Purpose",
    )
    acme_row = next(r for r in rows[1:4] if r[1] == acme.name)
    assert acme_row[2] == acme.uscc and acme_row[4] == NUMBER and D(str(acme_row[5])) == D("500000.00")
    assert ("Total (yuan)", 1500000) in [(r[0], r[1]) for r in rows if r and r[0]]
    assert rows[-1] == ("SHA-256 of the approved lines", batch.sha256, None, None, None, None, None)
    event = AuditEvent.objects.get(action="batch.payment_file_exported")
    assert NUMBER not in event.summary
    # the number appears in full nowhere in the audit log
    assert not AuditEvent.objects.filter(summary__contains=NUMBER).exists()
    assert not AuditEvent.objects.filter(changes__icontains=NUMBER).exists()


def approved_batch(gz, approved, preparer, approver):
    FundingSettings.objects.update_or_create(tenant=gz, defaults={"second_approval_above": D("5000000")})
    return services.batch_approve(batch=prepare(gz, approved, preparer), by=approver)


def test_the_same_line_paid_twice_is_paid_once(gz, approved, city_policy, guiyang_funding, guiyang_funding2):
    batch = approved_batch(gz, approved, guiyang_funding, guiyang_funding2)
    line = batch.lines.order_by("pk").first()
    # when: the request is repeated (a double click), then with another reference
    first = services.batch_line_mark_paid(line=line, bank_reference="ICBC-0001", by=guiyang_funding)
    again = services.batch_line_mark_paid(line=line, bank_reference="ICBC-0001", by=guiyang_funding2)
    with pytest.raises(FundingRefused) as info:
        services.batch_line_mark_paid(line=line, bank_reference="ICBC-9999", by=guiyang_funding)
    # then: one payment, the same answer, the other reference refused naming the first
    assert (again.pk, again.paid_at, again.bank_reference) == (first.pk, first.paid_at, "ICBC-0001")
    assert info.value.code == "already_paid" and "ICBC-0001" in info.value.message
    assert LedgerEntry.objects.filter(kind="payment", batch_line=line).count() == 1
    assert Entitlement.objects.get(pk=line.entitlement_id).state == Entitlement.State.PAID
    budget = Budget.objects.get(policy=city_policy)
    assert budget.paid == D("500000.00")
    assert services.budget_invariants(budget) == []


def test_a_batch_is_paid_when_every_line_is(gz, approved, guiyang_funding, guiyang_funding2):
    batch = approved_batch(gz, approved, guiyang_funding, guiyang_funding2)
    references = {line.pk: f"REF-{line.pk}" for line in batch.lines.all()}
    batch = services.batch_mark_paid(batch=batch, references=references, by=guiyang_funding)
    assert batch.state == B.PAID and batch.paid_at is not None
    # the whole request again: nothing changes
    services.batch_mark_paid(batch=batch, references=references, by=guiyang_funding)
    assert LedgerEntry.objects.filter(kind="payment").count() == 3
    assert services.batch_can(batch, "cancel", by=guiyang_funding2) is not None


def test_a_payment_needs_a_bank_reference_and_an_approved_batch(
    gz, approved, guiyang_funding, guiyang_funding2
):
    batch = prepare(gz, approved, guiyang_funding)
    line = batch.lines.first()
    with pytest.raises(ValidationError) as info:
        services.batch_line_mark_paid(line=line, bank_reference="  ", by=guiyang_funding)
    assert "bank_reference" in info.value.message_dict
    with pytest.raises(FundingRefused):
        services.batch_line_mark_paid(line=line, bank_reference="X1", by=guiyang_funding)
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_an_award_goes_into_one_open_batch_and_is_free_again_when_it_is_cancelled(
    gz, approved, guiyang_funding, guiyang_funding2
):
    batch = prepare(gz, approved, guiyang_funding)
    with pytest.raises(FundingRefused, match="already in an open payment batch"):
        prepare(gz, approved[:1], guiyang_funding2)
    services.batch_cancel(batch=batch, by=guiyang_funding2, reason="银行退回")
    again = prepare(gz, approved[:1], guiyang_funding2)
    assert again.line_count == 1


def test_only_approved_awards_with_a_confirmed_account_are_batched(
    gz, city_policy, certifier, guiyang_funding, guiyang_funding2
):
    (enterprise,) = enterprises_of_nanming(gz, 1, start=300)
    (entitlement,) = certify(certifier, enterprise)
    with pytest.raises(FundingRefused, match="only approved awards"):
        prepare(gz, [entitlement], guiyang_funding)
    entitlement = services.entitlement_approve(entitlement=entitlement, by=guiyang_funding)
    with pytest.raises(FundingRefused) as info:
        prepare(gz, [entitlement], guiyang_funding)
    assert info.value.code == "no_account"
    assert not PaymentBatch.objects.exists()


def test_a_changed_bank_account_stops_the_approval(
    gz, approved, acme, owner, colleague, guiyang_funding, guiyang_funding2
):
    batch = prepare(gz, approved, guiyang_funding)
    # acme's members change its account after the batch was prepared
    with_account(acme, colleague, owner, number="6228480000000000001")
    with pytest.raises(FundingRefused, match="changed after the batch was prepared"):
        services.batch_approve(batch=batch, by=guiyang_funding2)


def test_officers_of_other_regions_do_not_handle_the_batch(
    gz, approved, guiyang_funding, gz_funding, zunyi_funding
):
    with pytest.raises(FundingRefused) as info:
        prepare(gz, approved, gz_funding)
    assert info.value.code == "forbidden"
    batch = prepare(gz, approved, guiyang_funding)
    for officer in (gz_funding, zunyi_funding):
        with pytest.raises(FundingRefused) as info:
            services.batch_approve(batch=batch, by=officer)
        assert info.value.code == "forbidden"
