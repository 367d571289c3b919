"""The cultivation library's services (certification.library): adding by hand and from screening, the stage
history, refusals, and the county targets with their shortfall.

Personas (tests/conftest.py): 南明区's county official (nanming) and its enterprise acme; 云岩区's official and
enterprise next door; 贵阳市's prefecture official above both; the province; 西藏 is another tenant.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from certification import library, services
from certification.library import LibraryRefused
from certification.models import LibraryEntry, LibraryStageChange, LibraryTarget, Screening
from enterprises.models import AnnualFigures
from enterprises.services import enterprise_refresh_facts
from portal.models import AuditEvent, Post
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import chain_fixture, drive  # noqa: F401
from tests.conftest import official, region
from tests.enterprises.conftest import make_enterprise

R, C, U = LibraryEntry.Stage.RESERVE, LibraryEntry.Stage.CULTIVATING, LibraryEntry.Stage.UPGRADING


@pytest.fixture
def neighbour(gz):
    """云岩区's enterprise, next door to acme."""
    return make_enterprise(gz, "520103", 2, name="云岩企业有限公司")


@pytest.fixture
def tibetan(xz):
    """An enterprise of 西藏: another tenant."""
    return make_enterprise(xz, "540102", 3, name="西藏企业有限公司")


def add(enterprise, program, by, stage=R, note="走访推荐", **kwargs):
    return library.library_add(
        enterprise=enterprise, program=program, stage=stage, by=by, note=note, **kwargs
    )


def audit(action, obj, outcome="success"):
    return AuditEvent.objects.filter(
        action=action, object_type=obj._meta.label_lower, object_id=str(obj.pk), outcome=outcome
    )


def fingerprint(enterprise):
    return (
        list(LibraryEntry.objects.filter(enterprise=enterprise).values_list("pk", "stage", "removed_at")),
        LibraryStageChange.objects.filter(entry__enterprise=enterprise).count(),
    )


def screening(enterprise, version, verdict="library", **extra):
    return Screening.objects.create(
        tenant=enterprise.tenant,
        enterprise=enterprise,
        version=version,
        purpose=Screening.Purpose.BACKGROUND,
        facts_hash=enterprise.facts_hash or "x" * 64,
        verdict=verdict,
        score=40,
        size_class="small",
        result={"unmet": [{"key": "revenue", "label": "revenue ≥ 1000"}]},
        **extra,
    )


# --- adding ----------------------------------------------------------------------------------------


def test_county_official_adds_an_enterprise_of_its_county_with_its_history_and_an_audit_event(
    acme, program, nanming_official
):
    # given
    prog, _version = program
    # when
    entry = add(acme, prog, nanming_official, note="细分市场占有率高，研发投入不足")
    # then
    entry.refresh_from_db()
    assert (entry.stage, entry.source, entry.added_by, entry.removed_at) == (
        R,
        "manual",
        nanming_official,
        None,
    )
    [change] = entry.changes.all()
    assert (change.from_stage, change.to_stage, change.note, change.by) == (
        "",
        R,
        "细分市场占有率高，研发投入不足",
        nanming_official,
    )
    assert audit("library.added", entry).count() == 1


def test_adding_an_enterprise_twice_for_the_same_programme_is_refused_and_changes_nothing(
    acme, program, nanming_official, guiyang_official
):
    prog, _version = program
    add(acme, prog, nanming_official)
    before = fingerprint(acme)
    with pytest.raises(LibraryRefused) as info:
        add(acme, prog, guiyang_official, stage=C)
    assert info.value.code == "already_in_library"
    assert "enterprise" in info.value.fields
    assert fingerprint(acme) == before
    assert audit("library.added", acme, outcome="refused").count() == 1


def test_the_unique_constraint_backs_the_check_with_the_same_clear_refusal(acme, program, nanming_official):
    # A writer that skipped the check (or lost a race without the lock) meets the partial unique constraint.
    prog, _version = program
    add(acme, prog, nanming_official)
    with transaction.atomic():
        with pytest.raises(LibraryRefused) as info:
            library._create_entry(
                enterprise=acme, program=prog, stage=R, by=nanming_official, note="", screening=None
            )
        # the savepoint kept the surrounding transaction usable
        assert LibraryEntry.objects.filter(enterprise=acme).count() == 1
    assert info.value.code == "already_in_library"


