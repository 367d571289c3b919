import copy
import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from certification import services
from certification.models import CriteriaVersion, Screening, ScreeningBatch
from enterprises.models import AnnualFigures
from enterprises.services import enterprise_refresh_facts
from portal.models import Post
from tests.certification.conftest import make_program
from tests.certification.definitions import SMALL
from tests.conftest import official, region
from tests.enterprises.conftest import make_enterprise

D = Decimal
GOOD = {
    "industry_code": "C3484",
    "employees_y1": 100,
    "revenue_y1": "2000",
    "revenue_y2": "1800",
    "rd_expense_y1": "100",
    "total_assets_y1": "3000",
    "total_liabilities_y1": "1200",
    "own_brand": True,
    "high_tech_enterprise": False,
    "negative_false_info": False,
}


def test_an_invalid_version_is_refused_at_save_with_the_position(gz):
    program, _v = make_program(gz)
    bad = copy.deepcopy(SMALL)
    bad["groups"][0]["indicators"][0]["value"] = "turnover_y1"
    version = CriteriaVersion(program=program, label="bad", effective_from=date(2026, 4, 1), definition=bad)
    with pytest.raises(ValidationError) as info:
        services.criteria_version_save(version=version, by=None)
    assert (
        "groups[0].indicators[0].value: unknown fact(s): turnover_y1" in info.value.message_dict["definition"]
    )
    assert not CriteriaVersion.objects.filter(label="bad").exists()


def test_a_frozen_version_never_changes(program):
    _program, version = program
    version.definition = copy.deepcopy(SMALL) | {"pass_score": 10}
    with pytest.raises(ValidationError):
        services.criteria_version_save(version=version, by=None)
    assert CriteriaVersion.objects.get(pk=version.pk).definition["pass_score"] == 30


def test_the_version_in_force_follows_the_date(gz):
    program, v2022 = make_program(gz)
    v2026 = CriteriaVersion(
        program=program,
        label="2026",
        effective_from=date(2026, 4, 1),
        definition=copy.deepcopy(SMALL) | {"pass_score": 20},
    )
    services.criteria_version_save(version=v2026, by=None)
    assert services.version_in_force(program, date(2026, 5, 1)) == v2022  # a draft is not in force
    services.criteria_version_freeze(version=v2026, by=None)
    assert services.version_in_force(program, date(2026, 3, 31)) == v2022
    assert services.version_in_force(program, date(2026, 4, 1)) == v2026
    with pytest.raises(ValidationError):
        services.version_in_force(program, date(2020, 1, 1))


def test_screening_is_idempotent_by_facts_and_version(gz, program):
    _p, version = program
    enterprise = make_enterprise(gz, "520102", 50)
    first = services.screening_record(enterprise=enterprise, version=version, purpose="self")
    again = services.screening_record(enterprise=enterprise, version=version, purpose="self")
    assert first.pk == again.pk and Screening.objects.count() == 1
    AnnualFigures.objects.create(enterprise=enterprise, fiscal_year=date.today().year - 1, revenue=D(1))
    changed = services.screening_record(enterprise=enterprise, version=version, purpose="self")
    assert changed.pk != first.pk and Screening.objects.count() == 2


def test_facts_change_screens_the_enterprise_in_the_background(
    gz, program, guiyang_program, xz, django_capture_on_commit_callbacks
):
    enterprise = make_enterprise(gz, "520102", 51)
    zunyi = make_enterprise(gz, "520302", 52)
    with django_capture_on_commit_callbacks(execute=True):
        enterprise_refresh_facts(enterprise=enterprise)
        enterprise_refresh_facts(enterprise=zunyi)
    # 南明区 is under 贵阳市: both programmes; 遵义's enterprise only the province's
    assert Screening.objects.filter(enterprise=enterprise, purpose="background").count() == 2
    assert Screening.objects.filter(enterprise=zunyi, purpose="background").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert enterprise_refresh_facts(enterprise=enterprise) is False  # unchanged facts: nothing new
    assert Screening.objects.filter(enterprise=enterprise).count() == 2


