import pytest
from django.db import DatabaseError, connection, transaction
from openpyxl import load_workbook

from portal.audit import audit_record
from portal.models import AuditEvent, AuditLogIsAppendOnly
from tests.conftest import require_postgres


@pytest.fixture
def event(gz):
    return audit_record(action="test.happened", tenant=gz, summary="original")


def test_the_orm_refuses_to_change_an_event(event):
    event.summary = "rewritten"
    with pytest.raises(AuditLogIsAppendOnly):
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).summary == "original"


def test_the_orm_refuses_to_delete_an_event(event):
    with pytest.raises(AuditLogIsAppendOnly):
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_orm_refuses_bulk_updates_and_deletes(event):
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    with pytest.raises(AuditLogIsAppendOnly):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.get(pk=event.pk).summary == "original"


def test_the_database_refuses_raw_updates_and_deletes(event):
    require_postgres()
    for sql in ("UPDATE portal_auditevent SET summary = 'x'", "DELETE FROM portal_auditevent"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cur,
        ):
            cur.execute(sql)
    assert AuditEvent.objects.get(pk=event.pk).summary == "original"


def test_control_characters_cannot_forge_log_lines(gz):
    e = audit_record(action="auth.login_failed", tenant=gz, actor_label="a\r\nFAKE LOGIN OK", summary="x\ny")
    assert "\n" not in e.actor_label and "\\x0d\\x0a" in e.actor_label
    assert e.summary == "x\\x0ay"


def test_tenant_admin_filters_the_audit_log(client, gz, gz_admin, xz):
    audit_record(action="region.viewed", tenant=gz, actor_label="alice")
    audit_record(action="auth.login", tenant=gz, actor_label="bob")
    audit_record(action="region.viewed", tenant=xz, actor_label="xz-person")
    client.force_login(gz_admin)
    page = client.get("/gz/audit/", {"action": "region."})
    assert page.status_code == 200
    labels = [e.actor_label for e in page.context["page"]]
    assert labels == ["alice"]  # not bob (other action), not xz-person (other tenant)


def test_audit_log_exports_to_excel(client, gz, gz_admin):
    audit_record(action="region.viewed", tenant=gz, actor_label="alice", summary='=HYPERLINK("x")')
    client.force_login(gz_admin)
    response = client.get("/gz/audit/", {"action": "region.", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    from io import BytesIO

    ws = load_workbook(BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][1] == "alice"
    assert rows[1][5] == '\'=HYPERLINK("x")'  # no formula runs in the reader's Excel
    assert AuditEvent.objects.filter(action="audit.exported", tenant=gz).count() == 1


def test_only_tenant_admins_read_the_audit_log(client, nanming_official, xz_admin):
    client.force_login(nanming_official)
    assert client.get("/gz/audit/").status_code == 403
    assert client.get("/api/v1/gz/audit-events/").status_code == 403
    client.force_login(xz_admin)
    assert client.get("/gz/audit/").status_code == 403


def test_audit_api_is_scoped_to_the_tenant(client, gz, gz_admin, xz):
    mine = audit_record(action="x.y", tenant=gz)
    theirs = audit_record(action="x.y", tenant=xz)
    client.force_login(gz_admin)
    ids = [e["id"] for e in client.get("/api/v1/gz/audit-events/").json()["results"]]
    assert mine.pk in ids and theirs.pk not in ids
    assert client.get(f"/api/v1/gz/audit-events/{theirs.pk}/").status_code == 404


def test_audit_admin_is_read_only(admin_client, event):
    assert admin_client.get(f"/admin/portal/auditevent/{event.pk}/change/").status_code == 200
    response = admin_client.post(f"/admin/portal/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()