def test_another_programme_is_a_separate_entry_and_a_removed_entry_can_be_added_again(
    gz, acme, program, nanming_official
):
    prog, _version = program
    other, _v = make_program(gz, code="innovative_test")
    first = add(acme, prog, nanming_official)
    add(acme, other, nanming_official)
    library.library_remove(entry=first, reason="已申报认定", by=nanming_official)
    again = add(acme, prog, nanming_official, stage=C)
    assert again.pk != first.pk
    assert LibraryEntry.objects.filter(enterprise=acme, removed_at__isnull=True).count() == 2
    # the removed entry keeps its history
    assert [c.to_stage for c in first.changes.all()] == [R, ""]


def test_officials_add_only_enterprises_of_their_subtree(
    gz,
    acme,
    neighbour,
    program,
    nanming_official,
    yunyan_official,
    guiyang_official,
    province_reviewer,
):
    prog, _version = program
    with pytest.raises(LibraryRefused) as info:
        add(neighbour, prog, nanming_official)
    assert (info.value.code, info.value.status_code) == ("not_allowed", 403)
    assert not LibraryEntry.objects.filter(enterprise=neighbour).exists()
    # the prefecture above both, and the province, may
    assert add(neighbour, prog, guiyang_official).pk
    assert add(acme, prog, province_reviewer).pk
    # a neighbouring county's official may not touch acme's entry either
    entry = LibraryEntry.objects.get(enterprise=acme)
    with pytest.raises(LibraryRefused):
        library.library_move(entry=entry, to_stage=C, note="越权", by=yunyan_official)


@pytest.mark.parametrize(
    "role", [Post.Role.EXPERT, Post.Role.SERVICE_COMMISSIONER, Post.Role.FUNDING_OFFICER]
)
def test_experts_commissioners_and_funding_officers_do_not_keep_the_library(gz, acme, program, role):
    prog, _version = program
    person = official(gz, "520102", role)
    assert not library.is_keeper(person, gz)
    with pytest.raises(LibraryRefused):
        add(acme, prog, person)


def test_another_tenants_programme_or_enterprise_is_refused(
    gz, xz, acme, tibetan, program, xz_program, gz_admin
):
    prog, _version = program
    xz_prog, _v = xz_program
    with pytest.raises(LibraryRefused) as info:
        add(acme, xz_prog, gz_admin)
    assert "program" in info.value.fields
    with pytest.raises(LibraryRefused):
        add(tibetan, prog, gz_admin)  # gz's administrator holds no post in 西藏
    assert not LibraryEntry.objects.exists()


def test_a_programme_not_open_to_the_county_is_refused(gz, guiyang_program, zunyi_official):
    prog, _version = guiyang_program  # 贵阳市's own programme
    zunyi = make_enterprise(gz, "520302", 40)
    with pytest.raises(LibraryRefused) as info:
        add(zunyi, prog, zunyi_official)
    assert (info.value.code, list(info.value.fields)) == ("program_not_open", ["program"])


def test_an_enterprise_holding_a_certification_in_force_is_refused(
    ready, chain, wf_program, nanming_official
):
    application = drive(ready, "published", chain)
    prog, _version = wf_program
    assert application.certification.status == "active"
    with pytest.raises(LibraryRefused) as info:
        add(application.enterprise, prog, nanming_official)
    assert info.value.code == "certified"
    assert not LibraryEntry.objects.exists()
    # an expired certification no longer stands in the way
    application.certification.status = "expired"
    application.certification.save()
    assert add(application.enterprise, prog, nanming_official).pk


def test_a_note_longer_than_allowed_and_an_unknown_stage_are_refused(acme, program, nanming_official):
    prog, _version = program
    with pytest.raises(LibraryRefused) as info:
        add(acme, prog, nanming_official, note="长" * (library.NOTE_MAX + 1))
    assert list(info.value.fields) == ["note"]
    with pytest.raises(LibraryRefused) as info:
        add(acme, prog, nanming_official, stage="graduated")
    assert list(info.value.fields) == ["stage"]
    assert not LibraryEntry.objects.exists()


