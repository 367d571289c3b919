"""Service commissioners (服务专员): assignment and its guardian grant, visits, the overdue rule, requests
(诉求), and the coverage officials above see (certification.commissioners).

Personas (style.md 22): 南明区's enterprise acme with its owner and a colleague; 南明区's county reviewer
(`nanming_official`), 云岩区's (`yunyan_official`), 贵阳市's prefecture reviewer; service commissioners
of 南明区 (`comm_a`, `comm_b`) and of 云岩区 (`comm_yunyan`); 西藏 is another tenant.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from certification import commissioners
from certification.commissioners import CommissionerRefused
from certification.models import (
    Certification,
    CommissionerAssignment,
    LifecycleEvent,
    LifecycleSettings,
    ServiceRequest,
    Visit,
)
from enterprises.models import Enterprise
from portal.models import AuditEvent, Notification, Post, User
from tests.certification.conftest import make_program
from tests.certification.test_directory import Certifier
from tests.conftest import official, require_postgres
from tests.enterprises.conftest import make_enterprise, xz_enterprise  # noqa: F401 - a fixture
from tests.factories import UserFactory

SERVE = "enterprises.serve_enterprise"


# --- personas and builders ---------------------------------------------------------------------------


@pytest.fixture(name="certifier")
def certifier_fixture(gz):
    program, version = make_program(gz, code="comm_srdi")
    return Certifier(gz, program, version)


@pytest.fixture(name="certified")
def certified_fixture(acme, certifier):
    """acme with a certification in force."""
    certifier.certify(acme)
    return acme


@pytest.fixture(name="comm_a")
def comm_a_fixture(gz):
    return official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="comm_a", phone="13985001111")


@pytest.fixture(name="comm_b")
def comm_b_fixture(gz):
    return official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="comm_b")


@pytest.fixture(name="comm_yunyan")
def comm_yunyan_fixture(gz):
    return official(gz, "520103", Post.Role.SERVICE_COMMISSIONER, username="comm_yunyan")


def assign(enterprise, commissioner, by, reason=""):
    return commissioners.commissioner_assign(
        enterprise=enterprise, commissioner=commissioner, by=by, reason=reason
    )


def start_on(enterprise, day: date) -> None:
    """Date the enterprise's current assignment back to `day` (the service stamps today)."""
    CommissionerAssignment.objects.filter(enterprise=enterprise, ended_on__isnull=True).update(started_on=day)


def log_visit(enterprise, by, day, *, today=None, **fields):
    data = {"kind": Visit.Kind.ONSITE, "people_met": "张伟（总经理）", **fields}
    return commissioners.visit_log(enterprise=enterprise, by=by, visited_on=day, today=today or day, **data)


def holders(enterprise) -> set[str]:
    return {u.username for u in commissioners._grant_holders(enterprise)}


# --- assignment ------------------------------------------------------------------------------------


def test_county_reviewer_assigns_a_commissioner_who_gets_the_grant(
    certified, nanming_official, comm_a, owner, django_capture_on_commit_callbacks
):
    # when
    with django_capture_on_commit_callbacks(execute=True):
        assignment = assign(certified, comm_a, nanming_official)
    # then
    assert assignment.ended_on is None and assignment.started_on == timezone.localdate()
    assert commissioners.current_commissioner(certified) == comm_a
    assert comm_a.has_perm(SERVE, certified)
    assert list(commissioners.commissioner_enterprises(comm_a, certified.tenant)) == [certified]
    event = LifecycleEvent.objects.get(kind=LifecycleEvent.Kind.COMMISSIONER)
    assert event.certification.enterprise_id == certified.pk
    assert event.actor == nanming_official and event.data["commissioner_id"] == comm_a.pk
    assert AuditEvent.objects.filter(action="commissioner.assigned", object_id=str(certified.pk)).count() == 1
    assert Notification.objects.filter(
        recipient=comm_a, link__contains=f"/enterprises/{certified.pk}/"
    ).exists()
    assert Notification.objects.filter(recipient=owner, subject__contains=str(comm_a)).exists()


