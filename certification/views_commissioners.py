"""Pages of the service commissioners (服务专员): the commissioner's enterprises and visits, the staff's
assignments and coverage, and the enterprise's requests (诉求).

Who sees what (`certification.commissioners`):
- a commissioner sees the enterprises on which they hold the guardian grant, nothing else (404);
- staff (county and prefecture reviewers, provincial staff) see the certified enterprises of their
  region's subtree, assign commissioners there and see the coverage of their region; they may read an
  enterprise's visits and requests but not log or answer them;
- an enterprise's members see their own requests and their commissioner.
Another tenant's object is absent, so 404.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, Subquery
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from certification import commissioners
from certification.models import (
    Certification,
    CommissionerAssignment,
    ServiceRequest,
    ServiceRequestMessage,
    Visit,
)
from enterprises.models import Enterprise
from enterprises.views import enterprise_member_required
from portal.api.errors import DomainError
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.masking import mask_phone
from portal.models import Region
from portal.views import tenant_login_required

PAGE_SIZE = 25
HOME_PAGE_SIZE = 50
EXPORT_LIMIT = 20000


def _url(name: str, request, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": request.tenant.code, **kwargs})


def _message(exc) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(exc.messages)


def _apply_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError next to the field it names."""
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
    for field, errors in items:
        for error in errors:
            form.add_error(field if field in form.fields else None, error)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# --- forms (they read and type-check input; the services decide) ----------------------------------


class LabelledErrorsForm(forms.Form):
    """A form whose field errors start with the field's label, as the services' messages do, so that the
    error summary at the top of the form names the field of every error."""

    def add_error(self, field, error):
        if field is not None and field in self.fields and not isinstance(error, dict):
            label = str(self.fields[field].label)
            messages_ = ValidationError(error).messages if not isinstance(error, str) else [error]
            error = [m if m.startswith(label) else f"{label}: {m}" for m in messages_]
        super().add_error(field, error)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class VisitForm(LabelledErrorsForm):
    visited_on = forms.DateField(label=gettext_lazy("Date of the visit"), widget=DateInput())
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=Visit.Kind.choices, initial=Visit.Kind.ONSITE
    )
    people_met = forms.CharField(
        label=gettext_lazy("People met"),
        max_length=commissioners.PEOPLE_MET_MAX,
        help_text=gettext_lazy("Names and positions, e.g. 张伟（总经理）、李娜（财务负责人）."),
    )
    problems = forms.CharField(
        label=gettext_lazy("Problems raised"),
        required=False,
        max_length=commissioners.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    follow_up = forms.CharField(
        label=gettext_lazy("Follow-up"),
        required=False,
        max_length=commissioners.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AssignForm(LabelledErrorsForm):
    commissioner = forms.TypedChoiceField(label=gettext_lazy("Service commissioner"), coerce=int)
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"),
        required=False,
        max_length=commissioners.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, eligible, reassigning: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.users = {user.pk: user for user, _post in eligible}
        self.fields["commissioner"].choices = [("", "—")] + [
            (user.pk, f"{user} · {post}") for user, post in eligible
        ]
        if reassigning:
            self.fields["reason"].required = True
            self.fields["reason"].help_text = _("Required: the reason stays in the enterprise's history.")
        else:
            self.fields["reason"].label = _("Note")

    def chosen(self):
        return self.users[self.cleaned_data["commissioner"]]


class RequestForm(LabelledErrorsForm):
    category = forms.ChoiceField(label=gettext_lazy("Category"), choices=ServiceRequest.Category.choices)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=commissioners.SUBJECT_MAX)
    body = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=commissioners.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("What you need, and by when. Your commissioner answers here."),
    )


class MessageForm(LabelledErrorsForm):
    body = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=commissioners.BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class AssignmentFilterForm(LabelledErrorsForm):
    region = forms.ChoiceField(label=gettext_lazy("Region"), required=False)
    without = forms.BooleanField(
        label=gettext_lazy("Only enterprises without a commissioner"), required=False
    )

    def __init__(self, *args, regions: list[Region], **kwargs):
        super().__init__(*args, **kwargs)
        self.regions = {r.code: r for r in regions}
        self.fields["region"].choices = [("", _("All my region"))] + [
            (r.code, ("\u3000" if r.level == Region.Level.COUNTY else "") + r.name) for r in regions
        ]

    def chosen_region(self) -> Region | None:
        if not self.is_bound or not self.is_valid():
            return None
        return self.regions.get(self.cleaned_data.get("region") or "")

    def only_without(self) -> bool:
        return self.is_bound and self.is_valid() and bool(self.cleaned_data.get("without"))