# --- from screening ----------------------------------------------------------------------------------


def test_an_entry_from_a_library_screening_records_its_source(acme, program, nanming_official):
    prog, version = program
    found = screening(acme, version)
    entry = add(acme, prog, nanming_official, screening=found)
    assert (entry.source, entry.screening_id) == ("screening", found.pk)


def test_a_screening_of_another_verdict_or_enterprise_is_refused(acme, neighbour, program, guiyang_official):
    prog, version = program
    with pytest.raises(LibraryRefused) as info:
        add(acme, prog, guiyang_official, screening=screening(acme, version, verdict="ineligible"))
    assert info.value.code == "not_library_verdict"
    with pytest.raises(LibraryRefused) as info:
        add(acme, prog, guiyang_official, screening=screening(neighbour, version))
    assert info.value.code == "bad_screening"
    assert not LibraryEntry.objects.exists()


def figures(enterprise, revenue, rd=100):
    AnnualFigures.objects.create(
        enterprise=enterprise,
        fiscal_year=date.today().year - 1,
        revenue=Decimal(revenue),
        rd_expense=Decimal(rd),
        employees=50,
        total_assets=Decimal(3000),
        total_liabilities=Decimal(1000),
    )
    enterprise_refresh_facts(enterprise=enterprise)


@pytest.fixture(name="batch")
def batch_fixture(gz, program, guiyang_official, django_capture_on_commit_callbacks):
    """A real background screening of 贵阳市 against the test programme (library rule: ≤ 2 missing):
    two 南明区 enterprises short only of the revenue threshold (library), one above it (eligible), one
    without figures (ineligible), and one of 云岩区 in the library band too."""
    _prog, version = program
    people = {
        "small_a": make_enterprise(gz, "520102", 31, name="南明小微甲有限公司"),
        "small_b": make_enterprise(gz, "520102", 32, name="南明小微乙有限公司"),
        "big": make_enterprise(gz, "520102", 33, name="南明规上有限公司"),
        "blank": make_enterprise(gz, "520102", 34, name="南明空白有限公司"),
        "yunyan": make_enterprise(gz, "520103", 35, name="云岩小微有限公司"),
    }
    for key, revenue in (("small_a", 500), ("small_b", 600), ("yunyan", 700)):
        figures(people[key], revenue)
    figures(people["big"], 5000, rd=400)
    Screening.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        found = services.screening_batch_start(
            tenant=gz, version=version, region=region(gz, "520100"), by=guiyang_official
        )
    found.refresh_from_db()
    assert found.status == "done"
    return found, people


def test_the_batch_screening_gives_the_library_verdicts_the_tests_rely_on(batch):
    found, people = batch
    verdicts = dict(Screening.objects.values_list("enterprise__name", "verdict"))
    assert verdicts == {
        "南明小微甲有限公司": "library",
        "南明小微乙有限公司": "library",
        "南明规上有限公司": "eligible",
        "南明空白有限公司": "ineligible",
        "云岩小微有限公司": "library",
    }
    assert {s.enterprise.name for s in library.batch_library_screenings(found)} == {
        "南明小微甲有限公司",
        "南明小微乙有限公司",
        "云岩小微有限公司",
    }


def test_bulk_adds_every_library_verdict_not_in_the_library_and_skips_the_rest(
    batch, program, nanming_official
):
    # given: one of the two 南明区 candidates is in already; 云岩区's is outside nanming's region
    found, people = batch
    prog, _version = program
    add(people["small_a"], prog, nanming_official, stage=C)
    # when
    result = library.library_add_from_screening(
        screenings=library.batch_library_screenings(found),
        program=prog,
        stage=R,
        by=nanming_official,
        note="批量",
    )
    # then
    assert [e.enterprise.name for e in result.added] == ["南明小微乙有限公司"]
    assert {e.name for e, _why in result.skipped} == {"南明小微甲有限公司", "云岩小微有限公司"}
    added = result.added[0]
    assert (added.source, added.stage, added.screening.verdict) == ("screening", R, "library")
    assert added.changes.count() == 1
    # the entry already there is left as it was
    assert LibraryEntry.objects.get(enterprise=people["small_a"]).stage == C
    # run again: nothing more
    again = library.library_add_from_screening(
        screenings=library.batch_library_screenings(found), program=prog, stage=R, by=nanming_official
    )
    assert again.added == []
    assert LibraryEntry.objects.count() == 2


