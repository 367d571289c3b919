"""The Celery configuration the fault tests rely on, asserted (reliability.md C3).

These read the settings of the full stack (REDIS_URL set) and of the embedded default alike: the values do not
depend on the environment.
"""

from __future__ import annotations

import pytest
from django.conf import settings

from portal.celery import TASK_ACKS
from portal.celery import app as celery_app


def _portal_tasks() -> dict:
    celery_app.loader.import_default_modules()
    return {name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")}


def _longest_retry_delay(task) -> float:
    """The longest countdown a task's retries can wait: retry_backoff_max with autoretry backoff, else the
    default_retry_delay; tasks computing their own countdown cap it at SCAN_BACKOFF_MAX."""
    from enterprises.tasks import SCAN_BACKOFF_MAX

    delays = [task.default_retry_delay or 0, SCAN_BACKOFF_MAX]
    if getattr(task, "retry_backoff", False):
        delays.append(getattr(task, "retry_backoff_max", 600))
    return max(delays)


def test_every_task_documents_when_it_acknowledges_and_says_the_truth():
    tasks = _portal_tasks()
    # then every task of the portal is in portal.celery.TASK_ACKS, and nothing there is stale
    assert set(tasks) == set(TASK_ACKS), (
        "document each task's ack choice in portal.celery.TASK_ACKS: "
        f"missing {sorted(set(tasks) - set(TASK_ACKS))}, unknown {sorted(set(TASK_ACKS) - set(tasks))}"
    )
    for name, task in tasks.items():
        choice, reason = TASK_ACKS[name]
        assert choice in ("late", "early") and reason, name
        assert bool(task.acks_late) is (choice == "late"), (
            f"{name}: acks_late={task.acks_late}, TASK_ACKS {choice}"
        )
        # a pool child killed mid-task is not redelivered in a loop (C9); reconcile sweeps find its row (C7)
        assert not task.reject_on_worker_lost, name


def test_every_beat_entry_names_a_registered_task():
    tasks = _portal_tasks()
    for key, entry in celery_app.conf.beat_schedule.items():
        assert entry["task"] in tasks, f"beat entry {key!r} sends {entry['task']!r}, which no worker knows"


def test_retries_are_finite_and_time_limits_are_set():
    assert settings.CELERY_TASK_TIME_LIMIT and settings.CELERY_TASK_SOFT_TIME_LIMIT
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    for name, task in _portal_tasks().items():
        assert task.max_retries is not None and 0 <= task.max_retries <= 10, name
        hard = task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        assert hard <= settings.CELERY_TASK_TIME_LIMIT, name


def test_visibility_timeout_exceeds_the_longest_wait_and_run():
    # Redis redelivers an unacknowledged message after visibility_timeout: a countdown or a run longer than it
    # would run the task "again and again in a loop" (celery docs).
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert settings.CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS["visibility_timeout"] == visibility
    for name, task in _portal_tasks().items():
        longest = _longest_retry_delay(task) + (task.time_limit or settings.CELERY_TASK_TIME_LIMIT)
        assert visibility > longest, f"{name}: waits and runs up to {longest} s, visibility {visibility} s"


def test_the_reconcile_sweep_waits_longer_than_a_report_can_run():
    from reports.reconcile import STUCK_AFTER

    assert STUCK_AFTER.total_seconds() > settings.CELERY_TASK_TIME_LIMIT


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("CELERY_WORKER_PREFETCH_MULTIPLIER", 1),
        ("CELERY_TASK_SERIALIZER", "json"),
        ("CELERY_RESULT_SERIALIZER", "json"),
        ("CELERY_ACCEPT_CONTENT", ["json"]),
        ("CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP", True),
        ("CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS", False),
        ("CELERY_TASK_IGNORE_RESULT", True),
    ],
)
def test_worker_settings(name, expected):
    assert getattr(settings, name) == expected
    # and Celery reads them (namespace CELERY_)
    assert celery_app.conf[name.removeprefix("CELERY_").lower()] == expected


def test_a_producer_gives_up_on_an_unreachable_broker_within_seconds():
    policy = settings.CELERY_TASK_PUBLISH_RETRY_POLICY
    worst = sum(
        min(policy["interval_start"] + i * policy["interval_step"], policy["interval_max"])
        for i in range(policy["max_retries"])
    )
    connect = settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"]
    # each try may wait a connect timeout, plus the sleeps between tries
    assert (policy["max_retries"] + 1) * connect + worst <= 10
    assert celery_app.conf.task_publish_retry_policy == policy


@pytest.mark.django_db
def test_the_daily_facts_refresh_writes_only_changed_enterprises(gz):
    from enterprises.models import Enterprise
    from enterprises.tasks import refresh_facts
    from tests.enterprises.conftest import make_enterprise

    # given two enterprises with their facts stored, one of them stale
    first, second = make_enterprise(gz, "520102", 801), make_enterprise(gz, "520102", 802)
    refresh_facts.apply()
    stored = Enterprise.objects.get(pk=second.pk).facts_hash
    Enterprise.objects.filter(pk=second.pk).update(facts_hash="")
    # when beat's daily job runs, only the stale one is written; a second run writes nothing
    assert refresh_facts.apply().get() == 1
    assert refresh_facts.apply().get() == 0
    assert stored and Enterprise.objects.get(pk=second.pk).facts_hash == stored
    assert Enterprise.objects.get(pk=first.pk).facts_hash
