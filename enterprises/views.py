"""Pages of enterprises (their own workspace) and of officials (the enterprises in their region)."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext
from django.views.decorators.http import require_POST

from enterprises import services
from enterprises.derived import derived_values, yearly_rows
from enterprises.facts import enterprise_facts, fiscal_years
from enterprises.figures_excel import figures_import, figures_workbook
from enterprises.forms import (
    EnterpriseSearchForm,
    FiguresForm,
    FiguresImportForm,
    InviteForm,
    IPItemForm,
    MemberRoleForm,
    ProfileForm,
    QualificationForm,
    RegistrationForm,
)
from enterprises.models import (
    AnnualFigures,
    Enterprise,
    Industry,
    Invitation,
    IPItem,
    Membership,
    Qualification,
)
from enterprises.permissions import enterprises_visible_to, is_enterprise_admin, membership, user_enterprise
from enterprises.size_class import SizeClass
from portal import permissions as portal_permissions
from portal.audit import audit_record
from portal.exports import XLSX, xlsx_response
from portal.masking import mask_phone
from portal.models import Region
from portal.views import tenant_login_required


def _url(name: str, request, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": request.tenant.code, **kwargs})


def _apply_errors(form, exc: ValidationError) -> None:
    """Put a service's ValidationError on the form, by field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def enterprise_member_required(admin: bool = False):
    """The view gets `enterprise` (the user's, in this tenant); without one, the user is sent to register."""

    def decorator(view):
        @tenant_login_required
        @wraps(view)
        def wrapped(request, tenant_code, *args, **kwargs):
            enterprise = user_enterprise(request.user, request.tenant)
            if enterprise is None:
                messages.info(request, _("Your account does not act for an enterprise in this portal yet."))
                return HttpResponseRedirect(_url("dashboard", request))
            if admin and not is_enterprise_admin(request.user, enterprise):
                raise PermissionDenied(_("Only the enterprise's administrators can do this."))
            return view(request, tenant_code, *args, enterprise=enterprise, **kwargs)

        return wrapped

    return decorator


def industry_options():
    return Industry.objects.filter(level=Industry.Level.CLASS).only("code", "name").order_by("code")


# --- registration ------------------------------------------------------------------


def register(request, tenant_code):
    if request.user.is_authenticated:
        messages.info(request, _("You are signed in. Sign out to register another enterprise."))
        return HttpResponseRedirect(_url("dashboard", request))
    form = RegistrationForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            user, enterprise = services.enterprise_register(
                tenant=request.tenant,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                request=request,
                **form.enterprise_fields(),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                _("Your enterprise is registered. We have sent a verification link to %(email)s.")
                % {"email": enterprise.contact_email},
            )
            return HttpResponseRedirect(_url("enterprise_home", request))
    return render(request, "enterprises/register.html", {"form": form, "industries": industry_options()})


def verify_email(request, tenant_code, token):
    try:
        enterprise = services.email_verify(tenant=request.tenant, token=token, request=request)
    except ValidationError as exc:
        return render(request, "enterprises/verify_email.html", {"error": exc.messages[0]}, status=400)
    return render(request, "enterprises/verify_email.html", {"enterprise": enterprise})


@require_POST
@enterprise_member_required()
def resend_verification(request, tenant_code, enterprise):
    if not enterprise.email_verified:
        services.email_verification_send(enterprise=enterprise, request=request)
        messages.success(
            request,
            _("We have sent a new verification link to %(email)s.") % {"email": enterprise.contact_email},
        )
    return HttpResponseRedirect(_url("enterprise_home", request))


def invitation(request, tenant_code, token):
    invite = (
        Invitation.objects.select_related("enterprise")
        .filter(token=token, enterprise__tenant=request.tenant)
        .first()
    )
    if invite is None or not invite.is_open:
        return render(request, "enterprises/invitation.html", {"invalid": True}, status=404)
    if request.method == "POST":
        if not request.user.is_authenticated:
            login_url = _url("login", request)
            return HttpResponseRedirect(f"{login_url}?next={request.path}")
        try:
            services.invitation_accept(token=token, user=request.user, request=request)
        except ValidationError as exc:
            return render(
                request,
                "enterprises/invitation.html",
                {"invalid": True, "error": exc.messages[0]},
                status=400,
            )
        messages.success(request, _("You now act for %(name)s.") % {"name": invite.enterprise.name})
        return HttpResponseRedirect(_url("enterprise_home", request))
    return render(request, "enterprises/invitation.html", {"invite": invite})


