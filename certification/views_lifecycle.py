"""Dynamic-management pages: a certification's lifecycle, re-verification (复核), revocation (撤销) and the
tenant's settings.

The enterprise sees its own certifications and re-verifications (another enterprise's, or another tenant's,
is a 404). Officials see what lies in the subtree of their posts (`visible_to`; 404 otherwise); who may act
comes from certification.lifecycle (`reverification_actions`, `can_revoke`), never from these views. Drafts
of re-verifications are the enterprise's own until filed: officials never see them.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from django.views.decorators.http import require_POST

from certification import lifecycle, lifecycle_config, lifecycle_evidence
from certification.forms_lifecycle import (
    EVIDENCE_MAX_BYTES,
    QUEUE_TABS,
    ActForm,
    AttachForm,
    CertificationFilterForm,
    LifecycleSettingsForm,
    ReverificationFilterForm,
    RevocationConfirmForm,
    RevocationFilterForm,
    RevocationForm,
    StatementForm,
)
from certification.models import (
    ApplyBar,
    Certification,
    DailyRun,
    Level,
    LifecycleEvent,
    Program,
    Reverification,
    Revocation,
    RevocationEvidence,
    Screening,
)
from certification.transitions import REVIEW_ROLES
from certification.upload_limits import limit_uploads, oversize_error
from enterprises.facts import FACT_LABELS
from enterprises.models import Document, Enterprise
from enterprises.views import enterprise_member_required
from portal import permissions as portal_permissions
from portal.api.errors import DomainError
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.models import Region
from portal.views import tenant_login_required

log = logging.getLogger(__name__)

S = Reverification.State
CS = Certification.Status
K = LifecycleEvent.Kind
PAGE_SIZE = 25
EXPORT_LIMIT = 20000
EXPIRING_WITHIN_DAYS = 90
DAILY_RUNS_SHOWN = 14

ACTION_LABELS = {
    lifecycle.RETURN: gettext_lazy("Return for changes"),
    lifecycle.RECOMMEND: gettext_lazy("Recommend to the next level"),
    lifecycle.RENEW: gettext_lazy("Renew for three years"),
    lifecycle.REJECT: gettext_lazy("Reject (revokes the certification)"),
    lifecycle.WITHDRAW: gettext_lazy("Withdraw"),
}
TAB_LABELS = {
    "waiting": gettext_lazy("Waiting for me"),
    "all": gettext_lazy("Everything in my region"),
    "submitted": S.SUBMITTED.label,
    "returned": S.RETURNED.label,
    "renewed": S.RENEWED.label,
    "rejected": S.REJECTED.label,
    "withdrawn": S.WITHDRAWN.label,
}


def _url(name: str, request, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": request.tenant.code, **kwargs})


def _redirect(name: str, request, anchor: str = "", **kwargs) -> HttpResponseRedirect:
    return HttpResponseRedirect(_url(name, request, **kwargs) + anchor)


def _message(exc) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(exc.messages)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _filed() -> Exists:
    return Exists(
        Reverification.objects.filter(certification=OuterRef("pk"), state__in=lifecycle.FILED_STATES)
    )


def lifecycle_state(certification: Certification, *, filed: bool, today=None) -> tuple[str, str]:
    """(code, label) of a certification as people read it. Filed before expiry, a certification stays in
    force until the province decides (domain.md §1.5), so past its end date it reads "valid (under
    re-verification)"; past its end date without a filing it reads expired even before the nightly job."""
    today = today or timezone.localdate()
    if certification.status == CS.REVOKED:
        return "revoked", pgettext("certification status", "Revoked")
    if certification.status == CS.ACTIVE and filed and certification.valid_until < today:
        return "reverification", pgettext("certification status", "Valid (under re-verification)")
    if certification.status == CS.EXPIRED or certification.valid_until < today:
        return "expired", pgettext("certification status", "Expired")
    return "valid", pgettext("certification status", "Valid")


def _revocation(certification: Certification) -> Revocation | None:
    try:
        return certification.revocation
    except Revocation.DoesNotExist:
        return None


# --- the timeline --------------------------------------------------------------------------------


def _event_detail(event: LifecycleEvent) -> str:
    data = event.data or {}
    if event.kind == K.REMINDER and data.get("days_left") is not None:
        return _("%(days)s days before expiry") % {"days": data["days_left"]}
    if event.kind == K.FILED and data.get("verdict"):
        verdicts = dict(Screening.Verdict.choices)
        detail = _("screening: %(verdict)s") % {"verdict": verdicts.get(data["verdict"], data["verdict"])}
        if data.get("resubmitted"):
            detail += " · " + _("resubmitted")
        return detail
    if event.kind == K.RENEWED and data.get("valid_until"):
        return _("valid until %(new)s (was %(old)s)") % {
            "new": data["valid_until"],
            "old": data.get("old_valid_until", "—"),
        }
    if event.kind == K.EXPIRED and data.get("valid_until"):
        return _("was valid until %(day)s") % {"day": data["valid_until"]}
    if event.kind == K.REVOKED:
        grounds = dict(Revocation.Ground.choices)
        detail = str(grounds.get(data.get("ground"), data.get("ground") or ""))
        if data.get("barred_until"):
            detail += " · " + _("barred from applying until %(day)s") % {"day": data["barred_until"]}
        return detail
    return ""


