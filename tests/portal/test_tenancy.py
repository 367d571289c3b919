import pytest
from django.urls import reverse
from guardian.shortcuts import get_perms

from portal import permissions
from portal.models import Post, Region
from tests.conftest import official, region


def test_tenant_home_shows_the_tenant_in_chinese(client, gz):
    response = client.get("/gz/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "贵州省" in html
    assert "专精特新" in html
    assert response["Content-Language"] == "zh-hans"


def test_unknown_tenant_is_a_404_page_in_chinese(client, gz):
    response = client.get("/zz/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_unknown_tenant_is_a_404_in_the_api(client, gz_admin):
    client.force_login(gz_admin)
    response = client.get("/api/v1/zz/regions/")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == 404


def test_gz_official_gets_404_for_an_xz_region_by_page_and_api(client, gz_admin, xz):
    client.force_login(gz_admin)
    assert client.get("/gz/regions/520102/").status_code == 200
    # 城关区 exists, but in 西藏: from 贵州's portal it does not.
    assert client.get("/gz/regions/540102/").status_code == 404
    assert client.get("/api/v1/gz/regions/540102/").status_code == 404
    # and through xz's own URLs the gz admin has no post, so nothing is there either
    assert client.get("/xz/regions/540102/").status_code == 404
    assert client.get("/api/v1/xz/regions/540102/").status_code == 404


def test_region_scoping_follows_the_subtree_of_the_post(gz, nanming_official, guiyang_official):
    nanming = Region.objects.visible_to(nanming_official, gz)
    assert list(nanming.values_list("code", flat=True)) == ["520102"]
    guiyang = set(Region.objects.visible_to(guiyang_official, gz).values_list("code", flat=True))
    assert "520100" in guiyang and "520102" in guiyang and "520103" in guiyang
    assert "520300" not in guiyang  # 遵义市 is another prefecture
    assert all(code.startswith("5201") for code in guiyang)


def test_county_official_gets_404_for_the_neighbouring_county(client, nanming_official):
    client.force_login(nanming_official)
    assert client.get("/gz/regions/520102/").status_code == 200
    assert client.get("/gz/regions/520103/").status_code == 404
    assert client.get("/api/v1/gz/regions/520103/").status_code == 404
    codes = [r["code"] for r in client.get("/api/v1/gz/regions/").json()["results"]]
    assert codes == ["520102"]


def test_prefecture_official_sees_its_counties(client, guiyang_official):
    client.force_login(guiyang_official)
    assert client.get("/gz/regions/520103/").status_code == 200
    assert client.get("/gz/regions/520302/").status_code == 404  # 红花岗区, 遵义市


def test_posts_are_scoped_too(gz, nanming_official, yunyan_official, guiyang_official):
    seen_by_county = Post.objects.visible_to(nanming_official, gz)
    assert {p.user for p in seen_by_county} == {nanming_official}
    seen_by_prefecture = Post.objects.visible_to(guiyang_official, gz)
    assert {p.user for p in seen_by_prefecture} == {nanming_official, yunyan_official, guiyang_official}


def test_guardian_grant_opens_one_object_outside_the_subtree(gz):
    # given a commissioner posted at 南明区, who cannot see 遵义市's 红花岗区 by region
    commissioner = official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="comm")
    honghuagang = region(gz, "520302")
    qs = Region.objects.all()
    assert (
        not permissions.visible_with_grants(qs, user=commissioner, tenant=gz)
        .filter(pk=honghuagang.pk)
        .exists()
    )
    # when the object is granted to them
    permissions.grant(user=commissioner, perm="view", obj=honghuagang)
    # then they see that object, and only that one
    commissioner = type(commissioner).objects.get(pk=commissioner.pk)  # fresh permission cache
    assert "view_region" in get_perms(commissioner, honghuagang)
    assert commissioner.has_perm("portal.view_region", honghuagang)
    visible = permissions.visible_with_grants(qs, user=commissioner, tenant=gz)
    assert list(visible.values_list("code", flat=True)) == ["520302"]
    # and revoking takes it away again
    permissions.revoke(user=commissioner, perm="view", obj=honghuagang)
    assert not permissions.visible_with_grants(qs, user=commissioner, tenant=gz).exists()


def test_a_grant_on_another_tenants_object_does_not_leak_into_this_tenant(gz, xz):
    commissioner = official(gz, "520102", Post.Role.SERVICE_COMMISSIONER, username="comm2")
    permissions.grant(user=commissioner, perm="view", obj=region(xz, "540102"))
    assert not permissions.visible_with_grants(Region.objects.all(), user=commissioner, tenant=gz).exists()


def test_user_without_a_post_sees_no_jurisdiction(client, gz):
    from tests.factories import UserFactory

    client.force_login(UserFactory())
    assert client.get(reverse("regions", kwargs={"tenant_code": "gz"})).status_code == 404
    assert client.get("/api/v1/gz/regions/").status_code == 404


@pytest.mark.parametrize("path", ["/gz/me/", "/gz/regions/", "/gz/audit/", "/gz/inbox/"])
def test_pages_ask_anonymous_visitors_to_sign_in(client, gz, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/gz/login/?next=")
