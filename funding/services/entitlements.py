"""Entitlements: created from certifications, reviewed by the paying region's funding officer.

Stacking (从高、不重复). Within a stacking group an enterprise receives the highest award once:

- seed 003 三、（一）2: "对新认定为国家级专精特新小巨人企业、省级专精特新企业分别给予200万元、50万元的一次性
  奖励……同一企业按照从高、不重复原则给予奖励";
- seed 002 六、（二）: "同时获省和国家专精特新'小巨人'企业认定的按就高原则进行奖励".

So a provincial SRDI award of 50万 followed by a national little giant award of 200万 pays 50万 and then
150万 more; a lower or equal award afterwards pays nothing. We *record* the one that pays nothing, as an
entitlement of amount 0 in state "covered" pointing at the award that covers it, rather than creating
nothing: the enterprise and the officer see why no money comes, the unique (policy, certification) row
keeps publication idempotent, and should the covering award be rejected or reversed the covered one
reopens by itself.

The amount is worked out twice: provisionally when the entitlement is created (against every award the
enterprise holds in the group, pending ones included) and finally at approval, against the awards already
approved or paid, under a lock on the enterprise's entitlements of that group — two officers approving
the provincial and the national award at the same moment cannot both pay in full.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import Certification, Program
from enterprises.models import Enterprise
from funding.lock_objects import budget_lock, stacking_group_lock
from funding.models import (
    TIER_LEVEL,
    AwardLevel,
    AwardPolicy,
    BatchLine,
    Budget,
    Entitlement,
    ExternalCertification,
    LedgerEntry,
)
from funding.money import ZERO, yuan
from funding.permissions import funding_posts, is_paying_officer, is_tenant_admin
from funding.services.common import FundingRefused, link, notify, officers_of, refusals_audited
from funding.services.ledger import ledger_post
from portal.audit import audit_record
from portal.models import Region, Tenant, User

S = Entitlement.State
ACTOR = "funding"  # the audit label of what the system does by itself (no person acted)


# --- which policies pay, and how much -------------------------------------------------------------------


def policies_applicable(
    *, tenant: Tenant, county: Region, day: date, relocated: bool = False
) -> QuerySet[AwardPolicy]:
    """Active policies of the regions above (and at) `county` whose window covers `day`; for an enterprise
    that moved in, only those that count it as newly certified (seed 003 三、（一）4)."""
    codes = county.path.strip("/").split("/")
    qs = (
        AwardPolicy.objects.for_tenant(tenant)
        .filter(is_active=True, region__code__in=codes, covers_from__lte=day)
        .filter(Q(covers_to__isnull=True) | Q(covers_to__gte=day))
        .select_related("region")
        .prefetch_related("amounts")
        .order_by("region__path", "pk")
    )
    if relocated:
        qs = qs.filter(relocation_counts_as_new=True)
    return qs


def amount_for(policy: AwardPolicy, *, level: str | None, program: Program | None = None):
    """(level, amount in yuan) that `policy` pays, or None: the programme's own line first, then the
    level's (amounts must be prefetched or are read once)."""
    amounts = list(policy.amounts.all())
    if program is not None:
        for row in amounts:
            if row.program_id == program.pk:
                return row.level, row.amount
    if level is None:
        return None
    for row in amounts:
        if row.program_id is None and row.level == level:
            return row.level, row.amount
    return None


def _highest(group: list[Entitlement], *, states, exclude: int | None = None) -> Entitlement | None:
    """The entitlement of the group with the highest level amount among `states` (the oldest on a tie)."""
    candidates = [e for e in group if e.pk != exclude and e.state in states]
    return max(candidates, key=lambda e: (e.level_amount, -e.pk)) if candidates else None


def _covered_reason(holder: Entitlement) -> str:
    return _(
        "Covered by the higher award of %(amount)s yuan (%(policy)s): the highest award is paid once."
    ) % {
        "amount": yuan(holder.level_amount),
        "policy": holder.policy.name,
    }


