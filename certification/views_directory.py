"""The public directory of certified enterprises (名录), their public profiles, and the provincial
staff's national recommendation package (views_directory).

The directory is public: it shows what a published list already made public (name, credit code,
region, industry, main product, certificate numbers) and never an enterprise's contact data (phone,
email, contact person, legal representative). One page costs a constant number of queries: the
count, the page of enterprises (their county, prefecture and industry joined), and their active
certifications (prefetched), whatever the number of rows.
"""

from __future__ import annotations

import os
import re
import tempfile
import zipfile
from io import BytesIO

from django import forms
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from openpyxl import Workbook
from openpyxl.styles import Font

from certification import application_pdf, directory_cache, publication, workflow
from certification.application_pdf import content_disposition
from certification.models import Certification, Program, Round
from enterprises.models import Enterprise, name_folded
from portal.audit import audit_record
from portal.exports import _cell, xlsx_response
from portal.models import Post, Region, Tenant
from portal.views import tenant_login_required

PAGE_SIZE = 50
EXPORT_LIMIT = 200_000
PACKAGE_PAGE_SIZE = 100
PACKAGE_LIMIT = 100  # each 申报书 takes a WeasyPrint render: a package is a selection, not the whole list


# --- selectors ---------------------------------------------------------------------------------


def active_certifications(tenant: Tenant) -> QuerySet[Certification]:
    """Certifications in force: the status is the truth, kept by the daily lifecycle job (expiry the day
    after `valid_until`, unless a re-verification filed in time keeps it in force until the decision)."""
    return Certification.objects.filter(tenant=tenant, status=Certification.Status.ACTIVE)


def directory_enterprises(
    *,
    tenant: Tenant,
    region: Region | None = None,
    program: Program | None = None,
    industry: str = "",
    year: int | None = None,
    q: str = "",
) -> QuerySet[Enterprise]:
    """Enterprises of the tenant holding a certification in force (matching the programme and year
    filters), sorted by county code then by the pinyin of the name. Each carries `.directory_certifications`:
    its certifications in force, with their programme (one prefetch query per page).

    "Holds a certification in force" is the flag Enterprise.directory_listed with its partial index; only
    a programme or year filter needs to look at the certifications themselves."""
    certs = active_certifications(tenant)
    qs = Enterprise.objects.filter(tenant=tenant, directory_listed=True)
    if program is not None or year:
        matching = certs.filter(enterprise=OuterRef("pk"))
        if program is not None:
            matching = matching.filter(program=program)
        if year:
            matching = matching.filter(issued_on__year=year)
        qs = qs.filter(Exists(matching))
    if region is not None:
        # SECURITY: the region comes from this tenant's choices; the path prefix selects its subtree.
        qs = qs.filter(county__path__startswith=region.path)
    if industry:
        qs = qs.filter(industry__code__startswith=industry.upper())  # the FK column: no join
    if q:
        # the stored folded name: what icontains would match, without upper-casing every row
        qs = qs.filter(name_folded__contains=name_folded(q))
    return (
        qs.select_related("county__parent", "industry")
        .prefetch_related(
            Prefetch(
                "certifications",
                queryset=certs.select_related("program").order_by("program__tier", "-issued_on", "number"),
                to_attr="directory_certifications",
            )
        )
        .order_by(*_county_order(tenant), "name_pinyin", "pk")
    )


def _county_order(tenant: Tenant) -> tuple[str, ...]:
    """Sort by county code. When the counties' keys follow their codes (regions_load creates them in
    code order), sorting by the key gives the same order and walks the index (tenant, county,
    name_pinyin) without a join: 2 ms instead of 450 ms for page 1 of 100,000 (bench/directory.py).
    A county added later out of order falls back to the join, slower but still right."""
    ids = list(
        Region.objects.filter(tenant=tenant, level=Region.Level.COUNTY)
        .order_by("code")
        .values_list("pk", flat=True)
    )
    return ("county_id",) if ids == sorted(ids) else ("county__code",)


# --- the directory -----------------------------------------------------------------------------


