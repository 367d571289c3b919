"""The enterprise's funding pages: its awards (and what it must repay), and the bank account awards are paid
into, entered by one member and confirmed by another.

SECURITY: the enterprise is the signed-in member's own (`enterprise_member_required`); every row is read
through the enterprise's selectors, so another enterprise's account is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from enterprises.views import enterprise_member_required
from funding import selectors, services
from funding.forms import BankAccountForm, DiscardForm
from funding.models import BankAccount, Entitlement, Receivable
from funding.money import ZERO
from funding.views_common import error_summary, errors_onto, message, redirect

S = Entitlement.State


@enterprise_member_required()
def awards(request, tenant_code, enterprise):
    entitlements = list(selectors.entitlements_of_enterprise(enterprise=enterprise))
    receivables = list(
        selectors.receivables_of_enterprise(enterprise=enterprise).order_by("-created_at", "-pk")
    )
    totals = {
        "paid": sum((e.amount for e in entitlements if e.state == S.PAID), ZERO),
        "approved": sum((e.amount for e in entitlements if e.state == S.APPROVED), ZERO),
        "pending": sum((e.amount for e in entitlements if e.state == S.PENDING), ZERO),
        "outstanding": sum((r.outstanding for r in receivables if r.state in Receivable.OPEN_STATES), ZERO),
    }
    return render(
        request,
        "funding/awards.html",
        {
            "enterprise": enterprise,
            "entitlements": entitlements,
            "receivables": receivables,
            "totals": totals,
            "account": services.bank_account_effective(enterprise),
        },
    )


def _account_page(request, enterprise, form=None, status: int = 200):
    accounts = list(selectors.bank_accounts_of_enterprise(enterprise=enterprise))
    effective = next((a for a in accounts if a.state == BankAccount.State.EFFECTIVE), None)
    proposed = next((a for a in accounts if a.state == BankAccount.State.PROPOSED), None)
    if form is None and proposed is None:
        form = BankAccountForm(initial={"account_name": enterprise.name})
    return render(
        request,
        "funding/bank_account.html",
        {
            "enterprise": enterprise,
            "effective": effective,
            "proposed": proposed,
            "proposed_by_me": proposed is not None and proposed.proposed_by_id == request.user.pk,
            "history": [a for a in accounts if a.state not in (BankAccount.State.PROPOSED,)],
            "form": form if proposed is None else None,
            "errors": error_summary(form),
            "discard_form": DiscardForm(),
        },
        status=status,
    )


@enterprise_member_required()
def bank_account(request, tenant_code, enterprise):
    if request.method != "POST":
        return _account_page(request, enterprise)
    form = BankAccountForm(request.POST)
    if form.is_valid():
        try:
            services.bank_account_propose(
                enterprise=enterprise, by=request.user, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            errors_onto(form, exc)
        except services.FundingRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("The new account waits for another member of the enterprise to confirm it."),
            )
            return redirect("funding_bank_account", request)
    return _account_page(request, enterprise, form=form, status=400)


def _account(enterprise, pk) -> BankAccount:
    # SECURITY: only the member's own enterprise's accounts, in its tenant.
    return get_object_or_404(selectors.bank_accounts_of_enterprise(enterprise=enterprise), pk=pk)


@require_POST
@enterprise_member_required()
def bank_account_confirm(request, tenant_code, pk, enterprise):
    account = _account(enterprise, pk)
    try:
        account = services.bank_account_confirm(account=account, by=request.user, request=request)
    except services.FundingRefused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Awards are now paid into %(bank)s %(number)s.")
            % {"bank": account.bank_name, "number": account.masked_number},
        )
    return redirect("funding_bank_account", request)


@require_POST
@enterprise_member_required()
def bank_account_discard(request, tenant_code, pk, enterprise):
    account = _account(enterprise, pk)
    form = DiscardForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        account = services.bank_account_discard(
            account=account, by=request.user, reason=reason, request=request
        )
    except (services.FundingRefused, ValidationError) as exc:
        messages.error(request, message(exc))
    else:
        messages.success(request, _("The proposed account was discarded; the current one stays in effect."))
    return redirect("funding_bank_account", request)
