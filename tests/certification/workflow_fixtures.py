"""Personas and builders for the round / application / review tests (style.md 22).

贵州省's test programme is owned by the province; the chain is 南明区 (county) → 贵阳市
(prefecture) → 贵州省 (province). 云岩区 is the neighbouring county, 遵义市 another
prefecture; 西藏 is another tenant.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from certification import workflow
from certification.models import LEVEL_ORDER, ExpertProfile, Round
from certification.transitions import Action
from enterprises.models import AnnualFigures, Document
from portal.models import Post
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
