"""No default or shared accounts in production (reliability.md A10)."""

from __future__ import annotations

from django.core import checks

from tests.factories import UserFactory


def deploy_errors() -> list[checks.CheckMessage]:
    found = checks.run_checks(tags=[checks.Tags.security], include_deployment_checks=True)
    return [m for m in found if m.id == "portal_auth.E001"]


def test_an_active_account_named_admin_fails_the_deploy_check(db):
    UserFactory(username="Admin")
    UserFactory(username="root", is_active=False)
    UserFactory(username="administrator2")
    (error,) = deploy_errors()
    assert error.level == checks.ERROR and error.obj == "Admin"


def test_personal_accounts_pass_the_deploy_check(db):
    UserFactory(username="zhang_wei")
    UserFactory(username="root", is_active=False)
    assert deploy_errors() == []
