"""The library's demo (certification/demo_library.py) for 博州: the seed 004 targets, entries at every stage, some
from screening, short of the targets where the demo says so; and a second seed_demo adds nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from certification import library
from certification.models import LibraryEntry, LibraryStageChange, LibraryTarget
from portal.models import Region, Tenant
from tests.demo_snapshot import demo_portal


@pytest.fixture
def xj(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    demo_portal(tenants=["xj"])  # seeded once per run, restored after (tests/demo_snapshot.py)
    return Tenant.objects.get(code="xj")


def test_bortala_targets_follow_seed_004_and_entries_sit_at_every_stage(xj):
    bortala = Region.objects.get(tenant=xj, code="652700")
    rows = {
        r.region.name: r
        for r in library.library_targets_status(tenant=xj, region_scope=bortala, year=library.today_year())
    }
    assert {name: (r.target.minimum, r.required) for name, r in rows.items()} == {
        "博乐市": (6, 6),  # 48 → ⌈4.8⌉ = 5: the minimum wins
        "阿拉山口市": (4, 4),
        "精河县": (3, 5),  # 41 → ⌈4.1⌉ = 5: the share wins
        "温泉县": (2, 2),
    }
    assert rows["博乐市"].minimum_wins and not rows["精河县"].minimum_wins
    assert {name: r.shortfall for name, r in rows.items()} == {
        "博乐市": 2,
        "阿拉山口市": 1,
        "精河县": 2,
        "温泉县": 0,
    }
    # entries at every stage, some from screening, one removed, each with its history
    entries = LibraryEntry.objects.filter(tenant=xj)
    current = entries.filter(removed_at__isnull=True)
    assert set(current.values_list("stage", flat=True)) == set(LibraryEntry.Stage.values)
    assert current.filter(source="screening", screening__verdict="library").count() >= 5
    assert entries.filter(removed_at__isnull=False).count() == 1
    # every entry's history starts with its addition and runs forward in time
    for entry in entries:
        changes = list(entry.changes.order_by("at", "id"))
        assert changes[0].from_stage == "" and changes[0].to_stage
        assert [c.at for c in changes] == sorted(c.at for c in changes)


def test_a_second_seed_adds_nothing(xj, settings):
    counts = (LibraryEntry.objects.count(), LibraryStageChange.objects.count(), LibraryTarget.objects.count())
    settings.DEBUG = True
    call_command("seed_demo", quiet_accounts=True, tenants=["xj"])
    assert (
        LibraryEntry.objects.count(),
        LibraryStageChange.objects.count(),
        LibraryTarget.objects.count(),
    ) == counts
