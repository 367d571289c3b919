"""Personas and builders for the round / application / review tests (style.md 22).

贵州省's test programme is owned by the province; the chain is 南明区 (county) → 贵阳市
(prefecture) → 贵州省 (province). 云岩区 is the neighbouring county, 遵义市 another
prefecture; 西藏 is another tenant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from certification import publication, workflow
from certification.models import LEVEL_ORDER, Application, ExpertProfile, QuotaUse, Round
from certification.transitions import Action
from enterprises.models import AnnualFigures, Document
from portal.models import AuditEvent, Post
from tests.certification.conftest import make_program
from tests.conftest import official, region

FORM = {
    "products": {
        "main_product": "精密轴承",
        "niche_market": "高速精密轴承",
        "market_share": "12.5",
        "main_customers": "中航工业、三一重工",
    },
    "innovation": {"rd_institution": "provincial", "standards": "参与起草 GB/T 1234-2024"},
    "commitment": {"signer_name": "张三", "signer_position": "董事长", "agreed": True},
}


def make_round(
    program, version, *, name="2026年第一批", opens=None, closes=None, levels=None, quotas=None, by=None
):
    now = timezone.now()
    opens = opens or now - timedelta(days=1)
    closes = closes or now + timedelta(days=30)
    owner_level = workflow.level_of_region(program.owner_region)
    levels = levels or LEVEL_ORDER[: LEVEL_ORDER.index(owner_level) + 1]
    stages = [workflow.StageSpec(lvl, closes + timedelta(days=10 * (i + 1))) for i, lvl in enumerate(levels)]
    round_ = Round(
        program=program, version=version, name=name, year=now.year, opens_at=opens, closes_at=closes
    )
    return workflow.round_save(round_=round_, stages=stages, quotas=quotas or [], by=by, actor_label="test")


def add_figures(enterprise, *, revenue="5000"):
    year = timezone.localdate().year
    for y in (year - 1, year - 2, year - 3):
        AnnualFigures.objects.update_or_create(
            enterprise=enterprise,
            fiscal_year=y,
            defaults={
                "revenue": Decimal(revenue),
                "main_business_revenue": Decimal(revenue),
                "rd_expense": Decimal("300"),
                "net_profit": Decimal("400"),
                "total_assets": Decimal("8000"),
                "total_liabilities": Decimal("3000"),
                "employees": 120,
                "rd_staff": 20,
            },
        )


def add_document(enterprise, doc_type, *, clean=True, name="licence.pdf"):
    content = b"%PDF-1.4\n% test\n"
    document = Document(
        enterprise=enterprise,
        doc_type=doc_type,
        original_name=name,
        content_type="application/pdf",
        size=len(content),
        sha256="0" * 64,
        scan_status=Document.Scan.CLEAN if clean else Document.Scan.PENDING,
    )
    document.file.save(name, ContentFile(content), save=False)
    document.save()
    return document


def fill(application, by):
    """Everything the test programme requires: the form, the figures and the required attachments."""
    enterprise = application.enterprise
    if enterprise.established_date is None:
        enterprise.established_date = timezone.localdate().replace(year=2015)
        enterprise.save(update_fields=["established_date"])
    add_figures(enterprise)
    application, _errors = workflow.application_save_draft(application=application, by=by, data=FORM)
    for slot in workflow.attachment_slots(application.round.program):
        if slot["required"]:
            doc = add_document(enterprise, slot["doc_types"][0], name=f"{slot['code']}.pdf")
            workflow.application_attach(application=application, slot=slot["code"], document=doc, by=by)
    return application


def act(application, action, by, **kwargs):
    return workflow.application_act(application=application, action=action, by=by, **kwargs)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def province_reviewer(gz):
    return official(gz, "520000", Post.Role.PROVINCIAL_REVIEWER, username="gz_reviewer")


@pytest.fixture
def province_approver(gz):
    return official(gz, "520000", Post.Role.PROVINCIAL_APPROVER, username="gz_approver")


@pytest.fixture
def zunyi_official(gz):
    return official(gz, "520300", Post.Role.PREFECTURE_REVIEWER, username="zunyi")


def make_expert(tenant, username, *, home_county=None, linked=()):
    user = official(tenant, tenant.root_region.code, Post.Role.EXPERT, username=username)
    profile = ExpertProfile.objects.create(
        tenant=tenant, user=user, home_county=region(tenant, home_county) if home_county else None
    )
    profile.linked_enterprises.set(linked)
    return user


@pytest.fixture
def experts(gz):
    return [make_expert(gz, "expert_a", home_county="520300"), make_expert(gz, "expert_b")]


@pytest.fixture
def wf_program(gz):
    program, version = make_program(gz, code="wf_srdi")
    program.min_expert_reviews = 2
    program.save()
    return program, version


@pytest.fixture
def wf_round(wf_program):
    program, version = wf_program
    return make_round(program, version)


@pytest.fixture
def draft(wf_round, acme, owner, media):
    return workflow.application_start(round_=wf_round, enterprise=acme, by=owner)


@pytest.fixture
def ready(draft, owner):
    return fill(draft, owner)


@pytest.fixture
def submitted(ready, owner):
    return act(ready, Action.SUBMIT, owner)


# --- driving an application to a state, and checking that a refusal changed nothing ----------------

# What experts give when a test only needs the reviews in: 80 of 100 points.
SCORES = {"specialisation": 20, "refinement": 20, "distinctiveness": 15, "innovation": 25}

# Every place an application can be in; `drive` takes a filled draft to each through the services.
PLACES = (
    "draft",
    "submitted",
    "in_review_prefecture",
    "in_review_province",
    "returned",
    "rejected",
    "approved",
    "in_notice",
    "published",
    "withdrawn",
)

# The notice `drive` puts an application on: five working days from 2026-09-28 end on 2026-10-09.
NOTICE_STARTS = date(2026, 9, 28)
AFTER_NOTICE = timezone.make_aware(datetime(2026, 10, 12, 10, 0))


@dataclass
class Chain:
    """The people who move an application of the test programme along: one per level, and experts."""

    owner: Any
    county: Any
    prefecture: Any
    province_reviewer: Any
    province_approver: Any
    experts: list

    def official_at(self, level: str, action: str):
        """The official who takes `action` while the application waits at `level`."""
        if level == "province":
            return self.province_approver if action == Action.APPROVE else self.province_reviewer
        return {"county": self.county, "prefecture": self.prefecture}[level]


# Named so that test modules import `chain_fixture` and take `chain` as an argument without shadowing.
@pytest.fixture(name="chain")
def chain_fixture(owner, nanming_official, guiyang_official, province_reviewer, province_approver, experts):
    return Chain(owner, nanming_official, guiyang_official, province_reviewer, province_approver, experts)


def expert_reviews(application, experts, by, *, scores=SCORES):
    """Assign each expert and have them score: the reviews an approval needs."""
    for expert in experts:
        assignment = workflow.expert_assign(application=application, expert=expert, by=by)
        workflow.expert_score(assignment=assignment, by=expert, scores=scores, opinion="同意推荐")
    application.refresh_from_db()
    return application


def drive(application, place: str, chain: Chain, *, with_expert_reviews: bool = True):
    """Take a filled draft to `place` (one of PLACES) through the real services, as the right people."""
    if place == "draft":
        return application
    if place == "withdrawn":
        return act(application, Action.WITHDRAW, chain.owner)
    application = act(application, Action.SUBMIT, chain.owner)
    if place == "submitted":
        return application
    if place == "returned":
        return act(application, Action.RETURN, chain.county, opinion="请补充近三年审计报告")
    if place == "rejected":
        return act(application, Action.REJECT, chain.county, opinion="不符合申报条件")
    application = act(application, Action.RECOMMEND, chain.county, opinion="同意推荐")
    if place == "in_review_prefecture":
        return application
    application = act(application, Action.RECOMMEND, chain.prefecture, opinion="同意推荐")
    if with_expert_reviews or place == "approved":
        application = expert_reviews(application, chain.experts, chain.province_reviewer)
    if place == "in_review_province":
        return application
    application = act(application, Action.APPROVE, chain.province_approver, opinion="批准")
    if place == "approved":
        return application
    notice = publication.notice_create(
        round_=application.round,
        application_ids=[application.pk],
        title="拟认定名单公示",
        body="现予公示。",
        how_to_object="实名书面反映。",
        starts_on=NOTICE_STARTS,
        working_days=5,
        by=chain.province_approver,
    )
    if place == "in_notice":
        return Application.objects.get(pk=application.pk)
    publication.notice_publish(notice=notice, by=chain.province_approver, at=AFTER_NOTICE)
    if place == "published":
        return Application.objects.get(pk=application.pk)
    raise ValueError(place)


def fingerprint(application) -> dict[str, Any]:
    """Everything a refused action must leave as it was, read fresh from the database."""
    fresh = Application.objects.get(pk=application.pk)
    return {
        "state": fresh.state,
        "level": fresh.level,
        "current_region": fresh.current_region_id,
        "return_level": fresh.return_level,
        "submitted_at": fresh.submitted_at,
        "decided_at": fresh.decided_at,
        "events": fresh.events.count(),
        "snapshots": fresh.snapshots.count(),
        "quota_uses": QuotaUse.objects.filter(quota__round_id=fresh.round_id).count(),
        "assignments": fresh.expert_assignments.count(),
    }


def refused(application, action, by, **kwargs):
    """Assert that `by` may not take `action`, that the guard says so too, that nothing changed, and
    that the attempt is on record in the audit log."""
    before = fingerprint(application)
    attempts = AuditEvent.objects.filter(
        object_type="certification.application", object_id=str(application.pk), outcome="refused"
    )
    recorded = attempts.count()
    guard = workflow.application_can(
        Application.objects.get(pk=application.pk), action, by=by, at=kwargs.get("at")
    )
    with pytest.raises(workflow.WorkflowRefused) as info:
        act(application, action, by, **kwargs)
    assert fingerprint(application) == before
    assert guard, "application_can allowed what application_act refused"
    assert attempts.count() == recorded + 1
    return info.value


def submitted_application(round_, enterprise, by):
    """Start, fill and submit an application of `enterprise` to `round_`."""
    application = workflow.application_start(round_=round_, enterprise=enterprise, by=by)
    return act(fill(application, by), Action.SUBMIT, by)


@pytest.fixture(name="rival")
def rival_fixture(gz):
    """Another enterprise of 南明区: it competes with acme for the county's places."""
    from tests.enterprises.conftest import make_enterprise
    from tests.factories import UserFactory

    return make_enterprise(
        gz, "520102", 5, name="贵州南明精工有限公司", admin=UserFactory(username="rival_owner")
    )
