"""Dynamic management (certification.lifecycle): reminders, re-verification, renewal, expiry, revocation
and the daily job, service by service.

The certifications here come from publication through the real services (`drive` to "published"): issued
on 2026-10-12, valid until 2029-10-12. Dates the services read from the clock are moved with freezegun.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.utils import translation
from freezegun import freeze_time

from certification import lifecycle, publication, workflow
from certification.lifecycle import RECOMMEND, RENEW, RETURN, WITHDRAW
from certification.models import (
    ApplyBar,
    Certification,
    CertificationReminder,
    DailyRun,
    LifecycleEvent,
    LifecycleSettings,
    Reverification,
    Revocation,
)
from certification.views_directory import directory_enterprises
from certification.workflow import WorkflowRefused
from enterprises.models import AnnualFigures
from enterprises.permissions import enterprises_visible_to
from portal.models import AuditEvent, Notification
from tests.certification.workflow_fixtures import (
    add_document,
    chain_fixture,  # noqa: F401 - the `chain` fixture
    drive,
    fill,
    make_round,
    rival_fixture,  # noqa: F401 - the `rival` fixture
)
from tests.conftest import official, require_postgres

CS = Certification.Status
RS = Reverification.State
ISSUED = date(2026, 10, 12)
EXPIRES = date(2029, 10, 12)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def english():
    """The refusals are read in English here (the portal's default language is zh-hans)."""
    with translation.override("en"):
        yield


def published(round_, enterprise, by, chain) -> Certification:
    application = fill(workflow.application_start(round_=round_, enterprise=enterprise, by=by), by)
    drive(application, "published", dataclasses.replace(chain, owner=by))
    return Certification.objects.get(application=application)


@pytest.fixture
def certification(wf_round, acme, owner, chain, media) -> Certification:
    return published(wf_round, acme, owner, chain)


def reminders_of(certification) -> list[tuple[date, int]]:
    return list(
        CertificationReminder.objects.filter(certification=certification)
        .order_by("sent_on")
        .values_list("sent_on", "offset_days")
    )


def days(start: date, stop: date):
    day = start
    while day <= stop:
        yield day
        day += timedelta(days=1)


def file_reverification(certification, by, *, on: date) -> Reverification:
    """The enterprise files a re-verification on `on`: its figures of the last year, a statement, a document."""
    enterprise = certification.enterprise
    AnnualFigures.objects.update_or_create(
        enterprise=enterprise,
        fiscal_year=on.year - 1,
        defaults={
            "revenue": Decimal("6000"),
            "main_business_revenue": Decimal("5800"),
            "rd_expense": Decimal("420"),
            "net_profit": Decimal("500"),
            "total_assets": Decimal("9000"),
            "total_liabilities": Decimal("3500"),
            "employees": 130,
            "rd_staff": 24,
        },
    )
    with freeze_time(datetime(on.year, on.month, on.day, 10, tzinfo=SHANGHAI)):
        reverification = lifecycle.reverification_start(certification=certification, by=by)
        lifecycle.reverification_save(
            reverification=reverification,
            by=by,
            statement="企业主营业务保持稳定，研发投入持续增长，仍符合认定条件。",
        )
        document = add_document(enterprise, "audit_report", name=f"audit-{on.year}.pdf")
        lifecycle.reverification_attach(
            reverification=reverification, document=document, by=by, label="审计报告"
        )
        return lifecycle.reverification_submit(reverification=reverification, by=by)


def act_on(reverification, action, by, *, on: date, reason: str = ""):
    with freeze_time(datetime(on.year, on.month, on.day, 15, tzinfo=SHANGHAI)):
        return lifecycle.reverification_act(
            reverification=reverification, by=by, action=action, reason=reason
        )


# --- the daily job over three years --------------------------------------------------------------


def test_three_years_of_daily_runs_move_certifications_through_reminders_renewal_and_expiry(
    wf_round, acme, owner, rival, chain, media
):
    # given: two enterprises certified on 2026-10-12, valid until 2029-10-12
    renewed = published(wf_round, acme, owner, chain)
    lapsed = published(wf_round, rival, rival.memberships.get().user, chain)
    assert (renewed.valid_until, lapsed.valid_until) == (EXPIRES, EXPIRES)

    # when: the daily job runs every day for three years; acme files its re-verification on 2029-08-01,
    # the county recommends it on 2029-08-10 and the province renews it on 2029-08-20
    steps = {
        date(2029, 8, 1): lambda: file_reverification(renewed, owner, on=date(2029, 8, 1)),
        date(2029, 8, 10): lambda: act_on(filed[0], RECOMMEND, chain.county, on=date(2029, 8, 10)),
        date(2029, 8, 20): lambda: act_on(filed[0], RENEW, chain.province_approver, on=date(2029, 8, 20)),
    }
    filed: list[Reverification] = []
    for day in days(ISSUED, date(2029, 10, 20)):
        if day in steps:
            result = steps[day]()
            if isinstance(result, Reverification) and not filed:
                filed.append(result)
        call_command("run_daily", date=day.isoformat())

    # then: acme was reminded 90 days before, filed, and is valid three more years from the old expiry
    renewed.refresh_from_db()
    assert reminders_of(renewed) == [(date(2029, 7, 14), 90)]
    assert (renewed.status, renewed.valid_until) == (CS.ACTIVE, date(2032, 10, 12))
    assert Reverification.objects.get(pk=filed[0].pk).state == RS.RENEWED
    # the rival was reminded at 90, 30 and 7 days, never filed, and expired the day after its last day
    lapsed.refresh_from_db()
    assert reminders_of(lapsed) == [(date(2029, 7, 14), 90), (date(2029, 9, 12), 30), (date(2029, 10, 5), 7)]
    assert lapsed.status == CS.EXPIRED
    assert LifecycleEvent.objects.filter(certification=lapsed, kind=LifecycleEvent.Kind.EXPIRED).count() == 1
    assert DailyRun.objects.get(day=date(2029, 10, 13)).stats["expired"] == 1
    assert DailyRun.objects.get(day=date(2029, 10, 12)).stats["expired"] == 0  # its last valid day
    assert DailyRun.objects.count() == (date(2029, 10, 20) - ISSUED).days + 1
    kinds = list(
        LifecycleEvent.objects.filter(certification=renewed).values_list("kind", flat=True).order_by("id")
    )
    assert kinds == ["reminder", "filed", "recommended", "renewed"]

    # and: a second run of a day already run changes nothing, even forced
    before = (
        CertificationReminder.objects.count(),
        LifecycleEvent.objects.count(),
        Notification.objects.count(),
        list(Certification.objects.order_by("pk").values_list("status", "valid_until")),
    )
    call_command("run_daily", date="2029-10-13")
    call_command("run_daily", date="2029-10-13", force=True)
    after = (
        CertificationReminder.objects.count(),
        LifecycleEvent.objects.count(),
        Notification.objects.count(),
        list(Certification.objects.order_by("pk").values_list("status", "valid_until")),
    )
    assert after == before


def test_a_second_run_on_the_same_day_does_nothing(certification):
    first = lifecycle.run_daily(day=date(2029, 7, 14))
    assert first.stats["reminders"] == 1 and first.finished_at is not None
    assert lifecycle.run_daily(day=date(2029, 7, 14)) is None
    forced = lifecycle.run_daily(day=date(2029, 7, 14), force=True)
    assert forced.stats["reminders"] == 0
    assert reminders_of(certification) == [(date(2029, 7, 14), 90)]


def test_an_unfinished_run_is_taken_over_only_once_stale(certification):
    from django.utils import timezone

    DailyRun.objects.create(day=date(2029, 7, 14), runner="dead:1", started_at=timezone.now())
    assert lifecycle.run_daily(day=date(2029, 7, 14)) is None  # still running elsewhere
    DailyRun.objects.filter(day=date(2029, 7, 14)).update(started_at=timezone.now() - timedelta(hours=3))
    run = lifecycle.run_daily(day=date(2029, 7, 14))
    assert run is not None and run.stats["reminders"] == 1 and run.runner != "dead:1"


def test_the_day_is_the_day_in_shanghai(certification):
    # 16:30 UTC on 13 July is 00:30 on 14 July in Asia/Shanghai: the 90-day reminder is due
    with freeze_time("2029-07-13T16:30:00Z"):
        run = lifecycle.run_daily()
    assert run.day == date(2029, 7, 14)
    assert reminders_of(certification) == [(date(2029, 7, 14), 90)]


@pytest.mark.django_db(transaction=True)
def test_two_beat_processes_do_not_double_the_daily_run(wf_round, acme, owner, chain, media):
    require_postgres()
    certification = published(wf_round, acme, owner, chain)
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]

    def beat(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[index] = lifecycle.run_daily(day=date(2029, 7, 14))
        finally:
            connection.close()

    threads = [threading.Thread(target=beat, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(o is None for o in outcomes) == [False, True]
    assert DailyRun.objects.filter(day=date(2029, 7, 14)).count() == 1
    assert reminders_of(certification) == [(date(2029, 7, 14), 90)]


# --- reminders -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("valid_until", "expected"),
    [
        # 31 March: the 30-day reminder falls on 1 March after a 28-day February
        (date(2029, 3, 31), [(date(2028, 12, 31), 90), (date(2029, 3, 1), 30), (date(2029, 3, 24), 7)]),
        # a leap year: 29 February 2028 counts
        (date(2028, 3, 31), [(date(2028, 1, 1), 90), (date(2028, 3, 1), 30), (date(2028, 3, 24), 7)]),
        # across the new year
        (date(2029, 1, 5), [(date(2028, 10, 7), 90), (date(2028, 12, 6), 30), (date(2028, 12, 29), 7)]),
    ],
)
def test_reminders_fall_on_the_offsets_across_month_ends(certification, valid_until, expected):
    Certification.objects.filter(pk=certification.pk).update(valid_until=valid_until)
    for day in days(valid_until - timedelta(days=120), valid_until):
        lifecycle.reminders_send(day=day)
    assert reminders_of(certification) == expected


def test_a_missed_day_is_caught_up_with_one_reminder_not_several(certification):
    # the job did not run for months: on the first run 20 days before expiry only the 30-day one is sent
    assert lifecycle.reminders_send(day=EXPIRES - timedelta(days=20)) == 1
    assert reminders_of(certification) == [(EXPIRES - timedelta(days=20), 30)]


def test_reminders_follow_the_tenant_setting_and_reach_the_members(
    certification, gz, owner, colleague, django_capture_on_commit_callbacks
):
    LifecycleSettings.objects.create(tenant=gz, reminder_offsets=[60, 14, 14, 1])
    # the application's own notifications are in the inbox already (written with each change)
    since = Notification.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    with django_capture_on_commit_callbacks(execute=True):
        for day in days(EXPIRES - timedelta(days=70), EXPIRES):
            lifecycle.reminders_send(day=day)
    assert [o for _d, o in reminders_of(certification)] == [60, 14, 1]
    reminders = Notification.objects.filter(pk__gt=since)
    subjects = reminders.filter(recipient=owner).values_list("subject", flat=True)
    assert any(certification.number in s for s in subjects)
    assert reminders.filter(recipient=colleague).count() == 3


def test_a_filed_reverification_stops_reminders_and_keeps_the_certification_in_force(certification, owner):
    reverification = file_reverification(certification, owner, on=date(2029, 9, 1))
    assert lifecycle.reminders_send(day=date(2029, 9, 12)) == 0
    # the province has not decided by the expiry date: still in force (domain.md §1.5)
    lifecycle.certifications_expire(day=date(2029, 10, 20))
    certification.refresh_from_db()
    assert certification.status == CS.ACTIVE
    assert reverification.state == RS.SUBMITTED


def test_an_unfiled_draft_does_not_keep_it_alive(certification, owner):
    with freeze_time(datetime(2029, 9, 1, 10, tzinfo=SHANGHAI)):
        draft = lifecycle.reverification_start(certification=certification, by=owner)
    assert lifecycle.certifications_expire(day=date(2029, 10, 13)) == 1
    certification.refresh_from_db()
    draft.refresh_from_db()
    assert (certification.status, draft.state) == (CS.EXPIRED, RS.WITHDRAWN)
    assert lifecycle.certifications_expire(day=date(2029, 10, 14)) == 0  # nothing twice


# --- re-verification -----------------------------------------------------------------------------


def test_filing_opens_six_months_before_expiry_and_closes_at_expiry(certification, owner):
    assert "opens on 2029-04-15" in lifecycle.reverification_refusal(certification, day=date(2029, 4, 14))
    assert lifecycle.reverification_refusal(certification, day=date(2029, 4, 15)) is None
    assert lifecycle.reverification_refusal(certification, day=EXPIRES) is None
    assert "expired" in lifecycle.reverification_refusal(certification, day=EXPIRES + timedelta(days=1))
    with freeze_time(datetime(2029, 1, 1, 10, tzinfo=SHANGHAI)), pytest.raises(WorkflowRefused):
        lifecycle.reverification_start(certification=certification, by=owner)
    assert not Reverification.objects.exists()


def test_only_members_file_and_only_one_at_a_time(certification, owner, nanming_official):
    with freeze_time(datetime(2029, 8, 1, 10, tzinfo=SHANGHAI)):
        with pytest.raises(WorkflowRefused) as info:
            lifecycle.reverification_start(certification=certification, by=nanming_official)
        assert info.value.status_code == 403
        lifecycle.reverification_start(certification=certification, by=owner)
        with pytest.raises(WorkflowRefused):
            lifecycle.reverification_start(certification=certification, by=owner)
    assert Reverification.objects.count() == 1


def test_submission_names_every_missing_field(certification, owner):
    with freeze_time(datetime(2029, 8, 1, 10, tzinfo=SHANGHAI)):
        draft = lifecycle.reverification_start(certification=certification, by=owner)
        with pytest.raises(WorkflowRefused) as info:
            lifecycle.reverification_submit(reverification=draft, by=owner)
    assert set(info.value.fields) == {"statement", "attachments", "figures"}
    assert Reverification.objects.get(pk=draft.pk).state == RS.DRAFT


def test_submission_screens_under_the_version_chosen_for_reverification(certification, owner, chain):
    program = certification.program
    program.reverification_version = program.versions.order_by("effective_from").first()
    program.save(update_fields=["reverification_version"])
    reverification = file_reverification(certification, owner, on=date(2029, 8, 1))
    assert reverification.version == program.reverification_version
    assert reverification.verdict and reverification.screening["verdict"] == reverification.verdict
    assert reverification.facts  # the facts as submitted, frozen
    # the tenant's chain: county then province (the prefecture skipped), waiting at 南明区
    assert reverification.levels == ["county", "province"]
    assert (reverification.level, reverification.current_region.code) == ("county", "520102")


def test_the_chain_follows_the_tenant_setting(certification, owner, gz):
    LifecycleSettings.objects.create(tenant=gz, reverify_levels=["prefecture"])
    reverification = file_reverification(certification, owner, on=date(2029, 8, 1))
    assert reverification.levels == ["prefecture", "province"]
    assert reverification.current_region.code == "520100"


def test_return_needs_a_reason_and_resubmission_starts_again_at_the_first_level(certification, owner, chain):
    reverification = file_reverification(certification, owner, on=date(2029, 8, 1))
    with pytest.raises(WorkflowRefused) as info:
        act_on(reverification, RETURN, chain.county, on=date(2029, 8, 2))
    assert "reason" in info.value.fields
    act_on(reverification, RETURN, chain.county, on=date(2029, 8, 2), reason="请补充最新审计报告")
    assert Reverification.objects.get(pk=reverification.pk).state == RS.RETURNED
    with freeze_time(datetime(2029, 8, 5, 10, tzinfo=SHANGHAI)):
        resubmitted = lifecycle.reverification_submit(reverification=reverification, by=owner)
    assert (resubmitted.state, resubmitted.level) == (RS.SUBMITTED, "county")


def test_officials_act_only_where_it_waits(certification, owner, chain, gz):
    reverification = file_reverification(certification, owner, on=date(2029, 8, 1))
    yunyan = official(gz, "520103", "county_reviewer", username="yunyan_rv")
    for intruder, action in [(yunyan, RECOMMEND), (chain.province_approver, RENEW), (owner, RECOMMEND)]:
        with pytest.raises(WorkflowRefused):
            act_on(reverification, action, intruder, on=date(2029, 8, 2))
    assert Reverification.objects.get(pk=reverification.pk).level == "county"
    act_on(reverification, RECOMMEND, chain.county, on=date(2029, 8, 2))
    # at the province the reviewer may return, only the approver decides
    fresh = Reverification.objects.get(pk=reverification.pk)
    assert lifecycle.reverification_actions(fresh, chain.province_reviewer) == [RETURN]
    assert set(lifecycle.reverification_actions(fresh, chain.province_approver)) == {RETURN, RENEW, "reject"}


@pytest.mark.parametrize(
    ("valid_until", "renewed_until"),
    [(date(2029, 10, 12), date(2032, 10, 12)), (date(2028, 2, 29), date(2031, 2, 28))],
)
def test_renewal_runs_three_years_from_the_old_expiry_not_from_the_decision(
    certification, owner, chain, valid_until, renewed_until
):
    Certification.objects.filter(pk=certification.pk).update(valid_until=valid_until)
    certification.refresh_from_db()
    filed_on = valid_until - timedelta(days=60)
    reverification = file_reverification(certification, owner, on=filed_on)
    act_on(reverification, RECOMMEND, chain.county, on=filed_on + timedelta(days=5))
    # decided after the old expiry: still three years from the old expiry date
    act_on(reverification, RENEW, chain.province_approver, on=valid_until + timedelta(days=10))
    certification.refresh_from_db()
    assert (certification.status, certification.valid_until) == (CS.ACTIVE, renewed_until)
    event = LifecycleEvent.objects.get(certification=certification, kind="renewed")
    assert event.data["old_valid_until"] == valid_until.isoformat()
    # the next cycle's reminders key on the new expiry
    lifecycle.reminders_send(day=renewed_until - timedelta(days=90))
    assert CertificationReminder.objects.filter(
        certification=certification, valid_until=renewed_until
    ).exists()


def test_a_rejected_reverification_revokes_the_certification(certification, owner, chain):
    reverification = file_reverification(certification, owner, on=date(2029, 8, 1))
    act_on(reverification, RECOMMEND, chain.county, on=date(2029, 8, 2))
    act_on(
        reverification,
        "reject",
        chain.province_approver,
        on=date(2029, 8, 9),
        reason="研发投入比例低于认定条件",
    )
    certification.refresh_from_db()
    assert certification.status == CS.REVOKED
    assert certification.revocation.ground == Revocation.Ground.REVERIFICATION_FAILED
    assert Reverification.objects.get(pk=reverification.pk).state == RS.REJECTED


def test_the_enterprise_withdraws_its_reverification(certification, owner):
    reverification = file_reverification(certification, owner, on=date(2029, 8, 1))
    act_on(reverification, WITHDRAW, owner, on=date(2029, 8, 3))
    assert Reverification.objects.get(pk=reverification.pk).state == RS.WITHDRAWN
    # and may file again while the window is open
    assert lifecycle.reverification_refusal(certification, day=date(2029, 8, 4)) is None


# --- revocation ----------------------------------------------------------------------------------


def test_revocation_takes_effect_at_once_everywhere(
    certification, owner, chain, gz, wf_program, django_capture_on_commit_callbacks
):
    hooked: list[Revocation] = []
    hook = hooked.append
    lifecycle.REVOCATION_HOOKS.append(hook)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            revocation = lifecycle.certification_revoke(
                certification=certification,
                by=chain.province_approver,
                ground=Revocation.Ground.FALSE_INFORMATION,
                reason="经查，企业申报材料中研发费用数据存在虚假。",
            )
    finally:
        lifecycle.REVOCATION_HOOKS.remove(hook)
    certification.refresh_from_db()
    # the verification page reads the status: revoked at once
    assert publication.certification_lookup(gz, certification.number).status == CS.REVOKED
    # the directory no longer lists the enterprise
    assert not directory_enterprises(tenant=gz).filter(pk=certification.enterprise_id).exists()
    # the enterprise is barred for the tenant's three years
    assert revocation.barred_until == revocation.revoked_on.replace(year=revocation.revoked_on.year + 3)
    assert ApplyBar.objects.get(enterprise=certification.enterprise).until == revocation.barred_until
    program, version = wf_program
    later_round = make_round(program, version, name="2027年第一批")
    with pytest.raises(WorkflowRefused) as info:
        workflow.application_start(round_=later_round, enterprise=certification.enterprise, by=owner)
    assert revocation.barred_until.isoformat() in info.value.message
    # the funding hook saw it, in the same transaction
    assert hooked == [revocation]
    assert AuditEvent.objects.filter(action="certification.revoked", object_id=str(certification.pk)).exists()
    assert Notification.objects.filter(recipient=owner, subject__contains=certification.number).exists()


def test_only_provincial_staff_revoke_and_the_fields_are_named(certification, chain):
    with pytest.raises(WorkflowRefused) as info:
        lifecycle.certification_revoke(
            certification=certification,
            by=chain.county,
            ground="tax_evasion",
            reason="偷漏税经税务机关查实。",
        )
    assert info.value.status_code == 403
    with pytest.raises(ValidationError) as errors:
        lifecycle.certification_revoke(
            certification=certification, by=chain.province_approver, ground="", reason=""
        )
    assert set(errors.value.message_dict) == {"ground", "reason"}
    certification.refresh_from_db()
    assert certification.status == CS.ACTIVE and not Revocation.objects.exists()


def test_revocation_ends_an_open_reverification_and_cannot_repeat(certification, owner, chain):
    reverification = file_reverification(certification, owner, on=date(2029, 8, 1))
    lifecycle.certification_revoke(
        certification=certification,
        by=chain.province_approver,
        ground="safety_accident",
        reason="发生重大安全生产事故。",
    )
    assert Reverification.objects.get(pk=reverification.pk).state == RS.WITHDRAWN
    with pytest.raises(WorkflowRefused):
        lifecycle.certification_revoke(
            certification=certification,
            by=chain.province_approver,
            ground="other",
            reason="再次撤销同一证书的尝试，应被拒绝。",
        )
    assert Revocation.objects.count() == 1


def test_the_bar_follows_the_tenant_setting_and_ends(certification, chain, gz, owner, wf_program):
    LifecycleSettings.objects.create(tenant=gz, reapply_bar_years=5)
    revocation = lifecycle.certification_revoke(
        certification=certification,
        by=chain.province_approver,
        ground="dishonesty",
        reason="列入严重失信主体名单。",
    )
    assert revocation.barred_until.year == revocation.revoked_on.year + 5
    program, _version = wf_program
    with freeze_time(datetime(revocation.barred_until.year, 12, 31, 10, tzinfo=SHANGHAI)):
        assert lifecycle.apply_bar_reason(certification.enterprise, program) is None


def test_the_daily_job_is_on_the_beat_schedule_once_and_its_task_exists():
    from portal.celery import app

    entries = [
        e for e in app.conf.beat_schedule.values() if e["task"] == "certification.tasks_lifecycle.run_daily"
    ]
    assert len(entries) == 1
    app.loader.import_default_modules()
    assert "certification.tasks_lifecycle.run_daily" in app.tasks


def test_the_celery_task_runs_the_day_once(certification):
    from certification.tasks_lifecycle import run_daily

    assert run_daily.apply(args=["2029-07-14"]).get()["reminders"] == 1
    assert run_daily.apply(args=["2029-07-14"]).get() is None


def test_an_enterprise_left_without_a_certification_leaves_its_commissioners_list(certification, chain, gz):
    from certification import commissioners
    from certification.models import CommissionerAssignment

    commissioner = official(gz, "520102", "service_commissioner", username="nanming_commissioner")
    commissioners.commissioner_assign(
        enterprise=certification.enterprise, commissioner=commissioner, by=chain.county, reason=""
    )
    assert commissioner.has_perm("enterprises.serve_enterprise", certification.enterprise)
    # while serving, the commissioner reads the enterprise like the officials of its region
    assert enterprises_visible_to(commissioner, gz).filter(pk=certification.enterprise_id).exists()
    lifecycle.certification_revoke(
        certification=certification,
        by=chain.province_approver,
        ground="tax_evasion",
        reason="经税务机关查实存在偷漏税行为。",
    )
    assignment = CommissionerAssignment.objects.get(enterprise=certification.enterprise)
    assert assignment.ended_on is not None and certification.number in assignment.end_reason
    fresh = type(commissioner).objects.get(pk=commissioner.pk)  # permission cache
    assert not fresh.has_perm("enterprises.serve_enterprise", certification.enterprise)
    assert not enterprises_visible_to(fresh, gz).filter(pk=certification.enterprise_id).exists()
