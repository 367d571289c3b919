"""Certificates (证书), the published list's PDF and the notice's PDF (certification.certificates)."""

import hashlib
import subprocess
from datetime import date, timedelta

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from certification import certificates, publication
from certification.models import Certification, PublishedList, PublishedListIsImmutable
from enterprises.models import Enterprise
from portal.models import AuditEvent
from tests.certification.workflow_fixtures import chain_fixture, drive  # noqa: F401
from tests.portal.test_pdf import pdf_text

START = date(2026, 9, 28)  # 5 working days across Golden Week: the period ends on 2026-10-09
DURING = timezone.make_aware(timezone.datetime(2026, 9, 29, 10, 0))
AFTER = timezone.make_aware(timezone.datetime(2026, 10, 20, 10, 0))
NASTY = '<img src="file:///etc/passwd">有限公司'


def _notice(app, by):
    return publication.notice_create(
        round_=app.round,
        application_ids=[app.pk],
        title="2026年第一批拟认定专精特新中小企业名单公示",
        body="现予公示。",
        how_to_object="实名书面反映。",
        starts_on=START,
        working_days=5,
        by=by,
    )


def _publish(notice, by, capture, *, execute=True):
    with capture(execute=execute):
        return publication.notice_publish(notice=notice, by=by, at=AFTER)


@pytest.fixture
def approved(ready, chain):
    return drive(ready, "approved", chain)


@pytest.fixture
def published(approved, province_approver, django_capture_on_commit_callbacks):
    return _publish(
        _notice(approved, province_approver), province_approver, django_capture_on_commit_callbacks
    )


def _stored(field) -> bytes:
    with field.open("rb") as f:
        return f.read()


def test_certificate_is_rendered_on_publication(published, acme):
    cert = Certification.objects.get()
    assert cert.certificate.name.startswith("certificates/") and cert.certificate.name.endswith(".pdf")
    assert cert.number in cert.certificate.name
    data = _stored(cert.certificate)
    assert data.startswith(b"%PDF")
    assert cert.certificate_sha256 == hashlib.sha256(data).hexdigest()
    assert cert.certificate_error == ""
    text = pdf_text(data)
    assert acme.name in text
    assert acme.uscc in text
    assert cert.number in text
    assert "2026年10月20日" in text  # issued on the day of publication
    assert "2029年10月20日" in text  # valid three years
    assert AuditEvent.objects.filter(action="certificate.generated", object_id=str(cert.pk)).count() == 1
    assert certificates.certificate_progress(published) == {
        "total": 1,
        "done": 1,
        "failed": 0,
        "failures": [],
    }


def test_qr_code_points_to_the_absolute_verification_url(published, settings):
    cert = Certification.objects.select_related("tenant", "program", "enterprise").get()
    url = f"http://127.0.0.1:8000/gz/verify/{cert.number}/"
    assert certificates.verification_url(cert) == url
    html = render_to_string(certificates.CERTIFICATE_TEMPLATE, certificates.certificate_context(cert))
    # segno is deterministic: the QR markup in the page is exactly the code of that URL.
    assert str(certificates.qr_svg(url)) in html
    assert "<svg" in html
    settings.PORTAL_BASE_URL = "https://srdi.example.gov.cn/"
    assert certificates.verification_url(cert) == f"https://srdi.example.gov.cn/gz/verify/{cert.number}/"


def test_enterprise_name_prints_as_text(approved, province_approver, django_capture_on_commit_callbacks):
    Enterprise.objects.filter(pk=approved.enterprise_id).update(name=NASTY)
    notice = _notice(approved, province_approver)
    published = _publish(notice, province_approver, django_capture_on_commit_callbacks)
    cert = Certification.objects.get()
    assert cert.certificate, cert.certificate_error
    text = pdf_text(_stored(cert.certificate))
    assert 'img src="file:///etc/passwd">有限公司' in text.replace("\n", "")
    published.refresh_from_db()
    assert "file:///etc/passwd" in pdf_text(_stored(published.pdf))


def test_generate_twice_does_not_render_again(published, monkeypatch):
    cert = Certification.objects.get()
    before = (cert.certificate.name, cert.certificate_sha256)

    def boom(*args, **kwargs):
        raise AssertionError("rendered again")

    monkeypatch.setattr(certificates, "render_pdf", boom)
    assert certificates.certificate_generate(certification_id=cert.pk) is True
    cert.refresh_from_db()
    assert (cert.certificate.name, cert.certificate_sha256) == before
    assert AuditEvent.objects.filter(action="certificate.generated").count() == 1