# --- the commissioner ------------------------------------------------------------------------------


def _caseload_rows(enterprises, today, interval: int) -> list[dict]:
    rows = []
    for e in enterprises:
        rows.append(
            {
                "enterprise": e,
                "days_since": (today - e.last_visit).days if e.last_visit else None,
                "due": e.reference + timedelta(days=interval) if e.reference else None,
            }
        )
    return rows


@tenant_login_required
def commissioner_home(request, tenant_code):
    """我的服务企业: the commissioner's enterprises, overdue first."""
    tenant, user = request.tenant, request.user
    today = timezone.localdate()
    interval = commissioners.visit_interval(tenant)
    qs = commissioners.caseload(user, tenant, today, interval=interval)
    page = Paginator(qs, HOME_PAGE_SIZE).get_page(request.GET.get("page"))
    if not page.object_list and not commissioners.is_commissioner_role(user, tenant):
        raise Http404  # neither a commissioner's post nor any enterprise granted
    return render(
        request,
        "certification/commissioners/home.html",
        {
            "page": page,
            "rows": _caseload_rows(page, today, interval),
            "overdue_count": qs.filter(overdue=True).count(),
            "interval": interval,
            "today": today,
            "query": _query_without_page(request),
        },
    )


@tenant_login_required
def commissioner_home_export(request, tenant_code):
    tenant, user = request.tenant, request.user
    today = timezone.localdate()
    interval = commissioners.visit_interval(tenant)
    qs = commissioners.caseload(user, tenant, today, interval=interval)
    if not commissioners.is_commissioner_role(user, tenant) and not qs.exists():
        raise Http404
    audit_record(action="commissioner.caseload_exported", actor=user, request=request)
    return xlsx_response(
        filename=f"commissioner-{tenant.code}-{today:%Y%m%d}.xlsx",
        title=_("My enterprises"),
        columns=[
            (_("Enterprise"), lambda e: e.name),
            (_("Unified social credit code"), lambda e: e.uscc),
            (_("County"), lambda e: e.county.name),
            (_("Contact person"), lambda e: e.contact_person),
            (_("Mobile phone"), lambda e: mask_phone(e.contact_phone)),
            (_("Commissioner since"), lambda e: e.assigned_on),
            (_("Last visit"), lambda e: e.last_visit),
            (_("Days since the last visit"), lambda e: (today - e.last_visit).days if e.last_visit else None),
            (
                _("Next visit due by"),
                lambda e: e.reference + timedelta(days=interval) if e.reference else None,
            ),
            (_("Overdue"), lambda e: _("yes") if e.overdue else _("no")),
            (_("Open requests"), lambda e: e.open_requests),
        ],
        rows=qs[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


def _enterprise_for(request, pk) -> tuple[Enterprise, bool]:
    """The enterprise and whether the user serves it (may log visits and reply). Staff of its region read
    it; anyone else gets 404.

    SECURITY: both querysets are limited to the tenant; a commissioner sees only granted enterprises.
    """
    tenant, user = request.tenant, request.user
    enterprise = (
        commissioners.commissioner_enterprises(user, tenant)
        .select_related("county", "industry")
        .filter(pk=pk)
        .first()
    )
    if enterprise is not None:
        return enterprise, True
    staff_qs = commissioners.in_staff_subtrees(Enterprise.objects.all(), user, tenant)
    return get_object_or_404(staff_qs.select_related("county", "industry"), pk=pk), False


def _enterprise_context(
    request, enterprise: Enterprise, serving: bool, *, visit_form=None, reply_forms=None
) -> dict:
    today = timezone.localdate()
    interval = commissioners.visit_interval(request.tenant)
    assignments = list(
        CommissionerAssignment.objects.filter(enterprise=enterprise)
        .select_related("commissioner", "assigned_by")
        .order_by("-started_on", "-id")
    )
    current = next((a for a in assignments if a.ended_on is None), None)
    visits = list(Visit.objects.filter(enterprise=enterprise).select_related("commissioner"))
    last_visit = visits[0].visited_on if visits else None
    reference = None
    if current is not None:
        reference = max(d for d in (last_visit, current.started_on) if d is not None)
    requests = list(
        ServiceRequest.objects.for_tenant(request.tenant)
        .filter(enterprise=enterprise)
        .select_related("created_by")
        .prefetch_related(
            Prefetch(
                "messages",
                queryset=ServiceRequestMessage.objects.select_related("author").order_by("created_at", "id"),
            )
        )
    )
    reply_forms = reply_forms or {}
    request_rows = [
        {
            "request": r,
            "form": reply_forms.get(r.pk) or MessageForm(prefix=f"r{r.pk}"),
            "can_act": serving and r.state != ServiceRequest.State.CLOSED,
        }
        for r in requests
    ]
    return {
        "enterprise": enterprise,
        "serving": serving,
        "current": current,
        "history": assignments,
        "certifications": list(
            Certification.objects.for_tenant(request.tenant)
            .filter(enterprise=enterprise)
            .select_related("program")
            .order_by("-issued_on")
        ),
        "visits": visits,
        "last_visit": last_visit,
        "due": reference + timedelta(days=interval) if reference else None,
        "overdue": reference is not None and reference < today - timedelta(days=interval),
        "interval": interval,
        "visit_form": visit_form or (VisitForm(initial={"visited_on": today}) if serving else None),
        "request_rows": request_rows,
        "today": today,
    }


@tenant_login_required
def commissioner_enterprise(request, tenant_code, pk):
    """An enterprise as its commissioner sees it: profile, visits (with the form to log one), requests."""
    enterprise, serving = _enterprise_for(request, pk)
    if request.method == "POST":
        if not serving:
            raise Http404
        form = VisitForm(request.POST)
        if form.is_valid():
            d = form.cleaned_data
            try:
                commissioners.visit_log(
                    enterprise=enterprise,
                    by=request.user,
                    visited_on=d["visited_on"],
                    kind=d["kind"],
                    people_met=d["people_met"],
                    problems=d["problems"],
                    follow_up=d["follow_up"],
                    request=request,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("The visit has been logged."))
                return HttpResponseRedirect(
                    _url("commissioner_enterprise", request, pk=enterprise.pk) + "#visits"
                )
        context = _enterprise_context(request, enterprise, serving, visit_form=form)
        return render(request, "certification/commissioners/enterprise.html", context, status=400)
    context = _enterprise_context(request, enterprise, serving)
    return render(request, "certification/commissioners/enterprise.html", context)


@require_POST
@tenant_login_required
def commissioner_request_act(request, tenant_code, pk):
    """The commissioner replies to a request or closes it."""
    # SECURITY: only requests of the enterprises the user serves (granted), in this tenant.
    service_request = get_object_or_404(
        ServiceRequest.objects.for_tenant(request.tenant).filter(
            enterprise__in=commissioners.commissioner_enterprises(request.user, request.tenant)
        ),
        pk=pk,
    )
    enterprise = (
        Enterprise.objects.for_tenant(request.tenant)
        .select_related("county", "industry")
        .get(pk=service_request.enterprise_id)
    )
    back = _url("commissioner_enterprise", request, pk=enterprise.pk) + f"#request-{service_request.pk}"
    op = request.POST.get("op")
    if op == "close":
        try:
            commissioners.request_close(service_request=service_request, by=request.user, request=request)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The request has been closed."))
        return HttpResponseRedirect(back)
    if op != "reply":
        raise Http404
    form = MessageForm(request.POST, prefix=f"r{service_request.pk}")
    if form.is_valid():
        try:
            commissioners.request_reply(
                service_request=service_request,
                by=request.user,
                body=form.cleaned_data["body"],
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your reply has been sent to the enterprise."))
            return HttpResponseRedirect(back)
    context = _enterprise_context(request, enterprise, True, reply_forms={service_request.pk: form})
    return render(request, "certification/commissioners/enterprise.html", context, status=400)


# --- staff: assignments ----------------------------------------------------------------------------


def _require_staff(request) -> None:
    """SECURITY: 404, not 403, so that another tenant's user learns nothing."""
    if not commissioners.is_staff(request.user, request.tenant):
        raise Http404


def _filter_regions(request) -> list[Region]:
    """Prefectures and counties under the user's staff posts, in tree order."""
    tenant, user = request.tenant, request.user
    qs = Region.objects.for_tenant(tenant).exclude(level=Region.Level.PROVINCE)
    if not user.is_superuser:
        condition = Q()
        for post in commissioners.staff_posts(user, tenant):
            condition |= Q(path__startswith=post.region.path)
        qs = qs.filter(condition) if condition else qs.none()
    return list(qs.order_by("path"))


def _assignment_list(request):
    tenant, user = request.tenant, request.user
    form = AssignmentFilterForm(request.GET or None, regions=_filter_regions(request))
    today = timezone.localdate()
    interval = commissioners.visit_interval(tenant)
    qs = commissioners.managed_enterprises(user, tenant)
    region = form.chosen_region()
    if region is not None:
        qs = qs.filter(county__path__startswith=region.path)
    current = CommissionerAssignment.objects.filter(enterprise=OuterRef("pk"), ended_on__isnull=True)
    if form.only_without():
        qs = qs.filter(~Exists(current))
    ended = (
        CommissionerAssignment.objects.filter(enterprise=OuterRef("pk"), ended_on__isnull=False)
        .order_by()
        .values("enterprise")
        .annotate(n=Count("pk"))
        .values("n")
    )
    qs = (
        commissioners.with_visit_clock(qs, today, interval)
        .annotate(earlier=Subquery(ended))
        .select_related("county")
        .prefetch_related(
            Prefetch(
                "commissioner_assignments",
                queryset=CommissionerAssignment.objects.filter(ended_on__isnull=True).select_related(
                    "commissioner"
                ),
                to_attr="current_rows",
            ),
            Prefetch(
                "certifications",
                queryset=Certification.objects.filter(status=Certification.Status.ACTIVE)
                .select_related("program")
                .order_by("issued_on", "pk"),
                to_attr="active_certifications",
            ),
        )
        .order_by("county__path", "name_pinyin", "pk")
    )
    return form, qs, interval


def _current_of(enterprise) -> CommissionerAssignment | None:
    return enterprise.current_rows[0] if enterprise.current_rows else None


@tenant_login_required
def commissioner_assignments(request, tenant_code):
    _require_staff(request)
    form, qs, interval = _assignment_list(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"enterprise": e, "current": _current_of(e)} for e in page]
    query = _query_without_page(request)
    return render(
        request,
        "certification/commissioners/assignments.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "interval": interval,
            "query": query,
            "export_url": _url("commissioner_assignments_export", request) + (f"?{query}" if query else ""),
        },
    )


@tenant_login_required
def commissioner_assignments_export(request, tenant_code):
    _require_staff(request)
    _form, qs, interval = _assignment_list(request)
    audit_record(
        action="commissioner.assignments_exported",
        actor=request.user,
        request=request,
        summary=request.GET.urlencode()[:500],
    )

    def commissioner(e):
        current = _current_of(e)
        return str(current.commissioner) if current else ""

    return xlsx_response(
        filename=f"commissioners-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Service commissioners"),
        columns=[
            (_("Enterprise"), lambda e: e.name),
            (_("Unified social credit code"), lambda e: e.uscc),
            (_("County"), lambda e: e.county.name),
            (_("Certificates"), lambda e: "、".join(c.number for c in e.active_certifications)),
            (_("Programmes"), lambda e: "、".join(c.program.name for c in e.active_certifications)),
            (_("Service commissioner"), commissioner),
            (
                _("Mobile phone"),
                lambda e: mask_phone(_current_of(e).commissioner.phone) if _current_of(e) else "",
            ),
            (_("Commissioner since"), lambda e: e.assigned_on),
            (_("Last visit"), lambda e: e.last_visit),
            (_("Overdue"), lambda e: _("yes") if e.overdue else _("no")),
            (_("Open requests"), lambda e: e.open_requests),
            (_("Earlier commissioners"), lambda e: e.earlier or 0),
        ],
        rows=qs[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


@tenant_login_required
def commissioner_assign(request, tenant_code, pk):
    """Assign or change the commissioner of one certified enterprise of the official's region."""
    _require_staff(request)
    # SECURITY: only certified enterprises in the user's staff subtrees, in this tenant.
    enterprise = get_object_or_404(
        commissioners.managed_enterprises(request.user, request.tenant).select_related("county", "tenant"),
        pk=pk,
    )
    history = list(
        CommissionerAssignment.objects.filter(enterprise=enterprise)
        .select_related("commissioner", "assigned_by")
        .order_by("-started_on", "-id")
    )
    current = next((a for a in history if a.ended_on is None), None)
    eligible = [
        (user, post)
        for user, post in commissioners.eligible_commissioners(enterprise)
        if current is None or user.pk != current.commissioner_id
    ]
    form = AssignForm(request.POST or None, eligible=eligible, reassigning=current is not None)
    if request.method == "POST" and form.is_valid():
        try:
            commissioners.commissioner_assign(
                enterprise=enterprise,
                commissioner=form.chosen(),
                by=request.user,
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("%(name)s is now the service commissioner of %(enterprise)s.")
                % {"name": form.chosen(), "enterprise": enterprise.name},
            )
            return HttpResponseRedirect(_url("commissioner_assign", request, pk=enterprise.pk))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "certification/commissioners/assign.html",
        {"enterprise": enterprise, "current": current, "history": history, "form": form},
        status=status,
    )


# --- staff: coverage -------------------------------------------------------------------------------


def _coverage_region(request) -> Region:
    tenant = request.tenant
    code = request.GET.get("region") or ""
    if code:
        region = get_object_or_404(Region.objects.for_tenant(tenant), code=code)
        if not commissioners.may_see_region(request.user, tenant, region):
            raise Http404
        return region
    regions = commissioners.coverage_regions(request.user, tenant)
    if not regions:
        raise Http404
    return regions[0]


def coverage_chart(rows: list, *, width: int = 420, row_height: int = 28) -> dict:
    """Geometry of the coverage chart (server-side SVG): per region, one bar of its certified enterprises
    split into visited within the interval, overdue, not yet due, and without a commissioner."""
    scale = max([1] + [r.certified for r in rows])
    label_w, gap = 150, 10
    colours = [
        ("visited", "#2e7d32"),
        ("overdue", "#c62828"),
        ("pending", "#7a5a00"),
        ("unassigned", "#9aa4ae"),
    ]
    out = []
    for i, r in enumerate(rows):
        top = i * row_height + 4
        x = label_w + gap
        segments = []
        for field, colour in colours:
            value = getattr(r, field)
            if value:
                w = round(value * width / scale, 1)
                segments.append({"x": round(x, 1), "w": w, "fill": colour, "field": field, "value": value})
                x += w
        out.append({"name": r.region.name, "y": top, "text_y": top + 15, "segments": segments, "row": r})
    return {
        "rows": out,
        "height": len(out) * row_height + 8,
        "width": label_w + gap + width + 110,
        "bar_x": label_w + gap,
        "track_w": width,
        "value_x": label_w + gap + width + 8,
    }


def _coverage(request):
    _require_staff(request)
    tenant = request.tenant
    region = _coverage_region(request)
    today = timezone.localdate()
    interval = commissioners.visit_interval(tenant)
    rows = commissioners.coverage_by_region(request.user, tenant, region, today, interval=interval)
    return region, rows, interval, today


@tenant_login_required
def commissioner_coverage(request, tenant_code):
    region, rows, interval, today = _coverage(request)
    tenant = request.tenant
    # Breadcrumbs: the regions above that the user may also look at.
    trail = [r for r in region.ancestors() if commissioners.may_see_region(request.user, tenant, r)]
    table = []
    for row in rows:
        if row.region.pk == region.pk:
            drill = _url("commissioner_assignments", request) + "?" + urlencode({"region": region.code})
        else:
            drill = _url("commissioner_coverage", request) + "?" + urlencode({"region": row.region.code})
        table.append({"row": row, "drill": drill})
    return render(
        request,
        "certification/commissioners/coverage.html",
        {
            "region": region,
            "trail": trail,
            "table": table,
            "total": commissioners.coverage_total(region, rows),
            "chart": coverage_chart(rows),
            "interval": interval,
            "today": today,
            "export_url": _url("commissioner_coverage_export", request)
            + "?"
            + urlencode({"region": region.code}),
            "assignments_url": _url("commissioner_assignments", request)
            + ("?" + urlencode({"region": region.code}) if region.level != Region.Level.PROVINCE else ""),
        },
    )


@tenant_login_required
def commissioner_coverage_export(request, tenant_code):
    region, rows, interval, today = _coverage(request)
    audit_record(
        action="commissioner.coverage_exported", actor=request.user, request=request, summary=region.code
    )
    total = commissioners.coverage_total(region, rows)
    total_label = _("Total: %(region)s") % {"region": region.name}
    return xlsx_response(
        filename=f"commissioner-coverage-{request.tenant.code}-{region.code}-{today:%Y%m%d}.xlsx",
        title=_("Visit coverage"),
        columns=[
            (_("Region"), lambda r: total_label if r is total else r.region.name),
            (_("Division code"), lambda r: r.region.code),
            (_("Certified enterprises"), lambda r: r.certified),
            (_("With a commissioner"), lambda r: r.with_commissioner),
            (_("Without a commissioner"), lambda r: r.without_commissioner),
            (_("Visited within %(days)d days") % {"days": interval}, lambda r: r.visited),
            (_("Overdue"), lambda r: r.overdue),
            (_("Visited (%)"), lambda r: r.visited_percent),
            (_("Open requests"), lambda r: r.open_requests),
        ],
        rows=[*rows, total],
    )


# --- the enterprise --------------------------------------------------------------------------------


def _member_request(request, enterprise, pk) -> ServiceRequest:
    # SECURITY: only the member's own enterprise's requests, in this tenant.
    return get_object_or_404(
        ServiceRequest.objects.for_tenant(request.tenant).filter(enterprise=enterprise), pk=pk
    )


@enterprise_member_required()
def service_requests(request, tenant_code, enterprise):
    """The enterprise's requests to its commissioner, and who the commissioner is."""
    qs = (
        ServiceRequest.objects.for_tenant(request.tenant)
        .filter(enterprise=enterprise)
        .annotate(message_count=Count("messages"))
        .order_by("-created_at", "-id")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "certification/commissioners/requests.html",
        {
            "enterprise": enterprise,
            "commissioner": commissioners.current_commissioner(enterprise),
            "page": page,
            "query": _query_without_page(request),
        },
    )


@enterprise_member_required()
def service_request_new(request, tenant_code, enterprise):
    commissioner = commissioners.current_commissioner(enterprise)
    form = RequestForm(request.POST or None)
    if request.method == "POST" and commissioner is not None and form.is_valid():
        d = form.cleaned_data
        try:
            service_request = commissioners.request_open(
                enterprise=enterprise,
                by=request.user,
                category=d["category"],
                subject=d["subject"],
                body=d["body"],
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Your request has been sent to %(name)s.") % {"name": commissioner})
            return HttpResponseRedirect(_url("service_request_detail", request, pk=service_request.pk))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "certification/commissioners/request_new.html",
        {"enterprise": enterprise, "commissioner": commissioner, "form": form},
        status=status,
    )


@enterprise_member_required()
def service_request_detail(request, tenant_code, pk, enterprise):
    service_request = _member_request(request, enterprise, pk)
    form = MessageForm()
    status = 200
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "close":
                commissioners.request_close(service_request=service_request, by=request.user, request=request)
                messages.success(request, _("The request has been closed."))
                return HttpResponseRedirect(_url("service_request_detail", request, pk=service_request.pk))
            if op != "follow_up":
                raise Http404
            form = MessageForm(request.POST)
            if form.is_valid():
                commissioners.request_follow_up(
                    service_request=service_request,
                    by=request.user,
                    body=form.cleaned_data["body"],
                    request=request,
                )
                messages.success(request, _("Your message has been sent to your service commissioner."))
                return HttpResponseRedirect(_url("service_request_detail", request, pk=service_request.pk))
        except ValidationError as exc:
            _apply_errors(form, exc)
        except DomainError as exc:
            form.add_error(None, exc.message)
        status = 400
        service_request.refresh_from_db()
    thread = list(service_request.messages.select_related("author").order_by("created_at", "id"))
    return render(
        request,
        "certification/commissioners/request_detail.html",
        {
            "enterprise": enterprise,
            "service_request": service_request,
            "thread": thread,
            "form": form,
            "commissioner": commissioners.current_commissioner(enterprise),
            "is_closed": service_request.state == ServiceRequest.State.CLOSED,
        },
        status=status,
    )
