import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enterprises.models import Enterprise
from portal.models import Post
from tests.conftest import official
from tests.enterprises.conftest import make_enterprise
from tests.factories import PASSWORD


@pytest.fixture
def nanming(gz):
    return official(gz, "520102", Post.Role.COUNTY_REVIEWER, username="nm")


@pytest.fixture
def yunyan(gz):
    return official(gz, "520103", Post.Role.COUNTY_REVIEWER, username="yy")


@pytest.fixture
def guiyang(gz):
    return official(gz, "520100", Post.Role.PREFECTURE_REVIEWER, username="gy")


def test_registration_page_registers_and_signs_in(client, gz, mailoutbox, django_capture_on_commit_callbacks):
    from enterprises.demo import demo_uscc
    from portal.models import Region

    county = Region.objects.get(tenant=gz, code="520102")
    code = demo_uscc("520102", 55)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/gz/register/",
            {
                "username": "newco",
                "password1": "Long-password-1",
                "password2": "Long-password-1",
                "uscc": code.lower(),
                "name": "新企业有限公司",
                "county": county.pk,
                "address": "一号路",
                "industry": "C3484 机械零部件加工",
                "legal_representative": "王",
                "contact_person": "赵",
                "contact_phone": "139 1234 5678",
                "contact_email": "n@example.cn",
            },
        )
    assert response.status_code == 302 and response["Location"] == "/gz/enterprise/"
    enterprise = Enterprise.objects.get(uscc=code)
    assert enterprise.contact_phone == "13912345678"
    assert client.get("/gz/enterprise/").status_code == 200
    assert len(mailoutbox) == 1


