"""Pages of the portal core: home pages, sign-in, the role landing page, jurisdiction, audit, inbox."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from portal import permissions
from portal.audit import audit_record, note_denial
from portal.auth.views import SecondFactorLoginMixin
from portal.exports import xlsx_response
from portal.filters import AuditEventFilter
from portal.models import AuditEvent, Notification, Post, Region, Tenant
from portal.navigation import dashboard_cards


def tenant_login_required(view):
    """Send an anonymous visitor to this tenant's sign-in page, then back."""

    def wrapped(request, tenant_code, *args, **kwargs):
        if not request.user.is_authenticated:
            login = reverse("login", kwargs={"tenant_code": tenant_code})
            return HttpResponseRedirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        return view(request, tenant_code, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def platform_home(request):
    tenants = Tenant.objects.filter(is_active=True).select_related("root_region")
    return render(request, "portal/platform_home.html", {"tenants": tenants})


def tenant_home(request, tenant_code):
    tenant = request.tenant
    stats = Region.objects.for_tenant(tenant).values("level").annotate(n=Count("id"))
    counts = {row["level"]: row["n"] for row in stats}
    return render(request, "portal/tenant_home.html", {"region_counts": counts})


class TenantLoginView(SecondFactorLoginMixin, auth_views.LoginView):
    """Password first (axes counts failures, reliability.md A4); then the second factor where needed (A9)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_success_url(self):
        url = self.get_redirect_url()
        return url or reverse("dashboard", kwargs={"tenant_code": self.request.tenant.code})


@require_POST
def tenant_logout(request, tenant_code):
    from django.contrib.auth import logout

    logout(request)
    messages.info(request, _("You have signed out."))
    return HttpResponseRedirect(reverse("tenant_home", kwargs={"tenant_code": tenant_code}))


def _capability_url(cap: permissions.Capability, tenant: Tenant) -> str:
    if not cap.url_name:
        return ""
    if cap.url_name == "admin":
        return reverse("admin:index")
    try:
        return reverse(cap.url_name, kwargs={"tenant_code": tenant.code})
    except NoReverseMatch:
        return ""


@tenant_login_required
def dashboard(request, tenant_code):
    """The landing page of a signed-in user: one card per post with what that post can do."""
    tenant = request.tenant
    cards = []
    for post in request.user.posts_in(tenant):
        cards.append(
            {
                "post": post,
                "capabilities": [
                    (cap, _capability_url(cap, tenant)) for cap in permissions.capabilities_for(post)
                ],
            }
        )
    return render(request, "portal/dashboard.html", {"cards": cards, "extra_cards": dashboard_cards(request)})


def _require_official(request):
    if not permissions.is_official(request.user, request.tenant):
        # SECURITY: a user without a post in this tenant learns nothing about its officials.
        raise Http404(_("This page is for officials of this portal."))


@tenant_login_required
def region_list(request, tenant_code):
    """The regions under the user's posts, as a tree two levels deep."""
    _require_official(request)
    tenant = request.tenant
    visible = Region.objects.visible_to(request.user, tenant)
    tops = visible.exclude(parent__in=visible).order_by("code")
    children = {}
    for region in visible.filter(parent__in=tops).order_by("code"):
        children.setdefault(region.parent_id, []).append(region)
    tree = [(top, children.get(top.pk, [])) for top in tops]
    return render(request, "portal/region_list.html", {"tree": tree, "count": visible.count()})


@tenant_login_required
def region_detail(request, tenant_code, code):
    _require_official(request)
    tenant = request.tenant
    region = get_object_or_404(
        Region.objects.visible_to(request.user, tenant).select_related("parent"), code=code
    )
    posts = (
        Post.objects.for_tenant(tenant)
        .filter(region=region, is_active=True)
        .select_related("user")
        .order_by("role")
    )
    return render(
        request,
        "portal/region_detail.html",
        {
            "region": region,
            "ancestors": region.ancestors(),
            "children": region.children.order_by("code"),
            "posts": posts,
        },
    )


@tenant_login_required
def audit_log(request, tenant_code):
    """Tenant admins filter and export every recorded action of their tenant."""
    tenant = request.tenant
    if not permissions.is_tenant_admin(request.user, tenant):
        raise PermissionDenied(_("Only the tenant administrator can read the audit log."))
    events = AuditEvent.objects.for_tenant(tenant).order_by("-occurred_at", "-id")
    filterset = AuditEventFilter(request.GET or None, queryset=events)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else events
    if request.GET.get("format") == "xlsx":
        audit_record(
            action="audit.exported", actor=request.user, request=request, summary=request.GET.urlencode()
        )
        return xlsx_response(
            filename=f"audit-{tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
            title=_("Audit log"),
            columns=[
                (_("When"), lambda e: e.occurred_at),
                (_("Actor"), lambda e: e.actor_label),
                (_("Action"), lambda e: e.action),
                (_("Object type"), lambda e: e.object_type),
                (_("Object id"), lambda e: e.object_id),
                (_("Summary"), lambda e: e.summary),
                (_("IP address"), lambda e: e.ip_address),
                (_("Outcome"), lambda e: e.outcome),
            ],
            rows=qs[:50000].iterator(),
        )
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "portal/audit_log.html",
        {
            "filter": filterset if filterset.is_bound else AuditEventFilter(queryset=events),
            "page": page,
            "query": query.urlencode(),
        },
    )


@tenant_login_required
def inbox(request, tenant_code):
    notes = Notification.objects.for_tenant(request.tenant).filter(recipient=request.user)
    page = Paginator(notes, 30).get_page(request.GET.get("page"))
    return render(request, "portal/inbox.html", {"page": page})


@tenant_login_required
@require_POST
def notification_open(request, tenant_code, pk):
    note = get_object_or_404(
        Notification.objects.for_tenant(request.tenant).filter(recipient=request.user), pk=pk
    )
    if note.read_at is None:
        Notification.objects.filter(pk=note.pk, read_at=None).update(read_at=timezone.now())
    target = note.link
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(reverse("inbox", kwargs={"tenant_code": tenant_code}))


# Error pages say what a person needs and nothing more: the exception text (model
# names, lookups) stays out of them so that nothing about other tenants leaks.
def _api_error(request, status: int, code: str, message: str):
    """The API's error format (portal.api.errors) for errors raised before DRF sees the request."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"status": status, "code": code, "message": str(message)}}, status=status
        )
    return None


def bad_request(request, exception=None):
    """A request Django refuses before any view (too many fields, a body too large, a bad host)."""
    from django.views.defaults import bad_request as html_bad_request

    return _api_error(request, 400, "bad_request", _("The request is not valid.")) or html_bad_request(
        request, exception
    )


def not_found(request, exception=None):
    return _api_error(request, 404, "not_found", _("Not found.")) or render(request, "404.html", status=404)


def permission_denied(request, exception=None):
    # The middleware writes the audit row of every 403 (portal.audit_middleware); this adds the reason.
    note_denial(request, exception)
    return _api_error(
        request, 403, "permission_denied", _("You do not have permission to perform this action.")
    ) or render(request, "403.html", status=403)


def server_error(request):
    return _api_error(request, 500, "server_error", _("Server error")) or render(
        request, "500.html", status=500
    )
