"""The library holds when two officials act on the same enterprise at the same moment (style.md 15 and 24).

PostgreSQL only: SQLite serialises every writer, so there is no race to lose. Threads line up on a barrier,
then act together; each closes its own connection at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from certification import library
from certification.models import LibraryEntry, LibraryStageChange, Program
from enterprises.models import Enterprise
from portal.models import User
from tests.conftest import require_postgres

pytestmark = pytest.mark.django_db(transaction=True)

ROUNDS = 5


def race(*calls: Callable[[], object]) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = [""] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            call()
            outcomes[index] = "ok"
        except library.LibraryRefused as exc:
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


def adding(enterprise_pk: int, program_pk: int, official_pk: int) -> Callable[[], object]:
    def call():
        # Fresh rows per thread: a user caches its posts.
        return library.library_add(
            enterprise=Enterprise.objects.get(pk=enterprise_pk),
            program=Program.objects.get(pk=program_pk),
            stage=LibraryEntry.Stage.RESERVE,
            by=User.objects.get(pk=official_pk),
            note="推荐入库",
        )

    return call


def moving(entry_pk: int, official_pk: int) -> Callable[[], object]:
    def call():
        return library.library_move(
            entry=LibraryEntry.objects.get(pk=entry_pk),
            to_stage=LibraryEntry.Stage.CULTIVATING,
            note="转入培育",
            by=User.objects.get(pk=official_pk),
        )

    return call


def test_two_officials_adding_the_same_enterprise_make_one_entry(
    gz, acme, program, nanming_official, guiyang_official
):
    require_postgres()
    prog, _version = program
    for _attempt in range(ROUNDS):
        LibraryEntry.objects.all().delete()
        outcomes = race(
            adding(acme.pk, prog.pk, nanming_official.pk), adding(acme.pk, prog.pk, guiyang_official.pk)
        )
        assert sorted(outcomes) == ["already_in_library", "ok"], outcomes
        assert LibraryEntry.objects.filter(enterprise=acme).count() == 1
        assert LibraryStageChange.objects.filter(entry__enterprise=acme).count() == 1


def test_two_officials_moving_the_same_entry_move_it_once(
    gz, acme, program, nanming_official, guiyang_official
):
    require_postgres()
    prog, _version = program
    for _attempt in range(ROUNDS):
        LibraryEntry.objects.all().delete()
        entry = library.library_add(
            enterprise=acme, program=prog, stage=LibraryEntry.Stage.RESERVE, by=nanming_official
        )
        outcomes = race(moving(entry.pk, nanming_official.pk), moving(entry.pk, guiyang_official.pk))
        # the second found the entry already at 培育 once it had the lock
        assert sorted(outcomes) == ["ok", "same_stage"], outcomes
        assert list(entry.changes.values_list("to_stage", flat=True)) == ["reserve", "cultivating"]
