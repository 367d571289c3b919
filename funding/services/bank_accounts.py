"""The bank account an enterprise receives awards into: entered by one member, confirmed by another.

A changed account is the classic way to divert a payment, so: the account must be held by the enterprise
itself (its legal name), a change takes effect only when a second member of the enterprise confirms it,
every step is audited with the number masked, and every other member is told when a change is entered.
A payment batch snapshots the account when prepared and refuses approval if it changed since.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enterprises.models import Enterprise, Membership
from funding.account_numbers import is_account_number, mask_account_number, normalise_account_number
from funding.models import BankAccount
from funding.permissions import is_member
from funding.services.common import FundingRefused, link, notify, refusals_audited
from portal.audit import audit_record
from portal.models import User

A = BankAccount.State


def bank_account_effective(enterprise: Enterprise) -> BankAccount | None:
    """The account awards are paid into now, or None."""
    return BankAccount.objects.filter(enterprise=enterprise, state=A.EFFECTIVE).first()


def _members(enterprise: Enterprise) -> list[User]:
    return [m.user for m in Membership.objects.filter(enterprise=enterprise).select_related("user")]


def _lock_enterprise(enterprise: Enterprise) -> Enterprise:
    # The enterprise row serialises changes of its account: two members confirming at once, or a proposal
    # racing a confirmation.
    return Enterprise.objects.select_for_update(of=("self",)).select_related("tenant").get(pk=enterprise.pk)


def bank_account_propose(
    *,
    enterprise: Enterprise,
    by: User,
    account_name: str,
    bank_name: str,
    account_number: str,
    request=None,
) -> BankAccount:
    """A member enters the account awards should go to. It takes effect when another member confirms it
    (`bank_account_confirm`). Rules: the holder is the enterprise itself (its legal name); the number is
    8–32 digits (blanks and dashes are dropped); one change waits at a time (withdraw it to enter another).
    The other members are notified. Returns the proposed account."""
    account_name = (account_name or "").strip()
    bank_name = (bank_name or "").strip()
    number = normalise_account_number(account_number)
    errors: dict[str, list[str]] = {}
    if account_name != enterprise.name:
        errors["account_name"] = [
            _("Awards are paid only to the enterprise itself: the account holder must be %(name)s.")
            % {"name": enterprise.name}
        ]
    if not bank_name:
        errors["bank_name"] = [_("Enter the bank and branch, e.g. 中国工商银行贵阳南明支行.")]
    elif len(bank_name) > 200:
        errors["bank_name"] = [_("At most 200 characters.")]
    if not is_account_number(number):
        errors["account_number"] = [_("Enter the account number: 8 to 32 digits.")]
    if errors:
        raise ValidationError(errors)
    tenant = enterprise.tenant
    with refusals_audited(
        action="bank_account.propose", by=by, tenant=tenant, obj=enterprise, request=request
    ):
        if not is_member(by, enterprise):
            raise FundingRefused(
                _("Only members of the enterprise enter its bank account."), code="not_found", status=404
            )
        with transaction.atomic():
            enterprise = _lock_enterprise(enterprise)
            if BankAccount.objects.filter(enterprise=enterprise, state=A.PROPOSED).exists():
                raise FundingRefused(
                    _(
                        "A change of the bank account already waits for confirmation: confirm or withdraw it first."
                    ),
                    code="pending_change",
                )
            try:
                with transaction.atomic():
                    account = BankAccount.objects.create(
                        tenant=tenant,
                        enterprise=enterprise,
                        account_name=account_name,
                        bank_name=bank_name,
                        account_number=number,
                        proposed_by=by,
                    )
            except IntegrityError:
                raise FundingRefused(
                    _(
                        "A change of the bank account already waits for confirmation: confirm or withdraw it first."
                    ),
                    code="pending_change",
                ) from None
            current = bank_account_effective(enterprise)
            audit_record(
                action="bank_account.proposed",
                actor=by,
                tenant=tenant,
                obj=account,
                summary=f"{enterprise.name} · {bank_name} {account.masked_number}",
                changes={
                    "account": [current.masked_number if current else None, account.masked_number],
                    "bank": [current.bank_name if current else None, bank_name],
                },
                request=request,
            )
            notify(
                [u for u in _members(enterprise) if u.pk != by.pk],
                tenant=tenant,
                subject=_("A new bank account for awards waits for your confirmation"),
                body=_("%(user)s entered %(bank)s %(number)s. If you do not recognise it, do not confirm it.")
                % {"user": by, "bank": bank_name, "number": account.masked_number},
                link_=link("funding_bank_account", tenant),
            )
    return account


def bank_account_confirm(*, account: BankAccount, by: User, request=None) -> BankAccount:
    """A second member confirms a proposed account: it takes effect and the previous one is superseded.
    Refused for the member who entered it (four eyes; a check constraint backs it)."""
    tenant = account.tenant
    with refusals_audited(action="bank_account.confirm", by=by, tenant=tenant, obj=account, request=request):
        if not is_member(by, account.enterprise):
            raise FundingRefused(
                _("Only members of the enterprise confirm its bank account."), code="not_found", status=404
            )
        with transaction.atomic():
            _lock_enterprise(account.enterprise)
            account = BankAccount.objects.select_for_update().get(pk=account.pk)
            if account.state != A.PROPOSED:
                raise FundingRefused(_("This account is not waiting for confirmation."))
            if account.proposed_by_id == by.pk:
                raise FundingRefused(
                    _("Another member must confirm the account you entered."), code="four_eyes", status=403
                )
            now = timezone.now()
            previous = bank_account_effective(account.enterprise)
            if previous is not None:
                previous.state, previous.ended_at = A.SUPERSEDED, now
                previous.save(update_fields=["state", "ended_at"])
            account.state, account.confirmed_by, account.confirmed_at = A.EFFECTIVE, by, now
            account.save(update_fields=["state", "confirmed_by", "confirmed_at"])
            audit_record(
                action="bank_account.confirmed",
                actor=by,
                tenant=tenant,
                obj=account,
                summary=f"{account.enterprise.name} · {account.bank_name} {account.masked_number}",
                changes={"account": [previous.masked_number if previous else None, account.masked_number]},
                request=request,
            )
            notify(
                _members(account.enterprise),
                tenant=tenant,
                subject=_("The bank account for awards is now %(number)s")
                % {"number": account.masked_number},
                link_=link("funding_bank_account", tenant),
            )
    return account


def bank_account_discard(*, account: BankAccount, by: User, reason: str = "", request=None) -> BankAccount:
    """End a proposed account before it takes effect: withdrawn by the member who entered it, rejected by
    another member."""
    tenant = account.tenant
    with refusals_audited(action="bank_account.discard", by=by, tenant=tenant, obj=account, request=request):
        if not is_member(by, account.enterprise):
            raise FundingRefused(
                _("Only members of the enterprise change its bank account."), code="not_found", status=404
            )
        with transaction.atomic():
            _lock_enterprise(account.enterprise)
            account = BankAccount.objects.select_for_update().get(pk=account.pk)
            if account.state != A.PROPOSED:
                raise FundingRefused(_("This account is not waiting for confirmation."))
            account.state = A.WITHDRAWN if account.proposed_by_id == by.pk else A.REJECTED
            account.ended_at = timezone.now()
            account.save(update_fields=["state", "ended_at"])
            audit_record(
                action=f"bank_account.{account.state}",
                actor=by,
                tenant=tenant,
                obj=account,
                summary=f"{account.enterprise.name} · {mask_account_number(account.account_number)} {reason}"[
                    :2000
                ],
                request=request,
            )
    return account
