"""portal.cache.ResilientRedisCache against a Redis that is not there: every call answers as an empty cache
(reliability.md C5). A real client on a port where nothing listens; nothing is mocked."""

from __future__ import annotations

import logging
import time

import pytest
from django.core.cache import caches
from django.test import override_settings

DEAD = {
    "default": {
        "BACKEND": "portal.cache.ResilientRedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
    }
}


@pytest.fixture
def dead_cache():
    with override_settings(CACHES=DEAD):
        yield caches["default"]


def test_every_call_answers_as_an_empty_cache(dead_cache):
    started = time.monotonic()
    assert dead_cache.get("k") is None
    assert dead_cache.get("k", "default") == "default"
    assert dead_cache.get_many(["a", "b"]) == {}
    assert dead_cache.has_key("k") is False
    assert dead_cache.add("k", 1) is False
    assert dead_cache.set("k", 1) is None
    assert dead_cache.set_many({"a": 1, "b": 2}) == ["a", "b"]
    assert dead_cache.touch("k") is False
    assert dead_cache.delete("k") is False
    assert dead_cache.delete_many(["a"]) is None
    assert dead_cache.get_or_set("k", 7) == 7
    assert dead_cache.get_or_set("k", lambda: 8) == 8
    with pytest.raises(ValueError):
        dead_cache.incr("k")
    with pytest.raises(ValueError):
        dead_cache.decr("k")
    assert dead_cache.clear() is False
    # a refused connection is immediate; the timeouts bound the rest
    assert time.monotonic() - started < 5


def test_the_dashboard_generation_survives_a_dead_cache(dead_cache):
    from reports import aggregates

    first = aggregates.generation(1)
    assert isinstance(first, int)
    aggregates.bump(1)  # add fails, incr "not found", set dropped: no error
    # with no cache every read starts a generation of its own: nothing counted before passes for current
    time.sleep(0.002)
    assert not aggregates._is_current({"generation": first}, 1)


def test_the_outage_is_logged_once_not_for_every_call(dead_cache, caplog, monkeypatch):
    from portal.cache import WARN_EVERY, ResilientRedisCache

    monkeypatch.setattr(ResilientRedisCache, "_last_warning", -WARN_EVERY)
    with caplog.at_level(logging.WARNING, logger="portal.cache"):
        for _ in range(20):
            dead_cache.get("k")
    assert len([r for r in caplog.records if r.name == "portal.cache"]) == 1
