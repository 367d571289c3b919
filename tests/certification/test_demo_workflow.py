"""The demo review workflow `make run` shows (certification.demo.seed_rounds), seeded once for the module.

The seed runs inside a transaction that is rolled back after the module; each test runs in a savepoint
of it. Callbacks after commit (notifications, background screening) therefore never run here: what is
checked is what the workflow writes in its own transactions.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from certification import workflow
from certification.demo import ROUNDS
from certification.models import (
    Application,
    ApplicationSnapshot,
    Certification,
    ExpertAssignment,
    ExpertProfile,
    Notice,
    NoticeEntry,
    Objection,
    PublishedList,
    QuotaUse,
    ReviewEvent,
    Round,
    RoundQuota,
)
from certification.transitions import Action, roles_for, transition_for
from enterprises.models import Document, Enterprise
from portal.models import AuditEvent, Post, Region, User
from tests.demo_snapshot import demo_portal

S = Application.State
EVERY_STATE = set(S.values)
SEED_MODELS = (
    Notice,
    NoticeEntry,
    Objection,
    PublishedList,
    Certification,
    Round,
    RoundQuota,
    Application,
    ApplicationSnapshot,
    ReviewEvent,
    QuotaUse,
    ExpertAssignment,
    ExpertProfile,
    Enterprise,
    Document,
    User,
    Post,
    AuditEvent,
)


def _counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in SEED_MODELS}


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    from enterprises.industries import industries_load
    from enterprises.models import Industry

    with django_db_blocker.unblock(), transaction.atomic():
        if not Industry.objects.exists():  # a transactional test before this module flushed them
            industries_load(Industry)
        with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
            demo_portal()  # seeded once per run, restored after (tests/demo_snapshot.py)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return None


def _round(tenant_code: str, program_code: str, *, closed: bool = False) -> Round:
    rounds = Round.objects.filter(tenant__code=tenant_code, program__code=program_code)
    now = timezone.now()
    return (rounds.filter(closes_at__lte=now) if closed else rounds.filter(closes_at__gt=now)).get()


def _quotas(round_: Round) -> dict[str, tuple]:
    return {q.region.name: (q.maximum, q.minimum) for q in round_.quotas.select_related("region")}


def test_guizhou_has_an_open_round_with_twenty_recommendations_expected_of_every_prefecture(demo):
    round_ = _round("gz", "gz_srdi")
    assert round_.opens_at < timezone.now() < round_.closes_at
    assert workflow.chain_levels(round_) == ["county", "prefecture", "province"]
    assert all(s.deadline > round_.closes_at for s in round_.stages.all())
    prefectures = Region.objects.filter(tenant__code="gz", level="prefecture")
    # seed 002 六、（一）: 各市州……每年推荐省级“专精特新”培育企业不少于20户
    assert _quotas(round_) == {p.name: (None, 20) for p in prefectures}
    assert len(prefectures) == 9
    assert all("不少于20户" in q.source and "seed 002" in q.source for q in round_.quotas.all())


def test_guizhou_has_last_years_round_closed_and_decided(demo):
    closed = _round("gz", "gz_srdi", closed=True)
    assert closed.closes_at < closed.stages.get(level="province").deadline < timezone.now()
    states = Counter(closed.applications.values_list("state", flat=True))
    # its approvals went on notices: three certified, one rejected on an upheld objection, two in notice now
    assert (states[S.PUBLISHED], states[S.IN_NOTICE], states[S.APPROVED]) == (3, 2, 0)
    assert states[S.REJECTED] >= 3
    assert not closed.applications.filter(state__in=Application.WAITING_STATES).exists()
    # its decisions were taken after it closed, and its criteria are the version then in force
    assert all(a.decided_at > closed.closes_at for a in closed.applications.filter(decided_at__isnull=False))
    assert closed.version == closed.program.version_on(timezone.localdate(closed.opens_at))
    # an enterprise approved last year holds the programme and does not apply again
    approved = closed.applications.filter(state__in=[S.PUBLISHED, S.IN_NOTICE]).values("enterprise")
    assert not _round("gz", "gz_srdi").applications.filter(enterprise__in=approved).exists()


def test_tibet_allows_each_prefecture_five_recommendations(demo):
    round_ = _round("xz", "xz_srdi")
    prefectures = Region.objects.filter(tenant__code="xz", level="prefecture")
    # seed 000 二、（一）: 从中推荐申报自治区级“专精特新”中小企业5户左右
    assert _quotas(round_) == {p.name: (5, None) for p in prefectures}
    assert all("5户左右" in q.source for q in round_.quotas.all())


def test_lhasa_has_used_its_five_and_cannot_recommend_a_sixth(demo):
    round_ = _round("xz", "xz_srdi")
    lhasa = next(r for r in workflow.quota_status(round_) if r["region"].code == "540100")
    assert (lhasa["used"], lhasa["remaining"]) == (5, 0)
    waiting = round_.applications.filter(current_region=lhasa["region"], state=S.IN_REVIEW).first()
    official = User.objects.get(username="xz_prefecture")
    before = (waiting.state, waiting.level, QuotaUse.objects.count(), waiting.events.count())

    with pytest.raises(workflow.WorkflowRefused) as refused:
        workflow.application_act(application=waiting, action=Action.RECOMMEND, by=official, opinion="同意")

    assert refused.value.code == "quota_reached"
    waiting.refresh_from_db()
    assert (waiting.state, waiting.level, QuotaUse.objects.count(), waiting.events.count()) == before


def test_bortala_library_round_expects_the_county_minimums_of_seed_004(demo):
    round_ = _round("xj", "bortala_library")
    assert round_.program.owner_region.code == "652700"
    assert workflow.chain_levels(round_) == ["county", "prefecture"]
    # seed 004 二、（一）1: 博乐市不少于6家、阿拉山口市不少于4家、精河县不少于3家、温泉县不少于2家
    assert _quotas(round_) == {
        "博乐市": (None, 6),
        "阿拉山口市": (None, 4),
        "精河县": (None, 3),
        "温泉县": (None, 2),
    }
    assert all("博乐市不少于6家" in q.source for q in round_.quotas.all())


@pytest.mark.parametrize("tenant_code", ["gz", "xz", "xj"])
def test_every_state_is_seeded_in_each_tenant(demo, tenant_code):
    states = set(Application.objects.filter(tenant__code=tenant_code).values_list("state", flat=True))
    if tenant_code == "gz":
        assert states == EVERY_STATE
    else:
        # Two approvals in the open round: one goes on a notice, published when its period is over by now.
        assert states - {S.IN_NOTICE, S.PUBLISHED} == EVERY_STATE - {S.IN_NOTICE, S.PUBLISHED}
        assert len(states & {S.IN_NOTICE, S.PUBLISHED}) == 1
    counties = Application.objects.filter(tenant__code=tenant_code).values("county").distinct().count()
    assert counties >= 4
    for plan in ROUNDS[tenant_code]:
        assert 12 <= len(plan.stories) <= 40


@pytest.mark.parametrize("tenant_code", ["gz", "xz", "xj"])
def test_the_last_level_has_files_with_none_one_and_two_expert_scores(demo, tenant_code):
    waiting = Application.objects.filter(tenant__code=tenant_code, state=S.IN_REVIEW)
    last = {a.pk: a for a in waiting if a.level == workflow.chain_levels(a.round)[-1]}
    scored = Counter(
        ExpertAssignment.objects.filter(application__in=last, submitted_at__isnull=False).values_list(
            "application", flat=True
        )
    )
    assert {scored.get(pk, 0) for pk in last} == {0, 1, 2}
    approved = Application.objects.filter(tenant__code=tenant_code, state=S.APPROVED)
    assert all(a.expert_assignments.filter(submitted_at__isnull=False).count() >= 2 for a in approved)


def test_screening_decides_eligible_library_and_ineligible_applicants(demo):
    def verdicts(code):
        return set(
            Application.objects.filter(tenant__code=code)
            .exclude(verdict="")
            .values_list("verdict", flat=True)
        )

    assert {"eligible", "ineligible"} <= verdicts("gz")
    assert {"eligible", "ineligible"} <= verdicts("xz")
    assert verdicts("xj") == {"eligible", "library", "ineligible"}


def test_quota_status_agrees_with_the_quota_use_rows(demo):
    for round_ in Round.objects.all():
        for row in workflow.quota_status(round_):
            assert row["used"] == QuotaUse.objects.filter(quota=row["quota"]).count()
            # every use is an application its region passed up: it waits above it or was decided above it
            for use in QuotaUse.objects.filter(quota=row["quota"]).select_related("application"):
                assert use.application.events.filter(action="recommend", region=row["region"]).exists()
    assert QuotaUse.objects.count() > 0


def test_every_history_starts_with_the_draft_and_runs_forward(demo):
    now = timezone.now()
    for application in Application.objects.all():
        events = list(application.events.order_by("created_at", "id"))
        assert events[0].action == "start"
        assert [e.created_at for e in events] == sorted(e.created_at for e in events)
        assert events[-1].created_at < now
        assert application.created_at == events[0].created_at
    assert not ReviewEvent.objects.exclude(application__in=Application.objects.all()).exists()


def test_submitted_applications_carry_a_snapshot_per_submission(demo):
    for application in Application.objects.exclude(state=S.DRAFT).exclude(submitted_at=None):
        submissions = application.events.filter(action__in=["submit", "resubmit"]).count()
        assert application.snapshots.count() == submissions
        assert application.snapshots.first().attachments  # the required documents went with it
    assert not Document.objects.filter(
        pk__in=ApplicationSnapshot.objects.values("documents__document")
    ).exclude(scan_status=Document.Scan.CLEAN)


def test_returns_and_rejections_give_their_reason(demo):
    for event in ReviewEvent.objects.filter(action__in=["return", "reject"]):
        assert event.opinion.strip()
    assert ReviewEvent.objects.filter(action="return", minor=True).exists()


def test_an_official_who_may_act_is_posted_wherever_an_application_waits(demo):
    for application in Application.objects.filter(state__in=Application.WAITING_STATES).select_related(
        "current_region"
    ):
        roles = roles_for(transition_for(application.state, Action.RETURN), application.level)
        assert Post.objects.filter(region=application.current_region, role__in=roles, is_active=True).exists()
        assert application.current_region == workflow.region_at(application.county, application.level)


def test_no_expert_scores_an_applicant_of_their_own_county(demo):
    for assignment in ExpertAssignment.objects.select_related("application", "expert"):
        profile = ExpertProfile.objects.get(
            user=assignment.expert, tenant_id=assignment.application.tenant_id
        )
        assert profile.home_county_id != assignment.application.county_id


# --- notices, objections and publication -------------------------------------------------------


def test_guizhou_published_last_years_round_after_a_notice_with_objections(demo):
    closed = _round("gz", "gz_srdi", closed=True)
    published = Notice.objects.get(round=closed, status=Notice.Status.PUBLISHED)
    assert published.ends_on < timezone.localdate()
    assert set(published.objections.values_list("status", flat=True)) == {
        Objection.Status.DISMISSED,
        Objection.Status.UPHELD,
    }
    assert all(o.reply and o.resolved_at for o in published.objections.all())
    removed = published.entries.get(removed_at__isnull=False)
    assert removed.application.state == S.REJECTED
    assert removed.application.events.latest("created_at").action == Action.OBJECTION_UPHELD
    lists = PublishedList.objects.filter(notice=published)
    assert lists.count() == 1 and len(lists.get().rows) == 3
    certifications = Certification.objects.filter(published_list__notice=published).order_by("number")
    year = certifications.first().issued_on.year
    assert [c.number for c in certifications] == [f"GZ-ZJTX-{year}-{n:04d}" for n in (1, 2, 3)]
    for certification in Certification.objects.filter(published_list__notice=published):
        assert certification.application.state == S.PUBLISHED
        assert certification.issued_on < timezone.localdate()
        assert certification.valid_until.year == certification.issued_on.year + 3


def test_guizhou_has_a_notice_open_now_with_an_objection_waiting(demo):
    tenant_notices = Notice.objects.filter(tenant__code="gz", status=Notice.Status.OPEN)
    notice = tenant_notices.get()
    assert notice.starts_on <= timezone.localdate() <= notice.ends_on
    assert notice.entries.filter(removed_at__isnull=True).count() == 2
    assert notice.objections.get().status == Objection.Status.OPEN
    assert {e.application.state for e in notice.entries.all()} == {S.IN_NOTICE}


@pytest.mark.parametrize("tenant_code", ["xz", "xj"])
def test_tibet_and_bortala_put_an_approval_on_a_notice(demo, tenant_code):
    notice = Notice.objects.get(tenant__code=tenant_code)
    entry = notice.entries.get()
    assert entry.application.decided_at is not None
    if notice.status == Notice.Status.PUBLISHED:
        assert entry.application.state == S.PUBLISHED
        assert Certification.objects.filter(application=entry.application).exists()
    else:
        assert entry.application.state == S.IN_NOTICE
        assert notice.ends_on >= timezone.localdate() - timedelta(days=1)


def test_notice_entries_copy_no_contact_data(demo):
    for entry in NoticeEntry.objects.select_related("application__enterprise"):
        enterprise = entry.application.enterprise
        assert entry.uscc == enterprise.uscc and entry.enterprise_name == enterprise.name
    for published in PublishedList.objects.all():
        for row in published.rows:
            assert set(row) == {
                "number",
                "enterprise",
                "uscc",
                "county",
                "program",
                "issued_on",
                "valid_until",
            }


def test_a_second_run_creates_nothing(demo, tmp_path):
    before = _counts()
    with override_settings(DEBUG=True, MEDIA_ROOT=tmp_path):
        call_command("seed_demo", quiet_accounts=True)
    assert _counts() == before