def test_bulk_ignores_verdicts_other_than_library(batch, program, guiyang_official):
    found, people = batch
    prog, _version = program
    every = Screening.objects.filter(version__program=prog)
    result = library.library_add_from_screening(screenings=every, program=prog, stage=R, by=guiyang_official)
    assert {e.enterprise.name for e in result.added} == {
        "南明小微甲有限公司",
        "南明小微乙有限公司",
        "云岩小微有限公司",
    }


# --- moving and removing ------------------------------------------------------------------------------


def test_moving_records_each_stage_change_with_its_note(acme, program, nanming_official, guiyang_official):
    prog, _version = program
    entry = add(acme, prog, nanming_official, note="列入储备")
    library.library_move(entry=entry, to_stage=C, note="已建立研发中心", by=nanming_official)
    entry = library.library_move(entry=entry, to_stage=U, note="条件基本满足", by=guiyang_official)
    assert entry.stage == U
    history = list(entry.changes.values_list("from_stage", "to_stage", "note", "by__username"))
    assert history == [
        ("", R, "列入储备", "nanming"),
        (R, C, "已建立研发中心", "nanming"),
        (C, U, "条件基本满足", "guiyang"),
    ]
    assert audit("library.moved", entry).count() == 2


@pytest.mark.parametrize(
    ("to_stage", "note", "code", "field"),
    [
        (C, "", "note_required", "note"),
        (C, "   ", "note_required", "note"),
        (R, "还是储备", "same_stage", "to_stage"),
        ("graduated", "毕业", "bad_stage", "to_stage"),
    ],
)
def test_a_move_without_a_note_or_to_the_same_stage_is_refused_and_changes_nothing(
    acme, program, nanming_official, to_stage, note, code, field
):
    prog, _version = program
    entry = add(acme, prog, nanming_official)
    before = fingerprint(acme)
    with pytest.raises(LibraryRefused) as info:
        library.library_move(entry=entry, to_stage=to_stage, note=note, by=nanming_official)
    assert (info.value.code, list(info.value.fields)) == (code, [field])
    assert fingerprint(acme) == before
    assert audit("library.moved", entry, outcome="refused").count() == 1


def test_removing_needs_a_reason_keeps_the_entry_and_its_history(acme, program, nanming_official):
    prog, _version = program
    entry = add(acme, prog, nanming_official)
    with pytest.raises(LibraryRefused) as info:
        library.library_remove(entry=entry, reason=" ", by=nanming_official)
    assert list(info.value.fields) == ["reason"]
    entry = library.library_remove(entry=entry, reason="企业迁出本县", by=nanming_official)
    entry.refresh_from_db()
    assert entry.removed_at is not None and (entry.removed_by, entry.removal_reason) == (
        nanming_official,
        "企业迁出本县",
    )
    assert list(entry.changes.values_list("from_stage", "to_stage", "note")) == [
        ("", R, "走访推荐"),
        (R, "", "企业迁出本县"),
    ]
    assert audit("library.removed", entry).count() == 1
    # a removed entry neither moves nor is removed twice
    before = fingerprint(acme)
    for call in (
        lambda: library.library_move(entry=entry, to_stage=C, note="x", by=nanming_official),
        lambda: library.library_remove(entry=entry, reason="x", by=nanming_official),
    ):
        with pytest.raises(LibraryRefused) as info:
            call()
        assert info.value.code == "removed"
    assert fingerprint(acme) == before