class DirectoryFilterForm(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("region"), required=False)
    program = forms.TypedChoiceField(
        label=gettext_lazy("programme"), required=False, coerce=int, empty_value=None
    )
    industry = forms.CharField(
        label=gettext_lazy("industry code"),
        required=False,
        max_length=5,
        help_text=gettext_lazy("A GB/T 4754 section letter or code prefix, e.g. C or C34."),
    )
    year = forms.TypedChoiceField(
        label=gettext_lazy("year certified"), required=False, coerce=int, empty_value=None
    )
    q = forms.CharField(label=gettext_lazy("name contains"), required=False, max_length=100)

    def __init__(self, *args, tenant: Tenant, programs: list[Program], **kwargs):
        super().__init__(*args, **kwargs)
        regions = list(
            Region.objects.for_tenant(tenant)
            .filter(level__in=[Region.Level.PREFECTURE, Region.Level.COUNTY])
            .order_by("path")
        )
        self.regions = {r.code: r for r in regions}
        # Prefectures, each followed by its counties (indented): the path order is the tree order.
        self.fields["region"].choices = [("", _("any"))] + [
            (r.code, r.name if r.level == Region.Level.PREFECTURE else f"\u3000{r.name}") for r in regions
        ]
        self.programs = {p.pk: p for p in programs}
        self.fields["program"].choices = [("", _("any"))] + [(p.pk, p.name) for p in programs]
        this_year = timezone.localdate().year
        self.fields["year"].choices = [("", _("any"))] + [(y, str(y)) for y in range(this_year, 2010, -1)]

    def clean_industry(self) -> str:
        value = (self.cleaned_data.get("industry") or "").strip().upper()
        if value and not re.fullmatch(r"[A-T][0-9]{0,4}", value):
            raise forms.ValidationError(_("Enter a section letter (A–T) optionally followed by digits."))
        return value

    def filters(self) -> dict:
        data = self.cleaned_data if self.is_valid() else {}
        return {
            "region": self.regions.get(data.get("region") or ""),
            "program": self.programs.get(data.get("program")),
            "industry": data.get("industry") or "",
            "year": data.get("year"),
            "q": (data.get("q") or "").strip(),
        }


def filter_fields(form: forms.Form) -> list[dict]:
    """The filter form's fields, ready for certification/directory/_filters.html.

    The selects are written out by the template itself rather than by Django's widget templates: the
    region select holds about a hundred options and rendering each through the form renderer cost more
    than all of the page's queries together (bench/directory.py)."""
    fields = []
    for bound in form:
        field = bound.field
        current = "" if bound.value() is None else str(bound.value())
        entry = {
            "name": bound.name,
            "id": bound.auto_id,
            "label": bound.label,
            "help": field.help_text,
            "errors": bound.errors,
            "value": current,
            "max_length": getattr(field, "max_length", None),
        }
        if isinstance(field, forms.ChoiceField):
            entry["options"] = [(str(v), str(label), str(v) == current) for v, label in field.choices]
        fields.append(entry)
    return fields


def _directory_form(request) -> DirectoryFilterForm:
    programs = list(Program.objects.for_tenant(request.tenant).order_by("tier", "code"))
    return DirectoryFilterForm(request.GET or None, tenant=request.tenant, programs=programs)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


class CountCachedPaginator(Paginator):
    def __init__(self, *args, cache_key: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.cache_key = cache_key

    @cached_property
    def count(self) -> int:
        cached = cache.get(self.cache_key)
        if cached is None:
            cached = super().count
            cache.set(self.cache_key, cached, directory_cache.COUNT_TTL)
        return cached


def directory(request, tenant_code):
    """The public directory: no sign-in."""
    form = _directory_form(request)
    qs = directory_enterprises(tenant=request.tenant, **form.filters())
    # A deferred join: the page's keys come from the index alone (SQLite would otherwise build every joined
    # row it skips over: 1.2 s for page 1000 of 100,000), then the page's 50 rows are read by key.
    page = CountCachedPaginator(
        qs.values_list("pk", flat=True),
        PAGE_SIZE,
        cache_key=directory_cache.count_key(request.tenant, form.filters()),
    ).get_page(request.GET.get("page"))
    keys = list(page.object_list)
    by_pk = qs.order_by().in_bulk(keys)
    page.object_list = [by_pk[k] for k in keys if k in by_pk]
    query = _query_without_page(request)
    return render(
        request,
        "certification/directory/list.html",
        {
            "form": form,
            "filters": filter_fields(form),
            "page": page,
            "query": query,
            "export_url": reverse("directory_export", kwargs={"tenant_code": tenant_code})
            + (f"?{query}" if query else ""),
        },
    )


def _certificate_numbers(enterprise: Enterprise) -> str:
    return "；".join(f"{c.program.name} {c.number}" for c in enterprise.directory_certifications)


def directory_export(request, tenant_code):
    """The same filtered list as an Excel file (public, as the page is)."""
    form = _directory_form(request)
    qs = directory_enterprises(tenant=request.tenant, **form.filters())[:EXPORT_LIMIT]
    return xlsx_response(
        filename=f"directory-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Directory"),
        columns=[
            (_("Enterprise"), lambda e: e.name),
            (_("Credit code"), lambda e: e.uscc),
            (_("Prefecture"), lambda e: e.county.parent.name if e.county.parent_id else ""),
            (_("County"), lambda e: e.county.name),
            (_("Industry"), lambda e: str(e.industry)),
            (_("Main product"), lambda e: e.main_product),
            (_("Programmes"), lambda e: "；".join(c.program.name for c in e.directory_certifications)),
            (_("Certificate numbers"), lambda e: "；".join(c.number for c in e.directory_certifications)),
            (
                _("Certified on"),
                lambda e: "；".join(f"{c.issued_on:%Y-%m-%d}" for c in e.directory_certifications),
            ),
        ],
        rows=qs.iterator(chunk_size=2000),
    )


