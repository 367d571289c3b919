"""Officers' pages of disbursement and clawback: payment batches (prepare, approve with four eyes, the
payment file, paid per line with the bank's reference, cancel) and receivables (repay, write off).

Account numbers are masked on every page; the full numbers leave the portal only in the payment file of an
approved batch, whose every download the service audits.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from funding import selectors, services
from funding.forms import (
    BatchFilterForm,
    BatchPrepareForm,
    CancelForm,
    LinePaidForm,
    ReceivableFilterForm,
    RepayForm,
    WriteOffDecideForm,
    WriteOffRequestForm,
)
from funding.models import BankAccount, BatchLine, PaymentBatch, Receivable
from funding.money import ZERO, yuan
from funding.permissions import funding_posts
from funding.views_common import (
    PAGE_SIZE,
    error_summary,
    errors_onto,
    paying_region_ids,
    posted,
    query_without_page,
    require_funding_official,
    url,
)
from portal.exports import XLSX
from portal.views import tenant_login_required

B = PaymentBatch.State
R = Receivable.State
BATCH_CHOICES_SHOWN = 500  # the approved awards offered for one batch, oldest approval first


# --- batches ------------------------------------------------------------------------------------------


@tenant_login_required
def batch_list(request, tenant_code):
    require_funding_official(request)
    form = BatchFilterForm(request.GET)
    form.is_valid()
    state = getattr(form, "cleaned_data", {}).get("state") or None
    batches = selectors.batches_visible_to(user=request.user, tenant=request.tenant, state=state)
    page = Paginator(batches, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "funding/batch_list.html",
        {
            "form": form,
            "page": page,
            "query": query_without_page(request),
            "can_prepare": bool(paying_region_ids(request)),
        },
    )


def _paying_regions(request) -> list:
    regions = {p.region_id: p.region for p in funding_posts(request.user, request.tenant)}
    return sorted(regions.values(), key=lambda r: r.path)


@tenant_login_required
def batch_new(request, tenant_code):
    require_funding_official(request)
    regions = _paying_regions(request)
    if not regions:
        # Tenant administrators and officers without a paying post read batches; they prepare none.
        raise Http404
    chosen = request.POST.get("region") or request.GET.get("region") or regions[0].code
    region = next((r for r in regions if r.code == chosen), regions[0])
    has_account = Exists(
        BankAccount.objects.filter(enterprise=OuterRef("enterprise"), state=BankAccount.State.EFFECTIVE)
    )
    payable = list(
        selectors.payable_entitlements(user=request.user, tenant=request.tenant, region=region).annotate(
            has_account=has_account
        )[:BATCH_CHOICES_SHOWN]
    )
    form = BatchPrepareForm(posted(request), payable=payable)
    if request.method == "POST" and form.is_valid():
        ids = set(form.cleaned_data["entitlements"])
        try:
            batch = services.batch_prepare(
                tenant=request.tenant,
                region=region,
                entitlements=[e for e in payable if e.pk in ids],
                by=request.user,
                note=form.cleaned_data["note"],
                request=request,
            )
        except ValidationError as exc:
            errors_onto(form, exc)
        except services.FundingRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Payment batch %(batch)s is prepared: another funding officer approves it.")
                % {"batch": batch.reference},
            )
            return HttpResponseRedirect(url("funding_batch", request, pk=batch.pk))
    if form.is_bound:
        selected = {int(v) for v in request.POST.getlist("entitlements") if v.isdigit()}
    else:  # every award whose enterprise can be paid, to start with
        selected = {e.pk for e in payable if e.has_account}
    return render(
        request,
        "funding/batch_new.html",
        {
            "form": form,
            "errors": error_summary(form),
            "regions": regions,
            "region": region,
            "payable": payable,
            "selected": selected,
            "total": sum((e.amount for e in payable), ZERO),
            "threshold": services.funding_settings(request.tenant).second_approval_above,
            "capped": len(payable) == BATCH_CHOICES_SHOWN,
        },
        status=400 if form.is_bound else 200,
    )


def _batch(request, pk) -> PaymentBatch:
    require_funding_official(request)
    # SECURITY: another tenant's batch, or one outside the official's region, is a 404.
    return get_object_or_404(selectors.batches_visible_to(user=request.user, tenant=request.tenant), pk=pk)


def _batch_page(request, batch: PaymentBatch, *, cancel_form=None, line_form=None, status: int = 200):
    user = request.user
    lines = list(selectors.batch_lines(batch=batch))
    reasons = {a: services.batch_can(batch, a, by=user) for a in ("approve", "cancel", "export", "pay")}
    can_pay = reasons["pay"] is None
    for line in lines:
        line.form = None
        if can_pay and line.active and line.paid_at is None and line.stopped_at is None:
            if line_form is not None and line_form.prefix == f"line{line.pk}":
                line.form = line_form
            else:
                line.form = LinePaidForm(prefix=f"line{line.pk}")
    digest_ok = None
    if batch.sha256:
        digest_ok = services.batch_digest(batch, [line for line in lines if line.active]) == batch.sha256
    cancel_form = cancel_form or CancelForm(prefix="cancel")
    return render(
        request,
        "funding/batch_detail.html",
        {
            "batch": batch,
            "lines": lines,
            "reasons": reasons,
            "digest_ok": digest_ok,
            "paid_total": sum((line.amount for line in lines if line.paid_at), ZERO),
            "cancel_form": cancel_form,
            "errors": error_summary(cancel_form) + error_summary(line_form),
        },
        status=status,
    )


@tenant_login_required
def batch_detail(request, tenant_code, pk):
    return _batch_page(request, _batch(request, pk))


@require_POST
@tenant_login_required
def batch_approve(request, tenant_code, pk):
    batch = _batch(request, pk)
    try:
        batch = services.batch_approve(batch=batch, by=request.user, request=request)
    except services.FundingRefused as exc:
        messages.error(request, exc.message)
    else:
        if batch.state == B.FIRST_APPROVED:
            messages.success(
                request,
                _("First approval recorded: above %(threshold)s yuan a second approver is needed.")
                % {"threshold": yuan(batch.threshold)},
            )
        else:
            messages.success(
                request,
                _("Batch %(batch)s is approved and frozen: %(n)d payees, %(total)s yuan.")
                % {"batch": batch.reference, "n": batch.line_count, "total": yuan(batch.total)},
            )
    return HttpResponseRedirect(url("funding_batch", request, pk=batch.pk))


@require_POST
@tenant_login_required
def batch_cancel(request, tenant_code, pk):
    batch = _batch(request, pk)
    form = CancelForm(request.POST, prefix="cancel")
    if form.is_valid():
        try:
            services.batch_cancel(
                batch=batch, by=request.user, reason=form.cleaned_data["reason"], request=request
            )
        except ValidationError as exc:
            errors_onto(form, exc)
        except services.FundingRefused as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(url("funding_batch", request, pk=batch.pk))
        else:
            messages.success(request, _("The batch is cancelled; its awards can go into a new batch."))
            return HttpResponseRedirect(url("funding_batch", request, pk=batch.pk))
    return _batch_page(request, batch, cancel_form=form, status=400)


@require_safe
@tenant_login_required
def batch_payment_file(request, tenant_code, pk):
    batch = _batch(request, pk)
    try:
        filename, data = services.batch_payment_file(batch=batch, by=request.user, request=request)
    except services.FundingRefused as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(url("funding_batch", request, pk=batch.pk))
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    # Full account numbers: never kept by a browser or a proxy cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_POST
@tenant_login_required
def batch_line_paid(request, tenant_code, pk, line_pk):
    batch = _batch(request, pk)
    line = get_object_or_404(BatchLine.objects.filter(batch=batch).select_related("batch"), pk=line_pk)
    form = LinePaidForm(request.POST, prefix=f"line{line.pk}")
    if form.is_valid():
        try:
            line = services.batch_line_mark_paid(
                line=line,
                bank_reference=form.cleaned_data["bank_reference"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            errors_onto(form, exc)
        except services.FundingRefused as exc:
            messages.error(request, f"{line.payee_name}: {exc.message}")
            return HttpResponseRedirect(url("funding_batch", request, pk=batch.pk))
        else:
            messages.success(
                request,
                _("%(payee)s: %(amount)s yuan recorded as paid (bank reference %(reference)s).")
                % {"payee": line.payee_name, "amount": yuan(line.amount), "reference": line.bank_reference},
            )
            return HttpResponseRedirect(url("funding_batch", request, pk=batch.pk) + f"#line-{line.pk}")
    return _batch_page(request, batch, line_form=form, status=400)


# --- receivables --------------------------------------------------------------------------------------


@tenant_login_required
def receivable_list(request, tenant_code):
    require_funding_official(request)
    form = ReceivableFilterForm(request.GET)
    form.is_valid()
    state = getattr(form, "cleaned_data", {}).get("state") or None
    receivables = selectors.receivables_visible_to(user=request.user, tenant=request.tenant, state=state)
    page = Paginator(receivables, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "funding/receivable_list.html",
        {"form": form, "page": page, "query": query_without_page(request)},
    )


def _receivable(request, pk) -> Receivable:
    require_funding_official(request)
    # SECURITY: another tenant's receivable, or one outside the official's region, is a 404.
    return get_object_or_404(
        selectors.receivables_visible_to(user=request.user, tenant=request.tenant), pk=pk
    )


def _receivable_page(
    request, receivable: Receivable, *, repay_form=None, request_form=None, decide_form=None, status=200
):
    can_act = receivable.policy.region_id in paying_region_ids(request)
    is_open = receivable.state in Receivable.OPEN_STATES
    repay_form = repay_form or RepayForm(prefix="repay")
    request_form = request_form or WriteOffRequestForm(prefix="writeoff")
    decide_form = decide_form or WriteOffDecideForm(prefix="decide")
    ledger = list(
        selectors.ledger_visible_to(user=request.user, tenant=request.tenant)
        .filter(receivable=receivable)
        .select_related("by")
    )
    return render(
        request,
        "funding/receivable_detail.html",
        {
            "r": receivable,
            "ledger": ledger,
            "can_act": can_act,
            "show_repay": can_act and is_open,
            "show_request": can_act and receivable.state == R.OPEN,
            "show_decide": can_act
            and receivable.state == R.WRITE_OFF_REQUESTED
            and receivable.write_off_requested_by_id != request.user.pk,
            "repay_form": repay_form,
            "request_form": request_form,
            "decide_form": decide_form,
            "errors": error_summary(repay_form) + error_summary(request_form) + error_summary(decide_form),
        },
        status=status,
    )


@tenant_login_required
def receivable_detail(request, tenant_code, pk):
    return _receivable_page(request, _receivable(request, pk))


def _receivable_action(request, receivable, form, form_key: str, act, done: str):
    """Run `act(form.cleaned_data)`; a field error goes back onto the page, a refusal into a message."""
    back = HttpResponseRedirect(url("funding_receivable", request, pk=receivable.pk))
    if form.is_valid():
        try:
            act(form.cleaned_data)
        except ValidationError as exc:
            errors_onto(form, exc)
        except services.FundingRefused as exc:
            messages.error(request, exc.message)
            return back
        else:
            messages.success(request, done)
            return back
    return _receivable_page(request, receivable, **{form_key: form}, status=400)


@require_POST
@tenant_login_required
def receivable_repay(request, tenant_code, pk):
    receivable = _receivable(request, pk)
    return _receivable_action(
        request,
        receivable,
        RepayForm(request.POST, prefix="repay"),
        "repay_form",
        lambda data: services.receivable_repay(
            receivable=receivable,
            amount=data["amount"],
            bank_reference=data["bank_reference"],
            by=request.user,
            request=request,
        ),
        _("The repayment is recorded."),
    )


@require_POST
@tenant_login_required
def receivable_write_off(request, tenant_code, pk):
    receivable = _receivable(request, pk)
    return _receivable_action(
        request,
        receivable,
        WriteOffRequestForm(request.POST, prefix="writeoff"),
        "request_form",
        lambda data: services.receivable_write_off_request(
            receivable=receivable, by=request.user, reason=data["reason"], request=request
        ),
        _("The write-off is requested: another funding officer decides on it."),
    )


@require_POST
@tenant_login_required
def receivable_write_off_decide(request, tenant_code, pk):
    receivable = _receivable(request, pk)
    return _receivable_action(
        request,
        receivable,
        WriteOffDecideForm(request.POST, prefix="decide"),
        "decide_form",
        lambda data: services.receivable_write_off_decide(
            receivable=receivable,
            by=request.user,
            approve=data["decision"] == "approve",
            note=data["note"],
            request=request,
        ),
        _("The decision on the write-off is recorded."),
    )
