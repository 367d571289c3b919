from decimal import Decimal

import pytest

from enterprises.models import Enterprise, IPItem
from portal.models import Post
from tests.conftest import official


@pytest.fixture
def nanming(gz):
    return official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nm")


@pytest.fixture
def yunyan(gz):
    return official(gz, "520103", Post.Role.COUNTY_REVIEWER, username="yy")


def test_register_by_api_with_field_errors(client, gz):
    response = client.post(
        "/api/v1/gz/register/", {"username": "apico", "uscc": "123"}, content_type="application/json"
    )
    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert "uscc" in fields and "password" in fields and "county" in fields


def test_register_by_api(client, gz):
    from enterprises.demo import demo_uscc

    code = demo_uscc("520102", 88)
    response = client.post(
        "/api/v1/gz/register/",
        {
            "username": "apico",
            "password": "Long-password-1",
            "uscc": code,
            "name": "接口企业",
            "county": "520102",
            "address": "路",
            "industry": "C3484",
            "legal_representative": "甲",
            "contact_person": "乙",
            "contact_phone": "13912345678",
            "contact_email": "api@example.cn",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert Enterprise.objects.get(uscc=code).memberships.get().role == "admin"


def test_enterprise_api_isolation(client, acme, owner, outsider, nanming, yunyan, xz_enterprise):
    for user, can_see in ((owner, True), (nanming, True), (yunyan, False), (outsider, False)):
        client.force_login(user)
        ids = [e["id"] for e in client.get("/api/v1/gz/enterprises/").json()["results"]]
        assert (acme.pk in ids) is can_see
        assert xz_enterprise.pk not in ids
        status = client.get(f"/api/v1/gz/enterprises/{acme.pk}/").status_code
        assert status == (200 if can_see else 404)
        for sub in ("facts/", "figures/", "ip/"):
            assert client.get(f"/api/v1/gz/enterprises/{acme.pk}/{sub}").status_code == (
                200 if can_see else 404
            )
    client.force_login(nanming)
    assert client.get(f"/api/v1/xz/enterprises/{xz_enterprise.pk}/").status_code == 404
    assert client.get(f"/api/v1/gz/enterprises/{xz_enterprise.pk}/").status_code == 404


def test_members_write_figures_and_ip_officials_only_read(client, acme, colleague, nanming):
    client.force_login(nanming)
    response = client.post(
        f"/api/v1/gz/enterprises/{acme.pk}/figures/",
        {"fiscal_year": 2025, "revenue": "10"},
        content_type="application/json",
    )
    assert response.status_code == 403
    client.force_login(colleague)
    response = client.post(
        f"/api/v1/gz/enterprises/{acme.pk}/figures/",
        {"fiscal_year": 2025, "revenue": "100", "main_business_revenue": "200"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "main_business_revenue" in response.json()["error"]["fields"]
    response = client.post(
        f"/api/v1/gz/enterprises/{acme.pk}/figures/",
        {"fiscal_year": 2025, "revenue": "100.5"},
        content_type="application/json",
    )
    assert response.status_code == 200 and response.json()["revenue"] == "100.50"
    response = client.post(
        f"/api/v1/gz/enterprises/{acme.pk}/ip/",
        {"ip_type": "invention", "number": "ZL1", "title": "t", "grant_date": "2024-01-01"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    item = IPItem.objects.get(enterprise=acme)
    facts = client.get(f"/api/v1/gz/enterprises/{acme.pk}/facts/").json()
    assert facts["facts"]["ip_class1_count"] == 1
    assert facts["facts"]["revenue_y1"] in ("100.50", None)
    client.force_login(nanming)
    assert client.delete(f"/api/v1/gz/enterprises/{acme.pk}/ip/{item.pk}/").status_code == 403
    assert IPItem.objects.filter(pk=item.pk).exists()
    assert Decimal("100.50") == acme.figures.get().revenue


def test_industries_are_public_reference_data(client, db):
    response = client.get("/api/v1/industries/", {"q": "3484"})
    assert response.status_code == 200
    assert response.json()["results"][0]["code"] == "C3484"
