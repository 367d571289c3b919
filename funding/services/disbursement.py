"""Payment batches: prepared by one funding officer, approved by another (four eyes), by a third above the
tenant's threshold; approval freezes the batch with a SHA-256 of its lines; the payment file is exported
from the frozen lines only; each line is marked paid once, with the bank's reference.

States and who acts (all funding officers of the batch's paying region):

    prepared ──approve──▶ approved            (total <= threshold: one approver, not the preparer)
    prepared ──approve──▶ first_approved ──approve──▶ approved   (above: a second, third person)
    approved ──mark each line paid──▶ paid
    prepared | first_approved | approved (no line paid yet) ──cancel──▶ cancelled (entitlements free again)

Idempotency: marking a line paid again with the same bank reference returns the line unchanged (the
request was repeated: a double click, a retried POST); with another reference it is refused. A line is
paid by a conditional update (`paid_at IS NULL`), and the ledger's unique payment per line and per
entitlement is the database's backstop.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from io import BytesIO

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from funding.lock_objects import batch_lock, budget_lock, entitlement_lock, entitlements_lock, lines_lock
from funding.models import BankAccount, BatchLine, Entitlement, LedgerEntry, PaymentBatch
from funding.money import ZERO, yuan
from funding.permissions import is_paying_officer
from funding.services.bank_accounts import bank_account_effective
from funding.services.common import (
    FundingRefused,
    funding_settings,
    link,
    notify,
    officers_of,
    refusals_audited,
)
from funding.services.ledger import ledger_post
from portal.audit import audit_record
from portal.models import Region, Tenant, User

B = PaymentBatch.State
S = Entitlement.State


def _require_officer(by: User, region: Region) -> None:
    if not is_paying_officer(by, region):
        raise FundingRefused(
            _("Only funding officers of %(region)s handle its payment batches.") % {"region": region.name},
            code="forbidden",
            status=403,
        )


def _reference(tenant: Tenant, batch: PaymentBatch) -> str:
    return f"{tenant.code.upper()}-JL-{timezone.localdate().year}-{batch.pk:05d}"  # 奖励 payment batch


# --- prepare ------------------------------------------------------------------------------------------


def batch_prepare(
    *,
    tenant: Tenant,
    region: Region,
    entitlements: Iterable[Entitlement],
    by: User,
    note: str = "",
    request=None,
) -> PaymentBatch:
    """Gather approved entitlements paid by `region` into a new batch (a funding officer of `region`).

    Every entitlement must be approved, paid by `region`, not in another open batch, and its enterprise
    must have a confirmed bank account; otherwise nothing is created and the refusal names the first
    enterprise at fault. The lines snapshot payee name, USCC, bank and full account number. Whether a
    second approver is needed is decided now, from the total and the tenant's threshold (kept on the batch).
    """
    ids = sorted({e.pk for e in entitlements})
    if not ids:
        raise ValidationError({"entitlements": [_("Choose at least one approved award.")]})
    with refusals_audited(action="batch.prepare", by=by, tenant=tenant, obj=region, request=request):
        _require_officer(by, region)
        with transaction.atomic():
            rows = entitlements_lock(ids)
            if len(rows) != len(ids) or any(e.tenant_id != tenant.pk for e in rows):
                raise FundingRefused(_("An award was not found."), code="not_found", status=404)
            accounts: dict[int, BankAccount] = {}
            for e in rows:
                if e.policy.region_id != region.pk:
                    raise FundingRefused(
                        _("%(enterprise)s: this award is paid by %(region)s, not by this batch's region.")
                        % {"enterprise": e.enterprise.name, "region": e.policy.region.name}
                    )
                if e.state != S.APPROVED:
                    raise FundingRefused(
                        _("%(enterprise)s: only approved awards are paid (this one is %(state)s).")
                        % {"enterprise": e.enterprise.name, "state": e.get_state_display()}
                    )
                if BatchLine.objects.filter(entitlement=e, active=True).exists():
                    raise FundingRefused(
                        _("%(enterprise)s: this award is already in an open payment batch.")
                        % {"enterprise": e.enterprise.name}
                    )
                account = accounts.get(e.enterprise_id) or bank_account_effective(e.enterprise)
                if account is None:
                    raise FundingRefused(
                        _("%(enterprise)s has no confirmed bank account yet.")
                        % {"enterprise": e.enterprise.name},
                        code="no_account",
                    )
                accounts[e.enterprise_id] = account
            total = sum((e.amount for e in rows), ZERO)
            threshold = funding_settings(tenant).second_approval_above
            batch = PaymentBatch.objects.create(
                tenant=tenant,
                region=region,
                reference=f"pending-{timezone.now().timestamp()}-{by.pk}",
                note=(note or "").strip()[:300],
                total=total,
                line_count=len(rows),
                needs_second_approval=total > threshold,
                threshold=threshold,
                prepared_by=by,
            )
            batch.reference = _reference(tenant, batch)
            batch.save(update_fields=["reference"])
            BatchLine.objects.bulk_create(
                BatchLine(
                    batch=batch,
                    entitlement=e,
                    amount=e.amount,
                    bank_account=accounts[e.enterprise_id],
                    payee_name=accounts[e.enterprise_id].account_name,
                    payee_uscc=e.enterprise.uscc,
                    bank_name=accounts[e.enterprise_id].bank_name,
                    account_number=accounts[e.enterprise_id].account_number,
                )
                for e in rows
            )
            audit_record(
                action="batch.prepared",
                actor=by,
                tenant=tenant,
                obj=batch,
                summary=f"{batch.reference} · {len(rows)} · {total}",
                request=request,
            )
            notify(
                [u for u in officers_of(region) if u.pk != by.pk],
                tenant=tenant,
                subject=_("Payment batch %(batch)s waits for approval") % {"batch": batch.reference},
                body=_("%(n)d payees, %(total)s yuan.") % {"n": len(rows), "total": yuan(total)},
                link_=link("funding_batch", tenant, pk=batch.pk),
            )
    return batch


# --- approve and freeze ----------------------------------------------------------------------------


def batch_digest(batch: PaymentBatch, lines: list[BatchLine] | None = None) -> str:
    """SHA-256 over the batch's payable content: its number, total, count and every line's entitlement,
    payee, USCC, bank, full account number and amount, in line order. The same lines always give the same
    digest; any change to a payee, an account or an amount gives another."""
    if lines is None:
        lines = list(BatchLine.objects.filter(batch=batch, active=True).order_by("pk"))
    payload = {
        "batch": batch.reference,
        "total": str(sum((line.amount for line in lines), ZERO)),
        "count": len(lines),
        "lines": [
            [
                line.pk,
                line.entitlement_id,
                line.payee_name,
                line.payee_uscc,
                line.bank_name,
                line.account_number,
                str(line.amount),
            ]
            for line in lines
        ],
    }
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
    return hashlib.sha256(data).hexdigest()


def batch_can(batch: PaymentBatch, action: str, *, by: User) -> str | None:
    """Why `by` may not take `action` ("approve", "cancel", "export", "pay") on the batch now, or None."""
    if not is_paying_officer(by, batch.region):
        return _("Only funding officers of %(region)s handle its payment batches.") % {
            "region": batch.region.name
        }
    if action == "approve":
        if batch.state not in (B.PREPARED, B.FIRST_APPROVED):
            return _("This batch is %(state)s.") % {"state": batch.get_state_display()}
        if by.pk == batch.prepared_by_id:
            return _("You prepared this batch: another funding officer approves it.")
        if batch.state == B.FIRST_APPROVED and by.pk == batch.approved_by_id:
            return _(
                "You approved this batch already: a second approver is needed above %(threshold)s yuan."
            ) % {"threshold": yuan(batch.threshold)}
    elif action == "cancel":
        if batch.state not in PaymentBatch.OPEN_STATES:
            return _("This batch is %(state)s.") % {"state": batch.get_state_display()}
        if batch.lines.filter(paid_at__isnull=False).exists():
            return _("Payments were recorded on this batch: it can no longer be cancelled.")
    elif action in ("export", "pay") and batch.state not in (B.APPROVED, B.PAID):
        return _("The batch must be approved first.")
    return None


def _refuse_unless_can(batch: PaymentBatch, action: str, by: User) -> None:
    reason = batch_can(batch, action, by=by)
    if reason:
        forbidden = not is_paying_officer(by, batch.region)
        four_eyes = action == "approve" and by.pk in (batch.prepared_by_id, batch.approved_by_id)
        raise FundingRefused(
            reason,
            code="forbidden" if forbidden else "four_eyes" if four_eyes else "not_allowed",
            status=403 if forbidden or four_eyes else 409,
        )


def batch_approve(*, batch: PaymentBatch, by: User, request=None) -> PaymentBatch:
    """Approve a batch (a funding officer of its region who did not prepare it).

    At or below the threshold kept on the batch, one approval makes it approved; above, the first makes it
    first_approved and a second approver (neither the preparer nor the first approver) makes it approved.
    The final approval freezes it: total, count and the SHA-256 of its lines (`batch_digest`). Refused when
    a line was stopped (its certification was revoked) or a payee's bank account changed since the batch
    was prepared: cancel it and prepare a new one.
    """
    tenant = batch.tenant
    with (
        refusals_audited(action="batch.approve", by=by, tenant=tenant, obj=batch, request=request),
        transaction.atomic(),
    ):
        batch = batch_lock(batch.pk)
        _refuse_unless_can(batch, "approve", by)
        lines = lines_lock(batch)
        stopped = [line for line in lines if line.stopped_at]
        if stopped:
            raise FundingRefused(
                _("Payment to %(payee)s was stopped (%(reason)s): cancel this batch and prepare a new one.")
                % {"payee": stopped[0].payee_name, "reason": stopped[0].stop_reason},
                code="changed",
            )
        for line in lines:
            current = bank_account_effective(line.entitlement.enterprise)
            if current is None or current.pk != line.bank_account_id:
                raise FundingRefused(
                    _(
                        "The bank account of %(payee)s changed after the batch was prepared: cancel it and prepare a new one."
                    )
                    % {"payee": line.payee_name},
                    code="changed",
                )
        now = timezone.now()
        if batch.state == B.PREPARED:
            batch.approved_by, batch.approved_at = by, now
            final = not batch.needs_second_approval
            batch.state = B.APPROVED if final else B.FIRST_APPROVED
        else:
            batch.second_approved_by, batch.second_approved_at = by, now
            batch.state, final = B.APPROVED, True
        if final:
            batch.total = sum((line.amount for line in lines), ZERO)
            batch.line_count = len(lines)
            batch.sha256 = batch_digest(batch, lines)
            batch.frozen_at = now
        batch.save()
        audit_record(
            action="batch.approved" if final else "batch.first_approved",
            actor=by,
            tenant=tenant,
            obj=batch,
            summary=f"{batch.reference} · {batch.line_count} · {batch.total}"
            + (f" · sha256 {batch.sha256}" if final else ""),
            request=request,
        )
        if not final:
            notify(
                [u for u in officers_of(batch.region) if u.pk not in (batch.prepared_by_id, by.pk)],
                tenant=tenant,
                subject=_("Payment batch %(batch)s needs a second approval") % {"batch": batch.reference},
                body=_("%(total)s yuan is above %(threshold)s yuan.")
                % {"total": yuan(batch.total), "threshold": yuan(batch.threshold)},
                link_=link("funding_batch", tenant, pk=batch.pk),
            )
    return batch


def batch_cancel(*, batch: PaymentBatch, by: User, reason: str, request=None) -> PaymentBatch:
    """Cancel an open batch on which no payment was recorded (a funding officer of its region, with a
    reason): its lines are released and their entitlements, still approved, can go into a new batch."""
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise ValidationError({"reason": [_("Give the reason for cancelling the batch.")]})
    tenant = batch.tenant
    with (
        refusals_audited(action="batch.cancel", by=by, tenant=tenant, obj=batch, request=request),
        transaction.atomic(),
    ):
        batch = batch_lock(batch.pk)
        _refuse_unless_can(batch, "cancel", by)
        lines = lines_lock(batch)
        BatchLine.objects.filter(pk__in=[line.pk for line in lines]).update(active=False)
        batch.state, batch.cancelled_by, batch.cancelled_at, batch.cancel_reason = (
            B.CANCELLED,
            by,
            timezone.now(),
            reason,
        )
        batch.save(update_fields=["state", "cancelled_by", "cancelled_at", "cancel_reason"])
        audit_record(
            action="batch.cancelled", actor=by, tenant=tenant, obj=batch, summary=reason, request=request
        )
    return batch


# --- the payment file ----------------------------------------------------------------------------------


def _text(value: str) -> str:
    # A cell that starts like a formula would run in the bank clerk's Excel (formula injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def batch_payment_file(*, batch: PaymentBatch, by: User, request=None) -> tuple[str, bytes]:
    """The payment file of an approved batch as (filename, xlsx bytes), for the bank (a funding officer of
    the batch's region; every export is audited, since it holds full account numbers).

    One row per payable line (stopped lines are left out): 序号, payee name, USCC, bank, the full account
    number (as text, so Excel neither rounds nor reformats it), the amount (a number with two places), the
    purpose; then the count, the total and the batch's SHA-256. Refused before approval, and when the
    lines no longer match the digest frozen at approval (code changed).
    """
    tenant = batch.tenant
    with refusals_audited(action="batch.export", by=by, tenant=tenant, obj=batch, request=request):
        batch = PaymentBatch.objects.select_related("region", "tenant").get(pk=batch.pk)
        _refuse_unless_can(batch, "export", by)
        lines = list(
            BatchLine.objects.filter(batch=batch, active=True)
            .select_related("entitlement__policy", "entitlement__certification", "entitlement__external")
            .order_by("pk")
        )
        if batch_digest(batch, lines) != batch.sha256:
            raise FundingRefused(
                _("The lines of this batch no longer match what was approved: it must not be paid."),
                code="changed",
            )
        payable = [line for line in lines if not line.stopped_at]
        wb = Workbook()
        ws = wb.active
        ws.title = batch.reference[:31]
        header = [
            _("No."),
            _("Payee"),
            _("Unified social credit code"),
            _("Bank and branch"),
            _("Account number"),
            _("Amount (yuan)"),
            _("Purpose"),
        ]
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for i, line in enumerate(payable, start=1):
            e = line.entitlement
            purpose = f"{e.policy.name} {e.basis_label}"
            ws.append(
                [
                    i,
                    _text(line.payee_name),
                    line.payee_uscc,
                    _text(line.bank_name),
                    line.account_number,
                    line.amount,
                    _text(purpose),
                ]
            )
            ws.cell(row=i + 1, column=5).number_format = "@"
            ws.cell(row=i + 1, column=6).number_format = "#,##0.00"
        total = sum((line.amount for line in payable), ZERO)
        ws.append([])
        ws.append([_("Batch"), batch.reference])
        ws.append([_("Payees"), len(payable)])
        ws.append([_("Total (yuan)"), total])
        ws.cell(row=ws.max_row, column=2).number_format = "#,##0.00"
        ws.append([_("SHA-256 of the approved lines"), batch.sha256])
        for column, width in zip("ABCDEFG", (6, 36, 22, 32, 26, 16, 48), strict=True):
            ws.column_dimensions[column].width = width
        buffer = BytesIO()
        wb.save(buffer)
        audit_record(
            action="batch.payment_file_exported",
            actor=by,
            tenant=tenant,
            obj=batch,
            summary=f"{batch.reference} · {len(payable)} · {total}",
            request=request,
        )
    return f"{batch.reference}.xlsx", buffer.getvalue()


# --- paying ------------------------------------------------------------------------------------------


def batch_line_mark_paid(*, line: BatchLine, bank_reference: str, by: User, request=None) -> BatchLine:
    """Record that the bank paid one line, with its reference (a funding officer of the batch's region).

    Paid once: repeating the request with the same reference is a no-op that returns the paid line; another
    reference is refused (code already_paid). The entitlement becomes paid, the budget's paid total grows,
    a payment entry is posted, and the batch is paid when its last payable line is. Refused on a stopped
    line and before the batch is approved.
    """
    bank_reference = (bank_reference or "").strip()
    if not bank_reference:
        raise ValidationError({"bank_reference": [_("Enter the bank's reference for this payment.")]})
    if len(bank_reference) > 64:
        raise ValidationError({"bank_reference": [_("At most 64 characters.")]})
    batch = line.batch
    tenant = batch.tenant
    with (
        refusals_audited(action="batch_line.pay", by=by, tenant=tenant, obj=line, request=request),
        transaction.atomic(),
    ):
        batch = batch_lock(line.batch_id)
        _refuse_unless_can(batch, "pay", by)
        line = BatchLine.objects.select_for_update().get(pk=line.pk)
        if line.paid_at is not None:
            return _already_paid(line, bank_reference)
        if not line.active:
            raise FundingRefused(_("This line belongs to a cancelled batch."))
        if line.stopped_at:
            raise FundingRefused(
                _("Payment to %(payee)s was stopped: %(reason)s")
                % {"payee": line.payee_name, "reason": line.stop_reason},
                code="stopped",
            )
        now = timezone.now()
        # Claim by update: only the request that finds the line unpaid records the payment.
        claimed = BatchLine.objects.filter(pk=line.pk, paid_at__isnull=True).update(
            paid_at=now, bank_reference=bank_reference, paid_by=by
        )
        if not claimed:
            return _already_paid(BatchLine.objects.get(pk=line.pk), bank_reference)
        line.refresh_from_db()
        e = entitlement_lock(line.entitlement_id)
        if e.state != S.APPROVED:
            raise FundingRefused(
                _("This award is %(state)s: it cannot be paid.") % {"state": e.get_state_display()}
            )
        budget = budget_lock(e.budget_id)
        budget.paid = budget.paid + line.amount
        budget.save(update_fields=["paid", "updated_at"])
        e.state, e.paid_at = S.PAID, now
        e.save(update_fields=["state", "paid_at"])
        ledger_post(
            kind=LedgerEntry.Kind.PAYMENT,
            amount=line.amount,
            policy=e.policy,
            budget=budget,
            entitlement=e,
            batch_line=line,
            reference=bank_reference,
            by=by,
        )
        audit_record(
            action="batch_line.paid",
            actor=by,
            tenant=tenant,
            obj=line,
            summary=f"{batch.reference} · {line.payee_name} · {line.amount} · {bank_reference}",
            request=request,
        )
        unpaid = BatchLine.objects.filter(
            batch=batch, active=True, paid_at__isnull=True, stopped_at__isnull=True
        )
        if not unpaid.exists():
            batch.state, batch.paid_at = B.PAID, now
            batch.save(update_fields=["state", "paid_at"])
            audit_record(
                action="batch.paid",
                actor=by,
                tenant=tenant,
                obj=batch,
                summary=batch.reference,
                request=request,
            )
        notify(
            [m.user for m in e.enterprise.memberships.select_related("user")],
            tenant=tenant,
            subject=_("Your award of %(amount)s yuan was paid") % {"amount": yuan(line.amount)},
            body=_("Paid to %(bank)s %(number)s.")
            % {"bank": line.bank_name, "number": line.masked_account_number},
            link_=link("funding_awards", tenant),
        )
    return line


def _already_paid(line: BatchLine, bank_reference: str) -> BatchLine:
    if line.bank_reference == bank_reference:
        return line  # the same request again: nothing to do, the same answer
    raise FundingRefused(
        _("This line was already paid, with bank reference %(reference)s.")
        % {"reference": line.bank_reference},
        code="already_paid",
    )


def batch_mark_paid(
    *, batch: PaymentBatch, references: dict[int, str], by: User, request=None
) -> PaymentBatch:
    """Record the bank references of several lines at once ({line id: reference}), all or nothing; lines
    already paid with the same reference are skipped (idempotent). Returns the batch, refreshed."""
    with transaction.atomic():
        lines = {line.pk: line for line in BatchLine.objects.filter(batch=batch, pk__in=list(references))}
        missing = set(references) - set(lines)
        if missing:
            raise FundingRefused(_("A line was not found in this batch."), code="not_found", status=404)
        for pk in sorted(references):
            batch_line_mark_paid(line=lines[pk], bank_reference=references[pk], by=by, request=request)
    return PaymentBatch.objects.get(pk=batch.pk)
