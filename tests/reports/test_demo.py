"""The demo targets are the seed documents' numbers, quoted, recorded once."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from portal.models import AuditEvent, Post
from reports.demo import seed_reports
from reports.models import Target
from tests.conftest import make_tenant, official

pytestmark = pytest.mark.django_db


def seeded(code: str, name: str, root: str):
    tenant = make_tenant(code, name, root)
    official(tenant, root, Post.Role.TENANT_ADMIN, username=f"{code}_admin")
    seed_reports(tenant, password_hash="", log=lambda _m: None)
    return tenant


def targets(tenant) -> set[tuple]:
    return {
        (t.region.code, t.metric, t.value, t.deadline, t.counts_from, t.baseline)
        for t in Target.objects.filter(tenant=tenant).select_related("region")
    }


def test_tibet_gets_seed_000s_targets():
    tibet = seeded("xz", "西藏自治区", "540000")
    start, end = date(timezone.localdate().year, 1, 1), date(timezone.localdate().year, 12, 31)
    assert targets(tibet) == {
        ("540000", "srdi", 30, date(2023, 12, 31), None, None),
        ("540000", "demonstration", 15, date(2023, 12, 31), None, None),
        ("540000", "recommended_national", 5, date(2023, 12, 31), None, None),
        ("540000", "srdi", 50, date(2025, 12, 31), None, None),
        ("540000", "srdi_revenue_1e8", 10, date(2025, 12, 31), None, None),
        ("540100", "recommended", 5, end, start, None),
    }
    assert all("seed 000" in t.source and "“" in t.source for t in Target.objects.filter(tenant=tibet))
    assert AuditEvent.objects.filter(action="target.created", tenant=tibet).count() == 6


def test_guizhou_gets_seed_002_and_the_demo_citys_seed_003():
    guizhou = seeded("gz", "贵州省", "520000")
    got = targets(guizhou)
    assert ("520000", "srdi", 100, date(2025, 12, 31), date(2025, 1, 1), None) in got
    recommended = {t for t in got if t[1] == "recommended"}
    assert len(recommended) == 9 and {t[2] for t in recommended} == {20}  # every prefecture, at least 20
    city = {(t[1], t[2]) for t in got if t[0] == "520100" and t[1] != "recommended"}
    assert city == {
        ("innovative", 5000),
        ("srdi_all", 2500),
        ("srdi", 500),
        ("national_little_giant", 100),
        ("single_champion", 30),
    }
    sources = Target.objects.filter(tenant=guizhou, region__code="520100").exclude(metric="recommended")
    assert all("示范市（演示）" in t.source for t in sources)


def test_bortala_gets_seed_004s_targets_with_their_starting_points_and_a_second_run_adds_nothing():
    xinjiang = seeded("xj", "新疆维吾尔自治区", "650000")
    assert targets(xinjiang) == {
        ("652700", "innovative", 70, date(2025, 12, 31), None, 37),
        ("652700", "srdi", 27, date(2025, 12, 31), None, 21),
        ("652700", "national_little_giant", 2, date(2025, 12, 31), None, 0),
        ("652700", "listed", 1, date(2025, 12, 31), None, None),
    }
    seed_reports(xinjiang, password_hash="", log=lambda _m: None)
    assert Target.objects.filter(tenant=xinjiang).count() == 4
