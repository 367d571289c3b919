"""Who may call what anonymously (reliability.md D5), CSRF on pages and the session-authenticated API (V4),
open redirects at sign-in (V5) and request-size limits (V6)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from enterprises.models import IPItem
from tests.enterprises.conftest import make_enterprise
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

# The API operations anyone may call without signing in, and why. Everything else in the OpenAPI schema must
# answer an anonymous caller 401 or 403.
PUBLIC_OPERATIONS = {
    # a tenant's programmes and their criteria versions are published information (certification/api.py)
    ("get", "/api/v1/{tenant_code}/programs/"),
    # self-registration of an enterprise (enterprises/api.py RegisterApi)
    ("post", "/api/v1/{tenant_code}/register/"),
    # the GB/T 4754 industry classification, reference data (enterprises/api.py IndustryViewSet)
    ("get", "/api/v1/industries/"),
    ("get", "/api/v1/industries/{code}/"),
    # exchanging credentials for a token is how a caller signs in
    ("post", "/api/v1/auth/token/"),
}
SAMPLE_PATH_VALUES = {"tenant_code": "gz", "code": "C", "id": "1", "enterprise_pk": "1"}


@pytest.fixture
def owner(gz):
    user = UserFactory(username="owner")
    make_enterprise(gz, "520102", 1, admin=user)
    return user


def openapi_operations(client) -> list[tuple[str, str]]:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    methods = {"get", "post", "put", "patch", "delete"}
    return sorted((m, path) for path, item in schema["paths"].items() for m in item if m in methods)


def fill(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES.get(m.group(1), "1"), path)


def test_every_api_operation_refuses_anonymous_callers_except_the_public_ones(client, gz):
    # given the OpenAPI schema the portal publishes
    operations = openapi_operations(client)
    assert len(operations) > 30
    assert set(operations) >= PUBLIC_OPERATIONS, "an allow-listed operation is gone: update the list"
    problems = []
    api = APIClient()
    for method, path in operations:
        # when each operation is called without credentials
        response = getattr(api, method)(fill(path), data={}, format="json")
        # then it refuses (401 with a challenge, or 403), unless it is public on purpose
        if (method, path) in PUBLIC_OPERATIONS:
            if response.status_code in (401, 403) or response.status_code >= 500:
                problems.append(f"{method.upper()} {path}: public but answered {response.status_code}")
        elif response.status_code not in (401, 403):
            problems.append(f"{method.upper()} {path}: anonymous call answered {response.status_code}")
    assert not problems, "\n".join(problems)


def test_schema_and_docs_are_public(client, db):
    assert client.get("/api/schema/").status_code == 200
    assert client.get("/api/docs/").status_code == 200


# --- V4: CSRF ----------------------------------------------------------------------------------------------------


def csrf_token(client: Client, path: str) -> str:
    """The token a page hands its forms (the cookie Django sets when the page renders {% csrf_token %})."""
    response = client.get(path)
    assert response.status_code == 200, path
    from django.conf import settings

    return client.cookies[settings.CSRF_COOKIE_NAME].value


@pytest.fixture
def csrf_client(owner) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    return client


def test_page_form_without_the_csrf_token_is_refused_and_changes_nothing(csrf_client, owner):
    # given the IP form of a signed-in enterprise owner
    data = {
        "ip_type": IPItem.Type.INVENTION,
        "number": "ZL202410000001.0",
        "title": "一种高速精密轴承",
        "grant_date": "2024-03-01",
        "acquisition": IPItem.Acquisition.SELF_DEVELOPED,
    }
    # when it is posted without the token, then 403 and no row
    response = csrf_client.post("/gz/enterprise/ip/new/", data)
    assert response.status_code == 403
    assert not IPItem.objects.exists()
    # and with the token from the page it is saved
    token = csrf_token(csrf_client, "/gz/enterprise/ip/new/")
    response = csrf_client.post("/gz/enterprise/ip/new/", {**data, "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.content[:800]
    assert IPItem.objects.filter(number="ZL202410000001.0").exists()


def test_sign_out_without_the_csrf_token_is_refused(csrf_client):
    assert csrf_client.post("/gz/logout/").status_code == 403
    assert csrf_client.get("/gz/me/").status_code == 200  # still signed in
    token = csrf_token(csrf_client, "/gz/me/")
    assert csrf_client.post("/gz/logout/", {"csrfmiddlewaretoken": token}).status_code == 302
    assert csrf_client.get("/gz/me/").status_code == 302  # signed out: to the login page


def test_session_authenticated_api_writes_need_the_csrf_header(owner):
    # given a browser session (not a token) calling the API
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(owner)
    enterprise = owner.memberships.get().enterprise
    base = f"/api/v1/gz/enterprises/{enterprise.pk}/ip/"
    body = {"ip_type": IPItem.Type.INVENTION, "number": "ZL1", "title": "专利", "grant_date": "2024-03-01"}
    # when it writes without X-CSRFToken: POST, then PUT/PATCH/DELETE on an existing item, all refused
    assert api.post(base, body, format="json").status_code == 403
    item = IPItem.objects.create(
        enterprise=enterprise,
        ip_type=IPItem.Type.INVENTION,
        number="ZL2",
        title="旧",
        grant_date=date(2024, 3, 1),
    )
    assert api.put(f"{base}{item.pk}/", body, format="json").status_code == 403
    assert api.patch(f"{base}{item.pk}/", {"title": "新"}, format="json").status_code == 403
    assert api.delete(f"{base}{item.pk}/").status_code == 403
    item.refresh_from_db()
    assert item.title == "旧"
    assert IPItem.objects.count() == 1
    # then with the token from a page, the same writes succeed
    token = csrf_token(api, "/gz/enterprise/")
    headers = {"HTTP_X_CSRFTOKEN": token}
    assert api.post(base, body, format="json", **headers).status_code == 201
    assert api.patch(f"{base}{item.pk}/", {"title": "新"}, format="json", **headers).status_code == 200
    assert api.delete(f"{base}{item.pk}/", **headers).status_code == 204
    assert list(IPItem.objects.values_list("number", flat=True)) == ["ZL1"]


def test_token_authenticated_api_writes_need_no_csrf_token(owner):
    from rest_framework.authtoken.models import Token

    api = APIClient(enforce_csrf_checks=True)
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=owner).key}")
    enterprise = owner.memberships.get().enterprise
    body = {"ip_type": IPItem.Type.INVENTION, "number": "ZL3", "title": "专利", "grant_date": "2024-03-01"}
    response = api.post(f"/api/v1/gz/enterprises/{enterprise.pk}/ip/", body, format="json")
    assert response.status_code == 201, response.content


# --- V5: open redirect -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "https:evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
@pytest.mark.parametrize("login", ["/gz/login/", "/accounts/login/"])
def test_sign_in_never_redirects_off_site(client, owner, login, next_url):
    response = client.post(f"{login}?next={next_url}", {"username": "owner", "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    location = response["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location
    assert "javascript" not in location


def test_sign_in_follows_a_local_next(client, owner):
    response = client.post(
        "/gz/login/?next=/gz/enterprise/ip/new/", {"username": "owner", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == "/gz/enterprise/ip/new/"


# --- V6: request size ----------------------------------------------------------------------------------------------


def test_an_oversized_json_body_is_refused_with_400(owner, settings):
    api = APIClient()
    api.force_login(owner)
    enterprise = owner.memberships.get().enterprise
    padding = "专" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 3 + 10)  # 3 bytes each in UTF-8
    body = json.dumps({"ip_type": "invention", "number": "ZL9", "title": padding, "grant_date": "2024-03-01"})
    assert len(body.encode()) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    response = api.post(f"/api/v1/gz/enterprises/{enterprise.pk}/ip/", body, content_type="application/json")
    assert response.status_code == 400
    assert not IPItem.objects.exists()


def test_too_many_files_in_one_request_are_refused_with_400(client, owner, settings):
    client.force_login(owner)
    files = {
        f"file{i}": SimpleUploadedFile(f"f{i}.pdf", b"%PDF-1.4\n", content_type="application/pdf")
        for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
    }
    response = client.post("/gz/enterprise/figures/import/", files)
    assert response.status_code == 400


def test_too_many_fields_in_one_form_are_refused_with_400(client, owner, settings):
    client.force_login(owner)
    fields = {f"f{i}": "x" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post("/gz/enterprise/profile/", fields)
    assert response.status_code == 400
