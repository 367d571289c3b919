"""The public directory of certified enterprises (名录), the public profile, and the national package."""

import io
import re
import zipfile
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from certification import lifecycle, publication
from certification.directory_cache import directory_changed
from certification.models import Application, Certification, Notice, Program, PublishedList
from enterprises.models import Enterprise
from portal.audit import AuditEvent
from portal.models import Region
from tests.certification.conftest import make_program
from tests.certification.workflow_fixtures import chain_fixture, drive, make_round  # noqa: F401
from tests.conftest import region
from tests.enterprises.conftest import make_enterprise, xz_enterprise  # noqa: F401

S = Application.State


@pytest.fixture
def client(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def url(name, tenant="gz", **kwargs):
    return reverse(name, kwargs={"tenant_code": tenant, **kwargs})


# --- building certified enterprises ---------------------------------------------------------------


@pytest.fixture
def published(ready, chain, province_approver):
    """acme certified through the real services: approved, on a notice across Golden Week, published."""
    app = drive(ready, "approved", chain)
    notice = publication.notice_create(
        round_=app.round,
        application_ids=[app.pk],
        title="2026年第一批拟认定专精特新中小企业名单公示",
        body="现予公示。",
        how_to_object="实名书面反映。",
        starts_on=date(2026, 9, 28),
        working_days=5,
        by=province_approver,
    )
    after = timezone.make_aware(timezone.datetime(2026, 10, 20, 10, 0))
    publication.notice_publish(notice=notice, by=province_approver, at=after)
    return Certification.objects.get(application=app)


class Certifier:
    """Certifications written straight into the tables (volume, statuses and dates the services would
    take years to reach): one application, one certification per enterprise, on one published list."""

    def __init__(self, tenant, program, version):
        self.tenant, self.program, self.version = tenant, program, version
        self.rounds = [make_round(program, version, name="直接写入 1")]
        notice = Notice.objects.create(
            tenant=tenant,
            round=self.rounds[0],
            title="公示",
            body="",
            how_to_object="",
            working_days=5,
            starts_on=date(2025, 1, 6),
            ends_on=date(2025, 1, 10),
            status=Notice.Status.PUBLISHED,
        )
        self.published = PublishedList.objects.create(tenant=tenant, notice=notice, title="名单", rows=[])
        self.serial = 0

    def certify(self, enterprise, *, issued_on=None, status=Certification.Status.ACTIVE, program=None):
        self.serial += 1
        issued_on = issued_on or timezone.localdate() - timedelta(days=30)
        # One application per enterprise and round: a second certification needs another round.
        used = set(Application.objects.filter(enterprise=enterprise).values_list("round_id", flat=True))
        round_ = next((r for r in self.rounds if r.pk not in used), None)
        if round_ is None:
            round_ = make_round(self.program, self.version, name=f"直接写入 {len(self.rounds) + 1}")
            self.rounds.append(round_)
        app = Application.objects.create(
            tenant=self.tenant,
            round=round_,
            enterprise=enterprise,
            county=enterprise.county,
            state=S.PUBLISHED,
        )
        return Certification.objects.create(
            tenant=self.tenant,
            number=f"{self.tenant.code.upper()}-ZJTX-{issued_on.year}-{self.serial:04d}",
            program=program or self.program,
            enterprise=enterprise,
            application=app,
            published_list=self.published,
            issued_on=issued_on,
            valid_until=issued_on.replace(year=issued_on.year + 3),
            status=status,
        )


@pytest.fixture
def certifier(gz):
    program, version = make_program(gz, code="direct_srdi")
    return Certifier(gz, program, version)


def enterprise(tenant, county, serial, name, industry="C3484"):
    e = make_enterprise(tenant, county, serial, name=name, industry=industry)
    e.main_product = "精密轴承"
    e.save()
    return e


def names(response) -> list[str]:
    html = response.content.decode()
    table = html[html.index('data-testid="directory-table"') :]
    return re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', table)


# --- the directory ---------------------------------------------------------------------------------


def test_name_pinyin_is_kept_up_to_date_by_save(gz):
    e = enterprise(gz, "520102", 10, "贵州中科有限公司")
    assert e.name_pinyin == "gui zhou zhong ke you xian gong si"
    e.name = "阿里"
    e.save(update_fields=["name"])
    assert Enterprise.objects.get(pk=e.pk).name_pinyin == "a li"


def test_a_certification_carries_its_enterprises_county_and_industry_section(certifier, gz):
    # Certification.county / industry_section: copied when the certification is made, for the dashboards
    e = enterprise(gz, "520102", 1, "迁址企业有限公司", industry="C3484")
    cert = certifier.certify(e)
    assert (cert.county.code, cert.industry_section) == ("520102", "C")
    # and they follow the enterprise when it moves county or changes its industry
    e.county = region(gz, "520103")
    e.industry_id = "I6513"
    e.save()
    cert.refresh_from_db()
    assert (cert.county.code, cert.industry_section) == ("520103", "I")
    # a save that names other fields leaves them alone (no query needed)
    Enterprise.objects.filter(pk=e.pk).update(county=region(gz, "520102"))
    e.refresh_from_db()
    e.save(update_fields=["name"])
    cert.refresh_from_db()
    assert cert.county.code == "520103"


def test_the_directory_lists_a_published_certification_without_signing_in(client, published):
    response = client.get(url("directory"))
    assert response.status_code == 200
    assert names(response) == ["贵州黔芯精密机械有限公司"]
    html = response.content.decode()
    assert published.number in html
    assert url("verify_number", number=published.number) in html
    assert url("directory_enterprise", pk=published.enterprise_id) in html


def test_the_directory_shows_no_personal_data(client, published):
    acme = published.enterprise
    html = client.get(url("directory")).content.decode()
    profile = client.get(url("directory_enterprise", pk=acme.pk)).content.decode()
    for page in (html, profile):
        for private in (
            acme.contact_phone,
            acme.contact_email,
            acme.contact_person,
            acme.legal_representative,
        ):
            assert private not in page


def test_sorted_by_county_then_by_pinyin_not_by_code_point(client, certifier, gz):
    # 中 (U+4E2D) < 阿 (U+963F) < 贵 (U+8D35) by code point; by pinyin a < gui < zhong.
    for serial, name in enumerate(["中南机械有限公司", "贵阳精工有限公司", "阿拉丁科技有限公司"], start=1):
        certifier.certify(enterprise(gz, "520102", serial, name))
    certifier.certify(enterprise(gz, "520103", 9, "阿波罗有限公司"))  # 云岩区 520103 after 南明区 520102
    assert names(client.get(url("directory"))) == [
        "阿拉丁科技有限公司",
        "贵阳精工有限公司",
        "中南机械有限公司",
        "阿波罗有限公司",
    ]


def test_revoked_and_expired_certifications_do_not_list(client, certifier, gz):
    certifier.certify(enterprise(gz, "520102", 1, "在册企业有限公司"))
    certifier.certify(enterprise(gz, "520102", 2, "撤销企业有限公司"), status=Certification.Status.REVOKED)
    certifier.certify(enterprise(gz, "520102", 3, "过期企业有限公司"), status=Certification.Status.EXPIRED)
    # Past valid_until but still active: in force until the daily job expires it (or, with a
    # re-verification filed in time, until the province decides): the status is the truth.
    lapsed = certifier.certify(
        enterprise(gz, "520102", 4, "逾期企业有限公司"),
        issued_on=timezone.localdate() - timedelta(days=3 * 366),
    )
    assert names(client.get(url("directory"))) == ["逾期企业有限公司", "在册企业有限公司"]  # yu < zai
    lifecycle.run_daily()
    lapsed.refresh_from_db()
    assert lapsed.status == Certification.Status.EXPIRED
    directory_changed(
        gz.pk
    )  # what run_daily's commit does (on_commit does not run inside a test's transaction)
    assert names(client.get(url("directory"))) == ["在册企业有限公司"]


def test_filters_region_programme_industry_year_and_name(client, certifier, gz):
    other_program, _ = make_program(gz, code="other_srdi")
    last_year = timezone.localdate().replace(month=1, day=15) - timedelta(days=365)
    a = enterprise(gz, "520102", 1, "南明机械有限公司", industry="C3484")
    b = enterprise(gz, "520103", 2, "云岩软件有限公司", industry="I6513")
    c = enterprise(gz, "520302", 3, "遵义食品有限公司", industry="C1492")  # 红花岗区, 遵义市
    certifier.certify(a)
    certifier.certify(b, program=other_program)
    certifier.certify(c, issued_on=last_year)

    def listed(**params):
        return set(names(client.get(url("directory"), params)))

    assert listed() == {a.name, b.name, c.name}
    assert listed(region="520100") == {a.name, b.name}  # 贵阳市: its counties
    assert listed(region="520103") == {b.name}
    assert listed(program=other_program.pk) == {b.name}
    assert listed(industry="C") == {a.name, c.name}
    assert listed(industry="c34") == {a.name}
    assert listed(year=last_year.year) == {c.name}
    assert listed(q="软件") == {b.name}
    assert listed(region="520100", industry="I") == {b.name}


def test_the_page_costs_the_same_number_of_queries_for_3_and_30_rows(client, certifier, gz):
    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url("directory")).status_code == 200
        return len(ctx.captured_queries)

    for i in range(3):
        certifier.certify(enterprise(gz, "520102", i + 1, f"企业{i}有限公司"))
    count()  # the first request of a client also loads what the process then caches
    few = count()
    for i in range(3, 30):
        certifier.certify(enterprise(gz, ["520102", "520103", "520302"][i % 3], i + 1, f"企业{i}有限公司"))
    assert count() == few


