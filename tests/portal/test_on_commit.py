"""portal.on_commit.on_commit_robust: a failing after-commit call is logged, never raised at the committer."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from portal.on_commit import on_commit_robust


def _enqueue(pk: int, *, queue: str) -> None:
    raise ConnectionError(f"broker down for {pk} on {queue}")


@pytest.mark.django_db(transaction=True)
def test_a_failing_call_after_the_commit_is_logged_and_does_not_reach_the_committer(caplog):
    calls: list[tuple[int, str]] = []
    with caplog.at_level(logging.ERROR, logger="django.db.backends.base"), transaction.atomic():
        on_commit_robust(_enqueue, 7, queue="a")
        on_commit_robust(lambda pk: calls.append((pk, "after")), 8)
    # the second call still ran, and the first one's error is in the log under its own name
    assert calls == [(8, "after")]
    assert any(
        "_enqueue" in r.getMessage() and "broker down for 7 on a" in r.getMessage() for r in caplog.records
    )


@pytest.mark.django_db(transaction=True)
def test_a_plain_partial_would_not_have_been_robust():
    """Why the helper exists: Django 5.2 names a failed robust callback by __qualname__."""
    from functools import partial

    with pytest.raises(AttributeError), transaction.atomic():
        transaction.on_commit(partial(_enqueue, 7, queue="a"), robust=True)


@pytest.mark.django_db(transaction=True)
def test_nothing_runs_when_the_transaction_rolls_back():
    calls: list[int] = []
    with pytest.raises(RuntimeError), transaction.atomic():
        on_commit_robust(calls.append, 1)
        raise RuntimeError("rolled back")
    assert calls == []