def test_registration_errors_name_the_field_and_keep_what_was_typed(client, gz):
    response = client.post(
        "/gz/register/",
        {"username": "newco", "uscc": "91110000600037341M", "name": "留下的名字", "contact_phone": "123"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "统一社会信用代码" in html and "校验" in html
    assert "手机" in html
    assert 'value="留下的名字"' in html
    assert not Enterprise.objects.exists()


def test_tenant_home_links_to_registration(client, gz):
    html = client.get("/gz/").content.decode()
    assert 'href="/gz/register/"' in html and "注册" in html


def test_county_official_sees_the_enterprise_and_the_neighbour_does_not(
    client, acme, nanming, yunyan, guiyang
):
    client.force_login(nanming)
    assert acme.name in client.get("/gz/enterprises/").content.decode()
    assert client.get(f"/gz/enterprises/{acme.pk}/").status_code == 200
    client.force_login(yunyan)
    assert acme.name not in client.get("/gz/enterprises/").content.decode()
    assert client.get(f"/gz/enterprises/{acme.pk}/").status_code == 404
    client.force_login(guiyang)
    assert client.get(f"/gz/enterprises/{acme.pk}/").status_code == 200


def test_another_tenants_official_gets_404(client, acme, xz):
    tibet = official(xz, "540000", Post.Role.PROVINCIAL_REVIEWER, username="tibet")
    client.force_login(tibet)
    assert client.get(f"/gz/enterprises/{acme.pk}/").status_code == 404
    assert client.get(f"/xz/enterprises/{acme.pk}/").status_code == 404


def test_enterprise_users_and_outsiders_cannot_use_the_officials_pages(client, acme, owner, outsider):
    client.force_login(owner)
    assert client.get("/gz/enterprises/").status_code == 404
    assert client.get(f"/gz/enterprises/{acme.pk}/").status_code == 404
    client.force_login(outsider)
    assert client.get("/gz/enterprise/").status_code == 302  # no enterprise: sent to the landing page


def test_members_see_their_enterprise_with_size_class_and_ratios(client, acme, colleague):
    client.force_login(colleague)
    response = client.get("/gz/enterprise/")
    assert response.status_code == 200
    html = response.content.decode()
    assert acme.name in html and 'data-testid="size-class"' in html


def test_only_admins_edit_the_profile(client, acme, owner, colleague):
    client.force_login(colleague)
    assert client.get("/gz/enterprise/profile/").status_code == 403
    client.force_login(owner)
    assert client.get("/gz/enterprise/profile/").status_code == 200


def test_a_half_filled_figures_form_keeps_what_was_typed(client, acme, owner):
    client.force_login(owner)
    response = client.post(
        "/gz/enterprise/figures/",
        {"fiscal_year": 2025, "revenue": "100", "rd_expense": "12.5", "main_business_revenue": "150"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="12.5"' in html and 'value="150"' in html
    assert "主营业务收入不能超过营业收入" in html


def test_officials_export_the_list_to_excel(client, acme, nanming):
    from io import BytesIO

    from openpyxl import load_workbook

    client.force_login(nanming)
    response = client.get("/gz/enterprises/?format=xlsx")
    assert response.status_code == 200
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[1][0] == acme.name and rows[1][1] == acme.uscc


def test_officials_list_filters(client, gz, acme, yunyan_enterprise, guiyang):
    client.force_login(guiyang)
    page = client.get("/gz/enterprises/", {"q": acme.uscc}).context["page"]
    assert [e.pk for e in page] == [acme.pk]
    page = client.get("/gz/enterprises/", {"q": "云岩"}).context["page"]
    assert [e.pk for e in page] == [yunyan_enterprise.pk]
    page = client.get("/gz/enterprises/", {"industry": "C34"}).context["page"]
    assert len(page) == 2


def test_the_officials_list_costs_the_same_queries_for_10_or_60_rows(client, gz, guiyang):
    for serial in range(60):
        make_enterprise(gz, "520102" if serial % 2 else "520103", 1000 + serial)
    client.force_login(guiyang)
    client.get("/gz/enterprises/", {"per_page": 10})  # warm the session and tenant caches
    with CaptureQueriesContext(connection) as small:
        assert len(client.get("/gz/enterprises/", {"per_page": 10}).context["page"]) == 10
    with CaptureQueriesContext(connection) as large:
        assert len(client.get("/gz/enterprises/", {"per_page": 60}).context["page"]) == 60
    assert len(small.captured_queries) == len(large.captured_queries)


def test_sign_in_as_enterprise_lands_on_the_dashboard_with_the_enterprise_card(client, acme, owner):
    response = client.post("/gz/login/", {"username": "owner", "password": PASSWORD}, follow=True)
    assert acme.name in response.content.decode()


def test_an_enterprise_cannot_reach_another_enterprises_records(client, acme, owner, yunyan_enterprise):
    from datetime import date

    from enterprises.models import IPItem, Membership, Qualification

    item = IPItem.objects.create(
        enterprise=yunyan_enterprise, ip_type="invention", number="X1", title="t", grant_date=date(2024, 1, 1)
    )
    qualification = Qualification.objects.create(
        enterprise=yunyan_enterprise, kind="high_tech", title="q", issued_on=date(2024, 1, 1)
    )
    their_admin = Membership.objects.get(enterprise=yunyan_enterprise)
    client.force_login(owner)
    assert client.get(f"/gz/enterprise/ip/{item.pk}/").status_code == 404
    assert client.post(f"/gz/enterprise/ip/{item.pk}/", {"title": "stolen"}).status_code == 404
    assert client.get(f"/gz/enterprise/qualifications/{qualification.pk}/").status_code == 404
    assert client.post(f"/gz/enterprise/records/ip/{item.pk}/delete/").status_code == 404
    assert client.post(f"/gz/enterprise/members/{their_admin.pk}/remove/").status_code == 404
    assert (
        client.post(f"/gz/enterprise/members/{their_admin.pk}/role/", {"role": "member"}).status_code == 404
    )
    item.refresh_from_db()
    assert item.title == "t" and Membership.objects.filter(pk=their_admin.pk, role="admin").exists()
