"""The application workflow's services beyond the transition table (certification/workflow.py).

Snapshots, the review chain after a return, notifications after commit, audit, duplicates, the
identity lock, experts and deadline reminders.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone, translation

from certification import selectors, workflow
from certification.models import (
    Application,
    ApplicationSnapshot,
    ExpertAssignment,
    QuotaUse,
    ReminderSent,
    RoundQuota,
    SnapshotDocument,
)
from certification.transitions import Action
from enterprises.demo import demo_uscc
from enterprises.documents import document_delete
from enterprises.models import Document, Enterprise
from enterprises.services import enterprise_update_profile, figures_save
from portal.models import AuditEvent, Notification, Post
from tests.certification.workflow_fixtures import (
    FORM,
    SCORES,
    act,
    chain_fixture,  # noqa: F401 - the `chain` fixture
    drive,
    expert_reviews,
    fingerprint,
    make_expert,
    make_round,
    refused,
    rival_fixture,  # noqa: F401 - the `rival` fixture
    submitted_application,
)
from tests.conftest import official, region
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

S = Application.State


def recipients(since: int = 0) -> list[str]:
    """Usernames of the inbox rows written after the row with id `since`, sorted."""
    return sorted(Notification.objects.filter(pk__gt=since).values_list("recipient__username", flat=True))


def last_notification_id() -> int:
    return Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- the snapshot ---------------------------------------------------------------------------


def test_later_profile_and_figure_edits_do_not_change_what_reviewers_see(submitted, acme, owner):
    # given
    snapshot = workflow.latest_snapshot(submitted)
    facts, profile, facts_hash = snapshot.facts, snapshot.profile, snapshot.facts_hash
    # when: the enterprise edits its profile and last year's figures after submitting
    enterprise_update_profile(
        enterprise=acme, by=owner, data={"address": "新区大道99号", "main_product": "数控机床"}
    )
    year = timezone.localdate().year - 1
    figures_save(enterprise=acme, by=owner, fiscal_year=year, values={"revenue": Decimal("9999")})
    # then: the enterprise's own data moved on; the snapshot did not
    acme.refresh_from_db()
    assert acme.address == "新区大道99号"
    assert workflow.profile_snapshot(acme) != profile
    snapshot = workflow.latest_snapshot(Application.objects.get(pk=submitted.pk))
    assert (snapshot.facts, snapshot.profile, snapshot.facts_hash) == (facts, profile, facts_hash)
    assert snapshot.profile["basic"]["address"] == "创新大道1号"
    assert snapshot.profile["figures"][0]["revenue"] == "5000.00"


def test_resubmission_takes_a_new_snapshot_and_keeps_the_old_one(submitted, owner, nanming_official):
    # given
    first = workflow.latest_snapshot(submitted)
    application = act(submitted, Action.RETURN, nanming_official, opinion="请补充市场占有率依据")
    corrected = {"products": {**FORM["products"], "market_share": "15"}}
    application, errors = workflow.application_save_draft(application=application, by=owner, data=corrected)
    assert errors == {}
    # when
    application = act(application, Action.RESUBMIT, owner)
    # then
    assert list(application.snapshots.values_list("number", flat=True)) == [2, 1]
    second = workflow.latest_snapshot(application)
    assert second.number == 2 and second.data["products"]["market_share"] == "15"
    kept = ApplicationSnapshot.objects.get(pk=first.pk)
    assert kept.data["products"]["market_share"] == "12.5"
    assert (kept.facts, kept.profile, kept.attachments) == (first.facts, first.profile, first.attachments)
    events = {e.action: e.snapshot_id for e in application.events.all()}
    assert (events[Action.SUBMIT], events[Action.RESUBMIT]) == (first.pk, second.pk)


def test_a_document_in_a_snapshot_cannot_be_deleted(submitted, owner, nanming_official):
    # given: submitted, then returned so the enterprise may detach attachments again
    snapshot = workflow.latest_snapshot(submitted)
    attachment = submitted.attachments.select_related("document").first()
    document = attachment.document
    assert SnapshotDocument.objects.filter(snapshot=snapshot, document=document).exists()
    application = act(submitted, Action.RETURN, nanming_official, opinion="请更换附件")
    workflow.application_detach(application=application, attachment_id=attachment.pk, by=owner)
    # when / then: neither the service (which says why) nor a plain delete removes it
    with translation.override("en"), pytest.raises(ValidationError, match="submitted application"):
        document_delete(document=document, by=owner)
    with pytest.raises(ProtectedError), transaction.atomic():
        Document.objects.filter(pk=document.pk).delete()
    assert Document.objects.filter(pk=document.pk).exists()
    assert document.file.storage.exists(document.file.name)
    assert snapshot.attachments[0]["sha256"] == document.sha256


# --- the chain after a return ------------------------------------------------------------


def test_a_return_from_the_prefecture_sends_the_resubmission_through_the_county_again(ready, chain):
    # given: a quota for 南明区, used when the county recommended
    RoundQuota.objects.create(round=ready.round, region=ready.county, maximum=5)
    application = drive(ready, "in_review_prefecture", chain)
    assert QuotaUse.objects.count() == 1
    # when
    application = act(application, Action.RETURN, chain.prefecture, opinion="请补充研发机构证明")
    application = act(application, Action.RESUBMIT, chain.owner)
    # then: it waits at the county again, with the history kept
    assert (application.state, application.level, application.current_region.code) == (
        S.SUBMITTED,
        "county",
        "520102",
    )
    assert list(application.events.values_list("action", flat=True)) == [
        "start",
        Action.SUBMIT,
        Action.RECOMMEND,
        Action.RETURN,
        Action.RESUBMIT,
    ]
    returned = application.events.get(action=Action.RETURN)
    assert (returned.level, returned.region.code, returned.minor) == ("prefecture", "520100", False)
    # the county recommends again: the place is counted once
    application = act(application, Action.RECOMMEND, chain.county, opinion="已补充")
    assert application.level == "prefecture"
    assert QuotaUse.objects.count() == 1


def test_a_minor_return_from_the_prefecture_comes_straight_back_to_the_prefecture(ready, chain):
    # given
    application = drive(ready, "in_review_prefecture", chain)
    # when
    application = act(application, Action.RETURN, chain.prefecture, opinion="错别字", minor=True)
    assert application.return_level == "prefecture"
    application = act(application, Action.RESUBMIT, chain.owner)
    # then
    assert (application.state, application.level, application.current_region.code) == (
        S.IN_REVIEW,
        "prefecture",
        "520100",
    )
    assert application.return_level == ""
    assert application.events.get(action=Action.RETURN).minor is True
    assert act(application, Action.RECOMMEND, chain.prefecture, opinion="同意").level == "province"


def test_a_minor_return_from_the_county_comes_back_as_submitted(submitted, owner, nanming_official):
    application = act(submitted, Action.RETURN, nanming_official, opinion="补签字", minor=True)
    application = act(application, Action.RESUBMIT, owner)
    assert (application.state, application.level) == (S.SUBMITTED, "county")


def test_a_return_keeps_the_first_submission_time(submitted, owner, nanming_official):
    first = submitted.submitted_at
    application = act(submitted, Action.RETURN, nanming_official, opinion="补充材料")
    application = act(application, Action.RESUBMIT, owner, at=timezone.now() + timedelta(days=2))
    assert application.submitted_at == first


# --- notifications, after the commit only ---------------------------------------------------


def test_nothing_is_sent_before_the_commit(ready, owner, django_capture_on_commit_callbacks, mailoutbox):
    # given
    with django_capture_on_commit_callbacks() as callbacks:
        # when
        act(ready, Action.SUBMIT, owner)
        # then: the inbox rows are written with the change (portal.notifications, the outbox), and inside the
        # transaction no email has gone out
        assert Notification.objects.count() > 0
        assert mailoutbox == []
    assert callbacks
    assert mailoutbox == []
    for callback in callbacks:
        callback()
    assert len(mailoutbox) == Notification.objects.exclude(recipient__email="").count() > 0


def test_a_refused_action_sends_nothing(submitted, yunyan_official, django_capture_on_commit_callbacks):
    # given
    since = last_notification_id()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        # when
        refused(submitted, Action.RECOMMEND, yunyan_official, opinion="同意")
    # then
    assert callbacks == []
    assert recipients(since) == []


def test_members_hear_of_every_change_and_each_level_when_it_arrives(
    ready, chain, colleague, yunyan_official, zunyi_official, django_capture_on_commit_callbacks
):
    # given: 南明区's enterprise with two members; reviewers at every level and elsewhere
    members = ["colleague", "owner"]
    steps = [
        (Action.SUBMIT, chain.owner, {}, ["nanming"]),
        (Action.RETURN, chain.county, {"opinion": "补充材料"}, []),
        (Action.RESUBMIT, chain.owner, {}, ["nanming"]),
        (Action.RECOMMEND, chain.county, {"opinion": "同意"}, ["guiyang"]),
        (Action.RECOMMEND, chain.prefecture, {"opinion": "同意"}, ["gz_approver", "gz_reviewer"]),
    ]
    application = ready
    for action, by, kwargs, reviewers in steps:
        since = last_notification_id()
        # when
        with django_capture_on_commit_callbacks(execute=True):
            application = act(application, action, by, **kwargs)
        # then
        assert recipients(since) == sorted(members + reviewers), action
    # the experts score and the approver approves: the members hear of it, nobody else
    application = expert_reviews(application, chain.experts, chain.province_reviewer)
    since = last_notification_id()
    with django_capture_on_commit_callbacks(execute=True):
        act(application, Action.APPROVE, chain.province_approver, opinion="批准")
    assert recipients(since) == members
    note = Notification.objects.filter(recipient=chain.owner).latest("pk")
    assert "批准" in note.body
    assert note.link.startswith("/gz/")


def test_the_enterprise_reads_the_reason_for_a_return(
    submitted, owner, nanming_official, django_capture_on_commit_callbacks
):
    since = last_notification_id()
    with django_capture_on_commit_callbacks(execute=True):
        act(submitted, Action.RETURN, nanming_official, opinion="请补充近三年审计报告")
    note = Notification.objects.get(recipient=owner, pk__gt=since)
    assert "请补充近三年审计报告" in note.body


# --- audit ------------------------------------------------------------------------------------


def test_every_transition_is_audited(ready, chain):
    # when
    application = drive(ready, "approved", chain)
    # then
    rows = AuditEvent.objects.filter(object_type="certification.application", object_id=str(application.pk))
    actions = list(rows.filter(outcome="success").order_by("pk").values_list("action", flat=True))
    transitions = [a for a in actions if a.split(".")[1] in {"submit", "recommend", "approve", "started"}]
    assert transitions == [
        "application.started",
        "application.submit",
        "application.recommend",
        "application.recommend",
        "application.approve",
    ]
    approve = rows.get(action="application.approve")
    assert approve.actor == chain.province_approver
    assert approve.changes["state"] == [S.IN_REVIEW, S.APPROVED]
    assert approve.changes["level"] == ["province", ""]


def test_a_refused_action_is_audited_as_refused(submitted, yunyan_official):
    # when
    refused(submitted, Action.RECOMMEND, yunyan_official, opinion="同意")
    # then
    row = AuditEvent.objects.get(action="application.recommend")
    assert (row.outcome, row.actor, row.object_id) == ("refused", yunyan_official, str(submitted.pk))
    assert row.summary


def test_a_refused_expert_assignment_is_audited_as_refused(ready, chain, gz):
    # given
    application = drive(ready, "in_review_province", chain, with_expert_reviews=False)
    local = make_expert(gz, "local_expert", home_county="520102")
    # when
    with pytest.raises(workflow.WorkflowRefused):
        workflow.expert_assign(application=application, expert=local, by=chain.province_reviewer)
    # then
    row = AuditEvent.objects.get(action="application.assign_expert")
    assert row.outcome == "refused"


# --- duplicates and who may start -----------------------------------------------------------


def test_a_second_application_in_the_same_round_is_refused(draft, acme, colleague):
    # given: acme has a draft
    # when
    with pytest.raises(workflow.WorkflowRefused) as info:
        workflow.application_start(round_=draft.round, enterprise=acme, by=colleague)
    # then
    assert info.value.get_codes() == "duplicate"
    assert info.value.extra == {"application": draft.pk}
    assert Application.objects.filter(enterprise=acme).count() == 1


def test_the_database_refuses_a_second_active_application_in_a_round(submitted, acme):
    with pytest.raises(IntegrityError), transaction.atomic():
        Application.objects.create(
            tenant=acme.tenant, round=submitted.round, enterprise=acme, county=acme.county
        )
    assert Application.objects.filter(enterprise=acme).count() == 1


def test_a_withdrawn_application_lets_the_enterprise_start_again(submitted, acme, owner):
    # given
    act(submitted, Action.WITHDRAW, owner)
    # when
    again = workflow.application_start(round_=submitted.round, enterprise=acme, by=owner)
    # then
    assert again.pk != submitted.pk and again.state == S.DRAFT
    assert list(
        Application.objects.filter(enterprise=acme).order_by("pk").values_list("state", flat=True)
    ) == [S.WITHDRAWN, S.DRAFT]


def test_an_approved_application_blocks_the_next_round_of_the_programme(ready, chain, acme, wf_program):
    # given
    drive(ready, "approved", chain)
    program, version = wf_program
    second = make_round(program, version, name="2026年第二批")
    # when
    with pytest.raises(workflow.WorkflowRefused) as info:
        workflow.application_start(round_=second, enterprise=acme, by=chain.owner)
    # then
    assert info.value.get_codes() == "duplicate"
    assert not Application.objects.filter(round=second).exists()


def test_a_rejected_application_does_not_block_the_next_round(ready, chain, acme, wf_program):
    drive(ready, "rejected", chain)
    program, version = wf_program
    second = make_round(program, version, name="2026年第二批")
    assert workflow.application_start(round_=second, enterprise=acme, by=chain.owner).state == S.DRAFT


@pytest.mark.parametrize(
    ("opens", "closes"),
    [(-30, -1), (1, 30)],
    ids=["closed", "not yet open"],
)
def test_starting_outside_the_rounds_dates_is_refused(wf_program, acme, owner, opens, closes):
    # given
    program, version = wf_program
    now = timezone.now()
    round_ = make_round(
        program, version, opens=now + timedelta(days=opens), closes=now + timedelta(days=closes)
    )
    # when
    with pytest.raises(workflow.WorkflowRefused) as info:
        workflow.application_start(round_=round_, enterprise=acme, by=owner)
    # then
    assert info.value.get_codes() == "round_closed"
    assert not Application.objects.exists()


def test_a_round_of_a_retired_programme_cannot_be_started(wf_round, wf_program, acme, owner):
    # given: the round is open, but the programme was switched off
    program, _version = wf_program
    program.is_active = False
    program.save()
    # when
    with pytest.raises(workflow.WorkflowRefused) as info:
        workflow.application_start(round_=wf_round, enterprise=acme, by=owner)
    # then
    assert info.value.code == "round_closed"
    assert not Application.objects.exists()


def test_an_enterprise_outside_the_owners_subtree_cannot_start(gz, guiyang_program, media):
    # given: a programme of 贵阳市 and an enterprise of 遵义市红花岗区
    program, version = guiyang_program
    round_ = make_round(program, version)
    zunyi_owner = UserFactory(username="zunyi_owner")
    zunyi_enterprise = make_enterprise(gz, "520302", 7, admin=zunyi_owner)
    # when
    with pytest.raises(workflow.WorkflowRefused) as info:
        workflow.application_start(round_=round_, enterprise=zunyi_enterprise, by=zunyi_owner)
    # then
    assert info.value.get_codes() == "out_of_scope"
    assert not Application.objects.exists()


def test_another_tenants_round_cannot_be_started(xz_program, acme, owner):
    program, version = xz_program
    round_ = make_round(program, version)
    with pytest.raises(workflow.WorkflowRefused):
        workflow.application_start(round_=round_, enterprise=acme, by=owner)
    assert not Application.objects.exists()


# --- identity lock ------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["county", "uscc"])
def test_the_county_and_credit_code_are_locked_after_submission(submitted, acme, owner, gz, field):
    # given
    value = region(gz, "520103") if field == "county" else demo_uscc("520102", 77)
    before = Enterprise.objects.values("county_id", "uscc").get(pk=acme.pk)
    # when
    with pytest.raises(ValidationError) as info:
        enterprise_update_profile(enterprise=acme, by=owner, data={field: value})
    # then
    assert list(info.value.message_dict) == [field]
    assert Enterprise.objects.values("county_id", "uscc").get(pk=acme.pk) == before


def test_other_profile_fields_stay_editable_after_submission(submitted, acme, owner):
    enterprise_update_profile(enterprise=acme, by=owner, data={"contact_phone": "13800000000"})
    assert Enterprise.objects.get(pk=acme.pk).contact_phone == "13800000000"


def test_the_county_can_change_while_the_application_is_a_draft_or_withdrawn(ready, acme, owner, gz):
    # given: a draft only
    enterprise_update_profile(enterprise=acme, by=owner, data={"county": region(gz, "520103")})
    assert Enterprise.objects.get(pk=acme.pk).county.code == "520103"
    # and after a withdrawal
    enterprise_update_profile(enterprise=acme, by=owner, data={"county": region(gz, "520102")})
    application = act(ready, Action.SUBMIT, owner)
    act(application, Action.WITHDRAW, owner)
    enterprise_update_profile(enterprise=acme, by=owner, data={"county": region(gz, "520103")})
    assert Enterprise.objects.get(pk=acme.pk).county.code == "520103"


# --- experts --------------------------------------------------------------------------------


@pytest.fixture
def at_province(ready, chain):
    return drive(ready, "in_review_province", chain, with_expert_reviews=False)


def test_an_expert_from_the_applicants_county_is_refused(at_province, chain, gz):
    # given
    local = make_expert(gz, "nanming_expert", home_county="520102")
    before = fingerprint(at_province)
    # when
    with pytest.raises(workflow.WorkflowRefused) as info:
        workflow.expert_assign(application=at_province, expert=local, by=chain.province_reviewer)
    # then
    assert info.value.get_codes() == "conflict"
    assert fingerprint(at_province) == before
    assert not selectors.applications_visible_to(local, gz).exists()


def test_an_expert_who_declared_a_link_to_the_enterprise_is_refused(at_province, chain, gz, acme):
    linked = make_expert(gz, "linked_expert", linked=[acme])
    before = fingerprint(at_province)
    with pytest.raises(workflow.WorkflowRefused) as info:
        workflow.expert_assign(application=at_province, expert=linked, by=chain.province_reviewer)
    assert info.value.get_codes() == "conflict"
    assert fingerprint(at_province) == before


def test_only_experts_of_the_pool_can_be_assigned(at_province, chain, gz, xz, outsider):
    # given: a plain user, another tenant's expert, and an expert whose post was ended
    foreign = make_expert(xz, "xz_expert")
    retired = make_expert(gz, "retired_expert")
    Post.objects.filter(user=retired).update(is_active=False)
    before = fingerprint(at_province)
    for person in (outsider, foreign, retired):
        # when
        with pytest.raises(ValidationError) as info:
            workflow.expert_assign(application=at_province, expert=person, by=chain.province_reviewer)
        # then
        assert "expert" in info.value.message_dict
    assert fingerprint(at_province) == before


def test_experts_are_assigned_only_at_the_last_level_by_its_reviewers(ready, chain, gz):
    # given: waiting at the prefecture
    application = drive(ready, "in_review_prefecture", chain)
    # when / then
    with pytest.raises(workflow.WorkflowRefused):
        workflow.expert_assign(application=application, expert=chain.experts[1], by=chain.prefecture)
    application = act(application, Action.RECOMMEND, chain.prefecture, opinion="同意")
    with pytest.raises(workflow.WorkflowRefused):
        workflow.expert_assign(application=application, expert=chain.experts[1], by=chain.county)
    assert not ExpertAssignment.objects.exists()


def test_an_assigned_expert_sees_the_application_and_others_see_nothing(at_province, chain, gz):
    # given
    assigned, unassigned = chain.experts
    # when
    assignment = workflow.expert_assign(application=at_province, expert=assigned, by=chain.province_reviewer)
    # then
    assert assigned.has_perm("certification.view_application", at_province)
    assert list(selectors.applications_visible_to(assigned, gz)) == [at_province]
    assert not selectors.applications_visible_to(unassigned, gz).exists()
    assert list(selectors.expert_assignments_of(assigned, gz)) == [assignment]
    # and unassigning takes the view away again
    workflow.expert_unassign(assignment=assignment, by=chain.province_reviewer)
    fresh = type(assigned).objects.get(pk=assigned.pk)
    assert not selectors.applications_visible_to(fresh, gz).exists()


def test_an_expert_who_scored_cannot_be_unassigned(at_province, chain):
    application = expert_reviews(at_province, chain.experts[:1], chain.province_reviewer)
    assignment = application.expert_assignments.get()
    with pytest.raises(workflow.WorkflowRefused):
        workflow.expert_unassign(assignment=assignment, by=chain.province_reviewer)
    assert application.expert_assignments.count() == 1


def test_the_expert_summary_gives_the_mean_and_the_spread(at_province, chain, gz):
    # given: two experts score 80 and 70; a third is assigned but has not scored
    first, second = chain.experts
    third = make_expert(gz, "expert_c")
    expert_reviews(at_province, [first], chain.province_reviewer)
    low = {"specialisation": 20, "refinement": 15, "distinctiveness": 10, "innovation": "25"}
    application = expert_reviews(at_province, [second], chain.province_reviewer, scores=low)
    workflow.expert_assign(application=application, expert=third, by=chain.province_reviewer)
    # when
    summary = workflow.expert_summary(application)
    # then
    assert summary["mean"] == Decimal("75.00")
    assert summary["spread"] == Decimal("10")
    assert (summary["count"], summary["needed"], len(summary["assignments"])) == (2, 2, 3)
    assert Application.objects.get(pk=application.pk).expert_mean == Decimal("75.00")


@pytest.mark.parametrize(
    ("scores", "opinion", "field"),
    [
        ({**SCORES, "specialisation": 26}, "好", "scores.specialisation"),
        ({**SCORES, "innovation": -1}, "好", "scores.innovation"),
        ({**SCORES, "refinement": "很多"}, "好", "scores.refinement"),
        ({**SCORES, "distinctiveness": "NaN"}, "好", "scores.distinctiveness"),
        ({k: v for k, v in SCORES.items() if k != "innovation"}, "好", "scores.innovation"),
        (SCORES, "  ", "opinion"),
    ],
    ids=["above the maximum", "negative", "not a number", "NaN", "missing", "no opinion"],
)
def test_a_score_out_of_range_is_refused_with_the_field_named(at_province, chain, scores, opinion, field):
    # given
    expert = chain.experts[0]
    assignment = workflow.expert_assign(application=at_province, expert=expert, by=chain.province_reviewer)
    before = fingerprint(at_province)
    # when
    with pytest.raises(ValidationError) as info:
        workflow.expert_score(assignment=assignment, by=expert, scores=scores, opinion=opinion)
    # then
    assert field in info.value.message_dict
    assignment.refresh_from_db()
    assert (assignment.submitted_at, assignment.total, assignment.scores) == (None, None, {})
    assert fingerprint(at_province) == before
    assert Application.objects.get(pk=at_province.pk).expert_mean is None


def test_only_the_assigned_expert_scores_and_only_once(at_province, chain):
    first, second = chain.experts
    assignment = workflow.expert_assign(application=at_province, expert=first, by=chain.province_reviewer)
    with pytest.raises(workflow.WorkflowRefused):
        workflow.expert_score(assignment=assignment, by=second, scores=SCORES, opinion="好")
    workflow.expert_score(assignment=assignment, by=first, scores=SCORES, opinion="好")
    with pytest.raises(workflow.WorkflowRefused):
        workflow.expert_score(
            assignment=assignment, by=first, scores={**SCORES, "innovation": 0}, opinion="改"
        )
    assignment.refresh_from_db()
    assert assignment.total == Decimal("80")


# --- deadline reminders ---------------------------------------------------------------------


def test_deadline_reminders_go_once_a_day_to_reviewers_of_regions_with_waiting_applications(
    submitted,
    wf_round,
    gz,
    yunyan_official,
    guiyang_official,
    nanming_official,
    django_capture_on_commit_callbacks,
):
    # given: acme's application waits at 南明区; 云岩区's enterprise has only a draft
    second_nanming = official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming2")
    retired = official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming_retired")
    Post.objects.filter(user=retired).update(is_active=False)
    yunyan_owner = UserFactory(username="yunyan_owner")
    yunyan_enterprise = make_enterprise(gz, "520103", 2, admin=yunyan_owner)
    workflow.application_start(round_=wf_round, enterprise=yunyan_enterprise, by=yunyan_owner)
    day = timezone.localdate(workflow.stage_for(wf_round, "county").deadline) - timedelta(days=1)
    since = last_notification_id()  # the submission's own notifications
    # when
    with django_capture_on_commit_callbacks(execute=True):
        sent = workflow.deadline_reminders_send(day=day)
    # then: the county's two active reviewers, nobody else
    assert sent == 2
    assert recipients(since) == ["nanming", "nanming2"]
    assert ReminderSent.objects.count() == 1
    note = Notification.objects.filter(recipient=second_nanming).get()
    assert f"?round={wf_round.pk}" in note.link
    # when: the job runs again the same day
    with django_capture_on_commit_callbacks(execute=True):
        again = workflow.deadline_reminders_send(day=day)
    # then
    assert again == 0
    assert recipients(since) == ["nanming", "nanming2"]


def test_no_reminder_far_from_the_deadline_or_once_nothing_waits(
    submitted, wf_round, nanming_official, owner, django_capture_on_commit_callbacks
):
    deadline_day = timezone.localdate(workflow.stage_for(wf_round, "county").deadline)
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow.deadline_reminders_send(day=deadline_day - timedelta(days=10)) == 0
        act(submitted, Action.WITHDRAW, owner)
        assert workflow.deadline_reminders_send(day=deadline_day - timedelta(days=1)) == 0
    assert not Notification.objects.filter(recipient=nanming_official).exists()


def test_a_reminder_comes_again_the_next_day(
    submitted, wf_round, nanming_official, django_capture_on_commit_callbacks
):
    deadline_day = timezone.localdate(workflow.stage_for(wf_round, "county").deadline)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.deadline_reminders_send(day=deadline_day - timedelta(days=2))
        workflow.deadline_reminders_send(day=deadline_day - timedelta(days=1))
    assert Notification.objects.filter(recipient=nanming_official).count() == 2


# --- recommending a selection at once ----------------------------------------------------------


@pytest.fixture
def two_waiting(submitted, wf_round, rival, media):
    """acme's and its rival's applications, both waiting at 南明区."""
    rival_app = submitted_application(wf_round, rival, rival.memberships.get().user)
    return [submitted, rival_app]


def test_a_selection_is_recommended_together(two_waiting, wf_round, gz, nanming_official):
    # given
    RoundQuota.objects.create(round=wf_round, region=two_waiting[0].county, maximum=2)
    # when
    done = workflow.application_recommend_bulk(
        tenant=gz, ids=[a.pk for a in two_waiting], by=nanming_official, opinion="同意推荐"
    )
    # then
    assert {(a.state, a.level, a.current_region.code) for a in done} == {
        (S.IN_REVIEW, "prefecture", "520100")
    }
    assert QuotaUse.objects.count() == 2


def test_a_selection_beyond_the_quota_recommends_nothing(two_waiting, wf_round, gz, nanming_official):
    # given: one place left for two applications
    RoundQuota.objects.create(round=wf_round, region=two_waiting[0].county, maximum=1)
    before = [fingerprint(a) for a in two_waiting]
    # when
    with pytest.raises(workflow.WorkflowRefused) as info:
        workflow.application_recommend_bulk(
            tenant=gz, ids=[a.pk for a in two_waiting], by=nanming_official, opinion="同意推荐"
        )
    # then: neither moved, and the refusal is on record
    assert info.value.code == "quota_reached"
    assert [fingerprint(a) for a in two_waiting] == before
    assert AuditEvent.objects.filter(action="application.recommend", outcome="refused").count() == 1
    assert not AuditEvent.objects.filter(action="application.recommend", outcome="success").exists()


def test_a_selection_with_one_the_official_cannot_act_on_recommends_nothing(
    two_waiting, gz, nanming_official
):
    # given: the rival's application was already rejected
    acme_app, rival_app = two_waiting
    act(rival_app, Action.REJECT, nanming_official, opinion="不符合条件")
    before = fingerprint(acme_app)
    # when
    with pytest.raises(workflow.WorkflowRefused):
        workflow.application_recommend_bulk(
            tenant=gz, ids=[acme_app.pk, rival_app.pk], by=nanming_official, opinion="同意"
        )
    # then
    assert fingerprint(acme_app) == before


def test_a_selection_with_another_tenants_application_is_refused(submitted, xz, nanming_official):
    before = fingerprint(submitted)
    with pytest.raises(workflow.WorkflowRefused) as info:
        workflow.application_recommend_bulk(tenant=xz, ids=[submitted.pk], by=nanming_official)
    assert info.value.code == "not_found"
    assert fingerprint(submitted) == before
