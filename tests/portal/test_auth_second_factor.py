"""The second factor (reliability.md A9): officials who decide, tenant admins and staff need a TOTP code."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from freezegun import freeze_time

from portal.auth.otp import second_factor_reset
from portal.auth.policy import requires_second_factor
from portal.models import AuditEvent, Post
from tests.conftest import official
from tests.factories import PASSWORD, UserFactory
from tests.portal.auth_totp import totp_code, totp_device, wrong_code

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def password_step(client, username, url="/gz/login/"):
    return client.post(url, {"username": username, "password": PASSWORD})


@pytest.fixture
def provincial(gz):
    return official(gz, "520000", Post.Role.PROVINCIAL_REVIEWER, username="sheng")


@pytest.mark.parametrize(
    ("role", "needed"),
    [
        (Post.Role.PROVINCIAL_REVIEWER, True),
        (Post.Role.PROVINCIAL_APPROVER, True),
        (Post.Role.FUNDING_OFFICER, True),
        (Post.Role.TENANT_ADMIN, True),
        (Post.Role.COUNTY_REVIEWER, False),
        (Post.Role.PREFECTURE_REVIEWER, False),
        (Post.Role.EXPERT, False),
        (Post.Role.SERVICE_COMMISSIONER, False),
    ],
)
def test_which_posts_need_a_second_factor(gz, role, needed):
    code = (
        "520102"
        if role == Post.Role.COUNTY_REVIEWER
        else "520100"
        if role == Post.Role.PREFECTURE_REVIEWER
        else "520000"
    )
    assert requires_second_factor(official(gz, code, role)) is needed


def test_staff_need_a_second_factor_and_an_inactive_post_does_not(gz):
    assert requires_second_factor(UserFactory(is_staff=True))
    user = official(gz, "520000", Post.Role.TENANT_ADMIN)
    Post.objects.filter(user=user).update(is_active=False)
    assert not requires_second_factor(user)


def test_a_password_alone_gives_a_provincial_reviewer_no_session(client, provincial):
    totp_device(provincial)
    response = password_step(client, "sheng")
    assert response.status_code == 302
    assert response["Location"] == reverse("second_factor")
    assert "_auth_user_id" not in client.session
    me = client.get("/gz/me/")
    assert me.status_code == 302 and me["Location"].startswith("/gz/login/")
    assert client.get("/api/v1/gz/me/").status_code in (401, 403)
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_the_right_code_signs_in_and_rotates_the_session_key(client, provincial):
    device = totp_device(provincial)
    with freeze_time(T0) as clock:
        password_step(client, "sheng")
        pending_key = client.session.session_key
        response = client.post(reverse("second_factor"), {"otp_token": totp_code(device, at=clock())})
        # (inside the frozen time: the session would have expired at the real time)
        assert response.status_code == 302 and response["Location"] == "/gz/me/"
        assert client.session["_auth_user_id"] == str(provincial.pk)
        assert client.session.session_key != pending_key
        assert client.get("/gz/me/").status_code == 200
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["auth.login"]


def test_a_code_cannot_be_used_twice(client, provincial):
    device = totp_device(provincial)
    with freeze_time(T0) as clock:
        code = totp_code(device, at=clock())
        password_step(client, "sheng")
        client.post(reverse("second_factor"), {"otp_token": code})
        client.post("/gz/logout/")
        password_step(client, "sheng")
        replay = client.post(reverse("second_factor"), {"otp_token": code})
        assert replay.status_code == 200
        assert client.get("/gz/me/").status_code == 302
    assert AuditEvent.objects.filter(action="auth.otp_failed").count() == 1


def test_a_wrong_code_is_refused_and_audited(client, provincial):
    device = totp_device(provincial)
    with freeze_time(T0) as clock:
        password_step(client, "sheng")
        bad = wrong_code(device, at=clock())
        response = client.post(reverse("second_factor"), {"otp_token": bad})
        assert response.status_code == 200
        assert response.context["form"].errors["otp_token"]
        assert client.get("/gz/me/").status_code == 302
    event = AuditEvent.objects.get(action="auth.otp_failed")
    assert (event.actor_label, event.outcome) == ("sheng", "failure")
    assert bad not in event.summary


def test_the_second_step_needs_the_first(client, provincial):
    response = client.get(reverse("second_factor"))
    assert response.status_code == 302 and response["Location"] == reverse("platform_login")
    assert client.get(reverse("second_factor_enrol")).status_code == 302
    assert client.get(reverse("second_factor_qr")).status_code == 404


def test_the_pending_sign_in_expires_after_ten_minutes(client, provincial):
    device = totp_device(provincial)
    with freeze_time(T0) as clock:
        password_step(client, "sheng")
        clock.tick(dt.timedelta(minutes=11))
        response = client.post(reverse("second_factor"), {"otp_token": totp_code(device, at=clock())})
        assert response.status_code == 302 and response["Location"] == reverse("platform_login")
        assert client.get("/gz/me/").status_code == 302


def test_first_sign_in_enrols_an_authenticator_app(client, provincial):
    with freeze_time(T0) as clock:
        response = password_step(client, "sheng")
        assert response["Location"] == reverse("second_factor_enrol")
        page = client.get(reverse("second_factor_enrol"))
        html = page.content.decode()
        device = TOTPDevice.objects.get(user=provincial, confirmed=False)
        assert page.context["key"].replace(" ", "") in html.replace(" ", "")
        assert f'src="{reverse("second_factor_qr")}"' in html
        assert "<script>" not in html and "style=" not in html  # the CSP allows no inline content
        qr = client.get(reverse("second_factor_qr"))
        assert qr["Content-Type"] == "image/png" and qr.content.startswith(b"\x89PNG")
        # the key stays the same while the page is reloaded
        assert client.get(reverse("second_factor_enrol")).context["key"] == page.context["key"]
        wrong = client.post(reverse("second_factor_enrol"), {"otp_token": wrong_code(device, at=clock())})
        assert wrong.status_code == 200 and "_auth_user_id" not in client.session
        clock.tick(dt.timedelta(seconds=5))
        right = client.post(reverse("second_factor_enrol"), {"otp_token": totp_code(device, at=clock())})
        assert right.status_code == 302 and right["Location"] == reverse("second_factor_backup_codes")
        assert client.session["_auth_user_id"] == str(provincial.pk)
        # the backup codes are shown once, then the way on to where the sign-in was going
        codes_page = client.get(right["Location"])
        codes = codes_page.context["codes"]
        assert len(codes) == 10 and all(code in codes_page.content.decode() for code in codes)
        assert codes_page.context["next"] == "/gz/me/"
        assert client.get(right["Location"]).status_code == 302  # not shown again
    device.refresh_from_db()
    assert device.confirmed
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["auth.otp_failed", "auth.otp_enrolled", "auth.backup_codes_issued", "auth.login"]


def test_a_backup_code_signs_in_once(client, provincial):
    from portal.auth.otp import backup_codes_issue

    totp_device(provincial)
    code = backup_codes_issue(user=provincial)[0]
    password_step(client, "sheng")
    assert client.post(reverse("second_factor"), {"otp_token": code.upper()})["Location"] == "/gz/me/"
    assert AuditEvent.objects.filter(action="auth.backup_code_used").count() == 1
    client.post("/gz/logout/")
    password_step(client, "sheng")
    assert client.post(reverse("second_factor"), {"otp_token": code}).status_code == 200
    assert client.get("/gz/me/").status_code == 302


def test_a_county_reviewer_signs_in_with_the_password_only(client, nanming_official):
    response = password_step(client, "nanming")
    assert response["Location"] == "/gz/me/"
    assert client.session["_auth_user_id"] == str(nanming_official.pk)


def test_a_tenant_admin_reset_removes_the_device_and_is_audited(client, gz, gz_admin, provincial):
    totp_device(provincial)
    second_factor_reset(user=provincial, by=gz_admin, tenant=gz)
    assert not TOTPDevice.objects.filter(user=provincial).exists()
    event = AuditEvent.objects.get(action="auth.otp_reset")
    assert (event.actor, event.object_id, event.tenant) == (gz_admin, str(provincial.pk), gz)
    assert password_step(client, "sheng")["Location"] == reverse("second_factor_enrol")


@pytest.fixture
def staff(db):
    return UserFactory(username="ops", is_staff=True, is_superuser=True)


def test_the_admin_signs_in_through_the_portal_with_a_code(client, staff):
    device = totp_device(staff)
    with freeze_time(T0) as clock:
        to_login = client.get("/admin/")
        assert to_login.status_code == 302
        login_page = client.get(to_login["Location"], follow=True)
        assert login_page.redirect_chain[-1][0].startswith(reverse("platform_login"))
        step = client.post(login_page.redirect_chain[-1][0], {"username": "ops", "password": PASSWORD})
        assert step["Location"] == reverse("second_factor")
        assert client.get("/admin/").status_code == 302  # not yet
        done = client.post(reverse("second_factor"), {"otp_token": totp_code(device, at=clock())})
        assert done["Location"] == "/admin/"
        assert client.get("/admin/").status_code == 200


def test_an_unverified_session_of_a_user_with_a_device_does_not_reach_the_admin(client, staff):
    totp_device(staff)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 302


def test_seed_demo_gives_the_demo_officials_the_published_key_and_demo_otp_prints_the_code(
    client, db, settings
):
    from io import StringIO

    from django.core.management import call_command

    from portal.auth.demo import DEMO_TOTP_KEY
    from portal.management.commands.seed_demo import DEMO_PASSWORD
    from tests.demo_snapshot import demo_portal

    settings.DEBUG = True
    demo_portal(tenants=["gz"])  # the seeding's rows (seeded once per run)
    call_command("seed_demo", quiet_accounts=True, tenants=["gz"])  # idempotent: still one device each
    demo = dict(
        TOTPDevice.objects.filter(key=DEMO_TOTP_KEY, confirmed=True).values_list("user__username", "key")
    )
    assert {"gz_admin", "gz_province", "gz_approver", "gz_funding", "platform_admin"} <= set(demo)
    assert "gz_county" not in demo and "gz_expert" not in demo
    assert TOTPDevice.objects.filter(user__username="gz_admin").count() == 1
    out = StringIO()
    call_command("demo_otp", "gz_admin", stdout=out, stderr=StringIO())
    code = out.getvalue().strip()
    assert len(code) == 6 and code.isdigit()
    client.post("/gz/login/", {"username": "gz_admin", "password": DEMO_PASSWORD})
    response = client.post(reverse("second_factor"), {"otp_token": code})
    assert response.status_code == 302 and response["Location"] == "/gz/me/"
