import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]


def _django_setup(env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_refuses_to_start():
    result = _django_setup({"DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "false"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_with_a_secret_key_starts():
    result = _django_setup(
        {"DJANGO_SETTINGS_MODULE": "portal.settings", "DEBUG": "false", "SECRET_KEY": "k" * 60}
    )
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_locale_and_time():
    assert settings.TIME_ZONE == "Asia/Shanghai"
    assert settings.USE_TZ is True
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]


def test_embedded_default_runs_tasks_in_process_and_full_stack_uses_redis():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'].rsplit('.', 1)[1], "
            "s.DATABASES['default']['ENGINE'].rsplit('.', 1)[1])",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DATABASE_URL"}},
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "true",
        },
    )
    assert result.stdout.split() == ["True", "LocMemCache", "sqlite3"], result.stderr
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; "
            "print(s.CELERY_TASK_ALWAYS_EAGER, s.CACHES['default']['BACKEND'].rsplit('.', 1)[1], s.CELERY_BROKER_URL)",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "DEBUG": "true",
            "REDIS_URL": "redis://127.0.0.1:6379/3",
        },
    )
    assert result.stdout.split() == ["False", "ResilientRedisCache", "redis://127.0.0.1:6379/3"], (
        result.stderr
    )
