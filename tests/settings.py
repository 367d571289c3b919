"""Test settings: the portal's own settings with a fixed secret and a fast hasher.

Everything else (database, Redis) still comes from the environment, so the same
suite runs on SQLite locally and on PostgreSQL + Redis in CI.
"""

import os
import tempfile

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "t" * 40)
# Under pytest-xdist (`make test` runs -n auto) each worker process is a run of its own: its own Celery queue and
# media directory (the environment, so that the Celery workers a test starts read the same), and below its own
# Redis database for the cache, which tests clear (FLUSHDB) — workers inherit the controller's environment.
# Processes a worker starts (Celery workers) inherit its environment and must keep its queue and directory:
# SRDI_TEST_XDIST_OWNER says whose they are.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", …
if XDIST_WORKER and os.environ.get("SRDI_TEST_XDIST_OWNER") != XDIST_WORKER:
    os.environ["SRDI_TEST_XDIST_OWNER"] = XDIST_WORKER
    os.environ["SRDI_TEST_QUEUE"] = f"srdi-test-{os.getpid()}"
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix=f"srdi-test-media-{XDIST_WORKER}-")
# Locally the EICAR-only scanner (no clamd needed); CI exports MALWARE_SCANNER=clamd and CLAMD_SOCKET.
# Set before the import: portal.settings refuses to load with DEBUG off and no scanner configured.
os.environ.setdefault("MALWARE_SCANNER", "eicar-only")
# Uploads and demo files of a test run go to a directory of its own, never into the project's media/.
# Through the environment, so a Celery worker the suite starts reads the same files.
os.environ.setdefault("MEDIA_ROOT", tempfile.mkdtemp(prefix="srdi-test-media-"))

from portal.settings import *  # noqa: E402,F403

# Hashing a password 1,000,000 times per test user would dominate the suite.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
# The browser tests talk plain HTTP to the live server: no Secure flag, so no __Host- prefix either (a browser
# refuses a __Host- cookie that is not Secure). tests/portal/test_security_deploy.py checks production's.
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_NAME = "csrftoken"

# Unit tests run tasks in-process; tests marked `services` start a real worker and turn this off.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# A queue of this run's own, so a developer's worker never takes the suite's tasks.
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault("SRDI_TEST_QUEUE", f"srdi-test-{os.getpid()}")

if REDIS_URL:  # noqa: F405
    # The cache gets a Redis database of its own: tests clear it, and must not flush the broker's queue.
    base, _sep, _db = REDIS_URL.rpartition("/")  # noqa: F405
    # 14, 13, … per xdist worker, never the broker's
    _free = [n for n in range(14, 1, -1) if not (_db.isdigit() and n == int(_db))]
    _cache_db = _free[int(XDIST_WORKER[2:] or 0)]  # more than 12 workers: an IndexError here
    _base = base if _db.isdigit() else REDIS_URL.rstrip("/")  # noqa: F405
    CACHES["default"]["LOCATION"] = f"{_base}/{_cache_db}"  # noqa: F405
    # Keys of this run's own too (its workers inherit SRDI_TEST_QUEUE): two runs sharing a Redis would otherwise
    # read each other's cached rows, e.g. a tenant "gz" with the other database's primary key (a 404).
    CACHES["default"]["KEY_PREFIX"] = CELERY_TASK_DEFAULT_QUEUE  # noqa: F405
WHITENOISE_AUTOREFRESH = True  # no collectstatic before tests
