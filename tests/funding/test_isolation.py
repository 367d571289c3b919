"""Scoped selectors: another tenant's awards, and another region's, are simply absent."""

from __future__ import annotations

from datetime import date

import pytest

from funding import selectors, services
from funding.models import AwardLevel
from funding.services import AmountSpec
from portal.models import Post
from tests.certification.conftest import make_program
from tests.certification.test_directory import Certifier
from tests.conftest import official, region
from tests.enterprises.conftest import make_enterprise
from tests.funding.conftest import certify, make_policy, with_account


@pytest.fixture
def two_tenants(gz, xz, city_policy, certifier, acme, owner, colleague, guiyang_funding, guiyang_funding2):
    """An approved, batched award in 贵阳 (gz); a pending one in 拉萨 (xz)."""
    (entitlement,) = certify(certifier, acme)
    services.entitlement_approve(entitlement=entitlement, by=guiyang_funding)
    with_account(acme, owner, colleague)
    services.batch_prepare(
        tenant=gz, region=region(gz, "520100"), entitlements=[entitlement], by=guiyang_funding
    )
    make_policy(xz, "540100", code="lhasa", group="lhasa", amounts=[AmountSpec(AwardLevel.SRDI, "100000")])
    program, version = make_program(xz, code="xz_direct")
    certify(Certifier(xz, program, version), make_enterprise(xz, "540102", 3), issued_on=date(2025, 5, 1))
    return entitlement


def everything(user, tenant) -> dict[str, int]:
    return {
        "policies": selectors.policies_visible_to(user=user, tenant=tenant).count(),
        "entitlements": selectors.entitlements_visible_to(user=user, tenant=tenant).count(),
        "budgets": selectors.budgets_visible_to(user=user, tenant=tenant).count(),
        "batches": selectors.batches_visible_to(user=user, tenant=tenant).count(),
        "receivables": selectors.receivables_visible_to(user=user, tenant=tenant).count(),
        "ledger": selectors.ledger_visible_to(user=user, tenant=tenant).count(),
        "report": len(selectors.award_report(user=user, tenant=tenant, group_by="policy")),
    }


def test_officials_see_what_their_region_s_subtree_pays(
    gz, xz, two_tenants, guiyang_funding, gz_funding, zunyi_funding
):
    seen = everything(guiyang_funding, gz)
    assert seen == {
        "policies": 1,
        "entitlements": 1,
        "budgets": 1,
        "batches": 1,
        "receivables": 0,
        "ledger": 2,
        "report": 1,
    }
    assert everything(gz_funding, gz) == seen  # the province follows its cities
    assert set(everything(zunyi_funding, gz).values()) == {0}  # another prefecture sees nothing of 贵阳's
    # an official of another tenant sees nothing of gz's, and gz's officials nothing of xz's
    xz_funding = official(xz, "540000", Post.Role.FUNDING_OFFICER, username="xz_funding")
    assert set(everything(xz_funding, gz).values()) == {0}
    assert set(everything(guiyang_funding, xz).values()) == {0}
    assert everything(xz_funding, xz)["entitlements"] == 1


def test_officials_without_a_funding_post_see_no_awards(gz, two_tenants, nanming_official, guiyang_official):
    for user in (nanming_official, guiyang_official):
        assert set(everything(user, gz).values()) == {0}


def test_an_enterprise_sees_only_its_own_awards(gz, two_tenants, acme):
    other = make_enterprise(gz, "520102", 77)
    assert list(selectors.entitlements_of_enterprise(enterprise=acme)) == [two_tenants]
    assert not selectors.entitlements_of_enterprise(enterprise=other).exists()
    assert selectors.bank_accounts_of_enterprise(enterprise=acme).count() == 1
    assert not selectors.bank_accounts_of_enterprise(enterprise=other).exists()


def test_the_payable_list_leaves_out_what_is_already_in_a_batch(gz, two_tenants, guiyang_funding):
    assert not selectors.payable_entitlements(
        user=guiyang_funding, tenant=gz, region=region(gz, "520100")
    ).exists()


def test_the_report_adds_up_by_policy_region_and_year(gz, two_tenants, guiyang_funding):
    (by_policy,) = selectors.award_report(user=guiyang_funding, tenant=gz, group_by="policy")
    (by_region,) = selectors.award_report(user=guiyang_funding, tenant=gz, group_by="region")
    (by_year,) = selectors.award_report(user=guiyang_funding, tenant=gz, group_by="year")
    for row in (by_policy, by_region, by_year):
        assert (row.count, row.approved, row.paid, row.committed) == (1, 500000, 0, 500000)
    assert by_region.label == "贵阳市"
