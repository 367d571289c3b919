"""Password policy (reliability.md A2): Django's validators plus three character classes and at most 128."""

from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from portal.management.commands.seed_demo import DEMO_PASSWORD
from tests.factories import PASSWORD, UserFactory


def codes(password: str, user=None) -> set[str]:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        return {e.code for e in exc.error_list}
    return set()


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Correct-horse-42", set()),  # four classes
        ("correct-horse-42", set()),  # lower, symbol, digit
        ("CorrectHorse42", set()),  # lower, upper, digit
        ("正确的马电池订书钉Ab", set()),  # non-Latin characters count as symbols
        ("correcthorsebattery", {"password_too_few_character_classes"}),
        ("correcthorse42", {"password_too_few_character_classes"}),
        ("CORRECT-HORSE", {"password_too_few_character_classes"}),
        ("Ab-1", {"password_too_short"}),
        ("Password123", {"password_too_common"}),
        ("Aa-1" * 32, set()),  # 128 characters: the maximum is allowed
        ("Aa-1" * 32 + "x", {"password_too_long"}),  # 129: refused, not cut
    ],
)
def test_password_rules(password, expected):
    assert codes(password) == expected


def test_a_long_password_is_never_truncated(db):
    user = UserFactory(password="Aa-1" * 32)
    assert user.check_password("Aa-1" * 32)
    assert not user.check_password("Aa-1" * 31 + "Aa-")


def test_the_messages_name_the_rule_in_chinese_and_english():
    with pytest.raises(ValidationError) as exc:
        validate_password("correcthorsebattery")
    assert "3" in exc.value.messages[0] and "符号" in exc.value.messages[0]
    with translation.override("en"), pytest.raises(ValidationError) as exc:
        validate_password("Aa-1" * 40)
    assert exc.value.messages == ["This password is too long: use at most 128 characters."]


def test_the_demo_and_test_passwords_pass_the_policy():
    assert codes(DEMO_PASSWORD) == set()
    assert codes(PASSWORD) == set()


def test_registration_refuses_a_password_of_one_character_class(client, gz):
    response = client.post(
        "/api/v1/gz/register/",
        {"username": "newco", "password": "onlylowercaseletters"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert any("符号" in m for m in response.json()["error"]["fields"]["password"])


def test_password_change_refuses_a_password_over_128_characters(client, nanming_official):
    client.force_login(nanming_official)
    response = client.post(
        "/accounts/password/change/",
        {"old_password": PASSWORD, "new_password1": "Aa-1" * 33, "new_password2": "Aa-1" * 33},
    )
    assert response.status_code == 200
    assert "password_too_long" in {e.code for e in response.context["form"].errors.as_data()["new_password2"]}
    nanming_official.refresh_from_db()
    assert nanming_official.check_password(PASSWORD)
