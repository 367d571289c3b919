import pytest
from django.db import IntegrityError

from portal.models import AuditEvent, Post
from tests.conftest import official
from tests.factories import PASSWORD, UserFactory


def test_official_signs_in_and_lands_on_the_role_page(client, nanming_official):
    response = client.post("/gz/login/", {"username": "nanming", "password": PASSWORD}, follow=True)
    assert response.redirect_chain[-1][0] == "/gz/me/"
    html = response.content.decode()
    assert "县区审核员" in html and "南明区" in html
    assert "辖区" in html  # what the post can do


def test_username_is_case_insensitive_for_sign_in(client, nanming_official):
    response = client.post("/gz/login/", {"username": "NanMing", "password": PASSWORD})
    assert response.status_code == 302


def test_usernames_differing_only_in_case_cannot_both_exist(db):
    UserFactory(username="Zhang")
    with pytest.raises(IntegrityError):
        UserFactory(username="zhang")


def test_wrong_password_and_unknown_user_get_the_same_message(client, nanming_official):
    wrong = client.post("/gz/login/", {"username": "nanming", "password": "nope-nope-nope"})
    unknown = client.post("/gz/login/", {"username": "nobody-here", "password": "nope-nope-nope"})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert "请输入一个正确的" in wrong.content.decode()
    assert "nobody-here" not in str(unknown.context["form"].non_field_errors())


def test_sign_in_and_failures_are_audited(client, nanming_official):
    client.post("/gz/login/", {"username": "nanming", "password": "bad-password-1"})
    client.post("/gz/login/", {"username": "nanming", "password": PASSWORD})
    actions = list(AuditEvent.objects.order_by("id").values_list("action", "outcome", "actor_label"))
    assert actions == [("auth.login_failed", "failure", "nanming"), ("auth.login", "success", "nanming")]
    assert not AuditEvent.objects.filter(summary__contains="bad-password-1").exists()


def test_sign_out_is_a_post_and_ends_the_session(client, nanming_official):
    client.force_login(nanming_official)
    response = client.post("/gz/logout/")
    assert response.status_code == 302
    assert client.get("/gz/me/").status_code == 302


def test_every_role_has_a_landing_page_listing_what_it_can_do(client, gz):
    for role in Post.Role:
        user = official(gz, "520000" if role != Post.Role.COUNTY_REVIEWER else "520102", role)
        client.force_login(user)
        response = client.get("/gz/me/")
        assert response.status_code == 200
        cards = response.context["cards"]
        assert len(cards) == 1 and cards[0]["post"].role == role
        assert len(cards[0]["capabilities"]) >= 2


def test_api_token_for_username_and_password(client, nanming_official):
    response = client.post("/api/v1/auth/token/", {"username": "nanming", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["token"]
    me = client.get("/api/v1/gz/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200
    assert me.json()["posts"][0]["region"]["code"] == "520102"


def test_api_errors_share_one_format_with_field_messages(client, db):
    response = client.post("/api/v1/auth/token/", {"username": "x"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400
    assert "password" in error["fields"]
    assert error["fields"]["password"] == ["该字段是必填项。"]


def test_api_requires_authentication(client, gz):
    response = client.get("/api/v1/gz/regions/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_password_reset_sends_an_email_without_revealing_accounts(client, nanming_official, mailoutbox):
    known = client.post("/accounts/password/reset/", {"email": nanming_official.email})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.cn"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert len(mailoutbox) == 1
    assert "/accounts/reset/" in mailoutbox[0].body