# --- the enterprise's own workspace ---------------------------------------------------


def _overview_context(enterprise: Enterprise) -> dict:
    today = timezone.localdate()
    facts = enterprise_facts(enterprise, as_of=today)
    derived = derived_values(facts)
    years = sorted(fiscal_years(today))
    by_year = {f.fiscal_year: f for f in enterprise.figures.all()}
    return {
        "facts": facts,
        "derived": derived,
        "size": derived["size_class_result"],
        "rows": yearly_rows(by_year, years),
        "years": years,
    }


def _load(enterprise: Enterprise) -> Enterprise:
    return (
        Enterprise.objects.filter(pk=enterprise.pk)
        .select_related("county__parent", "industry", "tenant")
        .prefetch_related(
            "figures",
            "ip_items",
            "qualifications",
            Prefetch("memberships", queryset=Membership.objects.select_related("user")),
        )
        .get()
    )


@enterprise_member_required()
def home(request, tenant_code, enterprise):
    enterprise = _load(enterprise)
    context = _overview_context(enterprise)
    context.update(
        {
            "enterprise": enterprise,
            "is_admin": is_enterprise_admin(request.user, enterprise),
            "documents": enterprise.documents.order_by("-uploaded_at")[:10],
            "invitations": [i for i in enterprise.invitations.order_by("-created_at")[:20] if i.is_open],
            "submit_blocker": services.enterprise_can_submit(enterprise),
            "ip_rows": _ip_rows(enterprise),
        }
    )
    return render(request, "enterprises/home.html", context)


def _ip_rows(enterprise):
    from enterprises.ip_class import ip_class

    today = timezone.localdate()
    return [(item, ip_class(item, as_of=today)) for item in enterprise.ip_items.all()]


@enterprise_member_required(admin=True)
def profile_edit(request, tenant_code, enterprise):
    form = ProfileForm(
        request.POST or None, instance=Enterprise.objects.get(pk=enterprise.pk), tenant=request.tenant
    )
    lock = services.identity_lock_reason(enterprise)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            services.enterprise_update_profile(
                enterprise=enterprise, by=request.user, data=data, request=request
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("The profile has been saved."))
            return HttpResponseRedirect(_url("enterprise_home", request))
    return render(
        request,
        "enterprises/profile_form.html",
        {"form": form, "lock": lock, "industries": industry_options()},
    )


