"""Officials' pages of the cultivation library (培育库): the list, an entry and its history, adding by hand or
from a screening batch, and the counties' targets with their shortfall.

Each view checks who is asking, calls `certification.library`, and renders. What an official may see comes
from `library.entries_visible_to` / `enterprises_for_library` / `counties_visible_to` (404 for anything
else: another tenant's entry, or one outside the official's region); what they may do is checked again by
the service, whose refusal names the field at fault.
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views.decorators.http import require_POST

from certification import library
from certification.library import LibraryRefused
from certification.models import LibraryEntry, LibraryTarget, Program, ScreeningBatch
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.models import Region
from portal.views import tenant_login_required

PAGE_SIZE = 25
EXPORT_LIMIT = 20000
SEARCH_LIMIT = 20

Stage = LibraryEntry.Stage


def _require_keeper(request) -> None:
    """SECURITY: 404, not 403: the library's pages do not exist for anyone else."""
    if not library.is_keeper(request.user, request.tenant):
        raise Http404


def _programs(tenant):
    return (
        Program.objects.for_tenant(tenant)
        .filter(is_active=True)
        .select_related("owner_region")
        .order_by("tier", "code")
    )


def _apply_refusal(form: forms.Form, exc: LibraryRefused) -> None:
    """Put the refusal on the field it names (or on the form), so the error summary names the field."""
    placed = False
    for name, errors in exc.fields.items():
        if name in form.fields:
            for error in errors:
                form.add_error(name, error)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def _url(request, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": request.tenant.code, **kwargs})


# --- forms -----------------------------------------------------------------------------------------

STATE_CHOICES = [
    ("current", gettext_lazy("in the library")),
    ("removed", gettext_lazy("removed")),
    ("all", gettext_lazy("all")),
]


class LibraryFilterForm(forms.Form):
    state = forms.ChoiceField(label=gettext_lazy("Entries"), choices=STATE_CHOICES, required=False)
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), required=False)
    program = forms.ModelChoiceField(
        label=gettext_lazy("Target programme"), queryset=Program.objects.none(), required=False
    )
    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    q = forms.CharField(label=gettext_lazy("Name or credit code"), required=False, max_length=100, strip=True)

    def __init__(self, *args, programs, regions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [("", _("any"))] + list(Stage.choices)
        self.fields["program"].queryset = programs
        self.fields["program"].empty_label = _("any")
        self.regions = {r.code: r for r in regions}
        self.fields["region"].choices = [("", _("any"))] + [
            (r.code, ("　" if r.level == Region.Level.COUNTY else "") + r.name) for r in regions
        ]

    def selector_kwargs(self) -> dict:
        data = self.cleaned_data if self.is_bound else {}
        region = self.regions.get(data.get("region") or "")
        program = data.get("program")
        return {
            "state": data.get("state") or "current",
            "stage": data.get("stage") or None,
            "program_id": program.pk if program else None,
            "region_path": region.path if region else None,
            "search": data.get("q") or None,
        }


class AddForm(forms.Form):
    enterprise = forms.ModelChoiceField(
        label=gettext_lazy("Enterprise"),
        queryset=None,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Choose the enterprise to add.")},
    )
    program = forms.ModelChoiceField(label=gettext_lazy("Target programme"), queryset=Program.objects.none())
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), choices=Stage.choices, initial=Stage.RESERVE)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=library.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Why the enterprise is promising, and what it lacks."),
    )

    def __init__(self, *args, enterprises, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["enterprise"].queryset = enterprises
        self.fields["program"].queryset = programs


class MoveForm(forms.Form):
    to_stage = forms.ChoiceField(label=gettext_lazy("New stage"), choices=Stage.choices)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        max_length=library.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Say why the entry moves.")},
    )


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=library.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Say why the enterprise leaves the library.")},
    )


class BatchAddForm(forms.Form):
    program = forms.ModelChoiceField(label=gettext_lazy("Target programme"), queryset=Program.objects.none())
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), choices=Stage.choices, initial=Stage.RESERVE)
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        max_length=library.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, programs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs


