"""The public notice, objections and publication (certification.publication), service by service.

The notice in these tests starts on Monday 2026-09-28 and runs five working days across Golden Week: it
ends on Friday 2026-10-09. Objections are filed with `at=` inside the period, publication with `at=`
after it.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone, translation

from certification import publication, workflow
from certification.models import (
    Application,
    Certification,
    Notice,
    NoticeEntry,
    Objection,
    PublishedList,
    PublishedListIsImmutable,
)
from certification.publication import WorkflowRefused
from certification.transitions import Action
from portal.models import AuditEvent, Notification, User
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import (
    chain_fixture,  # noqa: F401 - the `chain` fixture
    drive,
    fill,
    make_round,
    rival_fixture,  # noqa: F401 - the `rival` fixture
)
from tests.conftest import official, require_postgres

S = Application.State
START = date(2026, 9, 28)
END = date(2026, 10, 9)


@pytest.fixture(autouse=True)
def _english():
    # The services' messages are asserted in English (the msgids); the portal's default is Chinese.
    with translation.override("en"):
        yield


def moment(day: date, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour, 0))


DURING = moment(date(2026, 9, 29))
AFTER = moment(date(2026, 10, 12))  # the Monday after the period
GROUNDS = "该企业申报的主导产品市场占有率数据不实"


def approved(round_, enterprise, by, chain):
    """A filled application of `enterprise` to `round_`, driven to "approved" by the chain."""
    application = fill(workflow.application_start(round_=round_, enterprise=enterprise, by=by), by)
    return drive(application, "approved", dataclasses.replace(chain, owner=by))


def make_notice(applications, by, *, starts_on=START, title="2026年第一批拟认定专精特新中小企业名单公示"):
    return publication.notice_create(
        round_=applications[0].round,
        application_ids=[a.pk for a in applications],
        title=title,
        body="现将拟认定名单予以公示。",
        how_to_object="公示期内，请以实名书面形式向省工业和信息化厅反映。",
        starts_on=starts_on,
        working_days=5,
        by=by,
    )


def file_objection(notice, entry, **overrides):
    fields = {
        "notice": notice,
        "entry_id": entry.pk,
        "filer_name": "王五",
        "filer_phone": "13800000000",
        "grounds": GROUNDS,
        "at": DURING,
    }
    fields.update(overrides)
    return publication.objection_file(**fields)


def state_of(application) -> str:
    return Application.objects.get(pk=application.pk).state


def snapshot() -> dict:
    """What a refused publication action must leave as it was."""
    return {
        "notices": list(Notice.objects.values_list("pk", "status")),
        "entries": list(NoticeEntry.objects.values_list("pk", "removed_at")),
        "objections": list(Objection.objects.values_list("pk", "status", "reply")),
        "states": list(Application.objects.order_by("pk").values_list("pk", "state")),
        "events": sum(a.events.count() for a in Application.objects.all()),
        "published": PublishedList.objects.count(),
        "certifications": Certification.objects.count(),
    }


@pytest.fixture
def acme_app(ready, chain):
    return drive(ready, "approved", chain)


@pytest.fixture
def two(acme_app, rival, chain):
    """acme's and rival's approved applications to the same round."""
    owner = rival.memberships.get().user
    return [acme_app, approved(acme_app.round, rival, owner, chain)]


@pytest.fixture
def notice(two, province_approver):
    return make_notice(two, province_approver)


# --- the notice ----------------------------------------------------------------------------------


def test_a_notice_lists_the_approved_applications_and_puts_them_in_notice(two, province_approver):
    # given: two approved applications
    # when
    notice = make_notice(two, province_approver)
    # then
    assert (notice.starts_on, notice.ends_on, notice.status) == (START, END, Notice.Status.OPEN)
    assert [state_of(a) for a in two] == [S.IN_NOTICE, S.IN_NOTICE]
    entries = list(notice.entries.order_by("position"))
    assert [e.position for e in entries] == [1, 2]
    for entry in entries:
        enterprise = entry.application.enterprise
        assert (entry.enterprise_name, entry.uscc, entry.county_name, entry.program_name) == (
            enterprise.name,
            enterprise.uscc,
            enterprise.county.name,
            entry.application.round.program.name,
        )
        event = entry.application.events.latest("id")
        assert (event.action, event.from_state, event.to_state) == (Action.NOTICE, S.APPROVED, S.IN_NOTICE)
    assert AuditEvent.objects.filter(action="notice.created", object_id=str(notice.pk)).exists()


def test_a_notice_entry_copies_public_data_only(notice):
    # The copy has no field for the enterprise's contacts, and none of their values appear in it.
    fields = {f.name for f in NoticeEntry._meta.get_fields()}
    assert not fields & {
        "contact_person",
        "contact_phone",
        "contact_email",
        "legal_representative",
        "address",
    }
    for entry in notice.entries.select_related("application__enterprise"):
        enterprise = entry.application.enterprise
        copied = {str(getattr(entry, f.attname)) for f in NoticeEntry._meta.concrete_fields}
        assert not copied & {enterprise.contact_phone, enterprise.contact_email, enterprise.contact_person}


def test_only_approved_applications_go_on_a_notice(acme_app, rival, chain, province_approver):
    # given: rival's application is only submitted
    owner = rival.memberships.get().user
    application = fill(workflow.application_start(round_=acme_app.round, enterprise=rival, by=owner), owner)
    submitted = drive(application, "submitted", dataclasses.replace(chain, owner=owner))
    before = snapshot()
    # when
    with pytest.raises(ValidationError) as info:
        make_notice([acme_app, submitted], province_approver)
    # then
    assert rival.name in info.value.message_dict["applications"][0]
    assert snapshot() == before


def test_an_application_of_another_round_cannot_go_on_the_notice(acme_app, wf_program, province_approver):
    # given: a notice of another round of the programme
    program, version = wf_program
    other = make_round(program, version, name="2026年第二批")
    before = snapshot()
    # when
    with pytest.raises(ValidationError) as info:
        publication.notice_create(
            round_=other,
            application_ids=[acme_app.pk],
            title="公示",
            body="",
            how_to_object="实名反映",
            starts_on=START,
            by=province_approver,
        )
    # then
    assert "applications" in info.value.message_dict
    assert snapshot() == before


def test_a_notice_needs_a_title_how_to_object_and_applications(acme_app, province_approver):
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        publication.notice_create(
            round_=acme_app.round,
            application_ids=[],
            title=" ",
            body="",
            how_to_object="",
            starts_on=START,
            working_days=31,
            by=province_approver,
        )
    assert set(info.value.message_dict) == {"applications", "title", "how_to_object", "working_days"}
    assert snapshot() == before


def test_the_notice_length_defaults_to_the_tenants(acme_app, province_approver, gz):
    gz.notice_days = 7
    gz.save()
    acme_app.round.tenant.refresh_from_db()
    notice = publication.notice_create(
        round_=acme_app.round,
        application_ids=[acme_app.pk],
        title="公示",
        body="",
        how_to_object="实名反映",
        starts_on=START,
        by=province_approver,
    )
    assert (notice.working_days, notice.ends_on) == (7, date(2026, 10, 12))  # 10-10 (Saturday) is worked


def test_county_prefecture_and_other_tenants_officials_cannot_create_a_notice(
    acme_app, nanming_official, guiyang_official, xz_admin
):
    for person in (nanming_official, guiyang_official, xz_admin):
        before = snapshot()
        with pytest.raises(WorkflowRefused) as info:
            make_notice([acme_app], person)
        assert (info.value.code, info.value.status_code) == ("not_found", 404)
        assert snapshot() == before


def test_the_tenant_admin_and_the_provincial_reviewer_publish(acme_app, gz_admin, province_reviewer):
    assert publication.can_publish(gz_admin, acme_app.round)
    assert publication.can_publish(province_reviewer, acme_app.round)


def test_a_prefecture_owned_programme_is_published_by_the_prefectures_reviewers(
    gz, guiyang_official, nanming_official, province_approver
):
    program, version = make_program(gz, code="guiyang_pub", owner_region=guiyang_official.posts.get().region)
    round_ = make_round(program, version)
    assert publication.can_publish(guiyang_official, round_)
    assert not publication.can_publish(nanming_official, round_)
    assert not publication.can_publish(province_approver, round_)


# --- objections --------------------------------------------------------------------------------


def test_anyone_files_an_objection_during_the_period(
    notice, province_approver, django_capture_on_commit_callbacks
):
    # given
    entry = notice.entries.get(position=1)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        objection = file_objection(notice, entry, filer_organisation="某竞争企业", ip_address="203.0.113.7")
    # then
    assert (objection.status, objection.entry, objection.filer_name) == (Objection.Status.OPEN, entry, "王五")
    assert objection.filed_at == DURING
    assert objection.reference.startswith("YY")
    event = AuditEvent.objects.get(action="objection.filed")
    assert event.actor is None and event.actor_label == "public"
    assert "13800000000" not in event.summary and "王五" not in event.summary
    assert Notification.objects.filter(
        recipient=province_approver, subject__contains=objection.reference
    ).exists()
    assert state_of(entry.application) == S.IN_NOTICE  # an objection alone changes nothing


@pytest.mark.parametrize(
    "at",
    [moment(date(2026, 9, 27), 23), moment(date(2026, 10, 10), 0)],
    ids=["the day before", "the day after"],
)
def test_an_objection_outside_the_period_is_refused(notice, at):
    entry = notice.entries.first()
    before = snapshot()
    with pytest.raises(WorkflowRefused) as info:
        file_objection(notice, entry, at=at)
    assert info.value.code == "notice_closed"
    assert "2026-09-28" in info.value.message and "2026-10-09" in info.value.message
    assert snapshot() == before


def test_objections_on_the_first_and_the_last_day_are_accepted(notice):
    entry = notice.entries.first()
    file_objection(notice, entry, at=moment(START, 0))
    file_objection(notice, entry, at=moment(END, 23))
    assert notice.objections.count() == 2


def test_an_objection_needs_a_real_name_a_mobile_phone_and_grounds(notice):
    entry = notice.entries.first()
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        file_objection(notice, entry, filer_name="  ", filer_phone="12345", grounds="不实")
    assert set(info.value.message_dict) == {"filer_name", "filer_phone", "grounds"}
    assert snapshot() == before


@pytest.mark.parametrize("field", ["filer_name", "filer_phone", "grounds"])
def test_each_missing_objection_field_is_named(notice, field):
    entry = notice.entries.first()
    before = snapshot()
    with pytest.raises(ValidationError) as info:
        file_objection(notice, entry, **{field: ""})
    assert set(info.value.message_dict) == {field}
    assert snapshot() == before


def test_an_objection_to_a_removed_or_unknown_entry_is_refused(notice, province_approver):
    # given: the first entry was removed by an upheld objection
    first, second = notice.entries.order_by("position")
    upheld = file_objection(notice, first)
    publication.objection_resolve(
        objection=upheld, upheld=True, reply="经核查，反映属实。", by=province_approver
    )
    before = snapshot()
    # when / then
    for entry_id in (first.pk, 999_999):
        with pytest.raises(ValidationError) as info:
            file_objection(notice, first, entry_id=entry_id)
        assert set(info.value.message_dict) == {"entry"}
    assert snapshot() == before
    assert second.objections.count() == 0


def test_dismissal_needs_a_reply(notice, province_approver):
    # given
    objection = file_objection(notice, notice.entries.first())
    before = snapshot()
    # when
    with pytest.raises(ValidationError) as info:
        publication.objection_resolve(objection=objection, upheld=False, reply="  ", by=province_approver)
    # then
    assert set(info.value.message_dict) == {"reply"}
    assert snapshot() == before


def test_a_dismissed_objection_leaves_the_application_on_the_notice(notice, province_approver):
    # given
    entry = notice.entries.first()
    objection = file_objection(notice, entry)
    # when
    publication.objection_resolve(
        objection=objection, upheld=False, reply="经核查，不属实。", by=province_approver
    )
    # then
    objection.refresh_from_db()
    assert (objection.status, objection.reply, objection.resolved_by) == (
        Objection.Status.DISMISSED,
        "经核查，不属实。",
        province_approver,
    )
    entry.refresh_from_db()
    assert entry.removed_at is None
    assert state_of(entry.application) == S.IN_NOTICE
    assert AuditEvent.objects.filter(action="objection.dismissed", object_id=str(objection.pk)).exists()


def test_an_upheld_objection_removes_the_entry_and_rejects_the_application(
    notice, province_approver, owner, django_capture_on_commit_callbacks, mailoutbox
):
    # given: an objection to acme
    entry = notice.entries.get(application__enterprise__memberships__user=owner)
    objection = file_objection(notice, entry)
    reason = "经核查，该企业市场占有率数据不实，取消拟认定资格。"
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        publication.objection_resolve(objection=objection, upheld=True, reply=reason, by=province_approver)
        # then: the inbox row is written with the change, and no email is sent before the commit
        assert Notification.objects.filter(recipient=owner, subject__contains="objection").exists()
        assert not [m for m in mailoutbox if owner.email in m.to]
    entry.refresh_from_db()
    assert entry.removed_at is not None and entry.removed_reason == reason
    application = Application.objects.get(pk=entry.application_id)
    assert application.state == S.REJECTED and application.decided_at is not None
    event = application.events.latest("id")
    assert (event.action, event.from_state, event.to_state, event.opinion, event.actor) == (
        "objection_upheld",
        S.IN_NOTICE,
        S.REJECTED,
        reason,
        province_approver,
    )
    assert AuditEvent.objects.filter(action="objection.upheld", object_id=str(objection.pk)).exists()
    assert callbacks
    for callback in callbacks:
        callback()
    note = Notification.objects.filter(recipient=owner).latest("pk")
    assert "upheld" in note.subject and reason in note.body
    assert [m.subject for m in mailoutbox if owner.email in m.to] == [note.subject]


def test_an_objection_is_resolved_once(notice, province_approver):
    objection = file_objection(notice, notice.entries.first())
    publication.objection_resolve(objection=objection, upheld=False, reply="不属实。", by=province_approver)
    before = snapshot()
    for upheld in (False, True):
        with pytest.raises(WorkflowRefused) as info:
            publication.objection_resolve(
                objection=objection, upheld=upheld, reply="再次", by=province_approver
            )
        assert info.value.code == "resolved"
    assert snapshot() == before


def test_a_county_official_cannot_resolve_an_objection(notice, nanming_official, xz_admin):
    objection = file_objection(notice, notice.entries.first())
    before = snapshot()
    for person in (nanming_official, xz_admin):
        with pytest.raises(WorkflowRefused) as info:
            publication.objection_resolve(objection=objection, upheld=True, reply="属实", by=person)
        assert info.value.status_code == 404
    assert snapshot() == before


# --- publication ---------------------------------------------------------------------------------


def test_publication_waits_for_the_end_of_the_period(notice, province_approver):
    before = snapshot()
    with pytest.raises(WorkflowRefused) as info:
        publication.notice_publish(notice=notice, by=province_approver, at=moment(END, 18))
    assert info.value.code == "not_yet"
    assert "2026-10-09" in info.value.message
    assert snapshot() == before


def test_publication_waits_for_every_objection_to_be_resolved(notice, province_approver):
    file_objection(notice, notice.entries.first())
    before = snapshot()
    with pytest.raises(WorkflowRefused) as info:
        publication.notice_publish(notice=notice, by=province_approver, at=AFTER)
    assert info.value.code == "not_yet"
    assert "1 objections are still open" in info.value.message
    assert snapshot() == before


def test_only_the_publishers_publish(notice, nanming_official, xz_admin):
    before = snapshot()
    for person in (nanming_official, xz_admin):
        with pytest.raises(WorkflowRefused) as info:
            publication.notice_publish(notice=notice, by=person, at=AFTER)
        assert info.value.status_code == 404
    assert snapshot() == before


def test_publication_certifies_each_remaining_entry_in_order(
    notice, province_approver, django_capture_on_commit_callbacks
):
    # given: a dismissed objection
    entries = list(notice.entries.order_by("position"))
    objection = file_objection(notice, entries[0])
    publication.objection_resolve(objection=objection, upheld=False, reply="不属实。", by=province_approver)
    # when
    with django_capture_on_commit_callbacks() as callbacks:
        published = publication.notice_publish(notice=notice, by=province_approver, at=AFTER)
    # then
    issued = date(2026, 10, 12)
    certifications = list(Certification.objects.order_by("number"))
    assert [c.number for c in certifications] == ["GZ-ZJTX-2026-0001", "GZ-ZJTX-2026-0002"]
    assert [c.application_id for c in certifications] == [e.application_id for e in entries]
    for c in certifications:
        assert (c.issued_on, c.valid_until, c.status) == (
            issued,
            issued + relativedelta(years=3),
            Certification.Status.ACTIVE,
        )
        assert c.published_list == published and c.program == notice.round.program
        application = Application.objects.get(pk=c.application_id)
        assert application.state == S.PUBLISHED
        assert application.events.latest("id").opinion == c.number
    assert (published.version, published.replaces) == (1, None)
    assert [r["number"] for r in published.rows] == ["GZ-ZJTX-2026-0001", "GZ-ZJTX-2026-0002"]
    assert published.rows[0]["valid_until"] == "2029-10-12"
    assert "contact" not in str(published.rows)
    notice.refresh_from_db()
    assert notice.status == Notice.Status.PUBLISHED
    assert AuditEvent.objects.filter(action="notice.published", object_id=str(published.pk)).exists()
    assert len(callbacks) >= 1  # the PDFs are rendered after the commit


def test_an_upheld_entry_is_not_certified(notice, province_approver):
    first, second = notice.entries.order_by("position")
    objection = file_objection(notice, first)
    publication.objection_resolve(objection=objection, upheld=True, reply="反映属实。", by=province_approver)
    published = publication.notice_publish(notice=notice, by=province_approver, at=AFTER)
    assert [c.application_id for c in Certification.objects.all()] == [second.application_id]
    assert [r["enterprise"] for r in published.rows] == [second.enterprise_name]
    assert published.rows[0]["number"] == "GZ-ZJTX-2026-0001"
    assert state_of(first.application) == S.REJECTED


def test_a_notice_is_published_once(notice, province_approver):
    publication.notice_publish(notice=notice, by=province_approver, at=AFTER)
    before = snapshot()
    with pytest.raises(WorkflowRefused) as info:
        publication.notice_publish(notice=notice, by=province_approver, at=AFTER + timedelta(days=1))
    assert info.value.code == "published"
    assert snapshot() == before


def test_an_objection_cannot_be_resolved_after_publication(notice, province_approver):
    objection = file_objection(notice, notice.entries.first())
    publication.objection_resolve(objection=objection, upheld=False, reply="不属实。", by=province_approver)
    publication.notice_publish(notice=notice, by=province_approver, at=AFTER)
    with pytest.raises(WorkflowRefused):
        publication.objection_resolve(objection=objection, upheld=True, reply="再议", by=province_approver)


def test_numbering_continues_across_two_notices_of_the_programme(two, province_approver):
    # given: each application on its own notice
    first = make_notice(two[:1], province_approver, title="第一批公示")
    second = make_notice(two[1:], province_approver, title="第二批公示")
    # when
    publication.notice_publish(notice=first, by=province_approver, at=AFTER)
    publication.notice_publish(notice=second, by=province_approver, at=AFTER + timedelta(days=2))
    # then
    assert list(Certification.objects.order_by("issued_on").values_list("number", flat=True)) == [
        "GZ-ZJTX-2026-0001",
        "GZ-ZJTX-2026-0002",
    ]


def test_a_new_year_starts_the_numbering_again(two, province_approver):
    first = make_notice(two[:1], province_approver, title="第一批公示")
    second = make_notice(two[1:], province_approver, title="第二批公示")
    publication.notice_publish(notice=first, by=province_approver, at=AFTER)
    publication.notice_publish(notice=second, by=province_approver, at=moment(date(2027, 1, 5)))
    assert set(Certification.objects.values_list("number", flat=True)) == {
        "GZ-ZJTX-2026-0001",
        "GZ-ZJTX-2027-0001",
    }


def test_two_programmes_of_the_same_tier_never_share_a_number(notice, gz, acme, province_approver):
    # given: the first notice published as GZ-ZJTX-2026-0001 and -0002; a second 专精特新 programme
    publication.notice_publish(notice=notice, by=province_approver, at=AFTER)
    program, version = make_program(gz, code="srdi_national")
    assert program.tier == notice.round.program.tier
    # when
    number = publication._next_number(gz, program, 2026)
    # then
    assert number == "GZ-ZJTX-2026-0003"


# --- the published list --------------------------------------------------------------------------


@pytest.fixture
def published(notice, province_approver):
    return publication.notice_publish(notice=notice, by=province_approver, at=AFTER)


@pytest.mark.parametrize("change", ["rows", "title"])
def test_a_published_list_is_never_edited(published, change):
    stored = PublishedList.objects.get(pk=published.pk)
    if change == "rows":
        stored.rows = stored.rows[:1]
    else:
        stored.title = "改过的标题"
    with pytest.raises(PublishedListIsImmutable):
        stored.save()
    fresh = PublishedList.objects.get(pk=published.pk)
    assert (fresh.rows, fresh.title) == (published.rows, published.title)


def test_a_published_list_is_never_deleted(published):
    with pytest.raises(PublishedListIsImmutable):
        PublishedList.objects.get(pk=published.pk).delete()
    assert PublishedList.objects.filter(pk=published.pk).exists()


def test_the_pdf_hash_is_filled_once(published):
    published.pdf_sha256 = "a" * 64
    published.save()
    published.pdf_sha256 = "b" * 64
    with pytest.raises(PublishedListIsImmutable):
        published.save()
    assert PublishedList.objects.get(pk=published.pk).pdf_sha256 == "a" * 64


def test_a_correction_is_a_new_version_linked_to_the_old_one(published, province_approver, nanming_official):
    # given
    rows = [dict(r) for r in published.rows]
    rows[0]["enterprise"] = rows[0]["enterprise"] + "（更正）"
    # when: a county official may not; the publisher may
    with pytest.raises(WorkflowRefused):
        publication.published_list_correct(
            published=published, rows=rows, note="名称更正", by=nanming_official
        )
    with pytest.raises(ValidationError) as info:
        publication.published_list_correct(published=published, rows=rows, note=" ", by=province_approver)
    assert "correction_note" in info.value.message_dict
    correction = publication.published_list_correct(
        published=published, rows=rows, note="企业名称更正", by=province_approver
    )
    # then
    assert (correction.version, correction.replaces, correction.rows) == (2, published, rows)
    original = PublishedList.objects.get(pk=published.pk)
    assert original.rows == published.rows and original.replaced_by == correction
    assert AuditEvent.objects.filter(action="published_list.corrected").count() == 1
    # only the newest version is corrected again
    with pytest.raises(WorkflowRefused) as refused:
        publication.published_list_correct(published=original, rows=rows, note="再改", by=province_approver)
    assert refused.value.code == "superseded"
    assert PublishedList.objects.count() == 2


# --- after publication -------------------------------------------------------------------------


def test_a_certified_enterprise_cannot_apply_again_to_the_programme(published, wf_program, acme, owner):
    # given: a later round of the same programme
    program, version = wf_program
    later = make_round(program, version, name="2027年第一批")
    # when / then
    with pytest.raises(WorkflowRefused) as info:
        workflow.application_start(round_=later, enterprise=acme, by=owner)
    assert info.value.code == "duplicate"
    assert "certification" in info.value.message
    assert not Application.objects.filter(round=later).exists()
    assert publication.holds_active_certification(acme, program)


def test_an_expired_certification_does_not_block_a_new_application(published, wf_program, acme, owner):
    program, version = wf_program
    Certification.objects.filter(enterprise=acme).update(status=Certification.Status.EXPIRED)
    later = make_round(program, version, name="2027年第一批")
    assert workflow.application_start(round_=later, enterprise=acme, by=owner).state == S.DRAFT


def test_the_lookup_normalises_case_and_spaces_and_stays_in_its_tenant(published, gz, xz):
    certification = Certification.objects.get(number="GZ-ZJTX-2026-0001")
    for typed in ("GZ-ZJTX-2026-0001", " gz-zjtx-2026-0001 ", "GZ-ZJTX- 2026 -0001"):
        assert publication.certification_lookup(gz, typed) == certification
    assert publication.certification_lookup(xz, "GZ-ZJTX-2026-0001") is None
    assert publication.certification_lookup(gz, "GZ-ZJTX-2026-0099") is None
    assert publication.certification_lookup(gz, "  ") is None


def test_the_application_workflow_cannot_move_an_application_in_notice(notice, chain):
    # The publication actions belong to this module: application_act refuses them to anyone.
    application = notice.entries.first().application
    for action in (Action.PUBLISH, Action.OBJECTION_UPHELD, Action.APPROVE, Action.REJECT):
        for person in (chain.province_approver, chain.province_reviewer, chain.owner):
            with pytest.raises(WorkflowRefused):
                workflow.application_act(application=application, action=action, by=person, opinion="越权")
    assert state_of(application) == S.IN_NOTICE


def test_the_audit_log_has_the_whole_story(notice, province_approver):
    first, second = notice.entries.order_by("position")
    dismissed = file_objection(notice, first)
    upheld = file_objection(notice, second)
    publication.objection_resolve(objection=dismissed, upheld=False, reply="不属实。", by=province_approver)
    publication.objection_resolve(objection=upheld, upheld=True, reply="属实。", by=province_approver)
    publication.notice_publish(notice=notice, by=province_approver, at=AFTER)
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {
        "notice.created",
        "objection.filed",
        "objection.dismissed",
        "objection.upheld",
        "notice.published",
    } <= actions


# --- two publications at once (PostgreSQL) -----------------------------------------------------


def publish_together(notice_pks: list[int], publisher_pk: int) -> list[str]:
    """Publish the notices in threads released together; each outcome is "ok" or the error."""
    barrier = threading.Barrier(len(notice_pks))
    outcomes = [""] * len(notice_pks)

    def run(index: int, notice_pk: int) -> None:
        try:
            barrier.wait(timeout=10)
            publication.notice_publish(
                notice=Notice.objects.get(pk=notice_pk), by=User.objects.get(pk=publisher_pk), at=AFTER
            )
            outcomes[index] = "ok"
        except Exception as exc:  # noqa: BLE001 - reported in the assertion
            outcomes[index] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, pk)) for i, pk in enumerate(notice_pks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung: a deadlock?"
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_two_publications_at_once_never_share_a_number(gz, acme, owner, rival, chain, media, monkeypatch):
    require_postgres()
    # The certificates' PDFs are not what this test is about.
    monkeypatch.setattr(publication, "_after_publication", lambda *args: None)
    rival_owner = rival.memberships.get().user
    publisher = official(gz, "520000", "provincial_approver", username="gz_publisher")
    for attempt in range(3):
        # given: a programme of its own per attempt (a certified enterprise does not apply again)
        program, version = make_program(gz, code=f"race_{attempt}")
        program.min_expert_reviews = 2
        program.save()
        round_ = make_round(program, version, name=f"第{attempt + 1}批")
        applications = [
            approved(round_, acme, owner, chain),
            approved(round_, rival, rival_owner, chain),
        ]
        notices = [make_notice([a], publisher, title=f"公示{i}") for i, a in enumerate(applications)]
        # when: both are published at the same moment
        outcomes = publish_together([n.pk for n in notices], publisher.pk)
        # then: both published, each with its own number
        assert outcomes == ["ok", "ok"], outcomes
        assert len(set(Certification.objects.filter(program=program).values_list("number", flat=True))) == 2
    # The programmes share the 专精特新 tier, so they share one sequence: no number lost or repeated.
    numbers = sorted(Certification.objects.values_list("number", flat=True))
    assert numbers == [f"GZ-ZJTX-2026-{n:04d}" for n in range(1, 7)]


def test_the_applicant_sees_the_notice_and_the_certification_in_its_timeline(
    ready, chain, province_approver, client
):
    # given: an application listed in a notice and published
    application = drive(ready, "approved", chain)
    notice = publication.notice_create(
        round_=application.round,
        application_ids=[application.pk],
        title="公示",
        body="现予公示。",
        how_to_object="实名反映。",
        starts_on=date(2026, 9, 28),
        working_days=5,
        by=province_approver,
    )
    publication.notice_publish(
        notice=notice, by=province_approver, at=timezone.make_aware(datetime(2026, 10, 20, 10, 0))
    )
    # when: the enterprise opens its application
    client.force_login(chain.owner)
    client.cookies["django_language"] = "en"
    html = client.get(f"/gz/applications/{application.pk}/").content.decode()
    # then: both steps are there, named after the province that took them
    assert "listed in the public notice" in html and "certified" in html
    assert application.events.filter(action="publish", region__code="520000", level="province").exists()
