"""Pages: self-evaluation (enterprises), the public calculator, programmes and background screening (officials)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from certification import services
from certification.facts_input import parse_facts
from certification.models import CriteriaVersion, Program, Screening, ScreeningBatch
from enterprises.facts import ENUMS, FACT_LABELS, FACT_TYPES
from enterprises.views import enterprise_member_required
from portal import permissions as portal_permissions
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.models import Region
from portal.views import tenant_login_required


def _programs(tenant):
    return (
        Program.objects.for_tenant(tenant)
        .filter(is_active=True)
        .select_related("owner_region")
        .prefetch_related("versions")
        .order_by("tier", "code")
    )


# --- enterprises: self-evaluation --------------------------------------------------------


@enterprise_member_required()
def self_evaluation(request, tenant_code, enterprise):
    programs = list(
        services.programs_for_enterprise(enterprise).select_related("owner_region").order_by("tier")
    )
    code = request.GET.get("program") or (programs[0].code if programs else None)
    program = next((p for p in programs if p.code == code), None)
    context = {"enterprise": enterprise, "programs": programs, "program": program}
    if program is not None:
        try:
            screening, result = services.self_evaluation(
                enterprise=enterprise, program=program, by=request.user, request=request
            )
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
        else:
            context.update({"screening": screening, "result": result, "version": screening.version})
    return render(request, "certification/self_evaluation.html", context)


# --- the public calculator ---------------------------------------------------------------

CALCULATOR_FACTS = [
    "industry_code",
    "employees_y1",
    "revenue_y1",
    "revenue_y2",
    "revenue_y3",
    "main_business_revenue_y1",
    "main_business_revenue_y2",
    "main_business_revenue_y3",
    "rd_expense_y1",
    "rd_expense_y2",
    "net_profit_y1",
    "total_assets_y1",
    "total_liabilities_y1",
    "rd_staff_y1",
    "niche_years",
    "equity_financing_2y",
    "ip_class1_count",
    "ip_class1_self_developed_count",
    "ip_class1_high_value_count",
    "ip_class2_count",
    "main_product_field",
    "strategic_emerging_industry",
    "digital_level",
    "rd_institution_level",
    "st_award",
    "maker_china",
    "high_tech_enterprise",
    "quality_system_certified",
    "quality_award",
    "own_brand",
    "standards_participation",
    "ethnic_crafts",
    "provincial_key_field",
    "negative_false_info",
    "negative_major_accident_3y",
    "negative_tax_or_dishonest",
    "negative_abnormal_list",
]


class CalculatorForm(forms.Form):
    """One field per fact; every field optional (unknown is allowed and reported as missing)."""

    program = forms.ChoiceField(label=gettext_lazy("programme"))

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(p.code, p.name) for p in programs]
        for name in CALCULATOR_FACTS:
            kind, label = FACT_TYPES[name], FACT_LABELS[name]
            if kind == "bool":
                field = forms.ChoiceField(
                    label=label,
                    required=False,
                    choices=[("", _("not stated")), ("true", _("yes")), ("false", _("no"))],
                )
            elif kind == "enum":
                field = forms.ChoiceField(
                    label=label, required=False, choices=[("", "—")] + [(v, v) for v in ENUMS[name]]
                )
            else:
                field = forms.CharField(label=label, required=False, max_length=40)
                if kind in ("money", "ratio", "count", "number"):
                    field.widget.attrs["inputmode"] = "decimal"
            self.fields[name] = field


def calculator(request, tenant_code):
    """Anyone may type key figures and see the result. Nothing is stored."""
    programs = [p for p in _programs(request.tenant) if p.owner_region.level == Region.Level.PROVINCE]
    form = CalculatorForm(request.POST or None, programs=programs)
    context = {"form": form, "programs": programs}
    if request.method == "POST" and form.is_valid():
        program = next(p for p in programs if p.code == form.cleaned_data["program"])
        raw = {
            n: form.cleaned_data.get(n)
            for n in CALCULATOR_FACTS
            if form.cleaned_data.get(n) not in ("", None)
        }
        try:
            facts = parse_facts(raw)
            version = services.version_in_force(program)
        except ValidationError as exc:
            for field, messages in (
                exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
            ):
                form.add_error(field if field in form.fields else None, messages)
        else:
            context.update(
                {
                    "result": services.screen_facts(version=version, facts=facts),
                    "version": version,
                    "program": program,
                }
            )
    return render(request, "certification/calculator.html", context)


# --- officials: programmes, versions, background screening --------------------------------


def _require_official(request):
    if not portal_permissions.is_official(request.user, request.tenant):
        raise Http404


@tenant_login_required
def screening_home(request, tenant_code):
    _require_official(request)
    tenant = request.tenant
    regions = (
        Region.objects.visible_to(request.user, tenant).exclude(level=Region.Level.COUNTY).order_by("code")
    )
    batches = ScreeningBatch.objects.visible_to(request.user, tenant).select_related(
        "version__program", "region"
    )[:20]
    return render(
        request,
        "certification/screening_home.html",
        {
            "programs": _programs(tenant),
            "regions": list(regions)
            or list(Region.objects.visible_to(request.user, tenant).order_by("code")[:50]),
            "batches": batches,
            "today": timezone.localdate(),
        },
    )


@tenant_login_required
def version_detail(request, tenant_code, pk):
    _require_official(request)
    version = get_object_or_404(
        CriteriaVersion.objects.select_related("program"), pk=pk, program__tenant=request.tenant
    )
    return render(request, "certification/version_detail.html", {"version": version, "d": version.definition})


@require_POST
@tenant_login_required
def batch_start(request, tenant_code):
    _require_official(request)
    tenant = request.tenant
    version = get_object_or_404(CriteriaVersion, pk=request.POST.get("version"), program__tenant=tenant)
    # SECURITY: the region must be one the official sees.
    region = get_object_or_404(
        Region.objects.visible_to(request.user, tenant), code=request.POST.get("region")
    )
    try:
        batch = services.screening_batch_start(
            tenant=tenant, version=version, region=region, by=request.user, request=request
        )
    except ValidationError as exc:
        from django.contrib import messages

        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("screening_home", kwargs={"tenant_code": tenant_code}))
    return HttpResponseRedirect(reverse("batch_detail", kwargs={"tenant_code": tenant_code, "pk": batch.pk}))


def _batch(request, pk) -> ScreeningBatch:
    _require_official(request)
    return get_object_or_404(
        ScreeningBatch.objects.visible_to(request.user, request.tenant).select_related(
            "version__program", "region"
        ),
        pk=pk,
    )


@tenant_login_required
def batch_detail(request, tenant_code, pk):
    batch = _batch(request, pk)
    screenings = (
        Screening.objects.filter(
            version=batch.version,
            purpose=Screening.Purpose.BACKGROUND,
            enterprise__county__path__startswith=batch.region.path,
        )
        .select_related("enterprise__county")
        .order_by("-score", "enterprise__name")
    )
    verdict = request.GET.get("verdict")
    if verdict in Screening.Verdict.values:
        screenings = screenings.filter(verdict=verdict)
    # Only the newest screening of each enterprise counts: older facts were screened before a change.
    screenings = screenings.filter(facts_hash=F("enterprise__facts_hash"))
    if request.GET.get("format") == "xlsx":
        audit_record(action="screening.exported", actor=request.user, obj=batch, request=request)
        verdicts = dict(Screening.Verdict.choices)
        return xlsx_response(
            filename=f"screening-{batch.pk}.xlsx",
            title=_("Screening"),
            columns=[
                (_("Enterprise"), lambda s: s.enterprise.name),
                (_("Credit code"), lambda s: s.enterprise.uscc),
                (_("County"), lambda s: s.enterprise.county.name),
                (_("Verdict"), lambda s: str(verdicts[s.verdict])),
                (_("Score"), lambda s: s.score),
                (_("Size class"), lambda s: s.size_class),
                (_("Unmet conditions"), lambda s: "; ".join(u["label"] for u in s.result.get("unmet", []))),
            ],
            rows=screenings.iterator(chunk_size=500),
        )
    page = Paginator(screenings, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "certification/batch_detail.html",
        {"batch": batch, "page": page, "verdict": verdict, "verdicts": Screening.Verdict.choices},
    )


@tenant_login_required
def batch_progress(request, tenant_code, pk):
    batch = _batch(request, pk)
    return JsonResponse(
        {
            "status": batch.status,
            "done": batch.done,
            "total": batch.total,
            "percent": batch.percent,
            "counts": batch.counts,
        }
    )