class TargetForm(forms.Form):
    regulated_enterprises = forms.IntegerField(
        label=gettext_lazy("Regulated industrial enterprises"),
        min_value=0,
        max_value=100000,
        help_text=gettext_lazy("规上工业企业: the number in the county at the start of the year."),
    )
    share_percent = forms.DecimalField(
        label=gettext_lazy("Share (%)"), min_value=Decimal(0), max_value=Decimal(100), decimal_places=2
    )
    minimum = forms.IntegerField(label=gettext_lazy("Minimum"), min_value=0, max_value=100000)
    source = forms.CharField(label=gettext_lazy("Source"), required=False, max_length=200)


# --- the list --------------------------------------------------------------------------------------


def _filter_regions(request) -> list[Region]:
    return list(
        library.regions_visible_to(request.user, request.tenant)
        .exclude(level=Region.Level.PROVINCE)
        .order_by("code")
    )


def _filter_form(request) -> LibraryFilterForm:
    form = LibraryFilterForm(
        request.GET or None, programs=_programs(request.tenant), regions=_filter_regions(request)
    )
    form.is_valid()  # an invalid filter is shown with its error and ignored
    return form


def _entries(request, form: LibraryFilterForm):
    return library.library_list(user=request.user, tenant=request.tenant, **form.selector_kwargs())


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@tenant_login_required
def library_list(request, tenant_code):
    _require_keeper(request)
    form = _filter_form(request)
    page = Paginator(_entries(request, form), PAGE_SIZE).get_page(request.GET.get("page"))
    query = _query_without_page(request)
    rows = [
        {
            "entry": e,
            "can_act": e.removed_at is None and library.may_keep(request.user, e.enterprise, request.tenant),
        }
        for e in page
    ]
    return render(
        request,
        "certification/library/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query,
            "stages": Stage.choices,
            "here": request.get_full_path(),
            "export_url": _url(request, "library_export") + (f"?{query}" if query else ""),
        },
    )