def _create(
    policy: AwardPolicy,
    *,
    enterprise: Enterprise,
    level: str,
    level_amount: Decimal,
    basis_date: date,
    certification: Certification | None = None,
    external: ExternalCertification | None = None,
) -> tuple[Entitlement, bool]:
    key = {"certification": certification} if certification is not None else {"external": external}
    existing = Entitlement.objects.filter(policy=policy, **key).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        group = list(
            Entitlement.objects.select_for_update(of=("self",))
            .select_related("policy")
            .filter(tenant_id=policy.tenant_id, enterprise=enterprise, stacking_group=policy.stacking_group)
            .order_by("pk")
        )
        holder = _highest(group, states=Entitlement.HOLDING_STATES)
        held = holder.level_amount if holder else ZERO
        row = Entitlement(
            tenant_id=policy.tenant_id,
            policy=policy,
            enterprise=enterprise,
            stacking_group=policy.stacking_group,
            level=level,
            basis_date=basis_date,
            level_amount=level_amount,
            amount=level_amount - held if level_amount > held else ZERO,
            state=S.PENDING if level_amount > held else S.COVERED,
            covered_by=None if level_amount > held else holder,
            reason="" if level_amount > held else _covered_reason(holder),
            **key,
        )
        try:
            # A savepoint: a concurrent creation of the same row loses on the unique constraint.
            with transaction.atomic():
                row.save()
        except IntegrityError:
            return Entitlement.objects.get(policy=policy, **key), False
        audit_record(
            action="entitlement.created",
            actor_label=ACTOR,
            tenant=policy.tenant,
            obj=row,
            summary=f"{enterprise.name} · {policy.name} · {row.get_state_display()} · {row.amount}",
        )
    return row, True


def _notify_created(created: list[Entitlement]) -> None:
    by_region: dict[int, list[Entitlement]] = {}
    for e in created:
        if e.state == S.PENDING:
            by_region.setdefault(e.policy.region_id, []).append(e)
    for rows in by_region.values():
        region, tenant = rows[0].policy.region, rows[0].policy.tenant
        notify(
            officers_of(region),
            tenant=tenant,
            subject=_("%(n)d award entitlements wait for your review") % {"n": len(rows)},
            body=", ".join(f"{e.enterprise.name} {yuan(e.amount)}" for e in rows[:10]),
            link_=link("funding_entitlements", tenant),
        )


def entitlements_create_for(*, certification: Certification) -> list[Entitlement]:
    """The entitlements a certification published in this portal gives; returns those created now.

    Every active policy of a region at or above the enterprise's county whose window covers the
    certification's issue date and that pays for its level (Program.tier via TIER_LEVEL) or for its
    programme. Idempotent: a second call, or the post_save receiver and the daily sweep running together,
    creates nothing twice (unique (policy, certification)). A certification that is no longer active
    (revoked, expired) gives nothing.
    """
    certification = Certification.objects.select_related("program", "enterprise__county", "tenant").get(
        pk=certification.pk
    )
    if certification.status != Certification.Status.ACTIVE:
        return []
    enterprise = certification.enterprise
    level = TIER_LEVEL.get(certification.program.tier)
    created = []
    for policy in policies_applicable(
        tenant=certification.tenant, county=enterprise.county, day=certification.issued_on
    ):
        match = amount_for(policy, level=level, program=certification.program)
        if match is None:
            continue
        row, was_created = _create(
            policy,
            enterprise=enterprise,
            level=match[0],
            level_amount=match[1],
            basis_date=certification.issued_on,
            certification=certification,
        )
        if was_created:
            created.append(row)
    _notify_created(created)
    return created


def entitlements_create_for_external(*, external: ExternalCertification) -> list[Entitlement]:
    """The entitlements an external certification gives (idempotent like entitlements_create_for)."""
    external = ExternalCertification.objects.select_related("enterprise__county", "tenant").get(
        pk=external.pk
    )
    enterprise = external.enterprise
    created = []
    for policy in policies_applicable(
        tenant=external.tenant,
        county=enterprise.county,
        day=external.basis_date,
        relocated=external.basis == ExternalCertification.Basis.RELOCATED,
    ):
        match = amount_for(policy, level=external.level)
        if match is None:
            continue
        row, was_created = _create(
            policy,
            enterprise=enterprise,
            level=match[0],
            level_amount=match[1],
            basis_date=external.basis_date,
            external=external,
        )
        if was_created:
            created.append(row)
    _notify_created(created)
    return created


