"""Security headers on every response (reliability.md D3), no-store for signed-in users (P4) and no debug
surfaces (D4).

The URL walk reverses every named pattern of the portal (ROOT_URLCONF) with sample arguments: objects that do
not exist give 404s, a role without access 403s or redirects, and every one of those responses must carry the
headers as much as the pages that render.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from portal.models import Post
from tests.conftest import official
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Sample values for path arguments, by name first, then by converter.
SAMPLE_BY_NAME = {"tenant_code": "gz", "code": "520102", "uidb64": "MQ", "token": "x-y"}
SAMPLE_BY_CONVERTER = {"IntConverter": 1, "UUIDConverter": uuid.UUID(int=1), "SlugConverter": "x"}


def _named_urls() -> list[tuple[str, str]]:
    """(name, path) for every named URL pattern, admin reduced to its index (the admin is Django's own)."""
    found: dict[str, str] = {}

    def walk(patterns, namespace, converters):
        for p in patterns:
            # route patterns name their converters; DRF's router regexes only their groups
            groups = dict.fromkeys(p.pattern.regex.groupindex)
            merged = {**converters, **groups, **p.pattern.converters}
            if "format" in merged:  # the ".json" twin of a DRF route
                continue
            if isinstance(p, URLResolver):
                ns = p.namespace or namespace
                if ns == "admin":
                    continue
                walk(p.url_patterns, ":".join(filter(None, [namespace, p.namespace])) or None, merged)
            elif isinstance(p, URLPattern) and p.name:
                name = f"{namespace}:{p.name}" if namespace else p.name
                kwargs = {
                    arg: SAMPLE_BY_NAME.get(arg, SAMPLE_BY_CONVERTER.get(type(conv).__name__, "1"))
                    for arg, conv in merged.items()
                }
                found.setdefault(name, reverse(name, kwargs=kwargs))

    walk(get_resolver().url_patterns, None, {})
    found["admin:index"] = reverse("admin:index")
    return sorted(found.items())


URLS = _named_urls()

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=", re.I)
# Third-party pages the portal serves but does not write: DRF's browsable API and Django's admin keep their own
# inline styles (a style the CSP refuses only changes their looks; no script is inline).
THIRD_PARTY_HTML = ("/admin/", "/api/")


@pytest.fixture
def people(gz):
    owner = UserFactory(username="owner")
    make_enterprise(gz, "520102", 1, admin=owner)
    return {
        "anonymous": None,
        "enterprise": owner,
        "county": official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming"),
        "province": official(gz, "520000", Post.Role.PROVINCIAL_REVIEWER, username="gz_reviewer"),
        "tenant_admin": official(gz, "520000", Post.Role.TENANT_ADMIN, username="gz_admin"),
    }


def _needs_charset(content_type: str) -> bool:
    """ASVS 14.4.1: text/*, */xml and */*+xml name their charset (JSON is UTF-8 by definition, RFC 8259)."""
    media_type = content_type.split(";", 1)[0].strip()
    return media_type.startswith("text/") or media_type.endswith(("/xml", "+xml"))


def header_problems(path: str, response, *, secure: bool) -> list[str]:
    problems = []
    content_type = response.get("Content-Type", "")
    if not content_type:
        problems.append("no Content-Type")
    elif _needs_charset(content_type) and "charset=" not in content_type:
        problems.append(f"no charset in {content_type!r}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if not response.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    csp = response.get("Content-Security-Policy", "")
    if response.get("X-Frame-Options") != "DENY" and "frame-ancestors 'none'" not in csp:
        problems.append("neither X-Frame-Options DENY nor frame-ancestors 'none'")
    if "default-src 'self'" not in csp or "object-src 'none'" not in csp:
        problems.append(f"Content-Security-Policy missing or weak: {csp!r}")
    if "'unsafe-inline'" in csp or "'unsafe-eval'" in csp:
        problems.append(f"unsafe CSP source: {csp!r}")
    if secure and not response.get("Strict-Transport-Security", "").startswith("max-age="):
        problems.append("no Strict-Transport-Security over https")
    return [f"{path} [{response.status_code}]: {p}" for p in problems]


def inline_problems(path: str, response) -> list[str]:
    if response.status_code != 200 or not response.get("Content-Type", "").startswith("text/html"):
        return []
    if path.startswith(THIRD_PARTY_HTML):
        return []
    html = response.content.decode()
    return [
        f"{path}: inline {m.group(0)!r}"
        for m in (*INLINE_SCRIPT.finditer(html), *INLINE_STYLE.finditer(html))
    ]


@pytest.mark.parametrize("who", ["anonymous", "enterprise", "county", "tenant_admin"])
def test_every_url_answers_with_the_security_headers_and_no_inline_code(client, people, who):
    # given a person of this role (or nobody) and every named URL of the portal
    if people[who] is not None:
        client.force_login(people[who])
    problems: list[str] = []
    statuses: dict[int, int] = {}
    # when each URL is fetched over https
    client.raise_request_exception = False  # a crash is a finding in the list, not the end of the walk
    for _name, path in URLS:
        response = client.get(path, secure=True)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        # then no page fails, and each answer carries the headers; pages we write have no inline code
        if response.status_code >= 500:
            problems.append(f"{path}: {response.status_code}")
        problems += header_problems(path, response, secure=True)
        problems += inline_problems(path, response)
        if people[who] is not None:
            problems += [f"{path}: {p}" for p in no_store_problems(response)]
    assert not problems, "\n".join(problems)
    # the walk reached real pages, not only refusals
    assert statuses.get(200, 0) >= 10, statuses


def no_store_problems(response) -> list[str]:
    cache_control = response.get("Cache-Control", "")
    problems = []
    if "no-store" not in cache_control:
        problems.append(f"Cache-Control {cache_control!r} without no-store for a signed-in user")
    if "max-age" in cache_control or "public" in cache_control:
        problems.append(f"Cache-Control {cache_control!r} lets a cache keep it")
    if "Cookie" not in response.get("Vary", ""):
        problems.append("no Vary: Cookie")
    return problems


def test_hsts_only_over_https_and_plain_http_is_redirected_in_production(client, gz, settings):
    # given production's redirect (the test settings turn it off for the live server)
    settings.SECURE_SSL_REDIRECT = True
    # when the tenant home is asked for over http, then it moves to https without HSTS (browsers ignore it there)
    response = client.get("/gz/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/gz/"
    assert "Strict-Transport-Security" not in response
    # and over https it renders with HSTS for a year, subdomains included
    response = client.get("/gz/", secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_csp_is_the_strict_policy(client, gz):
    csp = client.get("/gz/").headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives == {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }


def test_tenant_colour_reaches_the_page_as_data_not_inline_style(client, gz):
    gz.primary_color = "#123456"
    gz.save()
    html = client.get("/gz/").content.decode()
    assert 'data-brand="#123456"' in html
    assert "/static/js/brand.js" in html
    assert "<style" not in html


def test_swagger_ui_runs_its_one_inline_script_under_a_fresh_nonce(client, db):
    first = client.get("/api/docs/")
    second = client.get("/api/docs/")
    nonces = []
    for response in (first, second):
        script_src = dict(d.strip().split(" ", 1) for d in response["Content-Security-Policy"].split(";"))[
            "script-src"
        ]
        match = re.fullmatch(r"'self' 'nonce-([A-Za-z0-9+/=]+)'", script_src)
        assert match, script_src
        html = response.content.decode()
        assert f'<script nonce="{match.group(1)}">' in html
        assert "<style" not in html
        nonces.append(match.group(1))
    assert nonces[0] != nonces[1]


def test_other_pages_get_no_nonce(client, gz):
    assert "nonce-" not in client.get("/gz/")["Content-Security-Policy"]


def test_signed_in_pages_are_not_stored_but_public_ones_may_be(client, gz, people):
    # given an anonymous visitor, the public home page carries no no-store
    assert "no-store" not in client.get("/gz/").get("Cache-Control", "")
    # when the enterprise owner signs in, the same page and its workspace are no-store, private, Vary: Cookie
    client.force_login(people["enterprise"])
    for path in ("/gz/", "/gz/me/", "/gz/enterprise/", "/api/v1/gz/me/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert no_store_problems(response) == [], path
        assert "private" in response["Cache-Control"]


def test_token_authenticated_api_answers_are_not_stored(client, people):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=people["enterprise"])
    response = client.get("/api/v1/gz/me/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert no_store_problems(response) == []


def test_a_views_own_max_age_does_not_survive_for_a_signed_in_user(rf, people):
    from django.http import HttpResponse
    from django.utils.cache import patch_cache_control

    from portal.security import AuthenticatedNoStoreMiddleware

    def view(request):
        response = HttpResponse("x")
        patch_cache_control(response, public=True, max_age=3600)
        return response

    request = rf.get("/x/")
    request.user = people["enterprise"]
    response = AuthenticatedNoStoreMiddleware(view)(request)
    assert sorted(response["Cache-Control"].split(", ")) == ["no-store", "private"]


# --- D4: no debug surfaces -----------------------------------------------------------------------------------

PROBES = [
    "/.git/config",
    "/.git/HEAD",
    "/settings.py.bak",
    "/portal/settings.py",
    "/.env",
    "/media/",
    "/static/",
    "/static/css/",
    "/media/documents/",
]


@pytest.mark.parametrize("path", PROBES)
def test_probes_for_source_and_listings_find_nothing(client, gz, path):
    response = client.get(path)
    assert response.status_code == 404
    body = response.content.decode()
    assert "Traceback" not in body
    assert "Django" not in body and "Python" not in body
    assert "Index of" not in body and "Directory indexes" not in body
