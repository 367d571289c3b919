import copy

from certification.models import CriteriaVersion
from tests.certification.definitions import SMALL


def test_admin_refuses_a_bad_definition_with_the_position(admin_client, program):
    prog, _v = program
    bad = copy.deepcopy(SMALL)
    bad["base_conditions"][0]["expr"] = "size_class in ["
    import json

    response = admin_client.post(
        "/admin/certification/criteriaversion/add/",
        {
            "program": prog.pk,
            "label": "draft",
            "effective_from": "2027-01-01",
            "definition": json.dumps(bad),
            "source": "",
            "pending_confirmation": "",
        },
    )
    assert response.status_code == 200
    assert "base_conditions[0].expr" in response.content.decode()
    assert not CriteriaVersion.objects.filter(label="draft").exists()


def test_admin_shows_a_frozen_version_read_only(admin_client, program):
    _p, version = program
    response = admin_client.get(f"/admin/certification/criteriaversion/{version.pk}/change/")
    assert response.status_code == 200
    assert 'name="label"' not in response.content.decode()


def test_admin_lists_applications_read_only(admin_client, submitted):
    response = admin_client.get("/admin/certification/application/")
    assert response.status_code == 200
    assert "贵州黔芯精密机械有限公司" in response.content.decode()
    change = admin_client.get(f"/admin/certification/application/{submitted.pk}/change/")
    assert change.status_code == 200
    assert 'name="_save"' not in change.content.decode()
    assert admin_client.get("/admin/certification/application/add/").status_code == 403