def _timeline(events, *, official: bool, enterprise: Enterprise) -> list[dict]:
    """The events as rows. The enterprise reads who acted as a region and level, never an official's
    account; officials read the account too."""
    rows = []
    for event in events:
        if event.kind in (K.REMINDER, K.EXPIRED) or event.actor_label == "system":
            who = _("the portal")
        elif event.kind in (K.FILED, K.WITHDRAWN):
            who = enterprise.name
        elif event.region_id:
            who = f"{event.region.name} · {Level(event.level).label}" if event.level else event.region.name
        elif event.level:
            who = str(Level(event.level).label)
        else:
            who = _("the certifying authority")
        if official and event.actor_label and event.actor_label != "system":
            who = f"{who} ({event.actor_label})"
        rows.append(
            {
                "event": event,
                "label": event.get_kind_display(),
                "who": who,
                "detail": _event_detail(event),
                "reason": event.reason,
            }
        )
    return rows


# --- the enterprise: its certification ------------------------------------------------------------------


def _member_certification(request, enterprise: Enterprise, pk: int) -> Certification:
    # SECURITY: only the member's own enterprise's certifications, in this tenant.
    return get_object_or_404(
        Certification.objects.for_tenant(request.tenant)
        .filter(enterprise=enterprise)
        .select_related("program__owner_region", "enterprise__county", "tenant"),
        pk=pk,
    )


@enterprise_member_required()
def certification_detail(request, tenant_code, enterprise, pk):
    certification = _member_certification(request, enterprise, pk)
    reverifications = list(certification.reverifications.order_by("-created_at", "-id"))
    current = next((r for r in reverifications if r.state in Reverification.OPEN_STATES), None)
    filed = any(r.state in lifecycle.FILED_STATES for r in reverifications)
    state, state_label = lifecycle_state(certification, filed=filed)
    revocation = _revocation(certification)
    today = timezone.localdate()
    events = certification.lifecycle_events.select_related("region").order_by("created_at", "id")
    return render(
        request,
        "certification/lifecycle/certification_detail.html",
        {
            "enterprise": enterprise,
            "certification": certification,
            "state": state,
            "state_label": state_label,
            "filed": filed,
            "revocation": revocation,
            "bars": list(ApplyBar.objects.filter(enterprise=enterprise, until__gt=today).order_by("-until")),
            "timeline": _timeline(events, official=False, enterprise=enterprise),
            "reverifications": reverifications,
            "current": current,
            "refusal": None if current else lifecycle.reverification_refusal(certification, day=today),
            "opens_on": lifecycle.reverification_opens_on(certification),
        },
    )


