"""The platform admin shows funding read-only, with account numbers masked."""

from __future__ import annotations

from django.urls import reverse

from funding.models import BankAccount, Budget, Entitlement, LedgerEntry, PaymentBatch
from tests.conftest import region
from tests.funding.conftest import certify, with_account

NUMBER = "6222021234567890123"


def test_the_admin_lists_money_read_only_and_masks_accounts(
    admin_client, gz, city_policy, certifier, acme, owner, colleague, guiyang_funding
):
    from funding import services

    (entitlement,) = certify(certifier, acme)
    services.entitlement_approve(entitlement=entitlement, by=guiyang_funding)
    with_account(acme, owner, colleague, number=NUMBER)
    batch = services.batch_prepare(
        tenant=gz, region=region(gz, "520100"), entitlements=[entitlement], by=guiyang_funding
    )
    for model, obj in (
        (Budget, Budget.objects.get()),
        (Entitlement, entitlement),
        (BankAccount, BankAccount.objects.get()),
        (PaymentBatch, batch),
        (LedgerEntry, LedgerEntry.objects.first()),
    ):
        name = f"admin:funding_{model._meta.model_name}"
        listing = admin_client.get(reverse(f"{name}_changelist"))
        detail = admin_client.get(reverse(f"{name}_change", args=[obj.pk]))
        assert listing.status_code == detail.status_code == 200, model
        assert NUMBER not in listing.content.decode() + detail.content.decode(), model
        assert admin_client.get(reverse(f"{name}_add")).status_code == 403, model
        assert admin_client.post(reverse(f"{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert (
        "6222 **** **** **** 0123"
        in admin_client.get(reverse("admin:funding_bankaccount_changelist")).content.decode()
    )
    assert LedgerEntry.objects.count() == 2
