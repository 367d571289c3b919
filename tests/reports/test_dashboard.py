"""The regional dashboard: its numbers agree with the database for a provincial, a prefecture and a county
official (counted again here, in Python, from the rows), a chart shows its table's numbers, the cache
follows the data, other tenants and regions outside the scope are absent, and the query count is constant."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification.models import (
    Application,
    Certification,
    CommissionerAssignment,
    MonitoringWarning,
    Program,
    RoundStage,
    Visit,
)
from funding.models import Entitlement
from portal.models import AuditEvent, Region
from reports import aggregates
from tests.conftest import region
from tests.enterprises.conftest import make_enterprise
from tests.reports.conftest import number, read_page

pytestmark = pytest.mark.django_db


def url(tenant, **query) -> str:
    base = reverse("region_dashboard", kwargs={"tenant_code": tenant.code})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def signed_in(client, user):
    client.force_login(user)
    return client


# --- the same numbers, counted in Python from the rows ---------------------------------------------


def expected(tenant, path: str) -> dict:
    """What the dashboard of the region at `path` must show, from plain fetches and Python loops."""
    today = timezone.localdate()
    year = today.year
    region_ = Region.objects.get(tenant=tenant, path=path)
    children = list(Region.objects.filter(parent=region_).values_list("code", "path")) or [
        (region_.code, path)
    ]
    certs = list(
        Certification.objects.filter(tenant=tenant).values(
            "enterprise_id",
            "status",
            "program__name",
            "issued_on",
            "valid_until",
            "enterprise__county__path",
            "enterprise__industry_id",
        )
    )
    mine = [c for c in certs if c["enterprise__county__path"].startswith(path)]
    active = [c for c in mine if c["status"] == "active"]
    out = {
        "certified": len({c["enterprise_id"] for c in active}),
        "by_child": {
            code: len({c["enterprise_id"] for c in active if c["enterprise__county__path"].startswith(p)})
            for code, p in children
        },
        "by_program": {},
        "by_section": {},
        "by_year": {},
    }
    # enterprises per programme; certifications (an enterprise in two programmes counts twice) per industry
    # section and per year of issue
    programmes: dict[str, set] = {}
    for c in active:
        programmes.setdefault(c["program__name"], set()).add(c["enterprise_id"])
    out["by_program"] = {k: len(v) for k, v in programmes.items()}
    for key, getter in (
        ("by_section", lambda c: c["enterprise__industry_id"][0]),
        ("by_year", lambda c: str(c["issued_on"].year)),
    ):
        for c in active:
            out[key][getter(c)] = out[key].get(getter(c), 0) + 1
    apps = list(
        Application.objects.filter(tenant=tenant).values(
            "state", "level", "round_id", "round__year", "county__path", "current_region__path"
        )
    )
    in_year = [a for a in apps if a["round__year"] == year and a["county__path"].startswith(path)]
    funnel = {}
    for a in in_year:
        key = a["level"] if a["state"] in ("submitted", "in_review") else a["state"]
        funnel[key] = funnel.get(key, 0) + 1
    out["funnel"] = funnel
    deadlines = {(s.round_id, s.level): s.deadline for s in RoundStage.objects.all()}
    now = timezone.now()
    out["overdue"] = sum(
        1
        for a in apps
        if a["state"] in ("submitted", "in_review")
        and a["current_region__path"].startswith(path)
        and deadlines.get((a["round_id"], a["level"]), now) < now
    )
    out["expiring"] = sum(1 for c in active if today <= c["valid_until"] <= today + timedelta(days=90))
    out["warnings"] = sum(
        1
        for w in MonitoringWarning.objects.filter(tenant=tenant, resolved_at=None).select_related(
            "enterprise__county"
        )
        if w.enterprise.county.path.startswith(path)
    )
    cutoff = today - timedelta(days=92)
    certified_ids = {c["enterprise_id"] for c in active}
    visited = {v.enterprise_id for v in Visit.objects.filter(tenant=tenant) if v.visited_on >= cutoff}
    out["visits"] = sum(
        1
        for a in CommissionerAssignment.objects.filter(tenant=tenant, ended_on=None).select_related(
            "enterprise__county"
        )
        if a.enterprise.county.path.startswith(path)
        and a.enterprise_id in certified_ids
        and a.started_on < cutoff
        and a.enterprise_id not in visited
    )
    awards = [
        e
        for e in Entitlement.objects.filter(tenant=tenant).select_related("enterprise__county", "budget")
        if e.enterprise.county.path.startswith(path)
    ]
    out["approved"] = sum(1 for e in awards if e.state in ("approved", "paid") and e.budget.year == year)
    out["paid"] = sum(1 for e in awards if e.state == "paid" and e.budget.year == year)
    out["pending"] = sum(1 for e in awards if e.state == "pending")
    return out


FUNNEL_KEYS = {
    "draft": "draft",
    "county": "county",
    "prefecture": "prefecture",
    "province": "province",
    "returned": "returned",
    "approved": "approved",
    "published": "published",
    "rejected": "rejected",
}


def assert_agrees(page, want: dict):
    tables = page.tables
    assert number(tables["programmes"]["total"]["n"]) == want["certified"]
    regions = {k: number(v["n"]) for k, v in tables["regions"].items() if k != "total"}
    assert regions == want["by_child"]
    programmes = {str(p.pk): p.name for p in Program.objects.all()}
    assert {programmes[k]: number(v["n"]) for k, v in tables["programmes"].items() if k != "total"} == want[
        "by_program"
    ]
    assert {k: number(v["n"]) for k, v in tables["industries"].items()} == want["by_section"]
    assert {k: number(v["n"]) for k, v in tables["years"].items()} == want["by_year"]
    funnel = {k: number(v["n"]) for k, v in tables["funnel"].items() if k != "total"}
    for key in FUNNEL_KEYS:
        assert funnel[key] == want["funnel"].get(key, 0), key
    attention = tables["attention"]["total"]
    assert number(attention["overdue"]) == want["overdue"]
    assert number(attention["expiring"]) == want["expiring"]
    assert number(attention["warnings"]) == want["warnings"]
    assert number(attention["visits"]) == want["visits"]
    awards = tables["awards"]
    assert number(awards["approved"]["n"]) == want["approved"]
    assert number(awards["paid"]["n"]) == want["paid"]
    assert number(awards["pending"]["n"]) == want["pending"]


def test_a_provincial_official_sees_the_whole_province(client, world, xz_world, province_reviewer):
    response = signed_in(client, province_reviewer).get(url(world.tenant))
    assert response.status_code == 200
    page = read_page(response)
    want = expected(world.tenant, "520000/")
    assert_agrees(page, want)
    # The fixture's own expectations, so that a wrong independent count cannot agree with a wrong page.
    assert want["certified"] == 4  # e1, e2, e3, e5 (e4's is revoked), and none of 西藏's
    assert want["by_child"]["520100"] == 3 and want["by_child"]["520300"] == 1
    assert want["overdue"] == 2 and want["expiring"] == 1 and want["warnings"] == 1 and want["visits"] == 1


def test_a_prefecture_official_sees_its_prefecture(client, world, guiyang_official):
    page = read_page(signed_in(client, guiyang_official).get(url(world.tenant)))
    want = expected(world.tenant, "520000/520100/")
    assert_agrees(page, want)
    assert want["certified"] == 3
    children = set(
        Region.objects.filter(tenant=world.tenant, parent__code="520100").values_list("code", flat=True)
    )
    assert set(page.tables["regions"]) == children | {"total"}
    assert want["overdue"] == 2  # e7 at 南明, e8 at 贵阳 itself; e9 waits at the province


def test_a_county_official_sees_its_county(client, world, nanming_official):
    page = read_page(signed_in(client, nanming_official).get(url(world.tenant)))
    want = expected(world.tenant, "520000/520100/520102/")
    assert_agrees(page, want)
    assert want["certified"] == 2 and want["overdue"] == 1 and want["funnel"]["county"] == 1


def test_targets_show_their_counts_and_the_pace(client, world, province_reviewer):
    page = read_page(signed_in(client, province_reviewer).get(url(world.tenant)))
    rows = page.tables["targets"]
    t = world.targets
    counts = {key: number(rows[str(target.pk)]["count"]) for key, target in t.items()}
    assert counts == {
        "province_srdi": 3,  # e1, e2, e5 (e4's is revoked; e3 holds a little giant)
        "guiyang_all": 3,  # e1, e2 (SRDI), e3 (little giant)
        "nanming_cxx": 1,  # e1
        "zunyi_revenue": 1,  # e5: 12000 万元 > 1亿元 (e4's is revoked)
        "province_national": 1,  # e3, recorded by a funding officer
        "province_demo": 1,  # e1's designation
        "guiyang_recommended": 1,  # e9's application, recommended by 贵阳 this year (e8's by 南明)
        "province_new": 1,  # issued this year: e5's SRDI (e3's is a little giant, e4's is revoked)
    }
    assert rows[str(t["province_srdi"].pk)]["percent"] == "30.0%"
    assert rows[str(t["province_srdi"].pk)]["remaining"] == "7"


def test_a_chart_shows_the_numbers_of_its_table(client, world, province_reviewer):
    page = read_page(signed_in(client, province_reviewer).get(url(world.tenant)))
    for name in ("funnel", "programmes", "regions", "industries", "years", "targets", "quotas", "awards"):
        chart = page.charts[name]
        table = page.tables[name]
        column = {"targets": "percent", "quotas": "used", "awards": "amount"}.get(name, "n")
        assert chart, name
        assert chart == {key: table[key][column] for key in chart}, name
        assert set(chart) == {key for key in table if key != "total"}, name


def test_the_drill_down_opens_a_child_region(client, world, province_reviewer):
    client = signed_in(client, province_reviewer)
    page = read_page(client.get(url(world.tenant, region="520100")))
    assert number(page.tables["programmes"]["total"]["n"]) == 3
    response = client.get(url(world.tenant, region="520102"))
    assert response.status_code == 200
    assert 'data-testid="region-breadcrumbs"' in response.content.decode()
    assert number(read_page(response).tables["programmes"]["total"]["n"]) == 2


def test_a_new_certification_shows_on_the_cached_dashboard(
    client, world, province_reviewer, django_capture_on_commit_callbacks
):
    client = signed_in(client, province_reviewer)
    before = number(read_page(client.get(url(world.tenant))).tables["programmes"]["total"]["n"])
    generation = aggregates.generation(world.tenant.pk)
    # given a cached dashboard, when a certification is published
    newcomer = make_enterprise(world.tenant, "520103", 950, name="新认定企业有限公司")
    with django_capture_on_commit_callbacks(execute=True):
        world.certifier.certify(newcomer)
    # then the next page counts it
    assert aggregates.generation(world.tenant.pk) > generation
    after = number(read_page(client.get(url(world.tenant))).tables["programmes"]["total"]["n"])
    assert after == before + 1


def test_without_a_commit_the_cached_numbers_stay(client, world, province_reviewer):
    """The bump waits for the commit: a dashboard read before it must not cache half a change."""
    client = signed_in(client, province_reviewer)
    before = number(read_page(client.get(url(world.tenant))).tables["programmes"]["total"]["n"])
    world.certifier.certify(make_enterprise(world.tenant, "520103", 951, name="未提交企业有限公司"))
    assert number(read_page(client.get(url(world.tenant))).tables["programmes"]["total"]["n"]) == before


def test_the_signals_bump_the_generation_after_the_commit(world, django_capture_on_commit_callbacks):
    generation = aggregates.generation(world.tenant.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        MonitoringWarning.objects.filter(tenant=world.tenant).update(resolved_at=None)  # no signal
        assert not callbacks
        Certification.objects.filter(pk=world.certifications["e1_srdi"].pk).first().save()
    assert callbacks
    assert aggregates.generation(world.tenant.pk) == generation + 1


def test_the_worker_counts_a_dashboard_in_use_again_after_a_change(client, world, province_reviewer):
    """Refresh ahead: after a change, reports.aggregates.refresh (the worker's task) counts the dashboards
    looked at in the last hour for the new generation, so the next page reads them from the cache."""
    client = signed_in(client, province_reviewer)
    before = number(read_page(client.get(url(world.tenant))).tables["programmes"]["total"]["n"])
    world.certifier.certify(make_enterprise(world.tenant, "520103", 952, name="预先计数企业有限公司"))
    aggregates.bump(world.tenant.pk)
    # with in-process tasks nothing is queued (the next visitor counts): the worker's task is called here
    assert aggregates.refresh(world.tenant.pk) == 1
    assert aggregates.refresh(world.tenant.pk) == 0  # counted once per generation
    with CaptureQueriesContext(connection) as page:
        response = client.get(url(world.tenant))
    assert number(read_page(response).tables["programmes"]["total"]["n"]) == before + 1
    assert not [q for q in page.captured_queries if "certification_certification" in q["sql"]]


@pytest.fixture
def with_worker(monkeypatch):
    """Tasks go to a worker (not in process): the refresh tasks queued are recorded as (args, kwargs), not sent."""
    from portal.celery import app as celery_app

    queued = []
    monkeypatch.setattr(
        "reports.tasks.refresh_dashboards.apply_async",
        lambda args, kwargs=None, **options: queued.append((args, kwargs)),
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield queued
    celery_app.conf.task_always_eager = eager


def test_while_the_worker_counts_the_page_shows_the_last_numbers_marked_for_at_most_stale_for(
    client, world, province_reviewer, monkeypatch, with_worker
):
    """Stale while revalidate, with a worker (not in-process tasks): after a change the page shows the numbers
    counted before it, says they are being updated and has the worker count; once counted, the new ones; and
    when the worker has not counted within STALE_FOR seconds of the change, the page counts for itself."""
    client = signed_in(client, province_reviewer)

    def shown():
        response = client.get(url(world.tenant))
        page = read_page(response)
        updating = 'data-testid="dashboard-updating"' in response.content.decode()
        return number(page.tables["programmes"]["total"]["n"]), updating

    clock = [1_000_000.0]
    monkeypatch.setattr(aggregates, "_clock", lambda: clock[0])
    before, updating = shown()
    assert not updating
    world.certifier.certify(make_enterprise(world.tenant, "520103", 954, name="稍后计数企业有限公司"))
    aggregates.bump(world.tenant.pk)  # what the change's commit does
    assert with_worker == [((world.tenant.pk,), None)]  # the worker is asked to count
    clock[0] += 5
    assert shown() == (before, True)  # the last numbers, marked
    aggregates.refresh(world.tenant.pk)  # the worker counts
    assert shown() == (before + 1, False)

    # a second change, and no worker to count it: past STALE_FOR the page counts for itself
    world.certifier.certify(make_enterprise(world.tenant, "520103", 955, name="无人计数企业有限公司"))
    aggregates.bump(world.tenant.pk)
    clock[0] += aggregates.STALE_FOR - 1
    assert shown() == (before + 1, True)
    clock[0] += 2
    assert shown() == (before + 2, False)


def test_with_in_process_tasks_the_page_always_counts_after_a_change(client, world, province_reviewer):
    client = signed_in(client, province_reviewer)
    before = number(read_page(client.get(url(world.tenant))).tables["programmes"]["total"]["n"])
    world.certifier.certify(make_enterprise(world.tenant, "520103", 956, name="当场计数企业有限公司"))
    aggregates.bump(world.tenant.pk)
    response = client.get(url(world.tenant))
    assert number(read_page(response).tables["programmes"]["total"]["n"]) == before + 1
    assert 'data-testid="dashboard-updating"' not in response.content.decode()


def test_overnight_the_worker_counts_every_dashboard_looked_at_in_the_last_week(
    client, world, province_reviewer, request
):
    """The daily job's hook asks the worker to count, for the new day, the dashboards looked at in the last
    week; a change during the day only those of the last hour."""
    client = signed_in(client, province_reviewer)
    client.get(url(world.tenant))
    viewed_key = aggregates._viewed_key(world.tenant.pk)
    # looked at two days ago, not since
    cache.set(viewed_key, {k: time.time() - 2 * 86400 for k in cache.get(viewed_key)}, aggregates.KEPT_FOR)
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert aggregates.refresh(world.tenant.pk, today=tomorrow) == 0  # a change's refresh: the last hour only
    assert aggregates.refresh(world.tenant.pk, today=tomorrow, within=aggregates.KEPT_FOR) == 1
    assert aggregates.refresh(world.tenant.pk, today=tomorrow, within=aggregates.KEPT_FOR) == 0  # once

    # and the daily job's hook queues it for the worker
    queued = request.getfixturevalue("with_worker")
    aggregates.refresh_overnight(world.tenant.pk)
    assert queued == [((world.tenant.pk,), {"within": aggregates.KEPT_FOR})]


def test_numbers_counted_before_the_generation_was_evicted_are_not_taken_for_current(
    client, world, province_reviewer
):
    client = signed_in(client, province_reviewer)
    before = number(read_page(client.get(url(world.tenant))).tables["programmes"]["total"]["n"])
    # a change whose bump is lost with the generation itself (evicted from the cache)
    world.certifier.certify(make_enterprise(world.tenant, "520103", 957, name="逐出计数企业有限公司"))
    time.sleep(0.002)
    cache.delete(aggregates._generation_key(world.tenant.pk))
    after = number(read_page(client.get(url(world.tenant))).tables["programmes"]["total"]["n"])
    assert after == before + 1


def test_a_dashboard_nobody_opened_is_not_counted_ahead(world):
    aggregates.bump(world.tenant.pk)
    assert aggregates.refresh(world.tenant.pk) == 0


def test_a_cached_dashboard_is_not_recounted(client, world, province_reviewer):
    client = signed_in(client, province_reviewer)
    with CaptureQueriesContext(connection) as cold:
        client.get(url(world.tenant))
    with CaptureQueriesContext(connection) as warm:
        client.get(url(world.tenant))
    assert len(warm.captured_queries) < len(cold.captured_queries) - 10


def test_the_query_count_does_not_grow_with_the_rows(client, world, province_reviewer):
    client = signed_in(client, province_reviewer)
    client.get(url(world.tenant))  # the tenant and the session are cached from here on
    aggregates.bump(world.tenant.pk)
    with CaptureQueriesContext(connection) as first:
        client.get(url(world.tenant))
    # given many more enterprises, certifications and applications
    certifier = world.certifier
    for i in range(12):
        e = make_enterprise(
            world.tenant, ["520102", "520302", "520103"][i % 3], 800 + i, name=f"增量{i}有限公司"
        )
        certifier.certify(e, issued_on=date(2024 + i % 3, 6, 1))
        Application.objects.create(
            tenant=world.tenant, round=world.round, enterprise=e, county=e.county, state="draft"
        )
    aggregates.bump(world.tenant.pk)
    with CaptureQueriesContext(connection) as second:
        client.get(url(world.tenant))
    assert len(second.captured_queries) == len(first.captured_queries)


# --- isolation -------------------------------------------------------------------------------------


def test_another_tenants_official_gets_404(client, world, xz_admin):
    response = signed_in(client, xz_admin).get(url(world.tenant))
    assert response.status_code == 404


def test_a_region_outside_the_officials_subtree_is_404(client, world, guiyang_official, nanming_official):
    assert signed_in(client, guiyang_official).get(url(world.tenant, region="520300")).status_code == 404
    assert client.get(url(world.tenant, region="520000")).status_code == 404
    assert client.get(url(world.tenant, region="540102")).status_code == 404  # 西藏's code
    client.logout()
    assert signed_in(client, nanming_official).get(url(world.tenant, region="520103")).status_code == 404


def test_experts_and_people_without_a_post_get_404(client, world, expert, owner):
    assert signed_in(client, expert).get(url(world.tenant)).status_code == 404
    client.logout()
    assert signed_in(client, owner).get(url(world.tenant)).status_code == 404


def test_an_anonymous_visitor_is_sent_to_sign_in(client, world):
    response = client.get(url(world.tenant))
    assert response.status_code == 302 and "/login/" in response["Location"]


# --- export ------------------------------------------------------------------------------------------


def test_every_table_exports_to_excel_with_its_numbers(client, world, guiyang_official):
    from io import BytesIO

    from openpyxl import load_workbook

    client = signed_in(client, guiyang_official)
    export = reverse("region_dashboard_export", kwargs={"tenant_code": world.tenant.code})
    for name in (
        "funnel",
        "targets",
        "programmes",
        "regions",
        "industries",
        "years",
        "quotas",
        "attention",
        "awards",
        "budgets",
    ):
        response = client.get(f"{export}?table={name}&region=520100")
        assert response.status_code == 200, name
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    response = client.get(f"{export}?table=regions&region=520100")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    by_label = {r[0]: r[1] for r in rows[:-1]}
    assert by_label["南明区"] == 2 and by_label["云岩区"] == 1
    assert rows[-1][1] == 3  # the total row comes last
    assert AuditEvent.objects.filter(action="dashboard.exported", actor=guiyang_official).count() == 11


def test_an_export_outside_the_scope_or_of_an_unknown_table_is_404(client, world, guiyang_official):
    client = signed_in(client, guiyang_official)
    export = reverse("region_dashboard_export", kwargs={"tenant_code": world.tenant.code})
    assert client.get(f"{export}?table=regions&region=520300").status_code == 404
    assert client.get(f"{export}?table=nonsense").status_code == 404


def test_the_dashboard_is_in_the_navigation_of_officials(client, world, nanming_official):
    response = signed_in(client, nanming_official).get(
        reverse("dashboard", kwargs={"tenant_code": world.tenant.code})
    )
    assert url(world.tenant) in response.content.decode()


def test_region_fixture_sanity(world):
    assert region(world.tenant, "520102").path == "520000/520100/520102/"
