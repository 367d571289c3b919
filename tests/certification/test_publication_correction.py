"""Correcting a published list through the staff page (views_publication.published_correct).

A published list is never edited: a correction is a new version linked to the old one, which stays
online unchanged and says it was superseded; the new one says what it corrects.
"""

# ruff: noqa: F811 - the fixtures imported from test_publication_pages are used as test arguments
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from certification import publication
from certification.models import Certification, Notice, PublishedList
from certification.workflow import WorkflowRefused
from enterprises.demo import demo_uscc
from portal.models import AuditEvent
from tests.certification.test_publication_pages import (  # noqa: F401 - fixtures
    approved,
    client,
    notice,
    published,
    url,
)
from tests.certification.workflow_fixtures import chain_fixture  # noqa: F401 - the `chain` fixture


def form_data(published: PublishedList, *, note="企业名称更正。", title=None, **row_changes) -> dict:
    """The correction form as the page sends it, with `row_changes` applied to the first row."""
    data = {
        "title": published.title if title is None else title,
        "correction_note": note,
        "rows-TOTAL_FORMS": str(len(published.rows)),
        "rows-INITIAL_FORMS": str(len(published.rows)),
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "2000",
    }
    for i, row in enumerate(published.rows):
        for key in ("number", "enterprise", "uscc", "county", "program"):
            data[f"rows-{i}-{key}"] = row[key]
    for key, value in row_changes.items():
        data[f"rows-0-{key}"] = value
    return data


@pytest.fixture
def signed_in(client, province_approver):
    client.force_login(province_approver)
    return client


def test_the_manage_page_links_to_the_correction_form(signed_in, published):
    html = signed_in.get(url("published_manage", pk=published.pk)).content.decode()
    assert url("published_correct", pk=published.pk) in html
    form = signed_in.get(url("published_correct", pk=published.pk)).content.decode()
    row = published.rows[0]
    assert (
        row["number"] in form and f'value="{row["enterprise"]}"' in form and f'value="{row["uscc"]}"' in form
    )
    assert 'name="correction_note"' in form and "version 2" in form


def test_the_publisher_corrects_a_name_and_a_new_version_is_published(
    signed_in, published, province_approver
):
    # given
    published.refresh_from_db()
    before = PublishedList.objects.values("rows", "title", "pdf", "pdf_sha256").get(pk=published.pk)
    old_name = published.rows[0]["enterprise"]
    # when
    response = signed_in.post(
        url("published_correct", pk=published.pk),
        form_data(published, enterprise="贵州黔芯精密机械股份有限公司"),
    )
    # then a version 2 linked to version 1, with the row corrected and nothing else
    correction = PublishedList.objects.get(version=2)
    assert response.status_code == 302 and response["Location"] == url("published_manage", pk=correction.pk)
    assert correction.replaces_id == published.pk and correction.correction_note == "企业名称更正。"
    assert correction.rows == [{**published.rows[0], "enterprise": "贵州黔芯精密机械股份有限公司"}]
    assert correction.published_by == province_approver
    # and version 1 is exactly as it was published
    assert PublishedList.objects.values("rows", "title", "pdf", "pdf_sha256").get(pk=published.pk) == before
    assert before["rows"][0]["enterprise"] == old_name
    event = AuditEvent.objects.get(action="published_list.corrected")
    assert event.changes["changed"] == {
        published.rows[0]["number"]: {"enterprise": [old_name, "贵州黔芯精密机械股份有限公司"]}
    }
    # the certification itself is untouched: a correction rewords the list only
    assert Certification.objects.get().published_list_id == published.pk


def test_the_old_version_says_it_was_superseded_and_the_new_what_it_corrects(
    client, published, province_approver
):
    rows = [{**published.rows[0], "county": "云岩区"}]
    correction = publication.published_list_correct(
        published=published, rows=rows, note="更正所属区县。", by=province_approver
    )
    old = client.get(url("published_public", pk=published.pk)).content.decode()
    assert 'data-testid="superseded"' in old
    assert "It was superseded on" in old and "by version 2" in old
    assert f'href="{url("published_public", pk=correction.pk)}" data-testid="replaced-by"' in old
    assert published.rows[0]["county"] in old  # the old rows, unchanged
    new = client.get(url("published_public", pk=correction.pk)).content.decode()
    assert 'data-testid="superseded"' not in new
    assert "Version 2 corrects version 1" in new
    assert f'href="{url("published_public", pk=published.pk)}" data-testid="corrects"' in new
    assert 'data-testid="correction-note">更正所属区县。<' in new
    assert f"County “{published.rows[0]['county']}” → “云岩区”" in new


def two_row_list(published: PublishedList) -> PublishedList:
    """A published list of two rows (another notice of the same round), built directly."""
    notice = published.notice
    other = Notice.objects.create(
        tenant=notice.tenant,
        round=notice.round,
        title="第二批公示",
        body="现予公示。",
        how_to_object="实名反映。",
        working_days=5,
        starts_on=notice.starts_on,
        ends_on=notice.ends_on,
        status=Notice.Status.PUBLISHED,
    )
    second = {**published.rows[0], "number": "GZ-ZJTX-2026-0099", "enterprise": "贵州遵义测试有限公司"}
    second["uscc"] = demo_uscc("520102", 99)
    return PublishedList.objects.create(
        tenant=notice.tenant, notice=other, version=1, title="第二批名单", rows=[published.rows[0], second]
    )