def entitlements_backfill(*, policy: AwardPolicy) -> int:
    """Entitlements for the active certifications a policy covers that have none from it yet (a policy
    made after the certifications it rewards: seed 004 covers those of 2023–2025). Returns how many were
    created."""
    levels = set(policy.amounts.filter(program__isnull=True).values_list("level", flat=True))
    tiers = [tier for tier, level in TIER_LEVEL.items() if level in levels]
    programs = list(policy.amounts.filter(program__isnull=False).values_list("program_id", flat=True))
    certifications = (
        Certification.objects.for_tenant(policy.tenant)
        .filter(
            status=Certification.Status.ACTIVE,
            enterprise__county__path__startswith=policy.region.path,
            issued_on__gte=policy.covers_from,
        )
        .filter(Q(program__tier__in=tiers) | Q(program_id__in=programs))
        .exclude(entitlements__policy=policy)
        .order_by("issued_on", "pk")
    )
    if policy.covers_to is not None:
        certifications = certifications.filter(issued_on__lte=policy.covers_to)
    created = 0
    for certification in certifications:
        created += sum(
            1 for e in entitlements_create_for(certification=certification) if e.policy_id == policy.pk
        )
    return created


def entitlements_sweep(*, day: date | None = None) -> dict:
    """The daily safety net (certification.lifecycle.DAILY_HOOKS): entitlements the publication's
    on-commit receiver did not create (a crash between commit and callback) are created now."""
    created = 0
    for policy in AwardPolicy.objects.filter(is_active=True).select_related("region", "tenant"):
        created += entitlements_backfill(policy=policy)
    return {"entitlements_created": created}


# --- external certifications ----------------------------------------------------------------------------


def _records_for(user: User, enterprise: Enterprise) -> bool:
    """A funding officer of a region above (or at) the enterprise's county, or the tenant administrator."""
    if is_tenant_admin(user, enterprise.tenant):
        return True
    return any(
        enterprise.county.path.startswith(p.region.path) for p in funding_posts(user, enterprise.tenant)
    )


def external_certification_record(
    *,
    enterprise: Enterprise,
    level: str,
    title: str,
    certified_on: date,
    by: User | None,
    reference: str = "",
    basis: str = ExternalCertification.Basis.LISTED,
    moved_in_on: date | None = None,
    request=None,
    actor_label: str = "",
) -> tuple[ExternalCertification, list[Entitlement]]:
    """Record a certification decided outside the portal and create the entitlements it gives.

    E.g. an enterprise on 工信部's national little giant list (level little_giant_national), so that a
    provincial SRDI award followed by the national one pays the difference. `basis="relocated"`: an
    enterprise certified elsewhere that moved in whole; it counts as newly certified one year after
    `moved_in_on` (seed 003 三、（一）4: "整体迁入本市且正常经营一年"), only for policies that say so, and not
    before that year is over. Who: a funding officer of a region at or above the enterprise's county, or
    the tenant administrator (`by=None` with `actor_label` for the demo seeder). Returns the record and
    the entitlements created. Refused (duplicate) when the enterprise already has this level on this basis.
    """
    tenant = enterprise.tenant
    title = (title or "").strip()
    errors: dict[str, list[str]] = {}
    if level not in AwardLevel.values:
        errors["level"] = [_("Choose the award level.")]
    if not title:
        errors["title"] = [_("Name the list or document, e.g. the 工信部 announcement.")]
    today = timezone.localdate()
    if certified_on is None:
        errors["certified_on"] = [_("This field is required.")]
    elif certified_on > today:
        errors["certified_on"] = [_("The date cannot be in the future.")]
    if basis not in ExternalCertification.Basis.values:
        errors["basis"] = [_("Choose the basis.")]
    elif basis == ExternalCertification.Basis.RELOCATED:
        if moved_in_on is None:
            errors["moved_in_on"] = [_("Enter the date the enterprise moved in.")]
        elif (
            ExternalCertification(basis=basis, moved_in_on=moved_in_on, certified_on=today).basis_date > today
        ):
            errors["moved_in_on"] = [
                _("The enterprise counts as newly certified after one year of operation here (seed 003).")
            ]
    if errors:
        raise ValidationError(errors)
    with refusals_audited(
        action="external_certification.record", by=by, tenant=tenant, obj=enterprise, request=request
    ):
        if by is not None and not _records_for(by, enterprise):
            raise FundingRefused(
                _("Only funding officers of the enterprise's region record its certifications."),
                code="forbidden",
                status=403,
            )
        with transaction.atomic():
            if ExternalCertification.objects.filter(enterprise=enterprise, level=level, basis=basis).exists():
                raise FundingRefused(
                    _("This certification of the enterprise is already recorded."), code="duplicate"
                )
            try:
                with transaction.atomic():
                    external = ExternalCertification.objects.create(
                        tenant=tenant,
                        enterprise=enterprise,
                        level=level,
                        basis=basis,
                        title=title[:200],
                        reference=(reference or "").strip()[:100],
                        certified_on=certified_on,
                        moved_in_on=moved_in_on if basis == ExternalCertification.Basis.RELOCATED else None,
                        recorded_by=by,
                    )
            except IntegrityError:
                raise FundingRefused(
                    _("This certification of the enterprise is already recorded."), code="duplicate"
                ) from None
            audit_record(
                action="external_certification.recorded",
                actor=by,
                actor_label=actor_label,
                tenant=tenant,
                obj=external,
                summary=f"{enterprise.name} · {external.get_level_display()} · {title} {external.reference}",
                request=request,
            )
            created = entitlements_create_for_external(external=external)
    return external, created