def directory_enterprise(request, tenant_code, pk):
    """The public profile of an enterprise this tenant has certified (now or in the past)."""
    tenant = request.tenant
    # SECURITY: only enterprises of this tenant that hold or held one of its certifications; any other
    # enterprise, including every one that never was certified, is absent (404).
    enterprise = get_object_or_404(
        Enterprise.objects.filter(tenant=tenant)
        .filter(Exists(Certification.objects.filter(tenant=tenant, enterprise=OuterRef("pk"))))
        .select_related("county__parent", "industry"),
        pk=pk,
    )
    today = timezone.localdate()
    certifications = list(
        Certification.objects.filter(tenant=tenant, enterprise=enterprise)
        .select_related("program")
        .order_by("-issued_on", "number")
    )
    for c in certifications:
        c.in_force = c.status == Certification.Status.ACTIVE
        # past its date but in force: a re-verification filed in time is being decided (domain.md §1.5)
        c.public_status = (
            pgettext("certification status", "Valid (under re-verification)")
            if c.in_force and c.valid_until < today
            else c.get_status_display()
        )
    return render(
        request,
        "certification/directory/enterprise.html",
        {"enterprise": enterprise, "certifications": certifications},
    )


# --- the national recommendation package -------------------------------------------------------


def can_build_national_package(user, tenant: Tenant) -> bool:
    """Provincial approvers and tenant administrators, and whoever publishes a province-owned SRDI
    programme's lists (publication.can_publish on one of its rounds)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    posts = user.posts_in(tenant)
    if any(
        p.role in (Post.Role.PROVINCIAL_APPROVER, Post.Role.TENANT_ADMIN)
        and p.region_id == tenant.root_region_id
        for p in posts
    ):
        return True
    if not posts:
        return False
    rounds = (
        Round.objects.filter(
            tenant=tenant,
            program__tier=Program.Tier.SRDI,
            program__owner_region__level=Region.Level.PROVINCE,
        )
        .select_related("program__owner_region", "tenant")
        .order_by("program_id", "-pk")
    )
    seen: set[int] = set()
    for round_ in rounds:
        if round_.program_id in seen:
            continue
        seen.add(round_.program_id)
        if publication.can_publish(user, round_):
            return True
    return False


def national_candidates(tenant: Tenant) -> QuerySet[Certification]:
    return (
        active_certifications(tenant)
        .filter(program__tier=Program.Tier.SRDI)
        .select_related("enterprise__county__parent", "enterprise__industry", "program", "application")
        .order_by("enterprise__county__code", "enterprise__name_pinyin", "number")
    )


class PackageFilterForm(forms.Form):
    region = forms.ChoiceField(label=gettext_lazy("region"), required=False)
    program = forms.TypedChoiceField(
        label=gettext_lazy("programme"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, tenant: Tenant, **kwargs):
        super().__init__(*args, **kwargs)
        regions = list(
            Region.objects.for_tenant(tenant)
            .filter(level__in=[Region.Level.PREFECTURE, Region.Level.COUNTY])
            .order_by("path")
        )
        self.regions = {r.code: r for r in regions}
        self.fields["region"].choices = [("", _("any"))] + [
            (r.code, r.name if r.level == Region.Level.PREFECTURE else f"\u3000{r.name}") for r in regions
        ]
        programs = list(Program.objects.for_tenant(tenant).filter(tier=Program.Tier.SRDI).order_by("code"))
        self.programs = {p.pk: p for p in programs}
        self.fields["program"].choices = [("", _("any"))] + [(p.pk, p.name) for p in programs]


def _figure_columns(application) -> list:
    """Revenue and R&D expense of the last three years the application's latest snapshot states."""
    snapshot = workflow.latest_snapshot(application)
    figures = ((snapshot.profile or {}).get("figures") if snapshot else None) or []
    last = sorted(figures, key=lambda f: f.get("fiscal_year") or 0)[-3:]
    last = [None] * (3 - len(last)) + last
    cells = []
    for f in last:
        cells += [f.get("fiscal_year"), f.get("revenue"), f.get("rd_expense")] if f else [None, None, None]
    return cells


