"""The officials' and experts' pages: rounds, the queue, the application file, experts (views_review)."""

from __future__ import annotations

import re
from datetime import timedelta
from io import BytesIO

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from certification import workflow
from certification.models import (
    Application,
    ExpertAssignment,
    ExpertProfile,
    QuotaUse,
    ReviewEvent,
    Round,
    RoundQuota,
)
from certification.transitions import Action
from portal.models import AuditEvent
from tests.certification.workflow_fixtures import act, fill, make_expert, make_round
from tests.conftest import region
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

S = Application.State


@pytest.fixture
def client(client):
    """The pages in English (the header's language switch), so that the assertions read the msgids
    whatever the catalogue holds."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(name, tenant="gz", **kwargs):
    return reverse(name, kwargs={"tenant_code": tenant, **kwargs})


def queue_names(response) -> list[str]:
    """The enterprise names in the queue table, in order."""
    html = response.content.decode()
    body = html.split('data-testid="queue-table"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', body)


def submit_new(round_, county_code, serial, *, name):
    """Another enterprise of `county_code` applies to `round_`: started, filled and submitted."""
    admin = UserFactory(username=f"admin{serial}")
    enterprise = make_enterprise(round_.tenant, county_code, serial, name=name, admin=admin)
    application = workflow.application_start(round_=round_, enterprise=enterprise, by=admin)
    application = fill(application, admin)
    return act(application, Action.SUBMIT, admin)


def snapshot_of(application) -> dict:
    application.refresh_from_db()
    return {
        "state": application.state,
        "level": application.level,
        "region": application.current_region_id,
        "events": ReviewEvent.objects.filter(application=application).count(),
        "quota_uses": QuotaUse.objects.filter(application=application).count(),
    }


# --- who sees what --------------------------------------------------------------------------


def test_the_county_official_sees_the_submitted_application_in_the_queue(client, submitted, nanming_official):
    client.force_login(nanming_official)
    response = client.get(url("review_queue"))
    assert response.status_code == 200
    assert queue_names(response) == ["贵州黔芯精密机械有限公司"]
    detail = client.get(url("review_detail", pk=submitted.pk))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert 'data-testid="snapshot-basic"' in html and submitted.enterprise.uscc in html
    assert "精密轴承" in html  # the products section of the snapshot
    assert 'data-testid="screening-result"' in html
    # Every attachment of the snapshot links to the officials' document download, which opens.
    links = re.findall(r'href="(/gz/documents/\d+/download/)"', html)
    assert len(links) == len(submitted.snapshots.get().attachments) > 0
    assert client.get(links[0]).status_code == 200


@pytest.mark.parametrize("persona", ["yunyan_official", "zunyi_official"])
def test_officials_outside_the_county_neither_list_nor_open_the_application(
    client, submitted, persona, request
):
    client.force_login(request.getfixturevalue(persona))
    for tab in ("waiting", "all"):
        response = client.get(url("review_queue"), {"tab": tab})
        assert response.status_code == 200
        assert "贵州黔芯精密机械有限公司" not in response.content.decode()
    before = snapshot_of(submitted)
    assert client.get(url("review_detail", pk=submitted.pk)).status_code == 404
    assert (
        client.post(url("review_act", pk=submitted.pk), {"action": "reject", "opinion": "x"}).status_code
        == 404
    )
    assert (
        client.post(url("review_experts", pk=submitted.pk), {"op": "assign", "expert": 1}).status_code == 404
    )
    assert snapshot_of(submitted) == before


def test_another_tenants_admin_gets_404_on_either_address(client, submitted, xz_admin):
    client.force_login(xz_admin)
    assert client.get(url("review_detail", tenant="xz", pk=submitted.pk)).status_code == 404
    assert client.get(url("review_detail", pk=submitted.pk)).status_code == 404
    assert client.get(url("review_queue")).status_code == 404
    assert client.get(url("round_detail", pk=submitted.round_id)).status_code == 404
    assert client.get(url("round_detail", tenant="xz", pk=submitted.round_id)).status_code == 404
    response = client.get(url("review_queue", tenant="xz"))
    assert response.status_code == 200 and queue_names(response) == []


def test_enterprise_members_and_outsiders_cannot_use_the_officials_pages(client, submitted, owner, outsider):
    for user in (owner, outsider):
        client.force_login(user)
        for name, kwargs in (
            ("review_queue", {}),
            ("review_queue_export", {}),
            ("round_list", {}),
            ("round_create", {}),
            ("review_detail", {"pk": submitted.pk}),
            ("round_detail", {"pk": submitted.round_id}),
            ("expert_home", {}),
        ):
            assert client.get(url(name, **kwargs)).status_code == 404, (user, name)


def test_anonymous_visitors_are_sent_to_sign_in(client, submitted):
    response = client.get(url("review_detail", pk=submitted.pk))
    assert response.status_code == 302 and "/gz/login/" in response["Location"]


# --- acting on the application ------------------------------------------------------------------


def test_returning_with_a_reason_through_the_page(client, submitted, nanming_official):
    client.force_login(nanming_official)
    response = client.post(
        url("review_act", pk=submitted.pk), {"action": "return", "opinion": "请补充审计报告", "minor": "on"}
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == S.RETURNED and submitted.return_level == "county"
    event = submitted.events.order_by("-id").first()
    assert (event.action, event.opinion, event.minor) == ("return", "请补充审计报告", True)
    page = client.get(response["Location"]).content.decode()
    assert "请补充审计报告" in page and "returned for correction" in page


@pytest.mark.parametrize("action", ["return", "reject"])
def test_returning_or_rejecting_without_a_reason_is_refused_and_changes_nothing(
    client, submitted, nanming_official, action
):
    client.force_login(nanming_official)
    before = snapshot_of(submitted)
    response = client.post(url("review_act", pk=submitted.pk), {"action": action, "opinion": "  "})
    assert response.status_code == 400
    assert "Give the reason: the enterprise reads it." in response.content.decode()
    assert snapshot_of(submitted) == before


def test_recommending_moves_the_application_to_the_prefecture(
    client, submitted, nanming_official, guiyang_official
):
    client.force_login(nanming_official)
    response = client.post(url("review_act", pk=submitted.pk), {"action": "recommend", "opinion": "同意推荐"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert (submitted.state, submitted.level, submitted.current_region.code) == (
        S.IN_REVIEW,
        "prefecture",
        "520100",
    )
    assert queue_names(client.get(url("review_queue"))) == []  # no longer waits at the county
    assert queue_names(client.get(url("review_queue"), {"tab": "all"})) == ["贵州黔芯精密机械有限公司"]
    client.force_login(guiyang_official)
    assert queue_names(client.get(url("review_queue"))) == ["贵州黔芯精密机械有限公司"]


def test_a_refused_action_shows_the_reason_and_changes_nothing(client, submitted, guiyang_official):
    # 贵阳市 sees the application (its subtree) but it waits at 南明区.
    client.force_login(guiyang_official)
    before = snapshot_of(submitted)
    response = client.post(url("review_act", pk=submitted.pk), {"action": "recommend", "opinion": "越级"})
    assert response.status_code == 409
    assert "The application waits at 南明区" in response.content.decode()
    assert snapshot_of(submitted) == before


def test_unavailable_actions_are_disabled_with_their_reason(
    client, submitted, nanming_official, guiyang_official
):
    client.force_login(nanming_official)
    html = client.get(url("review_detail", pk=submitted.pk)).content.decode()
    assert 'data-testid="act-return"' in html and 'data-testid="act-recommend"' in html
    approve = re.search(r'<button[^>]*value="approve"[^>]*>', html).group(0)
    assert "disabled" in approve and 'aria-describedby="reason-approve"' in approve
    assert re.search(r'id="reason-approve"[^>]*>Only the last level of the chain', html)

    client.force_login(guiyang_official)
    html = client.get(url("review_detail", pk=submitted.pk)).content.decode()
    for action in ("return", "reject", "recommend"):
        assert re.search(rf'<button[^>]*value="{action}"[^>]*disabled', html)
        assert re.search(rf'id="reason-{action}"[^>]*>The application waits at 南明区', html)
    assert 'name="opinion"' not in html  # nothing to decide here: no opinion box


def test_the_history_lists_every_event_with_its_level_and_opinion(client, submitted, nanming_official, owner):
    app = act(submitted, Action.RETURN, nanming_official, opinion="补正财务报表", minor=True)
    app = act(app, Action.RESUBMIT, owner)
    client.force_login(nanming_official)
    html = client.get(url("review_detail", pk=app.pk)).content.decode()
    timeline = html.split('data-testid="timeline"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-action="(\w+)"', timeline) == ["start", "submit", "return", "resubmit"]
    assert "补正财务报表" in timeline and "minor correction" in timeline
    # Two submissions: both snapshots can be opened.
    assert 'data-testid="snapshot-picker"' in html
    assert client.get(url("review_detail", pk=app.pk), {"snapshot": 1}).status_code == 200


# --- bulk recommendation and quotas ----------------------------------------------------------------


@pytest.fixture
def quota_round(gz, wf_program, media):
    program, version = wf_program
    return make_round(
        program, version, name="限额批次", quotas=[workflow.QuotaSpec(region(gz, "520102"), maximum=1)]
    )


@pytest.fixture
def two_in_nanming(quota_round):
    return [
        submit_new(quota_round, "520102", 11, name="南明甲有限公司"),
        submit_new(quota_round, "520102", 12, name="南明乙有限公司"),
    ]


def test_bulk_recommendation_is_all_or_nothing_against_the_quota(client, two_in_nanming, nanming_official):
    first, second = two_in_nanming
    client.force_login(nanming_official)
    before = [snapshot_of(first), snapshot_of(second)]
    response = client.post(
        url("review_bulk"),
        {"ids": [first.pk, second.pk], "opinion": "同意", "query": "tab=waiting"},
        follow=True,
    )
    html = response.content.decode()
    assert "Nothing was recommended." in html and "Quota reached" in html
    assert [snapshot_of(first), snapshot_of(second)] == before
    assert QuotaUse.objects.count() == 0

    response = client.post(url("review_bulk"), {"ids": [first.pk], "opinion": "同意"}, follow=True)
    assert "1 application recommended to the next level." in response.content.decode()
    first.refresh_from_db()
    assert first.level == "prefecture" and QuotaUse.objects.count() == 1
    assert queue_names(response) == ["南明乙有限公司"]


def test_the_queue_offers_a_checkbox_only_where_the_official_can_recommend(
    client, two_in_nanming, nanming_official, guiyang_official
):
    client.force_login(nanming_official)
    html = client.get(url("review_queue")).content.decode()
    assert len(re.findall(r'name="ids" value="\d+"', html)) == 2
    client.force_login(guiyang_official)
    html = client.get(url("review_queue"), {"tab": "all"}).content.decode()
    assert len(queue_names(client.get(url("review_queue"), {"tab": "all"}))) == 2
    assert 'name="ids"' not in html


def test_bulk_recommendation_of_an_application_the_official_cannot_see_is_refused(
    client, submitted, yunyan_official
):
    client.force_login(yunyan_official)
    before = snapshot_of(submitted)
    response = client.post(url("review_bulk"), {"ids": [submitted.pk]}, follow=True)
    html = response.content.decode()
    assert "Some of the selected applications do not exist." in html
    assert "贵州黔芯精密机械有限公司" not in html  # the refusal does not name what the official cannot see
    assert snapshot_of(submitted) == before


def test_the_round_page_shows_the_quota_status_as_stored(
    client, two_in_nanming, quota_round, nanming_official, guiyang_official
):
    first, _second = two_in_nanming
    act(first, Action.RECOMMEND, nanming_official)
    RoundQuota.objects.create(
        round=quota_round, region=region(quota_round.tenant, "520100"), maximum=5, minimum=2
    )
    client.force_login(guiyang_official)
    html = client.get(url("round_detail", pk=quota_round.pk)).content.decode()
    table = html.split('data-testid="quota-table"', 1)[1].split("</table>", 1)[0]
    for quota in RoundQuota.objects.filter(round=quota_round).select_related("region"):
        row = table.split(f'data-region="{quota.region.code}"', 1)[1].split("</tr>", 1)[0]
        cells = dict(re.findall(r'data-col="(\w+)">(?:<strong>)?([^<\s]+)', row))
        used = QuotaUse.objects.filter(quota=quota).count()
        assert cells["used"] == str(used)
        assert cells["maximum"] == str(quota.maximum)
        assert cells["remaining"] == str(max(quota.maximum - used, 0))
        assert cells["minimum"] == (str(quota.minimum) if quota.minimum is not None else "—")
    # 贵阳市 used none of its 2 expected: the shortfall is highlighted; the chart draws one bar (南明区's).
    assert 'class="num shortfall"' in table
    assert html.count('data-testid="quota-bar"') == 1
    assert 'style="' not in html.split('data-testid="quota-chart"', 1)[1].split("</svg>", 1)[0]


# --- the queue's filters, export and cost ----------------------------------------------------------


def test_filters_narrow_the_queue(client, two_in_nanming, submitted, nanming_official):
    client.force_login(nanming_official)
    assert len(queue_names(client.get(url("review_queue")))) == 3
    assert queue_names(client.get(url("review_queue"), {"q": "乙"})) == ["南明乙有限公司"]
    assert queue_names(client.get(url("review_queue"), {"q": submitted.enterprise.uscc.lower()})) == [
        "贵州黔芯精密机械有限公司"
    ]
    assert len(queue_names(client.get(url("review_queue"), {"round": submitted.round_id}))) == 1
    assert queue_names(client.get(url("review_queue"), {"sort": "name"})) == sorted(
        ["南明甲有限公司", "南明乙有限公司", "贵州黔芯精密机械有限公司"]
    )
    assert len(queue_names(client.get(url("review_queue"), {"industry": "C34"}))) == 3
    assert queue_names(client.get(url("review_queue"), {"industry": "A"})) == []
    bad = client.get(url("review_queue"), {"industry": "34x"})
    assert "A section letter" in bad.content.decode() and len(queue_names(bad)) == 3  # shown, then ignored


def test_the_export_holds_the_same_rows_as_the_queue_and_is_audited(
    client, two_in_nanming, submitted, nanming_official
):
    client.force_login(nanming_official)
    params = {"sort": "name", "tab": "all"}
    names = queue_names(client.get(url("review_queue"), params))
    response = client.get(url("review_queue_export"), params)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Enterprise", "Unified social credit code", "County")
    assert [r[0] for r in rows[1:]] == names and len(names) == 3
    assert {r[1] for r in rows[1:]} == {a.enterprise.uscc for a in [*two_in_nanming, submitted]}
    assert all(r[-1] is not None for r in rows[1:])  # the deadline of the county level
    assert AuditEvent.objects.filter(action="application.queue_exported", actor=nanming_official).count() == 1


def _waiting_rows(gz, round_, n, start):
    county = region(gz, "520102")
    now = timezone.now()
    for i in range(n):
        enterprise = make_enterprise(gz, "520102", start + i, name=f"排队企业{start + i}")
        Application.objects.create(
            tenant=gz,
            round=round_,
            enterprise=enterprise,
            county=county,
            state=S.SUBMITTED,
            level="county",
            current_region=county,
            submitted_at=now - timedelta(minutes=i),
            verdict="eligible",
            score=80,
        )


def test_the_queue_costs_the_same_queries_for_3_or_30_rows(client, gz, wf_round, nanming_official):
    client.force_login(nanming_official)
    other = make_round(wf_round.program, wf_round.version, name="第二批")
    _waiting_rows(gz, wf_round, 2, 100)
    _waiting_rows(gz, other, 1, 200)
    client.get(url("review_queue"))  # warm the session and the caches
    with CaptureQueriesContext(connection) as small:
        response = client.get(url("review_queue"))
    assert len(queue_names(response)) == 3
    _waiting_rows(gz, wf_round, 14, 300)
    _waiting_rows(gz, other, 13, 400)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url("review_queue"))
    assert len(queue_names(response)) == 25  # one full page of 30
    assert "page=2" in response.content.decode()
    assert len(large.captured_queries) == len(small.captured_queries)


# --- rounds ------------------------------------------------------------------------------------


def _dt(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def round_post(version, *, opens, closes, **extra):
    data = {
        "version": version.pk,
        "name": "2027年第一批",
        "year": "",
        "opens_at": _dt(opens),
        "closes_at": _dt(closes),
        "notes": "请按时申报",
        "stage_county": "on",
        "deadline_county": _dt(closes + timedelta(days=10)),
        "stage_prefecture": "on",
        "deadline_prefecture": _dt(closes + timedelta(days=20)),
        "deadline_province": _dt(closes + timedelta(days=30)),
    }
    data.update(extra)
    return data


def test_the_programme_owner_opens_a_round_with_its_chain_and_quotas(client, wf_program, province_reviewer):
    program, version = wf_program
    client.force_login(province_reviewer)
    form = client.get(url("round_create"), {"program": program.pk})
    assert form.status_code == 200
    html = form.content.decode()
    assert 'type="datetime-local"' in html and 'name="q_520102_max"' in html and 'name="q_520100_max"' in html
    opens = timezone.now().replace(second=0, microsecond=0) + timedelta(days=1)
    closes = opens + timedelta(days=30)
    data = round_post(
        version,
        opens=opens,
        closes=closes,
        q_520100_max="5",
        q_520100_min="2",
        q_520100_src="黔工信〔2026〕1号",
        q_520102_max="2",
    )
    response = client.post(f"{url('round_create')}?program={program.pk}", data)
    assert response.status_code == 302
    round_ = Round.objects.get(name="2027年第一批")
    assert response["Location"] == url("round_detail", pk=round_.pk)
    assert (
        round_.opens_at == opens
        and round_.closes_at == closes
        and round_.year == timezone.localtime(opens).year
    )
    assert {s.level: s.deadline for s in round_.stages.all()} == {
        "county": closes + timedelta(days=10),
        "prefecture": closes + timedelta(days=20),
        "province": closes + timedelta(days=30),
    }
    quotas = {
        q.region.code: (q.maximum, q.minimum, q.source)
        for q in RoundQuota.objects.filter(round=round_).select_related("region")
    }
    assert quotas == {"520100": (5, 2, "黔工信〔2026〕1号"), "520102": (2, None, "")}
    assert AuditEvent.objects.filter(action="round.created", actor=province_reviewer).exists()


def test_a_level_can_be_skipped_but_not_its_quota(client, wf_program, province_reviewer):
    program, version = wf_program
    client.force_login(province_reviewer)
    opens = timezone.now() + timedelta(days=1)
    data = round_post(version, opens=opens, closes=opens + timedelta(days=30), q_520100_max="5")
    del data["stage_prefecture"]
    response = client.post(f"{url('round_create')}?program={program.pk}", data)
    assert response.status_code == 400
    assert "the prefecture level is skipped in this chain" in response.content.decode()
    assert not Round.objects.filter(name="2027年第一批").exists()

    del data["q_520100_max"]
    response = client.post(f"{url('round_create')}?program={program.pk}", data)
    assert response.status_code == 302
    stages = Round.objects.get(name="2027年第一批").stages.values_list("level", flat=True)
    assert sorted(stages) == ["county", "province"]


def test_round_errors_are_shown_by_field_and_nothing_is_saved(client, wf_program, gz_admin):
    program, version = wf_program
    client.force_login(gz_admin)
    opens = timezone.now() + timedelta(days=1)
    # Closes before it opens; the county deadline falls before the round closes.
    data = round_post(version, opens=opens, closes=opens - timedelta(hours=1), deadline_county=_dt(opens))
    data["q_520102_max"], data["q_520102_min"] = "1", "3"
    response = client.post(f"{url('round_create')}?program={program.pk}", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "The round must close after it opens." in html
    assert "the minimum is above the maximum." in html
    assert 'value="2027年第一批"' in html  # what was typed stays
    assert not Round.objects.filter(name="2027年第一批").exists()

    # A deadline before the round closes comes from the workflow's own rules, shown with the chain.
    data = round_post(version, opens=opens, closes=opens + timedelta(days=30), deadline_county=_dt(opens))
    response = client.post(f"{url('round_create')}?program={program.pk}", data)
    assert response.status_code == 400
    assert re.search(
        r'data-testid="stage-error">The county review deadline must fall after', response.content.decode()
    )
    assert not Round.objects.filter(name="2027年第一批").exists()


def test_a_missing_deadline_of_an_included_level_is_named(client, wf_program, gz_admin):
    program, version = wf_program
    client.force_login(gz_admin)
    opens = timezone.now() + timedelta(days=1)
    data = round_post(version, opens=opens, closes=opens + timedelta(days=30), deadline_prefecture="")
    response = client.post(f"{url('round_create')}?program={program.pk}", data)
    assert response.status_code == 400
    assert "Give this level&#x27;s review deadline." in response.content.decode()


def test_only_those_who_manage_the_programme_create_or_change_rounds(
    client, wf_round, nanming_official, guiyang_official, province_reviewer
):
    for user in (nanming_official, guiyang_official):
        client.force_login(user)
        assert client.get(url("round_create")).status_code == 404
        assert client.get(url("round_edit", pk=wf_round.pk)).status_code == 404
        page = client.get(url("round_detail", pk=wf_round.pk))
        assert page.status_code == 200 and 'data-testid="round-edit"' not in page.content.decode()
    client.force_login(province_reviewer)
    edit = client.get(url("round_edit", pk=wf_round.pk))
    assert edit.status_code == 200 and 'value="2026年第一批"' in edit.content.decode()


def test_changing_a_round_keeps_its_chain(client, wf_round, province_reviewer):
    client.force_login(province_reviewer)
    data = round_post(
        wf_round.version, opens=wf_round.opens_at, closes=wf_round.closes_at, name="2026年第一批（延期）"
    )
    data["closes_at"] = _dt(wf_round.closes_at + timedelta(days=2))
    response = client.post(url("round_edit", pk=wf_round.pk), data)
    assert response.status_code == 302
    wf_round.refresh_from_db()
    assert wf_round.name == "2026年第一批（延期）" and wf_round.stages.count() == 3


def test_the_round_list_counts_applications_by_state_in_the_officials_region(
    client, two_in_nanming, quota_round, submitted, nanming_official, yunyan_official
):
    client.force_login(nanming_official)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(url("round_list")).content.decode()
    rows = dict(re.findall(r'data-round="(\d+)">.*?data-testid="round-total">(\d+)<', html, flags=re.S))
    assert rows == {str(quota_round.pk): "2", str(submitted.round_id): "1"}
    counting = [
        q
        for q in queries.captured_queries
        if "COUNT(" in q["sql"] and "certification_application" in q["sql"]
    ]
    assert len(counting) == 1
    client.force_login(yunyan_official)
    html = client.get(url("round_list")).content.decode()
    assert set(re.findall(r'data-testid="round-total">(\d+)<', html)) == {"0"}


# --- experts -------------------------------------------------------------------------------------


@pytest.fixture
def at_province(submitted, nanming_official, guiyang_official):
    app = act(submitted, Action.RECOMMEND, nanming_official, opinion="同意")
    return act(app, Action.RECOMMEND, guiyang_official, opinion="同意")


def test_experts_are_assigned_from_the_pool_and_conflicts_are_refused(
    client, gz, at_province, experts, province_reviewer
):
    expert_a, expert_b = experts
    ExpertProfile.objects.get(user=expert_a).linked_enterprises.add(at_province.enterprise)
    expert_c = make_expert(gz, "expert_c", home_county="520102")
    client.force_login(province_reviewer)
    html = client.get(url("review_detail", pk=at_province.pk)).content.decode()
    pool = html.split('data-testid="expert-pool"', 1)[1].split("</table>", 1)[0]
    row_a = pool.split('data-expert="expert_a"', 1)[1].split("</tr>", 1)[0]
    row_c = pool.split('data-expert="expert_c"', 1)[1].split("</tr>", 1)[0]
    assert "declared a link to 贵州黔芯精密机械有限公司" in row_a and "<button" not in row_a
    assert "comes from 南明区, where the applicant is" in row_c and "<button" not in row_c
    assert "<button" in pool.split('data-expert="expert_b"', 1)[1].split("</tr>", 1)[0]
    assert "0 of 2 required reviews in." in html

    # Posting the conflicted expert anyway is refused with the reason; nothing is assigned.
    response = client.post(
        url("review_experts", pk=at_province.pk), {"op": "assign", "expert": expert_a.pk}, follow=True
    )
    assert "Conflict of interest" in response.content.decode()
    assert not ExpertAssignment.objects.filter(expert=expert_a).exists()
    response = client.post(url("review_experts", pk=at_province.pk), {"op": "assign", "expert": expert_c.pk})
    assert not ExpertAssignment.objects.filter(expert=expert_c).exists()

    response = client.post(url("review_experts", pk=at_province.pk), {"op": "assign", "expert": expert_b.pk})
    assert response.status_code == 302
    assignment = ExpertAssignment.objects.get(application=at_province, expert=expert_b)
    html = client.get(url("review_detail", pk=at_province.pk)).content.decode()
    assert 'data-expert="expert_b"' in html.split('data-testid="expert-scores"', 1)[1].split("</table>", 1)[0]

    # Not scored yet: it can be withdrawn.
    client.post(url("review_experts", pk=at_province.pk), {"op": "unassign", "assignment": assignment.pk})
    assert not ExpertAssignment.objects.filter(pk=assignment.pk).exists()


def test_someone_outside_the_pool_cannot_be_assigned(
    client, at_province, experts, province_reviewer, nanming_official
):
    client.force_login(province_reviewer)
    response = client.post(
        url("review_experts", pk=at_province.pk), {"op": "assign", "expert": nanming_official.pk}, follow=True
    )
    assert "not in the expert pool" in response.content.decode()
    assert not ExpertAssignment.objects.exists()


def test_lower_levels_see_why_they_cannot_assign_experts(client, at_province, experts, nanming_official):
    client.force_login(nanming_official)
    response = client.post(
        url("review_experts", pk=at_province.pk), {"op": "assign", "expert": experts[1].pk}, follow=True
    )
    assert "Only reviewers where the application waits can assign experts." in response.content.decode()
    assert not ExpertAssignment.objects.exists()
    html = client.get(url("review_detail", pk=at_province.pk)).content.decode()
    assert 'data-testid="assign-reason"' in html and 'data-testid="expert-pool"' not in html


def test_an_expert_scores_through_the_page(
    client, at_province, experts, province_reviewer, province_approver
):
    expert_a, expert_b = experts
    a = workflow.expert_assign(application=at_province, expert=expert_a, by=province_reviewer)
    b = workflow.expert_assign(application=at_province, expert=expert_b, by=province_reviewer)
    client.force_login(expert_b)
    home = client.get(url("expert_home")).content.decode()
    assert url("expert_review", pk=b.pk) in home and url("expert_review", pk=a.pk) not in home
    page = client.get(url("expert_review", pk=b.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="score_specialisation"' in html and "精密轴承" in html
    assert "/documents/" not in html  # the expert has no access to the files: no dead links

    bad = {
        "score_specialisation": "26",
        "score_refinement": "20",
        "score_distinctiveness": "15",
        "score_innovation": "25",
        "opinion": "良好",
    }
    response = client.post(url("expert_review", pk=b.pk), bad)
    assert response.status_code == 400
    b.refresh_from_db()
    assert b.submitted_at is None and b.scores == {}

    good = {**bad, "score_specialisation": "22.5"}
    response = client.post(url("expert_review", pk=b.pk), good)
    assert response.status_code == 302
    b.refresh_from_db()
    assert b.submitted_at is not None and str(b.total) == "82.50"
    html = client.get(url("expert_review", pk=b.pk)).content.decode()
    assert (
        'data-testid="expert-submitted"' in html
        and "22.5" in html
        and 'name="score_specialisation"' not in html
    )
    # A second post changes nothing.
    client.post(url("expert_review", pk=b.pk), {**good, "score_specialisation": "1"})
    b.refresh_from_db()
    assert str(b.total) == "82.50"

    # The reviewers see the score, the mean and the count.
    client.force_login(province_approver)
    html = client.get(url("review_detail", pk=at_province.pk)).content.decode()
    assert "1 of 2 required reviews in." in html and "82.50" in html
    assert re.search(r'id="reason-approve"[^>]*>1 of the 2 expert reviews', html)


def test_an_expert_cannot_open_another_experts_assignment_or_the_officials_pages(
    client, at_province, experts, province_reviewer
):
    expert_a, expert_b = experts
    workflow.expert_assign(application=at_province, expert=expert_a, by=province_reviewer)
    b = workflow.expert_assign(application=at_province, expert=expert_b, by=province_reviewer)
    client.force_login(expert_a)
    assert client.get(url("expert_review", pk=b.pk)).status_code == 404
    assert client.post(url("expert_review", pk=b.pk), {"opinion": "x"}).status_code == 404
    assert client.get(url("review_queue")).status_code == 404
    assert client.get(url("review_detail", pk=at_province.pk)).status_code == 404
    assert client.get(url("expert_review", tenant="xz", pk=b.pk)).status_code == 404


def test_officials_download_the_application_pdf_and_others_get_404(
    client, submitted, nanming_official, yunyan_official
):
    client.force_login(nanming_official)
    response = client.get(url("review_pdf", pk=submitted.pk))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="application.pdf_downloaded", actor=nanming_official).exists()
    client.force_login(yunyan_official)
    assert client.get(url("review_pdf", pk=submitted.pk)).status_code == 404


def test_a_prefecture_owned_programme_offers_its_own_levels_and_counties(
    client, gz, wf_program, guiyang_program, gz_admin, guiyang_official
):
    client.force_login(gz_admin)
    chooser = client.get(url("round_create")).content.decode()
    assert f'value="{wf_program[0].pk}"' in chooser and f'value="{guiyang_program[0].pk}"' in chooser
    # 贵阳市's reviewers manage their own programme only: the form opens at once.
    client.force_login(guiyang_official)
    html = client.get(url("round_create")).content.decode()
    assert 'name="stage_prefecture"' in html and 'name="stage_province"' not in html
    assert (
        'name="q_520102_max"' in html
        and 'name="q_520302_max"' not in html
        and 'name="q_520100_max"' not in html
    )
