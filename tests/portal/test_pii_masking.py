"""Personal data is masked in official lists, Excel exports, log lines and audit events (reliability.md P3, L3).

Decided (portal.masking): the full mobile number shows only to the enterprise's own members (its
profile) and on the detail page of one enterprise to an official authorised to see it; every list page
of officials, every Excel export, every log line and every audit event carries the masked form.
"""

# ruff: noqa: F811 - fixtures imported from other test modules are test arguments
from __future__ import annotations

import ast
import io
import json
import logging
import re
from io import BytesIO
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

import tests.certification.conftest  # noqa: F401 - first: workflow_fixtures imports it back
from enterprises.services import enterprise_update_profile
from funding.services import bank_account_propose
from portal import masking
from portal.masking import PersonalDataFilter, mask_account_number, mask_id_number, mask_phone, mask_text
from portal.models import AuditEvent
from tests.certification.test_monitoring_pages import (  # noqa: F401
    certified,
    certifier,
    certify,
    clock,
    landscape,
    monitored,
)
from tests.certification.workflow_fixtures import province_reviewer  # noqa: F401
from tests.enterprises.conftest import acme, colleague, owner  # noqa: F401

PHONE = "13812345678"
ID_NUMBER = "11010119900307123X"
ACCOUNT = "6222021234567890123"


def url(name, **kwargs):
    return reverse(name, kwargs={"tenant_code": "gz", **kwargs})


# --- the masks (snapshots) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mask", "value", "masked"),
    [
        (mask_phone, "13812345678", "138****5678"),
        (mask_phone, "+86 138 1234 5678", "138****5678"),
        (mask_phone, "0851-85551234", "********1234"),
        (mask_phone, "", ""),
        (mask_phone, None, ""),
        (mask_id_number, "110101199001011234", "110***********1234"),
        (mask_id_number, "11010119900307123X", "110***********123X"),
        (mask_account_number, "6222021234567890123", "****0123"),
        (mask_account_number, "6222 0212 3456 7890 123", "****0123"),
        (mask_account_number, "", ""),
    ],
)
def test_each_mask(mask, value, masked):
    assert mask(value) == masked


def test_masked_text_keeps_everything_but_the_numbers():
    line = (
        f"objection YY20260929-1-ABC123 from {PHONE} (+86 13912345678), ID {ID_NUMBER}, "
        f"account {ACCOUNT} / 6222-0212-3456-7890; sha256 0123456789012345678901234567890123abcdef; "
        "uscc 91520102MA6DX0001A; 2026-09-29 10:00:00; 12345 bytes"
    )
    assert mask_text(line) == (
        "objection YY20260929-1-ABC123 from 138****5678 (+86 139****5678), ID 110***********123X, "
        "account ****0123 / ****7890; sha256 0123456789012345678901234567890123abcdef; "
        "uscc 91520102MA6DX0001A; 2026-09-29 10:00:00; 12345 bytes"
    )


# --- log lines (L3) -----------------------------------------------------------------------------------


def configured_handlers() -> list[logging.Handler]:
    """The handlers LOGGING installed (pytest's capture handlers are not among them)."""
    return [
        h for h in logging.getLogger().handlers if any(isinstance(f, PersonalDataFilter) for f in h.filters)
    ]


def test_every_configured_log_handler_masks_personal_data():
    assert set(settings.LOGGING["handlers"]) == {
        name for name, h in settings.LOGGING["handlers"].items() if "personal_data" in h.get("filters", [])
    }
    assert settings.LOGGING["filters"]["personal_data"]["()"] == "portal.masking.PersonalDataFilter"
    assert configured_handlers(), "the console handler from settings.LOGGING is installed"


def test_a_log_line_with_personal_data_is_written_masked():
    # given the configured console handler, writing into a buffer
    (handler,) = configured_handlers()
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        # when code logs a phone, an ID number and an account, as arguments and in the message
        logger = logging.getLogger("enterprises.test_pii")
        logger.warning("contact %s changed to %s; id %s", PHONE, "13987654321", ID_NUMBER)
        logger.error(f"payment to {ACCOUNT} refused")
        try:
            raise ValueError(f"bad phone {PHONE}")
        except ValueError:
            logger.exception("failed")
    finally:
        handler.setStream(previous)
    written = buffer.getvalue()
    # then no full value reaches the stream; the masked ones do
    for secret in (PHONE, "13987654321", ID_NUMBER, ACCOUNT):
        assert secret not in written
    assert "contact 138****5678 changed to 139****4321; id 110***********123X" in written
    assert "payment to ****0123 refused" in written
    assert "ValueError: bad phone 138****5678" in written


# --- audit events (L3) ----------------------------------------------------------------------------------


def all_audit_text() -> str:
    return "\n".join(
        f"{e.summary} {json.dumps(e.changes, ensure_ascii=False)}" for e in AuditEvent.objects.all()
    )


def test_a_profile_change_of_the_phone_is_audited_masked(acme, owner):
    acme.contact_phone = PHONE
    acme.save(update_fields=["contact_phone"])
    enterprise_update_profile(enterprise=acme, by=owner, data={"contact_phone": "13987654321"})
    event = AuditEvent.objects.get(action="enterprise.profile_changed")
    assert event.changes == {"contact_phone": ["138****5678", "139****4321"]}
    text = all_audit_text()
    assert PHONE not in text and "13987654321" not in text