def test_a_row_left_out_is_named_on_the_new_version(signed_in, published):
    two = two_row_list(published)
    data = form_data(two, note="该企业经复查不符合条件，予以撤销。")
    data["rows-1-remove"] = "on"
    response = signed_in.post(url("published_correct", pk=two.pk), data)
    assert response.status_code == 302
    correction = PublishedList.objects.get(replaces=two)
    assert correction.rows == [two.rows[0]]
    page = signed_in.get(url("published_public", pk=correction.pk)).content.decode()
    assert "GZ-ZJTX-2026-0099 贵州遵义测试有限公司: left out of the corrected list" in page
    assert PublishedList.objects.get(pk=two.pk).rows == two.rows  # the old version keeps both


def test_a_list_cannot_be_corrected_to_nothing(signed_in, published):
    response = signed_in.post(url("published_correct", pk=published.pk), form_data(published, remove="on"))
    assert response.status_code == 400
    assert "A corrected list keeps at least one enterprise" in response.content.decode()
    assert PublishedList.objects.count() == 1


def test_a_correction_needs_a_note_and_a_change(signed_in, published):
    no_note = signed_in.post(url("published_correct", pk=published.pk), form_data(published, note=""))
    assert no_note.status_code == 400
    assert "What is corrected, and why: This field is required." in no_note.content.decode()
    unchanged = signed_in.post(url("published_correct", pk=published.pk), form_data(published))
    assert unchanged.status_code == 400
    assert "Nothing was changed" in unchanged.content.decode()
    # what was typed is kept
    assert "企业名称更正。" in unchanged.content.decode()
    assert PublishedList.objects.count() == 1


def test_a_forged_row_or_a_wrong_uscc_is_refused_and_named(signed_in, published):
    forged = signed_in.post(
        url("published_correct", pk=published.pk), form_data(published, number="GZ-ZJTX-2026-9999")
    )
    assert forged.status_code == 400
    assert "GZ-ZJTX-2026-9999 is not on the list being corrected." in forged.content.decode()
    bad = signed_in.post(url("published_correct", pk=published.pk), form_data(published, uscc="91520100ABC"))
    assert bad.status_code == 400
    assert published.rows[0]["number"] in bad.content.decode()
    assert PublishedList.objects.count() == 1


def test_the_title_alone_may_be_corrected(signed_in, published):
    response = signed_in.post(
        url("published_correct", pk=published.pk),
        form_data(published, title="2026年第一批专精特新中小企业认定名单"),
    )
    assert response.status_code == 302
    correction = PublishedList.objects.get(version=2)
    assert correction.title == "2026年第一批专精特新中小企业认定名单" and correction.rows == published.rows
    page = signed_in.get(url("published_public", pk=correction.pk)).content.decode()
    assert "Title: “" in page


def test_a_superseded_version_sends_the_corrector_to_the_newest(signed_in, published, province_approver):
    correction = publication.published_list_correct(
        published=published,
        rows=[{**published.rows[0], "county": "云岩区"}],
        note="更正",
        by=province_approver,
    )
    response = signed_in.get(url("published_correct", pk=published.pk))
    assert response.status_code == 302 and response["Location"] == url("published_correct", pk=correction.pk)
    manage = signed_in.get(url("published_manage", pk=published.pk)).content.decode()
    assert 'data-testid="correct-link"' not in manage and 'data-testid="replaced-by"' in manage
    # a post to the old version's form publishes nothing
    signed_in.post(url("published_correct", pk=published.pk), form_data(published, county="白云区"))
    assert PublishedList.objects.count() == 2


def test_no_one_but_the_publishers_correct_the_list(client, published, nanming_official, xz_admin):
    correct = url("published_correct", pk=published.pk)
    anonymous = client.get(correct)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    for user in (nanming_official, xz_admin):
        client.force_login(user)
        assert client.get(correct).status_code == 404
        assert client.post(correct, form_data(published, county="白云区")).status_code == 404
    client.force_login(xz_admin)
    assert client.get(url("published_correct", tenant="xz", pk=published.pk)).status_code == 404
    assert PublishedList.objects.count() == 1


# --- the service's rules ----------------------------------------------------------------------------


def test_the_service_refuses_unknown_and_repeated_rows_and_an_empty_title(published, province_approver):
    row = published.rows[0]
    cases = [
        ({"rows": [{**row, "number": "GZ-XJR-2026-0001"}]}, "rows"),
        ({"rows": [row, {**row, "county": "云岩区"}]}, "rows"),
        ({"rows": [{**row, "enterprise": "  "}]}, "rows"),
        ({"rows": [row], "title": "  "}, "title"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ValidationError) as info:
            publication.published_list_correct(
                published=published, note="更正", by=province_approver, **kwargs
            )
        assert field in info.value.message_dict, kwargs
    assert PublishedList.objects.count() == 1


def test_the_number_and_dates_of_a_row_are_the_certifications(published, province_approver):
    row = published.rows[0]
    forged = {**row, "county": "云岩区", "issued_on": "2020-01-01", "valid_until": "2099-12-31"}
    correction = publication.published_list_correct(
        published=published, rows=[forged], note="更正", by=province_approver
    )
    assert correction.rows == [{**row, "county": "云岩区"}]


def test_two_corrections_of_one_version_cannot_both_be_published(published, province_approver):
    rows = [{**published.rows[0], "county": "云岩区"}]
    publication.published_list_correct(published=published, rows=rows, note="更正", by=province_approver)
    with pytest.raises(WorkflowRefused) as refused:
        publication.published_list_correct(published=published, rows=rows, note="再改", by=province_approver)
    assert refused.value.code == "superseded"
