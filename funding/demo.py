"""Demo data of funding: the seed documents' award schedules as policies, budgets, funding officers, bank
accounts, and awards at every state the pages show.

- 贵州 (seed 003): "示范市（演示）" — seed 003 is a city's plan that does not name its city, so its schedule
  ships as a clearly fictional demo city's policy. It needs a paying region of the tenant; 贵阳市 (520100)
  holds it because the demo's certified enterprises sit in its districts. The policy's name says it is a
  demonstration, not 贵阳's real policy.
- 贵州 (seed 002): the province's little-giant awards (省级 and 国家级 “小巨人”, 就高原则). Seed 002 promises
  "一次性奖励" without amounts; the demo amounts are marked as such in the policy's source.
- 新疆 (seed 004): 博州's awards for enterprises newly certified in 2023–2025 (小巨人 100万, 专精特新 25万).

Officers: portal's seed_demo makes `gz_funding` and `xj_funding` the provinces' funding officers; here they
also get a post at the paying region of the demo policies (贵阳市, 博州), beside `gz_funding2`, `gz_funding3`
and `xj_funding2` there: one approves awards, another prepares a batch, a third approves it above the
threshold.

Stories (贵州, 贵阳's certified enterprises in the order they were certified): the first was approved,
batched, approved by a second officer and paid, and then named a national little giant, so its 150万
top-up waits for review (and the province's national award with it); the second is approved and waits for
a batch; any others wait for review. An enterprise that moved in (seed 003 三、（一）4) claimed the award as
newly certified and was rejected with a reason. Each of the first two has a
bank account entered by its admin and confirmed by a finance member. 博州: an enterprise on the 自治区's
SRDI list of 2024 has its 25万 award waiting.

Everything goes through funding.services with the demo's officers as actors, so audit events, ledger
entries and notifications are the portal's own. Idempotent: a policy that exists is left as it is, and the
stories are played only when the policy has no entitlement yet.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from enterprises.models import Enterprise, Membership
from funding import services
from funding.models import AwardLevel, AwardPolicy, Entitlement, ExternalCertification
from funding.services import AmountSpec
from portal.models import Post, Region, Tenant, User

L = AwardLevel
LABEL = "seed_demo"

SEED_002 = (
    "seed 002《贵州省“专精特新”中小企业培育实施方案》六、（二）：“每年在省‘专精特新’中小企业中择优支持一批贵州省"
    "专精特新‘小巨人’企业，在省中小专项资金中安排经费给予一次性奖励……获国家专精特新‘小巨人’企业认定的，在省中小"
    "专项资金中安排经费给予一次性奖励，同时获省和国家专精特新‘小巨人’企业认定的按就高原则进行奖励。”"
    "文件未列明金额：本演示政策的金额为演示数据。"
)
SEED_003 = (
    "seed 003《专精特新中小企业高质量发展方案》三、（一）2：“对新认定为国家级专精特新小巨人企业、省级专精特新企业"
    "分别给予200万元、50万元的一次性奖励。对认定为单项冠军企业、单项冠军产品的，分别给予500万元、100万元的一次性"
    "奖励。同一企业按照从高、不重复原则给予奖励。”三、（一）4：“对整体迁入本市且正常经营一年的省级以上专精特新"
    "企业参照新认定补贴标准执行。”原文未写明城市：本政策为演示用的虚构城市“示范市（演示）”，由贵阳市的资金账户演示"
    "拨付。"
)
SEED_004 = (
    "seed 004 博州政办发〔2023〕62号《自治州专精特新中小企业倍增培育行动计划（2023—2025年）》三、（一）2："
    "“对2023—2025年新认定的专精特新‘小巨人’企业、专精特新中小企业，分别给予100万元、25万元的一次性奖励。”"
)


def _officer(
    tenant: Tenant, username: str, code: str, label: str, password_hash: str
) -> tuple[str, str, str]:
    from certification.demo import _post

    region = Region.objects.get(tenant=tenant, code=code)
    _post(tenant, username, region, Post.Role.FUNDING_OFFICER, label, password_hash)
    return (username, tenant.code, f"funding officer · {region.name}")


def _policy(
    tenant: Tenant, code: str, region_code: str, amounts: list[AmountSpec], **fields
) -> tuple[AwardPolicy, bool]:
    existing = AwardPolicy.objects.filter(tenant=tenant, code=code).first()
    if existing is not None:
        return existing, False
    policy = AwardPolicy(
        tenant=tenant, code=code, region=Region.objects.get(tenant=tenant, code=region_code), **fields
    )
    return services.award_policy_save(policy=policy, amounts=amounts, by=None, actor_label=LABEL), True


def _finance_member(enterprise: Enterprise, admin: User, password_hash: str) -> User:
    """A second member of the enterprise (its finance officer) who confirms the bank account."""
    username = f"{admin.username}_cw"
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"display_name": f"{enterprise.name[:6]}财务", "email": f"{username}@example.cn"},
    )
    if created:
        user.password = password_hash
        user.save(update_fields=["password"])
    Membership.objects.get_or_create(
        enterprise=enterprise, user=user, defaults={"role": Membership.Role.MEMBER}
    )
    return user


def _account(enterprise: Enterprise, password_hash: str, serial: int) -> list[tuple[str, str, str]]:
    if services.bank_account_effective(enterprise) is not None:
        return []
    admin = (
        Membership.objects.filter(enterprise=enterprise, role=Membership.Role.ADMIN)
        .select_related("user")
        .first()
    )
    if admin is None:
        return []
    finance = _finance_member(enterprise, admin.user, password_hash)
    account = services.bank_account_propose(
        enterprise=enterprise,
        by=admin.user,
        account_name=enterprise.name,
        bank_name="中国工商银行贵阳分行营业部（演示）",
        account_number=f"6222 0224 0000 {serial:04d} 888",
    )
    services.bank_account_confirm(account=account, by=finance)
    return [(finance.username, enterprise.tenant.code, f"enterprise finance member · {enterprise.name}")]


def _gz(tenant: Tenant, password_hash: str, log) -> list[tuple[str, str, str]]:
    rows = [
        _officer(tenant, "gz_funding", "520100", "资金管理员", password_hash),
        _officer(tenant, "gz_funding2", "520100", "资金复核员", password_hash),
        _officer(tenant, "gz_funding3", "520100", "资金审批员", password_hash),
    ]
    officer, second = User.objects.get(username="gz_funding"), User.objects.get(username="gz_funding2")
    year = timezone.localdate().year
    city, created = _policy(
        tenant,
        "demo_city_2022",
        "520100",
        [
            AmountSpec(L.LITTLE_GIANT_NATIONAL, "2000000"),
            AmountSpec(L.SRDI, "500000"),
            AmountSpec(L.CHAMPION_ENTERPRISE, "5000000"),
            AmountSpec(L.CHAMPION_PRODUCT, "1000000"),
        ],
        name="示范市（演示）专精特新企业一次性奖励",
        source=SEED_003,
        stacking_group="demo-city",
        covers_from=date(2022, 1, 1),
        relocation_counts_as_new=True,
    )
    province, _created = _policy(
        tenant,
        "gz_little_giant",
        "520000",
        [AmountSpec(L.LITTLE_GIANT_NATIONAL, "1000000"), AmountSpec(L.LITTLE_GIANT_PROVINCIAL, "300000")],
        name="贵州省专精特新“小巨人”企业一次性奖励（演示金额）",
        source=SEED_002,
        stacking_group="gz-little-giant",
        covers_from=date(2021, 1, 1),
    )
    if not created:
        return rows
    services.budget_allocate(policy=city, year=year, amount="10000000", by=None, actor_label=LABEL)
    services.budget_allocate(policy=province, year=year, amount="5000000", by=None, actor_label=LABEL)
    services.entitlements_backfill(policy=city)
    services.entitlements_backfill(policy=province)
    pending = list(
        Entitlement.objects.filter(policy=city, state=Entitlement.State.PENDING)
        .select_related("enterprise")
        .order_by("basis_date", "pk")
    )
    region = city.region
    if pending:
        paid = services.entitlement_approve(entitlement=pending[0], by=officer)
        rows += _account(paid.enterprise, password_hash, 1)
        batch = services.batch_prepare(
            tenant=tenant, region=region, entitlements=[paid], by=officer, note="演示：第一批奖励资金拨付"
        )
        batch = services.batch_approve(batch=batch, by=second)
        line = batch.lines.get()
        services.batch_line_mark_paid(line=line, bank_reference=f"ICBC{year}1201-0001", by=officer)
        # then named a national little giant: 150万 more from the city, and the province's award
        services.external_certification_record(
            enterprise=paid.enterprise,
            level=L.LITTLE_GIANT_NATIONAL,
            title="工业和信息化部第七批专精特新“小巨人”企业名单（演示）",
            reference="工信部企业函〔2025〕（演示）",
            certified_on=date(year, 7, 1)
            if date(year, 7, 1) <= timezone.localdate()
            else date(year - 1, 7, 1),
            by=officer,
        )
    if len(pending) > 1:
        approved = services.entitlement_approve(entitlement=pending[1], by=officer)
        rows += _account(approved.enterprise, password_hash, 2)
    # seed 003 三、（一）4: an enterprise that moved in claims the award as newly certified; the officer
    # finds it did not operate normally for the year and rejects the claim.
    mover = Enterprise.objects.for_tenant(tenant).filter(name="贵阳南明精工轴承有限公司").first()
    if mover is not None and not ExternalCertification.objects.filter(enterprise=mover).exists():
        _external, claims = services.external_certification_record(
            enterprise=mover,
            level=L.SRDI,
            title="浙江省专精特新中小企业名单（迁入前认定，演示）",
            reference="浙经信企业〔2022〕（演示）",
            certified_on=date(2022, 6, 1),
            basis=ExternalCertification.Basis.RELOCATED,
            moved_in_on=date(2024, 9, 1),
            by=officer,
        )
        for claim in claims:
            services.entitlement_reject(
                entitlement=claim,
                by=second,
                reason="经核查，该企业迁入后2025年停产四个月，未满足“整体迁入本市且正常经营一年”的条件。（演示）",
            )
    counts = {
        state: Entitlement.objects.filter(policy__tenant=tenant, state=state).count()
        for state in Entitlement.State.values
    }
    log(f"gz: funding: {', '.join(f'{k} {v}' for k, v in counts.items() if v)}")
    return rows


def _xj(tenant: Tenant, password_hash: str, log) -> list[tuple[str, str, str]]:
    rows = [
        _officer(tenant, "xj_funding", "652700", "资金管理员", password_hash),
        _officer(tenant, "xj_funding2", "652700", "资金复核员", password_hash),
    ]
    policy, created = _policy(
        tenant,
        "bortala_2023_2025",
        "652700",
        [AmountSpec(L.LITTLE_GIANT_NATIONAL, "1000000"), AmountSpec(L.SRDI, "250000")],
        name="博州2023—2025年新认定专精特新企业一次性奖励",
        source=SEED_004,
        stacking_group="bortala-2023",
        covers_from=date(2023, 1, 1),
        covers_to=date(2025, 12, 31),
    )
    if not created:
        return rows
    services.budget_allocate(
        policy=policy, year=timezone.localdate().year, amount="2000000", by=None, actor_label=LABEL
    )
    services.entitlements_backfill(policy=policy)
    # The demo's 博州 certifications are cultivation-library entries (no award); the 自治区's SRDI list is
    # decided outside the portal: an officer records one entry of it.
    enterprise = (
        Enterprise.objects.for_tenant(tenant)
        .filter(county__path__startswith=policy.region.path, name="阿拉山口铜基新材料有限公司")
        .first()
    )
    if enterprise is not None and not ExternalCertification.objects.filter(enterprise=enterprise).exists():
        services.external_certification_record(
            enterprise=enterprise,
            level=L.SRDI,
            title="新疆维吾尔自治区2024年度专精特新中小企业名单（演示）",
            reference="新工信中小〔2024〕（演示）",
            certified_on=date(2024, 11, 20),
            by=None,
            actor_label=LABEL,
        )
    log(f"xj: funding: {Entitlement.objects.filter(policy=policy).count()} entitlements")
    return rows


def seed_funding(tenant: Tenant, *, password_hash: str, log) -> list[tuple[str, str, str]]:
    """portal.demo seeder: see the module's docstring. Returns the accounts it created or found."""
    if tenant.code == "gz":
        return _gz(tenant, password_hash, log)
    if tenant.code == "xj":
        return _xj(tenant, password_hash, log)
    return []
