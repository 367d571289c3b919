"""The pages of annual updates, monitoring warnings and change reports (views_monitoring).

The clock stands at 2026-04-20 in Shanghai (see test_monitoring): the deadline of 30 April is ahead,
except where a test moves the clock past it.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from io import BytesIO

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from certification import monitoring
from certification.models import AnnualUpdate, ChangeReport, MonitoringWarning
from portal.models import Post
from tests.certification import test_monitoring as base
from tests.certification.workflow_fixtures import add_document
from tests.conftest import official
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

# The service tests' fixtures and builders, shared (style.md 22: the same personas everywhere).
certified, certifier, clock, monitored, neighbour = (
    base.certified,
    base.certifier,
    base.clock,
    base.monitored,
    base.neighbour,
)
set_figures, SHANGHAI = base.set_figures, base.SHANGHAI


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(name, tenant="gz", **kwargs):
    return reverse(name, kwargs={"tenant_code": tenant, **kwargs})


def as_user(client, user):
    client.force_login(user)
    return client


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def workbook_rows(response) -> list[tuple]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def certify(certifier, gz, county, serial, name, **figures):
    enterprise = make_enterprise(gz, county, serial, name=name, admin=UserFactory(username=f"u{serial}"))
    set_figures(enterprise, **figures)
    certifier.certify(enterprise, issued_on=date(2025, 3, 1))
    return enterprise


# --- the enterprise --------------------------------------------------------------------------------


def test_the_enterprise_sees_the_deadline_and_its_figures_and_confirms_them(client, certified, acme, owner):
    as_user(client, owner)
    page = client.get(url("annual_update"))
    assert page.status_code == 200
    html = text(page)
    assert 'data-testid="deadline">2026-04-30' in html
    assert "10 days left" in html
    assert "10000.00" in html and "50.00%" in html  # revenue and the debt ratio
    assert f'href="{url("enterprise_figures")}?year=2025"' in html
    # when
    response = client.post(url("annual_update"))
    # then
    assert response.status_code == 302
    update = AnnualUpdate.objects.get(enterprise=acme)
    assert (update.year, update.late, update.submitted_by) == (2026, False, owner)
    html = text(client.get(url("annual_update")))
    assert "Your figures of 2025 are confirmed." in html
    assert 'data-testid="confirm-update"' not in html


def test_the_confirm_button_says_which_figures_are_missing(client, certified, acme, owner):
    set_figures(acme, assets=None)
    as_user(client, owner)
    html = text(client.get(url("annual_update")))
    assert 'data-testid="update-problems"' in html
    assert "total assets (万元) of 2025 is missing." in html
    assert re.search(r'data-testid="confirm-update"[^>]* disabled', html)
    response = client.post(url("annual_update"))
    assert response.status_code == 400
    assert "The figures of 2025 are incomplete. Enter: total assets (万元)." in text(response)
    assert not AnnualUpdate.objects.exists()


def test_the_enterprise_sees_the_conditions_its_figures_fail(client, certified, acme, owner):
    set_figures(acme, liabilities="8000")
    as_user(client, owner)
    response = client.post(url("annual_update"), follow=True)
    html = text(response)
    assert 'data-testid="enterprise-warnings"' in html
    assert "上年末资产负债率不高于70%" in html
    assert "debt ratio at last year end: <strong>80.00%</strong>" in html


def test_a_late_confirmation_is_marked_late(client, certified, acme, owner, clock):
    clock.move_to(datetime(2026, 5, 3, 9, 0, tzinfo=SHANGHAI))
    as_user(client, owner)
    html = text(client.get(url("annual_update")))
    assert "passed" in html
    html = text(client.post(url("annual_update"), follow=True))
    assert "after the deadline" in html
    assert AnnualUpdate.objects.get().late is True


def test_an_uncertified_enterprise_is_told_there_is_nothing_to_submit(client, neighbour, clock):
    as_user(client, neighbour.memberships.get().user)
    html = text(client.get(url("annual_update")))
    assert 'data-testid="not-certified"' in html
    assert client.post(url("annual_update")).status_code == 400
    assert not AnnualUpdate.objects.exists()


def test_the_enterprise_files_a_change_report_with_a_clean_document(client, certified, acme, owner, media):
    clean = add_document(acme, "business_licence", name="新营业执照.pdf")
    add_document(acme, "other", clean=False, name="未扫描.pdf")
    as_user(client, owner)
    form = text(client.get(url("change_report_new")))
    assert "新营业执照.pdf" in form and "未扫描.pdf" not in form
    response = client.post(
        url("change_report_new"),
        {
            "kind": "rename",
            "occurred_on": "2026-03-02",
            "new_name": "贵州黔芯智能装备有限公司",
            "description": "经市场监管部门核准，企业名称变更。",
            "documents": [str(clean.pk)],
        },
    )
    assert response.status_code == 302
    report = ChangeReport.objects.get()
    assert (report.enterprise, report.kind, report.late) == (acme, "rename", False)
    assert list(report.documents.all()) == [clean]
    listing = text(client.get(url("change_reports")))
    assert "贵州黔芯智能装备有限公司" in listing and "2026-03-02" in listing


def test_a_refused_change_report_names_the_field_in_the_summary(client, certified, owner):
    as_user(client, owner)
    response = client.post(
        url("change_report_new"),
        {"kind": "rename", "occurred_on": "2026-03-02", "new_name": "", "description": "更名"},
    )
    assert response.status_code == 400
    html = text(response)
    assert 'data-testid="problem-summary"' in html
    assert 'href="#id_new_name">New name: Give the enterprise' in html
    response = client.post(
        url("change_report_new"),
        {"kind": "merger", "occurred_on": "2026-05-02", "description": "合并"},
    )
    assert (
        'href="#id_occurred_on">Date of the change: The date of the change cannot be in the future.'
        in text(response)
    )
    assert not ChangeReport.objects.exists()


def test_an_enterprise_sees_only_its_own_change_reports(client, certified, acme, owner, certifier, gz):
    other = certify(certifier, gz, "520103", 70, "云岩另一企业有限公司")
    monitoring.change_report_file(
        enterprise=other,
        by=other.memberships.get().user,
        kind="move_out",
        occurred_on=date(2026, 4, 1),
        description="迁往外省",
    )
    as_user(client, owner)
    html = text(client.get(url("change_reports")))
    assert "0 change reports" in html
    assert "迁往外省" not in html


def test_the_navigation_offers_the_annual_update_to_a_certified_member_only(
    client, certified, owner, neighbour
):
    as_user(client, owner)
    assert url("annual_update") in text(client.get(url("dashboard")))
    as_user(client, neighbour.memberships.get().user)
    assert url("annual_update") not in text(client.get(url("dashboard")))


# --- officials -------------------------------------------------------------------------------------


@pytest.fixture
def landscape(certified, acme, owner, certifier, gz, clock):
    """南明区: acme confirmed, with a debt ratio of 80% (one warning); 贵州南明未报 has not confirmed;
    云岩区: one confirmed late; 遵义 (another prefecture): one not confirmed. The clock then moves to 6 May."""
    set_figures(acme, liabilities="8000")
    monitoring.annual_update_submit(enterprise=acme, by=owner)
    missing = certify(certifier, gz, "520102", 80, "贵州南明未报有限公司")
    late = certify(certifier, gz, "520103", 81, "贵州云岩迟报有限公司")
    zunyi = certify(certifier, gz, "520302", 82, "遵义未报有限公司")
    clock.move_to(datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI))
    monitoring.annual_update_submit(enterprise=late, by=late.memberships.get().user)
    return {"missing": missing, "late": late, "zunyi": zunyi, "warning": MonitoringWarning.objects.get()}


def counts(html: str) -> dict[str, int]:
    return {k: int(v) for k, v in re.findall(r'data-count="(\w+)">(\d+)<', html)}


def test_the_province_sees_the_status_chart_and_who_has_not_submitted(client, landscape, province_reviewer):
    as_user(client, province_reviewer)
    response = client.get(url("monitoring_home"))
    assert response.status_code == 200
    html = text(response)
    assert counts(html) == {"certified": 4, "submitted": 2, "late": 1, "not_submitted": 2}
    assert 'data-testid="status-chart"' in html and "<svg" in html
    assert re.search(r'data-region="520100">.*?data-col="late">1<', html)
    table = html[html.index('data-testid="missing-table"') :]
    assert table.index("贵州南明未报有限公司") < table.index("遵义未报有限公司")
    assert "贵州云岩迟报有限公司" not in table
    assert 'data-col="overdue"><strong class="overdue">6<' in table


def test_a_county_official_sees_only_the_county(client, landscape, nanming_official):
    as_user(client, nanming_official)
    html = text(client.get(url("monitoring_home")))
    assert counts(html) == {"certified": 2, "submitted": 1, "late": 0, "not_submitted": 1}
    assert "遵义未报有限公司" not in html
    # a region outside the post is not offered and is ignored
    html = text(client.get(url("monitoring_home"), {"region": "520302"}))
    assert counts(html)["certified"] == 2
    assert "遵义未报有限公司" not in html


def test_the_province_narrows_the_status_to_a_prefecture_and_a_year(client, landscape, province_reviewer):
    as_user(client, province_reviewer)
    html = text(client.get(url("monitoring_home"), {"region": "520300", "year": "2026"}))
    assert counts(html) == {"certified": 1, "submitted": 0, "late": 0, "not_submitted": 1}
    html = text(client.get(url("monitoring_home"), {"region": "520000", "year": "2025"}))
    assert counts(html)["submitted"] == 0


def test_who_has_not_submitted_exports_to_excel(client, landscape, guiyang_official):
    as_user(client, guiyang_official)
    rows = workbook_rows(client.get(url("monitoring_export")))
    assert rows[0][:3] == ("Enterprise", "Unified social credit code", "County")
    assert [r[0] for r in rows[1:]] == ["贵州南明未报有限公司"]
    assert rows[1][3] == "测试专精特新"
    assert rows[1][-1] == 6


def test_the_warnings_page_shows_the_rule_and_values_and_resolves(client, landscape, nanming_official):
    warning = landscape["warning"]
    as_user(client, nanming_official)
    html = text(client.get(url("monitoring_warnings")))
    assert f'data-warning="{warning.pk}" data-rule="debt_ratio"' in html
    assert "上年末资产负债率不高于70%" in html and "80.00%" in html and "2025" in html
    # an empty resolution is refused with the field named
    response = client.post(
        url("warning_resolve", pk=warning.pk), {f"w{warning.pk}-resolution": " "}, follow=True
    )
    assert "Resolution: This field is required." in text(response)
    warning.refresh_from_db()
    assert warning.resolved_at is None
    # then resolved
    response = client.post(
        url("warning_resolve", pk=warning.pk),
        {f"w{warning.pk}-resolution": "已上门核实：并购贷款所致，年内压降", "query": "state=open"},
    )
    assert response.status_code == 302 and response["Location"].endswith("?state=open")
    warning.refresh_from_db()
    assert (warning.resolved_by, warning.resolution) == (
        nanming_official,
        "已上门核实：并购贷款所致，年内压降",
    )
    assert f'data-warning="{warning.pk}"' not in text(client.get(url("monitoring_warnings")))
    resolved = text(client.get(url("monitoring_warnings"), {"state": "resolved"}))
    assert "已上门核实" in resolved


def test_the_warnings_export_to_excel(client, landscape, province_approver):
    as_user(client, province_approver)
    rows = workbook_rows(client.get(url("monitoring_warnings_export")))
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Enterprise"] == "贵州黔芯精密机械有限公司"
    assert row["Rule"] == "debt_ratio"
    assert row["Fiscal year"] == 2025
    assert "80.00%" in row["Values"]


def test_staff_review_a_change_report(client, landscape, acme, owner, nanming_official):
    report = monitoring.change_report_file(
        enterprise=acme,
        by=owner,
        kind="rename",
        occurred_on=date(2026, 1, 5),
        description="企业名称变更",
        new_name="贵州黔芯智能装备有限公司",
    )
    as_user(client, nanming_official)
    listing = text(client.get(url("change_report_list")))
    assert url("change_report_review", pk=report.pk) in listing
    response = client.post(url("change_report_review", pk=report.pk), {"state": "action", "note": ""})
    assert response.status_code == 400
    assert 'href="#id_note">Note: Say what the enterprise must do.' in text(response)
    response = client.post(
        url("change_report_review", pk=report.pk), {"state": "accepted", "note": "已核对营业执照"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.state, report.reviewed_by) == ("accepted", nanming_official)
    html = text(client.get(url("change_report_review", pk=report.pk)))
    assert 'data-testid="review-form"' not in html
    rows = workbook_rows(client.get(url("change_report_export")))
    assert rows[1][0] == "贵州黔芯精密机械有限公司" and rows[1][5] == "贵州黔芯智能装备有限公司"


# --- isolation -------------------------------------------------------------------------------------


OFFICIAL_PAGES = ["monitoring_home", "monitoring_export", "monitoring_warnings", "change_report_list"]


@pytest.mark.parametrize("name", OFFICIAL_PAGES)
def test_members_experts_and_other_tenants_get_404(client, landscape, owner, xz_admin, gz, name):
    expert = official(gz, "520000", Post.Role.EXPERT, username="an_expert")
    commissioner = official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="a_commissioner")
    for user in (owner, expert, commissioner, xz_admin):
        as_user(client, user)
        assert client.get(url(name)).status_code == 404, user


def test_anonymous_visitors_are_sent_to_sign_in(client, landscape):
    response = client.get(url("monitoring_warnings"))
    assert response.status_code == 302 and "/gz/login/" in response["Location"]


def test_a_warning_or_report_outside_the_region_is_404(
    client, landscape, acme, owner, yunyan_official, xz_admin
):
    warning = landscape["warning"]
    report = monitoring.change_report_file(
        enterprise=acme, by=owner, kind="other", occurred_on=date(2026, 4, 1), description="设立境外分支机构"
    )
    as_user(client, yunyan_official)
    assert f'data-warning="{warning.pk}"' not in text(client.get(url("monitoring_warnings")))
    assert (
        client.post(url("warning_resolve", pk=warning.pk), {f"w{warning.pk}-resolution": "越权"}).status_code
        == 404
    )
    assert client.get(url("change_report_review", pk=report.pk)).status_code == 404
    assert client.post(url("change_report_review", pk=report.pk), {"state": "accepted"}).status_code == 404
    assert url("change_report_review", pk=report.pk) not in text(client.get(url("change_report_list")))
    # another tenant's official, in its own tenant's URLs
    as_user(client, xz_admin)
    assert client.get(url("change_report_review", tenant="xz", pk=report.pk)).status_code == 404
    assert (
        client.post(
            url("warning_resolve", tenant="xz", pk=warning.pk), {f"w{warning.pk}-resolution": "x"}
        ).status_code
        == 404
    )
    warning.refresh_from_db()
    report.refresh_from_db()
    assert warning.resolved_at is None and report.state == "submitted"


# --- constant queries ------------------------------------------------------------------------------


def page_queries(client, name, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url(name), params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_the_officials_pages_cost_a_constant_number_of_queries(
    client, landscape, certifier, gz, province_reviewer
):
    first = landscape["missing"]
    monitoring.change_report_file(
        enterprise=first,
        by=first.memberships.get().user,
        kind="restructuring",
        occurred_on=date(2026, 4, 1),
        description="股份制改造",
    )
    as_user(client, province_reviewer)
    client.get(url("dashboard"))  # the tenant and the session are read once per client
    before = {
        name: page_queries(client, name)
        for name in ("monitoring_home", "monitoring_warnings", "change_report_list")
    }
    for serial in range(90, 95):
        e = certify(
            certifier,
            gz,
            "520102" if serial % 2 else "520302",
            serial,
            f"贵州批量企业{serial}有限公司",
            rd="50",
        )
        monitoring.annual_update_submit(enterprise=e, by=e.memberships.get().user)
        monitoring.change_report_file(
            enterprise=e,
            by=e.memberships.get().user,
            kind="merger",
            occurred_on=date(2026, 4, 1),
            description="合并",
        )
        certify(certifier, gz, "520303", serial + 100, f"汇川未报企业{serial}有限公司")
    assert MonitoringWarning.objects.count() == 6
    after = {name: page_queries(client, name) for name in before}
    assert after == before


def test_the_navigation_offers_monitoring_to_reviewers_not_to_experts(
    client, gz, province_reviewer, nanming_official
):
    expert = official(gz, "520000", Post.Role.EXPERT, username="an_expert")
    for user, shown in ((province_reviewer, True), (nanming_official, True), (expert, False)):
        as_user(client, user)
        html = text(client.get(url("dashboard")))
        assert (url("monitoring_home") in html) is shown, user
        assert (url("monitoring_warnings") in html) is shown, user
