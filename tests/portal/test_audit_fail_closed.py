"""Fail closed (reliability.md AC6) and the clock of the audit log (L8).

A permission helper that breaks must not let the object through: the answer is an error page with
nothing of the object in it.
"""

from __future__ import annotations

from datetime import UTC

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from portal import permissions
from portal.audit import audit_record
from portal.models import AuditEvent
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

SECRET_SUMMARY = "某某企业 营业收入 12345678 元"


def broken(*args, **kwargs):
    raise RuntimeError("permission backend unavailable")


def broken_once(original):
    """Fails the first call (the view's check), then works: the error page's own navigation asks the
    same helper, and this test is about the check, not about a portal whose helper never works."""
    calls = []

    def helper(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("permission backend unavailable")
        return original(*args, **kwargs)

    return helper


@pytest.fixture
def errors_as_responses(client):
    client.raise_request_exception = False
    return client


@pytest.fixture
def enterprise(gz):
    return make_enterprise(
        gz, "520102", 1, name="贵州黔芯精密机械有限公司", admin=UserFactory(username="boss")
    )


def test_an_official_sees_the_enterprise_when_the_helper_works(client, enterprise, nanming_official):
    client.force_login(nanming_official)
    response = client.get(f"/gz/enterprises/{enterprise.pk}/")
    assert response.status_code == 200 and enterprise.name in response.content.decode()


def test_a_broken_scoping_helper_shows_no_enterprise_field(
    errors_as_responses, enterprise, nanming_official, monkeypatch
):
    client = errors_as_responses
    client.force_login(nanming_official)
    monkeypatch.setattr(permissions, "visible_with_grants", broken)
    response = client.get(f"/gz/enterprises/{enterprise.pk}/")
    assert response.status_code in (403, 500)
    body = response.content.decode()
    assert enterprise.name not in body and enterprise.uscc not in body


def test_a_broken_admin_check_shows_no_audit_row(errors_as_responses, gz, gz_admin, monkeypatch):
    client = errors_as_responses
    audit_record(action="test.secret", tenant=gz, summary=SECRET_SUMMARY)
    client.force_login(gz_admin)
    original = permissions.is_tenant_admin
    monkeypatch.setattr(permissions, "is_tenant_admin", broken_once(original))
    page = client.get("/gz/audit/")
    monkeypatch.setattr(permissions, "is_tenant_admin", broken_once(original))
    api = client.get("/api/v1/gz/audit-events/")
    for response in (page, api):
        assert response.status_code in (403, 500)
        body = response.content.decode()
        assert SECRET_SUMMARY not in body and "test.secret" not in body
    assert api.json()["error"]["status"] in (403, 500)


def test_the_audit_clock_is_utc_shown_in_shanghai_time(db, gz):
    # reliability.md L8: time zone aware storage, displayed in China Standard Time.
    assert django_settings.USE_TZ is True
    assert django_settings.TIME_ZONE == "Asia/Shanghai"
    event = audit_record(action="test.clock", tenant=gz)
    stored = AuditEvent.objects.get(pk=event.pk).occurred_at
    assert stored.tzinfo is not None and stored.utcoffset().total_seconds() == 0
    assert timezone.localtime(stored).utcoffset().total_seconds() == 8 * 3600
    assert stored.astimezone(UTC) == event.occurred_at