def test_reassignment_ends_the_current_row_keeps_the_history_and_moves_the_grant(
    certified, nanming_official, guiyang_official, comm_a, comm_b
):
    # given
    first = assign(certified, comm_a, nanming_official)
    # when
    second = assign(certified, comm_b, guiyang_official, reason="原专员调岗")
    # then
    first.refresh_from_db()
    assert first.ended_on == timezone.localdate() and first.end_reason == "原专员调岗"
    assert second.ended_on is None
    assert CommissionerAssignment.objects.filter(enterprise=certified).count() == 2
    assert CommissionerAssignment.objects.filter(enterprise=certified, ended_on__isnull=True).get() == second
    assert holders(certified) == {"comm_b"}
    assert not commissioners.commissioner_enterprises(comm_a, certified.tenant).exists()
    assert list(commissioners.commissioner_enterprises(comm_b, certified.tenant)) == [certified]
    assert AuditEvent.objects.filter(action="commissioner.reassigned").count() == 1
    assert LifecycleEvent.objects.filter(kind=LifecycleEvent.Kind.COMMISSIONER).count() == 2


def test_a_reassignment_without_a_reason_is_refused_and_changes_nothing(
    certified, nanming_official, comm_a, comm_b
):
    assign(certified, comm_a, nanming_official)
    with pytest.raises(ValidationError) as info:
        assign(certified, comm_b, nanming_official, reason="  ")
    assert set(info.value.message_dict) == {"reason"}
    assert commissioners.current_commissioner(certified) == comm_a
    assert holders(certified) == {"comm_a"}
    assert CommissionerAssignment.objects.filter(enterprise=certified).count() == 1


def test_assigning_the_current_commissioner_again_is_refused(certified, nanming_official, comm_a):
    assign(certified, comm_a, nanming_official)
    with pytest.raises(ValidationError) as info:
        assign(certified, comm_a, nanming_official, reason="重复")
    assert set(info.value.message_dict) == {"commissioner"}
    assert CommissionerAssignment.objects.filter(enterprise=certified).count() == 1


def test_the_second_of_two_staff_assigning_ends_the_first(
    certified, nanming_official, guiyang_official, comm_a, comm_b
):
    # given: both officials opened the page before either assigned (their enterprise objects are stale)
    seen_by_county = Enterprise.objects.get(pk=certified.pk)
    seen_by_prefecture = Enterprise.objects.get(pk=certified.pk)
    # when
    assign(seen_by_county, comm_a, nanming_official)
    assign(seen_by_prefecture, comm_b, guiyang_official, reason="市级统筹安排")
    # then: one current row, the grant with its commissioner only
    rows = CommissionerAssignment.objects.filter(enterprise=certified)
    assert rows.filter(ended_on__isnull=True).count() == 1
    assert rows.get(commissioner=comm_a).ended_on is not None
    assert holders(certified) == {"comm_b"}


def test_a_stray_grant_given_by_hand_goes_when_a_commissioner_is_assigned(
    certified, nanming_official, comm_a, comm_b
):
    from guardian.shortcuts import assign_perm

    assign_perm(SERVE, comm_b, certified)  # e.g. through the admin
    assign(certified, comm_a, nanming_official)
    assert holders(certified) == {"comm_a"}


def test_staff_outside_the_enterprise_region_cannot_assign(
    certified, yunyan_official, comm_a, xz_admin, comm_b
):
    for by in (yunyan_official, comm_b, xz_admin):
        with pytest.raises(CommissionerRefused) as info:
            assign(certified, comm_a, by)
        assert info.value.status_code == 404
    assert not CommissionerAssignment.objects.exists()
    assert not comm_a.has_perm(SERVE, certified)
    # the attempts are on record
    assert AuditEvent.objects.filter(action="commissioner.assign", outcome="refused").count() == 3


def test_provincial_staff_and_prefecture_reviewers_assign(
    certified, province_reviewer, guiyang_official, comm_a, comm_b
):
    assign(certified, comm_a, province_reviewer)
    assign(certified, comm_b, guiyang_official, reason="调整")
    assert commissioners.current_commissioner(certified) == comm_b


