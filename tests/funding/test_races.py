"""Budgets and payments hold when officers act at the same moment (style.md 15 and 24).

PostgreSQL only: SQLite serialises every writer, so there is no race to lose. Threads line up on a
barrier, then act together; each closes its own connection at the end (the `race` helper of the quota
race tests).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from certification.models import Certification
from funding import services
from funding.models import BatchLine, Budget, Entitlement, FundingSettings, LedgerEntry
from funding.services import FundingRefused
from portal.models import User
from tests.certification.test_quota_race import race as _race
from tests.conftest import region, require_postgres
from tests.funding.conftest import (
    certify,
    enterprises_of_nanming,
    make_policy,
    national_little_giant,
    with_account,
)

pytestmark = pytest.mark.django_db(transaction=True)

D = Decimal
AWARD = D("500000.00")


def race(*calls: Callable[[], object]) -> list[str]:
    """The quota tests' race, reporting funding refusals by their code too."""

    def wrap(call):
        def run():
            try:
                return call()
            except FundingRefused as exc:
                from certification.workflow import WorkflowRefused

                raise WorkflowRefused(exc.message, code=exc.code) from exc

        return run

    return _race(*(wrap(c) for c in calls))


def approve(entitlement_pk: int, officer_pk: int) -> Callable[[], object]:
    def call():
        return services.entitlement_approve(
            entitlement=Entitlement.objects.get(pk=entitlement_pk), by=User.objects.get(pk=officer_pk)
        )

    return call


def test_twenty_approvals_at_once_against_a_budget_for_ten(gz, certifier, guiyang_funding, guiyang_funding2):
    require_postgres()
    # given: twenty enterprises with a pending 50万 award; the budget fits ten
    policy = make_policy(gz, "520100", budget=AWARD * 10)
    entitlements = [certify(certifier, e)[0] for e in enterprises_of_nanming(gz, 20)]
    officers = [guiyang_funding.pk, guiyang_funding2.pk]
    # when: two officers approve all twenty at the same moment
    outcomes = race(*(approve(e.pk, officers[i % 2]) for i, e in enumerate(entitlements)))
    # then: exactly ten went through, the rest were told the budget is spent, and it is exact
    assert sorted(outcomes) == ["ok"] * 10 + ["over_budget"] * 10, outcomes
    budget = Budget.objects.get(policy=policy)
    assert (budget.amount, budget.committed) == (AWARD * 10, AWARD * 10)
    assert Entitlement.objects.filter(policy=policy, state="approved").count() == 10
    assert LedgerEntry.objects.filter(policy=policy, kind="approval").count() == 10
    assert services.budget_invariants(budget) == []


def test_the_provincial_and_national_awards_approved_at_once_pay_the_highest_once(
    gz, certifier, acme, guiyang_funding, guiyang_funding2
):
    require_postgres()
    policy = make_policy(gz, "520100")
    for attempt in range(5):
        # given: both of acme's awards pending (a fresh enterprise each round)
        (enterprise,) = enterprises_of_nanming(gz, 1, start=500 + attempt)
        (provincial,) = certify(certifier, enterprise)
        (national,) = national_little_giant(enterprise, guiyang_funding)
        # when
        outcomes = race(approve(provincial.pk, guiyang_funding.pk), approve(national.pk, guiyang_funding2.pk))
        # then: whichever came first, the enterprise holds 200万 in all, never 250万
        assert outcomes == ["ok", "ok"], outcomes
        held = sum(e.amount for e in Entitlement.objects.filter(enterprise=enterprise, state="approved"))
        assert held == D("2000000.00")
    assert services.budget_invariants(Budget.objects.get(policy=policy)) == []


def test_the_same_line_paid_twice_at_once_is_paid_once(gz, certifier, guiyang_funding, guiyang_funding2):
    require_postgres()
    policy = make_policy(gz, "520100")
    FundingSettings.objects.create(tenant=gz, second_approval_above=D("100000000"))
    enterprises = enterprises_of_nanming(gz, 5)
    rows = []
    for enterprise in enterprises:
        (entitlement,) = certify(certifier, enterprise)
        rows.append(services.entitlement_approve(entitlement=entitlement, by=guiyang_funding))
        with_account(enterprise)
    batch = services.batch_prepare(
        tenant=gz, region=region(gz, "520100"), entitlements=rows, by=guiyang_funding
    )
    batch = services.batch_approve(batch=batch, by=guiyang_funding2)
    lines = list(BatchLine.objects.filter(batch=batch).order_by("pk"))

    def pay(line_pk: int, officer_pk: int, reference: str):
        def call():
            return services.batch_line_mark_paid(
                line=BatchLine.objects.get(pk=line_pk),
                bank_reference=reference,
                by=User.objects.get(pk=officer_pk),
            )

        return call

    for line in lines[:3]:
        # the same request twice (a double submit): both answer the paid line
        outcomes = race(
            pay(line.pk, guiyang_funding.pk, f"B-{line.pk}"),
            pay(line.pk, guiyang_funding2.pk, f"B-{line.pk}"),
        )
        assert outcomes == ["ok", "ok"], outcomes
    for line in lines[3:]:
        # two different references: one is recorded, the other refused
        outcomes = race(pay(line.pk, guiyang_funding.pk, "X-1"), pay(line.pk, guiyang_funding2.pk, "X-2"))
        assert sorted(outcomes) == ["already_paid", "ok"], outcomes
    assert LedgerEntry.objects.filter(kind="payment").count() == 5
    budget = Budget.objects.get(policy=policy)
    assert budget.paid == AWARD * 5 and services.budget_invariants(budget) == []
    batch.refresh_from_db()
    assert batch.state == "paid"


def test_two_creations_of_the_same_entitlements_at_once_create_them_once(gz, certifier):
    require_postgres()
    for attempt in range(5):
        # given: a certification, then a policy covering its day only (so the receiver found none)
        (enterprise,) = enterprises_of_nanming(gz, 1, start=700 + attempt)
        day = date(2024, 3, 1 + attempt)
        certification = certifier.certify(enterprise, issued_on=day)
        make_policy(
            gz, "520100", code=f"day_{attempt}", group=f"day-{attempt}", covers_from=day, covers_to=day
        )
        assert not Entitlement.objects.filter(certification=certification).exists()

        def create(pk=certification.pk):
            return services.entitlements_create_for(certification=Certification.objects.get(pk=pk))

        # when: the receiver and the daily sweep, say, at the same moment
        outcomes = race(create, create)
        # then: one row; the loser of the unique constraint returned quietly
        assert outcomes == ["ok", "ok"], outcomes
        assert Entitlement.objects.filter(certification=certification).count() == 1