@tenant_login_required
def library_export(request, tenant_code):
    _require_keeper(request)
    form = _filter_form(request)
    audit_record(
        action="library.exported", actor=request.user, request=request, summary=request.GET.urlencode()[:500]
    )
    return xlsx_response(
        filename=f"library-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Cultivation library"),
        columns=[
            (_("Enterprise"), lambda e: e.enterprise.name),
            (_("Unified social credit code"), lambda e: e.enterprise.uscc),
            (_("County"), lambda e: e.enterprise.county.name),
            (_("Target programme"), lambda e: e.program.name),
            (_("Stage"), lambda e: e.get_stage_display()),
            (pgettext("library entry", "Source"), lambda e: e.get_source_display()),
            (_("Added"), lambda e: e.added_at),
            (_("Added by"), lambda e: str(e.added_by) if e.added_by_id else ""),
            (_("Last change"), lambda e: e.last_change_at),
            (_("Last note"), lambda e: e.last_note or ""),
            (_("Removed"), lambda e: e.removed_at),
            (_("Reason for removal"), lambda e: e.removal_reason),
        ],
        rows=_entries(request, form)[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


# --- one entry -------------------------------------------------------------------------------------


def _entry(request, pk) -> LibraryEntry:
    return get_object_or_404(
        library.entries_visible_to(request.user, request.tenant).select_related(
            "enterprise__county",
            "enterprise__tenant",
            "program",
            "added_by",
            "removed_by",
            "screening__version",
        ),
        pk=pk,
    )


def _entry_context(request, entry, *, move_form=None, remove_form=None) -> dict:
    changes = list(entry.changes.select_related("by").order_by("at", "id"))
    labels = dict(Stage.choices)
    history = [
        {
            "change": c,
            "from": labels.get(c.from_stage, ""),
            "to": labels.get(c.to_stage, ""),
            "kind": "added" if not c.from_stage else ("removed" if not c.to_stage else "moved"),
        }
        for c in changes
    ]
    others = list(
        library.entries_visible_to(request.user, request.tenant)
        .filter(enterprise=entry.enterprise)
        .exclude(pk=entry.pk)
        .select_related("program")
        .order_by("-added_at")
    )
    return {
        "entry": entry,
        "history": history,
        "others": others,
        "can_act": entry.removed_at is None
        and library.may_keep(request.user, entry.enterprise, request.tenant),
        "move_form": move_form or MoveForm(initial={"to_stage": _next_stage(entry.stage)}),
        "remove_form": remove_form or RemoveForm(),
    }


def _next_stage(stage: str) -> str:
    order = list(Stage.values)
    return order[min(order.index(stage) + 1, len(order) - 1)] if stage in order else Stage.RESERVE


@tenant_login_required
def library_entry(request, tenant_code, pk):
    _require_keeper(request)
    entry = _entry(request, pk)
    return render(request, "certification/library/entry.html", _entry_context(request, entry))


@require_POST
@tenant_login_required
def library_move(request, tenant_code, pk):
    _require_keeper(request)
    entry = _entry(request, pk)
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            entry = library.library_move(
                entry=entry,
                to_stage=form.cleaned_data["to_stage"],
                note=form.cleaned_data["note"],
                by=request.user,
                request=request,
            )
        except LibraryRefused as exc:
            _apply_refusal(form, exc)
        else:
            messages.success(
                request,
                _("%(enterprise)s moved to %(stage)s.")
                % {"enterprise": entry.enterprise.name, "stage": entry.get_stage_display()},
            )
            return HttpResponseRedirect(_safe_next(request, _url(request, "library_entry", pk=entry.pk)))
    entry = _entry(request, pk)
    context = _entry_context(request, entry, move_form=form)
    return render(request, "certification/library/entry.html", context, status=400)


@require_POST
@tenant_login_required
def library_remove(request, tenant_code, pk):
    _require_keeper(request)
    entry = _entry(request, pk)
    form = RemoveForm(request.POST)
    if form.is_valid():
        try:
            entry = library.library_remove(
                entry=entry, reason=form.cleaned_data["reason"], by=request.user, request=request
            )
        except LibraryRefused as exc:
            _apply_refusal(form, exc)
        else:
            messages.success(
                request, _("%(enterprise)s removed from the library.") % {"enterprise": entry.enterprise.name}
            )
            return HttpResponseRedirect(_safe_next(request, _url(request, "library_entry", pk=entry.pk)))
    entry = _entry(request, pk)
    context = _entry_context(request, entry, remove_form=form)
    return render(request, "certification/library/entry.html", context, status=400)


# --- adding ----------------------------------------------------------------------------------------


def _search(queryset, term: str):
    term = (term or "").strip()
    if not term:
        return queryset.none()
    if len(term) == 18 and term.upper().isalnum():
        return queryset.filter(uscc=term.upper())
    return queryset.filter(name__icontains=term)


@tenant_login_required
def library_add(request, tenant_code):
    """Search an enterprise of the official's region by name or credit code, then add it."""
    _require_keeper(request)
    tenant = request.tenant
    scoped = library.enterprises_for_library(request.user, tenant).select_related("county").defer("facts")
    programs = _programs(tenant)
    term = (request.GET.get("q") or "").strip()[:100]
    chosen = request.POST.get("enterprise") or request.GET.get("enterprise") or ""
    candidates = list(_search(scoped, term).order_by("name")[:SEARCH_LIMIT])
    if chosen.isdigit() and all(str(e.pk) != chosen for e in candidates):
        candidates += list(scoped.filter(pk=chosen))
    form = AddForm(
        request.POST or None,
        enterprises=scoped,
        programs=programs,
        initial={"enterprise": chosen if chosen.isdigit() else None, "stage": Stage.RESERVE},
    )
    if request.method == "POST" and form.is_valid():
        try:
            entry = library.library_add(
                enterprise=form.cleaned_data["enterprise"],
                program=form.cleaned_data["program"],
                stage=form.cleaned_data["stage"],
                note=form.cleaned_data["note"],
                by=request.user,
                request=request,
            )
        except LibraryRefused as exc:
            _apply_refusal(form, exc)
        else:
            messages.success(
                request,
                _("%(enterprise)s added to the library (%(stage)s).")
                % {"enterprise": entry.enterprise.name, "stage": entry.get_stage_display()},
            )
            return HttpResponseRedirect(_url(request, "library_entry", pk=entry.pk))
    return render(
        request,
        "certification/library/add.html",
        {"form": form, "term": term, "candidates": candidates, "searched": bool(term), "chosen": chosen},
        status=400 if request.method == "POST" else 200,
    )


def _default_program(batch: ScreeningBatch, programs: list[Program]) -> Program | None:
    """The batch's own programme, unless it is a library rule (博州培育库's elements are the SRDI
    conditions): then the SRDI programme open to the batch's region, which is what the library aims at."""
    if not (batch.version.definition or {}).get("library"):
        return batch.version.program
    region_path = batch.region.path
    for program in programs:
        if program.tier == Program.Tier.SRDI and region_path.startswith(program.owner_region.path):
            return program
    return batch.version.program


@tenant_login_required
def library_from_batch(request, tenant_code, pk):
    """The screening batch's enterprises with the verdict `library`, and a button that adds those that are
    not in the library for the chosen programme yet."""
    _require_keeper(request)
    tenant = request.tenant
    batch = get_object_or_404(
        ScreeningBatch.objects.visible_to(request.user, tenant).select_related("version__program", "region"),
        pk=pk,
    )
    programs = list(_programs(tenant))
    # SECURITY: only the enterprises of the official's own region, even in a batch of a wider region.
    visible = library.enterprises_for_library(request.user, tenant)
    candidates = library.batch_library_screenings(batch).filter(enterprise__in=visible.values("pk"))
    default = _default_program(batch, programs)
    wanted = request.GET.get("program") or ""
    default = next((p for p in programs if str(p.pk) == wanted), default)
    form = BatchAddForm(
        request.POST or None, programs=_programs(tenant), initial={"program": default.pk if default else None}
    )
    if request.method == "POST" and form.is_valid():
        try:
            result = library.library_add_from_screening(
                screenings=candidates,
                program=form.cleaned_data["program"],
                stage=form.cleaned_data["stage"],
                note=form.cleaned_data["note"],
                by=request.user,
                request=request,
            )
        except LibraryRefused as exc:
            _apply_refusal(form, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)d enterprise added to the library.",
                    "%(n)d enterprises added to the library.",
                    len(result.added),
                )
                % {"n": len(result.added)},
            )
            if result.skipped:
                messages.warning(
                    request,
                    _("Not added: %(list)s")
                    % {"list": "; ".join(f"{e.name} ({why})" for e, why in result.skipped[:20])}
                    + (" …" if len(result.skipped) > 20 else ""),
                )
            return HttpResponseRedirect(_url(request, "library_list") + "?state=current")
    program = form.cleaned_data.get("program") if form.is_bound and form.is_valid() else default
    page = Paginator(candidates, 50).get_page(request.GET.get("page"))
    in_library = set()
    if program is not None:
        in_library = set(
            LibraryEntry.objects.filter(
                tenant=tenant,
                program=program,
                removed_at__isnull=True,
                enterprise_id__in=[s.enterprise_id for s in page],
            ).values_list("enterprise_id", flat=True)
        )
    return render(
        request,
        "certification/library/from_batch.html",
        {
            "batch": batch,
            "form": form,
            "page": page,
            "program": program,
            "in_library": in_library,
            "query": "",
        },
        status=400 if request.method == "POST" else 200,
    )


