"""Login-failure lockout (reliability.md A4): 5 failures per account or per address -> 30 minutes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from freezegun import freeze_time

from portal.models import AuditEvent, Post
from tests.conftest import official
from tests.factories import PASSWORD
from tests.portal.auth_totp import totp_device, wrong_code

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def sign_in(client, username, password, ip="10.0.0.1"):
    return client.post("/gz/login/", {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_five_wrong_passwords_lock_the_account_even_from_rotating_addresses(client, nanming_official):
    for n in range(1, 5):
        assert sign_in(client, "nanming", f"wrong-{n}", ip=f"10.0.0.{n}").status_code == 200
    fifth = sign_in(client, "NanMing", "wrong-5", ip="10.0.0.5")  # usernames are case-insensitive
    assert fifth.status_code == 429
    assert "登录失败次数过多" in fifth.content.decode()
    # the right password from yet another address is refused while the lock lasts
    right = sign_in(client, "nanming", PASSWORD, ip="10.0.0.99")
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 1


def test_five_failures_from_one_address_lock_that_address_for_every_account(client, nanming_official):
    for n in range(5):
        sign_in(client, f"guess{n}", "wrong-password", ip="10.0.0.7")
    assert sign_in(client, "nanming", PASSWORD, ip="10.0.0.7").status_code == 429
    assert sign_in(client, "nanming", PASSWORD, ip="10.0.0.8").status_code == 302


def test_the_lockout_answer_is_the_same_for_an_unknown_account(client, nanming_official):
    for _ in range(5):
        known = sign_in(client, "nanming", "wrong-password", ip="10.0.1.1")
        unknown = sign_in(client, "nobody-here", "wrong-password", ip="10.0.2.1")
    assert known.status_code == unknown.status_code == 429
    assert known.context["message"] == unknown.context["message"]
    assert "nobody-here" not in unknown.content.decode()


def test_the_lock_ends_thirty_minutes_after_the_fifth_failure(client, nanming_official):
    with freeze_time(T0) as clock:
        for _ in range(5):
            sign_in(client, "nanming", "wrong-password")
        clock.tick(dt.timedelta(minutes=29))
        assert sign_in(client, "nanming", PASSWORD).status_code == 429  # still locked, and not prolonged
        clock.tick(dt.timedelta(minutes=2))
        response = sign_in(client, "nanming", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/gz/me/"


def test_four_failures_do_not_lock(client, nanming_official):
    for _ in range(4):
        sign_in(client, "nanming", "wrong-password")
    assert sign_in(client, "nanming", PASSWORD).status_code == 302


def test_platform_and_admin_sign_in_are_counted_too(client, nanming_official):
    for n in range(3):
        client.post(
            reverse("platform_login"), {"username": "nanming", "password": f"x{n}"}, REMOTE_ADDR="10.1.0.1"
        )
    # the admin's own form is not offered: it sends to the portal's sign-in, which counts on
    admin_login = client.get("/admin/login/?next=/admin/")
    assert admin_login.status_code == 302
    assert admin_login["Location"].startswith(reverse("platform_login"))
    for n in range(2):
        last = client.post(
            admin_login["Location"], {"username": "nanming", "password": f"y{n}"}, REMOTE_ADDR="10.1.0.2"
        )
    assert last.status_code == 429


@pytest.fixture
def approver(gz):
    user = official(gz, "520000", Post.Role.PROVINCIAL_APPROVER, username="approver")
    return user, totp_device(user)


def test_wrong_one_time_codes_count_towards_the_lockout(client, approver):
    user, device = approver
    with freeze_time(T0) as clock:
        assert sign_in(client, "approver", PASSWORD)["Location"] == reverse("second_factor")
        for n in range(4):
            clock.tick(dt.timedelta(seconds=20))  # past django-otp's own growing delay between tries
            response = client.post(
                reverse("second_factor"),
                {"otp_token": wrong_code(device, at=clock())},
                REMOTE_ADDR="10.0.0.1",
            )
            assert response.status_code == 200, n
        clock.tick(dt.timedelta(seconds=20))
        fifth = client.post(
            reverse("second_factor"), {"otp_token": wrong_code(device, at=clock())}, REMOTE_ADDR="10.0.0.1"
        )
        assert fifth.status_code == 429
        # neither the right code nor the password gets through now
        clock.tick(dt.timedelta(seconds=20))
        again = sign_in(client, "approver", PASSWORD, ip="10.0.0.50")
        assert again.status_code == 429
        # checked at the frozen time, when a session would still be valid
        assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="auth.otp_failed").count() == 5
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 1
