"""The commissioners' pages: the commissioner's enterprises and visits, the staff's assignments and coverage,
the enterprise's requests. Scope and isolation (404s), forms, Excel exports, and query counts."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from certification import commissioners
from certification.models import CommissionerAssignment, ServiceRequest, Visit
from portal.models import Post
from tests.certification.test_commissioners import (  # noqa: F401 - the fixtures register by name
    assign,
    certified_fixture,
    certifier_fixture,
    comm_a_fixture,
    comm_b_fixture,
    comm_yunyan_fixture,
    log_visit,
    open_request,
    start_on,
)
from tests.conftest import official
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(name, tenant="gz", **kwargs):
    return reverse(name, kwargs={"tenant_code": tenant, **kwargs})


def signed_in(client, user):
    client.force_login(user)
    return client


def queries_for(client, path) -> int:
    client.get(path)  # warm the session and the caches
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    assert response.status_code == 200
    return len(queries)


def workbook_rows(response) -> list[tuple]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


@pytest.fixture
def yunyan_firm(gz):
    """An enterprise of 云岩区, the neighbouring county."""
    return make_enterprise(
        gz, "520103", 2, name="云岩企业有限公司", admin=UserFactory(username="yunyan_owner")
    )


@pytest.fixture
def xz_firm(xz):
    return make_enterprise(xz, "540102", 3, name="西藏企业有限公司", admin=UserFactory(username="xz_owner"))


@pytest.fixture
def served(certified, nanming_official, comm_a):
    """acme, certified, served by comm_a (assigned by the county reviewer today)."""
    assign(certified, comm_a, nanming_official)
    return certified


# --- the commissioner's enterprises ---------------------------------------------------------------


def test_home_lists_the_commissioners_enterprises_overdue_first(
    client, served, comm_a, certifier, gz, nanming_official
):
    late = make_enterprise(gz, "520102", 31, name="久未走访有限公司")
    certifier.certify(late)
    assign(late, comm_a, nanming_official)
    start_on(late, timezone.localdate() - timedelta(days=200))
    log_visit(served, comm_a, timezone.localdate())
    response = signed_in(client, comm_a).get(url("commissioner_home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("久未走访有限公司") < html.index(served.name)
    assert 'data-testid="overdue"' in html and "1 enterprise is overdue" in html


def test_home_is_not_for_officials_without_a_commissioner_post_or_grant(
    client, served, yunyan_official, owner
):
    assert signed_in(client, yunyan_official).get(url("commissioner_home")).status_code == 404
    assert signed_in(client, owner).get(url("commissioner_home")).status_code == 404


def test_a_commissioner_sees_only_granted_enterprises(client, served, comm_b, comm_a, yunyan_firm):
    client = signed_in(client, comm_b)
    html = client.get(url("commissioner_home")).content.decode()
    assert served.name not in html
    assert client.get(url("commissioner_enterprise", pk=served.pk)).status_code == 404
    client = signed_in(client, comm_a)
    assert client.get(url("commissioner_enterprise", pk=served.pk)).status_code == 200
    assert client.get(url("commissioner_enterprise", pk=yunyan_firm.pk)).status_code == 404


def test_another_tenants_user_gets_404_everywhere(client, served, xz_admin, owner):
    client = signed_in(client, xz_admin)
    for path in (
        url("commissioner_enterprise", pk=served.pk),
        url("commissioner_assign", pk=served.pk),
        url("commissioner_assignments"),
        url("commissioner_coverage"),
        url("commissioner_coverage") + "?region=520000",
        url("commissioner_home"),
    ):
        assert client.get(path).status_code == 404, path
    request_ = open_request(served, owner)
    assert client.post(url("commissioner_request_act", pk=request_.pk), {"op": "close"}).status_code == 404
    # and the gz pages of the gz enterprise under the xz prefix are absent too
    assert client.get(url("commissioner_enterprise", tenant="xz", pk=served.pk)).status_code == 404


def test_the_commissioner_logs_a_visit_and_errors_name_the_field(client, served, comm_a):
    client = signed_in(client, comm_a)
    page = url("commissioner_enterprise", pk=served.pk)
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(page, {"visited_on": tomorrow.isoformat(), "kind": "onsite", "people_met": "张伟"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Date of the visit: it cannot be in the future." in html
    assert 'href="#id_visited_on"' in html  # the error summary links to the field
    response = client.post(page, {"visited_on": "", "kind": "onsite", "people_met": ""})
    html = response.content.decode()
    assert (
        "People met: This field is required." in html and "Date of the visit: This field is required." in html
    )
    assert not Visit.objects.exists()
    today = timezone.localdate().isoformat()
    response = client.post(page, {"visited_on": today, "kind": "phone", "people_met": "李娜（财务总监）"})
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.commissioner == comm_a and visit.kind == "phone"
    assert "李娜（财务总监）" in client.get(page).content.decode()


def test_staff_read_an_enterprise_record_but_cannot_log_visits(
    client, served, nanming_official, yunyan_official
):
    client = signed_in(client, nanming_official)
    page = url("commissioner_enterprise", pk=served.pk)
    response = client.get(page)
    assert response.status_code == 200
    assert 'data-testid="read-only"' in response.content.decode()
    assert 'data-testid="visit-form"' not in response.content.decode()
    assert (
        client.post(page, {"visited_on": timezone.localdate().isoformat(), "people_met": "x"}).status_code
        == 404
    )
    assert signed_in(client, yunyan_official).get(page).status_code == 404


def test_the_commissioner_replies_and_closes_from_the_enterprise_page(client, served, comm_a, comm_b, owner):
    request_ = open_request(served, owner)
    act = url("commissioner_request_act", pk=request_.pk)
    assert (
        signed_in(client, comm_b).post(act, {"op": "reply", f"r{request_.pk}-body": "x"}).status_code == 404
    )
    client = signed_in(client, comm_a)
    response = client.post(act, {"op": "reply", f"r{request_.pk}-body": ""})
    assert response.status_code == 400
    assert "Message: This field is required." in response.content.decode()
    response = client.post(act, {"op": "reply", f"r{request_.pk}-body": "已协调银行，本周办理。"})
    assert response.status_code == 302
    request_.refresh_from_db()
    assert request_.state == ServiceRequest.State.ANSWERED
    client.post(act, {"op": "close"})
    request_.refresh_from_db()
    assert request_.state == ServiceRequest.State.CLOSED


def test_enterprise_page_query_count_does_not_grow_with_visits_and_requests(client, served, comm_a, owner):
    client = signed_in(client, comm_a)
    page = url("commissioner_enterprise", pk=served.pk)
    log_visit(served, comm_a, timezone.localdate())
    open_request(served, owner)
    few = queries_for(client, page)
    for i in range(4):
        log_visit(served, comm_a, timezone.localdate())
        r = open_request(served, owner, subject=f"诉求{i}")
        commissioners.request_reply(service_request=r, by=comm_a, body="答复")
    assert queries_for(client, page) == few


def test_home_export_and_query_count(client, served, comm_a, certifier, gz, nanming_official):
    client = signed_in(client, comm_a)
    few = queries_for(client, url("commissioner_home"))
    for serial in range(32, 37):
        e = make_enterprise(gz, "520102", serial, name=f"服务企业{serial}有限公司")
        certifier.certify(e)
        assign(e, comm_a, nanming_official)
        log_visit(e, comm_a, timezone.localdate())
    assert queries_for(client, url("commissioner_home")) == few
    rows = workbook_rows(client.get(url("commissioner_home_export")))
    assert rows[0][0] == "Enterprise"
    assert len(rows) == 1 + 6
    assert served.name in [r[0] for r in rows]


# --- staff: assignments -----------------------------------------------------------------------------


def test_assignments_list_the_certified_enterprises_of_the_region_only(
    client, served, certifier, yunyan_firm, nanming_official, guiyang_official, acme, gz
):
    certifier.certify(yunyan_firm)
    uncertified = make_enterprise(gz, "520102", 38, name="未认定企业有限公司")
    html = signed_in(client, nanming_official).get(url("commissioner_assignments")).content.decode()
    assert served.name in html and yunyan_firm.name not in html and uncertified.name not in html
    html = signed_in(client, guiyang_official).get(url("commissioner_assignments")).content.decode()
    assert served.name in html and yunyan_firm.name in html
    # filters: without a commissioner, and by county
    html = client.get(url("commissioner_assignments") + "?without=on").content.decode()
    assert served.name not in html and yunyan_firm.name in html
    html = client.get(url("commissioner_assignments") + "?region=520102").content.decode()
    assert served.name in html and yunyan_firm.name not in html
    # a region outside the official's is not a choice: the filter is refused and shows its error
    response = signed_in(client, nanming_official).get(url("commissioner_assignments") + "?region=520103")
    assert "Region: Select a valid choice." in response.content.decode()
    assert yunyan_firm.name not in response.content.decode()


def test_assignments_are_not_for_commissioners_or_enterprises(client, served, comm_a, owner):
    for user in (comm_a, owner):
        client = signed_in(client, user)
        assert client.get(url("commissioner_assignments")).status_code == 404
        assert client.get(url("commissioner_assign", pk=served.pk)).status_code == 404
        assert client.get(url("commissioner_coverage")).status_code == 404


def test_assignments_query_count_is_constant_and_export_has_every_row(
    client, served, certifier, gz, province_reviewer, comm_a, comm_b
):
    client = signed_in(client, province_reviewer)
    few = queries_for(client, url("commissioner_assignments"))
    for serial in range(40, 48):
        e = make_enterprise(gz, "520102", serial, name=f"批量企业{serial}有限公司")
        certifier.certify(e)
        certifier.certify(e)  # a second programme's certificate: still one row
        assign(e, comm_a, province_reviewer)
        if serial % 2:
            assign(e, comm_b, province_reviewer, reason="调整")
            log_visit(e, comm_b, timezone.localdate())
    assert queries_for(client, url("commissioner_assignments")) == few
    rows = workbook_rows(client.get(url("commissioner_assignments_export")))
    assert len(rows) == 1 + 9
    header = rows[0]
    by_name = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_name["批量企业41有限公司"]["Service commissioner"] == str(comm_b)
    assert by_name["批量企业41有限公司"]["Earlier commissioners"] == 1
    assert by_name["批量企业40有限公司"]["Service commissioner"] == str(comm_a)
    assert by_name[served.name]["Service commissioner"] == str(comm_a)


def test_assignments_are_paginated(client, certifier, gz, nanming_official):
    for serial in range(100, 127):
        certifier.certify(make_enterprise(gz, "520102", serial, name=f"分页企业{serial}有限公司"))
    client = signed_in(client, nanming_official)
    html = client.get(url("commissioner_assignments")).content.decode()
    assert "27 certified enterprises" in html and "Page 1 of 2" in html
    assert html.count('data-testid="assign-') == 25


def test_staff_assign_and_reassign_through_the_form(
    client, certified, nanming_official, comm_a, comm_b, comm_yunyan
):
    client = signed_in(client, nanming_official)
    page = url("commissioner_assign", pk=certified.pk)
    html = client.get(page).content.decode()
    assert f'value="{comm_a.pk}"' in html and f'value="{comm_yunyan.pk}"' not in html
    assert client.post(page, {"commissioner": comm_a.pk}).status_code == 302
    assert commissioners.current_commissioner(certified) == comm_a
    # a reassignment needs the reason
    response = client.post(page, {"commissioner": comm_b.pk, "reason": ""})
    assert response.status_code == 400
    assert "Reason for the change: This field is required." in response.content.decode()
    assert commissioners.current_commissioner(certified) == comm_a
    # someone outside the county is not a choice
    response = client.post(page, {"commissioner": comm_yunyan.pk, "reason": "调整"})
    assert response.status_code == 400
    assert client.post(page, {"commissioner": comm_b.pk, "reason": "原专员调岗"}).status_code == 302
    assert commissioners.current_commissioner(certified) == comm_b
    html = client.get(page).content.decode()
    assert "原专员调岗" in html and html.count("<tr") >= 3  # the history shows both


def test_the_assign_page_is_404_outside_the_region_and_for_uncertified(
    client, certified, yunyan_official, nanming_official, gz
):
    assert (
        signed_in(client, yunyan_official).get(url("commissioner_assign", pk=certified.pk)).status_code == 404
    )
    uncertified = make_enterprise(gz, "520102", 39, name="未认定企业有限公司")
    client = signed_in(client, nanming_official)
    assert client.get(url("commissioner_assign", pk=uncertified.pk)).status_code == 404


# --- staff: coverage --------------------------------------------------------------------------------


def test_coverage_page_table_chart_drill_down_and_export(
    client, served, comm_a, province_reviewer, nanming_official
):
    log_visit(served, comm_a, timezone.localdate())
    client = signed_in(client, province_reviewer)
    html = client.get(url("commissioner_coverage")).content.decode()
    assert 'data-testid="coverage-chart"' in html and 'data-segment="visited"' in html
    assert '<tr data-region="520100">' in html and "?region=520100" in html
    html = client.get(url("commissioner_coverage") + "?region=520100").content.decode()
    assert '<tr data-region="520102">' in html
    html = client.get(url("commissioner_coverage") + "?region=520102").content.decode()
    assert '<tr data-region="520102">' in html and "commissioners/?region=520102" in html
    rows = workbook_rows(client.get(url("commissioner_coverage_export") + "?region=520100"))
    header, *body = rows
    nanming = dict(zip(header, next(r for r in body if r[1] == "520102"), strict=True))
    assert nanming["Certified enterprises"] == 1 and nanming["Visited (%)"] == 100
    assert body[-1][0].startswith("Total")
    # a county official starts at the county and cannot climb
    client = signed_in(client, nanming_official)
    assert '<tr data-region="520102">' in client.get(url("commissioner_coverage")).content.decode()
    assert client.get(url("commissioner_coverage") + "?region=520100").status_code == 404
    assert client.get(url("commissioner_coverage") + "?region=999999").status_code == 404


def test_coverage_page_query_count_is_constant(client, served, comm_a, certifier, gz, province_reviewer):
    client = signed_in(client, province_reviewer)
    few = queries_for(client, url("commissioner_coverage"))
    for serial in range(50, 56):
        e = make_enterprise(gz, "520302" if serial % 2 else "520102", serial, name=f"覆盖{serial}有限公司")
        certifier.certify(e)
        if serial % 3:
            assign(e, official(gz, e.county.code, Post.Role.SERVICE_COMMISSIONER), province_reviewer)
    assert queries_for(client, url("commissioner_coverage")) == few


# --- the enterprise ---------------------------------------------------------------------------------


def test_the_member_sees_the_commissioner_raises_a_request_and_follows_it_up(
    client, served, comm_a, colleague
):
    client = signed_in(client, colleague)
    html = client.get(url("service_requests")).content.decode()
    assert str(comm_a) in html and comm_a.phone in html
    response = client.post(
        url("service_request_new"),
        {"category": "financing", "subject": "贷款推荐函", "body": "请问如何办理？"},
    )
    assert response.status_code == 302
    service_request = ServiceRequest.objects.get()
    assert service_request.created_by == colleague
    commissioners.request_reply(service_request=service_request, by=comm_a, body="本周四来办理。")
    detail = url("service_request_detail", pk=service_request.pk)
    assert "本周四来办理。" in client.get(detail).content.decode()
    assert client.post(detail, {"op": "follow_up", "body": ""}).status_code == 400
    assert client.post(detail, {"op": "follow_up", "body": "需要带原件吗？"}).status_code == 302
    service_request.refresh_from_db()
    assert service_request.state == ServiceRequest.State.OPEN
    assert client.post(detail, {"op": "close"}).status_code == 302
    service_request.refresh_from_db()
    assert service_request.state == ServiceRequest.State.CLOSED
    assert 'data-testid="closed-note"' in client.get(detail).content.decode()


def test_a_request_form_error_names_the_field(client, served, owner):
    response = signed_in(client, owner).post(
        url("service_request_new"), {"category": "lottery", "subject": ""}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Subject: This field is required." in html and "Category: Select a valid choice." in html
    assert not ServiceRequest.objects.exists()


def test_without_a_commissioner_the_enterprise_cannot_raise_a_request(client, certified, owner):
    client = signed_in(client, owner)
    assert "no service commissioner yet" in client.get(url("service_requests")).content.decode()
    response = client.post(url("service_request_new"), {"category": "financing", "subject": "x", "body": "y"})
    assert response.status_code == 400
    assert not ServiceRequest.objects.exists()


def test_another_enterprises_request_is_404(client, served, owner, yunyan_firm, xz_firm):
    service_request = open_request(served, owner)
    detail = url("service_request_detail", pk=service_request.pk)
    yunyan_owner = yunyan_firm.memberships.get().user
    assert signed_in(client, yunyan_owner).get(detail).status_code == 404
    assert client.post(detail, {"op": "close"}).status_code == 404
    xz_owner = xz_firm.memberships.get().user
    client = signed_in(client, xz_owner)
    assert client.get(url("service_request_detail", tenant="xz", pk=service_request.pk)).status_code == 404
    service_request.refresh_from_db()
    assert service_request.state == ServiceRequest.State.OPEN


def test_request_list_query_count_is_constant(client, served, owner):
    client = signed_in(client, owner)
    open_request(served, owner)
    few = queries_for(client, url("service_requests"))
    for i in range(5):
        open_request(served, owner, subject=f"诉求{i}")
    assert queries_for(client, url("service_requests")) == few


def test_navigation_links_by_role(client, served, comm_a, nanming_official, owner):
    html = signed_in(client, comm_a).get(url("dashboard")).content.decode()
    assert url("commissioner_home") in html and url("commissioner_assignments") not in html
    html = signed_in(client, nanming_official).get(url("dashboard")).content.decode()
    assert url("commissioner_assignments") in html and url("commissioner_home") not in html
    html = signed_in(client, owner).get(url("dashboard")).content.decode()
    assert url("service_requests") in html


def test_pages_need_sign_in(client, served):
    response = client.get(url("commissioner_home"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(url("service_requests")).status_code == 302
    assert CommissionerAssignment.objects.count() == 1