# --- review -------------------------------------------------------------------------------------------

APPROVE, REJECT, REVERSE = "approve", "reject", "reverse"


def entitlement_can(entitlement: Entitlement, action: str, *, by: User) -> str | None:
    """Why `by` may not take `action` ("approve", "reject", "reverse") on the entitlement now, or None.

    The page shows the reason on a disabled button; the services raise it. Budget and stacking are
    checked by the action itself, under its locks.
    """
    if not is_paying_officer(by, entitlement.policy.region):
        return _("Only funding officers of %(region)s decide on the awards it pays.") % {
            "region": entitlement.policy.region.name
        }
    if action in (APPROVE, REJECT) and entitlement.state != S.PENDING:
        return _("This award is %(state)s: only a pending one is approved or rejected.") % {
            "state": entitlement.get_state_display()
        }
    if action == REVERSE:
        if entitlement.state != S.APPROVED:
            return _("Only an approved, unpaid award can have its approval reversed.")
        line = BatchLine.objects.filter(entitlement=entitlement, active=True).select_related("batch").first()
        if line is not None:
            return _("This award is in payment batch %(batch)s: cancel the batch first.") % {
                "batch": line.batch.reference
            }
        # A higher award approved as a top-up over this one would be left short: corrections go from the
        # top down.
        top_up = (
            Entitlement.objects.filter(
                tenant_id=entitlement.tenant_id,
                enterprise_id=entitlement.enterprise_id,
                stacking_group=entitlement.stacking_group,
                state__in=Entitlement.COMMITTED_STATES,
                level_amount__gt=entitlement.level_amount,
            )
            .exclude(pk=entitlement.pk)
            .filter(amount__lt=F("level_amount"))
            .select_related("policy")
            .first()
        )
        if top_up is not None:
            return _(
                "The higher award of %(policy)s was approved on top of this one: reverse that first."
            ) % {"policy": top_up.policy.name}
    return None


def _refuse_unless_can(entitlement: Entitlement, action: str, by: User) -> None:
    reason = entitlement_can(entitlement, action, by=by)
    if reason:
        forbidden = not is_paying_officer(by, entitlement.policy.region)
        raise FundingRefused(
            reason, code="forbidden" if forbidden else "not_allowed", status=403 if forbidden else 409
        )