@require_POST
@enterprise_member_required()
def reverification_start(request, tenant_code, enterprise, pk):
    certification = _member_certification(request, enterprise, pk)
    try:
        reverification = lifecycle.reverification_start(
            certification=certification, by=request.user, request=request
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        current = certification.reverifications.filter(state__in=Reverification.OPEN_STATES).first()
        if current is not None:
            return _redirect("reverification_detail", request, pk=current.pk)
        return _redirect("certification_detail", request, pk=certification.pk)
    messages.success(
        request,
        _(
            "A re-verification of %(number)s has been started. Write your statement, attach documents and file it."
        )
        % {"number": certification.number},
    )
    return _redirect("reverification_detail", request, pk=reverification.pk)


# --- the enterprise: its re-verification -----------------------------------------------------------


def _member_reverification(request, enterprise: Enterprise, pk: int) -> Reverification:
    # SECURITY: only the member's own enterprise's re-verifications, in this tenant.
    return get_object_or_404(
        Reverification.objects.for_tenant(request.tenant)
        .filter(enterprise=enterprise)
        .select_related(
            "certification__program__owner_region",
            "certification__tenant",
            "enterprise__county",
            "current_region",
            "version__program",
            "tenant",
        ),
        pk=pk,
    )


def _problem_rows(request, problems: dict[str, list[str]]) -> list[dict]:
    """Every problem with the place that fixes it: a field of this page, or the figures page."""
    anchors = {
        "statement": "#id_statement",
        "attachments": "#attachments",
        "figures": _url("enterprise_figures", request),
    }
    labels = {
        "statement": _("Statement"),
        "attachments": _("Attachments"),
        "figures": _("Annual figures"),
    }
    return [
        {"field": field, "label": labels.get(field, field), "href": anchors.get(field, ""), "message": m}
        for field, items in problems.items()
        for m in items
    ]


def _render_reverification(
    request,
    enterprise: Enterprise,
    reverification: Reverification,
    *,
    statement_form: StatementForm | None = None,
    attach_form: AttachForm | None = None,
    problems: dict[str, list[str]] | None = None,
    problem_title: str = "",
    status: int = 200,
):
    editable = reverification.state in (S.DRAFT, S.RETURNED)
    attachments = list(reverification.attachments.select_related("document").order_by("pk"))
    attached = {a.document_id for a in attachments}
    documents = [
        d
        for d in Document.objects.filter(enterprise=enterprise, scan_status=Document.Scan.CLEAN).order_by(
            "-uploaded_at", "-id"
        )
        if d.pk not in attached
    ]
    if statement_form is None:
        statement_form = StatementForm(
            initial={"statement": reverification.statement, "revision": reverification.revision}
        )
    # What still stops the filing, shown before the enterprise tries (every problem at once).
    pending = lifecycle.reverification_problems(reverification) if problems is None and editable else {}
    events = (
        LifecycleEvent.objects.filter(reverification=reverification)
        .select_related("region")
        .order_by("created_at", "id")
    )
    returned = None
    if reverification.state == S.RETURNED:
        returned = (
            LifecycleEvent.objects.filter(reverification=reverification, kind=K.RETURNED)
            .select_related("region")
            .order_by("-created_at", "-id")
            .first()
        )
    actions = lifecycle.reverification_actions(reverification, request.user)
    return render(
        request,
        "certification/lifecycle/reverification_detail.html",
        {
            "enterprise": enterprise,
            "reverification": reverification,
            "certification": reverification.certification,
            "editable": editable,
            "statement_form": statement_form,
            "attach_form": attach_form or AttachForm(documents=documents),
            "documents": documents,
            "attachments": attachments,
            "problems": _problem_rows(request, problems or {}),
            "problem_fields": set((problems or {}).keys()),
            "problem_title": problem_title,
            "pending": _problem_rows(request, pending),
            "timeline": _timeline(events, official=False, enterprise=enterprise),
            "returned": returned,
            "can_withdraw": lifecycle.WITHDRAW in actions,
            "result": reverification.screening or None,
            "version": reverification.version,
            "program": reverification.certification.program,
        },
        status=status,
    )


@enterprise_member_required()
def reverification_detail(request, tenant_code, enterprise, pk):
    reverification = _member_reverification(request, enterprise, pk)
    return _render_reverification(request, enterprise, reverification)


def _save_statement(request, enterprise: Enterprise, reverification: Reverification):
    """Save the posted statement. Returns the saved re-verification, or the response to send instead."""
    form = StatementForm(request.POST)
    if not form.is_valid():
        return _render_reverification(request, enterprise, reverification, statement_form=form, status=400)
    try:
        return lifecycle.reverification_save(
            reverification=reverification,
            by=request.user,
            statement=form.cleaned_data["statement"],
            revision=form.cleaned_data["revision"],
            request=request,
        )
    except DomainError as exc:
        if exc.code == "stale":
            # Another tab saved in between. Nothing typed is lost: it is shown again on top of the newer
            # version, with that version's number, so that saving once more keeps it.
            messages.error(
                request, exc.message + " " + _("What you typed is shown below; save again to keep it.")
            )
            fresh = _member_reverification(request, enterprise, reverification.pk)
            typed = StatementForm(
                initial={"statement": form.cleaned_data["statement"], "revision": fresh.revision}
            )
            return _render_reverification(request, enterprise, fresh, statement_form=typed, status=409)
        messages.error(request, exc.message)
        return _redirect("reverification_detail", request, pk=reverification.pk)


@require_POST
@enterprise_member_required()
def reverification_save(request, tenant_code, enterprise, pk):
    reverification = _member_reverification(request, enterprise, pk)
    outcome = _save_statement(request, enterprise, reverification)
    if not isinstance(outcome, Reverification):
        return outcome
    messages.success(request, _("Your statement has been saved."))
    return _redirect("reverification_detail", request, pk=reverification.pk)


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_POST
@enterprise_member_required()
def reverification_attachments(request, tenant_code, enterprise, pk):
    reverification = _member_reverification(request, enterprise, pk)
    try:
        if "detach" in request.POST:
            lifecycle.reverification_detach(
                reverification=reverification,
                attachment_id=_int_or_none(request.POST.get("detach")) or 0,
                by=request.user,
                request=request,
            )
            messages.success(request, _("The attachment has been removed."))
        else:
            documents = Document.objects.filter(enterprise=enterprise, scan_status=Document.Scan.CLEAN)
            form = AttachForm(request.POST, documents=documents)
            if not form.is_valid():
                return _render_reverification(
                    request, enterprise, reverification, attach_form=form, status=400
                )
            # SECURITY: only the enterprise's own documents (the form's choices); the service checks again.
            document = documents.get(pk=form.cleaned_data["document"])
            lifecycle.reverification_attach(
                reverification=reverification,
                document=document,
                by=request.user,
                label=form.cleaned_data["label"],
                request=request,
            )
            messages.success(request, _("%(name)s is attached.") % {"name": document.original_name})
    except DomainError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    return _redirect("reverification_detail", request, "#attachments", pk=reverification.pk)


@require_POST
@enterprise_member_required()
def reverification_submit(request, tenant_code, enterprise, pk):
    reverification = _member_reverification(request, enterprise, pk)
    if "revision" in request.POST and reverification.state in (S.DRAFT, S.RETURNED):
        # The submit button belongs to the statement's form: what was typed is saved first.
        outcome = _save_statement(request, enterprise, reverification)
        if not isinstance(outcome, Reverification):
            return outcome
        reverification = _member_reverification(request, enterprise, pk)
    try:
        reverification = lifecycle.reverification_submit(
            reverification=reverification, by=request.user, request=request
        )
    except DomainError as exc:
        if exc.fields:
            fresh = _member_reverification(request, enterprise, pk)
            return _render_reverification(
                request, enterprise, fresh, problems=exc.fields, problem_title=exc.message, status=400
            )
        messages.error(request, exc.message)
        return _redirect("reverification_detail", request, pk=reverification.pk)
    messages.success(
        request,
        _("Your re-verification has been filed. It now waits for review at %(region)s.")
        % {"region": reverification.current_region.name if reverification.current_region_id else "—"},
    )
    return _redirect("reverification_detail", request, pk=reverification.pk)


@require_POST
@enterprise_member_required()
def reverification_withdraw(request, tenant_code, enterprise, pk):
    reverification = _member_reverification(request, enterprise, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm that you withdraw the re-verification."))
        return _redirect("reverification_detail", request, "#withdraw", pk=reverification.pk)
    try:
        lifecycle.reverification_act(
            reverification=reverification, by=request.user, action=lifecycle.WITHDRAW, request=request
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The re-verification has been withdrawn."))
    return _redirect("reverification_detail", request, pk=reverification.pk)


# --- officials: who may use these pages ---------------------------------------------------------------


def _require_staff(request) -> None:
    """Officials who see a region's subtree. Experts and commissioners see only what is granted to them
    one by one, so these pages are not theirs.

    SECURITY: 404, not 403, so that another tenant's user learns nothing.
    """
    user = request.user
    if user.is_superuser:
        return
    if not any(p.sees_whole_subtree for p in user.posts_in(request.tenant)):
        raise Http404


def _counties(request) -> QuerySet:
    return (
        Region.objects.visible_to(request.user, request.tenant)
        .filter(level=Region.Level.COUNTY)
        .order_by("code")
    )


def _programs(request) -> QuerySet:
    return Program.objects.for_tenant(request.tenant).order_by("tier", "code")


def _search(qs: QuerySet, q: str, *, number: str) -> QuerySet:
    """Name (part of it), credit code or certificate number (exact, any case)."""
    q = (q or "").strip()
    if not q:
        return qs
    return qs.filter(
        Q(enterprise__name__icontains=q) | Q(enterprise__uscc__iexact=q) | Q(**{f"{number}__iexact": q})
    )


# --- officials: the re-verification queue -------------------------------------------------------------


def _staff_reverifications(request) -> QuerySet:
    # SECURITY: the official's subtree only (visible_to), and only what the enterprise filed: a draft is
    # its own until it is submitted.
    return Reverification.objects.visible_to(request.user, request.tenant).filter(submitted_at__isnull=False)


def _waiting(request, qs: QuerySet) -> QuerySet:
    """Filed re-verifications waiting at one of the user's posts: its region and a level its role reviews."""
    condition = Q()
    for post in request.user.posts_in(request.tenant):
        for level, roles in REVIEW_ROLES.items():
            if post.role in roles:
                condition |= Q(current_region_id=post.region_id, level=level)
    if not condition:
        return qs.none()
    return qs.filter(condition, state=S.SUBMITTED)


def _queue_form(request) -> ReverificationFilterForm:
    reviewer = any(p.is_reviewer for p in request.user.posts_in(request.tenant))
    # Always bound, so that no filter is an empty, valid form with cleaned data.
    form = ReverificationFilterForm(
        request.GET,
        counties=_counties(request),
        programs=_programs(request),
        default_tab="waiting" if reviewer else "all",
    )
    form.is_valid()  # an invalid filter is shown with its error and ignored
    return form


def _queue(request, form: ReverificationFilterForm) -> QuerySet:
    data = form.cleaned_data
    qs = _staff_reverifications(request)
    tab = form.current_tab
    if tab == "waiting":
        qs = _waiting(request, qs)
    elif tab in S.values:
        qs = qs.filter(state=tab)
    if data.get("county"):
        qs = qs.filter(enterprise__county__code=data["county"])
    if data.get("program"):
        qs = qs.filter(certification__program_id=data["program"])
    if data.get("verdict"):
        qs = qs.filter(verdict=data["verdict"])
    qs = _search(qs, data.get("q", ""), number="certification__number")
    order = ("submitted_at", "id") if tab == "waiting" else ("-submitted_at", "-id")
    return qs.select_related("certification__program", "enterprise__county", "current_region").order_by(
        *order
    )


@tenant_login_required
def reverification_queue(request, tenant_code):
    _require_staff(request)
    form = _queue_form(request)
    page = Paginator(_queue(request, form), PAGE_SIZE).get_page(request.GET.get("page"))
    verdicts = dict(Screening.Verdict.choices)
    rows = list(page)
    for r in rows:
        r.verdict_label = verdicts.get(r.verdict, r.verdict)
    base = _staff_reverifications(request)
    by_state = dict(base.order_by().values_list("state").annotate(n=Count("id")))
    counts = {
        "waiting": _waiting(request, base).count(),
        "all": sum(by_state.values()),
        **{state: by_state.get(state, 0) for state in QUEUE_TABS[2:]},
    }
    params = request.GET.copy()
    params.pop("page", None)
    tabs = []
    for tab in QUEUE_TABS:
        params["tab"] = tab
        tabs.append(
            {"code": tab, "label": TAB_LABELS[tab], "count": counts[tab], "url": "?" + params.urlencode()}
        )
    query = _query_without_page(request)
    return render(
        request,
        "certification/lifecycle/queue.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "tab": form.current_tab,
            "tab_label": TAB_LABELS[form.current_tab],
            "tabs": tabs,
            "query": query,
            "export_url": _url("reverification_queue_export", request) + (f"?{query}" if query else ""),
        },
    )


@tenant_login_required
def reverification_queue_export(request, tenant_code):
    _require_staff(request)
    form = _queue_form(request)
    qs = _queue(request, form)
    audit_record(
        action="reverification.queue_exported",
        actor=request.user,
        request=request,
        summary=request.GET.urlencode()[:500],
    )
    verdicts = dict(Screening.Verdict.choices)
    return xlsx_response(
        filename=f"reverifications-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Re-verifications"),
        columns=[
            (_("Certificate number"), lambda r: r.certification.number),
            (_("Enterprise"), lambda r: r.enterprise.name),
            (_("Unified social credit code"), lambda r: r.enterprise.uscc),
            (_("County"), lambda r: r.enterprise.county.name),
            (_("Programme"), lambda r: r.certification.program.name),
            (_("Valid until"), lambda r: r.certification.valid_until),
            (_("State"), lambda r: r.get_state_display()),
            (_("Waiting at"), lambda r: r.current_region.name if r.current_region_id else ""),
            (_("Level"), lambda r: str(Level(r.level).label) if r.level else ""),
            (_("Screening verdict"), lambda r: str(verdicts.get(r.verdict, r.verdict))),
            (_("Submitted"), lambda r: r.submitted_at),
            (_("Decided"), lambda r: r.decided_at),
        ],
        rows=qs[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


# --- officials: one re-verification ---------------------------------------------------------------------


def _staff_reverification(request, pk: int) -> Reverification:
    return get_object_or_404(
        _staff_reverifications(request).select_related(
            "certification__program__owner_region",
            "certification__tenant",
            "enterprise__county",
            "current_region",
            "version__program",
            "tenant",
        ),
        pk=pk,
    )


def _facts_rows(facts: dict) -> list[tuple[str, object]]:
    """The facts as filed, labelled, in the order of FACT_LABELS (the screening reads the same names)."""
    known = [(str(label), facts[name]) for name, label in FACT_LABELS.items() if name in facts]
    known += [(name, value) for name, value in facts.items() if name not in FACT_LABELS]
    return known


def _review_context(request, reverification: Reverification, *, act_form: ActForm | None = None) -> dict:
    allowed = [
        a
        for a in lifecycle.reverification_actions(reverification, request.user)
        if a in lifecycle.OFFICIAL_STEPS
    ]
    events = (
        LifecycleEvent.objects.filter(reverification=reverification)
        .select_related("region")
        .order_by("created_at", "id")
    )
    certification = reverification.certification
    return {
        "reverification": reverification,
        "certification": certification,
        "state": lifecycle_state(certification, filed=reverification.state in lifecycle.FILED_STATES),
        "facts": _facts_rows(reverification.facts or {}),
        "result": reverification.screening or None,
        "version": reverification.version,
        "program": certification.program,
        "attachments": list(reverification.attachments.select_related("document").order_by("pk")),
        "timeline": _timeline(events, official=True, enterprise=reverification.enterprise),
        "actions": [
            {"code": a, "label": ACTION_LABELS[a], "needs_reason": lifecycle.OFFICIAL_STEPS[a].needs_reason}
            for a in allowed
        ],
        "act_form": act_form or ActForm(),
        "levels": [Level(lvl).label for lvl in reverification.levels],
    }


@tenant_login_required
def reverification_review(request, tenant_code, pk):
    _require_staff(request)
    reverification = _staff_reverification(request, pk)
    return render(request, "certification/lifecycle/review.html", _review_context(request, reverification))


@require_POST
@tenant_login_required
def reverification_act(request, tenant_code, pk):
    _require_staff(request)
    reverification = _staff_reverification(request, pk)
    form = ActForm(request.POST)
    form.is_valid()
    action = form.cleaned_data.get("action") or ""
    if action not in lifecycle.OFFICIAL_STEPS:
        form.add_error(None, _("Choose one of the actions below."))
        context = _review_context(request, reverification, act_form=form)
        return render(request, "certification/lifecycle/review.html", context, status=400)
    try:
        reverification = lifecycle.reverification_act(
            reverification=reverification,
            by=request.user,
            action=action,
            reason=form.cleaned_data.get("reason", ""),
            request=request,
        )
    except DomainError as exc:
        # Nothing changed: the service worked on its own locked copy and rolled back.
        for field, errors in exc.fields.items():
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        form.add_error(None, exc.message)
        context = _review_context(request, _staff_reverification(request, pk), act_form=form)
        return render(request, "certification/lifecycle/review.html", context, status=exc.status_code)
    certification = reverification.certification
    if reverification.state == S.RENEWED:
        certification.refresh_from_db(fields=["valid_until"])
        done = _("Renewed: %(number)s is now valid until %(day)s.") % {
            "number": certification.number,
            "day": certification.valid_until.isoformat(),
        }
    elif reverification.state == S.SUBMITTED and reverification.current_region_id:
        done = _("%(action)s: done. The re-verification now waits at %(region)s (%(level)s).") % {
            "action": ACTION_LABELS[action],
            "region": reverification.current_region.name,
            "level": Level(reverification.level).label,
        }
    else:
        done = _("%(action)s: done. The re-verification is now %(state)s.") % {
            "action": ACTION_LABELS[action],
            "state": reverification.get_state_display(),
        }
    messages.success(request, done)
    return _redirect("reverification_review", request, pk=reverification.pk)


# --- officials: certifications ----------------------------------------------------------------------


def _staff_certifications(request) -> QuerySet:
    # SECURITY: the official's subtree only.
    return Certification.objects.visible_to(request.user, request.tenant).annotate(filed=_filed())


def _status_filter(qs: QuerySet, status: str) -> QuerySet:
    today = timezone.localdate()
    if status == "in_force":
        return qs.filter(Q(valid_until__gte=today) | Q(filed=True), status=CS.ACTIVE)
    if status == "expiring":
        return qs.filter(
            status=CS.ACTIVE,
            filed=False,
            valid_until__gte=today,
            valid_until__lte=today + timedelta(days=EXPIRING_WITHIN_DAYS),
        )
    if status == "reverification":
        return qs.filter(status=CS.ACTIVE, filed=True)
    if status == "expired":
        return qs.filter(Q(status=CS.EXPIRED) | Q(status=CS.ACTIVE, valid_until__lt=today, filed=False))
    if status == "revoked":
        return qs.filter(status=CS.REVOKED)
    return qs


def _certification_form(request) -> CertificationFilterForm:
    form = CertificationFilterForm(request.GET, counties=_counties(request), programs=_programs(request))
    form.is_valid()
    return form


def _certifications(request, form: CertificationFilterForm) -> QuerySet:
    data = form.cleaned_data
    qs = _status_filter(_staff_certifications(request), data.get("status") or "")
    if data.get("county"):
        qs = qs.filter(enterprise__county__code=data["county"])
    if data.get("program"):
        qs = qs.filter(program_id=data["program"])
    qs = _search(qs, data.get("q", ""), number="number")
    return qs.select_related("program", "enterprise__county").order_by("valid_until", "number")


@tenant_login_required
def certification_manage_list(request, tenant_code):
    _require_staff(request)
    form = _certification_form(request)
    page = Paginator(_certifications(request, form), PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    rows = []
    for c in page:
        code, label = lifecycle_state(c, filed=c.filed, today=today)
        rows.append({"c": c, "state": code, "state_label": label, "days_left": (c.valid_until - today).days})
    query = _query_without_page(request)
    return render(
        request,
        "certification/lifecycle/certification_list.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query,
            "export_url": _url("certification_manage_export", request) + (f"?{query}" if query else ""),
        },
    )


@tenant_login_required
def certification_manage_export(request, tenant_code):
    _require_staff(request)
    form = _certification_form(request)
    qs = _certifications(request, form)
    audit_record(
        action="certification.list_exported",
        actor=request.user,
        request=request,
        summary=request.GET.urlencode()[:500],
    )
    today = timezone.localdate()
    return xlsx_response(
        filename=f"certifications-{request.tenant.code}-{today:%Y%m%d}.xlsx",
        title=_("Certifications"),
        columns=[
            (_("Certificate number"), lambda c: c.number),
            (_("Enterprise"), lambda c: c.enterprise.name),
            (_("Unified social credit code"), lambda c: c.enterprise.uscc),
            (_("County"), lambda c: c.enterprise.county.name),
            (_("Programme"), lambda c: c.program.name),
            (_("Issued on"), lambda c: c.issued_on),
            (_("Valid until"), lambda c: c.valid_until),
            (_("Status"), lambda c: lifecycle_state(c, filed=c.filed, today=today)[1]),
        ],
        rows=qs[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


def _staff_certification(request, pk: int) -> Certification:
    return get_object_or_404(
        _staff_certifications(request).select_related(
            "program__owner_region", "enterprise__county", "tenant"
        ),
        pk=pk,
    )


@tenant_login_required
def certification_manage(request, tenant_code, pk):
    _require_staff(request)
    certification = _staff_certification(request, pk)
    revocation = _revocation(certification)
    evidence = []
    if revocation is not None:
        evidence = [
            {"item": e, "refusal": lifecycle_evidence.revocation_evidence_refusal(e)}
            for e in revocation.evidence.order_by("pk")
        ]
    events = certification.lifecycle_events.select_related("region").order_by("created_at", "id")
    state, state_label = lifecycle_state(certification, filed=certification.filed)
    can_revoke = certification.status != CS.REVOKED and lifecycle.can_revoke(request.user, certification)
    return render(
        request,
        "certification/lifecycle/certification_manage.html",
        {
            "certification": certification,
            "enterprise": certification.enterprise,
            "state": state,
            "state_label": state_label,
            "timeline": _timeline(events, official=True, enterprise=certification.enterprise),
            "reminders": list(certification.reminders.order_by("sent_on", "pk")),
            "reverifications": list(
                certification.reverifications.filter(submitted_at__isnull=False)
                .select_related("current_region")
                .order_by("-submitted_at", "-id")
            ),
            "drafting": certification.reverifications.filter(
                state__in=Reverification.OPEN_STATES, submitted_at__isnull=True
            ).exists(),
            "revocation": revocation,
            "evidence": evidence,
            "can_revoke": can_revoke,
            "may_rescan": revocation is not None and lifecycle.can_revoke(request.user, certification),
        },
    )


# --- officials: revocation --------------------------------------------------------------------------


def _revocable(request, pk: int) -> Certification:
    _require_staff(request)
    certification = _staff_certification(request, pk)
    # SECURITY: only provincial staff of the programme's owner revoke; anyone else finds no such page.
    if not lifecycle.can_revoke(request.user, certification):
        raise Http404
    return certification


def _error_summary(form) -> list[dict]:
    rows = [{"label": "", "message": str(e), "href": ""} for e in form.non_field_errors()]
    for name, errors in form.errors.items():
        if name == "__all__":
            continue
        field = form[name]
        rows += [
            {"label": str(field.label), "message": str(e), "href": f"#{field.id_for_label}"} for e in errors
        ]
    return rows


@limit_uploads(EVIDENCE_MAX_BYTES)
@tenant_login_required
def revocation_new(request, tenant_code, pk):
    """Two steps: the ground and the reason; then the evidence and the confirmation, which revokes.

    Files cannot travel from one page to the next, so they are chosen on the confirmation step."""
    certification = _revocable(request, pk)
    if certification.status == CS.REVOKED:
        messages.info(request, _("This certification is already revoked."))
        return _redirect("certification_manage", request, pk=certification.pk)
    settings_ = lifecycle.lifecycle_settings(request.tenant)
    context = {
        "certification": certification,
        "enterprise": certification.enterprise,
        "bar_years": settings_.reapply_bar_years,
        "open_reverification": certification.reverifications.filter(
            state__in=Reverification.OPEN_STATES
        ).exists(),
    }
    step = request.POST.get("step") if request.method == "POST" else None
    if step == "confirm":
        form = RevocationConfirmForm(request.POST, request.FILES)
        valid = form.is_valid()
        if not oversize_error(request, form) and valid:
            data = form.cleaned_data
            try:
                lifecycle.certification_revoke(
                    certification=certification,
                    by=request.user,
                    ground=data["ground"],
                    reason=data["reason"],
                    evidence=data["evidence"],
                    request=request,
                )
            except ValidationError as exc:
                # The service checks the files again ("file"): a refusal there is the evidence field's.
                for field, errors in exc.message_dict.items():
                    target = "evidence" if field == "file" else field
                    form.add_error(target if target in form.fields else None, errors)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _(
                        "Certification %(number)s is revoked. The verification page shows it as revoked from now on."
                    )
                    % {"number": certification.number},
                )
                return _redirect("certification_manage", request, pk=certification.pk)
        if "ground" in form.errors or "reason" in form.errors:
            back = RevocationForm(request.POST)
            back.is_valid()
            return render(
                request,
                "certification/lifecycle/revocation_form.html",
                {**context, "form": back, "step": 1, "errors": _error_summary(back)},
                status=400,
            )
        return render(
            request,
            "certification/lifecycle/revocation_form.html",
            {**context, "form": form, "step": 2, "errors": _error_summary(form), **_grounds(form)},
            status=400,
        )
    if step == "review":
        form = RevocationForm(request.POST)
        if form.is_valid():
            confirm = RevocationConfirmForm(initial=form.cleaned_data)
            return render(
                request,
                "certification/lifecycle/revocation_form.html",
                {**context, "form": confirm, "step": 2, "errors": [], **_grounds(form)},
            )
        return render(
            request,
            "certification/lifecycle/revocation_form.html",
            {**context, "form": form, "step": 1, "errors": _error_summary(form)},
            status=400,
        )
    return render(
        request,
        "certification/lifecycle/revocation_form.html",
        {**context, "form": RevocationForm(), "step": 1, "errors": []},
    )


def _grounds(form) -> dict:
    data = getattr(form, "cleaned_data", None) or {}
    ground = data.get("ground") or form.data.get("ground") or form.initial.get("ground") or ""
    reason = data.get("reason") or form.data.get("reason") or form.initial.get("reason") or ""
    return {"ground_label": dict(Revocation.Ground.choices).get(ground, ground), "reason_text": reason}


def _revocations(request, form: RevocationFilterForm) -> QuerySet:
    data = form.cleaned_data
    # SECURITY: the official's subtree only.
    qs = Revocation.objects.visible_to(request.user, request.tenant)
    if data.get("ground"):
        qs = qs.filter(ground=data["ground"])
    if data.get("county"):
        qs = qs.filter(certification__enterprise__county__code=data["county"])
    q = (data.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(certification__enterprise__name__icontains=q)
            | Q(certification__enterprise__uscc__iexact=q)
            | Q(certification__number__iexact=q)
        )
    return (
        qs.select_related("certification__program", "certification__enterprise__county", "revoked_by")
        .annotate(evidence_count=Count("evidence"))
        .order_by("-revoked_on", "-id")
    )


def _revocation_form(request) -> RevocationFilterForm:
    form = RevocationFilterForm(request.GET, counties=_counties(request))
    form.is_valid()
    return form


@tenant_login_required
def revocation_list(request, tenant_code):
    _require_staff(request)
    form = _revocation_form(request)
    page = Paginator(_revocations(request, form), PAGE_SIZE).get_page(request.GET.get("page"))
    query = _query_without_page(request)
    return render(
        request,
        "certification/lifecycle/revocation_list.html",
        {
            "form": form,
            "page": page,
            "query": query,
            "export_url": _url("revocation_list_export", request) + (f"?{query}" if query else ""),
        },
    )


@tenant_login_required
def revocation_list_export(request, tenant_code):
    _require_staff(request)
    qs = _revocations(request, _revocation_form(request))
    audit_record(
        action="revocation.list_exported",
        actor=request.user,
        request=request,
        summary=request.GET.urlencode()[:500],
    )
    return xlsx_response(
        filename=f"revocations-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Revocations"),
        columns=[
            (_("Certificate number"), lambda r: r.certification.number),
            (_("Enterprise"), lambda r: r.certification.enterprise.name),
            (_("Unified social credit code"), lambda r: r.certification.enterprise.uscc),
            (_("County"), lambda r: r.certification.enterprise.county.name),
            (_("Programme"), lambda r: r.certification.program.name),
            (_("Ground"), lambda r: r.get_ground_display()),
            (_("Reason"), lambda r: r.reason),
            (_("Revoked on"), lambda r: r.revoked_on),
            (_("Barred from applying until"), lambda r: r.barred_until),
            (_("Evidence files"), lambda r: r.evidence_count),
        ],
        rows=qs[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


# --- officials: revocation evidence -------------------------------------------------------------------


def _staff_evidence(request, pk: int) -> RevocationEvidence:
    # SECURITY: one answer, 404, for "no such file", "another tenant's", "outside your region" and "not
    # signed in": a file's existence does not leak, and a deep link sends no one to sign in.
    if not request.user.is_authenticated:
        raise Http404
    _require_staff(request)
    evidence = get_object_or_404(
        RevocationEvidence.objects.filter(revocation__tenant=request.tenant).select_related(
            "revocation__certification", "revocation__tenant"
        ),
        pk=pk,
    )
    if not _staff_certifications(request).filter(pk=evidence.revocation.certification_id).exists():
        raise Http404
    return evidence


def _attachment(name: str, fallback_stem: str) -> str:
    """attachment with an ASCII fallback and the real name as RFC 5987 filename* (RFC 6266 §4.3)."""
    extension = "".join(ch for ch in name.rpartition(".")[2].lower() if ch.isascii() and ch.isalnum())
    fallback = f"{fallback_stem}.{extension}" if extension and "." in name else fallback_stem
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def revocation_evidence_download(request, tenant_code, pk):
    evidence = _staff_evidence(request, pk)
    back = _url("certification_manage", request, pk=evidence.revocation.certification_id) + "#revocation"
    refusal = lifecycle_evidence.revocation_evidence_refusal(evidence)
    if refusal:
        messages.error(request, refusal)
        return HttpResponseRedirect(back)
    try:
        fh = evidence.file.open("rb")
    except (FileNotFoundError, ValueError):
        log.error("revocation evidence %s: stored file %r is missing", evidence.pk, evidence.file.name)
        raise Http404 from None
    lifecycle_evidence.revocation_evidence_downloaded(evidence=evidence, by=request.user, request=request)
    response = FileResponse(fh, content_type=evidence.content_type)
    response["Content-Disposition"] = _attachment(
        evidence.original_name, f"revocation-evidence-{evidence.pk}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Should a browser render it after all, it runs nothing and loads nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_POST
def revocation_evidence_rescan(request, tenant_code, pk):
    evidence = _staff_evidence(request, pk)
    try:
        lifecycle_evidence.revocation_evidence_rescan(evidence=evidence, by=request.user, request=request)
    except DomainError as exc:
        messages.error(request, f"{evidence.original_name}: {exc.message}")
    else:
        messages.success(
            request, _("%(name)s is being checked for malware again.") % {"name": evidence.original_name}
        )
    return _redirect("certification_manage", request, "#revocation", pk=evidence.revocation.certification_id)


# --- the tenant's settings -----------------------------------------------------------------------------


@tenant_login_required
def lifecycle_settings_edit(request, tenant_code):
    tenant = request.tenant
    # SECURITY: tenant administrators only; anyone else finds no such page.
    if not portal_permissions.is_tenant_admin(request.user, tenant):
        raise Http404
    if request.method == "POST" and "reverification_program" in request.POST:
        return _reverification_version_post(request, tenant)
    current = lifecycle.lifecycle_settings(tenant)
    initial = {
        "reminder_offsets": ", ".join(str(o) for o in lifecycle.reminder_offsets(current)),
        "reapply_bar_years": current.reapply_bar_years,
        "annual_update_month": current.annual_update_month,
        "annual_update_day": current.annual_update_day,
        "reverify_levels": [lvl for lvl in current.reverify_levels if lvl != Level.PROVINCE],
        "visit_interval_days": current.visit_interval_days,
    }
    form = LifecycleSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            lifecycle_config.lifecycle_settings_save(
                tenant=tenant, by=request.user, data=form.cleaned_data, request=request
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("The dynamic-management settings have been saved."))
            return _redirect("lifecycle_settings", request)
    # The daily job runs once for the whole platform: its counts are the platform's, not this tenant's.
    runs = [
        {"run": run, "stats": sorted((run.stats or {}).items())}
        for run in DailyRun.objects.order_by("-day")[:DAILY_RUNS_SHOWN]
    ]
    return render(
        request,
        "certification/lifecycle/settings.html",
        {
            "form": form,
            "errors": _error_summary(form) if form.is_bound else [],
            "runs": runs,
            "show_errors": request.user.is_superuser,
            "province_label": Level.PROVINCE.label,
            "programs": _programs_with_versions(tenant),
        },
        status=400 if form.is_bound else 200,
    )


def _programs_with_versions(tenant):
    """The tenant's programmes, each with its frozen versions: the choice of criteria for re-verification."""
    from certification.models import CriteriaVersion, Program

    frozen = CriteriaVersion.objects.filter(status=CriteriaVersion.Status.FROZEN).order_by("-effective_from")
    return list(
        Program.objects.for_tenant(tenant)
        .select_related("reverification_version")
        .prefetch_related(Prefetch("versions", queryset=frozen, to_attr="frozen_versions"))
        .order_by("tier", "code")
    )


def _reverification_version_post(request, tenant):
    from certification.models import CriteriaVersion, Program

    # SECURITY: the programme and the version are looked up in this tenant only.
    program = get_object_or_404(
        Program.objects.for_tenant(tenant), pk=request.POST.get("reverification_program")
    )
    chosen = request.POST.get("reverification_version") or ""
    version = None
    if chosen:
        version = CriteriaVersion.objects.filter(
            program__tenant=tenant, pk=chosen if chosen.isdigit() else 0
        ).first()
        if version is None:
            raise Http404
    try:
        lifecycle_config.reverification_version_save(
            tenant=tenant, program=program, version=version, by=request.user, request=request
        )
    except ValidationError as exc:
        for message in exc.message_dict.get("reverification_version", exc.messages):
            messages.error(request, f"{program.name}: {message}")
    else:
        messages.success(
            request,
            _("%(program)s is re-verified under %(version)s.")
            % {
                "program": program.name,
                "version": version.label if version else _("the version in force when it is filed"),
            },
        )
    return _redirect("lifecycle_settings", request)
