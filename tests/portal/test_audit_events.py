"""The audit rows the middleware writes: refusals, exports and downloads (reliability.md L1, L2, P6).

Each test asserts exactly one row per event (L1) and the record's fields (L2): time, actor, roles, tenant,
IP, action, object, outcome, request id.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.urls import include, path

from enterprises.documents import document_upload
from enterprises.models import Document
from portal.audit_middleware import delivered_filename
from portal.models import AuditEvent
from tests.enterprises.conftest import make_enterprise
from tests.factories import UserFactory

PDF_BYTES = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def assert_record_fields(event: AuditEvent, *, user, tenant, response) -> None:
    """reliability.md L2: the fields every audit row must carry."""
    assert event.occurred_at is not None and event.occurred_at.utcoffset().total_seconds() == 0
    assert event.actor_id == user.pk and event.actor_label == user.username
    assert event.tenant_id == (tenant.pk if tenant is not None else None)
    assert event.ip_address == "127.0.0.1"
    assert event.action and event.outcome
    assert re.fullmatch(r"[0-9a-f]{32}", event.request_id)
    assert event.request_id == response["X-Request-ID"]
    assert event.row_hash  # chained (L5)


def rows_of(response):
    return list(AuditEvent.objects.filter(request_id=response["X-Request-ID"]))


# --- request id -------------------------------------------------------------------------------------


def test_every_response_carries_a_request_id_that_differs_per_request(client, db):
    first, second = client.get("/healthz/"), client.get("/healthz/")
    assert re.fullmatch(r"[0-9a-f]{32}", first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_client_cannot_choose_its_request_id(client, db):
    response = client.get("/healthz/", HTTP_X_REQUEST_ID="forged-id")
    assert response["X-Request-ID"] != "forged-id"


def test_log_lines_carry_the_request_id(client, gz, gz_admin, settings):
    from portal.audit_middleware import RequestIdFilter

    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append((record.getMessage(), record.request_id))

    handler = Keep()
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("tests.audit")
    logger.addHandler(handler)
    settings.ROOT_URLCONF = __name__
    client.force_login(gz_admin)
    try:
        logger.warning("outside a request")
        response = client.get("/gz/test-log/")
    finally:
        logger.removeHandler(handler)
    assert seen == [("outside a request", "-"), ("inside a request", response["X-Request-ID"])]


def test_a_row_written_without_the_request_still_gets_its_id_and_ip(client, gz, gz_admin, settings):
    settings.ROOT_URLCONF = __name__
    client.force_login(gz_admin)
    response = client.get("/gz/test-log/")
    [event] = rows_of(response)
    assert event.action == "test.service_called"
    assert event.request_id == response["X-Request-ID"] and event.ip_address == "127.0.0.1"


# --- permission denied ----------------------------------------------------------------------------


def test_a_refused_page_writes_one_denied_row(client, gz, nanming_official):
    client.force_login(nanming_official)
    response = client.get("/gz/audit/")
    assert response.status_code == 403
    [event] = AuditEvent.objects.filter(action="auth.denied")
    assert_record_fields(event, user=nanming_official, tenant=gz, response=response)
    assert event.outcome == "denied"
    assert event.actor_roles == "county_reviewer@520102"
    assert event.changes == {"method": "GET", "path": "/gz/audit/", "status": 403}
    assert event.summary  # the reason handler403 was given


def test_a_refused_api_call_writes_one_denied_row(client, gz, nanming_official):
    client.force_login(nanming_official)
    response = client.get("/api/v1/gz/audit-events/")
    assert response.status_code == 403
    [event] = AuditEvent.objects.filter(action="auth.denied")
    assert_record_fields(event, user=nanming_official, tenant=gz, response=response)
    assert event.changes["path"] == "/api/v1/gz/audit-events/"


def test_a_refusal_in_a_loop_writes_one_row_a_minute(client, gz, nanming_official):
    client.force_login(nanming_official)
    for _ in range(5):
        assert client.get("/gz/audit/").status_code == 403
    assert AuditEvent.objects.filter(action="auth.denied").count() == 1
    # Another path is another event.
    assert client.get("/api/v1/gz/audit-events/").status_code == 403
    assert AuditEvent.objects.filter(action="auth.denied").count() == 2


def test_the_flood_guard_lets_the_next_minute_through(client, gz, nanming_official):
    from django.core.cache import cache

    client.force_login(nanming_official)
    client.get("/gz/audit/")
    cache.clear()  # what a minute does to the guard's key
    client.get("/gz/audit/")
    assert AuditEvent.objects.filter(action="auth.denied").count() == 2


def test_refusals_are_still_written_while_the_cache_is_away(client, gz, nanming_official, settings):
    # A Redis that refuses connections (nothing listens on port 1): the flood guard cannot count, so
    # every refusal is written rather than none.
    settings.CACHES = {
        "default": {"BACKEND": "portal.cache.ResilientRedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
    }
    client.force_login(nanming_official)
    for _ in range(2):
        assert client.get("/gz/audit/").status_code == 403
    assert AuditEvent.objects.filter(action="auth.denied").count() == 2


def test_an_anonymous_visitor_sent_to_login_is_not_a_refusal(client, gz):
    response = client.get("/gz/audit/")
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action="auth.denied").exists()


def test_a_permitted_page_writes_no_denied_row(client, gz, gz_admin):
    client.force_login(gz_admin)
    assert client.get("/gz/audit/").status_code == 200
    assert not AuditEvent.objects.filter(action="auth.denied").exists()


# --- exports --------------------------------------------------------------------------------------


def test_an_excel_export_writes_one_export_row(client, gz, nanming_official):
    client.force_login(nanming_official)
    response = client.get("/gz/directory/export.xlsx")
    assert response.status_code == 200
    [event] = rows_of(response)
    assert event.action == "export"
    assert_record_fields(event, user=nanming_official, tenant=gz, response=response)
    assert event.changes["filename"].startswith("directory-gz-") and event.changes["rows"] == 0
    assert event.changes["route"] == "directory_export"
    assert event.summary == event.changes["filename"]


def test_an_export_the_view_audits_itself_is_one_row_not_two(client, gz, gz_admin):
    client.force_login(gz_admin)
    response = client.get("/gz/audit/", {"format": "xlsx"})
    assert response.status_code == 200
    [event] = rows_of(response)
    assert event.action == "audit.exported"
    assert_record_fields(event, user=gz_admin, tenant=gz, response=response)
    assert event.actor_roles == "tenant_admin@520000"


def test_an_anonymous_export_of_a_public_list_is_not_audited(client, gz):
    response = client.get("/gz/directory/export.xlsx")
    assert response.status_code == 200
    assert rows_of(response) == []


# --- downloads ------------------------------------------------------------------------------------


@pytest.fixture
def document(gz, django_capture_on_commit_callbacks):
    owner = UserFactory(username="owner")
    enterprise = make_enterprise(gz, "520102", 1, name="贵州黔芯精密机械有限公司", admin=owner)
    with django_capture_on_commit_callbacks(execute=True):
        document = document_upload(
            enterprise=enterprise,
            by=owner,
            doc_type="business_licence",
            uploaded_file=SimpleUploadedFile("营业执照.pdf", PDF_BYTES, content_type="application/pdf"),
        )
    document.refresh_from_db()
    assert document.scan_status == Document.Scan.CLEAN
    return document


def test_a_document_download_writes_one_row(client, gz, document):
    owner = document.uploaded_by
    client.force_login(owner)
    response = client.get(f"/gz/documents/{document.pk}/download/")
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [event] = rows_of(response)  # the view's own row; the middleware adds none
    assert event.action == "enterprise.document_downloaded"
    assert_record_fields(event, user=owner, tenant=gz, response=response)
    assert (event.object_type, event.object_id) == ("enterprises.document", str(document.pk))
    assert event.actor_roles == f"enterprise_admin#{document.enterprise_id}"


def pdf_view(request, tenant_code, pk):
    response = HttpResponse(PDF_BYTES, content_type="application/pdf")
    response["Content-Disposition"] = (
        f"inline; filename=\"n-{pk}.pdf\"; filename*=UTF-8''%E5%85%AC%E7%A4%BA-{pk}.pdf"
    )
    return response


def log_view(request, tenant_code):
    from portal.audit import audit_record

    logging.getLogger("tests.audit").warning("inside a request")
    # As a service does: no request passed.
    audit_record(action="test.service_called", actor=request.user, tenant=request.tenant)
    return HttpResponse("ok")


urlpatterns = [
    path("<slug:tenant_code>/test-log/", log_view),
    path("<slug:tenant_code>/test-pdf/<int:pk>/", pdf_view, name="test_pdf"),
    path("", include("portal.urls")),
]


def test_a_file_no_view_audits_writes_one_download_row(client, gz, gz_admin, settings):
    # A route of this module: a PDF handed out by a view that writes no audit row of its own (as the
    # notice PDF does), so the middleware's row is the only one.
    settings.ROOT_URLCONF = __name__
    client.force_login(gz_admin)
    response = client.get("/gz/test-pdf/7/")
    assert response.status_code == 200
    [event] = rows_of(response)
    assert event.action == "download"
    assert_record_fields(event, user=gz_admin, tenant=gz, response=response)
    assert (event.object_type, event.object_id) == ("test_pdf", "7")
    assert event.changes["filename"] == "公示-7.pdf"
    assert event.changes["content_type"] == "application/pdf"


def test_a_head_request_hands_out_no_file_and_writes_no_row(client, gz, gz_admin, settings):
    settings.ROOT_URLCONF = __name__
    client.force_login(gz_admin)
    response = client.head("/gz/test-pdf/7/")
    assert rows_of(response) == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('attachment; filename="a.xlsx"', "a.xlsx"),
        ("attachment; filename=\"x.pdf\"; filename*=UTF-8''%E8%AF%81%E4%B9%A6.pdf", "证书.pdf"),
        ("attachment", ""),
        ("inline", None),
        ("", None),
    ],
)
def test_the_delivered_filename_is_read_from_the_header(header, expected):
    response = HttpResponse()
    if header:
        response["Content-Disposition"] = header
    assert delivered_filename(response) == expected


def test_rows_written_by_requests_verify_on_this_database(client, gz, document, nanming_official):
    # IP addresses, Chinese text and JSON go through the database's own types and come back the same:
    # the chain's hashes still match (reliability.md L5).
    from portal.audit_chain import verify

    client.force_login(document.uploaded_by)
    b"".join(client.get(f"/gz/documents/{document.pk}/download/").streaming_content)
    client.force_login(nanming_official)
    client.get("/gz/audit/")
    client.get("/gz/directory/export.xlsx")
    assert AuditEvent.objects.filter(ip_address__isnull=False).count() >= 3
    assert list(verify()) == []
