"""The officers' funding pages: entitlements, external certifications, budgets, policies, settings, reports
and navigation — each per role, isolated by tenant and region, forms naming their fields, Excel exports
read back, lists in a constant number of queries.

Personas (tests/funding/conftest.py): 贵阳's funding officers pay the demo city's awards; 贵州's provincial
funding officer and the tenant administrator read them; 遵义's funding officer and 南明's county reviewer
see nothing of them; 西藏 is another tenant.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from io import BytesIO

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from enterprises.models import Membership
from funding import services
from funding.models import (
    AwardAmount,
    AwardLevel,
    Budget,
    Entitlement,
    ExternalCertification,
    FundingSettings,
    PaymentBatch,
)
from funding.services import AmountSpec
from portal.models import AuditEvent, Post, User
from tests.certification.conftest import make_program
from tests.certification.test_directory import Certifier
from tests.conftest import official
from tests.demo_snapshot import demo_portal
from tests.enterprises.conftest import make_enterprise
from tests.funding.conftest import certify, enterprises_of_nanming, make_policy

S = Entitlement.State
D = Decimal

OFFICER_LISTS = [
    "funding_entitlements",
    "funding_batches",
    "funding_receivables",
    "funding_budgets",
    "funding_reports",
    "funding_external_new",
    "funding_policies",
    "funding_settings",
]


def url(name: str, tenant_code: str = "gz", **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": tenant_code, **kwargs})


def get(client, user, name, status=200, *, data=None, tenant_code="gz", **kwargs):
    client.force_login(user)
    response = client.get(url(name, tenant_code, **kwargs), data or {})
    assert response.status_code == status, response.content[:400]
    return response


def post(client, user, name, data, status=302, *, follow=False, tenant_code="gz", **kwargs):
    client.force_login(user)
    response = client.post(url(name, tenant_code, **kwargs), data, follow=follow)
    expected = 200 if follow and status == 302 else status
    assert response.status_code == expected, response.content[:600]
    return response


def main(response) -> str:
    html = response.content.decode()
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def assert_csp_clean(response) -> None:
    """No inline script or style in the page's content (CSP): scripts come from static files."""
    html = main(response)
    assert "style=" not in html
    assert "<style" not in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag, tag


def workbook_rows(response) -> list[tuple]:
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert "attachment;" in response["Content-Disposition"]
    ws = load_workbook(BytesIO(b"".join(response)), read_only=True).active
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


def queries(callable_) -> int:
    callable_()  # once to warm what a first request loads (the session, content types)
    with CaptureQueriesContext(connection) as ctx:
        callable_()
    return len(ctx.captured_queries)


@pytest.fixture
def pending(city_policy, certifier, acme):
    """acme's 50万 award (seed 003, 省级专精特新), waiting for 贵阳's review."""
    (entitlement,) = certify(certifier, acme)
    return entitlement


@pytest.fixture
def xz_pending(xz):
    policy = make_policy(
        xz, "540100", code="lhasa", group="lhasa", amounts=[AmountSpec(AwardLevel.SRDI, "100000")]
    )
    program, version = make_program(xz, code="xz_direct")
    (entitlement,) = certify(
        Certifier(xz, program, version), make_enterprise(xz, "540102", 3), issued_on=date(2025, 5, 1)
    )
    assert entitlement.policy == policy
    return entitlement


@pytest.fixture
def xz_funding(xz):
    return official(xz, "540100", Post.Role.FUNDING_OFFICER, username="lhasa_funding")


# --- who reaches the officers' pages --------------------------------------------------------------------


@pytest.mark.parametrize("name", OFFICER_LISTS)
def test_funding_officials_reach_every_officer_page_others_find_none(
    client, name, pending, guiyang_funding, gz_funding, gz_admin, zunyi_funding, nanming_official, owner
):
    for user in (guiyang_funding, gz_funding, gz_admin, zunyi_funding):
        response = get(client, user, name)
        assert_csp_clean(response)
    # a reviewer without a funding post, and an enterprise's member, find no such page
    for user in (nanming_official, owner):
        get(client, user, name, status=404)
    # anonymous visitors are sent to sign in
    client.logout()
    response = client.get(url(name))
    assert response.status_code == 302 and "/gz/login/" in response["Location"]


