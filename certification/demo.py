"""Demo data of the certification app: the shipped programmes, and review rounds that look lived in.

`seed_programs` loads each tenant's shipped criteria. `seed_rounds` opens rounds with the quotas the
seed documents set and plays applications through the review chain up to every state a reviewer
meets: drafts, submissions waiting at a county, returns with their reasons, resubmissions, files at
the prefecture and at the last level with none, one or two expert scores, approvals, rejections and
withdrawals, spread over several counties and prefectures.

Everything goes through `certification.workflow` (round_save, application_start, application_save_draft,
application_attach, application_act, expert_assign, expert_score), so the history, snapshots,
screenings, quota uses, audit events and notifications are the ones the portal itself writes. Nothing
sets a state by hand.

Time: the services stamp their rows with the present, while a demo round happened over weeks. Each
application's steps are therefore taken on a clock of their own, passing `at=` wherever the workflow
takes it (submission, the officials' actions: the round's dates and deadlines are checked against it,
and it becomes submitted_at / decided_at), and the rows a step wrote for the application (history,
snapshots, expert assignments, quota uses) are dated back to that moment afterwards, so the timeline
reads in order. Audit events and notifications keep the time they were written: the audit log
records when the portal wrote something and is never rewritten.

A closed round is opened first (an application can only be started while its round is open), its
drafts are started, then round_save moves its dates back to last year before the rest is played.

Idempotent: a tenant whose seeded programmes already have a round gets nothing new, and officials,
experts and enterprises are looked up before they are created.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from certification import workflow
from certification.models import (
    Application,
    ApplicationSnapshot,
    Certification,
    ExpertAssignment,
    ExpertProfile,
    Level,
    Notice,
    NoticeEntry,
    Objection,
    Program,
    PublishedList,
    QuotaUse,
    ReviewEvent,
    Round,
)
from certification.services import criteria_load
from certification.transitions import APPROVE_ROLES, Action
from enterprises.demo import BY_TENANT, DemoEnterprise, demo_enterprise_create, demo_pdf, demo_uscc
from enterprises.documents import document_scan, document_upload
from enterprises.models import Document, Enterprise, Membership
from enterprises.services import enterprise_update_profile
from portal.audit import audit_record
from portal.models import Post, Region, Tenant, User
from portal.notifications import notification_send

S = Application.State
R = Post.Role


def seed_programs(tenant: Tenant, *, password_hash: str, log) -> list:
    created = criteria_load(tenant=tenant)
    if created:
        log(f"{tenant.code}: {created} criteria versions loaded")
    return []


# --- who reviews -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoOfficial:
    suffix: str  # username: <tenant>_<suffix>
    role: str
    region: str  # division code
    label: str  # appended to the region's name for the display name, as portal's seed_demo does


@dataclass(frozen=True)
class DemoExpert:
    suffix: str
    home_county: str  # experts are not assigned to applicants of their own county (回避)
    specialty: str


# portal's seed_demo already posts <t>_county, <t>_county2, <t>_prefecture, <t>_province, <t>_approver and
# <t>_expert; these are the reviewers of the other counties and prefectures the demo applications come from.
OFFICIALS: dict[str, list[DemoOfficial]] = {
    "gz": [
        DemoOfficial("county_huaxi", R.COUNTY_REVIEWER, "520111", "县区审核员"),
        DemoOfficial("county_guanshanhu", R.COUNTY_REVIEWER, "520115", "县区审核员"),
        DemoOfficial("county_honghuagang", R.COUNTY_REVIEWER, "520302", "县区审核员"),
        DemoOfficial("county_huichuan", R.COUNTY_REVIEWER, "520303", "县区审核员"),
        DemoOfficial("county_xixiu", R.COUNTY_REVIEWER, "520402", "县区审核员"),
        DemoOfficial("pref_zunyi", R.PREFECTURE_REVIEWER, "520300", "市州审核员"),
        DemoOfficial("pref_anshun", R.PREFECTURE_REVIEWER, "520400", "市州审核员"),
    ],
    "xz": [
        DemoOfficial("county_dazi", R.COUNTY_REVIEWER, "540104", "县区审核员"),
        DemoOfficial("county_sangzhuzi", R.COUNTY_REVIEWER, "540202", "县区审核员"),
        DemoOfficial("county_bayi", R.COUNTY_REVIEWER, "540402", "县区审核员"),
        DemoOfficial("county_naidong", R.COUNTY_REVIEWER, "540502", "县区审核员"),
        DemoOfficial("pref_rikaze", R.PREFECTURE_REVIEWER, "540200", "市州审核员"),
        DemoOfficial("pref_linzhi", R.PREFECTURE_REVIEWER, "540400", "市州审核员"),
        DemoOfficial("pref_shannan", R.PREFECTURE_REVIEWER, "540500", "市州审核员"),
    ],
    "xj": [
        DemoOfficial("county_alashankou", R.COUNTY_REVIEWER, "652702", "县区审核员"),
        DemoOfficial("county_wenquan", R.COUNTY_REVIEWER, "652723", "县区审核员"),
    ],
}

# The first of each list is portal's <t>_expert, who gets the profile that puts them in the pool.
EXPERTS: dict[str, list[DemoExpert]] = {
    "gz": [
        DemoExpert("expert", "520102", "装备制造"),
        DemoExpert("expert2", "520302", "电子信息与软件"),
        DemoExpert("expert3", "520111", "生物医药与化工"),
    ],
    "xz": [
        DemoExpert("expert", "540102", "藏医药"),
        DemoExpert("expert2", "540402", "高原特色食品"),
        DemoExpert("expert3", "540202", "新能源与新材料"),
    ],
    "xj": [
        DemoExpert("expert", "652701", "精细化工"),
        DemoExpert("expert2", "652722", "农产品加工"),
        DemoExpert("expert3", "650102", "装备制造与新材料"),
    ],
}


# --- who applies -------------------------------------------------------------------------------


def _e(key, county, name, industry, product, revenue, growth, rd, staff, patents, **extra) -> DemoEnterprise:
    return DemoEnterprise(
        key, county, name, industry, product, revenue, growth, rd, staff, invention_patents=patents, **extra
    )


# More applicants beside enterprises.demo's. Their figures decide their screening: a low R&D share, a
# revenue under the threshold or no invention patent makes an enterprise ineligible (or, for Bortala's
# cultivation library, a library candidate when three elements or fewer are missing).
# fmt: off
MORE_ENTERPRISES: dict[str, list[DemoEnterprise]] = {
    "gz": [
        _e("ent8", "520102", "贵州筑城智能装备有限公司", "C4011", "工业自动控制系统", 6800, "0.16", "0.058", 210, 3),
        _e("ent9", "520102", "贵阳南明精工轴承有限公司", "C3484", "精密轴承", 4200, "0.12", "0.041", 160, 2),
        _e("ent10", "520102", "贵州甲秀电子材料有限公司", "C3985", "电子浆料", 2600, "0.22", "0.066", 98, 2),
        _e("ent11", "520103", "贵阳黔灵生物制药有限公司", "C2720", "缓释制剂", 9800, "0.10", "0.052", 330, 4),
        _e("ent12", "520103", "贵州云岩数据服务有限公司", "I6540", "数据中心运维服务", 1800, "0.35", "0.12", 70, 1),
        _e("ent13", "520111", "贵州花溪茶业科技有限公司", "C1530", "高原绿茶", 2400, "0.08", "0.021", 120, 1),
        _e("ent14", "520111", "贵阳花溪特种电缆有限公司", "C3831", "特种电线电缆", 12500, "0.09", "0.036", 380, 2),
        _e("ent15", "520111", "贵州大学城新材料科技有限公司", "C3061", "高性能玻璃纤维", 3300, "0.28", "0.072", 115, 3),
        _e("ent16", "520115", "贵州观山湖软件技术有限公司", "I6513", "政务大数据软件", 5200, "0.30", "0.15", 190, 2),
        _e("ent17", "520115", "贵阳金阳医疗器械有限公司", "C3581", "便携式监护设备", 3900, "0.20", "0.083", 140, 3),
        _e("ent18", "520115", "贵州数谷芯片装备有限公司", "C3562", "芯片封装设备", 7400, "0.25", "0.09", 260, 5),
        _e("ent19", "520302", "遵义红花岗辣椒食品有限公司", "C1469", "辣椒调味品", 6100, "0.07", "0.012", 240, 0),
        _e("ent20", "520302", "遵义航天精密铸造有限公司", "C3399", "精密铸件", 8800, "0.11", "0.047", 300, 3),
        _e("ent21", "520302", "贵州遵义钛材科技有限公司", "C3360", "钛合金表面处理", 15200, "0.06", "0.034", 450, 2),
        _e("ent22", "520303", "遵义汇川电力电子有限公司", "C3824", "电力电子模块", 5600, "0.19", "0.061", 200, 2),
        _e("ent23", "520303", "贵州汇川酱香酒业有限公司", "C1512", "酱香型白酒", 26000, "0.04", "0.008", 520, 1),
        _e("ent24", "520303", "遵义长征电器元件有限公司", "C3989", "低压开关元件", 4700, "0.09", "0.043", 230, 2),
        _e("ent25", "520402", "安顺西秀航空零部件有限公司", "C3484", "航空紧固件", 5100, "0.17", "0.055", 180, 3),
        _e("ent26", "520402", "安顺蜡染民族工艺品有限公司", "C2439", "蜡染工艺品", 1300, "0.10", "0.032", 55, 1),
        _e("ent27", "520402", "贵州安顺精细化工有限公司", "C2662", "水处理剂", 3600, "0.13", "0.039", 150, 1),
        _e("ent28", "520402", "安顺黄果树饮品有限公司", "C1529", "天然矿泉饮品", 2800, "0.05", "0.009", 140, 0),
        _e("ent29", "520102", "贵州黔味坊食品有限公司", "C1371", "脱水蔬菜", 2100, "0.06", "0.031", 110, 1),
        _e("ent30", "520103", "贵州云岩建筑科技有限公司", "C3311", "装配式钢结构", 9400, "0.13", "0.035", 350, 2),
        _e("ent31", "520111", "贵阳花溪农业装备有限公司", "C3433", "山地农机", 3100, "0.15", "0.044", 130, 2),
        _e("ent32", "520115", "贵州云上医药物流有限公司", "C2740", "苗药制剂", 4500, "0.14", "0.048", 170, 2),
        _e("ent33", "520302", "遵义湘江光电科技有限公司", "C3569", "光电检测设备", 2900, "0.24", "0.071", 105, 2),
        _e("ent34", "520303", "遵义汇川玻璃制品有限公司", "C3057", "汽车后视镜片", 2300, "0.05", "0.018", 150, 0),
    ],
    "xz": [
        _e("ent4", "540102", "拉萨净土健康食品有限公司", "C1495", "青稞β-葡聚糖", 3200, "0.14", "0.041", 130, 2),
        _e("ent5", "540102", "西藏雪莲高原新材料有限公司", "C3099", "高原保温建材", 4600, "0.12", "0.036", 170, 2),
        _e("ent6", "540102", "拉萨吉祥数字技术有限公司", "I6513", "藏文办公软件", 1700, "0.30", "0.16", 60, 2),
        _e("ent7", "540103", "西藏堆龙天然饮用水有限公司", "C1529", "高原天然饮用水", 5200, "0.09", "0.011", 190, 0),
        _e("ent8", "540103", "西藏堆龙民族手工艺品有限公司", "C2439", "藏式手工地毯", 1200, "0.07", "0.02", 80, 0),
        _e("ent9", "540104", "西藏达孜高原医药有限公司", "C2740", "藏药丸剂", 7600, "0.11", "0.058", 260, 3),
        _e("ent10", "540104", "拉萨达孜光伏科技有限公司", "C3824", "光伏逆变设备", 3800, "0.26", "0.071", 120, 2),
        _e("ent11", "540102", "西藏城关精密检测有限公司", "C4011", "高原环境监测仪", 2300, "0.18", "0.09", 75, 2),
        _e("ent12", "540102", "拉萨雪域青稞酒业有限公司", "C1512", "青稞酒", 8900, "0.06", "0.015", 300, 1),
        _e("ent13", "540202", "日喀则桑珠孜藏毯有限公司", "C2439", "手工藏毯", 1900, "0.08", "0.034", 95, 1),
        _e("ent14", "540202", "日喀则高原农牧科技有限公司", "A0141", "高原蔬菜种苗", 1600, "0.20", "0.045", 70, 1),
        _e("ent15", "540202", "西藏珠峰新能源科技有限公司", "C3841", "储能电池系统", 4100, "0.32", "0.063", 140, 2),
        _e("ent16", "540402", "林芝巴宜藏药材种植有限公司", "A0141", "藏药材种苗", 1400, "0.15", "0.03", 60, 1),
        _e("ent17", "540402", "西藏林芝生物科技有限公司", "C1492", "松茸提取物", 3300, "0.18", "0.052", 110, 2),
        _e("ent18", "540402", "林芝尼洋河电力设备有限公司", "C3831", "高原电力电缆", 2700, "0.10", "0.038", 115, 1),
        _e("ent19", "540502", "山南乃东氆氇手工艺品有限公司", "C2439", "氆氇", 1100, "0.06", "0.025", 60, 0),
        _e("ent20", "540502", "西藏雅砻生物制药有限公司", "C2720", "藏药制剂", 5800, "0.12", "0.05", 210, 3),
        _e("ent21", "540502", "山南雅江建材科技有限公司", "C3099", "新型墙体材料", 3400, "0.08", "0.031", 160, 1),
        _e("ent22", "540103", "拉萨堆龙物流装备有限公司", "C3433", "冷链运输车", 2900, "0.16", "0.044", 125, 2),
    ],
    "xj": [
        _e("ent5", "652701", "博乐市丰源节水灌溉科技有限公司", "C2929", "滴灌带", 3800, "0.15", "0.036", 140, 2),
        _e("ent6", "652701", "博乐市西部钢结构有限公司", "C3311", "钢结构构件", 4400, "0.10", "0.032", 170, 1),
        _e("ent7", "652701", "博乐市蒙元乳业有限公司", "C1441", "驼乳制品", 2600, "0.12", "0.018", 100, 0),
        _e("ent8", "652701", "博尔塔拉绿源农业科技有限公司", "A0141", "枸杞种苗", 1200, "0.18", "0.031", 60, 1),
        _e("ent9", "652701", "博乐市天山电子有限公司", "C3989", "电子元件", 2200, "0.21", "0.055", 85, 2),
        _e("ent10", "652702", "阿拉山口铜基新材料有限公司", "C3399", "铜基合金材料", 9600, "0.14", "0.033", 280, 2),
        _e("ent11", "652702", "阿拉山口口岸农副产品加工有限公司", "C1371", "脱水蔬菜", 2100, "0.09", "0.012", 110, 0),
        _e("ent12", "652702", "阿拉山口康源医用材料有限公司", "C3581", "医用防护材料", 3100, "0.24", "0.047", 120, 1),
        _e("ent13", "652722", "精河县棉籽蛋白科技有限公司", "C1495", "棉籽蛋白", 4700, "0.11", "0.034", 150, 1),
        _e("ent14", "652722", "精河县艾比湖生物科技有限公司", "C1492", "甘草提取物", 1800, "0.15", "0.041", 75, 1),
        _e("ent15", "652722", "精河县绿洲番茄制品有限公司", "C1523", "番茄汁", 5400, "0.06", "0.008", 210, 0),
        _e("ent16", "652723", "温泉县博格达矿泉水有限公司", "C1529", "天然矿泉水", 1300, "0.05", "0.012", 70, 0),
        _e("ent17", "652723", "温泉县北鲵生态农业有限公司", "A0141", "冷水鱼苗", 1600, "0.16", "0.038", 65, 1),
        _e("ent18", "652723", "温泉县天山牧业机械有限公司", "C3433", "牧业机械", 2500, "0.13", "0.043", 95, 2),
    ],
}
# fmt: on

# Profile changes made after registration (enterprise_update_profile), where the figures alone cannot
# make the point: a firm only a year in its niche.
PROFILE_CHANGES: dict[tuple[str, str], dict[str, Any]] = {
    ("xj", "ent16"): {"niche_years": 1},
}


# --- rounds and what happens in them ----------------------------------------------------------


@dataclass(frozen=True)
class QuotaPlan:
    regions: tuple[str, ...]  # division codes, or ("prefectures",) for every prefecture of the tenant
    maximum: int | None
    minimum: int | None
    source: str


@dataclass(frozen=True)
class RoundPlan:
    program: str
    name: str  # formatted with {year}
    phase: str  # "open": opened a month ago, closes in a month; "closed": last year's round
    levels: tuple[str, ...]
    by: str  # suffix of the official who opens it (the owner region's staff)
    quotas: tuple[QuotaPlan, ...]
    stories: tuple[tuple[str, str], ...]  # (enterprise key, outcome)
    notes: str = ""


GZ_QUOTA = QuotaPlan(
    ("prefectures",),
    None,
    20,
    "seed 002 六、（一）：“各市州要建立“专精特新”中小企业培育库，每年推荐省级“专精特新”培育企业不少于20户。”",
)
XZ_QUOTA = QuotaPlan(
    ("prefectures",),
    5,
    None,
    "seed 000 二、（一）：指导各市（地）……“从中推荐申报自治区级“专精特新”中小企业5户左右”（按每市（地）最多5户执行）。",
)
XJ_SOURCE = (
    "seed 004（博州政办发〔2023〕62号）二、（一）1：“各县市每年推荐的入库企业数量原则上不少于辖区规上工业企业"
    "总数的10%，其中：博乐市不少于6家、阿拉山口市不少于4家、精河县不少于3家、温泉县不少于2家。”"
)
XJ_QUOTAS = (
    QuotaPlan(("652701",), None, 6, XJ_SOURCE),
    QuotaPlan(("652702",), None, 4, XJ_SOURCE),
    QuotaPlan(("652722",), None, 3, XJ_SOURCE),
    QuotaPlan(("652723",), None, 2, XJ_SOURCE),
)
C, P, V = Level.COUNTY, Level.PREFECTURE, Level.PROVINCE

ROUNDS: dict[str, list[RoundPlan]] = {
    "gz": [
        # Last year's round, decided: approvals, rejections at each level, a withdrawal, a return that was
        # never corrected and a draft never submitted. Its approved enterprises do not apply again.
        RoundPlan(
            "gz_srdi",
            "{year}年度贵州省专精特新中小企业认定",
            "closed",
            (C, P, V),
            "province",
            (GZ_QUOTA,),
            (
                ("ent11", "approved"),
                ("ent14", "approved"),
                ("ent18", "approved"),
                ("ent20", "approved"),
                ("ent21", "approved"),
                ("ent25", "approved"),
                ("ent19", "rejected_county"),
                ("ent23", "rejected_prefecture"),
                ("ent13", "rejected_final"),
                ("ent27", "withdrawn"),
                ("ent29", "returned"),
                ("ent28", "draft"),
            ),
        ),
        RoundPlan(
            "gz_srdi",
            "{year}年度贵州省专精特新中小企业认定",
            "open",
            (C, P, V),
            "province",
            (GZ_QUOTA,),
            (
                ("ent1", "final2"),
                ("ent2", "submitted"),
                ("ent3", "rejected_county"),
                ("ent4", "ready"),  # its e-mail is not verified: it cannot submit yet
                ("ent5", "prefecture"),
                ("ent6", "returned"),
                ("ent7", "prefecture"),
                ("ent8", "submitted"),
                ("ent9", "resubmitted"),
                ("ent10", "final0"),
                ("ent12", "rejected_final"),
                ("ent13", "submitted"),
                ("ent15", "final1"),
                ("ent16", "approved"),
                ("ent17", "prefecture"),
                ("ent19", "returned_minor"),
                ("ent22", "final1"),
                ("ent23", "withdrawn"),
                ("ent24", "resubmitted_minor"),
                ("ent26", "draft"),
                ("ent27", "submitted"),
                ("ent28", "withdrawn_draft"),
                ("ent29", "submitted"),
                ("ent30", "final2"),
                ("ent31", "prefecture"),
                ("ent32", "final0"),
                ("ent33", "approved"),
                ("ent34", "rejected_prefecture"),
            ),
            notes="请于截止时间前提交申报书及附件；县（区）、市（州）、省三级审核，省级组织专家评审。",
        ),
    ],
    "xz": [
        # 拉萨市 recommends its five (the maximum): two more wait there and can only be returned or rejected.
        RoundPlan(
            "xz_srdi",
            "{year}年度西藏自治区专精特新中小企业认定",
            "open",
            (C, P, V),
            "province",
            (XZ_QUOTA,),
            (
                ("ent1", "approved"),
                ("ent4", "final2"),
                ("ent9", "final1"),
                ("ent10", "final0"),
                ("ent12", "rejected_final"),
                ("ent5", "prefecture"),
                ("ent22", "prefecture"),
                ("ent2", "submitted"),
                ("ent3", "returned"),
                ("ent6", "resubmitted"),
                ("ent7", "rejected_county"),
                ("ent8", "withdrawn"),
                ("ent11", "draft"),
                ("ent15", "final2"),
                ("ent13", "prefecture"),
                ("ent14", "submitted"),
                ("ent17", "final1"),
                ("ent18", "returned_minor"),
                ("ent16", "withdrawn_draft"),
                ("ent20", "approved"),
                ("ent21", "resubmitted_minor"),
                ("ent19", "rejected_prefecture"),
            ),
            notes="各市（地）推荐自治区级专精特新中小企业5户左右。",
        ),
    ],
    "xj": [
        RoundPlan(
            "bortala_library",
            "{year}年度博州优质中小企业培育库入库申报",
            "open",
            (C, P),
            "prefecture",
            XJ_QUOTAS,
            (
                ("ent1", "approved"),
                ("ent2", "final2"),
                ("ent5", "final1"),
                ("ent6", "final0"),
                ("ent7", "rejected_final"),
                ("ent8", "submitted"),
                ("ent9", "returned"),
                ("ent3", "approved"),
                ("ent13", "final2"),
                ("ent14", "resubmitted"),
                ("ent15", "rejected_county"),
                ("ent4", "ready"),  # its e-mail is not verified: it cannot submit yet
                ("ent10", "final1"),
                ("ent11", "submitted"),
                ("ent12", "withdrawn"),
                ("ent16", "rejected_county"),
                ("ent17", "final0"),
                ("ent18", "returned_minor"),
            ),
            notes="县市审核推荐、州工信局审定入库；缺项不超过3个的企业可列入培育库。",
        ),
    ],
}

# What each outcome takes, after the draft is started. "up" recommends at every level below the last one;
# "experts" assigns two experts at the last level. An outcome ends in the state named in OUTCOME_STATE.
OUTCOMES: dict[str, tuple[str, ...]] = {
    "draft": ("partial",),
    "ready": ("fill",),
    "withdrawn_draft": ("partial", "withdraw"),
    "submitted": ("fill", "submit"),
    "withdrawn": ("fill", "submit", "withdraw"),
    "returned": ("fill", "submit", "return"),
    "resubmitted": ("fill", "submit", "return", "fix", "resubmit"),
    "returned_minor": ("fill", "submit", "recommend", "return_minor"),
    "resubmitted_minor": ("fill", "submit", "recommend", "return_minor", "fix", "resubmit"),
    "rejected_county": ("fill", "submit", "reject"),
    "prefecture": ("fill", "submit", "recommend"),
    "rejected_prefecture": ("fill", "submit", "recommend", "reject"),
    "final0": ("fill", "submit", "up", "experts"),
    "final1": ("fill", "submit", "up", "experts", "score"),
    "final2": ("fill", "submit", "up", "experts", "score", "score"),
    "approved": ("fill", "submit", "up", "experts", "score", "score", "approve"),
    "rejected_final": ("fill", "submit", "up", "experts", "score", "score", "reject"),
}
OUTCOME_STATE = {
    "draft": S.DRAFT,
    "ready": S.DRAFT,
    "withdrawn_draft": S.WITHDRAWN,
    "submitted": S.SUBMITTED,
    "withdrawn": S.WITHDRAWN,
    "returned": S.RETURNED,
    "resubmitted": S.SUBMITTED,
    "returned_minor": S.RETURNED,
    "resubmitted_minor": S.IN_REVIEW,
    "rejected_county": S.REJECTED,
    "prefecture": S.IN_REVIEW,
    "rejected_prefecture": S.REJECTED,
    "final0": S.IN_REVIEW,
    "final1": S.IN_REVIEW,
    "final2": S.IN_REVIEW,
    "approved": S.APPROVED,
    "rejected_final": S.REJECTED,
}
# Days each step takes after the one before it, on the application's own clock.
OFFICIAL_STEPS = {"return", "return_minor", "recommend", "reject", "experts", "score", "approve"}
STEP_DAYS = {
    "start": 0,
    "partial": 0.2,
    "fill": 0.6,
    "submit": 1.5,
    "withdraw": 1.2,
    "return": 2.5,
    "return_minor": 2.5,
    "fix": 1.5,
    "resubmit": 0.3,
    "recommend": 2.5,
    "reject": 2.5,
    "experts": 1.0,
    "score": 1.8,
    "approve": 2.0,
}

RETURN_REASON = "近三年财务报表缺少审计机构盖章页，请补充经审计的财务报告后重新提交。"
RETURN_MINOR_REASON = (
    "细分市场的市场占有率未注明数据来源，请在“细分市场”中补充说明（小修改，改后直接回到本级）。"
)
RECOMMEND_OPINION = {C: "材料齐全，情况属实，同意推荐。", P: "经市级复核，同意推荐。", V: ""}
APPROVE_OPINION = "经专家评审、集体审定，同意。"
WITHDRAW_OPINION = "企业主动撤回，待条件成熟后再行申报。"
EXPERT_OPINIONS = [
    "主导产品在细分市场具有较强竞争力，研发投入持续，建议通过。",
    "专业化程度较高，但品牌建设和数字化水平有待提升。",
    "知识产权与主导产品关联度高，管理规范，建议通过。",
    "创新能力一般，市场占有率证明材料偏弱，建议审慎。",
]
CUSTOMERS = [
    "省内外装备制造企业及央企二级配套单位",
    "电网公司下属单位及本地工业园区企业",
    "医药流通企业及三级甲等医院",
    "全国连锁商超、电商平台及出口贸易商",
    "政府部门、数据中心和大型国有企业",
]
RD_LEVEL = ["provincial", "prefecture", "enterprise", "county", "national"]
EXAMPLES = {
    "draft": "draft, partly filled",
    "submitted": "submitted, waiting at the county",
    "returned": "returned for correction",
    "resubmitted": "corrected and resubmitted",
    "prefecture": "waiting at the prefecture",
    "final2": "at the last level with two expert scores",
    "approved": "approved",
    "rejected_county": "rejected by the county",
    "withdrawn": "withdrawn",
}


# --- the seeder --------------------------------------------------------------------------------


def seed_rounds(tenant: Tenant, *, password_hash: str, log) -> list[tuple[str, str, str]]:
    """Officials, experts and applicants, then the rounds of ROUNDS with their applications (idempotent)."""
    plans = ROUNDS.get(tenant.code, [])
    if not plans:
        return []
    rows = _officials(tenant, password_hash)
    rows += _experts(tenant, password_hash)
    applicants = _applicants(tenant, password_hash)
    programs = {
        p.code: p for p in Program.objects.for_tenant(tenant).filter(code__in={r.program for r in plans})
    }
    if Round.objects.filter(program__in=programs.values()).exists():
        # seeded before (or rounds were opened by hand): a second run adds nothing but what is missing
        seed_publication(tenant, log=log)
        return rows
    now = timezone.now()
    examples: dict[str, tuple[str, int]] = {}
    for plan in plans:
        round_ = _play_round(tenant, plan, programs[plan.program], applicants, now)
        counts = Counter(Application.objects.filter(round=round_).values_list("state", flat=True))
        log(f"{tenant.code}: {round_.name}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for key, outcome in plan.stories:
            if outcome in EXAMPLES:
                examples.setdefault(outcome, (key, round_.year))
    seed_publication(tenant, log=log)
    # One enterprise account per kind of application, to sign in as (the others share the password).
    for outcome, label in EXAMPLES.items():
        if outcome in examples:
            key, year = examples[outcome]
            name = applicants[key][0].name
            rows.append((f"{tenant.code}_{key}", tenant.code, f"enterprise admin · {name} · {year}: {label}"))
    return rows


def _officials(tenant: Tenant, password_hash: str) -> list[tuple[str, str, str]]:
    rows = []
    for spec in OFFICIALS.get(tenant.code, []):
        region = Region.objects.get(tenant=tenant, code=spec.region)
        post = _post(tenant, f"{tenant.code}_{spec.suffix}", region, spec.role, spec.label, password_hash)
        rows.append(
            (post.user.username, tenant.code, f"{post.get_role_display()} · {region.name} ({region.code})")
        )
    return rows


def _post(tenant: Tenant, username: str, region: Region, role: str, label: str, password_hash: str) -> Post:
    """The same account and post portal's seed_demo makes for its officials (audit row, welcome message)."""
    user, created = User.objects.get_or_create(
        username=username,
        defaults={"display_name": f"{region.name}{label}", "email": f"{username}@srdi.example.cn"},
    )
    if created:
        user.password = password_hash
        user.save(update_fields=["password"])
    post, created = Post.objects.get_or_create(tenant=tenant, user=user, region=region, role=role)
    if created:
        audit_record(
            action="post.created", tenant=tenant, obj=post, summary=str(post), actor_label="seed_demo"
        )
        notification_send(
            recipient=user,
            tenant=tenant,
            subject=f"欢迎使用{tenant.name}专精特新中小企业服务平台",
            body=f"您的岗位：{region.name} · {post.get_role_display()}。",
            link=f"/{tenant.code}/me/",
        )
    return post


