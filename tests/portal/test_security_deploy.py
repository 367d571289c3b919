"""Production settings: `check --deploy` is clean (reliability.md D1), the items it does not cover (D2) and the
cookies' names and flags (A8).

Production settings are portal.settings with DEBUG off and the secrets a deployment sets, loaded in a
subprocess: the test process runs tests.settings.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template
from django.urls import path
from django.utils import translation

from tests.factories import PASSWORD, UserFactory

ROOT = Path(__file__).resolve().parents[2]

# What a deployment sets (the dummy values of .ci/run's deploy check): a 50+ character random key, its host,
# and clamd (the socket is never opened by the checks).
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "srdi.example.cn",
    "CLAMD_SOCKET": "/nonexistent",
}
# The test run's own values that production would not have.
# DJANGO_ALLOW_ASYNC_UNSAFE: set by the browser tests' conftest (Playwright's loop) once they are imported.
TEST_ONLY = {
    "MALWARE_SCANNER",
    "SECRET_KEY",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "ALLOWED_HOSTS",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def production(args: list[str], **extra_env: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    env.update(PRODUCTION_ENV)
    env.update(extra_env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def production_settings(*names: str, **extra_env: str) -> dict:
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n, None) for n in {list(names)!r}}}, default=str))"
    )
    result = production(["-c", code], **extra_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


# --- D1 --------------------------------------------------------------------------------------------------------


def test_check_deploy_is_clean_on_production_settings():
    result = production(["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_fails_on_a_weak_key_so_the_step_is_not_vacuous():
    result = production(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], SECRET_KEY="short")
    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


# --- A8 --------------------------------------------------------------------------------------------------------

COOKIE_SETTINGS = (
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_PATH",
    "SESSION_COOKIE_DOMAIN",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE",
    "CSRF_COOKIE_PATH",
    "CSRF_COOKIE_DOMAIN",
)


ADMINS_ENV = "运维值班:ops@srdi.example.cn,Security:sec@srdi.example.cn"


@pytest.fixture(scope="module")
def production_values() -> dict:
    """One subprocess for every production value these tests read (each start costs seconds)."""
    return production_settings(
        *COOKIE_SETTINGS,
        "DATABASES",
        "ADMINS",
        "LOGGING",
        "SECURE_PROXY_SSL_HEADER",
        DATABASE_URL="postgres://srdi@127.0.0.1:5432/srdi",
        ADMINS=ADMINS_ENV,
    )


@pytest.fixture(scope="module")
def production_cookies(production_values) -> dict:
    return {name: production_values[name] for name in COOKIE_SETTINGS}


def test_production_cookies_use_the_host_prefix(production_cookies):
    assert production_cookies["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert production_cookies["CSRF_COOKIE_NAME"] == "__Host-csrftoken"


@pytest.mark.django_db
def test_production_set_cookie_headers_are_secure_httponly_samesite_and_host_only(
    client, gz, settings, production_cookies
):
    # given the production cookie settings in the test process
    for name, value in production_cookies.items():
        setattr(settings, name, value)
    user = UserFactory(username="cookie_owner")
    from tests.enterprises.conftest import make_enterprise

    make_enterprise(gz, "520102", 5, admin=user)
    # when a person opens the login page and signs in over https
    page = client.get("/gz/login/", secure=True)
    signed_in = client.post("/gz/login/", {"username": user.username, "password": PASSWORD}, secure=True)
    assert signed_in.status_code == 302, signed_in.content[:500]
    # then each cookie is Secure, on path / and without a Domain (what __Host- demands), with SameSite Lax
    cookies = SimpleCookie()
    for response in (page, signed_in):
        cookies.update(response.cookies)
    session = cookies["__Host-sessionid"]
    csrf = cookies["__Host-csrftoken"]
    for morsel in (session, csrf):
        assert morsel["secure"] is True
        assert morsel["path"] == "/"
        assert not morsel["domain"]
        assert morsel["samesite"] == "Lax"
    assert session["httponly"] is True


# --- D2 --------------------------------------------------------------------------------------------------------


def test_postgres_connections_are_reused_and_health_checked(production_values):
    database = production_values["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert database["CONN_HEALTH_CHECKS"] is True
    assert database["CONN_MAX_AGE"] > 0


def test_proxy_ssl_header_is_set_only_behind_a_tls_proxy(production_values):
    assert production_values["SECURE_PROXY_SSL_HEADER"] is None
    behind = production_settings("SECURE_PROXY_SSL_HEADER", BEHIND_TLS_PROXY="true")
    assert behind["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_admins_come_from_the_environment_and_logging_goes_to_the_console(production_values):
    assert production_values["ADMINS"] == [
        ["运维值班", "ops@srdi.example.cn"],
        ["Security", "sec@srdi.example.cn"],
    ]
    logging = production_values["LOGGING"]
    assert logging["root"]["handlers"] == ["console"]
    assert logging["handlers"]["console"]["class"] == "logging.StreamHandler"
    assert logging["disable_existing_loggers"] is False


def test_time_is_stored_in_utc_and_shown_in_china():
    assert settings.USE_TZ is True
    assert settings.TIME_ZONE == "Asia/Shanghai"


def test_the_image_serves_with_gunicorn_never_runserver():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    cmd = next(line for line in dockerfile.splitlines() if line.startswith("CMD"))
    assert "gunicorn" in cmd and "runserver" not in cmd


ERROR_PAGES = {
    400: ("400.html", "Bad request"),
    403: ("403.html", "Access denied"),
    404: ("404.html", "Page not found"),
    500: ("500.html", "Server error"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("status", sorted(ERROR_PAGES))
def test_error_pages_are_ours_in_chinese_without_debug_details(rf, status):
    from django.core.exceptions import SuspiciousOperation

    from portal import views

    template, title = ERROR_PAGES[status]
    get_template(template)  # exists in templates/
    request = rf.get("/gz/nowhere/")
    handler = {
        400: lambda: views.bad_request(request, SuspiciousOperation("bad")),
        403: lambda: views.permission_denied(request),
        404: lambda: views.not_found(request),
        500: lambda: views.server_error(request),
    }[status]
    with translation.override("zh-hans"):
        response = handler()
        expected = translation.gettext(title)
    assert response.status_code == status
    body = response.content.decode()
    assert expected != title and expected in body
    for leak in ("Traceback", "Django", "Python", "DEBUG", "settings.py", "bad"):
        assert leak not in body, leak


def _boom(request):
    raise RuntimeError("secret internals: /srv/app/portal/settings.py")


# The URLconf of test_an_unhandled_error_shows_the_chinese_500_page (pytest.mark.urls).
urlpatterns = [path("boom/", _boom)]
handler500 = "portal.views.server_error"


@pytest.mark.django_db
@pytest.mark.urls(__name__)
def test_an_unhandled_error_shows_the_chinese_500_page(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    body = response.content.decode()
    with translation.override("zh-hans"):
        assert translation.gettext("Server error") in body
    assert "secret internals" not in body and "Traceback" not in body and "RuntimeError" not in body


@pytest.mark.django_db
def test_postgres_sessions_run_without_jit_or_parallel_workers():
    """portal/settings.py: the portal's connections turn off JIT and parallel query (bench/dashboard.py)."""
    from django.db import connection

    from tests.conftest import require_postgres

    require_postgres()
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        jit = cursor.fetchone()[0]
        cursor.execute("SHOW max_parallel_workers_per_gather")
        workers = cursor.fetchone()[0]
    assert (jit, workers) == ("off", "0")