def test_failed_render_is_recorded_and_shown_in_progress(
    approved, province_approver, django_capture_on_commit_callbacks, monkeypatch
):
    real = certificates.render_pdf

    def broken(template_name, context, **kwargs):
        if template_name == certificates.CERTIFICATE_TEMPLATE:
            raise RuntimeError("pango exploded")
        return real(template_name, context, **kwargs)

    monkeypatch.setattr(certificates, "render_pdf", broken)
    notice = _notice(approved, province_approver)
    published = _publish(notice, province_approver, django_capture_on_commit_callbacks)
    cert = Certification.objects.get()
    assert not cert.certificate and cert.certificate_sha256 == ""
    assert "pango exploded" in cert.certificate_error
    progress = certificates.certificate_progress(published)
    assert progress["total"] == 1 and progress["done"] == 0 and progress["failed"] == 1
    assert progress["failures"] == [(cert.number, cert.certificate_error)]
    # A retry once the cause is gone succeeds and clears the error.
    monkeypatch.undo()
    assert certificates.certificate_generate(certification_id=cert.pk) is True
    cert.refresh_from_db()
    assert cert.certificate and cert.certificate_error == ""
    assert certificates.certificate_progress(published)["failed"] == 0


def test_progress_takes_at_most_two_queries(published, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        certificates.certificate_progress(published)


def test_published_list_pdf_and_hash(published, acme):
    published.refresh_from_db()
    assert published.pdf.name.startswith("published/")
    data = _stored(published.pdf)
    assert published.pdf_sha256 == hashlib.sha256(data).hexdigest()
    text = pdf_text(data)
    assert acme.name in text and published.rows[0]["number"] in text
    # Idempotent: a second run keeps the file and the hash.
    assert certificates.published_list_render(published_id=published.pk) is True
    again = PublishedList.objects.get(pk=published.pk)
    assert (again.pdf.name, again.pdf_sha256) == (published.pdf.name, published.pdf_sha256)


def test_published_list_is_immutable_after_the_pdf(published):
    published.refresh_from_db()
    assert published.pdf_sha256
    published.rows = [*published.rows, {"number": "GZ-ZJTX-2026-9999", "enterprise": "假企业"}]
    with pytest.raises(PublishedListIsImmutable):
        published.save()
    stored = PublishedList.objects.get(pk=published.pk)
    assert len(stored.rows) == 1
    stored.pdf_sha256 = "0" * 64
    with pytest.raises(PublishedListIsImmutable):
        stored.save()


def test_correction_pdf_says_which_version_it_corrects(
    published, province_approver, django_capture_on_commit_callbacks
):
    published.refresh_from_db()
    rows = [{**published.rows[0], "county": "云岩区"}]
    with django_capture_on_commit_callbacks(execute=True):
        correction = publication.published_list_correct(
            published=published, rows=rows, note="更正所属区县。", by=province_approver
        )
    correction.refresh_from_db()
    assert correction.pdf_sha256 and correction.pdf_sha256 != published.pdf_sha256
    html = render_to_string(certificates.PUBLISHED_TEMPLATE, certificates.published_context(correction))
    assert "更正所属区县。" in html
    assert certificates.published_context(correction)["corrects"] == 1


def test_notice_pdf_response(approved, province_approver, acme):
    notice = _notice(approved, province_approver)
    response = certificates.notice_pdf_response(RequestFactory().get("/"), notice)
    assert response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline;")
    assert f"filename*=UTF-8''%E5%85%AC%E7%A4%BA-{notice.pk}.pdf" in disposition
    text = pdf_text(response.content)
    assert acme.name in text and "实名书面反映。" in text
    assert "2026年9月28日" in text and "2026年10月9日" in text
    # A removed entry is not printed.
    notice.entries.update(removed_at=timezone.now(), removed_reason="异议成立")
    text = pdf_text(certificates.notice_pdf_response(RequestFactory().get("/"), notice).content)
    assert acme.name not in text


def test_publication_without_eager_tasks_leaves_certificates_pending(
    approved, province_approver, django_capture_on_commit_callbacks
):
    published = _publish(
        _notice(approved, province_approver),
        province_approver,
        django_capture_on_commit_callbacks,
        execute=False,
    )
    assert certificates.certificate_progress(published) == {
        "total": 1,
        "done": 0,
        "failed": 0,
        "failures": [],
    }
    cert = Certification.objects.get()
    assert certificates.certificate_generate(certification_id=cert.pk) is True
    assert certificates.certificate_progress(published)["done"] == 1
    assert timedelta(0) <= timezone.now() - AuditEvent.objects.get(action="certificate.generated").occurred_at


# --- the QR code, read back the way a phone reads it: the page rendered to an image (pdftoppm) and the
# code decoded (zbarimg), then followed to the public verification page -------------------------------


def decode_qr(pdf: bytes, tmp_path) -> list[str]:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True
    )
    result = subprocess.run(
        ["zbarimg", "--quiet", "--raw", str(tmp_path / "page.png")],
        capture_output=True,
        text=True,
        check=False,
    )
    return [line for line in result.stdout.splitlines() if line]


def test_the_qr_code_decodes_to_the_verification_url_which_verifies_the_certificate(
    published, tmp_path, client
):
    certification = Certification.objects.get()
    codes = decode_qr(_stored(certification.certificate), tmp_path)
    assert codes == [certificates.verification_url(certification)]
    # followed by an anonymous visitor, it shows the certificate as valid with the enterprise's name
    path = "/" + codes[0].split("://", 1)[1].split("/", 1)[1]
    response = client.get(path)
    assert response.status_code == 200
    page = response.content.decode()
    assert certification.number in page and certification.enterprise.name in page
    assert 'class="tag cert-valid" data-testid="verify-state"' in page
