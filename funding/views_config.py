"""Officers' configuration pages: budgets per policy and year (utilisation chart, allocation, export), award
policies (the tenant administrator changes their amounts) and the tenant's disbursement settings."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _

from funding import selectors, services
from funding.forms import AllocateForm, BudgetFilterForm, PolicyAmountsForm, SettingsForm
from funding.models import Budget
from funding.money import yuan
from funding.permissions import is_tenant_admin
from funding.services import AmountSpec
from funding.views_common import (
    EXPORT_LIMIT,
    PAGE_SIZE,
    error_summary,
    errors_onto,
    paying_region_ids,
    posted,
    query_without_page,
    require_funding_official,
    url,
)
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.views import tenant_login_required

# --- budgets ------------------------------------------------------------------------------------------


def utilisation_chart(budgets, *, width: int = 360, row_height: int = 30) -> dict:
    """Geometry of the utilisation chart (a server-side SVG): per budget a track of its amount, the committed
    share over it and the paid share within that; all on the budget's own scale (0–100 %). Display only:
    the widths are floats, the money in the table beside it stays Decimal."""
    label_w, gap = 220, 10
    rows = []
    for i, b in enumerate(budgets):
        top = i * row_height + 6
        share = min(b.utilisation, 1.0)
        paid_share = min(float(b.paid / b.amount), 1.0) if b.amount else 0.0
        label = f"{b.year} · {b.policy.name}"
        rows.append(
            {
                "label": label if len(label) <= 18 else label[:17] + "…",
                "full_label": label,
                "y": top,
                "text_y": top + 14,
                "committed_w": round(share * width, 1),
                "paid_w": round(paid_share * width, 1),
                "percent": f"{b.utilisation * 100:.1f}%",
                "high": b.utilisation >= 0.9,
            }
        )
    return {
        "rows": rows,
        "height": len(rows) * row_height + 10,
        "width": label_w + gap + width + 70,
        "bar_x": label_w + gap,
        "track_w": width,
        "value_x": label_w + gap + width + 8,
    }


def _allocatable(request) -> list:
    """The policies whose budget the user may set: all it sees for the tenant administrator, else those of
    the regions it pays (the service checks again)."""
    policies = list(
        selectors.policies_visible_to(user=request.user, tenant=request.tenant).prefetch_related(None)
    )
    if is_tenant_admin(request.user, request.tenant):
        return policies
    paying = paying_region_ids(request)
    return [p for p in policies if p.region_id in paying]


def _budget_years(request) -> list[int]:
    years = set(
        selectors.budgets_visible_to(user=request.user, tenant=request.tenant).values_list("year", flat=True)
    )
    return sorted(years, reverse=True)


def _budget_filter(request) -> BudgetFilterForm:
    form = BudgetFilterForm(request.GET, years=_budget_years(request))
    form.is_valid()
    return form


@tenant_login_required
def budget_list(request, tenant_code):
    require_funding_official(request)
    policies = _allocatable(request)
    allocate = None
    if policies:
        allocate = AllocateForm(
            posted(request), policies=policies, initial={"year": timezone.localdate().year}
        )
    if request.method == "POST":
        if allocate is None:
            raise Http404
        if allocate.is_valid():
            data = allocate.cleaned_data
            policy = next(p for p in policies if p.pk == data["policy"])
            try:
                budget = services.budget_allocate(
                    policy=policy, year=data["year"], amount=data["amount"], by=request.user, request=request
                )
            except ValidationError as exc:
                errors_onto(allocate, exc)
            except services.FundingRefused as exc:
                allocate.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("The %(year)d budget of %(policy)s is %(amount)s yuan.")
                    % {"year": budget.year, "policy": policy.name, "amount": yuan(budget.amount)},
                )
                return HttpResponseRedirect(url("funding_budgets", request))
    form = _budget_filter(request)
    year = getattr(form, "cleaned_data", {}).get("year")
    budgets = selectors.budgets_visible_to(user=request.user, tenant=request.tenant, year=year)
    page = Paginator(budgets, PAGE_SIZE).get_page(request.GET.get("page"))
    query = query_without_page(request)
    return render(
        request,
        "funding/budget_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "chart": utilisation_chart(list(page)),
            "allocate": allocate,
            "errors": error_summary(allocate),
            "export_url": url("funding_budgets_export", request) + (f"?{query}" if query else ""),
        },
        status=400 if request.method == "POST" else 200,
    )


@tenant_login_required
def budget_export(request, tenant_code):
    require_funding_official(request)
    year = getattr(_budget_filter(request), "cleaned_data", {}).get("year")
    budgets = selectors.budgets_visible_to(user=request.user, tenant=request.tenant, year=year)
    audit_record(
        action="budget.list_exported",
        actor=request.user,
        request=request,
        summary=request.GET.urlencode()[:500],
    )
    return xlsx_response(
        filename=f"budgets-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Budgets"),
        columns=[
            (_("Award policy"), lambda b: b.policy.name),
            (_("Paying region"), lambda b: b.policy.region.name),
            (_("Year"), lambda b: b.year),
            (_("Budget (yuan)"), lambda b: b.amount),
            (_("Committed (yuan)"), lambda b: b.committed),
            (_("Paid (yuan)"), lambda b: b.paid),
            (_("Remaining (yuan)"), lambda b: b.remaining),
            (_("Utilisation (%)"), lambda b: round(b.utilisation * 100, 1)),
        ],
        rows=budgets[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


# --- policies -----------------------------------------------------------------------------------------


@tenant_login_required
def policy_list(request, tenant_code):
    require_funding_official(request)
    policies = selectors.policies_visible_to(user=request.user, tenant=request.tenant).order_by(
        "region__path", "code"
    )
    page = Paginator(policies, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "funding/policy_list.html",
        {"page": page, "query": query_without_page(request), "today": timezone.localdate()},
    )


@tenant_login_required
def policy_detail(request, tenant_code, pk):
    require_funding_official(request)
    # SECURITY: another tenant's policy, or one outside the official's region, is a 404.
    policy = get_object_or_404(selectors.policies_visible_to(user=request.user, tenant=request.tenant), pk=pk)
    amounts = list(policy.amounts.all())
    by_level = [a for a in amounts if a.program_id is None]
    by_program = [a for a in amounts if a.program_id is not None]
    can_edit = is_tenant_admin(request.user, request.tenant)
    if request.method == "POST" and not can_edit:
        raise Http404
    form = None
    if can_edit:
        form = PolicyAmountsForm(posted(request), initial={f"amount_{a.level}": a.amount for a in by_level})
        if request.method == "POST" and form.is_valid():
            specs = [AmountSpec(level, amount) for level, amount in form.amounts()]
            specs += [AmountSpec(a.level, a.amount, a.program) for a in by_program]
            try:
                services.award_policy_save(policy=policy, amounts=specs, by=request.user, request=request)
            except ValidationError as exc:
                errors_onto(form, exc)
            except services.FundingRefused as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _("The amounts of %(policy)s are saved; they apply to awards created from now on.")
                    % {"policy": policy.name},
                )
                return HttpResponseRedirect(url("funding_policy", request, pk=policy.pk))
    budgets = list(Budget.objects.filter(policy=policy).order_by("-year"))
    return render(
        request,
        "funding/policy_detail.html",
        {
            "policy": policy,
            "by_level": by_level,
            "by_program": by_program,
            "budgets": budgets,
            "form": form,
            "errors": error_summary(form),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- settings -----------------------------------------------------------------------------------------


@tenant_login_required
def settings_edit(request, tenant_code):
    require_funding_official(request)
    current = services.funding_settings(request.tenant)
    can_edit = is_tenant_admin(request.user, request.tenant)
    if request.method == "POST" and not can_edit:
        raise Http404
    form = SettingsForm(posted(request), initial={"second_approval_above": current.second_approval_above})
    if request.method == "POST" and form.is_valid():
        try:
            services.funding_settings_save(
                tenant=request.tenant,
                second_approval_above=form.cleaned_data["second_approval_above"],
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            errors_onto(form, exc)
        except services.FundingRefused as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("The funding settings are saved."))
            return HttpResponseRedirect(url("funding_settings", request))
    return render(
        request,
        "funding/settings.html",
        {
            "current": current,
            "form": form if can_edit else None,
            "errors": error_summary(form),
        },
        status=400 if request.method == "POST" else 200,
    )
