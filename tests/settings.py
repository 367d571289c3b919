"""Test settings: the portal's own settings with a fixed secret and a fast hasher.

Everything else (database, Redis) still comes from the environment, so the same
suite runs on SQLite locally and on PostgreSQL + Redis in CI.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-" + "t" * 40)

from portal.settings import *  # noqa: E402,F403

# Hashing a password 1,000,000 times per test user would dominate the suite.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
