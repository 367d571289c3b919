"""Retention and purge (reliability.md L6), the hash chain (L5), and the append-only guard around both."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from freezegun import freeze_time

from portal import audit_chain
from portal.audit import audit_purge, audit_record
from portal.celery import app as celery_app
from portal.models import AuditEvent, AuditLogIsAppendOnly
from portal.tasks import purge_audit_events
from tests.conftest import require_postgres


def event_aged(days: float, action: str = "test.old", **fields) -> AuditEvent:
    with freeze_time(timezone.now() - timedelta(days=days)):
        return audit_record(action=action, **fields)


def purge_rows():
    return list(AuditEvent.objects.filter(action="audit.purged"))


# --- the purge ------------------------------------------------------------------------------------


def test_a_181_day_old_row_is_kept_with_a_retention_of_183_days(db, settings):
    # given
    settings.AUDIT_RETENTION_DAYS = 183
    kept = event_aged(181)
    # when
    removed = audit_purge()
    # then
    assert removed == 0
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    [purge] = purge_rows()
    assert purge.changes["removed"] == 0 and purge.changes["retention_days"] == 183


def test_a_400_day_old_row_is_removed_with_a_retention_of_365_days(db, settings):
    # given
    settings.AUDIT_RETENTION_DAYS = 365
    old = event_aged(400)
    recent = event_aged(364)
    # when
    removed = audit_purge()
    # then
    assert removed == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()
    [purge] = purge_rows()
    assert purge.changes["removed"] == 1 and purge.changes["through_id"] == old.pk
    assert purge.actor_label == "purge_audit" and purge.outcome == "success"


def test_the_purge_works_in_batches(db, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    old = [event_aged(400 + i) for i in range(5)]
    young = event_aged(10)
    assert audit_purge(batch_size=2) == 5
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEvent.objects.filter(pk=young.pk).exists()
    assert len(purge_rows()) == 1  # one row for the whole run, not one per batch


def test_a_dry_run_counts_and_removes_nothing(db, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    old = event_aged(400)
    assert audit_purge(dry_run=True) == 1
    assert AuditEvent.objects.filter(pk=old.pk).exists()
    assert purge_rows() == []


def test_the_purge_refuses_a_retention_under_six_months(db, settings):
    settings.AUDIT_RETENTION_DAYS = 182
    old = event_aged(400)
    with pytest.raises(ImproperlyConfigured, match="183"):
        audit_purge()
    assert AuditEvent.objects.filter(pk=old.pk).exists()


def test_the_settings_refuse_a_retention_under_six_months_at_startup():
    env = {**os.environ, "AUDIT_RETENTION_DAYS": "90", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "AUDIT_RETENTION_DAYS=90" in result.stderr


def test_the_retention_defaults_to_a_year():
    assert django_settings.AUDIT_RETENTION_DAYS == 365


def test_the_purge_command(db, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    old = event_aged(400)
    out = StringIO()
    call_command("purge_audit", "--dry-run", stdout=out)
    assert out.getvalue().startswith("would remove 1 audit events older than")
    assert AuditEvent.objects.filter(pk=old.pk).exists()
    call_command("purge_audit", stdout=StringIO())
    assert not AuditEvent.objects.filter(pk=old.pk).exists()


def test_the_purge_runs_daily_from_beat(db, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    schedule = celery_app.conf.beat_schedule["daily-purge-audit"]
    assert schedule["task"] == purge_audit_events.name == "portal.tasks.purge_audit_events"
    old = event_aged(400)
    assert purge_audit_events.delay().get() == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()


def test_outside_the_purge_the_orm_still_refuses_deletes(db, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    old = event_aged(400)
    audit_purge()
    survivor = event_aged(500)
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=survivor.pk).delete()
    with pytest.raises(AuditLogIsAppendOnly):
        survivor.delete()
    assert AuditEvent.objects.filter(pk=survivor.pk).exists() and old.pk != survivor.pk


# --- PostgreSQL's trigger -------------------------------------------------------------------------


def raw(sql: str, params=None) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(sql, params)


def test_postgres_purges_through_the_trigger(db, settings):
    require_postgres()
    settings.AUDIT_RETENTION_DAYS = 183
    old, kept = event_aged(200), event_aged(100)
    assert audit_purge() == 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=kept.pk).exists()


def test_postgres_refuses_updates_and_deletes_outside_the_purge_even_right_after_one(db, settings):
    require_postgres()
    settings.AUDIT_RETENTION_DAYS = 183
    event_aged(200)
    audit_purge()  # the test's transaction is still open: the purge's setting must not outlive it
    old = event_aged(300)
    for sql in (
        "UPDATE portal_auditevent SET summary = 'x' WHERE id = %s",
        "DELETE FROM portal_auditevent WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            raw(sql, [old.pk])
    assert AuditEvent.objects.get(pk=old.pk).summary == ""


def test_postgres_refuses_an_update_even_with_the_purge_setting_on(db):
    require_postgres()
    old = event_aged(300)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("SELECT set_config('srdi.audit_purge', 'on', true)")
        cur.execute("UPDATE portal_auditevent SET summary = 'x' WHERE id = %s", [old.pk])
    assert AuditEvent.objects.get(pk=old.pk).summary == ""


def test_postgres_refuses_to_purge_a_row_younger_than_180_days_whatever_the_setting(db):
    require_postgres()
    young = event_aged(100)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute("SELECT set_config('srdi.audit_purge', 'on', true)")
        cur.execute("DELETE FROM portal_auditevent WHERE id = %s", [young.pk])
    assert AuditEvent.objects.filter(pk=young.pk).exists()


def test_postgres_stores_audit_times_with_their_time_zone(db):
    require_postgres()
    with connection.cursor() as cur:
        cur.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'portal_auditevent' AND column_name = 'occurred_at'"
        )
        assert cur.fetchone()[0] == "timestamp with time zone"  # reliability.md L8


# --- the hash chain (L5) --------------------------------------------------------------------------


def tamper(sql: str, params) -> None:
    """What someone with direct database access does: around the ORM, and around the trigger."""
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Inside the test's transaction: rolled back with it.
            cur.execute("ALTER TABLE portal_auditevent DISABLE TRIGGER portal_auditevent_append_only")
        cur.execute(sql, params)
        if connection.vendor == "postgresql":
            cur.execute("ALTER TABLE portal_auditevent ENABLE TRIGGER portal_auditevent_append_only")


@pytest.fixture
def chain(gz, gz_admin):
    return [
        audit_record(action=f"test.step{i}", actor=gz_admin, tenant=gz, summary=f"step {i}", changes={"n": i})
        for i in range(4)
    ]


def test_each_row_links_to_the_one_before(chain):
    for before, after in zip(chain, chain[1:], strict=False):
        assert (after.prev_id, after.prev_hash) == (before.pk, before.row_hash)
        assert len(after.row_hash) == 64


def test_an_untouched_log_verifies(chain):
    assert list(audit_chain.verify()) == []
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "verified" in out.getvalue()


def test_verification_flags_an_edited_row(chain):
    tamper("UPDATE portal_auditevent SET summary = %s WHERE id = %s", ["nothing happened", chain[1].pk])
    problems = list(audit_chain.verify())
    assert [p.event_id for p in problems] == [chain[1].pk]
    assert "changed" in problems[0].message
    with pytest.raises(CommandError, match="1 audit events fail"):
        call_command("verify_audit", stdout=StringIO())


def test_verification_flags_a_rehashed_row_through_its_successor(chain):
    # A new hash without the key matches neither the row nor the successor's link.
    tamper("UPDATE portal_auditevent SET row_hash = %s WHERE id = %s", ["0" * 64, chain[1].pk])
    assert [p.event_id for p in audit_chain.verify()] == [chain[1].pk, chain[2].pk]


def test_verification_flags_a_deleted_row(chain):
    tamper("DELETE FROM portal_auditevent WHERE id = %s", [chain[2].pk])
    problems = list(audit_chain.verify())
    assert [p.event_id for p in problems] == [chain[3].pk]
    assert "deleted" in problems[0].message


def test_verification_accepts_what_the_purge_removed(db, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    event_aged(400)
    event_aged(399)
    kept = event_aged(10)
    assert audit_purge() == 2
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    assert list(audit_chain.verify()) == []
