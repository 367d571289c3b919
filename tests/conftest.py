"""Shared fixtures: services, personas and a seeded tenant."""

from __future__ import annotations

import os

import freezegun
import pytest
from django.conf import settings
from django.core.cache import cache

from portal.models import Post, Region, Tenant
from portal.regions import regions_load
from tests.factories import UserFactory

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# A test's frozen clock must not freeze pytest's own (its --durations read ~1.7e9 s otherwise).
freezegun.configure(extend_ignore_list=["_pytest"])


def require(condition: bool, reason: str) -> None:
    """Skip locally when a service is missing; in CI a missing service is a failure, never a skip."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {reason}", pytrace=False)
    pytest.skip(reason)


PDF_TOOLS = "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk poppler-utils zbar-tools"


def _missing_pdf_tool(exc: BaseException) -> bool:
    """WeasyPrint without pango ("cannot load library …") or no pdftotext to read a PDF back."""
    if isinstance(exc, FileNotFoundError) and exc.filename in ("pdftotext", "pdftoppm", "zbarimg"):
        return True
    return isinstance(exc, OSError) and "cannot load library" in str(exc)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # A machine without the PDF tools skips the tests that render or read PDFs, with the command that installs
    # them; in CI (which installs them) that is a failure like any missing service.
    try:
        return (yield)
    except OSError as exc:
        if _missing_pdf_tool(exc):
            require(False, f"needs the PDF tools: {PDF_TOOLS}")
        raise


def require_postgres():
    from django.db import connection

    require(connection.vendor == "postgresql", "needs PostgreSQL: set DATABASE_URL=postgres://…")


def require_redis():
    require(bool(settings.REDIS_URL), "needs Redis: set REDIS_URL=redis://127.0.0.1:6379/1")


def require_chromium():
    require(
        os.path.exists("/usr/bin/chromium"),
        "needs Debian's chromium at /usr/bin/chromium: apt-get install chromium",
    )


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Reference tables that migrations load (GB/T 4754 industries) are wiped by the flush after each
    transactional test; put them back for any test that uses the database."""
    names = set(request.fixturenames)
    if not names & {"db", "transactional_db", "live_server"} and not request.node.get_closest_marker(
        "django_db"
    ):
        return
    request.getfixturevalue("transactional_db" if names & {"transactional_db", "live_server"} else "db")
    from enterprises.industries import industries_load
    from enterprises.models import Industry

    if not Industry.objects.exists():
        industries_load(Industry)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def make_tenant(code: str, name: str, root: str) -> Tenant:
    tenant = Tenant.objects.create(code=code, name=name)
    regions_load(tenant=tenant, root_code=root)
    tenant.refresh_from_db()
    return tenant


@pytest.fixture
def gz(db) -> Tenant:
    return make_tenant("gz", "贵州省", "520000")


@pytest.fixture
def xz(db) -> Tenant:
    return make_tenant("xz", "西藏自治区", "540000")


def region(tenant: Tenant, code: str) -> Region:
    return Region.objects.get(tenant=tenant, code=code)


def official(tenant: Tenant, code: str, role: str, **user_fields):
    user = UserFactory(**user_fields)
    Post.objects.create(tenant=tenant, user=user, region=region(tenant, code), role=role)
    return user


# Personas of 贵州省 (style.md 22): 南明区 and its neighbour 云岩区 under 贵阳市; 遵义市 is another prefecture.
@pytest.fixture
def nanming_official(gz):
    return official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming")


@pytest.fixture
def yunyan_official(gz):
    return official(gz, "520103", Post.Role.COUNTY_REVIEWER, username="yunyan")


@pytest.fixture
def guiyang_official(gz):
    return official(gz, "520100", Post.Role.PREFECTURE_REVIEWER, username="guiyang")


@pytest.fixture
def gz_admin(gz):
    return official(gz, "520000", Post.Role.TENANT_ADMIN, username="gzadmin")


@pytest.fixture
def xz_admin(xz):
    return official(xz, "540000", Post.Role.TENANT_ADMIN, username="xzadmin")


# Under pytest-xdist (`make test`: -n auto --dist loadgroup) the browser tests share one worker, and so do the
# fault tests: two chromiums with two live servers on a two-core machine only slow each other down, and the fault
# tests start redis-servers and Celery workers on ports they pick. A module whose fixtures are module-scoped (the
# seeded demo of test_demo_workflow: ~35 s) stays on one worker, so that they are built once. The unit tests fill
# the other workers.
_GROUPS = {"e2e": "browser", "faults": "faults"}
_MODULE_GROUPS = {
    "tests/certification/test_demo_workflow.py",
    "tests/certification/test_monitoring_demo.py",
    "tests/enterprises/test_industry_data.py",
    "tests/portal/test_security_deploy.py",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = item.nodeid.split("::")[0]
        parts = path.split("/")
        group = _GROUPS.get(parts[1]) if len(parts) > 2 and parts[0] == "tests" else None
        if group is None and path in _MODULE_GROUPS:
            group = path
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
