"""Audit events get the actor's roles, the request id and the hash chain (reliability.md L2, L5); the
append-only trigger lets the retention purge, and nothing else, delete old rows (L6).

The trigger still refuses every UPDATE, and every DELETE unless the transaction-local setting
srdi.audit_purge is 'on' (only portal.audit.audit_purge sets it, and turns it off again) and the row is
older than 180 days: even a purge run with a wrong retention or a wrong clock cannot remove recent
history. PostgreSQL only, as in 0002.
"""

from django.db import migrations, models

CREATE = """
CREATE OR REPLACE FUNCTION portal_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE'
        AND current_setting('srdi.audit_purge', true) = 'on'
        AND OLD.occurred_at < now() - interval '180 days' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""

# 0002's function: refuses everything.
PREVIOUS = """
CREATE OR REPLACE FUNCTION portal_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PREVIOUS, params=None)


class Migration(migrations.Migration):
    dependencies = [("portal", "0002_audit_append_only_trigger")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="actor_roles",
            field=models.CharField(blank=True, max_length=255, verbose_name="roles"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, db_index=True, max_length=32, verbose_name="request id"),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_id",
            field=models.BigIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="auditevent",
            name="row_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.RunPython(forwards, backwards),
    ]