# --- targets ---------------------------------------------------------------------------------------


def _scopes(request) -> list[Region]:
    """The regions whose counties the official sees: the keeper posts' regions, nested ones dropped."""
    tenant = request.tenant
    if request.user.is_superuser:
        return [tenant.root_region]
    regions = sorted({p.region for p in library.keeper_posts(request.user, tenant)}, key=lambda r: r.path)
    kept: list[Region] = []
    for region in regions:
        if not any(region.path.startswith(k.path) for k in kept):
            kept.append(region)
    return kept


def _year(request) -> int:
    raw = request.GET.get("year") or ""
    this = library.today_year()
    return int(raw) if raw.isdigit() and this - 10 <= int(raw) <= this + 1 else this


def _target_rows(request, year: int, prefecture: Region | None):
    rows = []
    for scope in [prefecture] if prefecture else _scopes(request):
        rows += library.library_targets_status(tenant=request.tenant, region_scope=scope, year=year)
    for row in rows:
        row.can_edit = library.may_set_target(request.user, row.region)
    return rows


def target_chart(rows, *, width: int = 420, row_height: int = 26) -> dict:
    """Geometry of the targets chart (server-side SVG): a bar per county for the enterprises in the
    library, red while short of the target, and a mark at the target; all on one scale."""
    shown = [r for r in rows if r.required is not None or r.current]
    scale = max([1] + [r.current for r in shown] + [r.required or 0 for r in shown])
    label_w, gap = 110, 10
    out = []
    for i, r in enumerate(shown):
        top = i * row_height + 4
        out.append(
            {
                "name": r.region.name,
                "y": top,
                "text_y": top + 14,
                "mark_top": top - 3,
                "mark_bottom": top + 21,
                "bar_w": round(r.current * width / scale, 1),
                "target_x": None
                if r.required is None
                else round(label_w + gap + r.required * width / scale, 1),
                "short": bool(r.shortfall),
                "current": r.current,
                "required": r.required,
            }
        )
    return {
        "rows": out,
        "height": len(out) * row_height + 8,
        "width": label_w + gap + width + 70,
        "bar_x": label_w + gap,
        "track_w": width,
        "value_x": label_w + gap + width + 8,
    }