def _notify_enterprise(entitlement: Entitlement, subject: str, body: str = "") -> None:
    members = [m.user for m in entitlement.enterprise.memberships.select_related("user")]
    notify(
        members,
        tenant=entitlement.policy.tenant,
        subject=subject,
        body=body,
        link_=link("funding_awards", entitlement.policy.tenant),
    )


def entitlement_approve(*, entitlement: Entitlement, by: User, request=None) -> Entitlement:
    """Approve a pending entitlement (a funding officer of the paying region), committing its amount
    against the policy's budget of the current year.

    The amount is fixed now: the level amount less the highest award the enterprise already holds
    approved or paid in the stacking group. If that leaves nothing, the entitlement becomes "covered"
    (no money, no budget) and is returned as such — not an error. Refused: without a budget for the year
    (code no_budget); when the amount exceeds what is left (code over_budget, the message and
    `.extra["remaining"]` state the remaining amount). Concurrent approvals serialise on the budget row:
    the committed total never passes the budget (a check constraint backs it).
    """
    tenant = entitlement.tenant
    with (
        refusals_audited(
            action="entitlement.approve", by=by, tenant=tenant, obj=entitlement, request=request
        ),
        transaction.atomic(),
    ):
        group = stacking_group_lock(entitlement)
        e = next(row for row in group if row.pk == entitlement.pk)
        _refuse_unless_can(e, APPROVE, by)
        holder = _highest(group, states=Entitlement.COMMITTED_STATES, exclude=e.pk)
        held = holder.level_amount if holder else ZERO
        now = timezone.now()
        if e.level_amount <= held:
            e.state, e.amount, e.covered_by = S.COVERED, ZERO, holder
            e.reason, e.decided_by, e.decided_at = _covered_reason(holder), by, now
            e.save(update_fields=["state", "amount", "covered_by", "reason", "decided_by", "decided_at"])
            audit_record(
                action="entitlement.covered",
                actor=by,
                tenant=tenant,
                obj=e,
                summary=e.reason,
                request=request,
            )
            return e
        amount = e.level_amount - held
        year = timezone.localdate().year
        budget_row = Budget.objects.filter(policy_id=e.policy_id, year=year).only("pk").first()
        if budget_row is None:
            raise FundingRefused(
                _("%(policy)s has no budget for %(year)d: a budget must be allocated first.")
                % {"policy": e.policy.name, "year": year},
                code="no_budget",
            )
        budget = budget_lock(budget_row.pk)
        remaining = budget.amount - budget.committed
        if amount > remaining:
            raise FundingRefused(
                _(
                    "Over budget: %(policy)s has %(remaining)s yuan left for %(year)d; "
                    "this award needs %(amount)s yuan."
                )
                % {
                    "policy": e.policy.name,
                    "remaining": yuan(remaining),
                    "year": year,
                    "amount": yuan(amount),
                },
                code="over_budget",
                remaining=str(remaining),
                needed=str(amount),
            )
        # Under the budget's row lock: read, add in Decimal, write (never a float, never a lost update).
        budget.committed = budget.committed + amount
        budget.save(update_fields=["committed", "updated_at"])
        e.state, e.amount, e.budget, e.covered_by = S.APPROVED, amount, budget, None
        e.reason, e.decided_by, e.decided_at = "", by, now
        e.save(
            update_fields=["state", "amount", "budget", "covered_by", "reason", "decided_by", "decided_at"]
        )
        ledger_post(
            kind=LedgerEntry.Kind.APPROVAL,
            amount=amount,
            policy=e.policy,
            budget=budget,
            entitlement=e,
            by=by,
        )
        audit_record(
            action="entitlement.approved",
            actor=by,
            tenant=tenant,
            obj=e,
            summary=f"{e.enterprise.name} · {e.policy.name} · {amount} · {year}",
            request=request,
        )
        _notify_enterprise(
            e,
            _("Your award of %(amount)s yuan was approved") % {"amount": yuan(amount)},
            e.policy.name,
        )
    return e


