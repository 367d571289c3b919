"""The pages of the public notice, objections, publication, verification and certificates
(views_publication).

The notice runs 5 working days from Monday 2026-09-28 across Golden Week, so it ends on 2026-10-09;
the tests freeze the clock inside the period to object and after it to publish.
"""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time
from openpyxl import load_workbook

from certification import publication, views_publication
from certification.forms_publication import challenge_answer
from certification.models import Certification, Notice, Objection, PublishedList
from portal.models import AuditEvent
from tests.certification.workflow_fixtures import chain_fixture, drive  # noqa: F401
from tests.enterprises.conftest import xz_enterprise, yunyan_enterprise  # noqa: F401

DURING = "2026-09-29 02:00:00"  # 10:00 in Beijing, inside the period
AFTER = "2026-10-20 02:00:00"
START = date(2026, 9, 28)
PHONE = "13812345678"


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(name, tenant="gz", **kwargs):
    return reverse(name, kwargs={"tenant_code": tenant, **kwargs})


def aware(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def approved(ready, chain):
    return drive(ready, "approved", chain)


@pytest.fixture
def notice(approved, province_approver):
    return publication.notice_create(
        round_=approved.round,
        application_ids=[approved.pk],
        title="2026年第一批拟认定专精特新中小企业名单公示",
        body="现予公示。",
        how_to_object="实名书面反映。",
        starts_on=START,
        working_days=5,
        by=province_approver,
    )


@pytest.fixture
def published(notice, province_approver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return publication.notice_publish(notice=notice, by=province_approver, at=aware(AFTER))


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def objection_data(notice, html: str, **overrides) -> dict:
    data = {
        "filer_name": "王五",
        "filer_organisation": "",
        "filer_phone": PHONE,
        "filer_email": "",
        "entry": str(notice.entries.get().pk),
        "grounds": "该企业近三年研发投入数据与实际不符。",
        "website": "",
        "rendered": hidden(html, "rendered"),
        "challenge": hidden(html, "challenge"),
        "answer": str(challenge_answer(hidden(html, "challenge"), notice.pk)),
    }
    data.update(overrides)
    return data


def file_objection(client, notice, *, wait=10, **overrides):
    """Open the notice page inside the period, wait `wait` seconds like a person, and send the form."""
    with freeze_time(DURING) as frozen:
        page = client.get(url("notice_public", pk=notice.pk))
        assert page.status_code == 200
        frozen.tick(wait)
        data = objection_data(notice, page.content.decode(), **overrides)
        return client.post(url("objection_new", pk=notice.pk), data)


# --- the public notice and objections --------------------------------------------------------------


def test_anonymous_reads_the_notice_without_personal_data(client, notice, acme):
    with freeze_time(DURING):
        response = client.get(url("notice_public", pk=notice.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert acme.name in html and "南明区" in html
    assert "2026-09-28 to 2026-10-09 (5 working days)" in html
    assert 'data-testid="objection-form"' in html
    for private in (acme.contact_phone, acme.contact_email, acme.contact_person, acme.legal_representative):
        assert private not in html
    # The honeypot is hidden by a class, never an inline style (CSP).
    assert 'class="hp-field"' in html and "style=" not in html


def test_the_notice_pdf_is_served(client, notice):
    response = client.get(url("notice_pdf", pk=notice.pk))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_notice_list_shows_the_notice(client, notice):
    response = client.get(url("notice_public_list"))
    assert notice.title in response.content.decode()


def more_notices(notice, n: int, *, published: int = 0) -> None:
    """n more notices of the round, older than `notice`; the first `published` have two list versions."""
    extra = Notice.objects.bulk_create(
        [
            Notice(
                tenant=notice.tenant,
                round=notice.round,
                title=f"第{i}批公示",
                body="现予公示。",
                how_to_object="实名反映。",
                working_days=5,
                starts_on=START - timedelta(days=10 * i),
                ends_on=START - timedelta(days=10 * i - 6),
                status=Notice.Status.PUBLISHED,
            )
            for i in range(1, n + 1)
        ]
    )
    for n_ in extra[:published]:
        v1 = PublishedList.objects.create(tenant=notice.tenant, notice=n_, version=1, title="名单", rows=[])
        PublishedList.objects.create(
            tenant=notice.tenant,
            notice=n_,
            version=2,
            replaces=v1,
            title="名单",
            rows=[],
            correction_note="更正",
        )


def notice_rows(html: str) -> int:
    return html.count('<th scope="row"><a href="/gz/notices/')


def test_the_notice_list_is_paginated_with_an_accessible_nav(client, notice):
    more_notices(notice, 44)  # 45 in all: pages of 20, 20 and 5
    first = client.get(url("notice_public_list")).content.decode()
    assert notice_rows(first) == views_publication.NOTICES_PER_PAGE
    assert notice.title in first  # newest first
    nav = re.search(r'<nav class="pagination"[^>]*>.*?</nav>', first, re.S).group(0)
    assert 'aria-label="Pages"' in nav
    assert re.search(r'href="\?page=1" aria-current="page"', nav)
    assert 'href="?page=2"' in nav and 'href="?page=3"' in nav and 'rel="next"' in nav
    assert nav.count("aria-current") == 1
    last = client.get(url("notice_public_list") + "?page=3").content.decode()
    assert notice_rows(last) == 5 and 'rel="prev"' in last and 'rel="next"' not in last
    assert re.search(r'href="\?page=3" aria-current="page"', last)
    # a page past the end, or no number, shows the nearest page rather than an error
    assert notice_rows(client.get(url("notice_public_list") + "?page=99").content.decode()) == 5
    assert notice_rows(client.get(url("notice_public_list") + "?page=x").content.decode()) == 20


def test_a_single_page_of_notices_has_no_nav(client, notice):
    html = client.get(url("notice_public_list")).content.decode()
    assert notice_rows(html) == 1 and 'class="pagination"' not in html


def test_the_notice_list_runs_the_same_queries_whatever_the_page(client, notice):
    more_notices(notice, 44, published=30)

    def queries(page: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("notice_public_list") + f"?page={page}").status_code == 200
        return len(ctx.captured_queries)

    queries(2)  # warm up: the first request of a test loads what the process caches
    full, partial = queries(1), queries(3)  # 20 rows with published lists, 5 rows without
    assert full == partial == 3  # the count, the page, the published lists of the page


def test_anonymous_files_an_objection_and_gets_a_reference(client, notice, media):
    pdf = SimpleUploadedFile("证据.pdf", b"%PDF-1.4\n% evidence\n", content_type="application/pdf")
    response = file_objection(client, notice, evidence=[pdf])
    assert response.status_code == 200, response.content.decode()[:3000]
    objection = Objection.objects.get()
    assert objection.reference in response.content.decode()
    assert objection.filer_phone == PHONE and objection.status == Objection.Status.OPEN
    evidence = objection.evidence.get()
    assert evidence.original_name == "证据.pdf" and len(evidence.sha256) == 64
    assert not evidence.file.name.endswith("证据.pdf")  # stored under a generated name
    # The filer's details never reach the public page.
    with freeze_time(DURING):
        html = client.get(url("notice_public", pk=notice.pk)).content.decode()
    assert PHONE not in html and "王五" not in html


def test_evidence_that_is_not_a_pdf_or_image_is_refused_and_typed_values_kept(client, notice):
    fake = SimpleUploadedFile(
        "evidence.pdf", b"<html><script>x</script></html>", content_type="application/pdf"
    )
    response = file_objection(client, notice, evidence=[fake])
    html = response.content.decode()
    assert response.status_code == 400
    assert "Evidence (optional):" in html
    assert "该企业近三年研发投入数据与实际不符。" in html and PHONE in html
    assert not Objection.objects.exists()


def test_a_filled_honeypot_is_refused(client, notice):
    response = file_objection(client, notice, website="http://spam.example")
    assert response.status_code == 400
    assert "The form could not be accepted." in response.content.decode()
    assert not Objection.objects.exists()


def test_a_form_sent_too_quickly_is_refused(client, notice):
    response = file_objection(client, notice, wait=1)
    assert response.status_code == 400
    assert "too quickly" in response.content.decode()
    assert not Objection.objects.exists()


def test_a_form_older_than_two_hours_is_refused(client, notice):
    response = file_objection(client, notice, wait=3 * 3600)
    assert response.status_code == 400
    assert not Objection.objects.exists()


def test_a_wrong_answer_names_the_field(client, notice):
    response = file_objection(client, notice, answer="99")
    html = response.content.decode()
    assert response.status_code == 400
    assert "The answer to the question is not right." in html
    assert "王五" in html  # what was typed is kept
    assert not Objection.objects.exists()


def test_an_invalid_phone_is_named(client, notice):
    response = file_objection(client, notice, filer_phone="12345")
    assert response.status_code == 400
    assert "Mobile phone:" in response.content.decode()
    assert not Objection.objects.exists()


def test_too_many_objections_from_one_address_get_429(client, notice, monkeypatch):
    monkeypatch.setattr(views_publication, "OBJECTIONS_PER_HOUR", 1)
    assert file_objection(client, notice).status_code == 200
    response = file_objection(client, notice)
    assert response.status_code == 429
    assert 'data-testid="rate-limited"' in response.content.decode()
    assert Objection.objects.count() == 1


def test_a_loop_of_filings_beyond_the_limit_is_refused(client, notice):
    limit = views_publication.OBJECTIONS_PER_HOUR
    # when one address files limit + 2 objections within the hour
    responses = [file_objection(client, notice) for _ in range(limit + 2)]
    # then the first `limit` are filed and the rest refused, with a message and a Retry-After
    assert [r.status_code for r in responses] == [200] * limit + [429, 429]
    assert Objection.objects.count() == limit
    refused = responses[-1]
    assert "Too many objections have been sent from your network in a short time." in refused.content.decode()
    assert refused["Retry-After"] == "3600"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    chinese = file_objection(client, notice)
    assert chinese.status_code == 429
    assert "您所在网络短时间内提交的异议过多" in chinese.content.decode()
    assert Objection.objects.count() == limit


def test_a_form_with_a_mistake_does_not_use_up_a_place(client, notice, monkeypatch):
    monkeypatch.setattr(views_publication, "OBJECTIONS_PER_HOUR", 1)
    assert file_objection(client, notice, answer="99").status_code == 400
    assert file_objection(client, notice).status_code == 200
    assert file_objection(client, notice).status_code == 429
    assert Objection.objects.count() == 1


def test_the_daily_limit_per_notice_counts_too(client, notice, monkeypatch):
    monkeypatch.setattr(views_publication, "OBJECTIONS_PER_DAY_PER_NOTICE", 2)
    statuses = [file_objection(client, notice).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_concurrent_filings_cannot_pass_the_limit_together(notice):
    # Forty posts from one address arrive at once: the check and the count are one atomic step, so
    # exactly OBJECTIONS_PER_HOUR of them get a place, never more.
    posts = 40
    barrier = threading.Barrier(posts)
    granted: list[bool] = []
    lock = threading.Lock()

    def post():
        barrier.wait()
        reserved = views_publication._rate_reserve("203.0.113.7", notice)
        with lock:
            granted.append(reserved is not None)

    threads = [threading.Thread(target=post) for _ in range(posts)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert granted.count(True) == views_publication.OBJECTIONS_PER_HOUR
    # another address is not affected
    assert views_publication._rate_reserve("203.0.113.8", notice) is not None


def test_objections_are_not_taken_after_the_period(client, notice):
    with freeze_time(AFTER):
        page = client.get(url("notice_public", pk=notice.pk))
        assert 'data-testid="objection-form"' not in page.content.decode()
        response = client.post(url("objection_new", pk=notice.pk), {"filer_name": "王五"})
    assert response.status_code == 302
    assert not Objection.objects.exists()


# --- staff: creating, resolving, publishing ----------------------------------------------------------


def test_the_approver_creates_a_notice_through_the_page(client, approved, province_approver):
    client.force_login(province_approver)
    listing = client.get(url("notice_manage_list"))
    assert f'data-testid="create-notice-{approved.round.pk}"' in listing.content.decode()
    form = client.get(url("notice_create", round_pk=approved.round.pk))
    html = form.content.decode()
    assert "proposed list for public notice" in html and "checked" in html
    response = client.post(
        url("notice_create", round_pk=approved.round.pk),
        {
            "title": "公示",
            "body": "现予公示。",
            "how_to_object": "实名反映。",
            "starts_on": "2026-09-28",
            "working_days": "5",
            "applications": [str(approved.pk)],
        },
        follow=True,
    )
    notice = Notice.objects.get()
    assert notice.ends_on == date(2026, 10, 9)
    assert "2026-10-09" in response.content.decode()


def test_staff_dismiss_then_publish_after_the_period(
    client, notice, province_approver, django_capture_on_commit_callbacks
):
    file_objection(client, notice)
    objection = Objection.objects.get()
    with freeze_time(AFTER):
        client.force_login(province_approver)
        page = client.get(url("notice_manage", pk=notice.pk)).content.decode()
        # The filer's phone is masked to its last four digits for staff too.
        assert "*******5678" in page and PHONE not in page
        assert 'data-testid="publish-reason"' in page and "objections are still open" in page
        refused = client.post(url("notice_publish", pk=notice.pk))
        assert refused.status_code == 302 and not PublishedList.objects.exists()

        client.post(
            url("objection_resolve", pk=objection.pk),
            {f"o{objection.pk}-decision": "dismiss", f"o{objection.pk}-reply": "经核查，不属实。"},
        )
        objection.refresh_from_db()
        assert objection.status == Objection.Status.DISMISSED

        page = client.get(url("notice_manage", pk=notice.pk)).content.decode()
        assert 'data-testid="publish-reason"' not in page
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url("notice_publish", pk=notice.pk))
    published = PublishedList.objects.get()
    assert response.status_code == 302 and response["Location"] == url("published_manage", pk=published.pk)
    assert Certification.objects.count() == 1


def test_publishing_is_refused_during_the_period(client, notice, province_approver):
    with freeze_time(DURING):
        client.force_login(province_approver)
        page = client.get(url("notice_manage", pk=notice.pk)).content.decode()
        assert "The notice period runs until 2026-10-09." in page
        client.post(url("notice_publish", pk=notice.pk))
    assert not PublishedList.objects.exists() and not Certification.objects.exists()


def test_published_manage_shows_progress_and_retries(
    client, published, province_approver, django_capture_on_commit_callbacks
):
    cert = Certification.objects.get()
    Certification.objects.filter(pk=cert.pk).update(certificate="", certificate_error="font missing")
    client.force_login(province_approver)
    html = client.get(url("published_manage", pk=published.pk)).content.decode()
    assert "<progress" in html and "font missing" in html
    progress = client.get(url("published_manage", pk=published.pk) + "?format=json").json()
    assert progress == {"total": 1, "done": 0, "failed": 1, "pending": 0, "complete": True}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("certificates_retry", pk=published.pk))
    cert.refresh_from_db()
    assert cert.certificate_error == "" and cert.certificate  # generated again


# --- the published list and verification -------------------------------------------------------------


def test_the_published_page_shows_the_rows_and_the_hash(client, published):
    cert = Certification.objects.get()
    published.refresh_from_db()
    html = client.get(url("published_public", pk=published.pk)).content.decode()
    assert cert.number in html and cert.enterprise.name in html
    if published.pdf_sha256:  # the render task ran on commit
        assert published.pdf_sha256 in html
        pdf = b"".join(client.get(url("published_pdf", pk=published.pk)).streaming_content)
        assert publication.sha256_of(pdf) == published.pdf_sha256
    else:
        assert "being generated" in html
        assert client.get(url("published_pdf", pk=published.pk)).status_code == 404
    sheet = load_workbook(BytesIO(client.get(url("published_xlsx", pk=published.pk)).content)).active
    assert sheet.cell(row=2, column=1).value == cert.number


def test_the_published_page_says_being_generated_before_the_pdf(client, notice, province_approver):
    published = publication.notice_publish(notice=notice, by=province_approver, at=aware(AFTER))
    html = client.get(url("published_public", pk=published.pk)).content.decode()
    assert "being generated" in html
    assert client.get(url("published_pdf", pk=published.pk)).status_code == 404


def test_the_verify_page_compares_an_uploaded_pdf(client, notice, province_approver):
    # Published without running the render task, then a PDF filled in as the task does.
    published = publication.notice_publish(notice=notice, by=province_approver, at=aware(AFTER))
    content = b"%PDF-1.4\n% list\n"
    published.pdf.save("list.pdf", ContentFile(content), save=False)
    published.pdf_sha256 = publication.sha256_of(content)
    published.save()
    page = client.get(url("published_verify", pk=published.pk)).content.decode()
    assert "The stored PDF is unchanged since publication." in page
    same = client.post(
        url("published_verify", pk=published.pk), {"file": SimpleUploadedFile("a.pdf", content)}
    ).content.decode()
    assert "identical to the published PDF." in same
    other = client.post(
        url("published_verify", pk=published.pk), {"file": SimpleUploadedFile("a.pdf", b"%PDF-1.4 x")}
    ).content.decode()
    assert "different from the published PDF." in other


def test_verify_a_valid_number_and_an_unknown_one(client, published):
    cert = Certification.objects.get()
    response = client.get(url("verify_number", number=cert.number))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="verify-state">Valid<' in html and cert.enterprise.name in html
    unknown = client.get(url("verify") + "?number=GZ-ZJTX-2026-9999")
    assert unknown.status_code == 200
    assert 'data-testid="verify-not-found"' in unknown.content.decode()


def test_a_revoked_certificate_reads_revoked(client, published):
    cert = Certification.objects.get()
    Certification.objects.filter(pk=cert.pk).update(status=Certification.Status.REVOKED)
    html = client.get(url("verify_number", number=cert.number.lower())).content.decode()
    assert 'data-testid="verify-state">Revoked<' in html


# --- the enterprise's certificates -----------------------------------------------------------------


@pytest.fixture
def with_file(published):
    cert = Certification.objects.get()
    if not cert.certificate:  # certificate generation may not have run
        cert.certificate.save("c.pdf", ContentFile(b"%PDF-1.4\n% certificate\n"), save=True)
    return cert


def test_the_enterprise_downloads_its_certificate(client, with_file, owner):
    client.force_login(owner)
    listing = client.get(url("certification_list")).content.decode()
    assert with_file.number in listing and f"certificate-link-{with_file.pk}" in listing
    response = client.get(url("certificate_download", pk=with_file.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "attachment" in response["Content-Disposition"]
    assert "filename*=UTF-8''%E8%AF%81%E4%B9%A6-" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action="certificate.downloaded").count() == 1


def test_another_enterprise_cannot_download_the_certificate(client, with_file, yunyan_enterprise):  # noqa: F811
    client.force_login(yunyan_enterprise.memberships.get().user)
    assert client.get(url("certificate_download", pk=with_file.pk)).status_code == 404
    assert with_file.number not in client.get(url("certification_list")).content.decode()


# --- isolation -----------------------------------------------------------------------------------------


def test_another_tenant_sees_nothing_of_gz(client, with_file, xz_admin, xz_enterprise):  # noqa: F811
    published = with_file.published_list
    notice = published.notice
    for name, kwargs in [
        ("notice_public", {"pk": notice.pk}),
        ("notice_pdf", {"pk": notice.pk}),
        ("objection_new", {"pk": notice.pk}),
        ("published_public", {"pk": published.pk}),
        ("published_pdf", {"pk": published.pk}),
        ("published_xlsx", {"pk": published.pk}),
        ("published_verify", {"pk": published.pk}),
    ]:
        assert client.get(url(name, tenant="xz", **kwargs)).status_code == 404, name
    unknown = client.get(url("verify_number", tenant="xz", number=with_file.number))
    assert 'data-testid="verify-not-found"' in unknown.content.decode()
    client.force_login(xz_admin)
    for name, kwargs in [
        ("notice_manage", {"pk": notice.pk}),
        ("published_manage", {"pk": published.pk}),
    ]:
        assert client.get(url(name, tenant="xz", **kwargs)).status_code == 404, name
    for name, kwargs in [("notice_publish", {"pk": notice.pk}), ("certificates_retry", {"pk": published.pk})]:
        assert client.post(url(name, tenant="xz", **kwargs)).status_code == 404, name
    client.force_login(xz_enterprise.memberships.get().user)
    assert client.get(url("certificate_download", tenant="xz", pk=with_file.pk)).status_code == 404


def test_a_county_official_cannot_manage_the_notice(client, notice, nanming_official):
    file_objection(client, notice)
    objection = Objection.objects.get()
    client.force_login(nanming_official)
    assert client.get(url("notice_manage", pk=notice.pk)).status_code == 404
    assert client.get(url("notice_create", round_pk=notice.round_id)).status_code == 404
    assert client.get(url("notice_manage_list")).status_code == 404
    response = client.post(
        url("objection_resolve", pk=objection.pk),
        {f"o{objection.pk}-decision": "uphold", f"o{objection.pk}-reply": "成立"},
    )
    assert response.status_code == 404
    objection.refresh_from_db()
    assert objection.status == Objection.Status.OPEN


def test_anonymous_is_sent_to_sign_in_for_staff_pages(client, notice):
    response = client.get(url("notice_manage", pk=notice.pk))
    assert response.status_code == 302 and "login" in response["Location"]