def _experts(tenant: Tenant, password_hash: str) -> list[tuple[str, str, str]]:
    rows = []
    root = tenant.root_region
    for spec in EXPERTS.get(tenant.code, []):
        username = f"{tenant.code}_{spec.suffix}"
        post = _post(tenant, username, root, R.EXPERT, "评审专家", password_hash)
        home = Region.objects.get(tenant=tenant, code=spec.home_county)
        profile, created = ExpertProfile.objects.get_or_create(
            tenant=tenant, user=post.user, defaults={"home_county": home, "specialty": spec.specialty}
        )
        if created:
            audit_record(
                action="expert.created",
                tenant=tenant,
                obj=profile,
                summary=f"{post.user} · {spec.specialty} · {home.name}",
                actor_label="seed_demo",
            )
        if spec.suffix != "expert":  # portal's seed_demo lists <t>_expert already
            rows.append(
                (username, tenant.code, f"{post.get_role_display()} · {spec.specialty} · {home.name}")
            )
    return rows


def _applicants(tenant: Tenant, password_hash: str) -> dict[str, tuple[Enterprise, User]]:
    """Every demo enterprise of the tenant by key, with its administrator; creates the missing ones."""
    specs = BY_TENANT.get(tenant.code, []) + MORE_ENTERPRISES.get(tenant.code, [])
    offset = 100 * list(BY_TENANT).index(tenant.code)  # enterprises.demo's numbering, continued
    today = timezone.localdate()
    found = {}
    for serial, spec in enumerate(specs, start=1):
        username = f"{tenant.code}_{spec.key}"
        code = demo_uscc(spec.county, serial + offset)
        enterprise = Enterprise.objects.filter(tenant=tenant, uscc=code).select_related("county").first()
        if enterprise is None:
            county = Region.objects.get(tenant=tenant, code=spec.county)
            enterprise = demo_enterprise_create(tenant, spec, county, code, username, password_hash, today)
            admin = User.objects.get(username=username)
            changes = PROFILE_CHANGES.get((tenant.code, spec.key))
            if changes:
                enterprise = enterprise_update_profile(enterprise=enterprise, by=admin, data=changes)
        admin = (
            Membership.objects.filter(enterprise=enterprise, role=Membership.Role.ADMIN)
            .select_related("user")
            .order_by("pk")
            .first()
            .user
        )
        found[spec.key] = (enterprise, admin)
    return found


