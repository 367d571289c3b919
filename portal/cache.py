"""A Redis cache that degrades to a miss when Redis is away (reliability.md C5).

Django's RedisCache raises on a connection error, so a Redis restart would turn every page that reads the
cache (the tenant lookup of every request, the dashboards, the directory) into an error page; so would a full
Redis refusing writes. The cache only
ever holds what the database can compute again, so while Redis is unreachable this backend answers as an empty
cache: reads miss, writes are dropped, `add` reports "not added" and `incr` "no such key". The connection and
socket timeouts in settings (OPTIONS) bound how long a request waits to find that out.

A warning is logged at most once every WARN_EVERY seconds per process, not once per cache call.
"""

from __future__ import annotations

import logging
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError as RedisOutOfMemoryError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

# BusyLoadingError (Redis reading its AOF after a restart) is a ConnectionError too. OutOfMemoryError: the Redis
# the cache shares with the broker runs with maxmemory-policy noeviction (the queue must never be evicted), so
# when it is full it refuses writes, and a full Redis must not take the pages down with it.
UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, RedisOutOfMemoryError)
WARN_EVERY = 30.0


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0

    def _unavailable(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._last_warning >= WARN_EVERY:
            ResilientRedisCache._last_warning = now
            log.warning("cache unavailable (%s: %s); serving without it", operation, exc)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except UNAVAILABLE as exc:
            self._unavailable("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except UNAVAILABLE as exc:
            self._unavailable("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except UNAVAILABLE as exc:
            self._unavailable("has_key", exc)
            return False

    def add(self, key, value, timeout=..., version=None):
        timeout = self.default_timeout if timeout is ... else timeout
        try:
            return super().add(key, value, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("add", exc)
            return False

    def set(self, key, value, timeout=..., version=None):
        timeout = self.default_timeout if timeout is ... else timeout
        try:
            super().set(key, value, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("set", exc)

    def set_many(self, data, timeout=..., version=None):
        timeout = self.default_timeout if timeout is ... else timeout
        try:
            return super().set_many(data, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("set_many", exc)
            return list(data)

    def touch(self, key, timeout=..., version=None):
        timeout = self.default_timeout if timeout is ... else timeout
        try:
            return super().touch(key, timeout, version)
        except UNAVAILABLE as exc:
            self._unavailable("touch", exc)
            return False

    def delete(self, key, version=None):
        # A dropped delete leaves the old value in a Redis that comes back with it (a restart that reloads its
        # AOF) until the value's own timeout: invalidations during an outage are lost, reads are not wrong longer.
        try:
            return super().delete(key, version)
        except UNAVAILABLE as exc:
            self._unavailable("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            return super().delete_many(keys, version)
        except UNAVAILABLE as exc:
            self._unavailable("delete_many", exc)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except UNAVAILABLE as exc:
            self._unavailable("incr", exc)
            raise ValueError(f"Key '{key}' not found (cache unavailable)") from exc

    def clear(self):
        try:
            return super().clear()
        except UNAVAILABLE as exc:
            self._unavailable("clear", exc)
            return False
