"""Quotas and one-application-per-round hold when people act at the same moment (design.md "Application workflow", style.md 15 and 24).

PostgreSQL only: SQLite serialises every writer, so there is no race to lose. Threads line up on a
barrier, then act together; each closes its own connection at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from certification import workflow
from certification.models import Application, QuotaUse, ReviewEvent, Round
from certification.transitions import Action
from enterprises.models import Enterprise
from portal.models import AuditEvent, Post, User
from tests.certification.workflow_fixtures import (
    make_round,
    rival_fixture,  # noqa: F401 - the `rival` fixture
    submitted_application,
)
from tests.conftest import official, region, require_postgres
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

S = Application.State
ROUNDS = 5  # one lucky interleaving proves little; five races in a row make a lost update show


def race(*calls: Callable[[], object]) -> list[str]:
    """Run the calls in threads released together; each outcome is "ok" or the refusal's code."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = "ok"
        except workflow.WorkflowRefused as exc:
            outcomes[index] = exc.code
        except Exception as exc:  # noqa: BLE001 - reported in the assertion, not swallowed
            outcomes[index] = f"error: {exc!r}"
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a thread hung: a deadlock?"
    return outcomes


def recommend(application_pk: int, official_pk: int) -> Callable[[], object]:
    def call():
        # Fresh rows per thread: a user caches its posts, an application its round.
        return workflow.application_act(
            application=Application.objects.get(pk=application_pk),
            action=Action.RECOMMEND,
            by=User.objects.get(pk=official_pk),
            opinion="同意推荐",
        )

    return call


def recommend_bulk(ids: list[int], official_pk: int, tenant) -> Callable[[], object]:
    def call():
        return workflow.application_recommend_bulk(
            tenant=tenant, ids=ids, by=User.objects.get(pk=official_pk), opinion="同意推荐"
        )

    return call


@pytest.fixture
def county_officials(gz, nanming_official):
    """Two reviewers of 南明区: they share its quota."""
    return [nanming_official, official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nanming2")]


@pytest.fixture
def applicants(gz, acme, owner, rival):
    """Three enterprises of 南明区 and an admin of each."""
    third_owner = UserFactory(username="third_owner")
    third = make_enterprise(gz, "520102", 6, name="贵州南明第三有限公司", admin=third_owner)
    return [(acme, owner), (rival, rival.memberships.get().user), (third, third_owner)]


def quota_round(gz, wf_program, name: str, maximum: int):
    program, version = wf_program
    return make_round(
        program, version, name=name, quotas=[workflow.QuotaSpec(region(gz, "520102"), maximum=maximum)]
    )


def test_two_officials_cannot_both_take_the_last_place(gz, wf_program, county_officials, applicants, media):
    require_postgres()
    for attempt in range(ROUNDS):
        # given: one place left; two applications waiting at 南明区
        round_ = quota_round(gz, wf_program, f"第{attempt + 1}批", maximum=1)
        first, second = (submitted_application(round_, e, by) for e, by in applicants[:2])
        # when: each official recommends a different application at the same moment
        outcomes = race(
            recommend(first.pk, county_officials[0].pk),
            recommend(second.pk, county_officials[1].pk),
        )
        # then: one went up, the other was told the quota is reached, and one place was used
        assert sorted(outcomes) == ["ok", "quota_reached"], outcomes
        assert QuotaUse.objects.filter(quota__round=round_).count() == 1
        states = sorted(Application.objects.filter(round=round_).values_list("state", flat=True))
        assert states == [S.IN_REVIEW, S.SUBMITTED]
        assert ReviewEvent.objects.filter(application__round=round_, action=Action.RECOMMEND).count() == 1
        loser = Application.objects.get(round=round_, state=S.SUBMITTED)
        assert AuditEvent.objects.filter(
            action="application.recommend", object_id=str(loser.pk), outcome="refused"
        ).exists()


def test_a_bulk_recommendation_and_a_single_one_cannot_overrun_the_quota(
    gz, wf_program, county_officials, applicants, media
):
    require_postgres()
    for attempt in range(ROUNDS):
        # given: two places; the bulk takes two, the single one takes one
        round_ = quota_round(gz, wf_program, f"第{attempt + 1}批", maximum=2)
        a, b, c = (submitted_application(round_, e, by) for e, by in applicants)
        # when
        bulk, single = race(
            recommend_bulk([a.pk, b.pk], county_officials[0].pk, gz),
            recommend(c.pk, county_officials[1].pk),
        )
        # then: whichever came first won; the bulk is all or nothing
        used = QuotaUse.objects.filter(quota__round=round_).count()
        moved = {app.pk for app in Application.objects.filter(round=round_, state=S.IN_REVIEW).only("pk")}
        if bulk == "ok":
            assert (single, used, moved) == ("quota_reached", 2, {a.pk, b.pk})
        else:
            assert (bulk, single, used, moved) == ("quota_reached", "ok", 1, {c.pk})


def test_two_officials_recommending_the_same_application_move_it_once(
    gz, wf_program, county_officials, applicants, media
):
    require_postgres()
    for attempt in range(ROUNDS):
        # given: places to spare
        round_ = quota_round(gz, wf_program, f"第{attempt + 1}批", maximum=5)
        acme, owner = applicants[0]
        application = submitted_application(round_, acme, owner)
        # when
        outcomes = race(
            recommend(application.pk, county_officials[0].pk),
            recommend(application.pk, county_officials[1].pk),
        )
        # then: the second saw it already at the prefecture
        assert sorted(outcomes) == ["not_allowed", "ok"], outcomes
        application.refresh_from_db()
        assert (application.state, application.level) == (S.IN_REVIEW, "prefecture")
        assert application.events.filter(action=Action.RECOMMEND).count() == 1
        assert QuotaUse.objects.filter(quota__round=round_).count() == 1


def test_two_members_starting_at_once_get_one_application(gz, wf_program, acme, owner, colleague, media):
    require_postgres()
    program, version = wf_program

    def start(round_pk: int, user_pk: int) -> Callable[[], object]:
        def call():
            return workflow.application_start(
                round_=Round.objects.get(pk=round_pk),
                enterprise=Enterprise.objects.get(pk=acme.pk),
                by=User.objects.get(pk=user_pk),
            )

        return call

    for attempt in range(ROUNDS):
        # given: an open round and two tabs, one per member
        round_ = make_round(program, version, name=f"第{attempt + 1}批")
        # when
        outcomes = race(start(round_.pk, owner.pk), start(round_.pk, colleague.pk))
        # then: the partial unique index let one through; the other is told it is a duplicate
        assert sorted(outcomes) == ["duplicate", "ok"], outcomes
        assert Application.objects.filter(round=round_, enterprise=acme).count() == 1
