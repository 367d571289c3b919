"""POST /api/v1/auth/token/ (reliability.md A4, A9): counted by the lockout, a code where one is needed."""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from portal.models import AuditEvent, Post
from tests.conftest import official
from tests.factories import PASSWORD
from tests.portal.auth_totp import totp_code, totp_device, wrong_code

URL = "/api/v1/auth/token/"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def token(client, ip="10.9.0.1", **data):
    return client.post(URL, data, REMOTE_ADDR=ip)


def test_a_county_reviewer_gets_a_token_and_the_sign_in_is_audited(client, nanming_official):
    response = token(client, username="nanming", password=PASSWORD)
    assert response.status_code == 200
    me = client.get("/api/v1/gz/me/", HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    assert me.status_code == 200
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.summary) == ("auth.login", nanming_official, "API token")


def test_wrong_credentials_get_one_generic_answer(client, nanming_official):
    wrong = token(client, username="nanming", password="wrong-password")
    unknown = token(client, username="nobody-here", password="wrong-password", ip="10.9.0.2")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()


def test_five_failures_from_rotating_addresses_lock_the_api_too(client, nanming_official):
    for n in range(4):
        assert token(client, ip=f"10.9.1.{n}", username="nanming", password="wrong").status_code == 400
    fifth = token(client, ip="10.9.1.9", username="nanming", password="wrong")
    assert fifth.status_code == 429
    error = fifth.json()["error"]
    assert error["code"] == "locked_out" and "30" in error["message"]
    assert fifth["Retry-After"] == "1800"
    assert token(client, ip="10.9.2.1", username="nanming", password=PASSWORD).status_code == 429
    with freeze_time(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)):
        assert token(client, ip="10.9.2.1", username="nanming", password=PASSWORD).status_code == 200


@pytest.fixture
def approver(gz):
    return official(gz, "520000", Post.Role.PROVINCIAL_APPROVER, username="approver")


def test_a_user_who_needs_a_second_factor_must_send_the_code(client, approver):
    device = totp_device(approver)
    with freeze_time(T0) as clock:
        missing = token(client, username="approver", password=PASSWORD)
        assert missing.status_code == 400 and "otp" in missing.json()["error"]["fields"]
        wrong = token(client, username="approver", password=PASSWORD, otp=wrong_code(device, at=clock()))
        assert wrong.status_code == 400 and "otp" in wrong.json()["error"]["fields"]
        clock.tick(dt.timedelta(seconds=5))
        right = token(client, username="approver", password=PASSWORD, otp=totp_code(device, at=clock()))
    assert right.status_code == 200 and right.json()["token"]
    assert AuditEvent.objects.filter(action="auth.otp_failed").count() == 1
    assert AuditEvent.objects.get(action="auth.login").summary == "API token, second factor verified"


def test_a_user_without_a_device_is_sent_to_the_web_to_enrol(client, approver):
    response = token(client, username="approver", password=PASSWORD, otp="123456")
    assert response.status_code == 400
    assert "otp" in response.json()["error"]["fields"]
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_the_endpoint_is_documented_with_its_lockout_answer(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    operation = schema["paths"]["/api/v1/auth/token/"]["post"]
    assert {"200", "400", "429"} <= set(operation["responses"])
    assert "otp" in str(schema["components"]["schemas"])