def test_paging_50_per_page(client, certifier, gz):
    for i in range(53):
        certifier.certify(enterprise(gz, "520102", i + 1, f"企业{i:02d}有限公司"))
    assert len(names(client.get(url("directory")))) == 50
    assert len(names(client.get(url("directory"), {"page": 2}))) == 3


def test_the_excel_export_holds_the_same_filtered_rows(client, certifier, gz):
    a = certifier.certify(enterprise(gz, "520102", 1, "南明机械有限公司"))
    certifier.certify(enterprise(gz, "520103", 2, "云岩软件有限公司"))
    response = client.get(url("directory_export"), {"region": "520102"})
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][0] == "南明机械有限公司" and rows[1][1] == a.enterprise.uscc
    assert rows[1][3] == "南明区" and a.number in rows[1][7]
    flat = " ".join(str(v) for row in rows for v in row)
    assert "13900000000" not in flat and "@example.cn" not in flat and "李四" not in flat


def test_another_tenants_directory_does_not_list_these_enterprises(client, certifier, gz, xz):
    certifier.certify(enterprise(gz, "520102", 1, "南明机械有限公司"))
    response = client.get(url("directory", tenant="xz"))
    assert response.status_code == 200
    assert names(response) == []
    export = load_workbook(io.BytesIO(client.get(url("directory_export", tenant="xz")).content)).active
    assert export.max_row == 1


