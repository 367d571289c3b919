"""The circular (通报): the sub-regions ranked, on a page and in Excel, within the official's scope."""

from __future__ import annotations

from io import BytesIO

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from openpyxl import load_workbook

from portal.models import Region
from tests.reports.conftest import read_page

pytestmark = pytest.mark.django_db

User = get_user_model()


def url(tenant, name="region_circular", **query) -> str:
    base = reverse(name, kwargs={"tenant_code": tenant.code})
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def ranks(page, column="rank") -> dict[str, str]:
    return {key: row[column] for key, row in page.tables["circular"].items()}


def test_the_prefectures_are_ranked_by_certified_enterprises_ties_sharing_a_rank(
    client, world, province_reviewer
):
    client.force_login(province_reviewer)
    page = read_page(client.get(url(world.tenant)))
    prefectures = Region.objects.filter(tenant=world.tenant, parent__code="520000").count()
    got = ranks(page)
    assert len(got) == prefectures
    assert got["520100"] == "1"  # 贵阳: e1, e2, e3
    assert got["520300"] == "2"  # 遵义: e5
    assert {v for k, v in got.items() if k not in ("520100", "520300")} == {"3"}
    assert page.tables["circular"]["520100"]["certified"] == "3"


def test_ranked_by_target_progress_regions_without_targets_come_last_unranked(
    client, world, province_reviewer
):
    client.force_login(province_reviewer)
    page = read_page(client.get(url(world.tenant, by="progress")))
    rows = page.tables["circular"]
    # 遵义: one target at 1 of 2 (50.0%); 贵阳: 3 of 4 (75.0%) and 1 of 20 (5.0%), a mean of 40.0%
    assert (rows["520300"]["rank"], rows["520300"]["progress"]) == ("1", "50.0%")
    assert (rows["520100"]["rank"], rows["520100"]["progress"]) == ("2", "40.0%")
    assert rows["520200"]["rank"] == "—" and rows["520200"]["progress"] == "—"
    keys = list(rows)
    assert keys[:2] == ["520300", "520100"]


def test_problems_rank_fewest_first(client, world, province_reviewer):
    client.force_login(province_reviewer)
    rows = read_page(client.get(url(world.tenant, by="overdue"))).tables["circular"]
    assert rows["520100"]["overdue"] == "2"  # e7 at 南明, e8 at 贵阳 itself (e9 waits at the province)
    assert rows["520100"]["rank"] == str(len(rows))
    assert rows["520300"]["rank"] == "1"


def test_the_circular_exports_to_excel(client, world, guiyang_official):
    client.force_login(User.objects.get(username="guiyang"))
    response = client.get(url(world.tenant, "region_circular_export", region="520100"))
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(min_row=2, values_only=True))
    by_name = {r[0]: r for r in rows}
    assert by_name["南明区"][1:3] == (1, 2)  # rank 1, two certified enterprises
    assert by_name["云岩区"][1:3] == (2, 1)


def test_the_circular_is_scoped_like_the_dashboard(client, world, guiyang_official, xz_admin):
    client.force_login(User.objects.get(username="guiyang"))
    assert client.get(url(world.tenant, region="520300")).status_code == 404
    assert client.get(url(world.tenant, "region_circular_export", region="520000")).status_code == 404
    client.logout()
    client.force_login(User.objects.get(username="xzadmin"))
    assert client.get(url(world.tenant)).status_code == 404