@enterprise_member_required()
def figures(request, tenant_code, enterprise):
    """The three-year table, and a form for one year (?year=2025). Members may enter figures."""
    years = sorted(fiscal_years(timezone.localdate()))
    try:
        year = int(request.GET.get("year") or request.POST.get("fiscal_year") or years[-1])
    except ValueError:
        year = years[-1]
    instance = AnnualFigures.objects.filter(enterprise=enterprise, fiscal_year=year).first()
    form = FiguresForm(
        request.POST or None,
        instance=instance or AnnualFigures(enterprise=enterprise),
        initial={"fiscal_year": year},
    )
    if request.method == "POST" and form.is_valid():
        values = {n: form.cleaned_data.get(n) for n in AnnualFigures.FIELDS}
        try:
            services.figures_save(
                enterprise=enterprise,
                by=request.user,
                fiscal_year=form.cleaned_data["fiscal_year"],
                values=values,
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            for warning in form.warnings:
                messages.warning(request, warning)
            messages.success(
                request,
                _("The figures for %(year)d have been saved.") % {"year": form.cleaned_data["fiscal_year"]},
            )
            return HttpResponseRedirect(
                _url("enterprise_figures", request) + f"?year={form.cleaned_data['fiscal_year']}"
            )
    enterprise = _load(enterprise)
    context = _overview_context(enterprise)
    context.update({"enterprise": enterprise, "form": form, "year": year, "import_form": FiguresImportForm()})
    return render(request, "enterprises/figures.html", context)


@enterprise_member_required()
def figures_template(request, tenant_code, enterprise):
    data = figures_workbook(enterprise, with_data=request.GET.get("data") == "1")
    response = HttpResponse(data, content_type=XLSX)
    name = "figures.xlsx" if request.GET.get("data") == "1" else "figures-template.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    if request.GET.get("data") == "1":
        audit_record(
            action="enterprise.figures_exported", actor=request.user, obj=enterprise, request=request
        )
    return response


@require_POST
@enterprise_member_required()
def figures_upload(request, tenant_code, enterprise):
    form = FiguresImportForm(request.POST, request.FILES)
    result = None
    if form.is_valid():
        result = figures_import(
            enterprise=enterprise, by=request.user, content=form.cleaned_data["file"].read(), request=request
        )
        if not result.errors:
            for warning in result.warnings:
                messages.warning(request, warning)
            messages.success(
                request,
                ngettext("%(n)d year of figures imported.", "%(n)d years of figures imported.", result.saved)
                % {"n": result.saved},
            )
            return HttpResponseRedirect(_url("enterprise_figures", request))
    enterprise = _load(enterprise)
    context = _overview_context(enterprise)
    years = context["years"]
    context.update(
        {
            "enterprise": enterprise,
            "import_form": form,
            "import_result": result,
            "year": years[-1],
            "form": FiguresForm(
                instance=AnnualFigures(enterprise=enterprise), initial={"fiscal_year": years[-1]}
            ),
        }
    )
    return render(request, "enterprises/figures.html", context, status=400)


def _child_view(request, enterprise, *, model, form_class, pk, save, title, back):
    obj = get_object_or_404(model, pk=pk, enterprise=enterprise) if pk else model(enterprise=enterprise)
    form = form_class(request.POST or None, instance=obj)
    if request.method == "POST" and form.is_valid():
        try:
            save(form.save(commit=False))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return HttpResponseRedirect(_url("enterprise_home", request) + back)
    return render(
        request, "enterprises/child_form.html", {"form": form, "title": title, "back": back, "obj": obj}
    )


@enterprise_member_required()
def ip_edit(request, tenant_code, enterprise, pk=None):
    return _child_view(
        request,
        enterprise,
        model=IPItem,
        form_class=IPItemForm,
        pk=pk,
        title=_("Intellectual property"),
        back="#ip",
        save=lambda item: services.ip_item_save(item=item, by=request.user, request=request),
    )


@enterprise_member_required()
def qualification_edit(request, tenant_code, enterprise, pk=None):
    return _child_view(
        request,
        enterprise,
        model=Qualification,
        form_class=QualificationForm,
        pk=pk,
        title=_("Qualification"),
        back="#qualifications",
        save=lambda q: services.qualification_save(qualification=q, by=request.user, request=request),
    )


@require_POST
@enterprise_member_required()
def child_delete(request, tenant_code, enterprise, kind, pk):
    model = {"ip": IPItem, "qualification": Qualification}.get(kind)
    if model is None:
        raise Http404
    obj = get_object_or_404(model, pk=pk, enterprise=enterprise)
    services.child_delete(obj=obj, by=request.user, request=request)
    messages.success(request, _("Deleted."))
    return HttpResponseRedirect(
        _url("enterprise_home", request) + ("#ip" if kind == "ip" else "#qualifications")
    )


@enterprise_member_required()
def members(request, tenant_code, enterprise):
    admin = is_enterprise_admin(request.user, enterprise)
    form = InviteForm(request.POST or None)
    if request.method == "POST":
        if not admin:
            raise PermissionDenied(_("Only the enterprise's administrators can do this."))
        if form.is_valid():
            try:
                services.member_invite(
                    enterprise=enterprise,
                    by=request.user,
                    email=form.cleaned_data["email"],
                    role=form.cleaned_data["role"],
                    request=request,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(
                    request,
                    _("The invitation has been sent to %(email)s.") % {"email": form.cleaned_data["email"]},
                )
                return HttpResponseRedirect(_url("enterprise_members", request))
    return render(
        request,
        "enterprises/members.html",
        {
            "enterprise": enterprise,
            "is_admin": admin,
            "form": form,
            "members": enterprise.memberships.select_related("user").order_by("created_at"),
            "invitations": [i for i in enterprise.invitations.order_by("-created_at")[:50] if i.is_open],
            "role_form": MemberRoleForm(),
        },
    )


@require_POST
@enterprise_member_required()
def member_action(request, tenant_code, enterprise, pk, action):
    target = get_object_or_404(Membership, pk=pk, enterprise=enterprise)
    me = membership(request.user, enterprise)
    leaving = action == "remove" and target.pk == me.pk
    if not leaving and not me.is_admin:
        raise PermissionDenied(_("Only the enterprise's administrators can do this."))
    try:
        if action == "role":
            form = MemberRoleForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Choose a role."))
            services.member_set_role(
                membership=target, by=request.user, role=form.cleaned_data["role"], request=request
            )
        elif action == "remove":
            services.member_remove(membership=target, by=request.user, request=request)
        else:
            raise Http404
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(_url("enterprise_members", request))
    if leaving:
        messages.success(request, _("You no longer act for %(name)s.") % {"name": enterprise.name})
        return HttpResponseRedirect(_url("dashboard", request))
    messages.success(request, _("Saved."))
    return HttpResponseRedirect(_url("enterprise_members", request))


@require_POST
@enterprise_member_required(admin=True)
def invitation_revoke(request, tenant_code, enterprise, pk):
    invite = get_object_or_404(Invitation, pk=pk, enterprise=enterprise)
    Invitation.objects.filter(pk=invite.pk, revoked_at=None).update(revoked_at=timezone.now())
    audit_record(
        action="enterprise.invitation_revoked",
        actor=request.user,
        obj=enterprise,
        summary=invite.email,
        request=request,
    )
    return HttpResponseRedirect(_url("enterprise_members", request))


# --- officials ---------------------------------------------------------------------


def official_enterprises(request):
    """The enterprises an official sees, filtered by the search form. Constant queries per page."""
    tenant = request.tenant
    visible = Region.objects.visible_to(request.user, tenant).filter(level=Region.Level.COUNTY)
    form = EnterpriseSearchForm(
        request.GET or None,
        counties=visible.order_by("code"),
        size_choices=[(s.value, s.label) for s in SizeClass],
    )
    qs = enterprises_visible_to(request.user, tenant).select_related("county__parent", "industry")
    if form.is_valid():
        d = form.cleaned_data
        if d["q"]:
            from enterprises.validators import normalize_uscc

            qs = qs.filter(Q(name__icontains=d["q"].strip()) | Q(uscc=normalize_uscc(d["q"])))
        if d["county"]:
            qs = qs.filter(county=d["county"])
        if d["industry"]:
            qs = qs.filter(industry__code__startswith=d["industry"].strip().upper())
        if d["size_class"]:
            qs = qs.filter(size_class=d["size_class"])
    return form, qs.order_by("name", "pk")


@tenant_login_required
def enterprise_list(request, tenant_code):
    if not portal_permissions.is_official(request.user, request.tenant):
        raise Http404
    form, qs = official_enterprises(request)
    if request.GET.get("format") == "xlsx":
        audit_record(
            action="enterprise.list_exported",
            actor=request.user,
            request=request,
            summary=request.GET.urlencode(),
        )
        sizes = {s.value: s.label for s in SizeClass}
        return xlsx_response(
            filename=f"enterprises-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
            title=pgettext("officials' list", "Enterprises"),
            columns=[
                (_("Legal name"), lambda e: e.name),
                (_("Unified social credit code"), lambda e: e.uscc),
                (_("Prefecture"), lambda e: e.county.parent.name if e.county.parent else ""),
                (_("County"), lambda e: e.county.name),
                (_("Industry"), lambda e: str(e.industry)),
                (_("Size class"), lambda e: str(sizes.get(e.size_class, e.size_class))),
                (_("Contact person"), lambda e: e.contact_person),
                (_("Mobile phone"), lambda e: mask_phone(e.contact_phone)),
                (_("Registered"), lambda e: e.created_at),
            ],
            rows=qs[:20000].iterator(chunk_size=500),
        )
    try:
        per_page = max(10, min(200, int(request.GET.get("per_page", 50))))
    except ValueError:
        per_page = 50
    page = Paginator(qs, per_page).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "enterprises/official_list.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "sizes": {s.value: s.label for s in SizeClass},
        },
    )


@tenant_login_required
def enterprise_detail(request, tenant_code, pk):
    if not portal_permissions.is_official(request.user, request.tenant):
        raise Http404
    enterprise = get_object_or_404(enterprises_visible_to(request.user, request.tenant), pk=pk)
    enterprise = _load(enterprise)
    context = _overview_context(enterprise)
    context.update(
        {
            "enterprise": enterprise,
            "documents": enterprise.documents.filter(scan_status="clean").order_by("-uploaded_at"),
            "ip_rows": _ip_rows(enterprise),
            "official_view": True,
        }
    )
    return render(request, "enterprises/official_detail.html", context)
