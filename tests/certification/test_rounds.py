"""Rounds (申报批次): saving one with its chain and quotas, the chain it makes, and who may apply.

certification/workflow.py round_save, chain_levels, quota_status, rounds_open_to.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from certification import workflow
from certification.models import Application, CriteriaVersion, Level, QuotaUse, Round, RoundQuota, RoundStage
from certification.transitions import Action
from portal.models import AuditEvent, Post
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import (
    act,
    chain_fixture,  # noqa: F401 - the `chain` fixture
    fingerprint,
    make_round,
    refused,
    rival_fixture,  # noqa: F401 - the `rival` fixture
    submitted_application,
)
from tests.conftest import official, region
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

C, P, V = Level.COUNTY, Level.PREFECTURE, Level.PROVINCE


def round_of(program, version, *, opens=None, closes=None, name="2026年第一批"):
    now = timezone.now()
    return Round(
        program=program,
        version=version,
        name=name,
        year=now.year,
        opens_at=opens or now - timedelta(days=1),
        closes_at=closes or now + timedelta(days=30),
    )


def stages(round_, *levels, gap=10):
    return [
        workflow.StageSpec(lvl, round_.closes_at + timedelta(days=gap * (i + 1)))
        for i, lvl in enumerate(levels)
    ]


# --- saving a round ------------------------------------------------------------------------


def test_saving_a_round_freezes_its_draft_criteria_version(gz, gz_admin):
    # given: a programme whose version is still a draft
    program, version = make_program(gz, freeze=False)
    assert not version.is_frozen
    round_ = round_of(program, version)
    # when
    saved = workflow.round_save(round_=round_, stages=stages(round_, C, P, V), by=gz_admin)
    # then
    version.refresh_from_db()
    assert version.is_frozen and version.frozen_at is not None
    assert (saved.tenant, saved.created_by, saved.year) == (gz, gz_admin, timezone.localdate().year)
    assert workflow.chain_levels(saved) == [C, P, V]
    assert AuditEvent.objects.filter(action="round.created", object_id=str(saved.pk)).exists()
    assert AuditEvent.objects.filter(action="criteria.version_frozen").exists()


def test_changing_a_round_replaces_its_chain_and_keeps_used_quotas(gz, gz_admin):
    # given: a round with three levels and two quotas, one already used
    program, version = make_program(gz)
    nanming, yunyan = region(gz, "520102"), region(gz, "520103")
    round_ = make_round(
        program,
        version,
        quotas=[workflow.QuotaSpec(nanming, maximum=3), workflow.QuotaSpec(yunyan, maximum=2)],
    )
    QuotaUse.objects.create(quota=round_.quotas.get(region=nanming), application=_any_application(round_))
    # when: the prefecture is skipped and neither quota is listed any more
    workflow.round_save(round_=round_, stages=stages(round_, C, V), quotas=[], by=gz_admin)
    # then
    assert workflow.chain_levels(Round.objects.get(pk=round_.pk)) == [C, V]
    assert list(RoundQuota.objects.filter(round=round_).values_list("region__code", flat=True)) == ["520102"]
    assert AuditEvent.objects.filter(action="round.changed").exists()


def _any_application(round_):
    enterprise = make_enterprise(round_.tenant, "520102", 41, admin=UserFactory())
    return Application.objects.create(
        tenant=round_.tenant, round=round_, enterprise=enterprise, county=enterprise.county
    )


def _another_programmes_version(gz, program, version):
    _other, other_version = make_program(gz, code="other_programme")
    return round_of(program, other_version), [C, P, V], [], "version"


def _closes_before_opens(gz, program, version):
    now = timezone.now()
    return round_of(program, version, opens=now, closes=now - timedelta(days=1)), [C, P, V], [], "closes_at"


def _a_level_above_the_owner(gz, program, version):
    guiyang, guiyang_version = make_program(gz, code="guiyang", owner_region=region(gz, "520100"))
    return round_of(guiyang, guiyang_version), [C, P, V], [], "stages"


def _no_owner_level(gz, program, version):
    return round_of(program, version), [C, P], [], "stages"


def _a_level_twice(gz, program, version):
    return round_of(program, version), [C, C, V], [], "stages"


def _quota_outside_the_owner(gz, program, version):
    guiyang, guiyang_version = make_program(gz, code="guiyang", owner_region=region(gz, "520100"))
    quota = workflow.QuotaSpec(region(gz, "520302"), maximum=3)  # 红花岗区, 遵义市
    return round_of(guiyang, guiyang_version), [C, P], [quota], "quotas"


def _quota_of_another_tenant(gz, program, version):
    from tests.conftest import make_tenant

    xz = make_tenant("xz", "西藏自治区", "540000")
    return round_of(program, version), [C, P, V], [workflow.QuotaSpec(region(xz, "540102"), 3)], "quotas"


def _quota_for_the_owner(gz, program, version):
    return round_of(program, version), [C, P, V], [workflow.QuotaSpec(region(gz, "520000"), 3)], "quotas"


def _minimum_above_maximum(gz, program, version):
    quota = workflow.QuotaSpec(region(gz, "520102"), maximum=2, minimum=5)
    return round_of(program, version), [C, P, V], [quota], "quotas"


@pytest.mark.parametrize(
    "case",
    [
        _another_programmes_version,
        _closes_before_opens,
        _a_level_above_the_owner,
        _no_owner_level,
        _a_level_twice,
        _quota_outside_the_owner,
        _quota_of_another_tenant,
        _quota_for_the_owner,
        _minimum_above_maximum,
    ],
    ids=lambda case: case.__name__.strip("_").replace("_", " "),
)
def test_a_round_that_breaks_a_rule_is_refused_with_the_field_named(gz, gz_admin, case):
    # given: a programme whose version is still a draft, so a refusal must leave it a draft
    program, version = make_program(gz, freeze=False)
    round_, levels, quotas, field = case(gz, program, version)
    # when
    with pytest.raises(ValidationError) as info:
        workflow.round_save(round_=round_, stages=stages(round_, *levels), quotas=quotas, by=gz_admin)
    # then
    assert field in info.value.message_dict
    assert not Round.objects.exists() and not RoundStage.objects.exists() and not RoundQuota.objects.exists()
    assert CriteriaVersion.objects.get(pk=version.pk).status == CriteriaVersion.Status.DRAFT
    assert not AuditEvent.objects.filter(action__startswith="round.").exists()


def test_a_review_deadline_before_the_round_closes_is_refused(gz, gz_admin):
    program, version = make_program(gz)
    round_ = round_of(program, version)
    early = [workflow.StageSpec(C, round_.closes_at - timedelta(hours=1)), *stages(round_, P, V)]
    with pytest.raises(ValidationError) as info:
        workflow.round_save(round_=round_, stages=early, by=gz_admin)
    assert "stages" in info.value.message_dict
    assert not Round.objects.exists()


def test_a_higher_levels_deadline_cannot_come_before_a_lower_levels(gz, gz_admin):
    program, version = make_program(gz)
    round_ = round_of(program, version)
    county, prefecture, province = stages(round_, C, P, V)
    county.deadline, province.deadline = province.deadline, county.deadline
    with pytest.raises(ValidationError) as info:
        workflow.round_save(round_=round_, stages=[county, prefecture, province], by=gz_admin)
    assert "stages" in info.value.message_dict
    assert not Round.objects.exists()


def test_a_second_round_of_the_same_name_is_refused(gz, gz_admin):
    program, version = make_program(gz)
    make_round(program, version, name="2026年第一批")
    again = round_of(program, version, name="2026年第一批")
    with pytest.raises(ValidationError):
        workflow.round_save(round_=again, stages=stages(again, C, P, V), by=gz_admin)
    assert Round.objects.count() == 1


def test_the_version_stays_once_applications_were_submitted(submitted, wf_program, gz, gz_admin):
    # given
    round_ = submitted.round
    program, _version = wf_program
    newer = CriteriaVersion.objects.create(
        program=program, label="2026", effective_from=date(2026, 1, 1), definition=round_.version.definition
    )
    # when
    round_.version = newer
    with pytest.raises(ValidationError) as info:
        workflow.round_save(round_=round_, stages=stages(round_, C, P, V), by=gz_admin)
    # then
    assert "version" in info.value.message_dict
    assert Round.objects.get(pk=round_.pk).version_id != newer.pk


# --- the chain a round makes -----------------------------------------------------------------


def test_a_prefecture_owned_programme_runs_from_the_county_to_the_prefecture(
    guiyang_program, acme, owner, nanming_official, guiyang_official, media
):
    # given: a 贵阳市 programme (no expert reviews required)
    program, version = guiyang_program
    round_ = make_round(program, version)
    assert workflow.chain_levels(round_) == [C, P]
    application = submitted_application(round_, acme, owner)
    # when
    application = act(application, Action.RECOMMEND, nanming_official, opinion="同意")
    # then: the prefecture is the last level, so it approves rather than recommends
    assert (application.level, application.current_region.code) == (P, "520100")
    refused(application, Action.RECOMMEND, guiyang_official, opinion="同意")
    application = act(application, Action.APPROVE, guiyang_official, opinion="批准")
    assert application.state == application.State.APPROVED


def test_a_skipped_level_sends_recommendations_straight_up(
    gz, acme, owner, nanming_official, guiyang_official, province_approver, media
):
    # given: a provincial programme whose chain skips the prefecture
    program, version = make_program(gz)
    round_ = make_round(program, version, levels=[C, V])
    application = submitted_application(round_, acme, owner)
    # when
    application = act(application, Action.RECOMMEND, nanming_official, opinion="同意")
    # then
    assert (application.state, application.level, application.current_region.code) == (
        application.State.IN_REVIEW,
        V,
        "520000",
    )
    refused(application, Action.RETURN, guiyang_official, opinion="越级")
    assert act(application, Action.APPROVE, province_approver, opinion="批准").state == "approved"


# --- quota status ------------------------------------------------------------------------------


def test_quota_status_counts_what_each_region_passed_up(gz, acme, owner, rival, chain, media):
    # given: 南明区 may pass up two and should pass one; 云岩区 should pass three; 贵阳市 one
    program, version = make_program(gz)
    nanming, yunyan, guiyang = (region(gz, code) for code in ("520102", "520103", "520100"))
    round_ = make_round(
        program,
        version,
        quotas=[
            workflow.QuotaSpec(nanming, maximum=2, minimum=1, source="黔工信〔2026〕1号"),
            workflow.QuotaSpec(yunyan, minimum=3),
            workflow.QuotaSpec(guiyang, maximum=1),
        ],
    )
    first = submitted_application(round_, acme, owner)
    second = submitted_application(round_, rival, rival.memberships.get().user)
    # when: the county recommends both, the prefecture passes one on and has no place for the other
    for application in (first, second):
        act(application, Action.RECOMMEND, chain.county, opinion="同意")
    act(first, Action.RECOMMEND, chain.prefecture, opinion="同意")
    before = fingerprint(second)
    with pytest.raises(workflow.WorkflowRefused) as info:
        act(second, Action.RECOMMEND, chain.prefecture, opinion="同意")
    # then
    assert info.value.code == "quota_reached"
    assert fingerprint(second) == before
    rows = {row["region"].code: row for row in workflow.quota_status(round_)}
    assert list(rows) == ["520100", "520102", "520103"]
    keys = ("used", "maximum", "remaining", "minimum", "shortfall")
    assert [rows["520102"][k] for k in keys] == [2, 2, 0, 1, 0]
    assert [rows["520103"][k] for k in keys] == [0, None, None, 3, 3]
    assert [rows["520100"][k] for k in keys] == [1, 1, 0, None, None]
    assert rows["520102"]["source"] == "黔工信〔2026〕1号"


# --- who may apply -------------------------------------------------------------------------------


def test_rounds_open_to_lists_only_open_rounds_of_programmes_covering_the_county(gz, xz, acme):
    # given
    now = timezone.now()
    province, province_version = make_program(gz, code="province")
    guiyang, guiyang_version = make_program(gz, code="guiyang", owner_region=region(gz, "520100"))
    zunyi, zunyi_version = make_program(gz, code="zunyi", owner_region=region(gz, "520300"))
    yunyan, yunyan_version = make_program(gz, code="yunyan", owner_region=region(gz, "520103"))
    retired, retired_version = make_program(gz, code="retired")
    tibet, tibet_version = make_program(xz, code="tibet")
    open_province = make_round(province, province_version, closes=now + timedelta(days=20))
    open_guiyang = make_round(guiyang, guiyang_version, closes=now + timedelta(days=10))
    make_round(zunyi, zunyi_version)
    make_round(yunyan, yunyan_version)
    make_round(
        province,
        province_version,
        name="已截止",
        opens=now - timedelta(days=30),
        closes=now - timedelta(days=1),
    )
    make_round(
        province,
        province_version,
        name="未开始",
        opens=now + timedelta(days=1),
        closes=now + timedelta(days=9),
    )
    make_round(retired, retired_version)
    retired.is_active = False
    retired.save()
    make_round(tibet, tibet_version)
    # when
    rounds = list(workflow.rounds_open_to(acme))
    # then: the soonest to close first
    assert rounds == [open_guiyang, open_province]
    # and an enterprise of 遵义市 sees the province's and its own prefecture's
    zunyi_enterprise = make_enterprise(gz, "520302", 8, admin=UserFactory())
    assert {r.program.code for r in workflow.rounds_open_to(zunyi_enterprise)} == {"province", "zunyi"}


def test_rounds_open_to_follows_the_moment_asked_about(gz, acme):
    program, version = make_program(gz)
    round_ = make_round(program, version)
    assert list(workflow.rounds_open_to(acme, at=round_.opens_at)) == [round_]
    assert list(workflow.rounds_open_to(acme, at=round_.closes_at)) == []
    assert list(workflow.rounds_open_to(acme, at=round_.opens_at - timedelta(seconds=1))) == []


def test_a_county_official_posted_elsewhere_cannot_use_a_quota_of_their_own(gz, acme, owner, media):
    # given: a 云岩区 reviewer; quotas for both counties, one place each
    yunyan_official = official(gz, "520103", Post.Role.COUNTY_REVIEWER, username="yunyan_q")
    program, version = make_program(gz)
    round_ = make_round(
        program,
        version,
        quotas=[
            workflow.QuotaSpec(region(gz, "520102"), maximum=1),
            workflow.QuotaSpec(region(gz, "520103"), maximum=1),
        ],
    )
    application = submitted_application(round_, acme, owner)
    # when / then
    refused(application, Action.RECOMMEND, yunyan_official, opinion="同意")
    assert all(row["used"] == 0 for row in workflow.quota_status(round_))