def _summary_xlsx(certifications: list[Certification]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = str(_("Summary"))[:31]
    header = [
        _("Certificate number"),
        _("Enterprise"),
        _("Credit code"),
        _("County"),
        _("Industry"),
        _("Programme"),
        _("Issued on"),
    ]
    for n in (1, 2, 3):
        header += [
            _("Year %(n)s") % {"n": n},
            _("Revenue %(n)s") % {"n": n},
            _("R&D expense %(n)s") % {"n": n},
        ]
    ws.append([str(h) for h in header])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for c in certifications:
        e = c.enterprise
        ws.append(
            [
                _cell(v)
                for v in [
                    c.number,
                    e.name,
                    e.uscc,
                    e.county.name,
                    str(e.industry),
                    c.program.name,
                    c.issued_on,
                    *_figure_columns(c.application),
                ]
            ]
        )
    ws.freeze_panes = "A2"
    buf = BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _pdf_name(c: Certification) -> str:
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", c.enterprise.name)[:80]
    return f"申报书/{c.number}-{name}.pdf"


def national_package_build(certifications: list[Certification]):
    """The ZIP (a temporary file, rewound): summary.xlsx and one 申报书 PDF per certification."""
    # On disk rather than in memory: a hundred 申报书 are tens of megabytes. FileResponse closes the file,
    # which deletes it.
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed open to the response
    try:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("summary.xlsx", _summary_xlsx(certifications))
            for c in certifications:
                zf.writestr(_pdf_name(c), application_pdf.application_pdf_bytes(c.application))
    except BaseException:
        out.close()
        raise
    out.seek(0)
    return out


@tenant_login_required
def national_package(request, tenant_code):
    tenant = request.tenant
    if not can_build_national_package(request.user, tenant):
        raise Http404  # SECURITY: 404, not 403, as every staff page does
    form = PackageFilterForm(request.GET or None, tenant=tenant)
    data = form.cleaned_data if form.is_valid() else {}
    qs = national_candidates(tenant)
    region = form.regions.get(data.get("region") or "")
    if region is not None:
        qs = qs.filter(enterprise__county__path__startswith=region.path)
    program = form.programs.get(data.get("program"))
    if program is not None:
        qs = qs.filter(program=program)
    error = ""
    if request.method == "POST":
        ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
        # SECURITY: the selection is re-read through the tenant's candidates: foreign ids drop out.
        chosen = list(national_candidates(tenant).filter(pk__in=ids)) if ids else []
        if not chosen:
            error = _("Select at least one certified enterprise.")
        elif len(chosen) > PACKAGE_LIMIT:
            error = _("A package holds at most %(n)s enterprises.") % {"n": PACKAGE_LIMIT}
        else:
            package = national_package_build(chosen)
            size = package.seek(0, os.SEEK_END)
            package.seek(0)
            audit_record(
                action="national_package.downloaded",
                actor=request.user,
                tenant=tenant,
                summary=f"{len(chosen)}: " + ", ".join(c.number for c in chosen)[:450],
                changes={"count": len(chosen), "numbers": [c.number for c in chosen]},
                request=request,
            )
            filename = f"小巨人推荐材料-{tenant.code}-{timezone.localdate():%Y%m%d}.zip"
            response = FileResponse(package, content_type="application/zip")
            response["Content-Length"] = str(size)
            response["Content-Disposition"] = content_disposition(
                filename, f"national-package-{tenant.code}-{timezone.localdate():%Y%m%d}.zip"
            )
            response["Cache-Control"] = "private, no-store"
            return response
    page = Paginator(qs, PACKAGE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "certification/directory/national_package.html",
        {
            "form": form,
            "filters": filter_fields(form),
            "page": page,
            "query": _query_without_page(request),
            "error": error,
            "limit": PACKAGE_LIMIT,
        },
        status=400 if error else 200,
    )
