from datetime import date, timedelta

import pytest
from django.utils import timezone

from certification import publication
from certification.models import Application, Certification, PublishedList, PublishedListIsImmutable
from tests.certification.workflow_fixtures import chain_fixture, drive  # noqa: F401


def test_notice_objection_and_publication(
    ready, chain, province_approver, django_capture_on_commit_callbacks
):
    app = drive(ready, "approved", chain)
    start = date(2026, 9, 28)  # across the National Day holiday (Golden Week)
    notice = publication.notice_create(
        round_=app.round,
        application_ids=[app.pk],
        title="2026年第一批拟认定专精特新中小企业名单公示",
        body="现予公示。",
        how_to_object="实名书面反映。",
        starts_on=start,
        working_days=5,
        by=province_approver,
    )
    assert notice.ends_on == date(2026, 10, 9)  # 9-28, 9-29, 9-30, the holiday 10-1…10-7, then 10-8, 10-9
    app.refresh_from_db()
    assert app.state == Application.State.IN_NOTICE
    during = timezone.make_aware(timezone.datetime(2026, 9, 29, 10, 0))
    entry = notice.entries.get()
    objection = publication.objection_file(
        notice=notice,
        entry_id=entry.pk,
        filer_name="王五",
        filer_phone="13800000000",
        grounds="该企业存在虚假申报情况",
        at=during,
    )
    with pytest.raises(publication.WorkflowRefused):
        publication.notice_publish(notice=notice, by=province_approver, at=during + timedelta(days=30))
    publication.objection_resolve(
        objection=objection, upheld=False, reply="经核查，不属实。", by=province_approver
    )
    with django_capture_on_commit_callbacks(execute=True):
        published = publication.notice_publish(
            notice=notice, by=province_approver, at=during + timedelta(days=30)
        )
    cert = Certification.objects.get()
    assert cert.number.startswith("GZ-") and cert.number.endswith("-0001")
    assert published.rows[0]["number"] == cert.number
    published.title = "改"
    with pytest.raises(PublishedListIsImmutable):
        published.save()
    assert PublishedList.objects.count() == 1
