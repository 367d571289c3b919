"""Annual updates, monitoring warnings and change reports (certification.monitoring), service by service.

The clock stands at 2026-04-20 10:00 in Shanghai unless a test moves it: reporting year 2026, figures of
fiscal year 2025, deadline 30 April. Certifications are written straight into the tables (`Certifier`).
The test programme monitors three base conditions (revenue, debt ratio ≤ 70%, R&D ratio ≥ 3%) and one
exclusion (false information).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from freezegun import freeze_time

from certification import monitoring
from certification.models import (
    AnnualUpdate,
    Certification,
    ChangeReport,
    CriteriaVersion,
    LifecycleSettings,
    MonitoringWarning,
)
from certification.monitoring import MonitoringRefused
from enterprises.models import AnnualFigures, Document
from portal.models import AuditEvent, Notification, Post
from tests.certification.conftest import make_program
from tests.certification.test_directory import Certifier
from tests.certification.workflow_fixtures import add_document
from tests.conftest import official, region
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 20, 10, 0, tzinfo=SHANGHAI)
YEAR, FISCAL = 2026, 2025

MONITORED = {
    "boundary": "favourable",
    "base_conditions": [
        {
            "key": "revenue",
            "label": "上年度营业收入不低于1000万元",
            "expr": "revenue_y1 >= 1000",
            "source": "test",
        },
        {
            "key": "debt_ratio",
            "label": "上年末资产负债率不高于70%",
            "expr": "debt_ratio_y1 <= 0.70",
            "source": "seed 002 四、2",
        },
        {
            "key": "rd_ratio",
            "label": "上年度研发费用占营业收入比重不低于3%",
            "expr": "rd_ratio_y1 >= 0.03",
            "source": "63号 附件2",
        },
    ],
    "groups": [],
    "direct": [],
    "exclusions": [
        {"key": "false_info", "label": "提供虚假材料", "expr": "negative_false_info", "source": "test"}
    ],
}


# --- builders --------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def monitored(gz):
    """The monitored programme and its version (in force from 2022)."""
    return make_program(gz, code="monitored_srdi", definition=MONITORED)


@pytest.fixture
def certifier(gz, monitored):
    program, version = monitored
    return Certifier(gz, program, version)


def set_figures(
    enterprise, *, year=FISCAL, revenue="10000", rd="500", assets="10000", liabilities="5000", **extra
):
    """One fiscal year of figures; pass None to leave a figure unknown."""

    def money(value):
        return None if value is None else Decimal(value)

    values = {
        "revenue": money(revenue),
        "main_business_revenue": money(revenue),
        "rd_expense": money(rd),
        "net_profit": Decimal("600"),
        "total_assets": money(assets),
        "total_liabilities": money(liabilities),
        "employees": 150,
        "rd_staff": 30,
        **extra,
    }
    AnnualFigures.objects.update_or_create(enterprise=enterprise, fiscal_year=year, defaults=values)
    return values


@pytest.fixture
def certified(acme, certifier, clock):
    """acme (南明区) certified in the monitored programme, with healthy figures of 2025."""
    set_figures(acme)
    return certifier.certify(acme, issued_on=date(2025, 3, 1))


@pytest.fixture
def neighbour(gz):
    """An enterprise of 云岩区, the neighbouring county, with its own administrator."""
    return make_enterprise(
        gz, "520103", 2, name="云岩企业有限公司", admin=UserFactory(username="yunyan_owner")
    )


def warnings_of(certification, *, open_only=True) -> dict[str, MonitoringWarning]:
    qs = MonitoringWarning.objects.filter(certification=certification)
    if open_only:
        qs = qs.filter(resolved_at=None)
    return {w.rule: w for w in qs}


def stored(enterprise) -> dict:
    """What a refused action must leave unchanged."""
    return {
        "updates": AnnualUpdate.objects.filter(enterprise=enterprise).count(),
        "warnings": MonitoringWarning.objects.filter(enterprise=enterprise).count(),
        "reports": ChangeReport.objects.filter(enterprise=enterprise).count(),
    }


# --- the deadline ----------------------------------------------------------------------------------


def test_the_deadline_is_30_april_by_default(gz):
    assert monitoring.annual_update_deadline(gz, 2026) == date(2026, 4, 30)


def test_the_deadline_follows_the_tenants_setting(gz):
    # domain.md §1.6: the 2026 rules are reported to move the update to 31 May.
    LifecycleSettings.objects.create(tenant=gz, annual_update_month=5, annual_update_day=31)
    assert monitoring.annual_update_deadline(gz, 2026) == date(2026, 5, 31)


@pytest.mark.parametrize(
    ("month", "day", "year", "expected"),
    [
        (2, 30, 2026, date(2026, 2, 28)),
        (2, 30, 2028, date(2028, 2, 29)),  # leap year
        (4, 31, 2026, date(2026, 4, 30)),
        (6, 31, 2027, date(2027, 6, 30)),
        (12, 31, 2026, date(2026, 12, 31)),
    ],
)
def test_a_day_the_month_lacks_is_clamped_to_its_last_day(gz, month, day, year, expected):
    LifecycleSettings.objects.create(tenant=gz, annual_update_month=month, annual_update_day=day)
    assert monitoring.annual_update_deadline(gz, year) == expected


# --- submitting the annual update ------------------------------------------------------------------


def test_the_enterprise_confirms_its_figures_before_the_deadline(certified, acme, owner):
    # when
    update = monitoring.annual_update_submit(enterprise=acme, by=owner)
    # then
    assert (update.year, update.fiscal_year, update.late) == (2026, 2025, False)
    assert update.submitted_by == owner
    assert update.facts["revenue_y1"] == "10000.00"
    assert update.facts["total_liabilities_y1"] == "5000.00"
    assert AuditEvent.objects.filter(
        action="monitoring.annual_update_submitted", object_id=str(update.pk)
    ).exists()
    assert warnings_of(certified) == {}


def test_the_update_is_late_from_the_first_minute_after_the_deadline_in_shanghai(
    certified, acme, owner, clock
):
    # 2026-04-30 23:59 in Shanghai is on time; 00:01 on 1 May (16:01 UTC on 30 April) is late.
    clock.move_to(datetime(2026, 4, 30, 23, 59, tzinfo=SHANGHAI))
    assert monitoring.annual_update_submit(enterprise=acme, by=owner).late is False
    AnnualUpdate.objects.all().delete()
    clock.move_to(datetime(2026, 4, 30, 16, 1, tzinfo=ZoneInfo("UTC")))
    assert monitoring.annual_update_submit(enterprise=acme, by=owner).late is True


def test_a_later_tenant_deadline_makes_a_may_update_on_time(certified, acme, owner, gz, clock):
    LifecycleSettings.objects.create(tenant=gz, annual_update_month=5, annual_update_day=31)
    clock.move_to(datetime(2026, 5, 20, 9, 0, tzinfo=SHANGHAI))
    assert monitoring.annual_update_submit(enterprise=acme, by=owner).late is False


def test_a_colleague_may_confirm_but_an_outsider_may_not(certified, acme, colleague, outsider):
    before = stored(acme)
    with pytest.raises(MonitoringRefused) as info:
        monitoring.annual_update_submit(enterprise=acme, by=outsider)
    assert info.value.code == "not_member"
    assert stored(acme) == before
    assert monitoring.annual_update_submit(enterprise=acme, by=colleague).submitted_by == colleague


def test_the_submission_is_refused_naming_the_missing_figures(certified, acme, owner):
    # given: 2025 has revenue but neither total assets nor R&D expense
    set_figures(acme, assets=None, rd=None)
    before = stored(acme)
    # when
    with pytest.raises(MonitoringRefused) as info:
        monitoring.annual_update_submit(enterprise=acme, by=owner)
    # then
    refusal = info.value
    assert refusal.code == "figures_incomplete"
    assert set(refusal.fields) == {"rd_expense", "total_assets"}
    assert "2025" in refusal.message
    assert "R&D expense (万元)" in refusal.message and "total assets (万元)" in refusal.message
    assert "revenue" not in refusal.fields
    assert stored(acme) == before


def test_the_submission_is_refused_without_figures_of_the_fiscal_year(acme, owner, certifier, clock):
    certifier.certify(acme, issued_on=date(2025, 3, 1))
    set_figures(acme, year=2024)  # an older year does not count
    with pytest.raises(MonitoringRefused) as info:
        monitoring.annual_update_submit(enterprise=acme, by=owner)
    assert set(info.value.fields) == {"figures"}
    assert "2025" in info.value.message and "revenue (万元)" in info.value.message
    assert not AnnualUpdate.objects.exists()


def test_figures_the_conditions_do_not_read_are_not_required(certified, acme, owner):
    # The monitored conditions read neither employees nor net profit nor equity financing.
    set_figures(acme, employees=None, rd_staff=None, net_profit=None)
    assert monitoring.annual_update_submit(enterprise=acme, by=owner).pk


def test_an_update_is_submitted_once_a_year(certified, acme, owner, colleague):
    monitoring.annual_update_submit(enterprise=acme, by=owner)
    with pytest.raises(MonitoringRefused) as info:
        monitoring.annual_update_submit(enterprise=acme, by=colleague)
    assert info.value.code == "already_submitted"
    assert AnnualUpdate.objects.filter(enterprise=acme).count() == 1


def test_an_enterprise_without_a_valid_certification_has_no_update_to_submit(acme, owner, certifier, clock):
    set_figures(acme)
    certifier.certify(acme, issued_on=date(2023, 3, 1), status=Certification.Status.EXPIRED)
    with pytest.raises(MonitoringRefused) as info:
        monitoring.annual_update_submit(enterprise=acme, by=owner)
    assert info.value.code == "not_certified"


def test_an_update_of_next_year_is_refused(certified, acme, owner):
    with pytest.raises(MonitoringRefused) as info:
        monitoring.annual_update_submit(enterprise=acme, by=owner, year=2027)
    assert info.value.code == "future_year"


# --- the monitoring check --------------------------------------------------------------------------


def test_a_debt_ratio_above_70_percent_raises_a_warning_with_its_rule_and_values(certified, acme, owner):
    # given: liabilities 7,500 of assets 10,000 → 75%
    set_figures(acme, liabilities="7500")
    # when
    monitoring.annual_update_submit(enterprise=acme, by=owner)
    # then
    warnings = warnings_of(certified)
    assert list(warnings) == ["debt_ratio"]
    warning = warnings["debt_ratio"]
    assert warning.fiscal_year == 2025
    assert warning.label == "上年末资产负债率不高于70%"
    assert warning.source == "seed 002 四、2"
    assert warning.values == {"debt_ratio_y1": "0.7500"}
    assert (warning.enterprise, warning.tenant) == (acme, acme.tenant)


def test_an_rd_ratio_below_3_percent_raises_a_warning(certified, acme, owner):
    # R&D 250 of revenue 10,000 → 2.5%
    set_figures(acme, rd="250")
    monitoring.annual_update_submit(enterprise=acme, by=owner)
    warning = warnings_of(certified)["rd_ratio"]
    assert warning.values == {"rd_ratio_y1": "0.0250"}
    assert list(warnings_of(certified)) == ["rd_ratio"]


def test_exactly_70_percent_and_exactly_3_percent_pass(certified, acme):
    set_figures(acme, liabilities="7000", rd="300")
    assert monitoring.monitoring_check(certified) == []


def test_a_holding_exclusion_is_a_warning_and_an_unknown_fact_is_not(certified, acme):
    # negative_false_info unknown (None): undecided, so no warning.
    assert monitoring.monitoring_check(certified) == []
    acme.negative_false_info = True
    acme.save()
    warnings = monitoring.monitoring_check(certified)
    assert [w.rule for w in warnings] == ["exclusion:false_info"]


def test_missing_figures_raise_no_warning(acme, certifier, clock):
    certification = certifier.certify(acme, issued_on=date(2025, 3, 1))
    set_figures(acme, liabilities=None, rd=None)  # debt and R&D ratios cannot be computed
    assert monitoring.monitoring_check(certification) == []
    assert not MonitoringWarning.objects.exists()


def test_the_check_is_idempotent(certified, acme):
    set_figures(acme, liabilities="8000", rd="100")
    first = monitoring.monitoring_check(certified)
    audits = AuditEvent.objects.filter(action="monitoring.checked").count()
    second = monitoring.monitoring_check(certified)
    assert [w.pk for w in first] == [w.pk for w in second]
    assert sorted(w.rule for w in second) == ["debt_ratio", "rd_ratio"]
    assert MonitoringWarning.objects.count() == 2
    assert AuditEvent.objects.filter(action="monitoring.checked").count() == audits


def test_corrected_figures_resolve_the_warning_automatically(certified, acme):
    set_figures(acme, liabilities="8000", rd="100")
    monitoring.monitoring_check(certified)
    # when: the debt is paid down, the R&D ratio still fails
    set_figures(acme, liabilities="6000", rd="100")
    open_now = monitoring.monitoring_check(certified)
    # then
    assert [w.rule for w in open_now] == ["rd_ratio"]
    resolved = MonitoringWarning.objects.get(certification=certified, rule="debt_ratio")
    assert resolved.resolved_at is not None
    assert resolved.resolved_by is None
    assert resolved.resolution == "figures now meet the condition"


def test_a_warning_resolved_automatically_opens_again_if_the_figures_fail_again(certified, acme):
    set_figures(acme, liabilities="8000")
    monitoring.monitoring_check(certified)
    set_figures(acme, liabilities="5000")
    monitoring.monitoring_check(certified)
    set_figures(acme, liabilities="9000")
    warnings = monitoring.monitoring_check(certified)
    assert [(w.rule, w.values) for w in warnings] == [("debt_ratio", {"debt_ratio_y1": "0.9000"})]
    assert MonitoringWarning.objects.count() == 1


def test_a_warning_an_official_resolved_stays_resolved(certified, acme, nanming_official):
    set_figures(acme, liabilities="8000")
    [warning] = monitoring.monitoring_check(certified)
    monitoring.warning_resolve(
        warning=warning, by=nanming_official, resolution="并购导致负债临时上升，已核实"
    )
    assert monitoring.monitoring_check(certified) == []
    warning.refresh_from_db()
    assert warning.resolution == "并购导致负债临时上升，已核实"


def test_the_values_of_an_open_warning_follow_the_figures(certified, acme):
    set_figures(acme, liabilities="8000")
    monitoring.monitoring_check(certified)
    set_figures(acme, liabilities="9000")
    [warning] = monitoring.monitoring_check(certified)
    assert warning.values == {"debt_ratio_y1": "0.9000"}


def test_the_reverification_version_is_used_when_the_tenant_chose_one(certified, acme, monitored):
    program, _version = monitored
    stricter = CriteriaVersion.objects.create(
        program=program,
        label="复核口径",
        effective_from=date(2026, 1, 1),
        definition={
            **MONITORED,
            "base_conditions": [
                {
                    "key": "debt_ratio_60",
                    "label": "资产负债率不高于60%",
                    "expr": "debt_ratio_y1 <= 0.60",
                    "source": "t",
                }
            ],
            "exclusions": [],
        },
    )
    program.reverification_version = stricter
    program.save()
    set_figures(acme, liabilities="6500")  # 65%: fine under 70%, not under 60%
    certified.refresh_from_db()
    assert [w.rule for w in monitoring.monitoring_check(certified)] == ["debt_ratio_60"]


# --- the daily run ---------------------------------------------------------------------------------


def test_the_daily_run_checks_the_updated_and_a_second_run_changes_nothing(
    certified, acme, owner, certifier, gz, clock
):
    # given: acme confirmed healthy figures, then corrected its 2025 figures (debt 80%) afterwards
    monitoring.annual_update_submit(enterprise=acme, by=owner)
    set_figures(acme, liabilities="8000")
    # another certified enterprise with failing figures that has not confirmed them: not checked
    other = make_enterprise(gz, "520102", 40, name="贵州未报企业有限公司")
    set_figures(other, rd="10")
    certifier.certify(other, issued_on=date(2025, 3, 1))
    # when
    first = monitoring.monitoring_run(day=date(2026, 4, 21))
    state = list(MonitoringWarning.objects.order_by("pk").values_list("rule", "resolved_at", "values"))
    audits = AuditEvent.objects.count()
    second = monitoring.monitoring_run(day=date(2026, 4, 21))
    # then
    assert first == {"checked": 1, "warnings": 1, "resolved": 0}
    assert second == {"checked": 1, "warnings": 0, "resolved": 0}
    assert state == list(
        MonitoringWarning.objects.order_by("pk").values_list("rule", "resolved_at", "values")
    )
    assert [w.rule for w in MonitoringWarning.objects.all()] == ["debt_ratio"]
    assert AuditEvent.objects.count() == audits


def test_the_daily_run_resolves_what_the_figures_now_meet(certified, acme, owner):
    set_figures(acme, rd="100")
    monitoring.annual_update_submit(enterprise=acme, by=owner)
    set_figures(acme, rd="400")
    assert monitoring.monitoring_run(day=date(2026, 4, 22)) == {"checked": 1, "warnings": 0, "resolved": 1}
    assert warnings_of(certified) == {}


def test_the_daily_run_stays_in_its_tenant_and_skips_revoked_certifications(
    certified, acme, owner, certifier, gz, xz
):
    set_figures(acme, rd="100")
    monitoring.annual_update_submit(enterprise=acme, by=owner)
    MonitoringWarning.objects.all().delete()
    assert monitoring.monitoring_run(day=date(2026, 4, 21), tenant=xz)["checked"] == 0
    Certification.objects.filter(pk=certified.pk).update(status=Certification.Status.REVOKED)
    assert monitoring.monitoring_run(day=date(2026, 4, 21), tenant=gz)["checked"] == 0
    assert not MonitoringWarning.objects.exists()


def test_the_daily_run_reads_a_constant_number_of_queries(certified, acme, owner, certifier, gz):
    monitoring.annual_update_submit(enterprise=acme, by=owner)

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            monitoring.monitoring_run(day=date(2026, 4, 21))
        return len(ctx.captured_queries)

    one = queries()
    for serial in range(41, 45):
        e = make_enterprise(gz, "520102", serial, name=f"贵州监测企业{serial}有限公司", admin=UserFactory())
        set_figures(e)
        certifier.certify(e, issued_on=date(2025, 3, 1))
        AnnualUpdate.objects.create(tenant=gz, enterprise=e, year=2026, fiscal_year=2025)
    assert queries() == one


def test_the_lifecycle_daily_job_runs_the_hook_once_a_day(certified, acme, owner, monkeypatch):
    from certification import lifecycle

    monkeypatch.setattr(lifecycle, "DAILY_HOOKS", [monitoring.monitoring_daily])
    monitoring.annual_update_submit(enterprise=acme, by=owner)
    set_figures(acme, rd="100")
    run = lifecycle.run_daily(day=date(2026, 4, 21))
    assert run.stats["monitoring_checked"] == 1
    assert run.stats["monitoring_warnings"] == 1
    assert lifecycle.run_daily(day=date(2026, 4, 21)) is None  # the day is done
    forced = lifecycle.run_daily(day=date(2026, 4, 21), force=True)
    assert (forced.stats["monitoring_checked"], forced.stats["monitoring_warnings"]) == (1, 0)
    assert MonitoringWarning.objects.count() == 1


# --- the officials' status -------------------------------------------------------------------------


@pytest.fixture
def population(certified, acme, owner, certifier, gz, neighbour, clock):
    """南明区: acme on time, rival missing; 云岩区: late; 南明区: an uncertified and an expired one."""
    monitoring.annual_update_submit(enterprise=acme, by=owner)
    rival = make_enterprise(gz, "520102", 50, name="贵州南明未报有限公司")
    set_figures(rival)
    certifier.certify(rival, issued_on=date(2025, 3, 1))
    set_figures(neighbour)
    certifier.certify(neighbour, issued_on=date(2025, 3, 1))
    clock.move_to(datetime(2026, 5, 6, 9, 0, tzinfo=SHANGHAI))
    monitoring.annual_update_submit(enterprise=neighbour, by=neighbour.memberships.get().user)
    make_enterprise(gz, "520102", 51, name="贵州未认定有限公司")
    expired = make_enterprise(gz, "520102", 52, name="贵州已过期有限公司")
    certifier.certify(expired, issued_on=date(2022, 3, 1), status=Certification.Status.EXPIRED)
    return {"acme": acme, "rival": rival, "yunyan": neighbour}


def test_the_status_counts_the_certified_enterprises_in_scope(population, gz):
    status = monitoring.annual_update_status(gz, gz.root_region, 2026)
    assert (status.certified, status.submitted, status.late, status.not_submitted) == (3, 2, 1, 1)
    assert status.deadline == date(2026, 4, 30)
    assert status.days_overdue == 6
    assert list(status.missing) == [population["rival"]]
    [guiyang] = status.by_region
    assert guiyang["region"].code == "520100"
    assert (guiyang["certified"], guiyang["on_time"], guiyang["late"], guiyang["not_submitted"]) == (
        3,
        1,
        1,
        1,
    )


def test_the_status_of_a_county_counts_only_its_enterprises(population, gz):
    status = monitoring.annual_update_status(gz, region(gz, "520103"), 2026)
    assert (status.certified, status.submitted, status.late) == (1, 1, 1)
    assert list(status.missing) == []
    assert [r["region"].code for r in status.by_region] == ["520103"]


def test_the_status_of_another_year_counts_nobody_as_submitted(population, gz):
    status = monitoring.annual_update_status(gz, gz.root_region, 2027)
    assert (status.certified, status.submitted) == (3, 0)


def test_the_status_costs_a_constant_number_of_queries(population, gz, certifier):
    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            status = monitoring.annual_update_status(gz, gz.root_region, 2026)
            seen = [
                (e.county.name, [c.program.name for c in e.active_certifications]) for e in status.missing
            ]
            assert seen
        return len(ctx.captured_queries)

    before = queries()
    for serial in range(60, 64):
        e = make_enterprise(gz, "520302", serial, name=f"遵义企业{serial}有限公司")
        certifier.certify(e, issued_on=date(2025, 3, 1))
    assert queries() == before


# --- resolving a warning ---------------------------------------------------------------------------


@pytest.fixture
def warning(certified, acme):
    set_figures(acme, liabilities="8000")
    return monitoring.monitoring_check(certified)[0]


def test_resolving_a_warning_needs_a_resolution(warning, nanming_official):
    with pytest.raises(MonitoringRefused) as info:
        monitoring.warning_resolve(warning=warning, by=nanming_official, resolution="  ")
    assert set(info.value.fields) == {"resolution"}
    warning.refresh_from_db()
    assert warning.resolved_at is None


def test_an_official_resolves_a_warning_in_their_region_once(warning, guiyang_official, province_reviewer):
    resolved = monitoring.warning_resolve(
        warning=warning, by=guiyang_official, resolution="已上门核实，企业正在整改"
    )
    assert resolved.resolved_by == guiyang_official
    assert AuditEvent.objects.filter(action="monitoring.warning_resolved", object_id=str(warning.pk)).exists()
    with pytest.raises(MonitoringRefused) as info:
        monitoring.warning_resolve(warning=warning, by=province_reviewer, resolution="再次处理")
    assert info.value.code == "already_resolved"


@pytest.mark.parametrize("who", ["yunyan", "zunyi", "xz_admin", "expert"])
def test_officials_outside_the_region_cannot_resolve_a_warning(warning, who, request, gz):
    user = {
        "yunyan": lambda: request.getfixturevalue("yunyan_official"),
        "zunyi": lambda: request.getfixturevalue("zunyi_official"),
        "xz_admin": lambda: request.getfixturevalue("xz_admin"),
        "expert": lambda: official(gz, "520000", Post.Role.EXPERT, username="an_expert"),
    }[who]()
    with pytest.raises(MonitoringRefused) as info:
        monitoring.warning_resolve(warning=warning, by=user, resolution="越权")
    assert info.value.status_code == 404
    warning.refresh_from_db()
    assert warning.resolved_at is None


# --- change reports --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("occurred", "last_day_on_time"),
    [
        (date(2025, 11, 30), date(2026, 2, 28)),  # no 30 February: the month's last day
        (date(2023, 11, 30), date(2024, 2, 29)),  # leap year
        (date(2026, 8, 31), date(2026, 11, 30)),
        (date(2026, 1, 31), date(2026, 4, 30)),
        (date(2026, 1, 15), date(2026, 4, 15)),
        (date(2025, 12, 31), date(2026, 3, 31)),
    ],
)
def test_a_change_is_on_time_up_to_three_months_later_and_late_the_day_after(occurred, last_day_on_time):
    from datetime import timedelta

    assert monitoring.change_report_due(occurred) == last_day_on_time
    assert monitoring.change_report_is_late(occurred, last_day_on_time) is False
    assert monitoring.change_report_is_late(occurred, last_day_on_time + timedelta(days=1)) is True


def test_a_change_of_30_november_reported_on_1_march_is_late(certified, acme, owner, clock):
    clock.move_to(datetime(2026, 3, 1, 9, 0, tzinfo=SHANGHAI))
    report = monitoring.change_report_file(
        enterprise=acme,
        by=owner,
        kind="rename",
        occurred_on=date(2025, 11, 30),
        description="企业名称变更",
        new_name="贵州黔芯智能装备有限公司",
    )
    assert report.late is True
    clock.move_to(datetime(2026, 2, 28, 23, 0, tzinfo=SHANGHAI))
    on_time = monitoring.change_report_file(
        enterprise=acme,
        by=owner,
        kind="rename",
        occurred_on=date(2025, 11, 30),
        description="企业名称变更",
        new_name="贵州黔芯智能装备有限公司",
    )
    assert on_time.late is False


@pytest.fixture
def officials_told(gz, nanming_official, yunyan_official, province_reviewer, province_approver, gz_admin):
    return {"county": nanming_official, "province": [province_reviewer, province_approver]}


def test_filing_a_change_report_tells_the_county_and_the_province(
    certified,
    acme,
    owner,
    officials_told,
    yunyan_official,
    gz_admin,
    media,
    django_capture_on_commit_callbacks,
):
    document = add_document(acme, "business_licence", name="新营业执照.pdf")
    with django_capture_on_commit_callbacks(execute=True):
        report = monitoring.change_report_file(
            enterprise=acme,
            by=owner,
            kind=ChangeReport.Kind.RENAME,
            occurred_on=date(2026, 3, 2),
            description="经市场监管部门核准，企业名称变更。",
            new_name="贵州黔芯智能装备有限公司",
            documents=[document],
        )
    assert (report.state, report.late, report.new_name) == ("submitted", False, "贵州黔芯智能装备有限公司")
    assert list(report.documents.all()) == [document]
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"nanming", "gz_reviewer", "gz_approver"}
    note = Notification.objects.filter(recipient=officials_told["county"]).get()
    assert note.link == f"/gz/monitoring/change-reports/{report.pk}/"
    assert AuditEvent.objects.filter(
        action="monitoring.change_report_filed", object_id=str(report.pk)
    ).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_on": date(2026, 4, 21)}, "occurred_on"),  # tomorrow
        ({"kind": "rename", "new_name": ""}, "new_name"),
        ({"kind": "rename", "new_name": "贵州黔芯精密机械有限公司"}, "new_name"),  # the current name
        ({"description": "   "}, "description"),
        ({"kind": "bankrupt"}, "kind"),
    ],
)
def test_a_change_report_is_refused_naming_the_field(certified, acme, owner, changes, field):
    data = {
        "kind": "merger",
        "occurred_on": date(2026, 4, 1),
        "description": "吸收合并贵州某精工有限公司",
        "new_name": "",
        **changes,
    }
    before = stored(acme)
    with pytest.raises(MonitoringRefused) as info:
        monitoring.change_report_file(enterprise=acme, by=owner, **data)
    assert field in info.value.fields
    assert stored(acme) == before


def test_only_the_enterprises_clean_documents_may_be_attached(certified, acme, owner, neighbour, media):
    pending = add_document(acme, "other", clean=False, name="pending.pdf")
    theirs = add_document(neighbour, "other", name="theirs.pdf")
    for document in (pending, theirs):
        with pytest.raises(MonitoringRefused) as info:
            monitoring.change_report_file(
                enterprise=acme,
                by=owner,
                kind="move_out",
                occurred_on=date(2026, 4, 1),
                description="迁出贵州省",
                documents=[document],
            )
        assert document.original_name in info.value.fields["documents"][0]
    assert not ChangeReport.objects.exists()
    assert Document.objects.count() == 2


def test_an_outsider_or_an_uncertified_enterprise_cannot_file(certified, acme, outsider, neighbour):
    with pytest.raises(MonitoringRefused) as info:
        monitoring.change_report_file(
            enterprise=acme, by=outsider, kind="other", occurred_on=date(2026, 4, 1), description="x"
        )
    assert info.value.code == "not_member"
    owner = neighbour.memberships.get().user
    with pytest.raises(MonitoringRefused) as info:
        monitoring.change_report_file(
            enterprise=neighbour,
            by=owner,
            kind="other",
            occurred_on=date(2026, 4, 1),
            description="x",
        )
    assert info.value.code == "not_certified"


@pytest.fixture
def report(certified, acme, owner):
    return monitoring.change_report_file(
        enterprise=acme,
        by=owner,
        kind=ChangeReport.Kind.RENAME,
        occurred_on=date(2026, 3, 2),
        description="企业名称变更",
        new_name="贵州黔芯智能装备有限公司",
    )


def test_asking_for_action_needs_a_note_then_the_report_can_be_accepted(
    report, nanming_official, province_approver, owner, django_capture_on_commit_callbacks
):
    with pytest.raises(MonitoringRefused) as info:
        monitoring.change_report_review(report=report, by=nanming_official, state="action", note="")
    assert set(info.value.fields) == {"note"}
    with django_capture_on_commit_callbacks(execute=True):
        monitoring.change_report_review(
            report=report, by=nanming_official, state="action", note="请上传变更后的营业执照"
        )
    report.refresh_from_db()
    assert (report.state, report.review_note, report.reviewed_by) == (
        "action",
        "请上传变更后的营业执照",
        nanming_official,
    )
    assert Notification.objects.filter(recipient=owner, subject__contains="action").exists()
    monitoring.change_report_review(report=report, by=province_approver, state="accepted")
    report.refresh_from_db()
    assert report.state == "accepted"
    with pytest.raises(MonitoringRefused) as info:
        monitoring.change_report_review(report=report, by=province_approver, state="action", note="再补充")
    assert info.value.code == "already_accepted"


def test_a_review_outside_the_region_is_refused(report, yunyan_official, xz_admin):
    for user in (yunyan_official, xz_admin):
        with pytest.raises(MonitoringRefused) as info:
            monitoring.change_report_review(report=report, by=user, state="accepted")
        assert info.value.status_code == 404
    report.refresh_from_db()
    assert report.state == "submitted"
