"""Officers' pages of awards: the entitlements of the regions they see (filter, review, export) and the
external certifications they record (e.g. an entry of the national little-giant list).

Funding officers act on what their own region pays; tenant administrators and officers of a region above
read. The guards (`entitlement_can`) say why a button is disabled; the services decide.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from enterprises.models import Enterprise
from funding import selectors, services
from funding.forms import EntitlementFilterForm, ExternalCertificationForm, RejectForm, ReverseForm
from funding.models import BatchLine, Budget, Entitlement
from funding.money import yuan
from funding.permissions import funding_scope
from funding.views_common import (
    EXPORT_LIMIT,
    PAGE_SIZE,
    error_summary,
    errors_onto,
    paying_region_ids,
    posted,
    query_without_page,
    require_funding_official,
    safe_next,
    url,
)
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.views import tenant_login_required

S = Entitlement.State


# --- the list -----------------------------------------------------------------------------------------


def _filter_form(request) -> EntitlementFilterForm:
    user, tenant = request.user, request.tenant
    policies = list(selectors.policies_visible_to(user=user, tenant=tenant).prefetch_related(None))
    regions = sorted({p.region.pk: p.region for p in policies}.values(), key=lambda r: r.path)
    years = sorted(
        set(selectors.budgets_visible_to(user=user, tenant=tenant).values_list("year", flat=True)),
        reverse=True,
    )
    form = EntitlementFilterForm(request.GET, policies=policies, regions=regions, years=years)
    form.is_valid()
    form.policies = {p.pk: p for p in policies}
    return form


def _entitlements(request, form: EntitlementFilterForm) -> QuerySet[Entitlement]:
    data = getattr(form, "cleaned_data", {})
    # SECURITY: the selector keeps the official to the regions of its posts' subtrees.
    qs = selectors.entitlements_visible_to(
        user=request.user,
        tenant=request.tenant,
        state=data.get("state") or None,
        policy=form.policies.get(data.get("policy")),
        year=data.get("year"),
    )
    if data.get("region"):
        qs = qs.filter(policy__region__code=data["region"])
    q = (data.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(enterprise__name__icontains=q) | Q(enterprise__uscc__iexact=q))
    return qs


@tenant_login_required
def entitlement_list(request, tenant_code):
    require_funding_official(request)
    form = _filter_form(request)
    page = Paginator(_entitlements(request, form), PAGE_SIZE).get_page(request.GET.get("page"))
    paying = paying_region_ids(request)
    for e in page:
        # Per row without a query: only pending awards of a region the officer pays can be approved here.
        e.can_approve = e.state == S.PENDING and e.policy.region_id in paying
    query = query_without_page(request)
    return render(
        request,
        "funding/entitlement_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "here": request.get_full_path(),
            "export_url": url("funding_entitlements_export", request) + (f"?{query}" if query else ""),
        },
    )


@tenant_login_required
def entitlement_export(request, tenant_code):
    require_funding_official(request)
    qs = _entitlements(request, _filter_form(request))
    audit_record(
        action="entitlement.list_exported",
        actor=request.user,
        request=request,
        summary=request.GET.urlencode()[:500],
    )
    return xlsx_response(
        filename=f"awards-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Award entitlements"),
        columns=[
            (_("No."), lambda e: e.pk),
            (_("Enterprise"), lambda e: e.enterprise.name),
            (_("Unified social credit code"), lambda e: e.enterprise.uscc),
            (_("County"), lambda e: e.enterprise.county.name),
            (_("Award policy"), lambda e: e.policy.name),
            (_("Paying region"), lambda e: e.policy.region.name),
            (_("Award level"), lambda e: e.get_level_display()),
            (_("Certification"), lambda e: e.basis_label),
            (_("Certified on"), lambda e: e.basis_date),
            (_("Award for the level (yuan)"), lambda e: e.level_amount),
            (_("Amount (yuan)"), lambda e: e.amount),
            (_("State"), lambda e: e.get_state_display()),
            (_("Budget year"), lambda e: e.budget.year if e.budget_id else None),
            (_("Decided by"), lambda e: str(e.decided_by) if e.decided_by_id else ""),
            (_("Decided at"), lambda e: e.decided_at),
            (_("Paid at"), lambda e: e.paid_at),
            (_("Reason"), lambda e: e.reason),
        ],
        rows=qs[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


# --- one entitlement ----------------------------------------------------------------------------------


def _entitlement(request, pk) -> Entitlement:
    require_funding_official(request)
    # SECURITY: another tenant's award, or one outside the official's region, is a 404.
    return get_object_or_404(
        selectors.entitlements_visible_to(user=request.user, tenant=request.tenant), pk=pk
    )


def _detail_page(request, e: Entitlement, *, reject_form=None, reverse_form=None, status: int = 200):
    user, tenant = request.user, request.tenant
    year = timezone.localdate().year
    budget = Budget.objects.filter(tenant=tenant, policy=e.policy, year=year).first()
    group = list(
        selectors.entitlements_visible_to(user=user, tenant=tenant, enterprise=e.enterprise)
        .filter(stacking_group=e.stacking_group)
        .exclude(pk=e.pk)
    )
    ledger = list(
        selectors.ledger_visible_to(user=user, tenant=tenant).filter(entitlement=e).select_related("by")
    )
    lines = list(BatchLine.objects.filter(entitlement=e).select_related("batch").order_by("pk"))
    reasons = {
        action: services.entitlement_can(e, action, by=user) for action in ("approve", "reject", "reverse")
    }
    reject_form = reject_form or RejectForm(prefix="reject")
    reverse_form = reverse_form or ReverseForm(prefix="reverse")
    return render(
        request,
        "funding/entitlement_detail.html",
        {
            "e": e,
            "budget": budget,
            "year": year,
            "group": group,
            "ledger": ledger,
            "lines": lines,
            "reasons": reasons,
            "reject_form": reject_form,
            "reverse_form": reverse_form,
            "errors": error_summary(reject_form) + error_summary(reverse_form),
        },
        status=status,
    )


@tenant_login_required
def entitlement_detail(request, tenant_code, pk):
    return _detail_page(request, _entitlement(request, pk))


@require_POST
@tenant_login_required
def entitlement_approve(request, tenant_code, pk):
    e = _entitlement(request, pk)
    back = safe_next(request, url("funding_entitlement", request, pk=e.pk))
    try:
        e = services.entitlement_approve(entitlement=e, by=request.user, request=request)
    except services.FundingRefused as exc:
        # over_budget: the message states the remaining amount and what the award needs.
        messages.error(request, f"{e.enterprise.name}: {exc.message}")
    else:
        if e.state == S.COVERED:
            messages.info(request, f"{e.enterprise.name}: {e.reason}")
        else:
            messages.success(
                request,
                _("%(enterprise)s: %(amount)s yuan approved and committed against the budget of %(year)d.")
                % {"enterprise": e.enterprise.name, "amount": yuan(e.amount), "year": e.budget.year},
            )
    return HttpResponseRedirect(back)


def _decide(request, pk, *, form_class, prefix: str, act, done: str):
    e = _entitlement(request, pk)
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            act(entitlement=e, by=request.user, reason=form.cleaned_data["reason"], request=request)
        except ValidationError as exc:
            errors_onto(form, exc)
        except services.FundingRefused as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(url("funding_entitlement", request, pk=e.pk))
        else:
            messages.success(request, done % {"enterprise": e.enterprise.name})
            return HttpResponseRedirect(url("funding_entitlement", request, pk=e.pk))
    return _detail_page(request, e, **{f"{prefix}_form": form}, status=400)


@require_POST
@tenant_login_required
def entitlement_reject(request, tenant_code, pk):
    return _decide(
        request,
        pk,
        form_class=RejectForm,
        prefix="reject",
        act=services.entitlement_reject,
        done=_("%(enterprise)s: the award was rejected; the enterprise reads your reason."),
    )


@require_POST
@tenant_login_required
def entitlement_reverse(request, tenant_code, pk):
    return _decide(
        request,
        pk,
        form_class=ReverseForm,
        prefix="reverse",
        act=services.entitlement_approval_reverse,
        done=_(
            "%(enterprise)s: the approval was reversed and the budget released; the award is pending again."
        ),
    )


# --- external certifications --------------------------------------------------------------------------


def _enterprise_in_scope(request, uscc: str) -> Enterprise | None:
    # SECURITY: an enterprise of this tenant in the official's region only (funding_scope on its county).
    scope = funding_scope(request.user, request.tenant, field="county")
    if scope is None:
        return None
    return Enterprise.objects.for_tenant(request.tenant).filter(scope).filter(uscc=uscc).first()


@tenant_login_required
def external_new(request, tenant_code):
    require_funding_official(request)
    form = ExternalCertificationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        enterprise = _enterprise_in_scope(request, data["uscc"])
        if enterprise is None:
            form.add_error("uscc", _("No enterprise with this credit code is registered in your region."))
        else:
            try:
                external, created = services.external_certification_record(
                    enterprise=enterprise,
                    level=data["level"],
                    title=data["title"],
                    certified_on=data["certified_on"],
                    reference=data["reference"],
                    basis=data["basis"],
                    moved_in_on=data["moved_in_on"],
                    by=request.user,
                    request=request,
                )
            except ValidationError as exc:
                errors_onto(form, exc)
            except services.FundingRefused as exc:
                form.add_error(None, exc.message)
            else:
                owed = [e for e in created if e.state == S.PENDING]
                messages.success(
                    request,
                    _(
                        "%(enterprise)s: %(level)s recorded; %(n)d award entitlements created, "
                        "%(owed)d waiting for review."
                    )
                    % {
                        "enterprise": enterprise.name,
                        "level": external.get_level_display(),
                        "n": len(created),
                        "owed": len(owed),
                    },
                )
                return HttpResponseRedirect(url("funding_external_new", request))
    recorded = list(
        selectors.external_certifications_visible_to(user=request.user, tenant=request.tenant)[:20]
    )
    return render(
        request,
        "funding/external_new.html",
        {"form": form, "errors": error_summary(form), "recorded": recorded},
        status=400 if form.is_bound else 200,
    )
