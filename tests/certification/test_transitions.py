"""The transition table walked whole, then who may act where and when (transitions.py, workflow.application_act).

Every place an application can be in × every action: the moves the table allows land where they
should; every other move is refused and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from certification import workflow
from certification.models import Application
from certification.transitions import ALL_ACTIONS, ENTERPRISE_ACTIONS, TABLE, Action
from portal.models import Post
from tests.certification.workflow_fixtures import (
    PLACES,
    act,
    chain_fixture,  # noqa: F401 - the `chain` fixture
    drive,
    expert_reviews,
    fingerprint,
    make_expert,
    refused,
)
from tests.conftest import official
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

S = Application.State

# Where each allowed move lands: (state, level, region waited at). Checked against TABLE below.
LANDS = {
    ("draft", Action.SUBMIT): (S.SUBMITTED, "county", "520102"),
    ("draft", Action.WITHDRAW): (S.WITHDRAWN, "", None),
    ("submitted", Action.WITHDRAW): (S.WITHDRAWN, "", None),
    ("submitted", Action.RETURN): (S.RETURNED, "", None),
    ("submitted", Action.REJECT): (S.REJECTED, "", None),
    ("submitted", Action.RECOMMEND): (S.IN_REVIEW, "prefecture", "520100"),
    ("in_review_prefecture", Action.RETURN): (S.RETURNED, "", None),
    ("in_review_prefecture", Action.REJECT): (S.REJECTED, "", None),
    ("in_review_prefecture", Action.RECOMMEND): (S.IN_REVIEW, "province", "520000"),
    ("in_review_province", Action.RETURN): (S.RETURNED, "", None),
    ("in_review_province", Action.REJECT): (S.REJECTED, "", None),
    ("in_review_province", Action.APPROVE): (S.APPROVED, "", None),
    ("returned", Action.RESUBMIT): (S.SUBMITTED, "county", "520102"),
    ("returned", Action.WITHDRAW): (S.WITHDRAWN, "", None),
}

# The state and level of each place (the province is the chain's last level).
PLACE_STATE = {
    "draft": (S.DRAFT, ""),
    "submitted": (S.SUBMITTED, "county"),
    "in_review_prefecture": (S.IN_REVIEW, "prefecture"),
    "in_review_province": (S.IN_REVIEW, "province"),
    "returned": (S.RETURNED, ""),
    "rejected": (S.REJECTED, ""),
    "approved": (S.APPROVED, ""),
    "in_notice": (S.IN_NOTICE, ""),
    "published": (S.PUBLISHED, ""),
    "withdrawn": (S.WITHDRAWN, ""),
}


def allowed_by_table(place: str, action: str) -> bool:
    state, level = PLACE_STATE[place]
    transition = TABLE.get((state, action))
    if transition is None:
        return False
    return transition.final_level is None or transition.final_level == (level == "province")


def actor_for(place: str, action: str, chain):
    if action in ENTERPRISE_ACTIONS:
        return chain.owner
    _state, level = PLACE_STATE[place]
    # Where nothing waits, the province's approver stands in: the table alone must refuse.
    return chain.official_at(level or "province", action)


def test_the_places_cover_every_state():
    assert {state for state, _level in PLACE_STATE.values()} == set(S.values)
    assert set(PLACE_STATE) == set(PLACES)


def test_the_landing_table_lists_exactly_the_moves_the_transition_table_allows():
    allowed = {(p, a) for p in PLACES for a in ALL_ACTIONS if allowed_by_table(p, a)}
    assert allowed == set(LANDS)


@pytest.mark.parametrize("action", ALL_ACTIONS)
@pytest.mark.parametrize("place", PLACES)
def test_every_action_in_every_place_follows_the_table(ready, chain, place, action):
    # given
    application = drive(ready, place, chain)
    assert (application.state, application.level) == PLACE_STATE[place]
    by = actor_for(place, action, chain)
    # when / then
    if (place, action) not in LANDS:
        refused(application, action, by, opinion="意见")
        return
    before = fingerprint(application)
    assert workflow.application_can(application, action, by=by) is None
    application = act(application, action, by, opinion="意见")
    state, level, region_code = LANDS[(place, action)]
    application.refresh_from_db()
    assert application.state == state
    assert application.level == level
    assert (application.current_region.code if application.current_region else None) == region_code
    event = application.events.latest("id")
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        action,
        PLACE_STATE[place][0],
        state,
        by,
    )
    assert application.events.count() == before["events"] + 1
    takes_snapshot = action in (Action.SUBMIT, Action.RESUBMIT)
    assert application.snapshots.count() == before["snapshots"] + takes_snapshot


# Taken by certification.publication (notice_create, objection_resolve, notice_publish), never by a button.
PUBLICATION_MOVES_ACTIONS = (Action.NOTICE, Action.OBJECTION_UPHELD, Action.PUBLISH)
PUBLICATION_MOVES = {
    ("approved", Action.NOTICE): S.IN_NOTICE,
    ("in_notice", Action.OBJECTION_UPHELD): S.REJECTED,
    ("in_notice", Action.PUBLISH): S.PUBLISHED,
}


def test_the_publication_moves_of_the_table_are_the_ones_certification_publication_takes():
    moves = {(p, a) for p in PLACES for a in PUBLICATION_MOVES_ACTIONS if allowed_by_table(p, a)}
    assert moves == set(PUBLICATION_MOVES)
    assert all(TABLE[(PLACE_STATE[p][0], a)].target == t for (p, a), t in PUBLICATION_MOVES.items())


@pytest.mark.parametrize("action", PUBLICATION_MOVES_ACTIONS)
@pytest.mark.parametrize("place", ["approved", "in_notice"])
def test_no_one_takes_a_publication_move_through_the_review_workflow(ready, chain, place, action):
    # given: an application the publication services would move
    application = drive(ready, place, chain)
    # when / then: the approver, the reviewer and the enterprise are refused alike
    for person in (chain.province_approver, chain.province_reviewer, chain.owner):
        refused(application, action, person, opinion="越权")


def test_the_notice_and_the_publication_are_on_the_history(ready, chain):
    # given / when
    application = drive(ready, "published", chain)
    # then
    moves = list(application.events.order_by("id").values_list("action", "from_state", "to_state"))
    assert moves[-2:] == [
        (Action.NOTICE, S.APPROVED, S.IN_NOTICE),
        (Action.PUBLISH, S.IN_NOTICE, S.PUBLISHED),
    ]
    assert application.decided_at is not None and application.certification.number


# --- who may act: level, region, role, tenant ------------------------------------------------


def test_the_prefecture_cannot_act_while_the_application_waits_at_the_county(submitted, guiyang_official):
    # given: submitted, waiting at 南明区
    # when / then
    for action in (Action.RECOMMEND, Action.RETURN, Action.REJECT):
        refused(submitted, action, guiyang_official, opinion="越级")


def test_the_county_cannot_act_once_it_waits_at_the_prefecture(ready, chain):
    # given
    application = drive(ready, "in_review_prefecture", chain)
    # when / then
    for action in (Action.RECOMMEND, Action.RETURN, Action.REJECT):
        refused(application, action, chain.county, opinion="已推荐")


def test_a_neighbouring_county_cannot_act_on_another_countys_application(submitted, yunyan_official):
    for action in (Action.RECOMMEND, Action.RETURN, Action.REJECT):
        refused(submitted, action, yunyan_official, opinion="邻县")


def test_another_prefecture_cannot_act_at_the_prefecture_level(ready, chain, zunyi_official):
    # given
    application = drive(ready, "in_review_prefecture", chain)
    # when / then
    for action in (Action.RECOMMEND, Action.RETURN, Action.REJECT):
        refused(application, action, zunyi_official, opinion="外市")


def test_an_expert_or_a_funding_officer_at_the_right_region_cannot_review(submitted, gz, experts):
    # given: posts at 南明区 itself, but not reviewing ones
    funding = official(gz, "520102", Post.Role.FUNDING_OFFICER, username="nanming_funding")
    commissioner = official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="nanming_commissioner")
    local_expert = make_expert(gz, "nanming_expert", home_county="520102")
    Post.objects.create(
        tenant=gz, user=local_expert, region=submitted.county, role=Post.Role.EXPERT
    )  # an expert posted at the county too
    # when / then
    for person in (funding, commissioner, local_expert, *experts):
        for action in (Action.RECOMMEND, Action.RETURN, Action.REJECT):
            refused(submitted, action, person, opinion="无权")


def test_the_tenant_admin_does_not_review(ready, chain, gz_admin):
    application = drive(ready, "in_review_province", chain)
    for action in (Action.APPROVE, Action.RETURN, Action.REJECT):
        refused(application, action, gz_admin, opinion="管理员")


def test_only_the_approver_approves_at_the_province(ready, chain):
    # given: experts have scored
    application = drive(ready, "in_review_province", chain)
    # when / then: the provincial reviewer returns and rejects, but does not approve
    refused(application, Action.APPROVE, chain.province_reviewer, opinion="批准")
    assert workflow.application_can(application, Action.RETURN, by=chain.province_reviewer) is None


def test_another_tenants_official_cannot_act(submitted, xz, xz_admin):
    # given: 拉萨's county reviewer and 西藏's administrator
    lhasa = official(xz, "540102", Post.Role.COUNTY_REVIEWER, username="chengguan")
    # when / then
    for person in (lhasa, xz_admin):
        for action in (Action.RECOMMEND, Action.RETURN, Action.REJECT):
            refused(submitted, action, person, opinion="外省")


def test_only_members_of_the_enterprise_take_its_actions(ready, outsider, nanming_official, colleague):
    # given: a filled draft
    # when / then: an outsider or an official cannot submit or withdraw it
    for person in (outsider, nanming_official):
        refused(ready, Action.SUBMIT, person)
        refused(ready, Action.WITHDRAW, person)
    # a colleague (not the one who started it) can
    assert workflow.application_can(ready, Action.SUBMIT, by=colleague) is None


def test_another_enterprises_member_cannot_withdraw_a_submitted_application(submitted, gz):
    # given: the admin of an enterprise of 云岩区
    other = UserFactory(username="yunyan_owner")
    make_enterprise(gz, "520103", 2, admin=other)
    # when / then
    refused(submitted, Action.WITHDRAW, other)


# --- when: deadlines, reasons, expert reviews, history ---------------------------------------


def test_a_level_cannot_act_after_its_deadline(submitted, nanming_official):
    # given
    deadline = workflow.stage_for(submitted.round, "county").deadline
    # when / then: a minute late is refused, a minute early is fine
    for action in (Action.RECOMMEND, Action.RETURN, Action.REJECT):
        refused(submitted, action, nanming_official, opinion="逾期", at=deadline + timedelta(minutes=1))
    application = act(
        submitted, Action.RECOMMEND, nanming_official, opinion="同意", at=deadline - timedelta(minutes=1)
    )
    assert application.level == "prefecture"


def test_the_prefecture_deadline_counts_at_the_prefecture(ready, chain):
    # given: past the county's deadline, before the prefecture's
    application = drive(ready, "in_review_prefecture", chain)
    county = workflow.stage_for(application.round, "county").deadline
    prefecture = workflow.stage_for(application.round, "prefecture").deadline
    assert county < prefecture
    # when
    application = act(
        application, Action.RECOMMEND, chain.prefecture, opinion="同意", at=county + timedelta(days=1)
    )
    # then
    assert application.level == "province"


@pytest.mark.parametrize("action", [Action.RETURN, Action.REJECT])
@pytest.mark.parametrize("opinion", ["", "   \n"])
def test_return_and_reject_need_a_reason(submitted, nanming_official, action, opinion):
    # given
    before = fingerprint(submitted)
    # when
    with pytest.raises(ValidationError) as info:
        act(submitted, action, nanming_official, opinion=opinion)
    # then
    assert "opinion" in info.value.message_dict
    assert fingerprint(submitted) == before


def test_an_opinion_longer_than_two_thousand_characters_is_refused(submitted, nanming_official):
    before = fingerprint(submitted)
    with pytest.raises(ValidationError) as info:
        act(submitted, Action.RECOMMEND, nanming_official, opinion="同" * 2001)
    assert "opinion" in info.value.message_dict
    assert fingerprint(submitted) == before


def test_approval_waits_for_the_programmes_minimum_expert_reviews(ready, chain):
    # given: the programme needs two reviews; none is in
    application = drive(ready, "in_review_province", chain, with_expert_reviews=False)
    assert application.round.program.min_expert_reviews == 2
    # when / then
    refused(application, Action.APPROVE, chain.province_approver, opinion="批准")
    # one scored, one assigned but not yet scored: still refused
    expert_reviews(application, chain.experts[:1], chain.province_reviewer)
    workflow.expert_assign(application=application, expert=chain.experts[1], by=chain.province_reviewer)
    refused(application, Action.APPROVE, chain.province_approver, opinion="批准")
    # the second scores: approved
    assignment = application.expert_assignments.get(expert=chain.experts[1])
    workflow.expert_score(
        assignment=assignment,
        by=chain.experts[1],
        scores={"specialisation": 10, "refinement": 10, "distinctiveness": 10, "innovation": 10},
        opinion="一般",
    )
    application = act(application, Action.APPROVE, chain.province_approver, opinion="批准")
    assert application.state == S.APPROVED


def test_withdrawal_is_refused_after_the_first_decision(submitted, owner, nanming_official):
    # given: returned once, then resubmitted, so it is "submitted" again with a decision behind it
    application = act(submitted, Action.RETURN, nanming_official, opinion="补充材料")
    application = act(application, Action.RESUBMIT, owner)
    assert application.state == S.SUBMITTED
    # when / then
    refused(application, Action.WITHDRAW, owner)


def test_a_submitted_application_can_be_withdrawn_before_any_decision(submitted, colleague):
    application = act(submitted, Action.WITHDRAW, colleague)
    assert (application.state, application.level, application.current_region) == (S.WITHDRAWN, "", None)


def test_submission_is_refused_once_the_round_has_closed(ready, owner):
    # given
    closes = ready.round.closes_at
    # when / then
    refused(ready, Action.SUBMIT, owner, at=closes + timedelta(seconds=1))
    refused(ready, Action.SUBMIT, owner, at=closes)  # the round is open until, not including, closes_at
    assert act(ready, Action.SUBMIT, owner, at=closes - timedelta(seconds=1)).state == S.SUBMITTED


def test_resubmission_is_refused_once_the_last_review_deadline_has_passed(submitted, owner, nanming_official):
    # given: returned after the round closed (the enterprise may still correct it until review ends)
    application = act(submitted, Action.RETURN, nanming_official, opinion="补充材料")
    last = workflow.stage_for(application.round, "province").deadline
    # when / then
    refused(application, Action.RESUBMIT, owner, at=last + timedelta(minutes=1))
    after_close = application.round.closes_at + timedelta(days=1)
    assert act(application, Action.RESUBMIT, owner, at=after_close).state == S.SUBMITTED


def test_an_incomplete_draft_is_refused_with_every_problem_named(draft, owner):
    # given: a draft straight from "start": no figures, no attachments, the declaration unsigned
    before = fingerprint(draft)
    # when
    with pytest.raises(workflow.DomainError) as info:
        act(draft, Action.SUBMIT, owner)
    # then
    assert info.value.status_code == 400
    assert info.value.get_codes() == "incomplete"
    assert {"figures", "slot-licence", "f-commitment-agreed"} <= set(info.value.fields)
    assert fingerprint(draft) == before


def test_an_unknown_action_is_refused(submitted, nanming_official):
    refused(submitted, "publish", nanming_official, opinion="同意")
