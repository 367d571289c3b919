"""The development report (发展报告): generated in the background with progress, a PDF with Chinese text."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from reports import report_pdf
from reports.models import ReportJob
from tests.conftest import region
from tests.portal.test_pdf import pdf_text

pytestmark = pytest.mark.django_db

User = get_user_model()


def url(tenant, name, **kw):
    return reverse(name, kwargs={"tenant_code": tenant.code, **kw})


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_an_official_generates_the_report_and_downloads_it(
    client, world, guiyang_official, media, django_capture_on_commit_callbacks
):
    client.force_login(User.objects.get(username="guiyang"))
    year = timezone.localdate().year
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(world.tenant, "reports_jobs"), {"region": "520100", "year": str(year)})
    assert response.status_code == 302
    job = ReportJob.objects.get()
    assert (job.status, job.progress, job.region.code, job.requested_by) == (
        "done",
        100,
        "520100",
        guiyang_official,
    )
    assert response["Location"] == url(world.tenant, "reports_job", pk=job.pk)
    progress = client.get(url(world.tenant, "reports_job_progress", pk=job.pk)).json()
    assert progress["complete"] is True and progress["progress"] == 100
    page = client.get(url(world.tenant, "reports_job", pk=job.pk)).content.decode()
    assert 'data-testid="report-download"' in page and "js/reports.js" in page and "<script>" not in page
    download = client.get(url(world.tenant, "reports_job_download", pk=job.pk))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == job.sha256
    text = pdf_text(data)
    # Chinese text embedded: the region, its counties and the programmes, as the database spells them
    assert "贵阳市" in text and "南明区" in text and "云岩区" in text
    assert "测试专精特新" in text
    assert AuditEvent.objects.filter(action="report.requested", actor=guiyang_official).count() == 1
    assert AuditEvent.objects.filter(action="report.generated").count() == 1
    assert AuditEvent.objects.filter(action="report.downloaded").count() == 1


def test_a_job_already_done_is_not_generated_twice(
    world, guiyang_official, media, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = report_pdf.report_job_request(
            region=region(world.tenant, "520100"), year=2026, by=guiyang_official
        )
    job.refresh_from_db()
    digest = job.sha256
    assert report_pdf.report_job_run(job_id=job.pk) is True
    job.refresh_from_db()
    assert job.sha256 == digest
    assert AuditEvent.objects.filter(action="report.generated").count() == 1


def test_a_failed_rendering_is_recorded_and_shown(
    client, world, guiyang_official, media, monkeypatch, django_capture_on_commit_callbacks
):
    def broken(*args, **kwargs):
        raise RuntimeError("no fonts today")

    monkeypatch.setattr(report_pdf, "render_pdf", broken)
    with django_capture_on_commit_callbacks(execute=True):
        job = report_pdf.report_job_request(
            region=region(world.tenant, "520100"), year=2026, by=guiyang_official
        )
    job.refresh_from_db()
    assert job.status == "failed" and "no fonts today" in job.error and not job.file
    client.force_login(User.objects.get(username="guiyang"))
    page = client.get(url(world.tenant, "reports_job", pk=job.pk)).content.decode()
    assert 'data-testid="report-error"' in page and "no fonts today" in page
    assert client.get(url(world.tenant, "reports_job_download", pk=job.pk)).status_code == 404


def test_a_queued_job_shows_its_progress(client, world, guiyang_official):
    job = ReportJob.objects.create(tenant=world.tenant, region=region(world.tenant, "520100"), year=2026)
    client.force_login(User.objects.get(username="guiyang"))
    progress = client.get(url(world.tenant, "reports_job_progress", pk=job.pk)).json()
    assert progress == {
        "status": "queued",
        "progress": 0,
        "step": progress["step"],
        "complete": False,
        "failed": False,
    }
    assert progress["step"]


def test_reports_of_other_regions_and_tenants_are_404(
    client, world, guiyang_official, nanming_official, xz_admin
):
    job = ReportJob.objects.create(tenant=world.tenant, region=region(world.tenant, "520100"), year=2026)
    zunyi = ReportJob.objects.create(tenant=world.tenant, region=region(world.tenant, "520300"), year=2026)
    client.force_login(User.objects.get(username="guiyang"))
    assert client.get(url(world.tenant, "reports_job", pk=zunyi.pk)).status_code == 404
    assert client.get(url(world.tenant, "reports_job_progress", pk=zunyi.pk)).status_code == 404
    # a region outside the scope cannot be asked for either
    response = client.post(url(world.tenant, "reports_jobs"), {"region": "520300", "year": "2026"})
    assert response.status_code == 400
    assert ReportJob.objects.count() == 2
    client.logout()
    client.force_login(User.objects.get(username="nanming"))
    assert client.get(url(world.tenant, "reports_job", pk=job.pk)).status_code == 404  # above the county
    client.logout()
    client.force_login(User.objects.get(username="xzadmin"))
    assert client.get(url(world.tenant, "reports_job", pk=job.pk)).status_code == 404
