"""Two peers of each kind for the API fuzzing (reliability.md AC2, V1, V2): enterprises of 南明区 and 云岩区,
the county reviewers of those two counties, each with something of their own to read.

acme (南明区, `owner`) and the 云岩区 enterprise (`yunyan_owner`) each hold a submitted application, an
intellectual-property item and their notifications; the 南明区 reviewer (`nanming`) sees acme's application,
the 云岩区 reviewer (`yunyan`) the other one. No peer may read the other's objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from rest_framework.authtoken.models import Token

from certification import workflow
from certification.transitions import Action
from enterprises.models import IPItem
from portal.models import Post
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import act, fill, make_round, media  # noqa: F401 - fixture
from tests.conftest import official
from tests.enterprises.conftest import acme, colleague, owner, yunyan_enterprise  # noqa: F401 - fixtures


@dataclass
class Peer:
    label: str
    user: object
    token: str
    enterprise: object | None = None
    application: object | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.token}"}


def _peer(label, user, enterprise=None, application=None) -> Peer:
    token, _ = Token.objects.get_or_create(user=user)
    return Peer(label, user, token.key, enterprise, application)


def _ip_item(enterprise, number):
    return IPItem.objects.create(
        enterprise=enterprise,
        ip_type=IPItem.Type.INVENTION,
        number=number,
        title="一种高速精密轴承",
        grant_date=date(2024, 3, 1),
    )


def _submitted(round_, enterprise, by):
    application = workflow.application_start(round_=round_, enterprise=enterprise, by=by)
    return act(fill(application, by), Action.SUBMIT, by)


@pytest.fixture
def peers(gz, acme, yunyan_enterprise, owner, media):  # noqa: F811
    """{"enterprise": (a, b), "official": (a, b)}: each a reads A's objects, each b reads B's."""
    program, version = make_program(gz, code="fuzz_srdi")
    round_ = make_round(program, version)
    yunyan_owner = yunyan_enterprise.memberships.get().user
    app_a = _submitted(round_, acme, owner)
    app_b = _submitted(round_, yunyan_enterprise, yunyan_owner)
    _ip_item(acme, "ZL202410000001.1")
    _ip_item(yunyan_enterprise, "ZL202410000002.X")
    nanming = official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming")
    yunyan = official(gz, "520103", Post.Role.COUNTY_REVIEWER, username="yunyan")
    return {
        "enterprise": (
            _peer("enterprise A (南明区)", owner, acme, app_a),
            _peer("enterprise B (云岩区)", yunyan_owner, yunyan_enterprise, app_b),
        ),
        "official": (
            _peer("official A (南明区 county reviewer)", nanming, acme, app_a),
            _peer("official B (云岩区 county reviewer)", yunyan, yunyan_enterprise, app_b),
        ),
    }


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """schemathesis calls the WSGI application directly, not through Django's test client, so the
    request signals would close the test's database connection (and its transaction) after each call, as
    they do for a real request. Disconnect them as django.test.Client does, for the test's duration."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