def test_only_an_enterprise_with_a_certification_in_force_gets_a_commissioner(
    acme, certifier, nanming_official, comm_a
):
    with pytest.raises(CommissionerRefused) as info:
        assign(acme, comm_a, nanming_official)
    assert info.value.code == "not_certified"
    certifier.certify(acme, status=Certification.Status.EXPIRED)
    with pytest.raises(CommissionerRefused):
        assign(acme, comm_a, nanming_official)
    assert not CommissionerAssignment.objects.exists()


def test_the_commissioner_holds_a_post_over_the_county(certified, nanming_official, comm_yunyan, gz, xz):
    expert = official(gz, "520000", Post.Role.EXPERT, username="an_expert")
    nobody = UserFactory(username="no_post")
    stranger = official(xz, "540102", Post.Role.SERVICE_COMMISSIONER, username="xz_comm")
    for candidate in (comm_yunyan, expert, nobody, stranger):
        with pytest.raises(ValidationError) as info:
            assign(certified, candidate, nanming_official)
        assert set(info.value.message_dict) == {"commissioner"}
    # a provincial official is over every county
    provincial = official(gz, "520000", Post.Role.FUNDING_OFFICER, username="gz_fund")
    assign(certified, provincial, nanming_official)
    assert commissioners.current_commissioner(certified) == provincial


def test_eligible_commissioners_list_service_commissioners_first(certified, comm_a, nanming_official, gz):
    official(gz, "520000", Post.Role.EXPERT, username="an_expert")
    inactive = official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="gone")
    inactive.is_active = False
    inactive.save()
    names = [u.username for u, _post in commissioners.eligible_commissioners(certified)]
    assert names[0] == "comm_a"
    assert "nanming" in names
    assert "an_expert" not in names and "gone" not in names


def test_commissioner_enterprises_is_one_query_and_stays_in_the_tenant(
    certified,
    nanming_official,
    comm_a,
    xz_enterprise,  # noqa: F811 - the imported fixture
    gz,
):
    from guardian.shortcuts import assign_perm

    assign(certified, comm_a, nanming_official)
    assign_perm(SERVE, comm_a, xz_enterprise)  # a stray grant on another tenant's enterprise
    with CaptureQueriesContext(connection) as queries:
        found = list(commissioners.commissioner_enterprises(comm_a, gz))
    assert found == [certified]
    assert len(queries) == 1


