"""Demo data for the commissioners pages (seed_demo). Idempotent: a second run adds only what is missing.

For every county with certified enterprises: a service commissioner (<tenant>_commissioner_<county in
pinyin>, with a mobile phone), assigned by the county's reviewer (or the nearest staff above) to its
certified enterprises; visits; and requests (诉求): one answered, one waiting for a reply.

Everything goes through `certification.commissioners`, so the grants, history, lifecycle events, audit
events and notifications are the ones the portal writes. Time: the demo's certifications are only weeks
old, while the point of the pages is the quarterly visit (seed 004: 每季度至少上门跟踪指导一次). One
assignment is therefore dated back by more than an interval (its row only, after the service wrote it)
and its single visit logged early in it, so that the commissioner's list shows one enterprise overdue.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from django.utils import timezone

from certification import commissioners
from certification.demo import _post
from certification.models import Certification, CommissionerAssignment, ServiceRequest, Visit
from enterprises.models import Enterprise, Membership, name_pinyin
from portal.models import Post, Region, Tenant, User

# A person per demo county: display name and mobile phone (demo numbers).
PEOPLE = ["王立军", "陈晓燕", "刘建华", "杨秀英", "赵国强", "黄丽娟", "周明", "吴婷"]
STAFF_ROLES = (Post.Role.COUNTY_REVIEWER, Post.Role.PREFECTURE_REVIEWER, Post.Role.PROVINCIAL_REVIEWER)

VISITS = [
    # (days before today, kind, people met, problems raised, follow-up)
    (
        12,
        Visit.Kind.ONSITE,
        "总经理、财务负责人",
        "企业反映新产线技改资金缺口约800万元，希望对接银行“专精特新贷”；研发人员招聘困难。",
        "已将企业融资需求推送至合作银行，两周内安排银企对接；人才需求转县人社局。",
    ),
    (
        40,
        Visit.Kind.PHONE,
        "董事会秘书",
        "咨询省级专精特新奖补资金申报时间及所需材料。",
        "已告知申报通知发布渠道，发送材料清单。",
    ),
]
OVERDUE_VISIT = (
    Visit.Kind.ONSITE,
    "法定代表人、生产部经理",
    "原材料价格上涨，订单交付压力较大；希望了解首台（套）装备保险补偿政策。",
    "已提供首台（套）政策解读材料，约定下季度回访。",
)
REQUESTS = [
    (
        ServiceRequest.Category.FINANCING,
        "申请专精特新企业信用贷款，需要主管部门推荐函",
        "我公司拟向银行申请500万元专精特新企业信用贷款，银行要求提供主管部门推荐函，请问如何办理？",
        "您好！推荐函由县工信局出具。请准备贷款申请书、近两年审计报告和认定证书复印件，"
        "我已与局里约好，本周四上午可来现场办理。",
    ),
    (
        ServiceRequest.Category.TALENT,
        "研发人员落户和子女入学政策咨询",
        "我公司新引进两名硕士研发人员，想了解人才落户和子女入学的支持政策及办理流程。",
        "",
    ),
]


def _county_key(county: Region) -> str:
    """花溪区 → huaxi: the county's name in pinyin without its suffix (区, 县, 市, 旗)."""
    name = county.name
    if len(name) > 2 and name[-1] in "区县市旗":
        name = name[:-1]
    return name_pinyin(name).replace(" ", "")


def _assigner(tenant: Tenant, county: Region) -> User | None:
    """The county's reviewer, or the nearest staff above it."""
    posts = (
        Post.objects.filter(tenant=tenant, is_active=True, role__in=STAFF_ROLES)
        .select_related("user", "region")
        .order_by("-region__path", "user__username")
    )
    for post in posts:
        if post.region.contains(county):
            return post.user
    return None


