"""Reads for the funding pages and reports (style.md 3): QuerySets with their joins inside, scoped.

Officials' selectors take (user, tenant) and start from `funding_scope` (funding officers and tenant
administrators: what the regions of their subtree pay); anyone else gets an empty QuerySet. The
enterprise's selectors take the enterprise the view resolved through enterprises.permissions.
SECURITY: a view looks one object up with get_object_or_404(<selector>(...), pk=pk), never by id alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, OuterRef, QuerySet

from enterprises.models import Enterprise
from funding.models import (
    AwardPolicy,
    BankAccount,
    BatchLine,
    Budget,
    Entitlement,
    ExternalCertification,
    LedgerEntry,
    PaymentBatch,
    Receivable,
)
from funding.money import ZERO
from funding.permissions import funding_scope
from portal.models import Region, Tenant, User

S = Entitlement.State


def _scoped(qs: QuerySet, user: User, tenant: Tenant, *, field: str = "policy__region") -> QuerySet:
    scope = funding_scope(user, tenant, field=field)
    if scope is None:
        return qs.none()
    return qs.filter(tenant=tenant).filter(scope)


def policies_visible_to(*, user: User, tenant: Tenant) -> QuerySet[AwardPolicy]:
    return (
        _scoped(AwardPolicy.objects.all(), user, tenant, field="region")
        .select_related("region")
        .prefetch_related("amounts__program")
    )


def entitlements_visible_to(
    *,
    user: User,
    tenant: Tenant,
    state: str | None = None,
    policy: AwardPolicy | None = None,
    year: int | None = None,
    enterprise: Enterprise | None = None,
) -> QuerySet[Entitlement]:
    """Entitlements paid by the regions the official sees, newest first; `year` is the budget year (so
    only approved, paid or recovered ones)."""
    qs = _scoped(Entitlement.objects.all(), user, tenant).select_related(
        "policy__region",
        "enterprise__county",
        "certification__program",
        "external",
        "budget",
        "covered_by__policy",
        "decided_by",
    )
    if state:
        qs = qs.filter(state=state)
    if policy is not None:
        qs = qs.filter(policy=policy)
    if year is not None:
        qs = qs.filter(budget__year=year)
    if enterprise is not None:
        qs = qs.filter(enterprise=enterprise)
    return qs.order_by("-created_at", "-pk")


def payable_entitlements(*, user: User, tenant: Tenant, region: Region) -> QuerySet[Entitlement]:
    """Approved entitlements paid by `region` and in no open batch: what a new batch can gather."""
    in_batch = BatchLine.objects.filter(entitlement=OuterRef("pk"), active=True)
    return (
        entitlements_visible_to(user=user, tenant=tenant, state=S.APPROVED)
        .filter(policy__region=region)
        .exclude(Exists(in_batch))
        .order_by("decided_at", "pk")
    )


def entitlements_of_enterprise(*, enterprise: Enterprise) -> QuerySet[Entitlement]:
    """All awards of one enterprise (what its members see), newest first."""
    return (
        Entitlement.objects.for_tenant(enterprise.tenant)
        .filter(enterprise=enterprise)
        .select_related("policy__region", "certification__program", "external", "covered_by__policy")
        .order_by("-created_at", "-pk")
    )


def external_certifications_visible_to(*, user: User, tenant: Tenant) -> QuerySet[ExternalCertification]:
    return _scoped(
        ExternalCertification.objects.all(), user, tenant, field="enterprise__county"
    ).select_related("enterprise__county", "recorded_by")


def budgets_visible_to(*, user: User, tenant: Tenant, year: int | None = None) -> QuerySet[Budget]:
    """Budgets with amount, committed and paid (utilisation = committed / amount, for the chart)."""
    qs = _scoped(Budget.objects.all(), user, tenant).select_related("policy__region")
    if year is not None:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "policy__region__path", "policy__code")


def batches_visible_to(*, user: User, tenant: Tenant, state: str | None = None) -> QuerySet[PaymentBatch]:
    qs = _scoped(PaymentBatch.objects.all(), user, tenant, field="region").select_related(
        "region", "prepared_by", "approved_by", "second_approved_by"
    )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-prepared_at", "-pk")


def batch_lines(*, batch: PaymentBatch) -> QuerySet[BatchLine]:
    """The lines of a batch (active ones; a cancelled batch shows the lines it had)."""
    qs = BatchLine.objects.filter(batch=batch)
    if batch.state != PaymentBatch.State.CANCELLED:
        qs = qs.filter(active=True)
    return qs.select_related(
        "entitlement__policy",
        "entitlement__enterprise",
        "entitlement__certification",
        "entitlement__external",
    ).order_by("pk")


def receivables_visible_to(*, user: User, tenant: Tenant, state: str | None = None) -> QuerySet[Receivable]:
    qs = _scoped(Receivable.objects.all(), user, tenant).select_related(
        "policy__region", "enterprise", "entitlement__certification", "revocation", "write_off_requested_by"
    )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-pk")


def receivables_of_enterprise(*, enterprise: Enterprise) -> QuerySet[Receivable]:
    return (
        Receivable.objects.for_tenant(enterprise.tenant)
        .filter(enterprise=enterprise)
        .select_related("policy", "entitlement__certification")
    )


def bank_accounts_of_enterprise(*, enterprise: Enterprise) -> QuerySet[BankAccount]:
    """Current, proposed and past accounts, newest first (show `masked_number`)."""
    return (
        BankAccount.objects.for_tenant(enterprise.tenant)
        .filter(enterprise=enterprise)
        .select_related("proposed_by", "confirmed_by")
    )


def ledger_visible_to(*, user: User, tenant: Tenant, budget: Budget | None = None) -> QuerySet[LedgerEntry]:
    qs = _scoped(LedgerEntry.objects.all(), user, tenant).select_related(
        "policy", "budget", "entitlement__enterprise", "batch_line", "receivable"
    )
    if budget is not None:
        qs = qs.filter(budget=budget)
    return qs.order_by("created_at", "pk")


@dataclass
class ReportRow:
    key: object
    label: str
    count: int = 0
    pending: Decimal = ZERO  # provisional amounts waiting for review
    approved: Decimal = ZERO  # approved, not yet paid
    paid: Decimal = ZERO  # paid and kept
    clawed_back: Decimal = ZERO  # paid, then revoked for false information (receivables)
    states: dict = field(default_factory=dict)

    @property
    def committed(self) -> Decimal:
        return self.approved + self.paid + self.clawed_back


GROUPINGS = ("policy", "region", "year")


def award_report(*, user: User, tenant: Tenant, group_by: str) -> list[ReportRow]:
    """Award totals by "policy", "region" (the paying region) or "year" (the budget year; entitlements
    not yet approved fall under the year they were created). One query; sums are exact Decimals."""
    if group_by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {GROUPINGS}")
    rows: dict[object, ReportRow] = {}
    values = _scoped(Entitlement.objects.all(), user, tenant).values_list(
        "policy_id",
        "policy__name",
        "policy__region__code",
        "policy__region__name",
        "budget__year",
        "created_at",
        "state",
        "amount",
    )
    for policy_id, policy_name, region_code, region_name, budget_year, created_at, state, amount in values:
        if group_by == "policy":
            key, label = policy_id, policy_name
        elif group_by == "region":
            key, label = region_code, region_name
        else:
            key = budget_year or created_at.year
            label = str(key)
        row = rows.setdefault(key, ReportRow(key=key, label=label))
        row.count += 1
        row.states[state] = row.states.get(state, 0) + 1
        if state == S.PENDING:
            row.pending += amount
        elif state == S.APPROVED:
            row.approved += amount
        elif state == S.PAID:
            row.paid += amount
        elif state == S.CLAWED_BACK:
            row.clawed_back += amount
    if group_by == "year":
        return sorted(rows.values(), key=lambda r: -int(r.key))
    return sorted(rows.values(), key=lambda r: (r.label, str(r.key)))