def test_a_bank_account_is_audited_without_its_number(acme, owner):
    bank_account_propose(
        enterprise=acme,
        by=owner,
        account_name=acme.name,
        bank_name="中国工商银行贵阳南明支行",
        account_number=ACCOUNT,
    )
    assert AuditEvent.objects.filter(action="bank_account.proposed").exists()
    assert ACCOUNT not in all_audit_text()


def test_audit_record_masks_whatever_a_caller_passes(gz):
    from portal.audit import audit_record

    event = audit_record(
        action="test.pii",
        tenant=gz,
        summary=f"called {PHONE}, id {ID_NUMBER}",
        changes={"phone": [PHONE, None], "account_number": [None, ACCOUNT], "note": [f"tel {PHONE}", ""]},
    )
    event.refresh_from_db()
    assert event.summary == "called 138****5678, id 110***********123X"
    assert event.changes == {
        "phone": ["138****5678", None],
        "account_number": [None, "****0123"],
        "note": ["tel 138****5678", ""],
    }


# --- official pages and exports (P3) --------------------------------------------------------------------


def test_the_officials_enterprise_list_export_masks_the_phone(client, acme, nanming_official):
    acme.contact_phone = PHONE
    acme.save(update_fields=["contact_phone"])
    client.force_login(nanming_official)
    response = client.get(url("enterprise_list") + "?format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    phone_column = rows[0].index("手机号码") if "手机号码" in rows[0] else None
    row = next(r for r in rows[1:] if r[0] == acme.name)
    assert "138****5678" in row
    if phone_column is not None:
        assert row[phone_column] == "138****5678"
    assert not any(PHONE in str(v) for r in rows for v in r)


def test_the_monitoring_list_and_its_export_mask_the_phone(client, landscape, province_reviewer):
    missing = landscape["missing"]
    assert missing.contact_phone and len(missing.contact_phone) == 11
    client.force_login(province_reviewer)
    html = client.get(url("monitoring_home")).content.decode()
    table = html[html.index('data-testid="missing-table"') :]
    assert mask_phone(missing.contact_phone) in table
    assert missing.contact_phone not in html
    export = client.get(url("monitoring_export"))
    rows = list(load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True))
    assert [r for r in rows if r[0] == missing.name][0][-3] == mask_phone(missing.contact_phone)
    assert not any(missing.contact_phone in str(v) for r in rows for v in r)


def test_the_authorised_officials_detail_page_shows_the_full_phone(client, acme, nanming_official):
    """The decision: one enterprise's detail page is where an official who must call the contact looks."""
    acme.contact_phone = PHONE
    acme.save(update_fields=["contact_phone"])
    client.force_login(nanming_official)
    response = client.get(url("enterprise_detail", pk=acme.pk))
    assert response.status_code == 200
    assert PHONE in response.content.decode()


def test_an_official_of_another_county_gets_404_for_the_detail_page(client, acme, yunyan_official):
    client.force_login(yunyan_official)
    assert client.get(url("enterprise_detail", pk=acme.pk)).status_code == 404


# --- the gate: every Excel column of personal data goes through a mask ------------------------------------

ROOT = Path(settings.BASE_DIR)
PERSONAL = re.compile(r"\.(?:\w*phone|account_number|id_number)\b")
# Files that write a full value on purpose, and why.
FULL_VALUE_ALLOWED = {
    # The payment file of an approved four-eyes batch is what the bank pays from: it needs the full
    # account number (funding/account_numbers.py); it is downloaded only by funding officers, audited.
    "funding/services/disbursement.py",
}


def export_columns() -> list[tuple[str, int, str]]:
    """(file, line, source) of every `lambda` inside an xlsx_response(...) call's columns."""
    found = []
    for top in ("portal", "enterprises", "certification", "funding", "reports"):
        for path in (ROOT / top).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            if "xlsx_response(" not in source:
                continue
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "xlsx_response":
                    for keyword in node.keywords:
                        if keyword.arg == "columns":
                            for item in ast.walk(keyword.value):
                                if isinstance(item, ast.Lambda):
                                    found.append(
                                        (
                                            path.relative_to(ROOT).as_posix(),
                                            item.lineno,
                                            ast.get_source_segment(source, item) or "",
                                        )
                                    )
    return found


def test_every_exported_personal_column_is_masked():
    columns = export_columns()
    assert len(columns) > 50, "the gate sees the exports"
    unmasked = [
        f"{path}:{line}: {src}"
        for path, line, src in columns
        if PERSONAL.search(src) and "mask_" not in src and path not in FULL_VALUE_ALLOWED
    ]
    assert unmasked == []


def test_the_gate_sees_an_unmasked_phone_column():
    source = 'xlsx_response(filename="x", title="x", columns=[("P", lambda e: e.contact_phone)], rows=[])'
    tree = ast.parse(source)
    lambdas = [ast.get_source_segment(source, n) for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
    assert lambdas and PERSONAL.search(lambdas[0]) and "mask_" not in lambdas[0]


def test_personal_fields_registry_names_each_models_personal_field():
    """Every model field named like personal data has its mask in portal.masking.PERSONAL_FIELDS."""
    from django.apps import apps

    names = {
        f.name
        for model in apps.get_models()
        for f in model._meta.get_fields()
        if re.search(r"phone|mobile|id_number|id_card|account_number", f.name)
    }
    assert names, "the portal has personal fields"
    assert names <= set(masking.PERSONAL_FIELDS), names - set(masking.PERSONAL_FIELDS)