def _admin(enterprise: Enterprise) -> User | None:
    membership = (
        Membership.objects.filter(enterprise=enterprise, role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return membership.user if membership else None


def _first_issued(enterprise: Enterprise):
    return (
        Certification.objects.filter(enterprise=enterprise, status=Certification.Status.ACTIVE)
        .order_by("issued_on")
        .values_list("issued_on", flat=True)
        .first()
    )


def _log(enterprise: Enterprise, person: User, visited_on, spec) -> None:
    kind, people_met, problems, follow_up = spec
    commissioners.visit_log(
        enterprise=enterprise,
        by=person,
        visited_on=visited_on,
        kind=kind,
        people_met=people_met,
        problems=problems,
        follow_up=follow_up,
    )


def _serve(enterprise: Enterprise, person: User, by: User, *, overdue: bool, today, interval: int) -> None:
    """Assign, date the assignment from the certification (or back past an interval for the overdue
    example), and log its visits."""
    assignment = commissioners.commissioner_assign(enterprise=enterprise, commissioner=person, by=by)
    started = min(today, _first_issued(enterprise) + timedelta(days=3))
    if overdue:
        # Last visited some three weeks past the interval; the assignment dated back only when the
        # certification is too recent for that (see the module docstring).
        started = min(started, today - timedelta(days=interval + 25))
    CommissionerAssignment.objects.filter(pk=assignment.pk).update(started_on=started)
    if Visit.objects.filter(enterprise=enterprise).exists():
        return
    if overdue:
        _log(enterprise, person, max(started, today - timedelta(days=interval + 20)), OVERDUE_VISIT)
        return
    days = [(today - timedelta(days=d), spec) for d, *spec in VISITS if today - timedelta(days=d) >= started]
    for visited_on, spec in days or [(started, VISITS[0][1:])]:
        _log(enterprise, person, visited_on, spec)


def seed_commissioners(tenant: Tenant, *, password_hash: str, log) -> list[tuple[str, str, str]]:
    certified = list(
        Enterprise.objects.filter(
            pk__in=Certification.objects.for_tenant(tenant)
            .filter(status=Certification.Status.ACTIVE)
            .values("enterprise")
        )
        .select_related("county", "tenant")
        .order_by("county__code", "pk")
    )
    if not certified:
        return []
    by_county: dict[Region, list[Enterprise]] = defaultdict(list)
    for enterprise in certified:
        by_county[enterprise.county].append(enterprise)
    today = timezone.localdate()
    interval = commissioners.visit_interval(tenant)
    # The enterprise certified longest ago is the overdue example, when there are others to show on
    # schedule (and none was made overdue by an earlier run).
    overdue_target = None
    if len(certified) > 1 and not CommissionerAssignment.objects.for_tenant(tenant).exists():
        overdue_target = min(certified, key=lambda e: (_first_issued(e), -e.pk))
    offset = sum(map(ord, tenant.code))  # another name per tenant
    rows = []
    for index, (county, enterprises) in enumerate(sorted(by_county.items(), key=lambda kv: kv[0].code)):
        username = f"{tenant.code}_commissioner_{_county_key(county)}"
        post = _post(tenant, username, county, Post.Role.SERVICE_COMMISSIONER, "服务专员", password_hash)
        person = post.user
        if not person.phone:
            person.display_name = PEOPLE[(offset + index) % len(PEOPLE)]
            person.phone = f"1398500{index + 1:04d}"
            person.save(update_fields=["display_name", "phone"])
        by = _assigner(tenant, county)
        for enterprise in enterprises:
            if by is not None and commissioners.current_assignment(enterprise) is None:
                _serve(
                    enterprise,
                    person,
                    by,
                    overdue=enterprise == overdue_target,
                    today=today,
                    interval=interval,
                )
        rows.append(
            (
                username,
                tenant.code,
                f"{post.get_role_display()} · {county.name} ({county.code}) · "
                + "、".join(e.name for e in enterprises),
            )
        )
    _requests(tenant, certified, today=today, interval=interval)
    log(
        f"{tenant.code}: commissioners: {len(rows)}, visits {Visit.objects.for_tenant(tenant).count()}, "
        f"requests {ServiceRequest.objects.for_tenant(tenant).count()}"
    )
    return rows


def _requests(tenant: Tenant, certified: list[Enterprise], *, today, interval: int) -> None:
    """One answered request and one waiting, on enterprises that are on schedule."""
    if ServiceRequest.objects.for_tenant(tenant).exists():
        return
    served = list(
        commissioners.with_visit_clock(
            Enterprise.objects.filter(pk__in=[e.pk for e in certified]), today, interval
        )
        .filter(assigned_on__isnull=False, overdue=False)
        .order_by("county__code", "pk")
    )
    if not served:
        return
    for i, (category, subject, body, reply) in enumerate(REQUESTS):
        enterprise = served[i % len(served)]
        member = _admin(enterprise)
        if member is None:
            continue
        service_request = commissioners.request_open(
            enterprise=enterprise, by=member, category=category, subject=subject, body=body
        )
        if reply:
            commissioners.request_reply(
                service_request=service_request, by=commissioners.current_commissioner(enterprise), body=reply
            )