# --- targets ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regulated", "share", "minimum", "expected"),
    [
        (48, "10", 6, 6),  # 博乐市: ⌈4.8⌉ = 5, the minimum 6 wins
        (41, "10", 3, 5),  # 精河县-like: ⌈4.1⌉ = 5, the share wins
        (12, "10", 2, 2),  # 温泉县-like: ⌈1.2⌉ = 2, a tie
        (40, "10", 3, 4),  # exactly 4: no rounding up
        (100, "10", 0, 10),  # exactly 10
        (1, "10", 0, 1),  # ⌈0.1⌉ = 1
        (0, "10", 0, 0),
        (3, "33.33", 0, 1),  # 0.9999 → 1
        (48, "12.5", 0, 6),  # 6.0 exactly
        (7, "0.01", 0, 1),
        (30, "100", 5, 30),
    ],
)
def test_the_target_is_the_larger_of_the_minimum_and_the_share_rounded_up(
    regulated, share, minimum, expected
):
    assert library.target_required(regulated, Decimal(share), minimum) == expected


def test_prefecture_officials_set_their_counties_targets_and_county_officials_do_not(
    gz, nanming_official, guiyang_official, zunyi_official, province_reviewer
):
    nanming = region(gz, "520102")
    with pytest.raises(LibraryRefused) as info:
        library.library_target_save(
            region=nanming,
            year=2026,
            regulated_enterprises=48,
            share_percent=Decimal(10),
            minimum=6,
            by=nanming_official,
        )
    assert info.value.code == "not_allowed"
    with pytest.raises(LibraryRefused):  # 遵义市 is not above 南明区
        library.library_target_save(
            region=nanming,
            year=2026,
            regulated_enterprises=48,
            share_percent=Decimal(10),
            minimum=6,
            by=zunyi_official,
        )
    with pytest.raises(LibraryRefused) as info:  # targets are per county
        library.library_target_save(
            region=region(gz, "520100"),
            year=2026,
            regulated_enterprises=48,
            share_percent=Decimal(10),
            minimum=6,
            by=province_reviewer,
        )
    assert info.value.code == "not_county"
    assert not LibraryTarget.objects.exists()
    target = library.library_target_save(
        region=nanming,
        year=2026,
        regulated_enterprises=48,
        share_percent=Decimal(10),
        minimum=6,
        by=guiyang_official,
    )
    # saving again changes the one row and records what changed
    again = library.library_target_save(
        region=nanming,
        year=2026,
        regulated_enterprises=70,
        share_percent=Decimal(10),
        minimum=6,
        by=province_reviewer,
        source="seed 004",
    )
    assert again.pk == target.pk and LibraryTarget.objects.count() == 1
    assert (again.regulated_enterprises, again.updated_by) == (70, province_reviewer)
    events = AuditEvent.objects.filter(action="library.target_saved").order_by("id")
    assert events.count() == 2
    assert events.last().changes == {"regulated_enterprises": ["48", "70"], "source": ["", "seed 004"]}


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("share_percent", {"share_percent": Decimal("100.5")}),
        ("share_percent", {"share_percent": Decimal("-1")}),
        ("minimum", {"minimum": -1}),
        ("regulated_enterprises", {"regulated_enterprises": -3}),
    ],
)
def test_target_values_out_of_range_are_refused_naming_the_field(gz, guiyang_official, field, kwargs):
    values = {"regulated_enterprises": 10, "share_percent": Decimal(10), "minimum": 1, **kwargs}
    with pytest.raises(LibraryRefused) as info:
        library.library_target_save(region=region(gz, "520102"), year=2026, by=guiyang_official, **values)
    assert list(info.value.fields) == [field]


def at(year, month, day):
    return timezone.make_aware(datetime(year, month, day, 12, 0))