def test_navigation_offers_funding_to_officials_and_awards_to_enterprises(
    client, gz, guiyang_funding, gz_admin, owner, acme, nanming_official
):
    funding, awards = url("funding_entitlements"), url("funding_awards")
    html = get(client, guiyang_funding, "dashboard").content.decode()
    assert f'href="{funding}"' in html and f'href="{awards}"' not in html
    assert f'href="{url("funding_batches")}"' in html  # the landing page's funding card
    html = get(client, gz_admin, "dashboard").content.decode()
    assert f'href="{funding}"' in html and f'href="{url("funding_policies")}"' in html
    html = get(client, owner, "dashboard").content.decode()
    assert f'href="{awards}"' in html and f'href="{funding}"' not in html
    assert f'href="{url("funding_bank_account")}"' in html
    html = get(client, nanming_official, "dashboard").content.decode()
    assert f'href="{funding}"' not in html and f'href="{awards}"' not in html


# --- entitlements ---------------------------------------------------------------------------------------


def test_the_entitlement_list_shows_the_award_and_an_approve_button_to_the_paying_officer(
    client, pending, guiyang_funding, gz_funding
):
    html = main(get(client, guiyang_funding, "funding_entitlements"))
    row = html.split(f'data-entitlement="{pending.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "贵州黔芯精密机械有限公司" in row and "500,000.00" in row
    assert f'data-testid="approve-{pending.pk}"' in row
    assert "csrfmiddlewaretoken" in row
    # the province follows the city's awards but does not decide them
    html = main(get(client, gz_funding, "funding_entitlements"))
    assert f'data-entitlement="{pending.pk}"' in html
    assert f'data-testid="approve-{pending.pk}"' not in html


def test_the_entitlement_list_filters_by_state_policy_year_and_region(
    client, gz, pending, city_policy, certifier, guiyang_funding, gz_admin
):
    other = enterprises_of_nanming(gz, 1)[0]
    (approved,) = certify(certifier, other)
    services.entitlement_approve(entitlement=approved, by=guiyang_funding)
    province = make_policy(
        gz,
        "520000",
        code="gz_lg",
        group="gz-lg",
        amounts=[AmountSpec(AwardLevel.SRDI, "300000")],
        budget=None,
    )

    def shown(**filters) -> set[int]:
        html = main(get(client, gz_admin, "funding_entitlements", data=filters))
        return {int(pk) for pk in re.findall(r'data-entitlement="(\d+)"', html)}

    assert shown() == {pending.pk, approved.pk}
    assert shown(state="pending") == {pending.pk}
    assert shown(state="approved") == {approved.pk}
    assert shown(year=str(date.today().year)) == {approved.pk}  # the budget year: approved ones only
    assert shown(policy=str(city_policy.pk)) == {pending.pk, approved.pk}
    assert shown(region="520100") == {pending.pk, approved.pk}
    assert shown(region="520000") == set()  # the province's policy has no award yet
    assert shown(q=other.uscc) == {approved.pk}
    assert province.pk  # listed among the filter's policies
    assert f'value="{province.pk}"' in main(get(client, gz_admin, "funding_entitlements"))


def test_the_entitlement_list_runs_a_constant_number_of_queries(
    client, gz, city_policy, certifier, guiyang_funding
):
    certify(certifier, enterprises_of_nanming(gz, 1, start=200)[0])
    client.force_login(guiyang_funding)
    few = queries(lambda: client.get(url("funding_entitlements")))
    for enterprise in enterprises_of_nanming(gz, 6, start=300):
        certify(certifier, enterprise)
    many = queries(lambda: client.get(url("funding_entitlements")))
    assert Entitlement.objects.count() == 7
    assert many == few


def test_an_officer_approves_from_the_list_and_returns_to_it(client, pending, guiyang_funding):
    back = url("funding_entitlements") + "?state=pending"
    response = post(client, guiyang_funding, "funding_entitlement_approve", {"next": back}, pk=pending.pk)
    assert response["Location"] == back
    pending.refresh_from_db()
    assert pending.state == S.APPROVED
    assert Budget.objects.get(policy=pending.policy).committed == D("500000.00")


def test_an_approval_goes_back_only_to_a_funding_page_of_this_tenant(client, pending, guiyang_funding):
    response = post(
        client,
        guiyang_funding,
        "funding_entitlement_approve",
        {"next": "https://evil.example/"},
        pk=pending.pk,
    )
    assert response["Location"] == url("funding_entitlement", pk=pending.pk)


def test_an_approval_over_budget_is_refused_with_the_remaining_amount(
    client, gz, certifier, acme, guiyang_funding
):
    make_policy(gz, "520100", budget="100000.00")
    (entitlement,) = certify(certifier, acme)
    response = post(
        client, guiyang_funding, "funding_entitlement_approve", {}, follow=True, pk=entitlement.pk
    )
    assert "100,000.00" in main(response) and "500,000.00" in main(response)
    entitlement.refresh_from_db()
    assert entitlement.state == S.PENDING
    assert Budget.objects.get(policy=entitlement.policy).committed == 0


def test_the_detail_shows_why_an_officer_of_another_level_cannot_decide(client, pending, gz_funding):
    html = main(get(client, gz_funding, "funding_entitlement", pk=pending.pk))
    assert 'data-testid="approve-reason"' in html and 'data-testid="approve"' not in html
    # and the service refuses the post all the same
    post(client, gz_funding, "funding_entitlement_approve", {}, pk=pending.pk)
    pending.refresh_from_db()
    assert pending.state == S.PENDING


def test_a_rejection_needs_a_reason_that_the_form_names(client, pending, guiyang_funding):
    response = post(
        client,
        guiyang_funding,
        "funding_entitlement_reject",
        {"reject-reason": ""},
        status=400,
        pk=pending.pk,
    )
    html = main(response)
    assert 'data-testid="form-errors"' in html and 'href="#id_reject-reason"' in html
    pending.refresh_from_db()
    assert pending.state == S.PENDING
    post(
        client,
        guiyang_funding,
        "funding_entitlement_reject",
        {"reject-reason": "重复申报，已在他处领取。"},
        pk=pending.pk,
    )
    pending.refresh_from_db()
    assert (pending.state, pending.reason) == (S.REJECTED, "重复申报，已在他处领取。")


def test_an_approval_is_reversed_with_a_reason(client, pending, guiyang_funding):
    services.entitlement_approve(entitlement=pending, by=guiyang_funding)
    html = main(get(client, guiyang_funding, "funding_entitlement", pk=pending.pk))
    assert 'data-testid="reverse-form"' in html and 'data-kind="approval"' in html
    response = post(
        client,
        guiyang_funding,
        "funding_entitlement_reverse",
        {"reverse-reason": " "},
        status=400,
        pk=pending.pk,
    )
    assert 'href="#id_reverse-reason"' in main(response)
    post(
        client,
        guiyang_funding,
        "funding_entitlement_reverse",
        {"reverse-reason": "金额核算有误"},
        pk=pending.pk,
    )
    pending.refresh_from_db()
    assert pending.state == S.PENDING
    assert Budget.objects.get(policy=pending.policy).committed == 0


def test_another_tenant_s_or_region_s_entitlement_is_not_found(
    client, pending, xz_pending, guiyang_funding, zunyi_funding, xz_funding
):
    for user, target in ((guiyang_funding, xz_pending), (zunyi_funding, pending), (xz_funding, pending)):
        get(client, user, "funding_entitlement", status=404, pk=target.pk)
        post(client, user, "funding_entitlement_approve", {}, status=404, pk=target.pk)
        post(
            client,
            user,
            "funding_entitlement_reject",
            {"reject-reason": "不予奖励"},
            status=404,
            pk=target.pk,
        )
    # gz's pages never show xz's award, even at xz's own id under gz's address
    get(client, xz_funding, "funding_entitlement", status=404, tenant_code="xz", pk=pending.pk)
    get(client, xz_funding, "funding_entitlement", tenant_code="xz", pk=xz_pending.pk)
    pending.refresh_from_db()
    assert pending.state == S.PENDING


def test_actions_need_the_csrf_token(pending, guiyang_funding):
    client = Client(enforce_csrf_checks=True)
    client.force_login(guiyang_funding)
    response = client.post(url("funding_entitlement_approve", pk=pending.pk))
    assert response.status_code == 403
    pending.refresh_from_db()
    assert pending.state == S.PENDING


def test_the_entitlements_export_to_excel_with_the_list_s_filters(
    client, gz, pending, certifier, guiyang_funding
):
    other = enterprises_of_nanming(gz, 1)[0]
    (approved,) = certify(certifier, other)
    services.entitlement_approve(entitlement=approved, by=guiyang_funding)
    rows = workbook_rows(
        get(client, guiyang_funding, "funding_entitlements_export", data={"state": "approved"})
    )
    assert len(rows) == 2  # the header and the approved award
    row = rows[1]
    # No., enterprise, USCC, county, policy, paying region, level, certification, certified on,
    # the level's award, the amount, state, budget year …
    assert row[:3] == (approved.pk, other.name, other.uscc)
    assert row[5] == "贵阳市"
    assert (D(str(row[9])), D(str(row[10])), row[12]) == (D("500000"), D("500000"), date.today().year)
    assert AuditEvent.objects.filter(action="entitlement.list_exported").count() == 1


# --- external certifications ---------------------------------------------------------------------------


def test_an_officer_records_a_national_little_giant_and_the_top_up_awaits_review(
    client, pending, acme, guiyang_funding
):
    services.entitlement_approve(entitlement=pending, by=guiyang_funding)
    data = {
        "uscc": acme.uscc,
        "level": AwardLevel.LITTLE_GIANT_NATIONAL,
        "basis": "listed",
        "title": "工业和信息化部第七批专精特新“小巨人”企业名单",
        "reference": "工信部企业函〔2025〕1号",
        "certified_on": "2025-07-01",
    }
    post(client, guiyang_funding, "funding_external_new", data)
    external = ExternalCertification.objects.get(enterprise=acme)
    top_up = Entitlement.objects.get(external=external)
    # seed 003 从高、不重复: 200万 national after 50万 provincial pays 150万 more
    assert (top_up.state, top_up.amount) == (S.PENDING, D("1500000.00"))
    html = main(get(client, guiyang_funding, "funding_external_new"))
    assert f'data-external="{external.pk}"' in html


def test_the_external_form_names_its_fields(client, gz, acme, guiyang_funding, zunyi_funding):
    response = post(client, guiyang_funding, "funding_external_new", {"basis": "listed"}, status=400)
    html = main(response)
    for field in ("uscc", "level", "title", "certified_on"):
        assert f'href="#id_{field}"' in html, field
    # an enterprise outside the officer's region is not found by its code
    data = {
        "uscc": acme.uscc,
        "level": "srdi",
        "basis": "listed",
        "title": "名单",
        "certified_on": "2025-01-01",
    }
    assert 'href="#id_uscc"' in main(post(client, zunyi_funding, "funding_external_new", data, status=400))
    # the service's rule: a relocated enterprise names the day it moved in
    relocated = {**data, "basis": "relocated"}
    assert 'href="#id_moved_in_on"' in main(
        post(client, guiyang_funding, "funding_external_new", relocated, status=400)
    )
    assert not ExternalCertification.objects.exists()


# --- budgets --------------------------------------------------------------------------------------------


def test_the_budget_page_shows_utilisation_as_an_accessible_chart_and_a_table(
    client, pending, guiyang_funding
):
    services.entitlement_approve(entitlement=pending, by=guiyang_funding)
    response = get(client, guiyang_funding, "funding_budgets")
    assert_csp_clean(response)
    html = main(response)
    chart = html.split('data-testid="budget-chart"', 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in html.split('data-testid="budget-chart"', 1)[0].rsplit("<svg", 1)[1]
    assert "<title" in chart and "5.0%" in chart  # 50万 of 1000万 committed
    # the bar: 5 % of the 360-unit track
    assert 'width="18.0"' in chart
    table = html.split('data-testid="budget-table"', 1)[1].split("</table>", 1)[0]
    assert "10,000,000.00" in table and "500,000.00" in table and "9,500,000.00" in table


def test_an_officer_sets_its_region_s_budget_and_the_form_names_its_fields(
    client, city_policy, guiyang_funding, gz_funding
):
    year = date.today().year
    data = {"policy": city_policy.pk, "year": year, "amount": "12000000.00"}
    post(client, guiyang_funding, "funding_budgets", data)
    assert Budget.objects.get(policy=city_policy, year=year).amount == D("12000000.00")
    html = main(
        post(
            client,
            guiyang_funding,
            "funding_budgets",
            {"policy": city_policy.pk, "year": "", "amount": "abc"},
            status=400,
        )
    )
    assert 'href="#id_year"' in html and 'href="#id_amount"' in html
    # the province's officer pays none of 贵阳's policies: no form, and a post is not found
    assert 'data-testid="allocate-form"' not in main(get(client, gz_funding, "funding_budgets"))
    post(client, gz_funding, "funding_budgets", data, status=404)


def test_a_budget_cannot_be_set_below_what_is_committed(client, pending, city_policy, guiyang_funding):
    services.entitlement_approve(entitlement=pending, by=guiyang_funding)
    data = {"policy": city_policy.pk, "year": date.today().year, "amount": "100000.00"}
    html = main(post(client, guiyang_funding, "funding_budgets", data, status=400))
    assert 'data-testid="form-errors"' in html and "500000.00" in html
    assert Budget.objects.get(policy=city_policy).amount == D("10000000.00")


def test_the_budgets_export_to_excel(client, pending, guiyang_funding):
    services.entitlement_approve(entitlement=pending, by=guiyang_funding)
    rows = workbook_rows(get(client, guiyang_funding, "funding_budgets_export"))
    assert len(rows) == 2
    row = rows[1]
    assert row[0] == pending.policy.name and row[2] == date.today().year
    assert [D(str(v)) for v in row[3:7]] == [D("10000000"), D("500000"), D("0"), D("9500000")]


def test_the_budget_list_runs_a_constant_number_of_queries(client, gz, guiyang_funding):
    make_policy(gz, "520100", code="p0", group="g0")
    client.force_login(guiyang_funding)
    few = queries(lambda: client.get(url("funding_budgets")))
    for i in range(1, 6):
        make_policy(gz, "520100", code=f"p{i}", group=f"g{i}")
    many = queries(lambda: client.get(url("funding_budgets")))
    assert Budget.objects.count() == 6 and many == few


def test_another_region_s_budget_is_not_listed(
    client, city_policy, zunyi_funding, xz_pending, guiyang_funding
):
    assert f'data-budget="{Budget.objects.get(policy=city_policy).pk}"' not in main(
        get(client, zunyi_funding, "funding_budgets")
    )
    html = main(get(client, guiyang_funding, "funding_budgets"))
    assert f'data-budget="{Budget.objects.get(policy=xz_pending.policy).pk}"' not in html


# --- policies and settings ------------------------------------------------------------------------------


def test_the_tenant_administrator_changes_a_policy_s_amounts(client, city_policy, gz_admin, guiyang_funding):
    html = main(get(client, guiyang_funding, "funding_policy", pk=city_policy.pk))
    assert 'data-testid="amounts-form"' not in html and "200" in html  # 200万 national little giant
    post(client, guiyang_funding, "funding_policy", {}, status=404, pk=city_policy.pk)
    data = {"amount_srdi": "600000.00", "amount_little_giant_national": "2000000.00"}
    post(client, gz_admin, "funding_policy", data, pk=city_policy.pk)
    amounts = dict(AwardAmount.objects.filter(policy=city_policy).values_list("level", "amount"))
    assert amounts == {"srdi": D("600000.00"), "little_giant_national": D("2000000.00")}
    html = main(
        post(client, gz_admin, "funding_policy", {"amount_srdi": "-5"}, status=400, pk=city_policy.pk)
    )
    assert 'href="#id_amount_srdi"' in html
    html = main(post(client, gz_admin, "funding_policy", {}, status=400, pk=city_policy.pk))
    assert 'data-testid="form-errors"' in html  # at least one amount
    assert AwardAmount.objects.filter(policy=city_policy).count() == 2


def test_policies_of_another_tenant_or_region_are_not_found(
    client, city_policy, xz_pending, zunyi_funding, gz_admin
):
    get(client, zunyi_funding, "funding_policy", status=404, pk=city_policy.pk)
    get(client, gz_admin, "funding_policy", status=404, pk=xz_pending.policy_id)
    html = main(get(client, gz_admin, "funding_policies"))
    assert f'data-policy="{city_policy.pk}"' in html and f'data-policy="{xz_pending.policy_id}"' not in html


def test_the_policy_list_runs_a_constant_number_of_queries(client, gz, gz_admin):
    make_policy(gz, "520100", code="p0", group="g0", budget=None)
    client.force_login(gz_admin)
    few = queries(lambda: client.get(url("funding_policies")))
    for i in range(1, 6):
        make_policy(gz, "520100", code=f"p{i}", group=f"g{i}", budget=None)
    assert queries(lambda: client.get(url("funding_policies"))) == few


def test_the_tenant_administrator_sets_the_second_approval_threshold(client, gz, gz_admin, guiyang_funding):
    html = main(get(client, guiyang_funding, "funding_settings"))
    assert "1,000,000.00" in html and 'data-testid="settings-form"' not in html
    post(client, guiyang_funding, "funding_settings", {"second_approval_above": "1"}, status=404)
    assert 'href="#id_second_approval_above"' in main(
        post(client, gz_admin, "funding_settings", {"second_approval_above": "-1"}, status=400)
    )
    post(client, gz_admin, "funding_settings", {"second_approval_above": "300000.00"})
    assert FundingSettings.objects.get(tenant=gz).second_approval_above == D("300000.00")


# --- reports --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("group_by", ["policy", "region", "year"])
def test_the_award_report_groups_as_asked_and_exports_to_excel(
    client, gz, pending, certifier, guiyang_funding, group_by
):
    other = enterprises_of_nanming(gz, 1)[0]
    (approved,) = certify(certifier, other)
    services.entitlement_approve(entitlement=approved, by=guiyang_funding)
    response = get(client, guiyang_funding, "funding_reports", data={"group_by": group_by})
    assert_csp_clean(response)
    html = main(response)
    assert 'data-testid="report-chart"' in html
    table = html.split('data-testid="report-table"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr data-key=") == 1  # one policy, one region, one year
    assert "500,000.00" in table  # pending, and approved
    rows = workbook_rows(get(client, guiyang_funding, "funding_reports_export", data={"group_by": group_by}))
    assert len(rows) == 2
    count, pending_yuan, approved_yuan, paid = rows[1][1:5]
    assert (count, D(str(pending_yuan)), D(str(approved_yuan)), D(str(paid))) == (
        2,
        D("500000"),
        D("500000"),
        D("0"),
    )


def test_the_report_of_another_region_is_empty(client, pending, zunyi_funding):
    html = main(get(client, zunyi_funding, "funding_reports"))
    assert "<tr data-key=" not in html


# --- the demo -------------------------------------------------------------------------------------------


@pytest.fixture
def seeded(db):
    demo_portal(tenants=["gz"])  # seeded once per run, restored after (tests/demo_snapshot.py)


def test_every_page_renders_the_demo_s_awards_in_every_state(client, seeded):
    officer = User.objects.get(username="gz_funding")  # posts at the province and at 贵阳
    for name in OFFICER_LISTS:
        assert_csp_clean(get(client, officer, name))
    for state in S.values:
        get(client, officer, "funding_entitlements", data={"state": state})
    for e in Entitlement.objects.all():
        assert_csp_clean(get(client, officer, "funding_entitlement", pk=e.pk))
    batch = PaymentBatch.objects.get()
    html = main(get(client, officer, "funding_batch", pk=batch.pk))
    assert 'data-testid="digest-ok"' in html and 'data-testid="line-paid"' in html
    assert_csp_clean(get(client, officer, "funding_batch_new"))
    for group_by in ("policy", "region", "year"):
        get(client, officer, "funding_reports", data={"group_by": group_by})
    # the paid enterprise's member sees the money, and the top-up waiting for review
    paid = Entitlement.objects.get(state=S.PAID)
    member = Membership.objects.filter(enterprise=paid.enterprise).first().user
    html = main(get(client, member, "funding_awards"))
    assert 'data-state="paid"' in html and 'data-state="pending"' in html
    assert_csp_clean(get(client, member, "funding_bank_account"))
