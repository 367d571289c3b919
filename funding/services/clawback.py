"""What a revocation does to awards, and the receivables (应收/追回) it leaves.

`revocation_clawback` is a certification.lifecycle.REVOCATION_HOOKS hook: it runs inside the revocation's
transaction, after the certification is marked revoked.

- Any revocation stops what is not yet paid: pending and covered entitlements are cancelled; approved
  ones are cancelled with a reversal entry that gives their amount back to the budget, and a line of an
  open payment batch is stopped (止付: left out of the payment file, never marked paid). A revoked
  certification is no longer one the award policies reward.
- A revocation for false information (domain.md §1.5, Revocation.Ground.FALSE_INFORMATION) also recovers
  what was paid: each paid entitlement becomes "being recovered" with a receivable of its amount and a
  clawback entry. Money paid for a certification revoked on other grounds (an accident years later) was
  due when it was paid and is not recovered.

A receivable stays open until repaid (each repayment with the bank's reference, partial ones allowed) or
written off with a reason: one funding officer requests the write-off, another approves it (four eyes).
Recovered money goes back to the treasury, not to the budget: committed and paid totals do not change.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from certification.models import Revocation
from funding.lock_objects import batches_lock, entitlements_lock, receivable_lock
from funding.models import BatchLine, Entitlement, LedgerEntry, Receivable
from funding.money import money, yuan
from funding.permissions import is_paying_officer
from funding.services.common import FundingRefused, link, notify, officers_of, refusals_audited
from funding.services.entitlements import _release, _reopen_covered
from funding.services.ledger import ledger_post
from portal.audit import audit_record
from portal.models import User

S = Entitlement.State
R = Receivable.State
ACTOR = "funding"


def revocation_clawback(revocation: Revocation) -> list[Receivable]:
    """The REVOCATION_HOOKS hook (see the module's docstring). Returns the receivables created."""
    certification = revocation.certification
    by = revocation.revoked_by
    fraud = revocation.ground == Revocation.Ground.FALSE_INFORMATION
    ids = list(
        Entitlement.objects.filter(certification=certification)
        .exclude(state__in=Entitlement.FINAL_STATES)
        .values_list("pk", flat=True)
    )
    if not ids:
        return []
    receivables = []
    with transaction.atomic():
        # Lock order (funding.lock_objects): batches, then lines, then entitlements, then budgets.
        batch_ids = set(
            BatchLine.objects.filter(entitlement_id__in=ids, active=True, paid_at__isnull=True).values_list(
                "batch_id", flat=True
            )
        )
        batches_lock(batch_ids)
        open_lines = list(
            BatchLine.objects.select_for_update()
            .filter(entitlement_id__in=ids, active=True, paid_at__isnull=True)
            .order_by("pk")
        )
        # The enterprise's whole stacking groups, in one ordered lock (as approvals take them): a covered
        # award of another certification may reopen below.
        groups = set(Entitlement.objects.filter(pk__in=ids).values_list("enterprise_id", "stacking_group"))
        members = Entitlement.objects.none()
        for enterprise_id, group in groups:
            members = members | Entitlement.objects.filter(enterprise_id=enterprise_id, stacking_group=group)
        locked = entitlements_lock(members.values_list("pk", flat=True))
        entitlements = [e for e in locked if e.pk in set(ids)]
        now = timezone.now()
        reason = _("Certification %(number)s revoked on %(day)s: %(ground)s") % {
            "number": certification.number,
            "day": revocation.revoked_on,
            "ground": revocation.get_ground_display(),
        }
        for line in open_lines:
            line.stopped_at, line.stop_reason = now, reason[:300]
            line.save(update_fields=["stopped_at", "stop_reason"])
            audit_record(
                action="batch_line.stopped",
                actor=by,
                actor_label="" if by else ACTOR,
                tenant=revocation.tenant,
                obj=line,
                summary=f"{line.batch_id} · {line.payee_name} · {line.amount} · {reason}",
            )
        for e in entitlements:
            if e.state in (S.PENDING, S.COVERED):
                e.state, e.reason = S.CANCELLED, reason
            elif e.state == S.APPROVED:
                _release(e, by=by, note=reason)
                e.state, e.reason, e.budget = S.CANCELLED, reason, None
            elif e.state == S.PAID and fraud:
                receivables.append(_receivable_open(e, revocation, by=by))
                e.state, e.reason = S.CLAWED_BACK, reason
            else:
                continue
            e.save(update_fields=["state", "reason", "budget"])
            audit_record(
                action=f"entitlement.{e.state}",
                actor=by,
                actor_label="" if by else ACTOR,
                tenant=revocation.tenant,
                obj=e,
                summary=f"{e.enterprise.name} · {e.policy.name} · {e.amount} · {reason}",
            )
        # An award that this certification's award covered may be due again (another certification of the
        # enterprise still stands).
        for e in entitlements:
            if e.state in (S.CANCELLED, S.CLAWED_BACK):
                group = [
                    x
                    for x in locked
                    if (x.enterprise_id, x.stacking_group) == (e.enterprise_id, e.stacking_group)
                ]
                _reopen_covered(group, e, by=by)
    for receivable in receivables:
        notify(
            officers_of(receivable.policy.region),
            tenant=revocation.tenant,
            subject=_("%(amount)s yuan to recover from %(enterprise)s")
            % {"amount": yuan(receivable.amount), "enterprise": receivable.enterprise.name},
            body=reason,
            link_=link("funding_receivable", revocation.tenant, pk=receivable.pk),
        )
        notify(
            [m.user for m in receivable.enterprise.memberships.select_related("user")],
            tenant=revocation.tenant,
            subject=_("Award of %(amount)s yuan to be repaid") % {"amount": yuan(receivable.amount)},
            body=reason,
            link_=link("funding_awards", revocation.tenant),
        )
    return receivables


def _receivable_open(e: Entitlement, revocation: Revocation, *, by: User | None) -> Receivable:
    receivable = Receivable.objects.create(
        tenant_id=e.tenant_id,
        entitlement=e,
        policy=e.policy,
        enterprise=e.enterprise,
        revocation=revocation,
        amount=e.amount,
    )
    ledger_post(
        kind=LedgerEntry.Kind.CLAWBACK,
        amount=e.amount,
        policy=e.policy,
        budget=e.budget,
        entitlement=e,
        receivable=receivable,
        by=by,
        note=f"revocation {revocation.pk}",
    )
    audit_record(
        action="receivable.opened",
        actor=by,
        actor_label="" if by else ACTOR,
        tenant=revocation.tenant,
        obj=receivable,
        summary=f"{e.enterprise.name} · {e.policy.name} · {e.amount}",
    )
    return receivable


def _require_officer(by: User, receivable: Receivable) -> None:
    if not is_paying_officer(by, receivable.policy.region):
        raise FundingRefused(
            _("Only funding officers of %(region)s handle what it recovers.")
            % {"region": receivable.policy.region.name},
            code="forbidden",
            status=403,
        )


def receivable_repay(
    *, receivable: Receivable, amount: Decimal | int | str, bank_reference: str, by: User, request=None
) -> Receivable:
    """Record money recovered on a receivable (a funding officer of the paying region), with the bank's
    reference; partial repayments add up, the receivable is repaid when nothing is outstanding. Recording
    the same reference again is a no-op returning the receivable. Refused above the outstanding amount."""
    bank_reference = (bank_reference or "").strip()
    errors: dict[str, list[str]] = {}
    if not bank_reference:
        errors["bank_reference"] = [_("Enter the bank's reference for this repayment.")]
    elif len(bank_reference) > 64:
        errors["bank_reference"] = [_("At most 64 characters.")]
    amount = money(amount)
    if amount <= 0:
        errors["amount"] = [_("Enter the amount repaid.")]
    if errors:
        raise ValidationError(errors)
    tenant = receivable.tenant
    with (
        refusals_audited(action="receivable.repay", by=by, tenant=tenant, obj=receivable, request=request),
        transaction.atomic(),
    ):
        receivable = receivable_lock(receivable.pk)
        _require_officer(by, receivable)
        if LedgerEntry.objects.filter(
            receivable=receivable, kind=LedgerEntry.Kind.REPAYMENT, reference=bank_reference
        ).exists():
            return receivable  # the same repayment recorded again: nothing to do
        if receivable.state not in Receivable.OPEN_STATES:
            raise FundingRefused(
                _("This receivable is closed (%(state)s).") % {"state": receivable.get_state_display()}
            )
        if amount > receivable.outstanding:
            raise FundingRefused(
                _("Only %(outstanding)s yuan is outstanding.")
                % {"outstanding": yuan(receivable.outstanding)},
                code="over_outstanding",
            )
        receivable.repaid = receivable.repaid + amount
        if receivable.outstanding == 0:
            receivable.state, receivable.closed_at = R.REPAID, timezone.now()
        receivable.save(update_fields=["repaid", "state", "closed_at"])
        ledger_post(
            kind=LedgerEntry.Kind.REPAYMENT,
            amount=amount,
            policy=receivable.policy,
            budget=receivable.entitlement.budget,
            entitlement=receivable.entitlement,
            receivable=receivable,
            reference=bank_reference,
            by=by,
        )
        audit_record(
            action="receivable.repaid",
            actor=by,
            tenant=tenant,
            obj=receivable,
            summary=f"{receivable.enterprise.name} · {amount} · {bank_reference} · {receivable.outstanding} outstanding",
            request=request,
        )
    return receivable


def receivable_write_off_request(
    *, receivable: Receivable, by: User, reason: str, request=None
) -> Receivable:
    """Ask for the outstanding amount to be written off (a funding officer of the paying region, with a
    reason, e.g. the enterprise was deregistered); another officer approves or declines."""
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise ValidationError({"reason": [_("State the reason for the write-off (at least 10 characters).")]})
    tenant = receivable.tenant
    with (
        refusals_audited(
            action="receivable.write_off_request", by=by, tenant=tenant, obj=receivable, request=request
        ),
        transaction.atomic(),
    ):
        receivable = receivable_lock(receivable.pk)
        _require_officer(by, receivable)
        if receivable.state != R.OPEN:
            raise FundingRefused(
                _("Only an open receivable can be written off (it is %(state)s).")
                % {"state": receivable.get_state_display()}
            )
        receivable.state, receivable.write_off_reason = R.WRITE_OFF_REQUESTED, reason
        receivable.write_off_requested_by, receivable.write_off_requested_at = by, timezone.now()
        receivable.save(
            update_fields=["state", "write_off_reason", "write_off_requested_by", "write_off_requested_at"]
        )
        audit_record(
            action="receivable.write_off_requested",
            actor=by,
            tenant=tenant,
            obj=receivable,
            summary=reason,
            request=request,
        )
        notify(
            [u for u in officers_of(receivable.policy.region) if u.pk != by.pk],
            tenant=tenant,
            subject=_("A write-off of %(amount)s yuan waits for your decision")
            % {"amount": yuan(receivable.outstanding)},
            body=reason,
            link_=link("funding_receivable", tenant, pk=receivable.pk),
        )
    return receivable


def receivable_write_off_decide(
    *, receivable: Receivable, by: User, approve: bool, note: str = "", request=None
) -> Receivable:
    """Approve (the outstanding amount is written off with a write-off entry; the receivable closes) or
    decline (it is open again) a requested write-off — by a funding officer of the paying region other than
    the one who asked (four eyes; a check constraint backs it)."""
    tenant = receivable.tenant
    with (
        refusals_audited(
            action="receivable.write_off_decide", by=by, tenant=tenant, obj=receivable, request=request
        ),
        transaction.atomic(),
    ):
        receivable = receivable_lock(receivable.pk)
        _require_officer(by, receivable)
        if receivable.state != R.WRITE_OFF_REQUESTED:
            raise FundingRefused(_("No write-off was requested for this receivable."))
        if receivable.write_off_requested_by_id == by.pk:
            raise FundingRefused(
                _("You requested this write-off: another funding officer decides on it."),
                code="four_eyes",
                status=403,
            )
        if not approve:
            receivable.state = R.OPEN
            receivable.save(update_fields=["state"])
            audit_record(
                action="receivable.write_off_declined",
                actor=by,
                tenant=tenant,
                obj=receivable,
                summary=note,
                request=request,
            )
            return receivable
        outstanding = receivable.outstanding
        receivable.written_off = receivable.written_off + outstanding
        receivable.state, receivable.written_off_by, receivable.closed_at = R.WRITTEN_OFF, by, timezone.now()
        receivable.save(update_fields=["written_off", "state", "written_off_by", "closed_at"])
        if outstanding:
            ledger_post(
                kind=LedgerEntry.Kind.WRITE_OFF,
                amount=outstanding,
                policy=receivable.policy,
                budget=receivable.entitlement.budget,
                entitlement=receivable.entitlement,
                receivable=receivable,
                by=by,
                note=receivable.write_off_reason[:300],
            )
        audit_record(
            action="receivable.written_off",
            actor=by,
            tenant=tenant,
            obj=receivable,
            summary=f"{outstanding} · {receivable.write_off_reason}"[:2000],
            request=request,
        )
    return receivable
