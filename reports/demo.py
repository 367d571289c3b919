"""Demo data of the reports app: the seed documents' targets, quoted, and a few designations.

- 西藏 (seed 000, 《西藏自治区促进中小企业“专精特新”发展的工作方案》一、（三）): by the middle of the 14th five-year
  plan (read as 31 December 2023) 30 自治区级 SRDI enterprises, 15 demonstration enterprises, 5 recommended
  to the national little-giant list; by its end (31 December 2025) about 50, 10 of them with main-business
  revenue above 1亿元. 二、（一）: each prefecture recommends about 5 a year to the 自治区 (拉萨市, this year).
- 贵州 (seed 002 一): at least 100 SRDI enterprises certified a year during the 14th five-year plan (its
  last year, 2025, is recorded); 四、（一）: each prefecture recommends at least 20 a year (this year).
- 贵州, the demo city (seed 003 二、（一）): the plan does not name its city; as funding/demo.py does with its
  award schedule, its targets sit on 贵阳市 and their source says they belong to the fictional
  “示范市（演示）”: by 2025 5,000 innovative, 2,500 SRDI of which 500 provincial, 100 national little giants,
  30 single champions.
- 新疆, 博州 (seed 004 二): by 2025 from 37 to 70 innovative, from 21 to 27 SRDI, from none to 2 little giants,
  one listed company.

The targets are recorded through reports.services.target_save by the tenant's demo administrator, so their
audit events are the portal's own. Idempotent: a target already there (same region, measure, value and dates)
is left alone; designations are recorded once per enterprise and kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from certification.models import Certification
from portal.models import Region, Tenant, User
from reports import services
from reports.models import Designation, Target

M = Target.Metric

SEED_000 = (
    "seed 000《西藏自治区促进中小企业“专精特新”发展的工作方案》一、（三）：“到‘十四五’中期，力争培育30家主营业务"
    "突出、竞争力强、成长性高、专注于细分市场的自治区级‘专精特新’中小企业，并从中优选15家示范企业进行重点培育，从中"
    "筛选推荐5家申报国家级专精特新‘小巨人’企业……力争到‘十四五’末，自治区级‘专精特新’中小企业达50家左右，其中，"
    "主营业务收入1亿元以上的‘行业小巨人’10家。”"
)
SEED_000_MID = "（“十四五”中期按2023年12月31日计。）"
SEED_000_CITY = (
    "seed 000 二、（一）：“指导各市（地）开展市（地）级‘专精特新’中小企业培育，力争每年培育本级入库‘专精特新’中小"
    "企业5—20户，从中推荐申报自治区级‘专精特新’中小企业5户左右。”"
)
SEED_002_YEAR = (
    "seed 002《贵州省“专精特新”中小企业培育实施方案》一：“‘十四五’期间，年均培育认定‘专精特新’中小企业100户以上”"
    "（本条为“十四五”最后一年2025年的目标）。"
)
SEED_002_CITY = (
    "seed 002 四、（一）：“各市州要建立‘专精特新’中小企业培育库，每年推荐省级‘专精特新’培育企业不少于20户。”"
)
SEED_003 = (
    "seed 003《专精特新中小企业高质量发展方案》二、（一）：“到2025年，力争创新型中小企业达到5000家；专精特新企业达到"
    "2500家，其中省专精特新中小企业达到500家，国家专精特新小巨人企业达到100家，单项冠军企业（产品）达到30家。”"
    "原文未写明城市：本目标属于演示用的虚构城市“示范市（演示）”，由贵阳市演示。"
)
SEED_004 = (
    "seed 004 博州政办发〔2023〕62号《自治州专精特新中小企业倍增培育行动计划（2023—2025年）》二：“力争到2025年，"
    "创新型中小企业在现有37家的基础上累计培育到70家以上，专精特新企业在现有21家的基础上累计培育到27家以上，专精特新"
    "‘小巨人’企业在现有零的基础上累计培育到2家以上，推动1家专精特新中小企业上市。”"
)

MID_14TH = date(2023, 12, 31)
END_14TH = date(2025, 12, 31)


@dataclass(frozen=True)
class Spec:
    region: str  # a region code, or "prefectures" for every prefecture of the tenant
    metric: str
    value: int
    deadline: date
    source: str
    counts_from: date | None = None
    baseline: int | None = None


def _this_year() -> tuple[date, date]:
    year = timezone.localdate().year
    return date(year, 1, 1), date(year, 12, 31)


def specs(tenant_code: str) -> list[Spec]:
    start, end = _this_year()
    if tenant_code == "xz":
        return [
            Spec("540000", M.SRDI, 30, MID_14TH, SEED_000 + SEED_000_MID),
            Spec("540000", M.DEMONSTRATION, 15, MID_14TH, SEED_000 + SEED_000_MID),
            Spec("540000", M.RECOMMENDED_NATIONAL, 5, MID_14TH, SEED_000 + SEED_000_MID),
            Spec("540000", M.SRDI, 50, END_14TH, SEED_000),
            Spec("540000", M.SRDI_REVENUE, 10, END_14TH, SEED_000),
            Spec("540100", M.RECOMMENDED, 5, end, SEED_000_CITY, counts_from=start),
        ]
    if tenant_code == "gz":
        return [
            Spec("520000", M.SRDI, 100, END_14TH, SEED_002_YEAR, counts_from=date(2025, 1, 1)),
            Spec("prefectures", M.RECOMMENDED, 20, end, SEED_002_CITY, counts_from=start),
            Spec("520100", M.INNOVATIVE, 5000, END_14TH, SEED_003),
            Spec("520100", M.SRDI_ALL, 2500, END_14TH, SEED_003),
            Spec("520100", M.SRDI, 500, END_14TH, SEED_003),
            Spec("520100", M.NATIONAL_LITTLE_GIANT, 100, END_14TH, SEED_003),
            Spec("520100", M.SINGLE_CHAMPION, 30, END_14TH, SEED_003),
        ]
    if tenant_code == "xj":
        return [
            Spec("652700", M.INNOVATIVE, 70, END_14TH, SEED_004, baseline=37),
            Spec("652700", M.SRDI, 27, END_14TH, SEED_004, baseline=21),
            Spec("652700", M.NATIONAL_LITTLE_GIANT, 2, END_14TH, SEED_004, baseline=0),
            Spec("652700", M.LISTED, 1, END_14TH, SEED_004),
        ]
    return []


def _regions(tenant: Tenant, code: str) -> list[Region]:
    if code == "prefectures":
        return list(Region.objects.filter(tenant=tenant, parent=tenant.root_region).order_by("code"))
    return list(Region.objects.filter(tenant=tenant, code=code))


def seed_reports(tenant: Tenant, *, password_hash: str, log) -> list:
    admin = User.objects.filter(username=f"{tenant.code}_admin").first()
    if admin is None:
        return []
    created = 0
    for spec in specs(tenant.code):
        for region in _regions(tenant, spec.region):
            exists = Target.objects.filter(
                tenant=tenant,
                region=region,
                metric=spec.metric,
                value=spec.value,
                deadline=spec.deadline,
                counts_from=spec.counts_from,
            ).exists()
            if exists:
                continue
            target = Target(
                tenant=tenant,
                region=region,
                metric=spec.metric,
                value=spec.value,
                baseline=spec.baseline,
                counts_from=spec.counts_from,
                deadline=spec.deadline,
                source=spec.source,
            )
            services.target_save(target=target, by=admin)
            created += 1
    designated = _designations(tenant, admin)
    if created or designated:
        log(f"{tenant.code}: {created} targets, {designated} designations")
    return []


def _designations(tenant: Tenant, admin: User) -> int:
    """Tibet's demonstration enterprises and its recommendation to the national list (seed 000): the first
    enterprises the demo certified, so that the targets of those kinds count something."""
    if tenant.code != "xz":
        return 0
    certified = list(
        Certification.objects.filter(tenant=tenant, status=Certification.Status.ACTIVE)
        .select_related("enterprise__county", "enterprise__tenant")
        .order_by("issued_on", "pk")[:3]
    )
    plan = [(c.enterprise, Designation.Kind.DEMONSTRATION) for c in certified]
    plan += [(c.enterprise, Designation.Kind.RECOMMENDED_NATIONAL) for c in certified[:1]]
    done = 0
    for enterprise, kind in plan:
        if Designation.objects.filter(enterprise=enterprise, kind=kind).exists():
            continue
        services.designation_record(
            enterprise=enterprise,
            kind=kind,
            on=timezone.localdate().replace(month=1, day=15),
            reference=f"藏经信（演示）〔{timezone.localdate().year}〕1号",
            by=admin,
        )
        done += 1
    return done
