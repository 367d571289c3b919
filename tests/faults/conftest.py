"""Processes the fault tests start and stop themselves, on loopback (reliability.md §11 T2).

- `redis_server`: a redis-server of the test's own on a free port from 6390 up, with AOF persistence in a
  temporary directory, that the test may shut down and start again; the broker and the cache of this process
  point at it while the test runs (`point_at`).
- `start_worker`: Celery worker processes on the test database and that Redis, each in a process group of its
  own so that a test can kill -9 its main process or a pool child, and the finaliser kills what is left.

Everything is stopped by id in the finalisers; the shared Redis on 6379 and PostgreSQL are never touched.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import override_settings

from portal.celery import app as celery_app
from tests.conftest import require, require_postgres
from tests.portal.test_worker import _database_url

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / ".pytest_cache" / "faults"
REDIS_SERVER = shutil.which("redis-server")


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _free_port(start: int = 6390, end: int = 6420) -> int:
    for port in range(start, end):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port between 6390 and 6420")


class RedisServer:
    def __init__(self, directory: Path, *, persistent: bool = True):
        self.port = _free_port()
        self.dir = directory
        self.persistent = persistent
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir)]
        args += ["--maxmemory-policy", "noeviction", "--save", ""]
        if self.persistent:
            args += ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            args += ["--appendonly", "no"]
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = open(LOG_DIR / f"redis-{self.port}.log", "a")  # noqa: SIM115 - the process keeps writing to it
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_for(self.ping, timeout=10, what=f"redis-server on {self.port}")

    def ping(self) -> bool:
        try:
            return redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
        except redis.exceptions.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=2)

    def shutdown(self, *, nosave: bool = False) -> None:
        """`redis-cli shutdown [nosave]`: a clean stop (the AOF is flushed either way)."""
        subprocess.run(
            ["redis-cli", "-p", str(self.port), "shutdown", *(["nosave"] if nosave else [])],
            capture_output=True,
            timeout=10,
        )
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def redis_server(tmp_path):
    require(REDIS_SERVER is not None, "needs redis-server: apt-get install redis-server")
    server = RedisServer(tmp_path / "redis")
    server.dir.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def point_at(url: str):
    """The broker and the cache of this (test) process on `url`; restored afterwards."""
    old = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    caches = {
        "default": {
            **settings.CACHES["default"],
            "BACKEND": "portal.cache.ResilientRedisCache",
            "LOCATION": url.rsplit("/", 1)[0] + "/1",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }

    def reset_pools():
        # Not force_close_all(): kombu keeps one pool per connection URL for the process, and a closed one
        # would be handed out again for that URL.
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    celery_app.conf.broker_url = url
    celery_app.conf.task_always_eager = False
    reset_pools()
    try:
        with override_settings(CACHES=caches):
            yield
    finally:
        celery_app.conf.broker_url, celery_app.conf.task_always_eager = old
        reset_pools()


class Worker:
    def __init__(self, proc: subprocess.Popen, log_path: Path):
        self.proc = proc
        self.log_path = log_path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill_group(self) -> None:
        # The main process, its pool children and any orphan of an earlier kill -9: the group is ours.
        with suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


@pytest.fixture
def start_worker(transactional_db, redis_server, tmp_path):
    """Start Celery workers (prefork, one pool child) with the test-only hooks of tests.faults.worker_app."""
    require_postgres()
    workers: list[Worker] = []

    def start(*, barrier: Path | None = None, visibility_timeout: int = 3600) -> Worker:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis_server.url,
            "SRDI_TEST_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "FAULTS_VISIBILITY_TIMEOUT": str(visibility_timeout),
            "FAULTS_BARRIER_DIR": str(barrier or ""),
            "CONN_MAX_AGE": "0",
        }
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log_path = LOG_DIR / f"worker-{tmp_path.name}-{len(workers)}.log"
        with open(log_path, "w") as log:
            proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "tests.faults.worker_app",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=1",
                    "--loglevel=INFO",
                    "-Q",
                    settings.CELERY_TASK_DEFAULT_QUEUE,
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"faults{len(workers)}-{os.getpid()}@%h",
                ],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        worker = Worker(proc, log_path)
        workers.append(worker)
        wait_for(
            lambda: "ready." in worker.log() or not worker.alive(),
            timeout=60,
            what="the worker to be ready",
            interval=0.2,
        )
        assert worker.alive(), worker.log()
        return worker

    with point_at(redis_server.url):
        try:
            yield start
        finally:
            for worker in workers:
                worker.kill_group()
            connection.close()
