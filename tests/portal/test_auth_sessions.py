"""Session limits and lifecycle (reliability.md A5 idle 30 min / absolute 12 h, A6 rotation, A7 logout)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.test import Client
from freezegun import freeze_time

from tests.factories import PASSWORD

T0 = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def sign_in(client, username="nanming"):
    response = client.post("/gz/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/gz/me/"
    return response


def signed_out(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/gz/login/")


def test_an_idle_session_ends_after_thirty_minutes(client, nanming_official):
    with freeze_time(T0) as clock:
        sign_in(client)
        clock.tick(dt.timedelta(minutes=29))
        assert client.get("/gz/me/").status_code == 200  # and the 30 minutes start again
        clock.tick(dt.timedelta(minutes=29))
        assert client.get("/gz/me/").status_code == 200
        clock.tick(dt.timedelta(minutes=31))
        assert signed_out(client.get("/gz/me/"))


def test_an_active_session_ends_twelve_hours_after_sign_in(client, nanming_official):
    with freeze_time(T0) as clock:
        sign_in(client)
        for _ in range(12 * 6):  # a request every 10 minutes: never idle
            clock.tick(dt.timedelta(minutes=10))
            assert client.get("/gz/inbox/").status_code == 200
        clock.tick(dt.timedelta(minutes=1))  # 12 h 1 min after sign-in
        response = client.get("/gz/inbox/")
        assert signed_out(response)
        assert response["Location"] == "/gz/login/?next=%2Fgz%2Finbox%2F"
        page = client.get(response["Location"])
        assert "12 小时" in page.content.decode()
        assert "_auth_user_id" not in client.session
        # signing in again starts a new 12 hours
        sign_in(client)
        assert client.get("/gz/me/").status_code == 200


def test_the_api_answers_401_after_twelve_hours(client, nanming_official):
    with freeze_time(T0) as clock:
        sign_in(client)
        for _ in range(12 * 6):
            clock.tick(dt.timedelta(minutes=10))
            client.get("/gz/me/")
        clock.tick(dt.timedelta(minutes=1))
        assert client.get("/api/v1/gz/me/").status_code in (401, 403)


def test_sign_in_changes_the_session_key(client, nanming_official):
    session = client.session
    session["visited"] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    before = session.session_key
    sign_in(client)
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    # the key a visitor had before signing in (one an attacker could have planted) is not signed in
    planted = Client()
    planted.cookies[settings.SESSION_COOKIE_NAME] = before
    assert signed_out(planted.get("/gz/me/"))


def test_an_old_session_cookie_replayed_after_sign_out_is_not_signed_in(client, nanming_official):
    sign_in(client)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/gz/logout/")
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = cookie
    assert signed_out(replay.get("/gz/me/"))


def test_a_password_change_ends_the_other_sessions_but_not_this_one(client, nanming_official):
    other = Client()
    sign_in(other)
    sign_in(client)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "Another-horse-57", "new_password2": "Another-horse-57"},
    )
    assert response.status_code == 302
    assert client.get("/gz/me/").status_code == 200
    assert signed_out(other.get("/gz/me/"))
