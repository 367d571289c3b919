"""What the funding pages share: who reaches the officers' pages, errors onto forms, links and lists.

SECURITY: the officers' pages are for funding officers and tenant administrators (`is_funding_official`);
anyone else finds no such page (404). Objects are looked up through the scoped selectors
(funding.selectors), so another tenant's object, or one outside the official's region, is a 404 too.
Who may *act* is decided by the services and their guards (entitlement_can, batch_can), never here.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from funding.permissions import funding_posts, is_funding_official, is_tenant_admin
from portal.api.errors import DomainError

PAGE_SIZE = 25
EXPORT_LIMIT = 20000


def url(name: str, request, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": request.tenant.code, **kwargs})


def redirect(name: str, request, anchor: str = "", **kwargs) -> HttpResponseRedirect:
    return HttpResponseRedirect(url(name, request, **kwargs) + anchor)


def require_funding_official(request) -> None:
    # SECURITY: anyone else finds no such page, whatever the object.
    if not is_funding_official(request.user, request.tenant):
        raise Http404


def require_tenant_admin(request) -> None:
    if not is_tenant_admin(request.user, request.tenant):
        raise Http404


def paying_region_ids(request) -> set[int]:
    """The regions whose awards the user acts on (its funding-officer posts): one lookup per request,
    so a list decides per row without a query."""
    return {p.region_id for p in funding_posts(request.user, request.tenant)}


def message(exc) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(exc.messages)


def errors_onto(form, exc: ValidationError) -> None:
    """A service's ValidationError onto the form: each message by the field it names, the rest on top."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def error_summary(form) -> list[dict]:
    """The errors of a bound form for the summary at the top of the page, each linked to its field."""
    if form is None or not form.is_bound:
        return []
    rows = [{"label": "", "message": str(e), "href": ""} for e in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        field = form[name]
        rows += [
            {"label": str(field.label), "message": str(e), "href": f"#{field.id_for_label or field.auto_id}"}
            for e in errors
        ]
    return rows


def query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def safe_next(request, default: str) -> str:
    """Where a quick action on a list returns: the `next` it names when it is a page of this tenant's
    funding section, else `default`."""
    target = request.POST.get("next") or ""
    prefix = f"/{request.tenant.code}/funding/"
    if (
        target.startswith(prefix)
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
        and "\\" not in target
    ):
        return target
    return default


def posted(request):
    """The POST data of a form post, else None (an unbound form). Not `request.POST or None`: a post
    with every field empty is an empty QueryDict, which is falsy, and would show a fresh form."""
    return request.POST if request.method == "POST" else None