def _prefecture(request) -> Region | None:
    code = request.GET.get("prefecture") or ""
    if not code.isdigit():
        return None
    return (
        library.regions_visible_to(request.user, request.tenant)
        .filter(code=code, level=Region.Level.PREFECTURE)
        .first()
    )


@tenant_login_required
def library_targets(request, tenant_code):
    _require_keeper(request)
    year = _year(request)
    prefecture = _prefecture(request)
    rows = _target_rows(request, year, prefecture)
    this = library.today_year()
    prefectures = list(
        library.regions_visible_to(request.user, request.tenant)
        .filter(level=Region.Level.PREFECTURE)
        .order_by("code")
    )
    query = request.GET.copy()
    return render(
        request,
        "certification/library/targets.html",
        {
            "year": year,
            "years": list(range(this - 3, this + 2)),
            "rows": rows,
            "chart": target_chart(rows),
            "prefectures": prefectures,
            "prefecture": prefecture,
            "totals": {
                "required": sum(r.required or 0 for r in rows),
                "current": sum(r.current for r in rows),
                "shortfall": sum(r.shortfall or 0 for r in rows),
            },
            "export_url": _url(request, "library_targets_export")
            + (f"?{query.urlencode()}" if query else ""),
        },
    )


@tenant_login_required
def library_targets_export(request, tenant_code):
    _require_keeper(request)
    year = _year(request)
    rows = _target_rows(request, year, _prefecture(request))
    audit_record(action="library.targets_exported", actor=request.user, request=request, summary=str(year))
    return xlsx_response(
        filename=f"library-targets-{request.tenant.code}-{year}.xlsx",
        title=_("Library targets"),
        columns=[
            (_("Division code"), lambda r: r.region.code),
            (_("County"), lambda r: r.region.name),
            (_("Year"), lambda r: year),
            (
                _("Regulated industrial enterprises"),
                lambda r: r.target.regulated_enterprises if r.target else None,
            ),
            (_("Share (%)"), lambda r: r.target.share_percent if r.target else None),
            (_("From the share"), lambda r: r.from_share),
            (pgettext("library target", "Minimum"), lambda r: r.target.minimum if r.target else None),
            (_("Target"), lambda r: r.required),
            (_("In the library"), lambda r: r.current),
            (_("Shortfall"), lambda r: r.shortfall),
            (_("Source"), lambda r: r.target.source if r.target else ""),
        ],
        rows=rows,
    )


@tenant_login_required
def library_target_edit(request, tenant_code, code, year):
    _require_keeper(request)
    county = get_object_or_404(library.counties_visible_to(request.user, request.tenant), code=code)
    this = library.today_year()
    if not library.may_set_target(request.user, county) or not (this - 10 <= year <= this + 1):
        raise Http404
    target = LibraryTarget.objects.filter(tenant=request.tenant, region=county, year=year).first()
    initial = (
        {
            "regulated_enterprises": target.regulated_enterprises,
            "share_percent": target.share_percent,
            "minimum": target.minimum,
            "source": target.source,
        }
        if target
        else {"share_percent": Decimal("10.00"), "minimum": 0}
    )
    form = TargetForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            library.library_target_save(
                region=county,
                year=year,
                regulated_enterprises=data["regulated_enterprises"],
                share_percent=data["share_percent"],
                minimum=data["minimum"],
                source=data["source"],
                by=request.user,
                request=request,
            )
        except LibraryRefused as exc:
            _apply_refusal(form, exc)
        else:
            messages.success(
                request,
                _("The target of %(county)s for %(year)d has been saved.")
                % {"county": county.name, "year": year},
            )
            return HttpResponseRedirect(_url(request, "library_targets") + f"?year={year}")
    return render(
        request,
        "certification/library/target_form.html",
        {"county": county, "year": year, "form": form, "target": target},
        status=400 if request.method == "POST" else 200,
    )
