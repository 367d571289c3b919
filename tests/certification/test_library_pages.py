"""The cultivation library's pages (views_library): scope and isolation, the list and its actions, an entry's
history, adding by search and from a screening batch, the targets page, Excel exports and query counts."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal
from io import BytesIO

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from certification import library
from certification.models import LibraryEntry, LibraryTarget, Screening, ScreeningBatch
from portal.models import AuditEvent, Post
from tests.certification.test_library import batch_fixture  # noqa: F401 - a real screening of 贵阳市
from tests.conftest import official, region
from tests.enterprises.conftest import make_enterprise

R, C, U = LibraryEntry.Stage.RESERVE, LibraryEntry.Stage.CULTIVATING, LibraryEntry.Stage.UPGRADING
YEAR = library.today_year()


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(name, tenant="gz", **kwargs):
    return reverse(name, kwargs={"tenant_code": tenant, **kwargs})


@pytest.fixture
def neighbour(gz):
    return make_enterprise(gz, "520103", 2, name="云岩企业有限公司")


@pytest.fixture
def entries(acme, neighbour, program, guiyang_official):
    """acme (南明区) at 储备, the neighbour (云岩区) at 培育."""
    prog, _version = program
    a = library.library_add(enterprise=acme, program=prog, stage=R, by=guiyang_official, note="走访推荐")
    b = library.library_add(enterprise=neighbour, program=prog, stage=C, by=guiyang_official, note="筛查推荐")
    return a, b


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-entry="(\d+)"', html)


# --- scope and isolation ---------------------------------------------------------------------------


def test_the_county_sees_its_own_entries_and_the_prefecture_sees_both(
    client, entries, nanming_official, guiyang_official
):
    a, b = entries
    client.force_login(nanming_official)
    html = client.get(url("library_list")).content.decode()
    assert rows_of(html) == [str(a.pk)]
    client.force_login(guiyang_official)
    html = client.get(url("library_list")).content.decode()
    assert sorted(rows_of(html)) == sorted([str(a.pk), str(b.pk)])


@pytest.mark.parametrize("name", ["library_entry", "library_move", "library_remove"])
def test_an_entry_outside_the_region_is_not_found(client, entries, yunyan_official, name):
    a, _b = entries
    client.force_login(yunyan_official)
    method = client.get if name == "library_entry" else client.post
    response = method(url(name, pk=a.pk), {"to_stage": C, "note": "越权", "reason": "越权"})
    assert response.status_code == 404
    a.refresh_from_db()
    assert (a.stage, a.removed_at) == (R, None)


def test_another_tenant_sees_nothing_of_gz(client, entries, xz_admin):
    a, _b = entries
    client.force_login(xz_admin)
    for target in (
        url("library_list"),
        url("library_entry", pk=a.pk),
        url("library_add"),
        url("library_targets"),
        url("library_export"),
        url("library_target_edit", code="520102", year=YEAR),
    ):
        assert client.get(target).status_code == 404, target
    # and from its own portal, gz's entry is absent
    assert client.get(url("library_entry", tenant="xz", pk=a.pk)).status_code == 404


@pytest.mark.parametrize(
    "role", [Post.Role.EXPERT, Post.Role.SERVICE_COMMISSIONER, Post.Role.FUNDING_OFFICER]
)
def test_pages_do_not_exist_for_experts_commissioners_and_funding_officers(client, gz, entries, role):
    client.force_login(official(gz, "520102", role))
    assert client.get(url("library_list")).status_code == 404
    assert client.get(url("library_entry", pk=entries[0].pk)).status_code == 404


def test_an_enterprise_member_gets_404_and_a_visitor_is_sent_to_sign_in(client, entries, owner):
    response = client.get(url("library_list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(owner)
    assert client.get(url("library_list")).status_code == 404


def test_the_navigation_links_the_library_for_keepers_only(client, entries, nanming_official, gz):
    client.force_login(nanming_official)
    assert url("library_list") in client.get(url("dashboard")).content.decode()
    client.force_login(official(gz, "520102", Post.Role.EXPERT))
    assert url("library_list") not in client.get(url("dashboard")).content.decode()


# --- the list ---------------------------------------------------------------------------------------


def test_the_list_filters_by_stage_programme_region_and_name(client, gz, entries, guiyang_official, acme):
    a, b = entries
    client.force_login(guiyang_official)
    assert rows_of(client.get(url("library_list"), {"stage": C}).content.decode()) == [str(b.pk)]
    assert rows_of(client.get(url("library_list"), {"region": "520102"}).content.decode()) == [str(a.pk)]
    assert rows_of(client.get(url("library_list"), {"q": "云岩"}).content.decode()) == [str(b.pk)]
    assert rows_of(client.get(url("library_list"), {"q": acme.uscc}).content.decode()) == [str(a.pk)]
    assert rows_of(client.get(url("library_list"), {"program": a.program_id}).content.decode()) != []
    library.library_remove(entry=a, reason="迁出", by=guiyang_official)
    assert rows_of(client.get(url("library_list")).content.decode()) == [str(b.pk)]
    assert rows_of(client.get(url("library_list"), {"state": "removed"}).content.decode()) == [str(a.pk)]


def test_the_list_shows_source_added_date_and_the_last_change(client, entries, guiyang_official):
    a, _b = entries
    library.library_move(entry=a, to_stage=C, note="研发中心已挂牌", by=guiyang_official)
    client.force_login(guiyang_official)
    html = client.get(url("library_list")).content.decode()
    row = html[html.index(f'data-entry="{a.pk}"') :].split("</tr>")[0]
    assert "研发中心已挂牌" in row
    assert "cultivating" in row and "added by an official" in row
    assert a.added_at.strftime("%Y-") in row


def test_a_move_from_the_list_keeps_the_filters_and_a_move_without_a_note_names_the_field(
    client, entries, nanming_official
):
    a, _b = entries
    client.force_login(nanming_official)
    back = url("library_list") + "?stage=reserve"
    response = client.post(url("library_move", pk=a.pk), {"to_stage": C, "note": "转入培育", "next": back})
    assert response.status_code == 302 and response["Location"] == back
    a.refresh_from_db()
    assert a.stage == C
    response = client.post(url("library_move", pk=a.pk), {"to_stage": U, "note": "", "next": back})
    assert response.status_code == 400
    assert "Note: Say why the entry moves." in response.content.decode()
    a.refresh_from_db()
    assert a.stage == C


def test_next_may_not_leave_the_site(client, entries, nanming_official):
    a, _b = entries
    client.force_login(nanming_official)
    response = client.post(
        url("library_move", pk=a.pk), {"to_stage": C, "note": "转入培育", "next": "https://evil.example/"}
    )
    assert response["Location"] == url("library_entry", pk=a.pk)


def test_removing_from_the_page_needs_a_reason(client, entries, nanming_official):
    a, _b = entries
    client.force_login(nanming_official)
    response = client.post(url("library_remove", pk=a.pk), {"reason": ""})
    assert response.status_code == 400
    assert "Reason: Say why the enterprise leaves the library." in response.content.decode()
    response = client.post(url("library_remove", pk=a.pk), {"reason": "企业已注销"})
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.removal_reason == "企业已注销"


def _list_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url("library_list")).status_code == 200
    return len(queries.captured_queries)


def test_the_list_costs_the_same_number_of_queries_for_two_entries_or_twelve(
    client, gz, entries, program, guiyang_official
):
    client.force_login(guiyang_official)
    _list_queries(client)  # warm the caches a first request fills (the session, the posts)
    few = _list_queries(client)
    prog, _version = program
    for serial in range(10):
        enterprise = make_enterprise(gz, "520102" if serial % 2 else "520103", 100 + serial)
        entry = library.library_add(enterprise=enterprise, program=prog, stage=R, by=guiyang_official)
        library.library_move(entry=entry, to_stage=C, note=f"第{serial}次", by=guiyang_official)
    many = _list_queries(client)
    assert many == few


def test_the_excel_export_lists_the_filtered_entries_of_the_region(client, entries, nanming_official, acme):
    a, _b = entries
    client.force_login(nanming_official)
    response = client.get(url("library_export"))
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:5] == ("Enterprise", "Unified social credit code", "County", "Target programme", "Stage")
    assert [r[1] for r in rows[1:]] == [acme.uscc]  # not 云岩区's
    assert rows[1][4] == "reserve (储备)"
    assert isinstance(rows[1][6], datetime) and isinstance(rows[1][8], datetime)  # added, last change
    assert rows[1][9] == "走访推荐"  # the last note
    assert AuditEvent.objects.filter(action="library.exported", actor=nanming_official).count() == 1


# --- one entry ------------------------------------------------------------------------------------


def test_the_entry_page_shows_the_stage_history_oldest_first(
    client, entries, nanming_official, guiyang_official
):
    a, _b = entries
    library.library_move(entry=a, to_stage=C, note="已建立研发中心", by=nanming_official)
    library.library_move(entry=a, to_stage=U, note="条件基本满足", by=guiyang_official)
    client.force_login(nanming_official)
    html = client.get(url("library_entry", pk=a.pk)).content.decode()
    history = html[html.index('data-testid="library-history"') :].split("</table>")[0]
    kinds = re.findall(r'<tr data-kind="(\w+)"', history)
    assert kinds == ["added", "moved", "moved"]
    assert history.index("走访推荐") < history.index("已建立研发中心") < history.index("条件基本满足")


def test_a_removed_entry_shows_no_actions(client, entries, nanming_official):
    a, _b = entries
    library.library_remove(entry=a, reason="迁出", by=nanming_official)
    client.force_login(nanming_official)
    html = client.get(url("library_entry", pk=a.pk)).content.decode()
    assert 'data-testid="move-form"' not in html and "迁出" in html


# --- adding ---------------------------------------------------------------------------------------


def test_the_search_finds_only_enterprises_of_the_officials_region(client, acme, neighbour, nanming_official):
    client.force_login(nanming_official)
    html = client.get(url("library_add"), {"q": "企业"}).content.decode()
    assert f'value="{acme.pk}"' not in html or acme.name not in "企业"  # acme's name has no 企业
    html = client.get(url("library_add"), {"q": "云岩"}).content.decode()
    assert 'data-testid="library-no-match"' in html and neighbour.name not in html
    html = client.get(url("library_add"), {"q": acme.uscc}).content.decode()
    assert f'id="enterprise-{acme.pk}"' in html


def test_adding_from_the_page_and_a_duplicate_names_the_enterprise(client, acme, program, nanming_official):
    prog, _version = program
    client.force_login(nanming_official)
    data = {"enterprise": acme.pk, "program": prog.pk, "stage": R, "note": "走访推荐"}
    response = client.post(url("library_add"), data)
    entry = LibraryEntry.objects.get(enterprise=acme)
    assert response.status_code == 302 and response["Location"] == url("library_entry", pk=entry.pk)
    response = client.post(url("library_add"), data)
    assert response.status_code == 400
    assert f"Enterprise: {acme.name} is already in the library" in response.content.decode()
    assert LibraryEntry.objects.count() == 1


def test_adding_an_enterprise_outside_the_region_is_refused(client, neighbour, program, nanming_official):
    prog, _version = program
    client.force_login(nanming_official)
    response = client.post(url("library_add"), {"enterprise": neighbour.pk, "program": prog.pk, "stage": R})
    assert response.status_code == 400  # not a choice of the form: the enterprise is absent for nanming
    assert not LibraryEntry.objects.exists()


# --- from a screening batch -----------------------------------------------------------------------


def test_the_batch_page_adds_the_library_verdicts_not_in_the_library(
    client, batch, program, nanming_official, guiyang_official
):
    found, people = batch
    prog, _version = program
    library.library_add(enterprise=people["small_a"], program=prog, stage=C, by=nanming_official)
    client.force_login(guiyang_official)
    html = client.get(url("library_from_batch", pk=found.pk)).content.decode()
    listed = set(re.findall(r'<tr data-enterprise="(\d+)"', html))
    assert listed == {str(people[k].pk) for k in ("small_a", "small_b", "yunyan")}
    response = client.post(
        url("library_from_batch", pk=found.pk), {"program": prog.pk, "stage": R, "note": "批量"}
    )
    assert response.status_code == 302
    added = LibraryEntry.objects.filter(source="screening").values_list("enterprise__name", flat=True)
    assert sorted(added) == ["云岩小微有限公司", "南明小微乙有限公司"]
    assert LibraryEntry.objects.get(enterprise=people["small_a"]).stage == C  # left as it was


def test_a_county_official_does_not_see_the_prefectures_batch(client, batch, nanming_official):
    # as on the batch page itself (views.batch_detail): a batch belongs to the region it screened
    found, _people = batch
    client.force_login(nanming_official)
    assert client.get(url("batch_detail", pk=found.pk)).status_code == 404
    assert client.get(url("library_from_batch", pk=found.pk)).status_code == 404


def test_another_regions_batch_is_not_found(client, gz, batch, program):
    found, _people = batch
    zunyi = official(gz, "520300", Post.Role.PREFECTURE_REVIEWER, username="zunyi2")
    client.force_login(zunyi)
    assert client.get(url("library_from_batch", pk=found.pk)).status_code == 404
    assert client.post(url("library_from_batch", pk=found.pk), {"stage": R}).status_code == 404
    assert not LibraryEntry.objects.exists()


# --- targets ---------------------------------------------------------------------------------------


@pytest.fixture
def targets(gz, guiyang_official):
    for code, regulated, minimum in (("520102", 48, 6), ("520103", 41, 3)):
        library.library_target_save(
            region=region(gz, code),
            year=YEAR,
            regulated_enterprises=regulated,
            share_percent=Decimal(10),
            minimum=minimum,
            by=guiyang_official,
        )


def cell(html: str, code: str, col: str) -> str:
    row = html[html.index(f'<tr data-region="{code}"') :].split("</tr>")[0]
    return re.sub(r"<[^>]+>", "", re.search(rf'data-col="{col}">(.*?)</td>', row, re.S).group(1)).split()[0]


def test_the_targets_page_shows_target_count_and_shortfall_with_a_chart(
    client, targets, entries, guiyang_official
):
    client.force_login(guiyang_official)
    html = client.get(url("library_targets")).content.decode()
    # 南明区: max(6, ⌈4.8⌉) = 6, acme in the library → short by 5; 云岩区: max(3, ⌈4.1⌉) = 5, one in → 4
    assert [cell(html, "520102", c) for c in ("from_share", "target", "current", "shortfall")] == [
        "5",
        "6",
        "1",
        "5",
    ]
    assert [cell(html, "520103", c) for c in ("from_share", "target", "current", "shortfall")] == [
        "5",
        "5",
        "1",
        "4",
    ]
    assert 'data-testid="targets-chart"' in html and "<title" in html
    assert 'data-testid="target-edit-520102"' in html


def test_the_county_sees_its_target_but_does_not_edit_it(client, targets, entries, nanming_official):
    client.force_login(nanming_official)
    html = client.get(url("library_targets")).content.decode()
    assert cell(html, "520102", "shortfall") == "5"
    assert "520103" not in html  # its neighbour is outside its region
    assert "target-edit-" not in html
    assert client.get(url("library_target_edit", code="520102", year=YEAR)).status_code == 404


def test_the_prefecture_sets_a_target_from_the_page(client, gz, guiyang_official):
    client.force_login(guiyang_official)
    target_url = url("library_target_edit", code="520111", year=YEAR)
    response = client.post(target_url, {"regulated_enterprises": "", "share_percent": "10", "minimum": "2"})
    assert response.status_code == 400 and "Regulated industrial enterprises:" in response.content.decode()
    response = client.post(
        target_url,
        {"regulated_enterprises": "35", "share_percent": "10", "minimum": "2", "source": "seed 004"},
    )
    assert response.status_code == 302
    target = LibraryTarget.objects.get(region__code="520111", year=YEAR)
    assert (target.regulated_enterprises, target.minimum, target.updated_by) == (35, 2, guiyang_official)
    html = client.get(url("library_targets")).content.decode()
    assert cell(html, "520111", "target") == "4"
    # a county of another prefecture is absent for 贵阳市's official
    assert client.get(url("library_target_edit", code="520302", year=YEAR)).status_code == 404


def test_the_targets_page_costs_the_same_number_of_queries_however_many_entries(
    client, gz, targets, entries, program, guiyang_official
):
    client.force_login(guiyang_official)
    client.get(url("library_targets"))

    def count():
        with CaptureQueriesContext(connection) as queries:
            client.get(url("library_targets"))
        return len(queries.captured_queries)

    few = count()
    prog, _version = program
    for serial in range(6):
        enterprise = make_enterprise(gz, "520102", 200 + serial)
        library.library_add(enterprise=enterprise, program=prog, stage=R, by=guiyang_official)
    assert count() == few
    html = client.get(url("library_targets")).content.decode()
    assert cell(html, "520102", "current") == "7" and cell(html, "520102", "shortfall") == "0"


def test_the_targets_export_gives_the_same_numbers(client, targets, entries, guiyang_official):
    client.force_login(guiyang_official)
    response = client.get(url("library_targets_export"))
    sheet = load_workbook(BytesIO(response.content)).active
    rows = {r[0]: r for r in sheet.iter_rows(min_row=2, values_only=True)}
    # division code, county, year, regulated, share, from share, minimum, target, in the library, shortfall
    assert rows["520102"][3:10] == (48, 10, 5, 6, 6, 1, 5)
    assert rows["520103"][7:10] == (5, 1, 4)
    assert rows["520111"][7:10] == (None, 0, None)


def test_another_tenants_batch_is_not_found(client, batch, xz_admin):
    found, _people = batch
    client.force_login(xz_admin)
    assert client.get(url("library_from_batch", tenant="xz", pk=found.pk)).status_code == 404


def test_screening_rows_are_untouched_by_the_library(batch, program, nanming_official):
    found, _people = batch
    before = list(Screening.objects.order_by("pk").values_list("pk", "verdict"))
    prog, _version = program
    library.library_add_from_screening(
        screenings=library.batch_library_screenings(found), program=prog, stage=R, by=nanming_official
    )
    assert list(Screening.objects.order_by("pk").values_list("pk", "verdict")) == before
    assert ScreeningBatch.objects.filter(pk=found.pk).exists()


def test_a_refusal_of_the_service_shows_on_its_field_once(client, entries, nanming_official):
    a, _b = entries
    client.force_login(nanming_official)
    response = client.post(url("library_move", pk=a.pk), {"to_stage": R, "note": "还是储备"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "New stage: the entry is already at this stage." in html
    assert "New stage: New stage" not in html
    assert 'href="#id_to_stage"' in html  # the error summary links to the field
    assert a.changes.count() == 1
