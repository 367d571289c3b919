"""Demo data of dynamic management (动态管理) for 贵州: certifications at every point of their three years.

seed_publication certified last year's round a few weeks ago, so its certifications run until 2029. The
story needs certifications at their end, so this seeder plays a round of 创新型中小企业 (innovative SMEs,
also valid three years) three years back: four enterprises apply, are recommended and approved through
the workflow (certification.demo's _Player, each step at its own moment), go on two notices and are
published in two batches (publication.notice_create, notice_publish with `at=`). It is another programme
than seed_publication's 专精特新 rounds, which stay the only ones of theirs. Then the daily job is played
over the past months, on the days where something happens, through the lifecycle services, so that
reminders, filings, the county's recommendation, the renewal, the expiry and the revocation are the rows
the portal itself writes:

- 贵州黔东精密模具有限公司 (南明区): ends in 25 days, reminded 90 and 30 days before, not filed yet;
- 贵阳南明智能仪表有限公司 (南明区): ends in 25 days, re-verification filed 4 days ago, waiting at the county
  (sign in as gz_county);
- 贵州云岩新型建材有限公司 (云岩区): filed a month ago, recommended by the county, renewed by the province
  (valid three more years from its old end date);
- 贵州花溪生态茶具有限公司 (花溪区): ended 12 days ago without a filing, expired by the daily job;
- 贵州遵义钛材科技有限公司 (专精特新, certified by seed_publication): revoked today for false information,
  with an evidence file, barred from applying for the tenant's three years.

As in certification/demo.py, the rows a step wrote (lifecycle events, re-verification dates) are dated
back to the step's day afterwards; audit events and notifications keep the time they were written.

Idempotent: the round three years back is the marker. A tenant that has it gets nothing new.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from certification import lifecycle, lifecycle_evidence, publication, workflow
from certification.demo import _clean_document, _e, _local, _notice, _Player, _publisher
from certification.models import (
    Application,
    Certification,
    LifecycleEvent,
    Notice,
    Program,
    PublishedList,
    Reverification,
    ReviewEvent,
    Round,
)
from enterprises.demo import DemoEnterprise, demo_enterprise_create, demo_pdf, demo_uscc
from enterprises.models import Document, Enterprise, Membership
from portal.models import Region, Tenant, User
from portal.workdays import period_end

S = Application.State
PROGRAM = "innovative"  # 创新型中小企业: the round three years back
REVOKED_PROGRAM = "gz_srdi"  # seed_publication's certifications
REVOKED_ENTERPRISE = "贵州遵义钛材科技有限公司"  # certified by seed_publication

# fmt: off
ENTERPRISES: list[DemoEnterprise] = [
    _e("ent60", "520102", "贵州黔东精密模具有限公司", "C3525", "精密注塑模具", 6200, "0.11", "0.045", 180, 3),
    _e("ent61", "520102", "贵阳南明智能仪表有限公司", "C4014", "智能分析仪表", 5400, "0.14", "0.052", 160, 2),
    _e("ent62", "520103", "贵州云岩新型建材有限公司", "C3021", "装配式混凝土墙板", 8300, "0.09", "0.038", 240, 2),
    _e("ent63", "520111", "贵州花溪生态茶具有限公司", "C3074", "陶瓷茶具", 2600, "0.05", "0.031", 110, 1),
]
# fmt: on
SERIAL = 60  # enterprises.demo numbers gz's enterprises 1–34; these follow at a distance
EXPIRING, FILING, RENEWED, EXPIRED = (spec.key for spec in ENTERPRISES)

STATEMENTS = {
    FILING: (
        "公司主导产品智能分析仪表近三年营业收入稳步增长，研发费用占比保持在5%以上，新增发明专利2项，"
        "参与起草行业标准1项，主要客户覆盖省内电力、化工企业。现按要求提交复核申请及上年度审计报告。"
    ),
    RENEWED: (
        "公司专注装配式混凝土墙板细分领域，省内市场占有率位居前列，近三年研发投入持续增加，"
        "建有省级企业技术中心。认定以来未发生重大安全、质量、环境污染事故，无失信记录。"
    ),
}
REVOCATION_REASON = (
    "经核查，该企业在申报材料中虚报研发费用，与税务部门汇算清缴数据及审计报告不一致，"
    "属于提供虚假信息。依据认定管理办法，撤销其专精特新中小企业资格。"
)
EVIDENCE_NAME = "研发费用核查报告.pdf"


def seed_lifecycle(tenant: Tenant, *, password_hash: str, log) -> list[tuple[str, str, str]]:
    if tenant.code != "gz":
        return []
    program = Program.objects.for_tenant(tenant).filter(code=PROGRAM).first()
    if program is None:
        return []
    today = timezone.localdate()
    issued_first = today - relativedelta(years=3) - timedelta(days=12)
    issued_second = today - relativedelta(years=3) + timedelta(days=25)
    opens = _local(issued_first - timedelta(days=230), 9)
    round_name = f"{timezone.localtime(opens).year}年度贵州省创新型中小企业评价"
    enterprises = _enterprises(tenant, password_hash, today)
    rows = [
        (
            f"gz_{EXPIRING}",
            "gz",
            f"enterprise admin · {enterprises[EXPIRING][0].name}: certification ends in 25 days",
        ),
        (
            f"gz_{FILING}",
            "gz",
            f"enterprise admin · {enterprises[FILING][0].name}: re-verification at the county",
        ),
        (f"gz_{RENEWED}", "gz", f"enterprise admin · {enterprises[RENEWED][0].name}: certification renewed"),
        (f"gz_{EXPIRED}", "gz", f"enterprise admin · {enterprises[EXPIRED][0].name}: certification expired"),
    ]
    if Round.objects.filter(program=program, name=round_name).exists():
        return rows  # seeded before
    province, approver = _official("gz_province"), _official("gz_approver")
    county_yunyan = _official("gz_county2")
    if None in (province, approver, county_yunyan, _official("gz_county")):
        log("gz: lifecycle demo skipped: the demo officials are missing")
        return []

    # Three years ago: the round, its applications approved through the chain, two published batches.
    round_, applications = _play(program, round_name, opens, province, enterprises)
    publisher = _publisher(round_)
    first = [applications[EXPIRED]]
    second = [applications[k] for k in (EXPIRING, FILING, RENEWED)]
    certified = {}
    for batch, issued_on, suffix in (
        (first, issued_first, "（第一批）"),
        (second, issued_second, "（第二批）"),
    ):
        for c in _publish(round_, batch, publisher, issued_on, suffix):
            certified[c.enterprise_id] = c
    cert = {key: certified[enterprise.pk] for key, (enterprise, _admin) in enterprises.items()}

    # The months before today, as the daily job and the people lived them.
    day = _days_from(today)
    _reminders(day(-102))  # the expired one: 90 days before its end
    _reminders(day(-65))  # the second batch: 90 days before
    _reminders(day(-42))  # the expired one: 30 days before
    renewed = _file(cert[RENEWED], enterprises[RENEWED], STATEMENTS[RENEWED], day(-30))
    _act(
        renewed,
        county_yunyan,
        lifecycle.RECOMMEND,
        "企业经营正常，主要指标符合复核条件，同意推荐。",
        day(-21),
    )
    _reminders(day(-19))  # the expired one: 7 days before
    _dated(day(-11), lambda: lifecycle.certifications_expire(day=day(-11)))
    _act(renewed, approver, lifecycle.RENEW, "经复核，企业仍符合认定条件，同意延续有效期三年。", day(-9))
    _reminders(day(-5))  # the second batch: 30 days before
    _file(cert[FILING], enterprises[FILING], STATEMENTS[FILING], day(-4))
    _revoke(tenant, approver, log)

    states = {key: Certification.objects.get(pk=c.pk) for key, c in cert.items()}
    log(
        "gz: lifecycle: " + ", ".join(f"{c.number} {c.status} until {c.valid_until}" for c in states.values())
    )
    return rows


def _days_from(today: date):
    return lambda offset: today + timedelta(days=offset)


def _dated(day: date, step, *, hour: int = 10):
    """Run a step, then date the lifecycle events it wrote to its day."""
    mark = timezone.now()
    result = step()
    LifecycleEvent.objects.filter(created_at__gte=mark).update(created_at=_local(day, hour))
    return result


def _reminders(day: date) -> None:
    _dated(day, lambda: lifecycle.reminders_send(day=day), hour=1)


def _official(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _enterprises(tenant: Tenant, password_hash: str, today: date) -> dict[str, tuple[Enterprise, User]]:
    found = {}
    for serial, spec in enumerate(ENTERPRISES, start=SERIAL):
        code = demo_uscc(spec.county, serial)
        enterprise = Enterprise.objects.filter(tenant=tenant, uscc=code).select_related("county").first()
        if enterprise is None:
            county = Region.objects.get(tenant=tenant, code=spec.county)
            enterprise = demo_enterprise_create(
                tenant, spec, county, code, f"{tenant.code}_{spec.key}", password_hash, today
            )
        admin = (
            Membership.objects.filter(enterprise=enterprise, role=Membership.Role.ADMIN)
            .select_related("user")
            .order_by("pk")
            .first()
            .user
        )
        found[spec.key] = (enterprise, admin)
    return found


LEVELS = ("county", "prefecture", "province")
ROUND_NOTES = "创新型中小企业自评、县市审核推荐、省级审定；有效期三年，期满复核。"


class _Approval(_Player):
    """An application of a programme without expert scoring: started, filled, submitted, recommended up
    the chain and approved, each step at its own moment (certification.demo's player, fewer steps)."""

    def __post_init__(self):
        levels = workflow.chain_levels(self.round)
        self.names = ["start", "fill", "submit", *["recommend"] * (len(levels) - 1), "approve"]
        self._schedule()


def _play(program: Program, name: str, opens: datetime, by: User, enterprises: dict):
    """The round three years back and its approved applications, through the workflow as
    certification.demo plays last year's: opened until tomorrow so that the drafts can be started (the
    workflow checks the present), then moved back to its real dates before the rest is played."""
    closes = opens + timedelta(days=60)
    stages = [
        workflow.StageSpec(level, closes + timedelta(days=15 * (i + 1))) for i, level in enumerate(LEVELS)
    ]
    now = timezone.now()
    round_ = Round(
        program=program,
        version=program.version_on(timezone.localdate(opens)),
        name=name,
        year=timezone.localtime(opens).year,
        opens_at=opens,
        closes_at=now + timedelta(days=1),
        notes=ROUND_NOTES,
    )
    workflow.round_save(
        round_=round_,
        stages=[workflow.StageSpec(level, round_.closes_at + timedelta(days=1)) for level in LEVELS],
        quotas=[],
        by=by,
        actor_label="seed_demo",
    )
    limit = stages[-1].deadline - timedelta(hours=2)
    players = {}
    for index, spec in enumerate(ENTERPRISES):
        enterprise, admin = enterprises[spec.key]
        start = opens + timedelta(days=1 + index * 1.1, hours=index)
        players[spec.key] = _Approval(round_, enterprise, admin, "approved", start, limit, index, closes)
        players[spec.key].begin()
    round_.closes_at = closes
    workflow.round_save(round_=round_, stages=stages, quotas=None, by=by, actor_label="seed_demo")
    for player in players.values():
        player.play()
    return round_, {key: player.application for key, player in players.items()}


def _publish(
    round_: Round, applications: list, by: User, issued_on: date, suffix: str
) -> list[Certification]:
    """A notice whose period ended before `issued_on`, published on that day (the certificates' date)."""
    tenant = round_.tenant
    starts_on = issued_on - timedelta(days=10)
    while period_end(starts_on, tenant.notice_days, tenant=tenant) >= issued_on:
        starts_on -= timedelta(days=1)
    notice = _notice(round_, applications, by, starts_on, suffix)
    at = _local(issued_on, 10)
    mark = timezone.now()
    published = publication.notice_publish(notice=notice, by=by, at=at)
    ids = [a.pk for a in applications]
    ReviewEvent.objects.filter(application_id__in=ids, created_at__gte=mark).update(created_at=at)
    Application.objects.filter(pk__in=ids).update(decided_at=at)
    Certification.objects.filter(published_list=published).update(created_at=at)
    PublishedList.objects.filter(pk=published.pk).update(published_at=at)
    Notice.objects.filter(pk=notice.pk).update(closed_at=at)
    return list(Certification.objects.filter(published_list=published))


def _file(
    certification: Certification, owner: tuple[Enterprise, User], statement: str, day: date
) -> Reverification:
    """The enterprise files its re-verification with a statement and its last audit report."""
    enterprise, admin = owner
    report = _clean_document(enterprise, admin, Document.Type.AUDIT_REPORT, f"{day.year - 1}年度审计报告")
    mark = timezone.now()
    reverification = lifecycle.reverification_start(certification=certification, by=admin)
    lifecycle.reverification_save(reverification=reverification, by=admin, statement=statement)
    lifecycle.reverification_attach(
        reverification=reverification, document=report, by=admin, label="上年度审计报告"
    )
    reverification = lifecycle.reverification_submit(reverification=reverification, by=admin)
    at = _local(day, 10)
    LifecycleEvent.objects.filter(created_at__gte=mark).update(created_at=at)
    Reverification.objects.filter(pk=reverification.pk).update(
        created_at=at - timedelta(hours=2), submitted_at=at
    )
    return reverification


def _act(reverification: Reverification, by: User, action: str, reason: str, day: date) -> None:
    mark = timezone.now()
    reverification = lifecycle.reverification_act(
        reverification=reverification, by=by, action=action, reason=reason
    )
    at = _local(day, 15)
    LifecycleEvent.objects.filter(created_at__gte=mark).update(created_at=at)
    if reverification.decided_at is not None:
        Reverification.objects.filter(pk=reverification.pk).update(decided_at=at)


def _revoke(tenant: Tenant, by: User, log) -> None:
    """A certification of seed_publication (遵义钛材 where it exists), revoked today for false information,
    with its evidence file."""
    candidates = (
        Certification.objects.for_tenant(tenant)
        .filter(status=Certification.Status.ACTIVE, program__code=REVOKED_PROGRAM)
        .select_related("enterprise")
        .order_by("number")
    )
    certification = (
        next((c for c in candidates if c.enterprise.name == REVOKED_ENTERPRISE), None) or candidates.last()
    )
    if certification is None:
        log("gz: lifecycle demo: no certification to revoke")
        return
    revocation = lifecycle.certification_revoke(
        certification=certification,
        by=by,
        ground="false_information",
        reason=REVOCATION_REASON,
        evidence=[(SimpleUploadedFile(EVIDENCE_NAME, demo_pdf(), "application/pdf"), EVIDENCE_NAME)],
    )
    # The scan task runs after the seed's commit (or in a worker); scan here so that the demo's staff can
    # open the file at once, as they can once the scanner has passed a real upload.
    for evidence_id in revocation.evidence.values_list("pk", flat=True):
        if lifecycle_evidence.revocation_evidence_scan(evidence_id=evidence_id) != Document.Scan.CLEAN:
            raise RuntimeError(f"seed: the demo revocation evidence {evidence_id} did not scan clean")