def test_batch_screens_the_region_with_progress_and_is_idempotent(
    gz, program, django_capture_on_commit_callbacks
):
    _p, version = program
    for serial in range(5):
        e = make_enterprise(gz, "520102" if serial % 2 else "520302", 60 + serial)
        AnnualFigures.objects.create(
            enterprise=e,
            fiscal_year=date.today().year - 1,
            revenue=D(2000 + serial),
            rd_expense=D(100),
            employees=50,
            total_assets=D(3000),
            total_liabilities=D(1000),
        )
        enterprise_refresh_facts(enterprise=e)
    Screening.objects.all().delete()
    admin = official(gz, "520100", Post.Role.PREFECTURE_REVIEWER)
    with django_capture_on_commit_callbacks(execute=True):
        batch = services.screening_batch_start(
            tenant=gz, version=version, region=region(gz, "520100"), by=admin
        )
    batch.refresh_from_db()
    assert (batch.status, batch.total, batch.done) == ("done", 2, 2)  # only 贵阳市's two
    assert sum(batch.counts.values()) == 2
    assert Screening.objects.filter(version=version).count() == 2
    # the same batch run again (a redelivered task) and a new batch over unchanged facts write nothing
    services.screening_batch_run(batch_id=batch.pk)
    again = ScreeningBatch.objects.create(tenant=gz, version=version, region=region(gz, "520100"))
    again = services.screening_batch_run(batch_id=again.pk)
    assert (again.status, again.done, again.written) == ("done", 2, 0)
    assert again.counts == batch.counts
    assert Screening.objects.filter(version=version).count() == 2


def _screen_command(*args):
    out = StringIO()
    call_command("screen", *args, stdout=out)
    return json.loads(out.getvalue())


def test_the_same_facts_give_the_same_result_by_page_command_and_api(client, gz, program, tmp_path, owner):
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(GOOD))
    by_command = _screen_command("--tenant", "gz", "--program", "test_srdi", "--facts", str(path))
    client.force_login(owner)
    by_api = client.post(
        "/api/v1/gz/programs/test_srdi/evaluate/", GOOD, content_type="application/json"
    ).json()
    assert by_command == by_api
    assert (
        by_command["verdict"] == "eligible"
        and by_command["score"] == 33
        and by_command["size_class"] == "small"
    )
    page = client.post(
        "/gz/calculator/",
        {
            "program": "test_srdi",
            **{k: str(v).lower() if isinstance(v, bool) else v for k, v in GOOD.items()},
        },
    )
    result = page.context["result"]
    assert (result.verdict, result.score, result.size_class) == ("eligible", 33, "small")
    assert result.facts_hash == by_api["facts_hash"]


def test_command_lists_programs(gz, program):
    listed = _screen_command("--tenant", "gz", "--list")
    assert listed[0]["code"] == "test_srdi" and listed[0]["tier"] == "srdi"
    assert (
        listed[0]["owner_region"] == "520000" and listed[0]["versions"][0]["effective_from"] == "2022-06-01"
    )


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"uscc": "91110000600037341M"}, "uscc"),
        ({"revenue_y1": "-5"}, "revenue_y1"),
        ({"industry_code": "C9999"}, "industry_code"),
        ({"turnover": 1}, "turnover"),
    ],
)
def test_command_exits_2_naming_the_field(gz, program, tmp_path, facts, field):
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts))
    with pytest.raises(SystemExit) as info:
        call_command(
            "screen",
            "--tenant",
            "gz",
            "--program",
            "test_srdi",
            "--facts",
            str(path),
            stdout=StringIO(),
            stderr=(err := StringIO()),
        )
    assert info.value.code == 2
    assert err.getvalue().startswith(f"{field}:")