def _reopen_covered(group: list[Entitlement], released: Entitlement, *, by: User | None) -> list[Entitlement]:
    """Entitlements covered by `released` (now rejected, reversed or cancelled) owe money again when no
    other award of the group covers them: they return to pending with their provisional top-up."""
    reopened = []
    candidates = sorted(
        (e for e in group if e.state == S.COVERED and e.covered_by_id == released.pk),
        key=lambda e: (-e.level_amount, e.pk),
    )
    for e in candidates:
        holder = _highest(group, states=Entitlement.HOLDING_STATES, exclude=e.pk)
        held = holder.level_amount if holder else ZERO
        if e.level_amount > held:
            e.state, e.amount, e.covered_by, e.reason = S.PENDING, e.level_amount - held, None, ""
            e.decided_by = e.decided_at = None
            reopened.append(e)
        else:
            e.covered_by, e.reason = holder, _covered_reason(holder)
        e.save(update_fields=["state", "amount", "covered_by", "reason", "decided_by", "decided_at"])
    for e in reopened:
        audit_record(
            action="entitlement.reopened",
            actor=by,
            actor_label="" if by else ACTOR,
            tenant=e.policy.tenant,
            obj=e,
            summary=f"{e.enterprise.name} · {e.policy.name} · {e.amount}",
        )
    return reopened


def entitlement_reject(*, entitlement: Entitlement, by: User, reason: str, request=None) -> Entitlement:
    """Reject a pending entitlement with a reason the enterprise reads (a funding officer of the paying
    region). Awards it covered reopen."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("Give the reason: the enterprise reads it.")]})
    if len(reason) > 2000:
        raise ValidationError({"reason": [_("At most 2,000 characters.")]})
    tenant = entitlement.tenant
    with (
        refusals_audited(action="entitlement.reject", by=by, tenant=tenant, obj=entitlement, request=request),
        transaction.atomic(),
    ):
        group = stacking_group_lock(entitlement)
        e = next(row for row in group if row.pk == entitlement.pk)
        _refuse_unless_can(e, REJECT, by)
        e.state, e.reason, e.decided_by, e.decided_at = S.REJECTED, reason, by, timezone.now()
        e.save(update_fields=["state", "reason", "decided_by", "decided_at"])
        audit_record(
            action="entitlement.rejected", actor=by, tenant=tenant, obj=e, summary=reason, request=request
        )
        _reopen_covered(group, e, by=by)
        _notify_enterprise(e, _("Your award application was not granted"), reason)
    return e


def entitlement_approval_reverse(
    *, entitlement: Entitlement, by: User, reason: str, request=None
) -> Entitlement:
    """Undo an approval before payment (a funding officer of the paying region): a reversal entry
    releases the budget and the entitlement is pending again. Refused while it is in a payment batch
    (cancel the batch first). The correction is a reversing entry, never an edit of the approval."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("Give the reason for the correction.")]})
    tenant = entitlement.tenant
    with (
        refusals_audited(
            action="entitlement.reverse", by=by, tenant=tenant, obj=entitlement, request=request
        ),
        transaction.atomic(),
    ):
        group = stacking_group_lock(entitlement)
        e = next(row for row in group if row.pk == entitlement.pk)
        _refuse_unless_can(e, REVERSE, by)
        _release(e, by=by, note=reason)
        e.state, e.budget, e.reason, e.decided_by, e.decided_at = S.PENDING, None, "", None, None
        e.save(update_fields=["state", "budget", "reason", "decided_by", "decided_at"])
        audit_record(
            action="entitlement.approval_reversed",
            actor=by,
            tenant=tenant,
            obj=e,
            summary=reason,
            request=request,
        )
    return e


def _release(e: Entitlement, *, by: User | None, note: str) -> None:
    """Give an approved, unpaid entitlement's amount back to its budget with a reversal entry (the caller
    holds the entitlement's lock and changes its state)."""
    budget = budget_lock(e.budget_id)
    approval = (
        LedgerEntry.objects.filter(entitlement=e, kind=LedgerEntry.Kind.APPROVAL).order_by("-pk").first()
    )
    budget.committed = budget.committed - e.amount
    budget.save(update_fields=["committed", "updated_at"])
    ledger_post(
        kind=LedgerEntry.Kind.REVERSAL,
        amount=e.amount,
        policy=e.policy,
        budget=budget,
        entitlement=e,
        by=by,
        reverses=approval,
        note=note,
    )