# --- playing a round ---------------------------------------------------------------------------


def _local(day, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def _windows(plan: RoundPlan, now: datetime) -> tuple[datetime, datetime, list[datetime]]:
    """(opens, closes, a deadline per level) of the round as it ends up."""
    today = timezone.localdate(now)
    if plan.phase == "closed":
        year = today.year - 1
        opens = _local(today.replace(year=year, month=4, day=1), 9)
        closes = _local(today.replace(year=year, month=5, day=31), 17, 30)
    else:
        opens = _local(today - timedelta(days=30), 9)
        closes = _local(today + timedelta(days=30), 17, 30)
    deadlines = [
        closes + timedelta(days=15 * (i + 1) + (15 if i == 2 else 0)) for i in range(len(plan.levels))
    ]
    return opens, closes, deadlines


def _quota_specs(tenant: Tenant, plan: RoundPlan) -> list[workflow.QuotaSpec]:
    specs = []
    for q in plan.quotas:
        if q.regions == ("prefectures",):
            regions = list(
                Region.objects.filter(tenant=tenant, level=Region.Level.PREFECTURE).order_by("code")
            )
        else:
            regions = list(Region.objects.filter(tenant=tenant, code__in=q.regions).order_by("code"))
        specs += [
            workflow.QuotaSpec(region=r, maximum=q.maximum, minimum=q.minimum, source=q.source)
            for r in regions
        ]
    return specs


def _play_round(tenant: Tenant, plan: RoundPlan, program: Program, applicants: dict, now: datetime) -> Round:
    opens, closes, deadlines = _windows(plan, now)
    by = User.objects.get(username=f"{tenant.code}_{plan.by}")
    version = program.version_on(timezone.localdate(opens))
    stages = [
        workflow.StageSpec(level, deadline) for level, deadline in zip(plan.levels, deadlines, strict=True)
    ]
    round_ = Round(
        program=program,
        version=version,
        name=plan.name.format(year=timezone.localtime(opens).year),
        year=timezone.localtime(opens).year,
        opens_at=opens,
        closes_at=closes,
        notes=plan.notes,
    )
    quotas = _quota_specs(tenant, plan)
    if closes > now:
        workflow.round_save(round_=round_, stages=stages, quotas=quotas, by=by, actor_label="seed_demo")
    else:
        # Started while open (application_start checks the present), then moved back to its real dates.
        round_.closes_at = now + timedelta(days=1)
        workflow.round_save(
            round_=round_,
            stages=[workflow.StageSpec(s.level, round_.closes_at + timedelta(days=1)) for s in stages],
            quotas=quotas,
            by=by,
            actor_label="seed_demo",
        )
    limit = min(now - timedelta(hours=2), deadlines[-1] - timedelta(hours=2))
    # An open round is reviewed as applications come in; last year's was reviewed after it closed.
    reviews_from = closes if closes <= now else opens
    players = []
    for index, (key, outcome) in enumerate(plan.stories):
        enterprise, admin = applicants[key]
        start = opens + timedelta(days=1 + (index % 9) * 1.1, hours=index % 5)
        player = _Player(round_, enterprise, admin, outcome, start, limit, index, reviews_from)
        player.begin()
        players.append(player)
    if round_.closes_at != closes:
        round_.closes_at = closes
        workflow.round_save(round_=round_, stages=stages, quotas=None, by=by, actor_label="seed_demo")
    for player in players:
        player.play()
    return round_


@dataclass
class _Player:
    """One application's story: its steps, each at its own moment."""

    round: Round
    enterprise: Enterprise
    admin: User
    outcome: str
    start: datetime
    limit: datetime
    index: int
    reviews_from: datetime
    application: Application | None = None
    names: list[str] = field(default_factory=list)
    steps: list[tuple[str, datetime]] = field(default_factory=list)

    def __post_init__(self):
        # "up": a recommendation at every level below the last one.
        levels = workflow.chain_levels(self.round)
        self.names = [
            n
            for name in ("start", *OUTCOMES[self.outcome])
            for n in (["recommend"] * (len(levels) - 1) if name == "up" else [name])
        ]
        self._schedule()

    def _schedule(self) -> None:
        moments, t = [], self.start
        for name in self.names:
            t = t + timedelta(days=STEP_DAYS[name], minutes=17 * (self.index % 7))
            if name in OFFICIAL_STEPS and t < self.reviews_from:
                t = self.reviews_from + timedelta(days=2 + self.index % 4, hours=self.index % 6)
            moments.append(t)
        # A story that would run past the present (or the last deadline) is compressed to end before it.
        if moments[-1] > self.limit:
            span = (moments[-1] - self.start).total_seconds()
            room = (self.limit - self.start).total_seconds()
            moments = [self.start + (m - self.start) * (room / span) for m in moments]
        self.steps = list(zip(self.names, moments, strict=True))

    def begin(self) -> None:
        """Start the draft (and fill it, if that is the story) while the round is open."""
        self._run_while(lambda name: name in ("start", "partial", "fill"))

    def play(self) -> None:
        self._run_while(lambda name: True)
        if self.application.state != OUTCOME_STATE[self.outcome]:
            raise RuntimeError(
                f"seed: {self.enterprise.name} ended {self.application.state}, not {OUTCOME_STATE[self.outcome]}"
            )

    def _run_while(self, wanted: Callable[[str], bool]) -> None:
        while self.steps and wanted(self.steps[0][0]):
            name, at = self.steps.pop(0)
            mark = timezone.now()
            getattr(self, f"_{name}")(at)
            _backdate(self.application, name, mark, at)

    # -- the steps --

    def _start(self, at):
        self.application = workflow.application_start(
            round_=self.round, enterprise=self.enterprise, by=self.admin
        )
        Application.objects.filter(pk=self.application.pk).update(created_at=at)

    def _partial(self, at):
        data = {"products": {"main_product": self.enterprise.main_product, "niche_market": self._niche()}}
        self.application, _errors = workflow.application_save_draft(
            application=self.application, by=self.admin, data=data
        )

    def _fill(self, at):
        self.application, errors = workflow.application_save_draft(
            application=self.application, by=self.admin, data=self._form()
        )
        if errors:
            raise RuntimeError(f"seed: the demo form is refused: {errors}")
        for slot in workflow.attachment_slots(self.round.program):
            if slot["required"]:
                document = _clean_document(self.enterprise, self.admin, slot["doc_types"][0], slot["label"])
                workflow.application_attach(
                    application=self.application, slot=slot["code"], document=document, by=self.admin
                )

    def _fix(self, at):
        data = self._form()
        data["products"]["niche_market"] += "（市场占有率数据来源：行业协会年度统计）"
        self.application, _errors = workflow.application_save_draft(
            application=self.application, by=self.admin, data=data
        )
        document = _clean_document(self.enterprise, self.admin, Document.Type.TAX_PROOF, "纳税证明")
        workflow.application_attach(
            application=self.application, slot="tax", document=document, by=self.admin
        )

    def _submit(self, at):
        self._act(Action.SUBMIT, self.admin, at)

    def _resubmit(self, at):
        self._act(Action.RESUBMIT, self.admin, at)

    def _withdraw(self, at):
        self._act(Action.WITHDRAW, self.admin, at, WITHDRAW_OPINION)

    def _return(self, at):
        self._act(Action.RETURN, self._official(), at, RETURN_REASON)

    def _return_minor(self, at):
        self._act(Action.RETURN, self._official(), at, RETURN_MINOR_REASON, minor=True)

    def _recommend(self, at):
        self._act(Action.RECOMMEND, self._official(), at, RECOMMEND_OPINION.get(self.application.level, ""))

    def _reject(self, at):
        self._act(Action.REJECT, self._official(), at, self._reject_reason())

    def _approve(self, at):
        self._act(Action.APPROVE, self._official(approve=True), at, APPROVE_OPINION)

    def _experts(self, at):
        by = self._official()
        pool = list(workflow.expert_pool(self.round.tenant).order_by("user__username"))
        pool = pool[self.index % len(pool) :] + pool[: self.index % len(pool)]
        chosen = [p for p in pool if workflow.expert_conflict(p, self.application) is None][:2]
        if len(chosen) < 2:
            raise RuntimeError(f"seed: fewer than two experts without a conflict for {self.enterprise.name}")
        for profile in chosen:
            workflow.expert_assign(application=self.application, expert=profile.user, by=by)

    def _score(self, at):
        assignment = (
            self.application.expert_assignments.filter(submitted_at__isnull=True).order_by("pk").first()
        )
        indicators = workflow.indicators(self.round.program)
        seed = int(
            hashlib.sha256(f"{self.enterprise.uscc}{assignment.expert_id}".encode()).hexdigest()[:8], 16
        )
        share = Decimal(62 + seed % 31) / 100  # 62 %–92 % of each indicator's points
        scores = {i["code"]: str((Decimal(i["max"]) * share).quantize(Decimal("1"))) for i in indicators}
        workflow.expert_score(
            assignment=assignment,
            by=assignment.expert,
            scores=scores,
            opinion=EXPERT_OPINIONS[seed % len(EXPERT_OPINIONS)],
        )
        self.application.refresh_from_db()

    # -- helpers --

    def _act(self, action: str, by: User, at: datetime, opinion: str = "", *, minor: bool = False) -> None:
        self.application = workflow.application_act(
            application=self.application, action=action, by=by, opinion=opinion, minor=minor, at=at
        )

    def _official(self, *, approve: bool = False) -> User:
        """The reviewer posted where the application waits (the approver for an approval)."""
        app = self.application
        role = next(iter(APPROVE_ROLES[app.level])) if approve else REVIEWER[app.level]
        post = (
            Post.objects.filter(
                tenant_id=app.tenant_id, region_id=app.current_region_id, role=role, is_active=True
            )
            .select_related("user")
            .order_by("user__username")
            .first()
        )
        if post is None:
            raise RuntimeError(f"seed: no {role} posted at {app.current_region} (add one to OFFICIALS)")
        return post.user

    def _reject_reason(self) -> str:
        snapshot = workflow.latest_snapshot(self.application)
        unmet = [
            c
            for c in (snapshot.result.get("conditions") or [])
            if c.get("kind") == "base" and not c.get("met")
        ]
        if unmet:
            return f"经审核，不符合认定基本条件：{unmet[0]['label']}。"
        return "经专家评审，综合得分未达到本批次认定要求，本年度不予认定。"

    def _niche(self) -> str:
        return f"{self.enterprise.main_product}（{self.enterprise.industry.name}）"

    def _form(self) -> dict[str, Any]:
        e, i = self.enterprise, self.index
        short = e.name.removesuffix("有限公司").removesuffix("股份")
        return {
            "products": {
                "main_product": e.main_product,
                "niche_market": self._niche(),
                "market_share": str(Decimal(35 + (i * 17) % 120) / 10),
                "market_rank": f"细分市场全国第{5 + i % 20}名",
                "main_customers": CUSTOMERS[i % len(CUSTOMERS)],
            },
            "innovation": {
                "rd_institution": RD_LEVEL[i % len(RD_LEVEL)],
                "rd_institution_name": f"{short}技术中心",
                "standards": f"参与起草团体标准《{e.main_product}技术规范》（排名第{1 + i % 3}）"
                if i % 3
                else "",
                "achievements": f"{e.main_product}关键工艺改进，良品率提升{3 + i % 6}个百分点。",
            },
            "commitment": {
                "signer_name": e.legal_representative,
                "signer_position": "董事长",
                "agreed": True,
            },
        }


REVIEWER = {C: R.COUNTY_REVIEWER, P: R.PREFECTURE_REVIEWER, V: R.PROVINCIAL_REVIEWER}


def _backdate(application: Application, step: str, mark: datetime, at: datetime) -> None:
    """Date the rows the step wrote for the application (those stamped after `mark`) to its moment `at`."""
    ReviewEvent.objects.filter(application=application, created_at__gte=mark).update(created_at=at)
    if step in ("submit", "resubmit"):
        ApplicationSnapshot.objects.filter(application=application, created_at__gte=mark).update(
            created_at=at
        )
    elif step == "recommend":
        QuotaUse.objects.filter(application=application, created_at__gte=mark).update(created_at=at)
    elif step == "experts":
        ExpertAssignment.objects.filter(application=application, assigned_at__gte=mark).update(assigned_at=at)
    elif step == "score":
        ExpertAssignment.objects.filter(application=application, submitted_at__gte=mark).update(
            submitted_at=at
        )


def _clean_document(enterprise: Enterprise, by: User, doc_type: str, label: str) -> Document:
    """A scanned, clean document of this type: the one the enterprise has, or the demo PDF uploaded now.

    Uploads go through document_upload and the scanner like any other; the scan runs here rather than
    after the commit, because the drafts attach and submit them in the same transaction.
    """
    document = (
        Document.objects.filter(enterprise=enterprise, doc_type=doc_type)
        .exclude(scan_status__in=[Document.Scan.INFECTED, Document.Scan.FAILED])
        .order_by("pk")
        .first()
    )
    if document is None:
        document = document_upload(
            enterprise=enterprise,
            by=by,
            doc_type=doc_type,
            uploaded_file=SimpleUploadedFile(f"{label}.pdf", demo_pdf(), "application/pdf"),
        )
    if document.scan_status == Document.Scan.PENDING:
        document_scan(document_id=document.pk)
        document.refresh_from_db()
    if document.scan_status != Document.Scan.CLEAN:
        raise RuntimeError(
            f"seed: the demo document {document.pk} did not scan clean: {document.scan_status}"
        )
    return document


# --- the public notice and publication ---------------------------------------------------------

NOTICE_BODY = (
    "根据《优质中小企业梯度培育管理暂行办法》及本省（区）认定工作安排，经企业自愿申报、逐级审核推荐、"
    "专家评审，拟认定以下企业为专精特新中小企业，现予以公示。"
)
HOW_TO_OBJECT = (
    "公示期内，任何单位或个人对名单有异议的，可通过本平台以实名方式提出，写明异议事实和理由、"
    "联系方式，并附相关证明材料。匿名或无正当理由的异议不予受理。"
)
OBJECTORS = [
    ("赵建国", "13985000101", "某同行企业", "反映该企业主导产品市场占有率数据与行业协会统计不符，请予核实。"),
    ("钱晓梅", "13985000102", "", "反映该企业近三年存在环保行政处罚记录，申报材料未如实说明。"),
    ("孙立新", "13985000103", "某配套企业", "反映该企业研发费用归集口径存疑，请核查审计报告。"),
]
EVIDENCE_FILES = ("行业协会统计摘录.pdf", "审计报告节选.pdf")
DISMISS_REPLY = "经核查，企业提供的行业协会统计证明与申报数据一致，异议不成立。"
UPHOLD_REPLY = "经核查，该企业近三年存在未如实申报的环保行政处罚记录，取消拟认定资格。"


def seed_publication(tenant: Tenant, *, log) -> None:
    """Notices of the approved applications, their objections and the publication (idempotent by round).

    贵州: last year's round goes on a notice some weeks ago (one objection dismissed, one upheld) and is
    published, so certifications exist; its last two approvals are on a notice open now, with an objection
    waiting. 西藏 and 博州 have approvals only in their open round: the first goes on a notice the day after
    its approval, published when that period is over by now.
    """
    from portal.workdays import period_end

    now = timezone.now()
    today = timezone.localdate(now)
    rounds = Round.objects.filter(program__tenant=tenant).select_related("program__owner_region")
    # Where last year's round has approvals, it is the one published; the open round is left to review.
    decided_last_year = rounds.filter(
        closes_at__lte=now, applications__state__in=[S.APPROVED, S.IN_NOTICE, S.PUBLISHED]
    ).exists()
    for round_ in rounds.order_by("opens_at"):
        if round_.notices.exists() or (decided_last_year and round_.closes_at > now):
            continue
        approved = list(round_.applications.filter(state=S.APPROVED).order_by("decided_at", "pk"))
        publisher = _publisher(round_)
        if not approved or publisher is None:
            continue
        if round_.closes_at <= now and len(approved) >= 4:
            past, current = approved[:-2], approved[-2:]
            starts_on = today - timedelta(days=35)
            _past_notice(round_, past, publisher, starts_on, uphold=True)
            notice = _notice(round_, current, publisher, today - timedelta(days=1), "（第二批）")
            _objection(
                notice, notice.entries.order_by("position").first(), 2, at=None, evidence=EVIDENCE_FILES
            )
        else:
            first = approved[0]
            starts_on = timezone.localdate(first.decided_at) + timedelta(days=1)
            if period_end(starts_on, tenant.notice_days, tenant=tenant) < today - timedelta(days=1):
                _past_notice(round_, [first], publisher, starts_on, uphold=False)
            else:
                _notice(round_, [first], publisher, starts_on, "")
        counts = Counter(round_.applications.values_list("state", flat=True))
        log(
            f"{tenant.code}: {round_.name}: notices {round_.notices.count()}, "
            f"certified {counts[S.PUBLISHED]}, in notice {counts[S.IN_NOTICE]}"
        )


def _publisher(round_: Round) -> User | None:
    from certification import publication

    posts = Post.objects.filter(
        tenant_id=round_.program.tenant_id, region=round_.program.owner_region, is_active=True
    )
    for post in posts.select_related("user").order_by("role", "user__username"):
        if post.role != R.TENANT_ADMIN and publication.can_publish(post.user, round_):
            return post.user
    return None


def _notice(round_: Round, applications: list, by: User, starts_on, suffix: str):
    from certification import publication

    mark = timezone.now()
    notice = publication.notice_create(
        round_=round_,
        application_ids=[a.pk for a in applications],
        title=f"{round_.name}拟认定名单公示{suffix}",
        body=NOTICE_BODY,
        how_to_object=HOW_TO_OBJECT,
        starts_on=starts_on,
        by=by,
    )
    created = _local(starts_on - timedelta(days=1), 16)
    Notice.objects.filter(pk=notice.pk).update(created_at=created)
    ReviewEvent.objects.filter(application__in=applications, created_at__gte=mark).update(created_at=created)
    return notice


def _objection(notice, entry, index: int, *, at, evidence: tuple[str, ...] = ()):
    from certification import publication
    from enterprises.documents import PDF

    name, phone, organisation, grounds = OBJECTORS[index % len(OBJECTORS)]
    objection = publication.objection_file(
        notice=notice,
        entry_id=entry.pk,
        filer_name=name,
        filer_phone=phone,
        filer_organisation=organisation,
        grounds=grounds,
        evidence=[(SimpleUploadedFile(f, demo_pdf(), PDF.content_type), f, PDF) for f in evidence],
        at=at,
    )
    # The scan task runs after the seed's commit (or in a worker); scan here so that the demo's staff
    # can open the files at once, as they can once the scanner has passed a real filer's upload.
    for evidence_id in objection.evidence.values_list("pk", flat=True):
        if publication.objection_evidence_scan(evidence_id=evidence_id) != Document.Scan.CLEAN:
            raise RuntimeError(f"seed: the demo objection evidence {evidence_id} did not scan clean")
    return objection


def _past_notice(round_: Round, applications: list, by: User, starts_on, *, uphold: bool) -> None:
    """A notice whose period is over: objections resolved, then published the working day after."""
    from certification import publication

    notice = _notice(round_, applications, by, starts_on, "")
    entries = list(notice.entries.order_by("position"))
    filed = _local(notice.starts_on, 10)
    resolved = _local(notice.ends_on, 15)
    dismissed = _objection(notice, entries[0], 0, at=filed, evidence=EVIDENCE_FILES[:1])
    publication.objection_resolve(objection=dismissed, upheld=False, reply=DISMISS_REPLY, by=by)
    resolved_ids = [dismissed.pk]
    if uphold and len(entries) > 1:
        mark = timezone.now()
        upheld = _objection(notice, entries[-1], 1, at=filed + timedelta(hours=3))
        publication.objection_resolve(objection=upheld, upheld=True, reply=UPHOLD_REPLY, by=by)
        resolved_ids.append(upheld.pk)
        ReviewEvent.objects.filter(application_id=entries[-1].application_id, created_at__gte=mark).update(
            created_at=resolved
        )
        Application.objects.filter(pk=entries[-1].application_id).update(decided_at=resolved)
        NoticeEntry.objects.filter(pk=entries[-1].pk).update(removed_at=resolved)
    Objection.objects.filter(pk__in=resolved_ids).update(resolved_at=resolved)
    at = _local(notice.ends_on + timedelta(days=1), 10)
    mark = timezone.now()
    published = publication.notice_publish(notice=notice, by=by, at=at)
    ids = [e.application_id for e in entries]
    ReviewEvent.objects.filter(application_id__in=ids, created_at__gte=mark).update(created_at=at)
    Application.objects.filter(pk__in=ids, state=S.PUBLISHED).update(decided_at=at)
    Certification.objects.filter(published_list=published).update(created_at=at)
    PublishedList.objects.filter(pk=published.pk).update(published_at=at)
    Notice.objects.filter(pk=notice.pk).update(closed_at=at)
