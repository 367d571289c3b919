"""The database itself refuses to change or delete a ledger entry (issue 8: corrections are reversing
entries, never edits).

The ORM guard in LedgerEntryQuerySet and LedgerEntry.save/delete stops our own code; this trigger also
stops raw SQL and Django's collector. PostgreSQL only, as for the audit log (portal 0002): SQLite is the
embedded development mode, and a trigger there would block the test runner's flush. TRUNCATE is left to
the database owner; the application's role should not hold TRUNCATE on this table in production.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION funding_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only (% refused): post a reversing entry', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS funding_ledgerentry_append_only ON funding_ledgerentry;
CREATE TRIGGER funding_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON funding_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funding_ledger_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS funding_ledgerentry_append_only ON funding_ledgerentry;
DROP FUNCTION IF EXISTS funding_ledger_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
