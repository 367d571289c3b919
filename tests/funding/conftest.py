"""Funding personas and builders (style.md 22).

贵阳市 (520100) pays the demo city's awards under seed 003's schedule (国家级小巨人 200万, 省级专精特新
50万, 单项冠军企业 500万, 单项冠军产品 100万, 从高、不重复); its two funding officers and a third at the
province; 遵义市's officer is outside. acme (南明区, under 贵阳) has an owner and a colleague, so its bank
account can be entered by one and confirmed by the other. 西藏 is another tenant.

Certifications are written straight into the tables by certification's `Certifier` (publication through
the real services is exercised once, in test_entitlements); entitlements are then created by calling
`entitlements_create_for`, as the on-commit receiver would.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from enterprises.models import Membership
from funding import services
from funding.models import AwardLevel, AwardPolicy, Entitlement
from funding.services import AmountSpec
from portal.models import Post
from tests.certification.conftest import make_program
from tests.certification.test_directory import Certifier
from tests.certification.workflow_fixtures import (  # noqa: F401 - fixtures used by the funding tests
    chain_fixture,
    draft,
    experts,
    media,
    province_approver,
    province_reviewer,
    ready,
    wf_program,
    wf_round,
)
from tests.conftest import make_tenant, official, region
from tests.enterprises.conftest import acme, colleague, make_enterprise, outsider, owner  # noqa: F401
from tests.factories import UserFactory

L = AwardLevel
YUAN = Decimal

# seed 003 三、（一）2: "对新认定为国家级专精特新小巨人企业、省级专精特新企业分别给予200万元、50万元的一次性奖励。
# 对认定为单项冠军企业、单项冠军产品的，分别给予500万元、100万元的一次性奖励。同一企业按照从高、不重复原则给予奖励。"
SEED_003 = [
    AmountSpec(L.LITTLE_GIANT_NATIONAL, "2000000.00"),
    AmountSpec(L.SRDI, "500000.00"),
    AmountSpec(L.CHAMPION_ENTERPRISE, "5000000.00"),
    AmountSpec(L.CHAMPION_PRODUCT, "1000000.00"),
]


def make_policy(
    tenant,
    region_code: str,
    *,
    code: str = "demo_city_2022",
    amounts=None,
    group: str = "demo-city",
    covers_from: date = date(2022, 1, 1),
    covers_to: date | None = None,
    relocation: bool = True,
    budget: Decimal | str | None = "10000000.00",
) -> AwardPolicy:
    policy = services.award_policy_save(
        policy=AwardPolicy(
            tenant=tenant,
            code=code,
            name=f"{code} 奖励",
            region=region(tenant, region_code),
            source="seed 003 三、（一）2",
            stacking_group=group,
            covers_from=covers_from,
            covers_to=covers_to,
            relocation_counts_as_new=relocation,
        ),
        amounts=amounts or SEED_003,
        by=None,
        actor_label="test",
    )
    if budget is not None:
        services.budget_allocate(
            policy=policy, year=timezone.localdate().year, amount=budget, by=None, actor_label="test"
        )
    return policy


@pytest.fixture
def xj(db):
    return make_tenant("xj", "新疆维吾尔自治区", "650000")


@pytest.fixture
def guiyang_funding(gz):
    return official(gz, "520100", Post.Role.FUNDING_OFFICER, username="guiyang_funding")


@pytest.fixture
def guiyang_funding2(gz):
    return official(gz, "520100", Post.Role.FUNDING_OFFICER, username="guiyang_funding2")


@pytest.fixture
def guiyang_funding3(gz):
    return official(gz, "520100", Post.Role.FUNDING_OFFICER, username="guiyang_funding3")


@pytest.fixture
def gz_funding(gz):
    """A provincial funding officer: sees the cities' awards, acts on none of them."""
    return official(gz, "520000", Post.Role.FUNDING_OFFICER, username="gz_funding")


@pytest.fixture
def zunyi_funding(gz):
    return official(gz, "520300", Post.Role.FUNDING_OFFICER, username="zunyi_funding")


@pytest.fixture
def city_policy(gz):
    """贵阳 pays the demo city's schedule (seed 003), with a budget of 1000万 this year."""
    return make_policy(gz, "520100")


@pytest.fixture
def certifier(gz):
    program, version = make_program(gz, code="direct_srdi")
    return Certifier(gz, program, version)


def certify(certifier, enterprise, *, issued_on: date | None = None, program=None) -> list[Entitlement]:
    """A certification of `enterprise` and the entitlements it creates (as the receiver would)."""
    certification = certifier.certify(enterprise, issued_on=issued_on or date(2025, 6, 1), program=program)
    services.entitlements_create_for(certification=certification)
    return list(Entitlement.objects.filter(certification=certification).order_by("pk"))


def national_little_giant(enterprise, by, *, certified_on: date = date(2025, 7, 1)) -> list[Entitlement]:
    """工信部's national little giant list names the enterprise: an officer records it."""
    _external, created = services.external_certification_record(
        enterprise=enterprise,
        level=L.LITTLE_GIANT_NATIONAL,
        title="工业和信息化部第七批专精特新“小巨人”企业名单",
        reference="工信部企业函〔2025〕1号",
        certified_on=certified_on,
        by=by,
    )
    return created


def with_account(enterprise, entered_by=None, confirmed_by=None, *, number="6222021234567890123"):
    """A confirmed bank account: entered by one member, confirmed by another (made members if needed)."""
    entered_by = entered_by or UserFactory()
    confirmed_by = confirmed_by or UserFactory()
    for user in (entered_by, confirmed_by):
        Membership.objects.get_or_create(enterprise=enterprise, user=user)
    account = services.bank_account_propose(
        enterprise=enterprise,
        by=entered_by,
        account_name=enterprise.name,
        bank_name="中国工商银行贵阳南明支行",
        account_number=number,
    )
    return services.bank_account_confirm(account=account, by=confirmed_by)


def enterprises_of_nanming(gz, n: int, start: int = 100):
    return [make_enterprise(gz, "520102", start + i, name=f"南明测试{start + i}有限公司") for i in range(n)]


@pytest.fixture(autouse=True)
def english():
    """Service messages are read in English here (the portal's default language is zh-hans); the pages'
    tests ask for their language with the cookie, per request."""
    from django.utils import translation

    with translation.override("en"):
        yield
