"""Demo data of the cultivation library (培育库) for `seed_demo`.

新疆 (博州, seed 004): the four counties' targets for this year, with the minimums of 博州政办发〔2023〕62号
(博乐市 6, 阿拉山口市 4, 精河县 3, 温泉县 2) and plausible numbers of regulated industrial enterprises, so that the
minimum wins in 博乐市 (48 → ⌈4.8⌉ = 5 < 6) and 阿拉山口市 (22 → 3 < 4), the share wins in 精河县 (41 → 5 > 3) and
the two tie in 温泉县 (12 → 2). Entries at every stage, most from the background screening whose verdict is
`library` (the 博州培育库 rule: no more than three elements missing), a few added by hand, one moved twice and one
removed, so that 博乐市, 阿拉山口市 and 精河县 are short of their targets and 温泉县 meets it.

贵州: a few entries per demo county for 贵州省专精特新中小企业, added by hand by the county's reviewer (Guizhou's
criteria have no library rule, so no screening says `library` there).

Everything goes through `certification.library`, so the history rows and audit events are the portal's own;
the entries and their history are then dated back over the past months so the timeline reads as lived in.
Idempotent: a tenant that has library entries gets no new ones; a target that exists is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from certification import library, services
from certification.models import LibraryEntry, LibraryStageChange, LibraryTarget, Program, Screening
from enterprises.models import Enterprise
from portal.models import Region, Tenant, User

R, C, U = LibraryEntry.Stage.RESERVE, LibraryEntry.Stage.CULTIVATING, LibraryEntry.Stage.UPGRADING

XJ_SOURCE = "seed 004（博州政办发〔2023〕62号）二、（一）1：各县市每年推荐的入库企业数量原则上不少于辖区规上工业企业总数的10%"


@dataclass(frozen=True)
class DemoTarget:
    county: str
    regulated: int
    minimum: int


XJ_TARGETS = (
    DemoTarget("652701", 48, 6),  # 博乐市
    DemoTarget("652702", 22, 4),  # 阿拉山口市
    DemoTarget("652722", 41, 3),  # 精河县
    DemoTarget("652723", 12, 2),  # 温泉县
)


@dataclass(frozen=True)
class DemoEntry:
    enterprise: str  # the demo enterprise's name
    by: str  # username suffix of the official who keeps it: <tenant>_<by>
    stages: tuple[str, ...]  # the first is where it is added; each next one is a move
    notes: tuple[str, ...]  # one per stage: why it was added, why it moved
    removed: str = ""  # a reason: the entry is removed after its moves
    from_screening: bool = False
    days_ago: int = 150  # when it was added; moves are spread over the time since


ENTRIES: dict[str, tuple[str, tuple[DemoEntry, ...]]] = {
    "xj": (
        "srdi",
        (
            DemoEntry(
                "博尔塔拉赛里木农业科技有限公司",
                "county",
                (R, C),
                (
                    "背景筛查：要素缺项不超过3个，列入储备。",
                    "已建立县级研发中心，研发投入逐季提高，转入培育。",
                ),
                from_screening=True,
                days_ago=210,
            ),
            DemoEntry(
                "博乐市蒙元乳业有限公司",
                "county",
                (R,),
                ("背景筛查：研发费用占比和发明专利不足，列入储备，跟踪驼乳制品新工艺专利申请。",),
                from_screening=True,
                days_ago=120,
            ),
            DemoEntry(
                "博尔塔拉绿源农业科技有限公司",
                "county",
                (R, C),
                ("背景筛查结论为可入培育库。", "枸杞种苗组培技术已提交发明专利申请，转入培育。"),
                from_screening=True,
                days_ago=180,
            ),
            DemoEntry(
                "博乐市天山电子有限公司",
                "county",
                (R, C, U),
                (
                    "县工信局走访推荐：电子元件细分市场占有率稳步提升。",
                    "研发人员占比达到要求，转入培育。",
                    "各项条件基本满足，转入提升，辅导明年申报专精特新中小企业。",
                ),
                days_ago=300,
            ),
            DemoEntry(
                "博乐市西部钢结构有限公司",
                "county",
                (R,),
                ("县工信局推荐：钢结构构件本地配套率高。",),
                removed="企业已满足专精特新认定条件，转入本年度申报辅导，移出培育库。",
                days_ago=240,
            ),
            DemoEntry(
                "阿拉山口口岸物流装备有限公司",
                "county_alashankou",
                (R,),
                ("背景筛查：要素缺项2个，列入储备。",),
                from_screening=True,
                days_ago=160,
            ),
            DemoEntry(
                "阿拉山口口岸农副产品加工有限公司",
                "county_alashankou",
                (R,),
                ("背景筛查：脱水蔬菜工艺有特色，研发投入不足，列入储备。",),
                from_screening=True,
                days_ago=90,
            ),
            DemoEntry(
                "阿拉山口铜基新材料有限公司",
                "county_alashankou",
                (C, U),
                ("口岸园区推荐：铜基合金材料填补区内空白。", "已取得第二项发明专利，转入提升。"),
                days_ago=200,
            ),
            DemoEntry(
                "精河县艾比湖生物科技有限公司",
                "county2",
                (R, C),
                ("背景筛查结论为可入培育库。", "甘草提取物生产线完成数字化改造，转入培育。"),
                from_screening=True,
                days_ago=170,
            ),
            DemoEntry(
                "精河县绿洲番茄制品有限公司",
                "county2",
                (R,),
                ("背景筛查：研发费用占比偏低，列入储备，督促建立研发费用辅助账。",),
                from_screening=True,
                days_ago=60,
            ),
            DemoEntry(
                "精河县棉籽蛋白科技有限公司",
                "county2",
                (C, U),
                ("县工信局推荐：棉籽蛋白为自治州重点产业链配套产品。", "主营业务收入增长率达标，转入提升。"),
                days_ago=260,
            ),
            DemoEntry(
                "温泉县北鲵生态农业有限公司",
                "county_wenquan",
                (R,),
                ("背景筛查结论为可入培育库。",),
                from_screening=True,
                days_ago=100,
            ),
            DemoEntry(
                "温泉县天山牧业机械有限公司",
                "county_wenquan",
                (R, C),
                ("背景筛查：要素缺项1个，列入储备。", "牧业机械新产品通过鉴定，转入培育。"),
                from_screening=True,
                days_ago=190,
            ),
        ),
    ),
    "gz": (
        "gz_srdi",
        (
            DemoEntry(
                "贵州苗绣民族工艺品有限公司",
                "county",
                (R,),
                ("民族工艺品企业，适用营业收入门槛例外；发明专利不足，列入储备。",),
                days_ago=140,
            ),
            DemoEntry(
                "贵州黔味坊食品有限公司",
                "county",
                (R, C),
                ("区工信局走访推荐。", "申报材料退回后已补充研发费用专项审计，转入培育。"),
                days_ago=200,
            ),
            DemoEntry(
                "贵州云岩数据服务有限公司",
                "county2",
                (R,),
                ("数据中心运维服务增长快，营业收入尚未达标，列入储备。",),
                days_ago=80,
            ),
            DemoEntry(
                "贵州云岩建筑科技有限公司",
                "county2",
                (C, U),
                ("装配式钢结构细分领域领先。", "条件基本满足，转入提升。"),
                days_ago=220,
            ),
            DemoEntry(
                "贵州花溪茶业科技有限公司",
                "county_huaxi",
                (R, C),
                ("高原绿茶品牌培育对象。", "已建成茶叶加工数字化车间，转入培育。"),
                days_ago=190,
            ),
            DemoEntry(
                "贵阳花溪农业装备有限公司",
                "county_huaxi",
                (R,),
                ("山地农机细分市场潜力大，列入储备。",),
                days_ago=70,
            ),
            DemoEntry(
                "贵州云上医药物流有限公司",
                "county_guanshanhu",
                (R,),
                ("苗药制剂企业，列入储备跟踪。",),
                days_ago=110,
            ),
            DemoEntry(
                "贵阳金阳医疗器械有限公司",
                "county_guanshanhu",
                (C, U),
                ("便携式监护设备取得二类医疗器械注册证。", "各项指标达标，转入提升。"),
                days_ago=230,
            ),
            DemoEntry(
                "遵义赤水竹业科技有限公司",
                "county_honghuagang",
                (R,),
                ("竹材深加工企业，研发投入不足，列入储备。",),
                days_ago=130,
            ),
            DemoEntry(
                "遵义红花岗辣椒食品有限公司",
                "county_honghuagang",
                (R, C),
                ("辣椒调味品区域品牌。", "与高校共建研发中心，转入培育。"),
                days_ago=250,
            ),
            DemoEntry(
                "遵义汇川玻璃制品有限公司",
                "county_huichuan",
                (R,),
                ("汽车后视镜片配套企业，发明专利为零，列入储备。",),
                days_ago=90,
            ),
            DemoEntry(
                "遵义长征电器元件有限公司",
                "county_huichuan",
                (R, C),
                ("低压开关元件老字号。", "研发费用占比达到3%以上，转入培育。"),
                days_ago=210,
            ),
            DemoEntry(
                "安顺蜡染民族工艺品有限公司",
                "county_xixiu",
                (R, C),
                ("蜡染非遗工艺企业。", "取得外观设计专利3项，转入培育。"),
                days_ago=180,
            ),
            DemoEntry(
                "安顺黄果树饮品有限公司",
                "county_xixiu",
                (R,),
                ("天然矿泉饮品，研发投入偏低，列入储备。",),
                days_ago=60,
            ),
        ),
    ),
}


def seed_library(tenant: Tenant, *, password_hash: str, log) -> list[tuple[str, str, str]]:
    """Targets (博州) and entries; returns the accounts that show them, on every run."""
    if tenant.code == "xj":
        _targets(tenant, log)
    spec = ENTRIES.get(tenant.code)
    if spec is not None and not LibraryEntry.objects.filter(tenant=tenant).exists():
        # (a tenant with entries was seeded before, or keeps its library by hand: nothing is added)
        program = Program.objects.for_tenant(tenant).filter(code=spec[0]).first()
        if program is None:
            log(f"{tenant.code}: library demo skipped, no programme {spec[0]}")
        else:
            added = sum(_entry(tenant, program, demo, log) for demo in spec[1])
            log(f"{tenant.code}: {added} library entries")
    rows = []
    if LibraryTarget.objects.filter(tenant=tenant).exists() and tenant.code == "xj":
        rows.append(
            (
                "xj_prefecture",
                "xj",
                "培育库: sets the county targets of 博州 (seed 004) · /xj/library/targets/",
            )
        )
    if LibraryEntry.objects.filter(tenant=tenant).exists():
        rows.append(
            (
                f"{tenant.code}_county",
                tenant.code,
                f"培育库: keeps the library of its county · /{tenant.code}/library/",
            )
        )
    return rows


def _targets(tenant: Tenant, log) -> int:
    year = timezone.localdate().year
    by = User.objects.filter(username=f"{tenant.code}_prefecture").first()
    made = 0
    for spec in XJ_TARGETS:
        county = Region.objects.filter(tenant=tenant, code=spec.county).first()
        if county is None or LibraryTarget.objects.filter(region=county, year=year).exists():
            continue
        if by is None or not library.may_set_target(by, county):
            log(f"{tenant.code}: no prefecture official to set the library target of {spec.county}")
            continue
        library.library_target_save(
            region=county,
            year=year,
            regulated_enterprises=spec.regulated,
            share_percent=Decimal("10"),
            minimum=spec.minimum,
            source=XJ_SOURCE,
            by=by,
        )
        made += 1
    if made:
        log(f"{tenant.code}: {made} library targets for {year}")
    return made


def _entry(tenant: Tenant, program: Program, demo: DemoEntry, log) -> int:
    enterprise = (
        Enterprise.objects.for_tenant(tenant).filter(name=demo.enterprise).select_related("county").first()
    )
    by = User.objects.filter(username=f"{tenant.code}_{demo.by}").first()
    if enterprise is None or by is None:
        log(f"{tenant.code}: library demo skipped {demo.enterprise} (missing enterprise or {demo.by})")
        return 0
    screening = _library_screening(enterprise) if demo.from_screening else None
    note = demo.notes[0]
    if screening is not None:
        unmet = "、".join(
            u.get("label", "") for u in (screening.result.get("unmet") or [])[:3] if u.get("label")
        )
        if unmet:
            note = f"{note}（未满足：{unmet}）"
    try:
        entry = library.library_add(
            enterprise=enterprise,
            program=program,
            stage=demo.stages[0],
            by=by,
            note=note,
            screening=screening,
        )
        for stage, text in zip(demo.stages[1:], demo.notes[1:], strict=True):
            entry = library.library_move(entry=entry, to_stage=stage, note=text, by=by)
        if demo.removed:
            entry = library.library_remove(entry=entry, reason=demo.removed, by=by)
    except library.LibraryRefused as exc:
        log(f"{tenant.code}: library demo skipped {demo.enterprise}: {exc.message}")
        return 0
    _backdate(entry, demo.days_ago)
    return 1


def _library_screening(enterprise: Enterprise) -> Screening | None:
    """The enterprise's background screening with the verdict `library` against a programme whose version in
    force has a library rule (博州培育库). The facts-changed hook writes it after the commit that registered the
    enterprise; where that has not run (a worker down, a test's transaction), it is written here, the same way
    (`screening_record` is idempotent by facts)."""
    found = (
        Screening.objects.filter(
            enterprise=enterprise,
            verdict=Screening.Verdict.LIBRARY,
            purpose=Screening.Purpose.BACKGROUND,
            facts_hash=F("enterprise__facts_hash"),
        )
        .order_by("-created_at")
        .first()
    )
    if found is not None:
        return found
    today = timezone.localdate()
    for program in services.programs_for_enterprise(enterprise):
        version = program.version_on(today)
        if version is None or not (version.definition or {}).get("library"):
            continue
        screening = services.screening_record(
            enterprise=enterprise, version=version, purpose=Screening.Purpose.BACKGROUND
        )
        if screening.verdict == Screening.Verdict.LIBRARY:
            return screening
    return None


def _backdate(entry: LibraryEntry, days_ago: int) -> None:
    """Spread the entry's history from `days_ago` days back to a week ago, oldest first."""
    changes = list(entry.changes.order_by("at", "id"))
    start = timezone.now() - timedelta(days=days_ago)
    step = timedelta(days=max(1, (days_ago - 7) // max(1, len(changes))))
    for i, change in enumerate(changes):
        LibraryStageChange.objects.filter(pk=change.pk).update(at=start + i * step)
    updates = {"added_at": start}
    if entry.removed_at is not None:
        updates["removed_at"] = start + (len(changes) - 1) * step
    LibraryEntry.objects.filter(pk=entry.pk).update(**updates)