# --- concurrency (PostgreSQL) ------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_staff_assigning_at_once_leave_one_current_commissioner(transactional_db):
    require_postgres()
    from tests.conftest import make_tenant

    gz = make_tenant("gz", "贵州省", "520000")
    program, version = make_program(gz, code="race_srdi")
    enterprise = make_enterprise(gz, "520102", 41, name="并发测试企业有限公司")
    Certifier(gz, program, version).certify(enterprise)
    county = official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="race_county")
    prefecture = official(gz, "520100", Post.Role.PREFECTURE_REVIEWER, username="race_pref")
    a = official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="race_a")
    b = official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="race_b")
    barrier = threading.Barrier(2)
    errors = []

    def run(by, commissioner):
        try:
            barrier.wait()
            assign(Enterprise.objects.get(pk=enterprise.pk), commissioner, by, reason="同时指派")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=args) for args in ((county, a), (prefecture, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = CommissionerAssignment.objects.filter(enterprise=enterprise)
    assert rows.count() == 2
    current = rows.get(ended_on__isnull=True)
    assert holders(enterprise) == {current.commissioner.username}


# --- visits ----------------------------------------------------------------------------------------


def test_the_current_commissioner_logs_a_visit(certified, nanming_official, comm_a):
    assign(certified, comm_a, nanming_official)
    today = timezone.localdate()
    visit = log_visit(certified, comm_a, today, problems="融资难", follow_up="对接银行")
    assert visit.assignment.commissioner == comm_a and visit.tenant_id == certified.tenant_id
    assert AuditEvent.objects.filter(action="visit.logged", object_id=str(visit.pk)).exists()


def test_only_the_current_commissioner_logs_visits(certified, nanming_official, comm_a, comm_b):
    assign(certified, comm_a, nanming_official)
    assign(certified, comm_b, nanming_official, reason="调岗")
    today = timezone.localdate()
    for by in (comm_a, nanming_official):
        with pytest.raises(CommissionerRefused):
            log_visit(certified, by, today)
    assert not Visit.objects.exists()


def test_visit_rules_name_the_field_at_fault(certified, nanming_official, comm_a):
    assign(certified, comm_a, nanming_official)
    start_on(certified, date(2026, 3, 1))
    today = date(2026, 4, 10)
    cases = [
        (date(2026, 4, 11), {}, "visited_on"),  # in the future
        (date(2026, 2, 28), {}, "visited_on"),  # before the assignment began
        (None, {}, "visited_on"),
        (date(2026, 4, 1), {"people_met": "  "}, "people_met"),
        (date(2026, 4, 1), {"kind": "drone"}, "kind"),
        (date(2026, 4, 1), {"problems": "问" * 4001}, "problems"),
    ]
    for day, fields, field in cases:
        with pytest.raises(ValidationError) as info:
            log_visit(certified, comm_a, day, today=today, **fields)
        assert field in info.value.message_dict, (day, fields)
    # every problem at once
    with pytest.raises(ValidationError) as info:
        log_visit(certified, comm_a, date(2026, 5, 1), today=today, people_met="", kind="drone")
    assert set(info.value.message_dict) == {"visited_on", "people_met", "kind"}
    assert not Visit.objects.exists()
    # the first day of the assignment and today are both fine
    log_visit(certified, comm_a, date(2026, 3, 1), today=today)
    log_visit(certified, comm_a, today, today=today)
    assert Visit.objects.count() == 2


# --- the overdue rule ------------------------------------------------------------------------------


def overdue_names(user, tenant, day) -> list[str]:
    return [e.name for e in commissioners.visits_overdue(user, tenant, day)]


def test_overdue_counts_days_from_the_last_visit_across_a_quarter_boundary(
    certified, nanming_official, comm_a, gz
):
    # given: assigned in January, visited on 30 March (the end of Q1); the interval is 92 days
    assign(certified, comm_a, nanming_official)
    start_on(certified, date(2026, 1, 2))
    log_visit(certified, comm_a, date(2026, 3, 30))
    # then: a new quarter alone does not make it overdue
    assert overdue_names(comm_a, gz, date(2026, 4, 2)) == []
    # 92 days after the visit is still in time, the 93rd is not
    assert date(2026, 6, 30) - date(2026, 3, 30) == timedelta(days=92)
    assert overdue_names(comm_a, gz, date(2026, 6, 30)) == []
    assert overdue_names(comm_a, gz, date(2026, 7, 1)) == [certified.name]


def test_without_a_visit_the_clock_runs_from_the_assignment(certified, nanming_official, comm_a, gz):
    assign(certified, comm_a, nanming_official)
    start_on(certified, date(2025, 12, 20))  # Q4 of the year before
    assert overdue_names(comm_a, gz, date(2026, 3, 21)) == []  # 91 days
    assert overdue_names(comm_a, gz, date(2026, 3, 22)) == []  # 92 days
    assert overdue_names(comm_a, gz, date(2026, 3, 23)) == [certified.name]


def test_a_new_commissioner_gets_one_interval_for_the_first_visit(
    certified, nanming_official, comm_a, comm_b, gz
):
    assign(certified, comm_a, nanming_official)
    start_on(certified, date(2025, 10, 1))
    log_visit(certified, comm_a, date(2025, 10, 10))
    assert overdue_names(comm_a, gz, date(2026, 2, 1)) == [certified.name]
    assign(certified, comm_b, nanming_official, reason="调岗")
    start_on(certified, date(2026, 2, 1))
    assert overdue_names(comm_b, gz, date(2026, 2, 1)) == []
    assert overdue_names(comm_b, gz, date(2026, 5, 5)) == [certified.name]  # 93 days after taking over
    assert overdue_names(comm_a, gz, date(2026, 5, 5)) == []  # no longer theirs


def test_the_interval_is_the_tenant_setting(certified, nanming_official, comm_a, gz):
    LifecycleSettings.objects.create(tenant=gz, visit_interval_days=30)
    assign(certified, comm_a, nanming_official)
    start_on(certified, date(2026, 1, 1))
    assert overdue_names(comm_a, gz, date(2026, 1, 31)) == []
    assert overdue_names(comm_a, gz, date(2026, 2, 1)) == [certified.name]


def test_caseload_lists_overdue_first(certifier, gz, nanming_official, comm_a):
    fresh = make_enterprise(gz, "520102", 51, name="新近走访有限公司")
    late = make_enterprise(gz, "520102", 52, name="久未走访有限公司")
    for e in (fresh, late):
        certifier.certify(e)
        assign(e, comm_a, nanming_official)
        start_on(e, date(2026, 1, 1))
    log_visit(fresh, comm_a, date(2026, 4, 1))
    rows = list(commissioners.caseload(comm_a, gz, date(2026, 4, 20)))
    assert [(e.name, e.overdue) for e in rows] == [("久未走访有限公司", True), ("新近走访有限公司", False)]
    assert rows[1].last_visit == date(2026, 4, 1) and rows[0].last_visit is None


# --- requests ----------------------------------------------------------------------------------------


def open_request(enterprise, by, **fields):
    data = {
        "category": ServiceRequest.Category.FINANCING,
        "subject": "贷款推荐函",
        "body": "请问如何办理？",
        **fields,
    }
    return commissioners.request_open(enterprise=enterprise, by=by, **data)


def test_a_request_goes_through_reply_follow_up_and_close(
    certified, nanming_official, comm_a, colleague, owner, django_capture_on_commit_callbacks
):
    assign(certified, comm_a, nanming_official)
    # a member raises it: the commissioner hears
    with django_capture_on_commit_callbacks(execute=True):
        service_request = open_request(certified, colleague)
    assert service_request.state == ServiceRequest.State.OPEN
    assert service_request.assignment.commissioner == comm_a
    assert Notification.objects.filter(recipient=comm_a, subject__contains="贷款推荐函").count() == 1
    # the commissioner replies: the member who raised it and the administrators hear
    with django_capture_on_commit_callbacks(execute=True), translation.override("en"):
        service_request = commissioners.request_reply(
            service_request=service_request, by=comm_a, body="本周四来办理。"
        )
    assert service_request.state == ServiceRequest.State.ANSWERED and service_request.answered_at
    assert {n.recipient.username for n in Notification.objects.filter(subject__contains="replied")} == {
        "owner",
        "colleague",
    }
    # a follow-up opens it again
    service_request = commissioners.request_follow_up(
        service_request=service_request, by=owner, body="需要带原件吗？"
    )
    assert service_request.state == ServiceRequest.State.OPEN
    # the member closes it
    service_request = commissioners.request_close(service_request=service_request, by=owner)
    assert service_request.state == ServiceRequest.State.CLOSED and service_request.closed_at
    thread = list(service_request.messages.values_list("from_official", "body"))
    assert thread == [(False, "请问如何办理？"), (True, "本周四来办理。"), (False, "需要带原件吗？")]
    # closed is closed
    for action in (
        lambda: commissioners.request_reply(service_request=service_request, by=comm_a, body="补充"),
        lambda: commissioners.request_follow_up(service_request=service_request, by=owner, body="补充"),
        lambda: commissioners.request_close(service_request=service_request, by=comm_a),
    ):
        with pytest.raises(CommissionerRefused):
            action()
    assert service_request.messages.count() == 3
    actions = set(
        AuditEvent.objects.filter(object_type="certification.servicerequest").values_list("action", flat=True)
    )
    assert actions == {
        "service_request.opened",
        "service_request.answered",
        "service_request.followed_up",
        "service_request.closed",
    }


def test_the_commissioner_may_close_a_request(certified, nanming_official, comm_a, owner):
    assign(certified, comm_a, nanming_official)
    service_request = open_request(certified, owner)
    service_request = commissioners.request_close(service_request=service_request, by=comm_a)
    assert service_request.state == ServiceRequest.State.CLOSED


def test_without_a_commissioner_there_is_no_one_to_ask(certified, owner):
    with pytest.raises(CommissionerRefused) as info:
        open_request(certified, owner)
    assert info.value.code == "no_commissioner"
    assert not ServiceRequest.objects.exists()


def test_only_members_raise_and_follow_up_requests(certified, nanming_official, comm_a, outsider, owner):
    assign(certified, comm_a, nanming_official)
    for by in (outsider, comm_a):
        with pytest.raises(CommissionerRefused):
            open_request(certified, by)
    service_request = open_request(certified, owner)
    with pytest.raises(CommissionerRefused):
        commissioners.request_follow_up(service_request=service_request, by=outsider, body="我也想问")
    with pytest.raises(CommissionerRefused):
        commissioners.request_close(service_request=service_request, by=outsider)
    assert service_request.messages.count() == 1


def test_request_fields_are_checked_together(certified, nanming_official, comm_a, owner):
    assign(certified, comm_a, nanming_official)
    with pytest.raises(ValidationError) as info:
        open_request(certified, owner, category="lottery", subject=" ", body="")
    assert set(info.value.message_dict) == {"category", "subject", "body"}
    assert not ServiceRequest.objects.exists()


def test_after_a_reassignment_the_new_commissioner_answers_the_open_requests(
    certified, nanming_official, comm_a, comm_b, owner
):
    assign(certified, comm_a, nanming_official)
    service_request = open_request(certified, owner)
    assign(certified, comm_b, nanming_official, reason="调岗")
    with pytest.raises(CommissionerRefused):
        commissioners.request_reply(service_request=service_request, by=comm_a, body="我来答")
    service_request = commissioners.request_reply(
        service_request=service_request, by=comm_b, body="新专员答复"
    )
    assert service_request.state == ServiceRequest.State.ANSWERED


# --- coverage ----------------------------------------------------------------------------------------


class World:
    """Enterprises across 贵阳市 (南明区, 云岩区) and 遵义市 (红花岗区) in every coverage situation."""

    TODAY = date(2026, 6, 15)

    def __init__(self, gz, certifier, by, commissioner_for):
        self.gz = gz
        self.enterprises = []
        serial = 60
        # (county, certified, assigned_days_ago or None, last visit days ago or None, open requests, closed)
        plan = [
            ("520102", True, 200, 10, 1, 1),  # visited
            ("520102", True, 200, 120, 0, 0),  # overdue
            ("520102", True, 30, None, 2, 0),  # pending: not yet due
            ("520102", True, None, None, 0, 0),  # without a commissioner
            ("520102", False, None, None, 0, 0),  # not certified
            ("520103", True, 300, None, 0, 0),  # overdue, never visited
            ("520103", True, 100, 50, 0, 1),  # visited
            ("520302", True, 400, 95, 1, 0),  # overdue
            ("520302", "revoked", 200, 5, 1, 0),  # assigned, then revoked: not counted, its request is
        ]
        for county, certified, assigned, visited, open_n, closed_n in plan:
            serial += 1
            e = make_enterprise(gz, county, serial, name=f"覆盖测试{serial}有限公司", admin=UserFactory())
            if certified:
                cert = certifier.certify(e)
            if assigned is not None:
                commissioner = commissioner_for(county)
                assign(e, commissioner, by)
                start_on(e, self.TODAY - timedelta(days=assigned))
                if visited is not None:
                    day = self.TODAY - timedelta(days=visited)
                    log_visit(e, commissioner, day, today=self.TODAY)
                admin = e.memberships.get().user
                for i in range(open_n + closed_n):
                    r = open_request(e, admin, subject=f"诉求{i}")
                    if i >= open_n:
                        commissioners.request_close(service_request=r, by=admin)
            if certified == "revoked":
                cert.status = Certification.Status.REVOKED
                cert.save()
            self.enterprises.append(e)

    def expected(self, region_path_prefix_len: int, region) -> dict[str, dict[str, int]]:
        """The coverage computed one enterprise at a time in Python, without the service's queries."""
        cutoff = self.TODAY - timedelta(days=92)
        out: dict[str, dict[str, int]] = {}
        for e in Enterprise.objects.filter(tenant=self.gz).select_related("county"):
            if not e.county.path.startswith(region.path):
                continue
            key = e.county.path[:region_path_prefix_len]
            row = out.setdefault(key, {"certified": 0, "with": 0, "visited": 0, "overdue": 0, "open": 0})
            row["open"] += ServiceRequest.objects.filter(enterprise=e, state="open").count()
            if not Certification.objects.filter(enterprise=e, status="active").exists():
                continue
            row["certified"] += 1
            current = CommissionerAssignment.objects.filter(enterprise=e, ended_on=None).first()
            visits = [v.visited_on for v in Visit.objects.filter(enterprise=e)]
            recent = any(d >= cutoff for d in visits)
            row["visited"] += recent
            if current:
                row["with"] += 1
                reference = max([current.started_on, *visits])
                row["overdue"] += reference < cutoff
        return out


@pytest.fixture
def world(gz, certifier, province_reviewer):
    commissioners_by_county = {
        code: official(gz, code, Post.Role.SERVICE_COMMISSIONER, username=f"comm_{code}")
        for code in ("520102", "520103", "520302")
    }
    return World(gz, certifier, province_reviewer, commissioners_by_county.__getitem__)


def as_dict(rows):
    return {
        r.region.path: {
            "certified": r.certified,
            "with": r.with_commissioner,
            "visited": r.visited,
            "overdue": r.overdue,
            "open": r.open_requests,
        }
        for r in rows
        if r.certified or r.open_requests
    }


def test_coverage_of_the_province_by_prefecture(world, gz, province_reviewer):
    province = gz.root_region
    rows = commissioners.coverage_by_region(province_reviewer, gz, province, world.TODAY)
    assert [r.region.level for r in rows] == ["prefecture"] * len(rows)
    assert as_dict(rows) == world.expected(len(province.path) + 7, province)
    by_code = {r.region.code: r for r in rows}
    guiyang, zunyi = by_code["520100"], by_code["520300"]
    assert (guiyang.certified, guiyang.with_commissioner, guiyang.visited, guiyang.overdue) == (6, 5, 2, 2)
    assert (guiyang.pending, guiyang.unassigned, guiyang.open_requests) == (1, 1, 3)
    assert (zunyi.certified, zunyi.overdue, zunyi.open_requests) == (1, 1, 2)
    assert guiyang.visited + guiyang.overdue + guiyang.pending + guiyang.unassigned == guiyang.certified


def test_coverage_of_a_prefecture_by_county_and_of_a_county(world, gz, guiyang_official, nanming_official):
    from tests.conftest import region

    guiyang = region(gz, "520100")
    rows = commissioners.coverage_by_region(guiyang_official, gz, guiyang, world.TODAY)
    assert {r.region.level for r in rows} == {"county"}
    assert as_dict(rows) == world.expected(len(guiyang.path) + 7, guiyang)
    nanming = region(gz, "520102")
    rows = commissioners.coverage_by_region(nanming_official, gz, nanming, world.TODAY)
    assert [r.region.code for r in rows] == ["520102"]
    assert as_dict(rows) == world.expected(len(nanming.path), nanming)
    assert (rows[0].certified, rows[0].with_commissioner, rows[0].visited_percent) == (4, 3, 25)


def test_coverage_is_refused_outside_the_official_region(world, gz, nanming_official, comm_a, xz_admin):
    from tests.conftest import region

    for user, code in ((nanming_official, "520100"), (nanming_official, "520103"), (comm_a, "520102")):
        with pytest.raises(CommissionerRefused):
            commissioners.coverage_by_region(user, gz, region(gz, code), world.TODAY)
    with pytest.raises(CommissionerRefused):
        commissioners.coverage_by_region(xz_admin, gz, gz.root_region, world.TODAY)


def test_coverage_takes_a_constant_number_of_queries(gz, certifier, province_reviewer):
    province = gz.root_region
    comm = official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="comm_q")

    def count_queries() -> int:
        province_reviewer.__dict__.pop("_posts_cache", None)
        with CaptureQueriesContext(connection) as queries:
            commissioners.coverage_by_region(province_reviewer, gz, province, date(2026, 6, 15))
        return len(queries)

    def add(serial):
        e = make_enterprise(gz, "520102", serial, name=f"计数{serial}有限公司", admin=UserFactory())
        certifier.certify(e)
        assign(e, comm, province_reviewer)
        log_visit(e, comm, timezone.localdate())
        open_request(e, e.memberships.get().user)

    add(90)
    few = count_queries()
    for serial in range(91, 97):
        add(serial)
    assert count_queries() == few


# --- the lifecycle's hook ----------------------------------------------------------------------------


def test_ending_an_assignment_takes_the_grant_back_and_keeps_the_history(
    certified, nanming_official, comm_a, gz
):
    assign(certified, comm_a, nanming_official)
    ended = commissioners.commissioner_end(enterprise=certified, reason="认定资格已撤销")
    assert ended.ended_on == timezone.localdate() and ended.end_reason == "认定资格已撤销"
    assert commissioners.current_commissioner(certified) is None
    assert holders(certified) == set()
    assert not commissioners.commissioner_enterprises(comm_a, gz).exists()
    assert AuditEvent.objects.filter(action="commissioner.ended", actor_label="system").count() == 1
    # nothing current: nothing to end
    assert commissioners.commissioner_end(enterprise=certified, reason="再次") is None
    assert CommissionerAssignment.objects.filter(enterprise=certified).count() == 1


# --- demo data ---------------------------------------------------------------------------------------


def test_the_demo_seeds_commissioners_visits_and_requests_once(gz, certifier):
    from certification.demo_commissioners import seed_commissioners

    # given: certified enterprises in 花溪区 and 南明区, one certified three years ago, and their reviewers
    official(gz, "520111", Post.Role.COUNTY_REVIEWER, username="gz_county_huaxi")
    official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="gz_county")
    old = make_enterprise(gz, "520111", 71, name="贵阳花溪特种电缆有限公司", admin=UserFactory())
    certifier.certify(old, issued_on=timezone.localdate() - timedelta(days=3 * 365 - 40))
    for serial in (72, 73):
        certifier.certify(
            make_enterprise(gz, "520102", serial, name=f"南明{serial}有限公司", admin=UserFactory())
        )
    logged = []
    # when
    rows = seed_commissioners(gz, password_hash="!", log=logged.append)
    # then
    assert [r[0] for r in rows] == ["gz_commissioner_nanming", "gz_commissioner_huaxi"]
    huaxi = rows[1]
    assert huaxi[1] == "gz" and "花溪区" in huaxi[2]
    today = timezone.localdate()
    people = {u.username: u for u in User.objects.filter(username__startswith="gz_commissioner_")}
    assert people["gz_commissioner_huaxi"].phone  # shown to the enterprise
    # the one certified longest ago is overdue, and only it
    assert overdue_names(people["gz_commissioner_huaxi"], gz, today) == ["贵阳花溪特种电缆有限公司"]
    assert overdue_names(people["gz_commissioner_nanming"], gz, today) == []
    assert CommissionerAssignment.objects.filter(ended_on__isnull=True).count() == 3
    assert set(ServiceRequest.objects.values_list("state", flat=True)) == {"open", "answered"}
    assert not ServiceRequest.objects.filter(enterprise=old).exists()
    assert Visit.objects.filter(enterprise__county__code="520102").count() >= 2
    counts = [m.objects.count() for m in (CommissionerAssignment, Visit, ServiceRequest, Post)]
    # a second run adds nothing
    assert seed_commissioners(gz, password_hash="!", log=logged.append) == rows
    assert [m.objects.count() for m in (CommissionerAssignment, Visit, ServiceRequest, Post)] == counts
