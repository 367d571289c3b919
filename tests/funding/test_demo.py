"""The funding demo `make run` shows (funding.demo.seed_funding), on top of the other apps' demo data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command

from funding import services
from funding.models import AwardPolicy, BankAccount, Budget, Entitlement, LedgerEntry, PaymentBatch
from portal.models import Post
from tests.demo_snapshot import demo_portal

S = Entitlement.State


def _counts() -> dict[str, int]:
    return {
        m.__name__: m.objects.count()
        for m in (AwardPolicy, Entitlement, LedgerEntry, PaymentBatch, BankAccount)
    }


@pytest.fixture
def seeded(db):
    demo_portal(tenants=["gz", "xj"])  # seeded once per run, restored after (tests/demo_snapshot.py)


def test_the_demo_ships_the_seed_policies_with_awards_in_every_state(seeded):
    policies = {p.code: p for p in AwardPolicy.objects.select_related("region")}
    assert {code: p.region.code for code, p in policies.items()} == {
        "demo_city_2022": "520100",
        "gz_little_giant": "520000",
        "bortala_2023_2025": "652700",
    }
    city = policies["demo_city_2022"]
    assert "示范市（演示）" in city.name and "从高、不重复" in city.source
    assert "就高原则" in policies["gz_little_giant"].source
    assert "100万元、25万元" in policies["bortala_2023_2025"].source
    states = set(Entitlement.objects.filter(policy=city).values_list("state", flat=True))
    assert states >= {S.PAID, S.APPROVED, S.REJECTED, S.PENDING}
    # the paid enterprise, then a national little giant: 150万 more waits
    paid = Entitlement.objects.get(policy=city, state=S.PAID)
    top_up = Entitlement.objects.get(policy=city, enterprise=paid.enterprise, level="little_giant_national")
    assert (top_up.state, top_up.amount) == (S.PENDING, Decimal("1500000.00"))
    batch = PaymentBatch.objects.get()
    assert batch.state == PaymentBatch.State.PAID and batch.sha256 == services.batch_digest(batch)
    assert batch.prepared_by.username == "gz_funding" and batch.approved_by.username == "gz_funding2"
    for budget in Budget.objects.all():
        assert services.budget_invariants(budget) == []
    # the officers who act for 贵阳
    assert set(
        Post.objects.filter(region__code="520100", role=Post.Role.FUNDING_OFFICER).values_list(
            "user__username", flat=True
        )
    ) == {"gz_funding", "gz_funding2", "gz_funding3"}
    assert Entitlement.objects.filter(policy__code="bortala_2023_2025", state=S.PENDING).count() == 1


def test_the_funding_demo_is_idempotent(seeded, settings, django_capture_on_commit_callbacks):
    settings.DEBUG = True  # seed_demo refuses otherwise
    first = _counts()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", tenants=["gz", "xj"], quiet_accounts=True)
    assert _counts() == first
