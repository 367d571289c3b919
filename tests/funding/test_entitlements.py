"""Entitlements: which policies pay, the highest award once (从高、不重复), review by the paying region."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from certification.models import Certification
from funding import services
from funding.models import AwardLevel, Budget, Entitlement, ExternalCertification, LedgerEntry
from funding.services import AmountSpec, FundingRefused
from portal.models import AuditEvent
from tests.certification.workflow_fixtures import drive
from tests.conftest import region
from tests.enterprises.conftest import make_enterprise
from tests.funding.conftest import certify, make_policy, national_little_giant

S = Entitlement.State
L = AwardLevel
D = Decimal


def committed(policy) -> Decimal:
    return Budget.objects.get(policy=policy, year=timezone.localdate().year).committed


# --- the highest award once ----------------------------------------------------------------------------


def test_a_provincial_award_then_a_national_one_pays_only_the_difference(
    city_policy, certifier, acme, guiyang_funding
):
    # given: acme's provincial SRDI award (50万) approved
    (provincial,) = certify(certifier, acme)
    assert (provincial.level, provincial.level_amount, provincial.amount) == (
        L.SRDI,
        D("500000.00"),
        D("500000.00"),
    )
    services.entitlement_approve(entitlement=provincial, by=guiyang_funding)
    # when: it is then named a national little giant (200万)
    (national,) = national_little_giant(acme, guiyang_funding)
    # then: 150万 more is due, and after approval the enterprise holds 200万 in all
    assert (national.level_amount, national.amount, national.state) == (
        D("2000000.00"),
        D("1500000.00"),
        S.PENDING,
    )
    national = services.entitlement_approve(entitlement=national, by=guiyang_funding)
    assert (national.state, national.amount) == (S.APPROVED, D("1500000.00"))
    assert committed(city_policy) == D("2000000.00")


def test_a_lower_award_after_a_higher_one_is_recorded_as_covered_and_pays_nothing(
    city_policy, certifier, acme, guiyang_funding
):
    # given: the national award approved first
    (national,) = national_little_giant(acme, guiyang_funding)
    services.entitlement_approve(entitlement=national, by=guiyang_funding)
    # when: a provincial SRDI certification follows
    (provincial,) = certify(certifier, acme, issued_on=date(2025, 9, 1))
    # then: it is on record, at 0, pointing at the award that covers it; the budget is untouched
    assert (provincial.state, provincial.amount, provincial.covered_by_id) == (
        S.COVERED,
        D("0.00"),
        national.pk,
    )
    assert "2,000,000.00" in provincial.reason
    assert committed(city_policy) == D("2000000.00")
    with pytest.raises(FundingRefused):
        services.entitlement_approve(entitlement=provincial, by=guiyang_funding)


def test_an_equal_award_pays_nothing(city_policy, certifier, acme, guiyang_funding):
    (first,) = certify(certifier, acme, issued_on=date(2023, 3, 1))
    (second,) = certify(certifier, acme, issued_on=date(2025, 3, 1))
    assert (first.state, second.state, second.covered_by_id) == (S.PENDING, S.COVERED, first.pk)


def test_when_the_higher_award_is_approved_first_the_lower_one_becomes_covered_at_approval(
    city_policy, certifier, acme, guiyang_funding
):
    # given: both pending; the national one was provisionally the difference
    (provincial,) = certify(certifier, acme)
    (national,) = national_little_giant(acme, guiyang_funding)
    assert national.amount == D("1500000.00")
    # when: the national one is approved first, then the provincial one
    national = services.entitlement_approve(entitlement=national, by=guiyang_funding)
    provincial = services.entitlement_approve(entitlement=provincial, by=guiyang_funding)
    # then: nothing of the provincial one had been committed, so the national one pays in full
    assert national.amount == D("2000000.00")
    assert (provincial.state, provincial.amount, provincial.budget_id) == (S.COVERED, D("0.00"), None)
    assert committed(city_policy) == D("2000000.00")
    assert AuditEvent.objects.filter(action="entitlement.covered", object_id=str(provincial.pk)).exists()


def test_rejecting_the_covering_award_reopens_the_covered_one(city_policy, certifier, acme, guiyang_funding):
    (national,) = national_little_giant(acme, guiyang_funding)
    (provincial,) = certify(certifier, acme)
    assert provincial.state == S.COVERED
    services.entitlement_reject(entitlement=national, by=guiyang_funding, reason="名单核对有误")
    provincial.refresh_from_db()
    assert (provincial.state, provincial.amount, provincial.covered_by_id) == (
        S.PENDING,
        D("500000.00"),
        None,
    )


def test_an_approval_under_a_top_up_cannot_be_reversed(city_policy, certifier, acme, guiyang_funding):
    # given: 50万 approved, then the 150万 top-up approved on top of it
    (provincial,) = certify(certifier, acme)
    services.entitlement_approve(entitlement=provincial, by=guiyang_funding)
    (national,) = national_little_giant(acme, guiyang_funding)
    services.entitlement_approve(entitlement=national, by=guiyang_funding)
    # when / then: reversing the 50万 would leave the enterprise 50万 short
    with pytest.raises(FundingRefused, match="reverse that first"):
        services.entitlement_approval_reverse(entitlement=provincial, by=guiyang_funding, reason="更正")
    # the top-down order works: the top-up first, then the base
    services.entitlement_approval_reverse(entitlement=national, by=guiyang_funding, reason="更正审核")
    provincial = services.entitlement_approval_reverse(
        entitlement=provincial, by=guiyang_funding, reason="更正审核"
    )
    assert provincial.state == S.PENDING and committed(city_policy) == D("0.00")
    kinds = list(LedgerEntry.objects.filter(policy=city_policy).values_list("kind", flat=True))
    assert kinds.count("approval") == 2 and kinds.count("reversal") == 2


def test_each_stacking_group_pays_its_own_highest(gz, city_policy, certifier, acme, guiyang_funding):
    # given: the province pays too, under its own policy and group (seed 002: 省级奖励)
    province = make_policy(
        gz, "520000", code="gz_province", group="gz-province", amounts=[AmountSpec(L.SRDI, "300000")]
    )
    # when
    entitlements = certify(certifier, acme)
    # then: one entitlement per paying region, each in full
    assert sorted((e.policy_id, e.amount) for e in entitlements) == sorted(
        [(city_policy.pk, D("500000.00")), (province.pk, D("300000.00"))]
    )


# --- which certifications a policy covers -----------------------------------------------------------------


def test_the_policy_window_covers_its_first_and_last_day_only(xj):
    # seed 004 (博州政办发〔2023〕62号) 二、2: "对2023—2025年新认定的专精特新'小巨人'企业、专精特新中小企业，
    # 分别给予100万元、25万元的一次性奖励"
    from tests.certification.conftest import make_program
    from tests.certification.test_directory import Certifier

    make_policy(
        xj,
        "652700",
        code="bortala_2023_2025",
        group="bortala",
        covers_from=date(2023, 1, 1),
        covers_to=date(2025, 12, 31),
        amounts=[AmountSpec(L.LITTLE_GIANT_NATIONAL, "1000000"), AmountSpec(L.SRDI, "250000")],
    )
    program, version = make_program(xj, code="xj_srdi")
    certifier = Certifier(xj, program, version)
    days = {date(2022, 12, 31): 0, date(2023, 1, 1): 1, date(2025, 12, 31): 1, date(2026, 1, 1): 0}
    for serial, (day, expected) in enumerate(days.items(), start=1):
        enterprise = make_enterprise(xj, "652701", serial)  # 博乐市
        assert len(certify(certifier, enterprise, issued_on=day)) == expected, day
    # and only Bortala's enterprises: one of 乌鲁木齐 gets nothing
    outside = make_enterprise(xj, "650102", 9)
    assert certify(certifier, outside, issued_on=date(2024, 5, 1)) == []


def test_a_programme_the_policy_does_not_name_gives_nothing(gz, certifier, acme):
    make_policy(gz, "520100", amounts=[AmountSpec(L.LITTLE_GIANT_NATIONAL, "2000000")])
    assert certify(certifier, acme) == []


def test_a_programme_specific_amount_wins_over_the_level(gz, certifier, acme):
    make_policy(
        gz,
        "520100",
        amounts=[AmountSpec(L.SRDI, "500000"), AmountSpec(L.SRDI, "80000", program=certifier.program)],
    )
    (entitlement,) = certify(certifier, acme)
    assert entitlement.level_amount == D("80000.00")


def test_a_revoked_certification_gives_nothing(city_policy, certifier, acme):
    certification = certifier.certify(acme, issued_on=date(2025, 6, 1), status=Certification.Status.REVOKED)
    assert services.entitlements_create_for(certification=certification) == []


def test_an_enterprise_moving_in_counts_as_newly_certified_after_a_year(gz, acme, guiyang_funding):
    # seed 003 三、（一）4: "对整体迁入本市且正常经营一年的省级以上专精特新企业参照新认定补贴标准执行"
    city = make_policy(gz, "520100", relocation=True)
    province = make_policy(
        gz,
        "520000",
        code="gz_province",
        group="gz-province",
        relocation=False,
        amounts=[AmountSpec(L.SRDI, "1")],
    )
    today = timezone.localdate()
    with pytest.raises(ValidationError) as info:
        services.external_certification_record(
            enterprise=acme,
            level=L.SRDI,
            title="浙江省专精特新中小企业名单",
            certified_on=date(2021, 5, 1),
            basis=ExternalCertification.Basis.RELOCATED,
            moved_in_on=today - timedelta(days=200),
            by=guiyang_funding,
        )
    assert "moved_in_on" in info.value.message_dict
    _external, created = services.external_certification_record(
        enterprise=acme,
        level=L.SRDI,
        title="浙江省专精特新中小企业名单",
        certified_on=date(2021, 5, 1),
        basis=ExternalCertification.Basis.RELOCATED,
        moved_in_on=date(2023, 3, 1),
        by=guiyang_funding,
    )
    # only the city's policy counts relocation; the basis date is the end of the first year
    assert [(e.policy_id, e.basis_date) for e in created] == [(city.pk, date(2024, 3, 1))]
    assert province.entitlements.count() == 0


def test_external_certifications_are_recorded_by_the_region_s_officers_once(
    city_policy, acme, guiyang_funding, zunyi_funding
):
    with pytest.raises(FundingRefused) as info:
        national_little_giant(acme, zunyi_funding)
    assert info.value.code == "forbidden"
    assert AuditEvent.objects.filter(action="external_certification.record", outcome="refused").count() == 1
    assert len(national_little_giant(acme, guiyang_funding)) == 1
    with pytest.raises(FundingRefused) as info:
        national_little_giant(acme, guiyang_funding)
    assert info.value.code == "duplicate"
    assert Entitlement.objects.filter(enterprise=acme).count() == 1


# --- publication creates them, once -------------------------------------------------------------------


def test_publication_creates_the_entitlements_once(
    gz, city_policy, ready, chain, media, django_capture_on_commit_callbacks
):
    # given: a province-wide award as well (the test programme is the province's SRDI one)
    province = make_policy(
        gz, "520000", code="gz_province", group="gz-province", amounts=[AmountSpec(L.SRDI, "300000")]
    )
    # when: the notice is published through the real services; its on-commit callbacks run
    with django_capture_on_commit_callbacks(execute=True):
        application = drive(ready, "published", chain)
    certification = Certification.objects.get(application=application)
    # then: the receiver created one entitlement per policy
    rows = Entitlement.objects.filter(certification=certification)
    assert sorted(rows.values_list("policy_id", "amount")) == sorted(
        [(city_policy.pk, D("500000.00")), (province.pk, D("300000.00"))]
    )
    assert rows.get(policy=city_policy).basis_date == certification.issued_on
    # when: it is asked again, and the certification is saved again (renewal, a new certificate)
    assert services.entitlements_create_for(certification=certification) == []
    with django_capture_on_commit_callbacks(execute=True):
        certification.save()
    # then: nothing twice
    assert Entitlement.objects.filter(certification=certification).count() == 2
    assert AuditEvent.objects.filter(action="entitlement.created").count() == 2


def test_the_daily_sweep_creates_what_the_receiver_missed(city_policy, certifier, acme):
    # given: a certification whose on-commit callback never ran (the Certifier writes it in the test's
    # transaction)
    certification = certifier.certify(acme, issued_on=date(2025, 6, 1))
    assert not Entitlement.objects.filter(certification=certification).exists()
    # when
    stats = services.entitlements_sweep()
    # then
    assert stats == {"entitlements_created": 1}
    assert services.entitlements_sweep() == {"entitlements_created": 0}


# --- review -------------------------------------------------------------------------------------------


def test_only_the_paying_region_s_officers_decide(city_policy, certifier, acme, gz_funding, zunyi_funding):
    (entitlement,) = certify(certifier, acme)
    for officer in (gz_funding, zunyi_funding):
        reason = services.entitlement_can(entitlement, "approve", by=officer)
        assert reason and "贵阳市" in reason
        with pytest.raises(FundingRefused) as info:
            services.entitlement_approve(entitlement=entitlement, by=officer)
        assert info.value.code == "forbidden"
    entitlement.refresh_from_db()
    assert entitlement.state == S.PENDING and committed(city_policy) == D("0.00")
    assert AuditEvent.objects.filter(action="entitlement.approve", outcome="refused").count() == 2


def test_an_approval_past_the_budget_is_refused_stating_what_is_left(gz, certifier, acme, guiyang_funding):
    # given: a budget of 60万 of which 50万 are committed
    policy = make_policy(gz, "520100", budget="600000")
    (first,) = certify(certifier, acme)
    services.entitlement_approve(entitlement=first, by=guiyang_funding)
    other = make_enterprise(gz, "520102", 7)
    (second,) = certify(certifier, other)
    # when
    with pytest.raises(FundingRefused) as info:
        services.entitlement_approve(entitlement=second, by=guiyang_funding)
    # then
    assert info.value.code == "over_budget"
    assert "100,000.00" in info.value.message and info.value.extra["remaining"] == "100000.00"
    second.refresh_from_db()
    assert second.state == S.PENDING and committed(policy) == D("500000.00")
    assert LedgerEntry.objects.filter(entitlement=second).count() == 0


def test_an_approval_without_a_budget_for_the_year_is_refused(gz, certifier, acme, guiyang_funding):
    make_policy(gz, "520100", budget=None)
    (entitlement,) = certify(certifier, acme)
    with pytest.raises(FundingRefused) as info:
        services.entitlement_approve(entitlement=entitlement, by=guiyang_funding)
    assert info.value.code == "no_budget"


def test_a_rejection_needs_a_reason_and_tells_the_enterprise(city_policy, certifier, acme, guiyang_funding):
    (entitlement,) = certify(certifier, acme)
    with pytest.raises(ValidationError) as info:
        services.entitlement_reject(entitlement=entitlement, by=guiyang_funding, reason=" ")
    assert "reason" in info.value.message_dict
    entitlement = services.entitlement_reject(
        entitlement=entitlement, by=guiyang_funding, reason="企业已注销迁出"
    )
    assert (entitlement.state, entitlement.reason) == (S.REJECTED, "企业已注销迁出")
    with pytest.raises(FundingRefused):
        services.entitlement_approve(entitlement=entitlement, by=guiyang_funding)


def test_a_budget_is_never_set_below_what_is_committed(city_policy, certifier, acme, guiyang_funding):
    (entitlement,) = certify(certifier, acme)
    services.entitlement_approve(entitlement=entitlement, by=guiyang_funding)
    year = timezone.localdate().year
    with pytest.raises(FundingRefused) as info:
        services.budget_allocate(policy=city_policy, year=year, amount="400000", by=guiyang_funding)
    assert info.value.code == "below_committed"
    budget = services.budget_allocate(policy=city_policy, year=year, amount="500000", by=guiyang_funding)
    assert (budget.amount, budget.committed) == (D("500000.00"), D("500000.00"))
    assert services.budget_invariants(budget) == []


def test_policies_are_kept_by_the_tenant_administrator(gz, gz_admin, guiyang_funding):
    from funding.models import AwardPolicy

    policy = AwardPolicy(
        tenant=gz,
        code="p",
        name="政策",
        region=region(gz, "520100"),
        source="seed 003",
        stacking_group="g",
        covers_from=date(2025, 1, 1),
        covers_to=date(2024, 1, 1),
    )
    with pytest.raises(FundingRefused):
        services.award_policy_save(policy=policy, amounts=SEED_AMOUNTS, by=guiyang_funding)
    with pytest.raises(ValidationError) as info:
        services.award_policy_save(policy=policy, amounts=[], by=gz_admin)
    assert set(info.value.message_dict) == {"covers_to", "amounts"}
    policy.covers_to = None
    services.award_policy_save(policy=policy, amounts=SEED_AMOUNTS, by=gz_admin)
    assert policy.amounts.count() == 1


SEED_AMOUNTS = [AmountSpec(L.SRDI, "500000")]
