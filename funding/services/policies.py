"""Configuring awards: policies and their amounts, budgets per year, the tenant's disbursement settings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from funding.lock_objects import budget_lock
from funding.models import AwardAmount, AwardLevel, AwardPolicy, Budget, FundingSettings, LedgerEntry
from funding.money import money
from funding.permissions import is_paying_officer, is_tenant_admin
from funding.services.common import FundingRefused, funding_settings, refusals_audited
from funding.services.ledger import ledger_post
from portal.audit import audit_record
from portal.models import Tenant, User


@dataclass(frozen=True)
class AmountSpec:
    """One line of a policy's schedule: the level, the amount in yuan, optionally a programme."""

    level: str
    amount: Decimal | int | str
    program: object | None = None  # certification.models.Program


def award_policy_save(
    *, policy: AwardPolicy, amounts: list[AmountSpec], by: User | None, request=None, actor_label: str = ""
) -> AwardPolicy:
    """Create or change a policy and replace its schedule of amounts (tenant administrator; `by=None`
    with an `actor_label` for the demo seeder and data migrations).

    Rules: a name, a source, a stacking group and a start date; covers_to not before covers_from; the
    paying region of the policy's tenant; at least one amount; each level (or programme) once; amounts in
    yuan, positive, never floats. Changing amounts changes future entitlements only: an entitlement keeps
    the level amount it was created with.
    """
    tenant = policy.tenant
    if by is not None and not is_tenant_admin(by, tenant):
        raise FundingRefused(
            _("Only the tenant administrator manages award policies."), code="forbidden", status=403
        )
    errors: dict[str, list[str]] = {}
    for name in ("name", "source", "stacking_group", "code"):
        if not str(getattr(policy, name) or "").strip():
            errors[name] = [_("This field is required.")]
    if policy.covers_from is None:
        errors["covers_from"] = [_("This field is required.")]
    elif policy.covers_to is not None and policy.covers_to < policy.covers_from:
        errors["covers_to"] = [_("The window cannot end before it starts.")]
    if policy.region_id is None or policy.region.tenant_id != tenant.pk:
        errors["region"] = [_("Choose the paying region.")]
    rows: list[tuple[str, Decimal, object | None]] = []
    seen = set()
    for spec in amounts:
        amount = money(spec.amount)
        key = ("program", spec.program.pk) if spec.program is not None else ("level", spec.level)
        if spec.level not in AwardLevel.values:
            errors.setdefault("amounts", []).append(
                _("Unknown award level: %(level)s") % {"level": spec.level}
            )
        elif amount <= 0:
            errors.setdefault("amounts", []).append(_("An award amount must be positive."))
        elif key in seen:
            errors.setdefault("amounts", []).append(_("Each level or programme appears once."))
        elif spec.program is not None and spec.program.tenant_id != tenant.pk:
            errors.setdefault("amounts", []).append(_("Choose a programme of this tenant."))
        seen.add(key)
        rows.append((spec.level, amount, spec.program))
    if not rows:
        errors.setdefault("amounts", []).append(_("List at least one award amount."))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        created = policy.pk is None
        policy.save()
        before = {(a.level, a.program_id): str(a.amount) for a in AwardAmount.objects.filter(policy=policy)}
        AwardAmount.objects.filter(policy=policy).delete()
        AwardAmount.objects.bulk_create(
            AwardAmount(policy=policy, level=level, amount=amount, program=program)
            for level, amount, program in rows
        )
        after = {(level, getattr(program, "pk", None)): str(amount) for level, amount, program in rows}
        audit_record(
            action="award_policy.created" if created else "award_policy.changed",
            actor=by,
            actor_label=actor_label,
            tenant=tenant,
            obj=policy,
            summary=policy.name,
            changes={
                "amounts": [
                    {f"{k[0]}:{k[1] or ''}": v for k, v in before.items()},
                    {f"{k[0]}:{k[1] or ''}": v for k, v in after.items()},
                ]
            },
            request=request,
        )
    return policy


def budget_allocate(
    *,
    policy: AwardPolicy,
    year: int,
    amount: Decimal | int | str,
    by: User | None,
    request=None,
    actor_label: str = "",
) -> Budget:
    """Set the budget of `policy` for `year` to `amount` yuan (tenant administrator, or a funding officer
    of the paying region). The change is an allocation ledger entry of the difference; a budget is never
    set below what is already committed (refused, stating the committed amount)."""
    tenant = policy.tenant
    amount = money(amount)
    if amount < 0:
        raise ValidationError({"amount": [_("A budget cannot be negative.")]})
    if not (1900 < int(year) < 3000):
        raise ValidationError({"year": [_("Enter a year, e.g. 2026.")]})
    with (
        refusals_audited(action="budget.allocate", by=by, tenant=tenant, obj=policy, request=request),
        transaction.atomic(),
    ):
        if by is not None and not (is_tenant_admin(by, tenant) or is_paying_officer(by, policy.region)):
            raise FundingRefused(
                _("Only the tenant administrator or a funding officer of %(region)s sets this budget.")
                % {"region": policy.region.name},
                code="forbidden",
                status=403,
            )
        budget, _created = Budget.objects.get_or_create(tenant=tenant, policy=policy, year=year)
        budget = budget_lock(budget.pk)
        if amount < budget.committed:
            raise FundingRefused(
                _("%(committed)s yuan of this budget are already committed: it cannot be set lower.")
                % {"committed": budget.committed},
                code="below_committed",
            )
        delta = amount - budget.amount
        if delta:
            before = budget.amount
            budget.amount = amount
            budget.save(update_fields=["amount", "updated_at"])
            ledger_post(
                kind=LedgerEntry.Kind.ALLOCATION,
                amount=delta,
                policy=policy,
                budget=budget,
                by=by,
                note=f"{year}: {before} -> {amount}",
            )
            audit_record(
                action="budget.allocated",
                actor=by,
                actor_label=actor_label,
                tenant=tenant,
                obj=budget,
                summary=f"{policy.name} {year}: {amount}",
                changes={"amount": [str(before), str(amount)]},
                request=request,
            )
    return budget


def funding_settings_save(
    *, tenant: Tenant, second_approval_above: Decimal | int | str, by: User, request=None
) -> FundingSettings:
    """Set the batch total above which a second approver is needed (tenant administrator)."""
    if not is_tenant_admin(by, tenant):
        raise FundingRefused(
            _("Only the tenant administrator changes funding settings."), code="forbidden", status=403
        )
    threshold = money(second_approval_above)
    if threshold < 0:
        raise ValidationError({"second_approval_above": [_("Enter an amount of zero or more.")]})
    with transaction.atomic():
        row = funding_settings(tenant)
        before = row.second_approval_above if row.pk else None
        row.second_approval_above = threshold
        row.save()
        audit_record(
            action="funding_settings.changed",
            actor=by,
            tenant=tenant,
            obj=row,
            changes={"second_approval_above": [str(before) if before is not None else None, str(threshold)]},
            request=request,
        )
    return row
