import copy
from datetime import date

import pytest

from certification import services
from certification.models import CriteriaVersion, Program
from tests.certification.definitions import SMALL
from tests.conftest import region
from tests.enterprises.conftest import acme, colleague, outsider, owner  # noqa: F401 - shared personas


def make_program(
    tenant, *, code="test_srdi", owner_region=None, definition=None, start=date(2022, 6, 1), freeze=True
):
    program = Program.objects.create(
        tenant=tenant,
        code=code,
        name="测试专精特新",
        tier="srdi",
        owner_region=owner_region or tenant.root_region,
    )
    version = CriteriaVersion(
        program=program,
        label="test 2022",
        effective_from=start,
        definition=copy.deepcopy(definition or SMALL),
    )
    services.criteria_version_save(version=version, by=None)
    if freeze:
        services.criteria_version_freeze(version=version, by=None)
        version.refresh_from_db()
    return program, version


@pytest.fixture
def program(gz):
    return make_program(gz)


@pytest.fixture
def xz_program(xz):
    return make_program(xz, code="xz_srdi")


@pytest.fixture
def guiyang_program(gz):
    return make_program(gz, code="guiyang_only", owner_region=region(gz, "520100"))


# The workflow personas and builders (rounds, applications, officials of each level, experts).
from tests.certification.workflow_fixtures import (  # noqa: E402, F401
    draft,
    experts,
    media,
    province_approver,
    province_reviewer,
    ready,
    submitted,
    wf_program,
    wf_round,
    zunyi_official,
)
