"""Targets and designations: the pace arithmetic, how each window counts, and the pages that record them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from certification.models import Certification, MonitoringWarning, Revocation
from enterprises.models import AnnualFigures, Enterprise
from funding.models import Entitlement
from portal.models import AuditEvent, Post, Region
from reports.metrics import Progress, TargetSpec, target_counts
from reports.models import Designation, Target
from tests.conftest import official, region
from tests.enterprises.conftest import make_enterprise

pytestmark = pytest.mark.django_db

TODAY = date(2026, 1, 1)

User = get_user_model()


# --- the pace ----------------------------------------------------------------------------------------


def test_the_pace_spreads_what_remains_over_the_years_left():
    # given 20 of 50 reached, with 730 days left counting the deadline itself (two years)
    p = Progress(value=50, count=20, deadline=TODAY + timedelta(days=729), today=TODAY)
    assert p.days_left == 730
    assert (p.remaining, str(p.percent), p.pace_per_year, p.status) == (30, "40.0", 15, "open")


def test_the_pace_is_rounded_up_to_whole_enterprises():
    # 10 remain, 200 days left: 10 × 365 / 200 = 18.25 a year, so 19
    p = Progress(value=10, count=0, deadline=TODAY + timedelta(days=199), today=TODAY)
    assert p.pace_per_year == 19


def test_on_the_deadline_day_the_whole_gap_is_needed_at_a_yearly_rate():
    p = Progress(value=5, count=2, deadline=TODAY, today=TODAY)
    assert (p.days_left, p.pace_per_year) == (1, 3 * 365)


def test_a_target_past_its_deadline_has_no_pace_and_is_missed_or_met():
    missed = Progress(value=30, count=12, deadline=TODAY - timedelta(days=1), today=TODAY)
    assert (missed.pace_per_year, missed.status, missed.remaining) == (None, "missed", 18)
    met = Progress(value=30, count=31, deadline=TODAY - timedelta(days=1), today=TODAY)
    assert (met.pace_per_year, met.status, met.remaining, str(met.percent)) == (0, "met", 0, "103.3")


def test_percentages_round_half_up_to_one_decimal():
    assert str(Progress(value=3, count=2, deadline=TODAY, today=TODAY).percent) == "66.7"
    assert str(Progress(value=8, count=1, deadline=TODAY, today=TODAY).percent) == "12.5"


# --- windows -------------------------------------------------------------------------------------------


def spec(target: Target) -> TargetSpec:
    return TargetSpec.of(Target.objects.select_related("region").get(pk=target.pk))


def test_a_past_deadline_counts_what_was_in_force_on_it(world):
    # given a target that ended last year, e3's old certification (expired now) was in force on it
    today = timezone.localdate()
    deadline = date(today.year - 3, 12, 31)
    target = Target.objects.create(
        tenant=world.tenant,
        region=region(world.tenant, "520000"),
        metric="srdi",
        value=5,
        deadline=deadline,
        source="x",
    )
    counts = target_counts(world.tenant.pk, [spec(target)], today)
    # e3's certification issued in year-5, valid until year-2: in force on the deadline, expired today
    assert counts[target.pk] == 1
    # when it had been revoked before the deadline it would not count
    old = world.certifications["e3_old"]
    Certification.objects.filter(pk=old.pk).update(status="revoked")
    Revocation.objects.create(
        tenant=world.tenant,
        certification=old,
        ground="other",
        reason="测试",
        revoked_on=deadline - timedelta(days=1),
    )
    assert target_counts(world.tenant.pk, [spec(target)], today)[target.pk] == 0


def test_a_yearly_target_counts_what_was_certified_in_the_year_revocations_aside(world):
    today = timezone.localdate()
    target = Target.objects.create(
        tenant=world.tenant,
        region=region(world.tenant, "520000"),
        metric="srdi_all",
        value=5,
        counts_from=date(today.year, 1, 1),
        deadline=date(today.year, 12, 31),
        source="x",
    )
    # e3's little giant and e5's SRDI were issued this year; e4's was revoked
    assert target_counts(world.tenant.pk, [spec(target)], today)[target.pk] == 2


def test_a_programme_target_counts_that_programme_only(world):
    target = Target.objects.create(
        tenant=world.tenant,
        region=region(world.tenant, "520100"),
        metric="programme",
        program=world.programs["innovative"],
        value=3,
        deadline=date(2030, 12, 31),
        source="x",
    )
    assert target_counts(world.tenant.pk, [spec(target)], timezone.localdate())[target.pk] == 1  # e1


def test_each_enterprise_carries_the_tiers_it_holds_in_force(world):
    e = world.enterprises
    tiers = dict(
        Enterprise.objects.filter(pk__in=[x.pk for x in e.values()]).values_list("pk", "tiers_in_force")
    )
    assert tiers[e["e1"].pk] == "|innovative|srdi|"  # two programmes in force
    assert tiers[e["e3"].pk] == "|little_giant|"  # its old SRDI certification has expired
    assert tiers[e["e4"].pk] == ""  # revoked
    # a certification that ends takes its tier with it (Certification.save, as the lifecycle does)
    cert = world.certifications["e1_cxx"]
    cert.status = Certification.Status.EXPIRED
    cert.save()
    assert Enterprise.objects.get(pk=e["e1"].pk).tiers_in_force == "|srdi|"
    srdi = world.certifications["e1_srdi"]
    srdi.status = Certification.Status.REVOKED
    srdi.save()
    e1 = Enterprise.objects.get(pk=e["e1"].pk)
    assert (e1.tiers_in_force, e1.directory_listed) == ("", False)
    # and a deleted one (post_delete): e5's only certification
    Entitlement.objects.filter(certification=world.certifications["e5_srdi"]).delete()
    MonitoringWarning.objects.filter(certification=world.certifications["e5_srdi"]).delete()
    world.certifications["e5_srdi"].delete()
    assert Enterprise.objects.get(pk=e["e5"].pk).tiers_in_force == ""


@pytest.mark.parametrize("metric", ["innovative", "srdi", "little_giant", "srdi_all", "srdi_revenue_1e8"])
@pytest.mark.parametrize("code", ["520000", "520100", "520102", "520300"])
def test_in_force_counts_agree_with_the_certifications_row_by_row(world, metric, code):
    """Targets in force today are counted from Enterprise.tiers_in_force; the same number, counted here from
    the certifications themselves, each enterprise once."""
    today = timezone.localdate()
    target = Target.objects.create(
        tenant=world.tenant,
        region=region(world.tenant, code),
        metric=metric,
        value=10,
        deadline=date(today.year + 2, 12, 31),
        source="x",
    )
    tiers = {"srdi_all": {"srdi", "little_giant"}, "srdi_revenue_1e8": {"srdi", "little_giant"}}.get(
        metric, {metric}
    )
    above = set(
        AnnualFigures.objects.filter(fiscal_year=today.year - 1, main_business_revenue__gt=10000).values_list(
            "enterprise_id", flat=True
        )
    )
    path = target.region.path
    holders = {
        c.enterprise_id
        for c in Certification.objects.filter(tenant=world.tenant).select_related(
            "program", "enterprise__county"
        )
        if c.status == "active"
        and c.program.tier in tiers
        and c.enterprise.county.path.startswith(path)
        and (metric != "srdi_revenue_1e8" or c.enterprise_id in above)
    }
    assert target_counts(world.tenant.pk, [spec(target)], today)[target.pk] == len(holders)
    if (metric, code) in {("srdi_all", "520100"), ("srdi", "520000")}:
        assert len(holders) == 3  # e1, e2, e3 / e1, e2, e5: the fixture is not empty where it matters


def test_the_counts_take_one_query_per_family_whatever_the_number_of_targets(
    world, django_assert_num_queries
):
    specs = [spec(t) for t in world.targets.values()]
    # the counties' paths, then certifications, revenue, external certifications, designations, review events
    with django_assert_num_queries(6):
        target_counts(world.tenant.pk, specs, timezone.localdate())
    paths = dict(Region.objects.filter(tenant=world.tenant, level="county").values_list("pk", "path"))
    more = specs + [spec(t) for t in world.targets.values()]
    with django_assert_num_queries(5):
        counts = target_counts(world.tenant.pk, more, timezone.localdate(), county_paths=paths)
    assert counts == target_counts(world.tenant.pk, specs, timezone.localdate())


# --- the targets page ---------------------------------------------------------------------------------


def page_url(tenant, name="reports_targets", **kw):
    return reverse(name, kwargs={"tenant_code": tenant.code, **kw})


def post_target(client, tenant, **fields):
    data = {
        "region": "520102",
        "metric": "srdi",
        "program": "",
        "value": "12",
        "baseline": "",
        "counts_from": "",
        "deadline": "2027-12-31",
        "source": "某某方案：到2027年培育12家",
    }
    return client.post(page_url(tenant), data | fields)


def test_a_county_official_records_a_target_for_its_county(client, gz, nanming_official):
    client.force_login(User.objects.get(username="nanming"))
    response = post_target(client, gz)
    assert response.status_code == 302
    target = Target.objects.get(tenant=gz)
    assert (target.region.code, target.metric, target.value, target.deadline) == (
        "520102",
        "srdi",
        12,
        date(2027, 12, 31),
    )
    assert target.created_by == nanming_official
    event = AuditEvent.objects.get(action="target.created")
    assert event.actor == nanming_official and event.object_id == str(target.pk)
    assert "12" in client.get(page_url(gz)).content.decode()


def test_a_county_official_cannot_record_a_target_above_its_county(client, gz, nanming_official):
    client.force_login(User.objects.get(username="nanming"))
    response = post_target(client, gz, region="520100")
    assert response.status_code == 400
    assert 'data-testid="problem-summary"' in response.content.decode()
    assert not Target.objects.exists()


def test_a_programme_target_names_the_missing_programme(client, gz, guiyang_official):
    client.force_login(User.objects.get(username="guiyang"))
    response = post_target(client, gz, region="520100", metric="programme")
    assert response.status_code == 400
    body = response.content.decode()
    assert 'href="#id_program"' in body
    assert not Target.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="target.").exists()


def test_a_start_after_the_deadline_is_refused_with_the_field(client, gz, guiyang_official):
    client.force_login(User.objects.get(username="guiyang"))
    response = post_target(client, gz, region="520100", counts_from="2028-01-01")
    assert response.status_code == 400
    assert 'href="#id_counts_from"' in response.content.decode()
    assert not Target.objects.exists()


def test_a_target_is_changed_and_deleted_with_an_audit_trail(client, gz, guiyang_official):
    client.force_login(User.objects.get(username="guiyang"))
    post_target(client, gz, region="520100")
    target = Target.objects.get()
    edit = page_url(gz, "reports_target_edit", pk=target.pk)
    assert client.get(edit).status_code == 200
    data = {
        "region": "520102",
        "metric": "srdi",
        "program": "",
        "value": "15",
        "baseline": "3",
        "counts_from": "",
        "deadline": "2027-12-31",
        "source": "改",
    }
    assert client.post(edit, data).status_code == 302
    target.refresh_from_db()
    assert (target.value, target.baseline, target.region.code) == (15, 3, "520102")
    changed = AuditEvent.objects.get(action="target.changed")
    assert changed.changes["value"] == ["12", "15"]
    assert client.post(page_url(gz, "reports_target_delete", pk=target.pk)).status_code == 302
    assert not Target.objects.exists()
    assert AuditEvent.objects.filter(action="target.deleted").count() == 1


def test_targets_outside_the_region_or_tenant_are_404(client, gz, xz, nanming_official, xz_admin):
    guiyang = Target.objects.create(
        tenant=gz, region=region(gz, "520100"), metric="srdi", value=3, deadline=date(2027, 1, 1), source="x"
    )
    client.force_login(User.objects.get(username="nanming"))
    assert client.get(page_url(gz, "reports_target_edit", pk=guiyang.pk)).status_code == 404
    assert client.post(page_url(gz, "reports_target_delete", pk=guiyang.pk)).status_code == 404
    assert Target.objects.filter(pk=guiyang.pk).exists()
    client.logout()
    client.force_login(User.objects.get(username="xzadmin"))
    assert client.get(page_url(gz)).status_code == 404
    assert client.get(page_url(xz, "reports_target_edit", pk=guiyang.pk)).status_code == 404


def test_a_funding_officer_reads_the_dashboard_but_keeps_no_targets(client, gz):
    official(gz, "520000", Post.Role.FUNDING_OFFICER, username="gzfunding")
    client.force_login(User.objects.get(username="gzfunding"))
    assert client.get(reverse("region_dashboard", kwargs={"tenant_code": gz.code})).status_code == 200
    assert client.get(page_url(gz)).status_code == 404
    assert client.get(page_url(gz, "reports_designations")).status_code == 404


# --- designations --------------------------------------------------------------------------------------


def test_a_designation_is_recorded_by_credit_code_and_counted(client, gz, guiyang_official):
    enterprise = make_enterprise(gz, "520102", 31, name="上市公司有限公司")
    client.force_login(User.objects.get(username="guiyang"))
    data = {
        "uscc": enterprise.uscc.lower(),
        "kind": "listed",
        "on": "2025-06-30",
        "reference": "股票代码 688001",
    }
    response = client.post(page_url(gz, "reports_designations"), data)
    assert response.status_code == 302
    designation = Designation.objects.get()
    assert (designation.enterprise, designation.kind, designation.recorded_by) == (
        enterprise,
        "listed",
        guiyang_official,
    )
    assert AuditEvent.objects.filter(action="designation.recorded", actor=guiyang_official).count() == 1
    # a second time is refused, naming the field
    response = client.post(page_url(gz, "reports_designations"), data)
    assert response.status_code == 400 and 'href="#id_kind"' in response.content.decode()
    target = Target.objects.create(
        tenant=gz,
        region=region(gz, "520100"),
        metric="listed",
        value=1,
        deadline=date(2026, 12, 31),
        source="x",
    )
    assert target_counts(gz.pk, [spec(target)], date(2026, 1, 1))[target.pk] == 1
    client.post(page_url(gz, "reports_designation_delete", pk=designation.pk))
    assert not Designation.objects.exists()
    assert target_counts(gz.pk, [spec(target)], date(2026, 1, 1))[target.pk] == 0


def test_an_enterprise_outside_the_region_reads_as_absent(client, gz, xz, nanming_official):
    zunyi = make_enterprise(gz, "520302", 32, name="遵义企业有限公司")
    tibet = make_enterprise(xz, "540102", 33, name="西藏企业有限公司")
    client.force_login(User.objects.get(username="nanming"))
    for enterprise in (zunyi, tibet):
        data = {"uscc": enterprise.uscc, "kind": "demonstration", "on": "2025-06-30", "reference": "x"}
        response = client.post(page_url(gz, "reports_designations"), data)
        assert response.status_code == 400
        assert 'href="#id_uscc"' in response.content.decode()
    assert not Designation.objects.exists()
