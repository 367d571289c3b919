"""Enterprise personas: 南明区's enterprise with its admin and a colleague; 云岩区's; 西藏's."""

from __future__ import annotations

import pytest

from enterprises.demo import demo_uscc
from enterprises.models import Enterprise, Industry, Membership
from tests.conftest import region
from tests.factories import UserFactory


def make_enterprise(
    tenant,
    county_code: str,
    serial: int,
    *,
    name: str = "",
    industry: str = "C3484",
    verified: bool = True,
    admin=None,
) -> Enterprise:
    from django.utils import timezone

    enterprise = Enterprise.objects.create(
        tenant=tenant,
        uscc=demo_uscc(county_code, serial),
        name=name or f"测试企业{serial}有限公司",
        county=region(tenant, county_code),
        address="创新大道1号",
        industry=Industry.objects.get(pk=industry),
        legal_representative="张三",
        contact_person="李四",
        contact_phone="13900000000",
        contact_email=f"e{serial}@example.cn",
        email_verified_at=timezone.now() if verified else None,
    )
    if admin is not None:
        Membership.objects.create(enterprise=enterprise, user=admin, role=Membership.Role.ADMIN)
    return enterprise


@pytest.fixture
def owner(db):
    return UserFactory(username="owner")


@pytest.fixture
def colleague(db):
    return UserFactory(username="colleague")


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def acme(gz, owner, colleague):
    enterprise = make_enterprise(gz, "520102", 1, name="贵州黔芯精密机械有限公司", admin=owner)
    Membership.objects.create(enterprise=enterprise, user=colleague, role=Membership.Role.MEMBER)
    return enterprise


@pytest.fixture
def yunyan_enterprise(gz):
    return make_enterprise(
        gz, "520103", 2, name="云岩企业有限公司", admin=UserFactory(username="yunyan_owner")
    )


@pytest.fixture
def xz_enterprise(xz):
    return make_enterprise(xz, "540102", 3, name="西藏企业有限公司", admin=UserFactory(username="xz_owner"))
