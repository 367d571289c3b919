"""The demo portal for tests that start from it: `seed_demo` once per test run, its rows restored after that.

Seeding 贵州's demo takes 10–20 s (every application goes through the services: snapshots, history, audit rows,
notices, certificates). A test that only needs the demo as `make run` shows it, and not the seeding itself,
calls `demo_portal(tenants=[…])`: on PostgreSQL the first call for a set of tenants seeds and keeps a copy of
every table (COPY … TO STDOUT) and of the files the seeding wrote under MEDIA_ROOT; later calls empty the
tables (one TRUNCATE), copy the rows back (COPY … FROM STDIN), move the sequences past them and put the files
back under the current MEDIA_ROOT: about a second. Django's foreign keys on PostgreSQL are DEFERRABLE INITIALLY
DEFERRED, so the tables go back in any order inside one transaction.

The copy is the whole database right after the seeding, so the first caller must seed into a database holding
only the reference data (every fixture here calls it first thing). On-commit callbacks of the seeding (the
certificate PDFs, notifications) run as they would under `make run`, also when the first caller holds a
transaction open, so that every later restore is the same portal whoever seeded first.

Tests of the seeding itself (idempotence, what it prints) keep calling `seed_demo`. On SQLite (local runs)
this simply seeds every time.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import TestCase, override_settings


@dataclass
class _Snapshot:
    tables: dict[str, bytes]
    files: dict[str, bytes]  # path under MEDIA_ROOT → content


_SNAPSHOTS: dict[tuple[str, ...], _Snapshot] = {}


def demo_portal(*, tenants: list[str] | None = None) -> None:
    """The demo of these tenants (all of them when None), as after `seed_demo`, in the test database."""
    key = tuple(sorted(tenants or ()))
    if connection.vendor != "postgresql":
        _seed(tenants)
        return
    snapshot = _SNAPSHOTS.get(key)
    if snapshot is None:
        media = Path(settings.MEDIA_ROOT)
        before = _stat(media)
        _seed(tenants)
        written = [p for p, st in _stat(media).items() if before.get(p) != st]
        _SNAPSHOTS[key] = _take({p: (media / p).read_bytes() for p in written})
    else:
        _restore(snapshot)


def _seed(tenants: list[str] | None) -> None:
    options = {"quiet_accounts": True}
    if tenants:
        options["tenants"] = list(tenants)
    with override_settings(DEBUG=True), TestCase.captureOnCommitCallbacks(execute=True):
        call_command("seed_demo", **options)


def _tables() -> list[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return sorted(n for n in names if n != "django_migrations")


def _take(files: dict[str, bytes]) -> _Snapshot:
    tables: dict[str, bytes] = {}
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in _tables():
            buffer = io.BytesIO()
            cursor.copy_expert(f"COPY {qn(table)} TO STDOUT", buffer)
            tables[table] = buffer.getvalue()
    return _Snapshot(tables=tables, files=files)


def _restore(snapshot: _Snapshot) -> None:
    qn = connection.ops.quote_name
    models = apps.get_models(include_auto_created=True)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(qn(t) for t in snapshot.tables))
        for table, rows in snapshot.tables.items():
            if rows:
                cursor.copy_expert(f"COPY {qn(table)} FROM STDIN", io.BytesIO(rows))
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
    ContentType.objects.clear_cache()  # the restored rows' ids, not those of the last flush
    media = Path(settings.MEDIA_ROOT)
    for relative, content in snapshot.files.items():
        target = media / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)


def _stat(root: Path) -> dict[str, tuple[int, int]]:
    """{path under root: (size, mtime)} of every file."""
    if not root.exists():
        return {}
    found = {}
    for path in root.rglob("*"):
        if path.is_file():
            st = path.stat()
            found[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return found
