"""The monitoring demo (certification.demo_monitoring) on 贵州's demo data, seeded once for the module."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from certification import monitoring
from certification.models import AnnualUpdate, Certification, ChangeReport, MonitoringWarning
from portal.models import Tenant
from tests.demo_snapshot import demo_portal


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    from enterprises.industries import industries_load
    from enterprises.models import Industry

    with django_db_blocker.unblock(), transaction.atomic():
        if not Industry.objects.exists():
            industries_load(Industry)
        with override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("media")):
            demo_portal(tenants=["gz"])  # seeded once per run, restored after (tests/demo_snapshot.py)
        yield
        transaction.set_rollback(True)


@pytest.fixture
def demo(seeded, db):
    return Tenant.objects.get(code="gz")


def _state() -> dict:
    return {
        "updates": sorted(AnnualUpdate.objects.values_list("enterprise_id", "year")),
        "warnings": sorted(MonitoringWarning.objects.values_list("enterprise_id", "rule", "resolved_at")),
        "reports": sorted(ChangeReport.objects.values_list("enterprise_id", "kind", "state")),
    }


def test_most_certified_enterprises_confirmed_and_one_is_missing(demo):
    year = timezone.localdate().year
    status = monitoring.annual_update_status(demo, demo.root_region, year)
    certified = Certification.objects.filter(tenant=demo, status=Certification.Status.ACTIVE).count()
    assert certified >= 3
    assert (status.certified, status.submitted, status.not_submitted) == (certified, certified - 1, 1)
    assert status.missing.count() == 1


def test_one_enterprise_fails_guizhous_debt_ratio_condition(demo):
    [warning] = MonitoringWarning.objects.filter(tenant=demo, resolved_at=None)
    assert warning.rule == "gz_debt_ratio"
    assert warning.values == {"debt_ratio_y1": "0.7460"}
    assert AnnualUpdate.objects.filter(enterprise=warning.enterprise).exists()


def test_a_rename_waits_for_review_and_a_restructuring_was_accepted(demo):
    reports = {r.kind: r for r in ChangeReport.objects.filter(tenant=demo)}
    assert reports["rename"].state == ChangeReport.State.SUBMITTED
    assert reports["rename"].new_name.endswith("股份有限公司")
    assert reports["restructuring"].state == ChangeReport.State.ACCEPTED
    assert reports["restructuring"].reviewed_by is not None
    assert not any(r.late for r in reports.values())


def test_a_second_run_adds_nothing(demo, tmp_path):
    before = _state()
    with override_settings(DEBUG=True, MEDIA_ROOT=tmp_path):
        call_command("seed_demo", quiet_accounts=True, tenants=["gz"])
    assert _state() == before