# --- the public profile ------------------------------------------------------------------------------


def test_the_profile_shows_current_and_past_certifications(client, certifier, gz):
    e = enterprise(gz, "520102", 1, "南明机械有限公司")
    current = certifier.certify(e)
    old = certifier.certify(e, status=Certification.Status.EXPIRED, issued_on=date(2020, 5, 1))
    response = client.get(url("directory_enterprise", pk=e.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert e.uscc in html and "贵阳市" in html and "南明区" in html and "精密轴承" in html
    assert current.number in html and old.number in html
    assert url("verify_number", number=current.number) in html


def test_a_profile_that_was_never_certified_or_of_another_tenant_is_404(
    client,
    certifier,
    gz,
    xz,
    xz_enterprise,  # noqa: F811 - the imported fixture
):
    never = enterprise(gz, "520102", 1, "未认定企业有限公司")
    assert client.get(url("directory_enterprise", pk=never.pk)).status_code == 404
    revoked = enterprise(gz, "520102", 2, "撤销企业有限公司")
    certifier.certify(revoked, status=Certification.Status.REVOKED)
    assert client.get(url("directory_enterprise", pk=revoked.pk)).status_code == 200  # past: still a record
    assert client.get(url("directory_enterprise", tenant="xz", pk=revoked.pk)).status_code == 404
    assert client.get(url("directory_enterprise", pk=xz_enterprise.pk)).status_code == 404


# --- the national recommendation package ----------------------------------------------------------


def test_the_package_zips_a_summary_and_one_pdf_per_selected_enterprise(client, published, province_approver):
    client.force_login(province_approver)
    page = client.get(url("national_package"))
    assert page.status_code == 200
    assert published.number in page.content.decode()
    response = client.post(url("national_package"), {"ids": [published.pk]})
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert sorted(archive.namelist()) == sorted(["summary.xlsx", *pdfs])
    assert pdfs == [f"申报书/{published.number}-贵州黔芯精密机械有限公司.pdf"]
    assert archive.read(pdfs[0]).startswith(b"%PDF")
    ws = load_workbook(io.BytesIO(archive.read("summary.xlsx"))).active
    header, row = list(ws.iter_rows(values_only=True))
    assert row[0] == published.number and row[1] == "贵州黔芯精密机械有限公司" and row[3] == "南明区"
    assert any(v is not None for v in row[7:])  # the snapshot's figures
    event = AuditEvent.objects.get(action="national_package.downloaded")
    assert event.actor == province_approver and event.changes["count"] == 1


def test_the_package_ignores_certifications_of_other_tenants_and_needs_a_selection(
    client, published, province_approver, xz
):
    client.force_login(province_approver)
    response = client.post(url("national_package"), {"ids": ["999999"]})
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="national_package.downloaded").exists()


def test_the_package_is_not_for_the_public_counties_or_another_tenant(
    client, published, nanming_official, guiyang_official, xz_admin
):
    anonymous = client.get(url("national_package"))
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert client.post(url("national_package"), {"ids": [published.pk]}).status_code == 302
    for user in (nanming_official, guiyang_official, xz_admin):
        client.force_login(user)
        assert client.get(url("national_package")).status_code == 404
        assert client.post(url("national_package"), {"ids": [published.pk]}).status_code == 404
    assert not AuditEvent.objects.filter(action="national_package.downloaded").exists()


def test_xz_admin_sees_only_xz_certifications_in_the_package_page(client, published, xz_admin):
    client.force_login(xz_admin)
    response = client.get(url("national_package", tenant="xz"))
    assert response.status_code == 200
    assert published.number not in response.content.decode()
    refused = client.post(url("national_package", tenant="xz"), {"ids": [published.pk]})
    assert refused.status_code == 400


def test_a_tenant_admin_may_build_the_package(client, published, gz_admin):
    client.force_login(gz_admin)
    assert client.get(url("national_package")).status_code == 200


def test_the_package_lists_only_srdi_programmes(client, certifier, gz, gz_admin):
    innovative = Program.objects.create(
        tenant=gz,
        code="cxx",
        name="创新型中小企业",
        tier=Program.Tier.INNOVATIVE,
        owner_region=gz.root_region,
    )
    srdi = certifier.certify(enterprise(gz, "520102", 1, "专精特新企业有限公司"))
    other = certifier.certify(enterprise(gz, "520102", 2, "创新型企业有限公司"), program=innovative)
    client.force_login(gz_admin)
    html = client.get(url("national_package")).content.decode()
    assert srdi.number in html and other.number not in html
    assert region(gz, "520102").name in html


def test_a_county_added_later_still_sorts_by_its_code(client, certifier, gz):
    # given a county created after the others with a smaller code (its key no longer follows the codes)
    certifier.certify(enterprise(gz, "520102", 1, "阿拉丁科技有限公司"))
    new = Region.objects.create(
        tenant=gz, code="520101", name="新设区", level=Region.Level.COUNTY, parent=region(gz, "520100")
    )
    later = make_enterprise(gz, "520102", 2, name="中南机械有限公司")
    later.county = new
    later.save()
    certifier.certify(later)
    # then the directory still sorts by county code
    assert names(client.get(url("directory"))) == ["中南机械有限公司", "阿拉丁科技有限公司"]


def test_the_total_is_cached_until_a_publication_says_the_directory_changed(client, certifier, gz):
    from certification import directory_cache

    # given: the total of one certified enterprise, read once (and cached)
    certifier.certify(enterprise(gz, "520102", 1, "甲企业有限公司"))
    assert 'data-testid="directory-table"' in client.get(url("directory")).content.decode()
    first = client.get(url("directory")).context["page"].paginator.count
    # when: another is certified without a publication's notice, the cached total stays
    certifier.certify(enterprise(gz, "520102", 2, "乙企业有限公司"))
    assert client.get(url("directory")).context["page"].paginator.count == first == 1
    # then: once publication signals the change, the total is counted again
    directory_cache.directory_changed(gz.pk)
    assert client.get(url("directory")).context["page"].paginator.count == 2
    assert len(names(client.get(url("directory")))) == 2
