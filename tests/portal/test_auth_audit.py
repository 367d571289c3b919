"""Sign-in events in the audit log (reliability.md L1), one row each, never a secret (L3, L4)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from portal.models import AuditEvent, Post
from tests.conftest import official
from tests.factories import PASSWORD
from tests.portal.auth_totp import totp_code, wrong_code

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SENTINEL = "Sentinel-Pw-7391!"


def actions() -> list[tuple[str, str]]:
    return list(AuditEvent.objects.order_by("id").values_list("action", "outcome"))


def test_sign_in_and_sign_out_write_one_row_each(client, nanming_official):
    client.post("/gz/login/", {"username": "nanming", "password": PASSWORD})
    client.post("/gz/logout/")
    assert actions() == [("auth.login", "success"), ("auth.logout", "success")]


def test_a_failed_sign_in_keeps_the_username_as_typed_and_escaped(client, gz):
    client.post("/gz/login/", {"username": "a\r\nFAKE LOGIN OK", "password": SENTINEL})
    (event,) = AuditEvent.objects.all()
    assert (event.action, event.outcome) == ("auth.login_failed", "failure")
    assert event.actor_label == "a\\x0d\\x0aFAKE LOGIN OK"


def test_a_lockout_writes_one_lockout_row(client, nanming_official):
    for _ in range(7):
        client.post("/gz/login/", {"username": "nanming", "password": "wrong-password"})
    assert actions().count(("auth.lockout", "failure")) == 1
    assert actions().count(("auth.login_failed", "failure")) == 7


def test_a_password_change_writes_one_row(client, nanming_official):
    client.force_login(nanming_official)
    client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "Another-horse-57", "new_password2": "Another-horse-57"},
    )
    event = AuditEvent.objects.get(action="auth.password_changed")  # exactly one
    assert event.actor == nanming_official


def test_a_password_reset_by_link_writes_one_row(client, nanming_official, mailoutbox):
    import re

    client.post("/accounts/password/reset/", {"email": nanming_official.email})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    form_url = client.get(link)["Location"]
    client.post(form_url, {"new_password1": "Another-horse-57", "new_password2": "Another-horse-57"})
    event = AuditEvent.objects.get(action="auth.password_changed")
    assert event.actor == nanming_official and event.summary == "reset by e-mail link"


@pytest.fixture
def funding(gz):
    return official(gz, "520000", Post.Role.FUNDING_OFFICER, username="caizheng", password=SENTINEL)


def test_no_password_or_code_reaches_the_audit_log_axes_or_the_logs(client, funding, caplog):
    caplog.set_level(logging.DEBUG)
    with freeze_time(T0) as clock:
        client.post("/gz/login/", {"username": "caizheng", "password": SENTINEL + "x"})
        client.post("/gz/login/", {"username": "caizheng", "password": SENTINEL})
        client.get(reverse("second_factor_enrol"))
        device = TOTPDevice.objects.get(user=funding, confirmed=False)
        bad = wrong_code(device, at=clock())
        client.post(reverse("second_factor_enrol"), {"otp_token": bad})
        clock.tick(dt.timedelta(seconds=5))
        good = totp_code(device, at=clock())
        codes_page = client.get(client.post(reverse("second_factor_enrol"), {"otp_token": good})["Location"])
        backup = codes_page.context["codes"]
        client.post("/api/v1/auth/token/", {"username": "caizheng", "password": SENTINEL, "otp": bad})
        client.post(
            "/accounts/password/change/",
            {"old_password": SENTINEL, "new_password1": SENTINEL + "2", "new_password2": SENTINEL + "2"},
        )
    assert ("auth.otp_enrolled", "success") in actions() and ("auth.password_changed", "success") in actions()
    stored = [
        " ".join(str(v) for v in row)
        for row in AuditEvent.objects.values_list("actor_label", "summary", "changes", "object_id")
    ]
    stored += [a.post_data + a.get_data for a in AccessAttempt.objects.all()]
    for secret in (SENTINEL, bad, good, *backup):
        assert not any(secret in text for text in stored), secret
        assert secret not in caplog.text, secret