def test_api_evaluate_errors_name_the_field(client, gz, program, owner):
    client.force_login(owner)
    response = client.post(
        "/api/v1/gz/programs/test_srdi/evaluate/", {"revenue_y1": "-1"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert "revenue_y1" in response.json()["error"]["fields"]


def test_isolation_of_programs_versions_and_batches(client, gz, xz, program, xz_program):
    _p, xz_version = xz_program
    gz_admin = official(gz, "520000", Post.Role.TENANT_ADMIN)
    client.force_login(gz_admin)
    assert (
        client.post(
            "/api/v1/gz/programs/xz_srdi/evaluate/", GOOD, content_type="application/json"
        ).status_code
        == 404
    )
    assert client.get(f"/gz/screening/versions/{xz_version.pk}/").status_code == 404
    batch = ScreeningBatch.objects.create(tenant=xz, version=xz_version, region=xz.root_region)
    assert client.get(f"/gz/screening/batches/{batch.pk}/").status_code == 404
    assert client.get(f"/gz/screening/batches/{batch.pk}/progress/").status_code == 404
    assert (
        client.post("/gz/screening/batches/", {"version": xz_version.pk, "region": "520000"}).status_code
        == 404
    )
    codes = [p["code"] for p in client.get("/api/v1/gz/programs/").json()]
    assert codes == ["test_srdi"]


def test_a_county_official_cannot_screen_another_county(client, gz, program):
    _p, version = program
    county = official(gz, "520102", Post.Role.COUNTY_REVIEWER)
    client.force_login(county)
    assert (
        client.post("/gz/screening/batches/", {"version": version.pk, "region": "520103"}).status_code == 404
    )
    response = client.post("/gz/screening/batches/", {"version": version.pk, "region": "520102"})
    assert response.status_code == 302
    batch = ScreeningBatch.objects.get()
    other = official(gz, "520103", Post.Role.COUNTY_REVIEWER)
    client.force_login(other)
    assert client.get(f"/gz/screening/batches/{batch.pk}/").status_code == 404


def test_self_evaluation_page(client, gz, program, acme, owner):
    client.force_login(owner)
    response = client.get("/gz/self-evaluation/")
    assert response.status_code == 200
    assert response.context["result"].verdict in ("eligible", "library", "ineligible", "excluded")
    assert Screening.objects.filter(enterprise=acme, purpose="self").count() == 1


def test_a_chunk_delivered_twice_counts_once(gz, program):
    _p, version = program
    for serial in range(3):
        enterprise_refresh_facts(enterprise=make_enterprise(gz, "520102", 80 + serial))
    Screening.objects.all().delete()
    batch = ScreeningBatch.objects.create(tenant=gz, version=version, region=gz.root_region)
    (chunk_id,) = services.screening_batch_plan(batch_id=batch.pk)
    assert services.screening_batch_chunk(chunk_id=chunk_id) == 3
    assert services.screening_batch_chunk(chunk_id=chunk_id) == 0
    batch.refresh_from_db()
    assert (batch.status, batch.done, batch.written, sum(batch.counts.values())) == ("done", 3, 3, 3)


def test_citations_show_document_names_not_internal_keys():
    from certification.templatetags.certification_tags import cite

    assert (
        cite("seed 002 四、2：营业收入2000万元以上")
        == "《贵州省推动中小企业“专精特新”发展实施方案》 四、2：营业收入2000万元以上"
    )
    assert "seed" not in cite("seed 004 三、1") and "domain.md" not in cite("domain.md §1.0")


@pytest.mark.parametrize("tenant_fixture", ["gz", "xz"])
def test_every_shipped_criteria_version_page_renders(db, client, request, tenant_fixture):
    """Each version the portal ships (certification/criteria) shows its conditions and indicators: an
    indicator without additive items once made the page fail (dict.items() in the template)."""
    tenant = request.getfixturevalue(tenant_fixture)
    assert services.criteria_load(tenant=tenant) > 0
    client.force_login(official(tenant, tenant.root_region.code, Post.Role.TENANT_ADMIN))
    versions = CriteriaVersion.objects.filter(program__tenant=tenant)
    assert versions.exists()
    for version in versions:
        response = client.get(f"/{tenant.code}/screening/versions/{version.pk}/")
        assert response.status_code == 200, version.label
        assert version.label in response.content.decode()