@pytest.fixture
def library_rows(
    gz, xz, tibetan, program, xz_program, nanming_official, guiyang_official, gz_admin, xz_admin
):
    """Entries across 贵阳市's counties, programmes and years, removed and not, and one in 西藏."""
    prog, _version = program
    other, _v = make_program(gz, code="innovative_test")
    xz_prog, _v = xz_program
    made = {}

    def put(key, county, serial, program_, added, removed=None):
        enterprise = made.get(key) or make_enterprise(gz, county, serial, name=f"企业{key}")
        made[key] = enterprise
        entry = add(enterprise, program_, gz_admin)
        LibraryEntry.objects.filter(pk=entry.pk).update(added_at=added, removed_at=removed)
        return entry

    put("a", "520102", 61, prog, at(2025, 3, 1))  # 南明区, since 2025
    put("a", "520102", 61, other, at(2026, 2, 1))  # the same enterprise again: counts once
    put("b", "520102", 62, prog, at(2026, 5, 1))  # 南明区, since 2026
    put("c", "520102", 63, prog, at(2024, 5, 1), removed=at(2025, 6, 1))  # left in 2025
    put("d", "520103", 64, prog, at(2025, 12, 31))  # 云岩区, on the last day of 2025
    put("e", "520111", 65, prog, at(2026, 1, 1), removed=at(2026, 9, 1))  # 花溪区, in and out in 2026
    put("f", "520302", 66, prog, at(2025, 1, 1))  # 遵义: outside 贵阳市
    entry = library.library_add(enterprise=tibetan, program=xz_prog, stage=R, by=xz_admin)
    LibraryEntry.objects.filter(pk=entry.pk).update(added_at=at(2025, 1, 1))
    for code, regulated, minimum in (("520102", 48, 6), ("520103", 41, 3)):
        library.library_target_save(
            region=region(gz, code),
            year=2025,
            regulated_enterprises=regulated,
            share_percent=Decimal(10),
            minimum=minimum,
            by=guiyang_official,
        )
    return made


def expected_counts(tenant, scope, year):
    """The enterprises of each county in the library at the end of `year`, read off the rows one by one."""
    end = timezone.make_aware(datetime(year + 1, 1, 1))
    per_county: dict[str, set[int]] = {}
    for entry in LibraryEntry.objects.filter(tenant=tenant).select_related("enterprise__county"):
        county = entry.enterprise.county
        if not county.path.startswith(scope.path):
            continue
        if entry.added_at < end and (entry.removed_at is None or entry.removed_at >= end):
            per_county.setdefault(county.code, set()).add(entry.enterprise_id)
    return {code: len(ids) for code, ids in per_county.items()}


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_targets_status_counts_the_library_at_the_end_of_each_year(
    gz, library_rows, year, django_assert_num_queries
):
    scope = region(gz, "520100")
    with django_assert_num_queries(2):
        rows = library.library_targets_status(tenant=gz, region_scope=scope, year=year)
    counts = {r.region.code: r.current for r in rows if r.current}
    assert counts == expected_counts(gz, scope, year)
    assert {r.region.level for r in rows} == {"county"}
    assert all(r.region.path.startswith(scope.path) for r in rows)


def test_targets_status_numbers_for_2025(gz, library_rows):
    rows = {
        r.region.code: r
        for r in library.library_targets_status(tenant=gz, region_scope=region(gz, "520100"), year=2025)
    }
    nanming, yunyan, huaxi = rows["520102"], rows["520103"], rows["520111"]
    # 南明区 at the end of 2025: a (c left in June) → 1 of max(6, ⌈4.8⌉) = 6
    assert (
        nanming.current,
        nanming.from_share,
        nanming.required,
        nanming.shortfall,
        nanming.minimum_wins,
    ) == (
        1,
        5,
        6,
        5,
        True,
    )
    # 云岩区: d, added on 31 December → 1 of max(3, ⌈4.1⌉) = 5
    assert (yunyan.current, yunyan.required, yunyan.shortfall, yunyan.minimum_wins) == (1, 5, 4, False)
    # 花溪区 has no target: no shortfall is invented
    assert (huaxi.current, huaxi.required, huaxi.shortfall) == (0, None, None)


def test_the_year_boundary_is_midnight_in_beijing(gz, acme, program, nanming_official):
    prog, _version = program
    entry = add(acme, prog, nanming_official)
    # 2025-12-31 23:30 in Beijing is 15:30 UTC: still 2025
    LibraryEntry.objects.filter(pk=entry.pk).update(
        added_at=timezone.make_aware(datetime(2025, 12, 31, 23, 30))
    )
    rows = {
        r.region.code: r.current
        for r in library.library_targets_status(tenant=gz, region_scope=gz.root_region, year=2025)
    }
    assert rows["520102"] == 1
    LibraryEntry.objects.filter(pk=entry.pk).update(added_at=timezone.make_aware(datetime(2026, 1, 1, 0, 0)))
    rows = {
        r.region.code: r.current
        for r in library.library_targets_status(tenant=gz, region_scope=gz.root_region, year=2025)
    }
    assert rows["520102"] == 0
