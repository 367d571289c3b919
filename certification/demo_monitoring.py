"""Demo data for the monitoring pages (seed_demo). Idempotent: a second run adds only what is missing.

贵州 only, on the certifications the publication demo created (ordered by enterprise):
- every certified enterprise but the last confirms its figures of last year through the service, so the
  monitoring check runs as it does in production; the last one has not (overdue once the deadline passed);
- the second (or the only) one first corrects its figures after the audit: total liabilities rise to 74.6%
  of assets, which fails Guizhou's debt-ratio condition (seed 002 四: 资产负债率不高于70%) — a warning;
- the first reports a change of name (waiting for review); the last one reported a restructuring that its
  county's reviewer accepted.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from certification import monitoring
from certification.models import AnnualUpdate, Certification, ChangeReport
from enterprises.models import AnnualFigures, Document, Enterprise, Membership
from enterprises.services import figures_save
from portal.models import Post, Tenant, User

FAILING_DEBT_RATIO = Decimal("0.746")
GROWTH = Decimal("1.08")


def _member(enterprise: Enterprise) -> User | None:
    membership = (
        Membership.objects.filter(enterprise=enterprise)
        .select_related("user")
        .order_by("-role", "created_at")
        .first()
    )
    return membership.user if membership else None


def _ensure_figures(enterprise: Enterprise, by: User, fiscal_year: int) -> AnnualFigures | None:
    """The figures of `fiscal_year`: the enterprise's own, or last year's grown by 8% (a demo run in a new
    year, when the demo enterprises have not entered the year just closed)."""
    row = AnnualFigures.objects.filter(enterprise=enterprise, fiscal_year=fiscal_year).first()
    if row is not None:
        return row
    latest = AnnualFigures.objects.filter(enterprise=enterprise, fiscal_year__lt=fiscal_year).first()
    if latest is None:
        return None
    values = {}
    for name in AnnualFigures.FIELDS:
        value = getattr(latest, name)
        if isinstance(value, Decimal):
            value = (value * GROWTH).quantize(Decimal("0.01"))
        values[name] = value
    return figures_save(enterprise=enterprise, by=by, fiscal_year=fiscal_year, values=values)


def _fail_debt_ratio(enterprise: Enterprise, by: User, row: AnnualFigures) -> None:
    """The audited accounts came in with more debt than the application said."""
    if row.total_assets:
        liabilities = (row.total_assets * FAILING_DEBT_RATIO).quantize(Decimal("0.01"))
        figures_save(
            enterprise=enterprise,
            by=by,
            fiscal_year=row.fiscal_year,
            values={"total_liabilities": liabilities},
        )


def _reviewer(enterprise: Enterprise) -> User | None:
    post = (
        Post.objects.filter(tenant=enterprise.tenant, is_active=True)
        .filter(
            role=Post.Role.COUNTY_REVIEWER,
            region=enterprise.county,
        )
        .select_related("user")
        .first()
    ) or (
        Post.objects.filter(
            tenant=enterprise.tenant,
            is_active=True,
            role=Post.Role.PROVINCIAL_REVIEWER,
            region_id=enterprise.tenant.root_region_id,
        )
        .select_related("user")
        .first()
    )
    return post.user if post else None


def _documents(enterprise: Enterprise, doc_type: str) -> list[Document]:
    document = (
        Document.objects.filter(enterprise=enterprise, doc_type=doc_type, scan_status=Document.Scan.CLEAN)
        .order_by("pk")
        .first()
    )
    return [document] if document else []


def _rename(enterprise: Enterprise, by: User, today) -> bool:
    if ChangeReport.objects.filter(enterprise=enterprise, kind=ChangeReport.Kind.RENAME).exists():
        return False
    new_name = enterprise.name.replace("有限公司", "股份有限公司") if "股份" not in enterprise.name else ""
    monitoring.change_report_file(
        enterprise=enterprise,
        by=by,
        kind=ChangeReport.Kind.RENAME,
        occurred_on=today - timedelta(days=20),
        description=(
            "企业完成股份制改造，经市场监督管理部门核准变更企业名称，统一社会信用代码不变，"
            "主营业务、生产经营地址和主要产品均未发生变化。"
        ),
        new_name=new_name or f"{enterprise.name}（更名）",
        documents=_documents(enterprise, "business_licence"),
    )
    return True


def _restructuring(enterprise: Enterprise, by: User, today) -> bool:
    if ChangeReport.objects.filter(enterprise=enterprise, kind=ChangeReport.Kind.RESTRUCTURING).exists():
        return False
    report = monitoring.change_report_file(
        enterprise=enterprise,
        by=by,
        kind=ChangeReport.Kind.RESTRUCTURING,
        occurred_on=today - timedelta(days=45),
        description=(
            "企业将钛材深加工业务划入新设全资子公司，母公司保留研发中心和主要生产线，"
            "主营业务收入占比和研发投入不受影响。"
        ),
        documents=_documents(enterprise, "audit_report"),
    )
    reviewer = _reviewer(enterprise)
    if reviewer is not None:
        monitoring.change_report_review(
            report=report,
            by=reviewer,
            state=ChangeReport.State.ACCEPTED,
            note="已核对子公司设立材料，重组不影响认定条件，予以备案。",
        )
    return True


def seed_monitoring(tenant: Tenant, *, password_hash: str, log) -> list[tuple[str, str, str]]:
    if tenant.code != "gz":
        return []
    today = timezone.localdate()
    year, fiscal_year = today.year, today.year - 1
    certified = list(
        Enterprise.objects.filter(
            pk__in=Certification.objects.filter(tenant=tenant, status=Certification.Status.ACTIVE).values(
                "enterprise_id"
            )
        )
        .select_related("county", "tenant")
        .order_by("pk")
    )
    if not certified:
        return []
    missing = certified[-1] if len(certified) >= 2 else None
    failing = certified[1] if len(certified) >= 3 else certified[0]
    accounts: list[tuple[str, str, str]] = []
    added = {"updates": 0, "reports": 0}
    for enterprise in certified:
        by = _member(enterprise)
        if by is None:
            continue
        with transaction.atomic():
            role = "年度数据已确认"
            if enterprise == missing:
                role = "年度数据未报送（已逾期）"
                if _restructuring(enterprise, by, today):
                    added["reports"] += 1
            elif not AnnualUpdate.objects.filter(enterprise=enterprise, year=year).exists():
                row = _ensure_figures(enterprise, by, fiscal_year)
                if row is None:
                    continue
                if enterprise == failing:
                    _fail_debt_ratio(enterprise, by, row)
                monitoring.annual_update_submit(enterprise=enterprise, by=by, year=year)
                added["updates"] += 1
            if enterprise == failing:
                role = "年度数据已确认，资产负债率超70%（监测预警）"
            if enterprise == certified[0] and enterprise != missing and _rename(enterprise, by, today):
                added["reports"] += 1
            if enterprise == certified[0]:
                role += "，更名报告待审"
        accounts.append((by.username, tenant.code, f"{enterprise.name} · {role}"))
    log(f"{tenant.code}: monitoring: annual updates +{added['updates']}, change reports +{added['reports']}")
    return accounts
