"""Rate limits on the API token exchange and the Excel exports (reliability.md V7)."""

from __future__ import annotations

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from portal.models import Post
from portal.security import ScopeThrottle, throttle_scope
from tests.conftest import official
from tests.enterprises.conftest import make_enterprise
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"auth_token": "3/min", "export": "2/min"},
    }


@pytest.fixture
def clock(monkeypatch):
    """DRF's throttle reads its own reference to time.time, which freezegun does not reach."""
    now = [1_800_000_000.0]
    monkeypatch.setattr(ScopeThrottle, "timer", lambda self: now[0])
    return now


@pytest.fixture
def owner(gz):
    user = UserFactory(username="owner")
    make_enterprise(gz, "520102", 1, admin=user)
    return user


def test_every_export_url_and_the_token_exchange_are_limited():
    from tests.portal.test_security_headers import URLS

    exports = [name for name, path in URLS if name.endswith("_export")]
    assert len(exports) >= 10
    assert {throttle_scope(name) for name in exports} == {"export"}
    assert throttle_scope("api-token") == "auth_token"
    assert throttle_scope("dashboard") is None


def test_token_exchange_answers_429_after_the_rate_even_with_good_credentials(owner, rates, clock):
    api = APIClient()
    credentials = {"username": "owner", "password": PASSWORD}
    # given three exchanges within the minute, each succeeds
    for _ in range(3):
        assert api.post("/api/v1/auth/token/", credentials, format="json").status_code == 200
    # when a fourth comes in the same minute, then 429 in the API's error format with Retry-After
    response = api.post("/api/v1/auth/token/", credentials, format="json")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "throttled"
    assert 1 <= int(response["Retry-After"]) <= 60
    # and a minute later it is allowed again
    clock[0] += 61
    assert api.post("/api/v1/auth/token/", credentials, format="json").status_code == 200


def test_exports_are_limited_per_person_with_a_chinese_page(client, gz, rates, clock):
    county = official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming")
    neighbour = official(gz, "520103", Post.Role.COUNTY_REVIEWER, username="yunyan")
    client.force_login(county)
    for _ in range(2):
        assert client.get("/gz/review/export.xlsx").status_code == 200
    response = client.get("/gz/review/export.xlsx")
    assert response.status_code == 429
    assert response["Retry-After"]
    with translation.override("zh-hans"):
        assert translation.gettext("Too many requests") in response.content.decode()
    # another person's exports are counted apart
    client.force_login(neighbour)
    assert client.get("/gz/review/export.xlsx").status_code == 200
    # other pages are not limited
    client.force_login(county)
    assert client.get("/gz/review/").status_code == 200
