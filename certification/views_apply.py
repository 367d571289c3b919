"""Enterprise pages of the application: the list, the form (autosaved), attachments, submit, withdraw, PDF.

Every page finds the application through `selectors.application_for_member`, scoped to the
user's enterprise in this tenant: another enterprise's application, or another tenant's, is a 404.
The business rules live in `certification.workflow`; these views check, call and render.
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from certification import application_form, selectors, services, workflow
from certification.application_pdf import FIGURE_ROWS, application_pdf_response, snapshot_context
from certification.models import Application, ReviewEvent, Round
from certification.transitions import ACTION_LABELS, ENTERPRISE_ACTIONS, MEMBER_TIMELINE, Action
from enterprises.facts import enterprise_facts, fiscal_years
from enterprises.ip_class import ip_class
from enterprises.models import Document, Enterprise
from enterprises.views import enterprise_member_required
from portal.api.errors import DomainError

S = Application.State
EDITABLE_STATES = (S.DRAFT, S.RETURNED)

# What the enterprise sees of the history. Expert assignments and scores stay out: who reviews an
# application is not the applicant's to know.


def _detail_url(request, application: Application) -> str:
    return reverse("application_detail", kwargs={"tenant_code": request.tenant.code, "pk": application.pk})


def _redirect_detail(request, application: Application, anchor: str = "") -> HttpResponseRedirect:
    return HttpResponseRedirect(_detail_url(request, application) + anchor)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- the list ------------------------------------------------------------------------------


@enterprise_member_required()
def application_list(request, tenant_code, enterprise):
    applications = list(selectors.applications_of_enterprise(enterprise))
    active = {a.round_id: a for a in applications if a.state != S.WITHDRAWN}
    open_rounds = [{"round": r, "application": active.get(r.pk)} for r in workflow.rounds_open_to(enterprise)]
    return render(
        request,
        "certification/apply/list.html",
        {"enterprise": enterprise, "applications": applications, "open_rounds": open_rounds},
    )


@require_POST
@enterprise_member_required()
def application_start(request, tenant_code, enterprise, round_pk):
    round_ = get_object_or_404(
        Round.objects.for_tenant(request.tenant).select_related("program__owner_region", "tenant"),
        pk=round_pk,
    )
    try:
        application = workflow.application_start(
            round_=round_, enterprise=enterprise, by=request.user, request=request
        )
    except workflow.WorkflowRefused as exc:
        messages.error(request, exc.message)
        existing = (exc.extra or {}).get("application")
        if existing:
            return HttpResponseRedirect(
                reverse("application_detail", kwargs={"tenant_code": tenant_code, "pk": existing})
            )
        return HttpResponseRedirect(reverse("application_list", kwargs={"tenant_code": tenant_code}))
    messages.success(
        request,
        _("Your application to %(round)s has been started. It is saved as you type.")
        % {"round": round_.name},
    )
    return _redirect_detail(request, application)


# --- the application page -----------------------------------------------------------------


def _posted_sections(post) -> dict[str, dict[str, Any]]:
    """The form's sections from a form-encoded POST ("products.main_product" → data["products"][…])."""
    data: dict[str, dict[str, Any]] = {}
    for section in application_form.SECTIONS:
        values: dict[str, Any] = {}
        for f in section.fields:
            key = f"{section.code}.{f.name}"
            if f.kind == "bool":
                # An unticked checkbox sends nothing: the whole form was posted, so absent means no.
                values[f.name] = post.get(key) in ("on", "true", "1")
            elif key in post:
                values[f.name] = post.get(key)
        data[section.code] = values
    return data


def _merged(stored: dict[str, Any], posted: dict[str, Any]) -> dict[str, Any]:
    merged = {**(stored or {})}
    for code, values in posted.items():
        merged[code] = {**(merged.get(code) or {}), **values}
    return merged


def _form_sections(data: dict[str, Any], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    sections = []
    for section in application_form.SECTIONS:
        values = (data or {}).get(section.code) or {}
        fields = []
        for f in section.fields:
            fid = application_form.field_id(section.code, f.name)
            value = values.get(f.name)
            fields.append(
                {
                    "field": f,
                    "id": fid,
                    "name": f"{section.code}.{f.name}",
                    "value": "" if value is None or value is False or value is True else value,
                    "checked": value is True,
                    "errors": errors.get(fid, []),
                }
            )
        sections.append(
            {
                "code": section.code,
                "title": section.title,
                "anchor": f"section-{section.code}",
                "fields": fields,
            }
        )
    return sections


def _attachment_slots(application: Application, enterprise: Enterprise, errors: dict[str, list[str]]):
    """Each slot of the programme with what is attached and what could be: two queries, however many."""
    type_labels = dict(Document.Type.choices)
    attached: dict[str, list] = {}
    for a in application.attachments.select_related("document").order_by("slot", "id"):
        attached.setdefault(a.slot, []).append(a)
    documents = list(Document.objects.filter(enterprise=enterprise).order_by("-uploaded_at", "-id"))
    rows = []
    for slot in workflow.attachment_slots(application.round.program):
        here = attached.get(slot["code"], [])
        taken = {a.document_id for a in here}
        anchor = f"slot-{slot['code']}"
        rows.append(
            {
                "code": slot["code"],
                "label": slot["label"],
                "required": bool(slot.get("required")),
                "types": [str(type_labels.get(t, t)) for t in slot["doc_types"]],
                "anchor": anchor,
                "attached": here,
                "choices": [d for d in documents if d.doc_type in slot["doc_types"] and d.pk not in taken],
                "errors": errors.get(anchor, []),
            }
        )
    return rows


def _timeline(application: Application, enterprise: Enterprise) -> list[dict[str, Any]]:
    rows = []
    for event in (
        application.events.filter(action__in=MEMBER_TIMELINE)
        .select_related("region")
        .order_by("created_at", "id")
    ):
        by_enterprise = event.action == "start" or event.action in ENTERPRISE_ACTIONS
        if by_enterprise:
            who = enterprise.name
        elif event.region_id:
            who = f"{event.region.name} · {event.get_level_display()}"
        else:
            who = event.get_level_display()
        rows.append(
            {
                "event": event,
                "who": who,
                "label": _("started")
                if event.action == "start"
                else ACTION_LABELS.get(event.action, event.action),
                "state": event.get_to_state_display(),
                "opinion": event.opinion,
                "minor": event.minor,
            }
        )
    return rows


def _latest_return(application: Application) -> ReviewEvent | None:
    return (
        application.events.filter(action=Action.RETURN)
        .select_related("region")
        .order_by("-created_at", "-id")
        .first()
    )


def _editing_context(
    request,
    enterprise: Enterprise,
    application: Application,
    *,
    values: dict[str, Any] | None,
    problems: list[workflow.Problem] | None,
) -> dict[str, Any]:
    loaded = (
        Enterprise.objects.filter(pk=enterprise.pk)
        .select_related("county__parent", "industry")
        .prefetch_related("figures", "ip_items", "qualifications")
        .get()
    )
    today = timezone.localdate()
    facts = enterprise_facts(loaded, as_of=today)
    result = services.screen_facts(version=application.round.version, facts=facts)
    years = sorted(fiscal_years(today))
    by_year = {f.fiscal_year: f for f in loaded.figures.all()}
    figure_rows = [
        {"label": label, "values": [getattr(by_year.get(y), name, None) for y in years]}
        for name, label in FIGURE_ROWS
    ]
    data = values if values is not None else application.data
    if problems:
        errors = workflow.problems_by_field(problems)
    else:
        # The draft keeps wrong values as typed; say what is wrong with them next to each field.
        _cleaned, draft_errors = application_form.clean_sections(data)
        errors = {
            application_form.field_id(*key.split(".", 1)): [message] for key, message in draft_errors.items()
        }
    submit_action = Action.RESUBMIT if application.state == S.RETURNED else Action.SUBMIT
    return {
        "profile": loaded,
        "facts": facts,
        "result": result,
        "version": application.round.version,
        "figure_years": years,
        "figure_rows": figure_rows,
        "ip_rows": [(item, ip_class(item, as_of=today)) for item in loaded.ip_items.all()],
        "sections": _form_sections(data, errors),
        "slots": _attachment_slots(application, enterprise, errors),
        "problems": problems or [],
        "submit_action": submit_action,
        "submit_label": ACTION_LABELS[submit_action],
        "submit_reason": workflow.application_can(application, submit_action, by=request.user),
        "returned": _latest_return(application) if application.state == S.RETURNED else None,
        "declaration": application_form.DECLARATION,
    }


def _render_detail(
    request,
    enterprise: Enterprise,
    application: Application,
    *,
    values: dict[str, Any] | None = None,
    revision: int | None = None,
    problems: list[workflow.Problem] | None = None,
    problem_title: str = "",
    status: int = 200,
):
    editable = application.state in EDITABLE_STATES
    snapshot = workflow.latest_snapshot(application)
    context: dict[str, Any] = {
        "enterprise": enterprise,
        "application": application,
        "program": application.round.program,
        "editable": editable,
        "revision": application.revision if revision is None else revision,
        "has_snapshot": snapshot is not None,
        "timeline": _timeline(application, enterprise),
        "withdraw_reason": workflow.application_can(application, Action.WITHDRAW, by=request.user),
        "problem_title": problem_title,
    }
    if editable:
        context.update(_editing_context(request, enterprise, application, values=values, problems=problems))
    elif snapshot is not None:
        context.update(snapshot_context(application, snapshot))
        context["version"] = application.round.version
    template = "certification/apply/form.html" if editable else "certification/apply/detail.html"
    return render(request, template, context, status=status)


@enterprise_member_required()
def application_detail(request, tenant_code, enterprise, pk):
    application = selectors.application_for_member(enterprise, pk)
    return _render_detail(request, enterprise, application)


# --- saving the draft ----------------------------------------------------------------------


def _json_error(status: int, code: str, message: str, extra: dict | None = None) -> JsonResponse:
    body: dict[str, Any] = {"status": status, "code": code, "message": str(message)}
    if extra:
        body["extra"] = extra
    return JsonResponse({"error": body}, status=status)


def _save_json(request, application: Application) -> JsonResponse:
    """The autosave: {"data": {section: {field: value}}, "revision": n} → {revision, errors, saved_at}."""
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return _json_error(400, "invalid", _("The request is not valid JSON."))
    data = payload.get("data") if isinstance(payload, dict) else None
    revision = payload.get("revision") if isinstance(payload, dict) else None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        return _json_error(400, "invalid", _('Send the form\'s sections as an object under "data".'))
    if revision is not None and (isinstance(revision, bool) or not isinstance(revision, int)):
        return _json_error(400, "invalid", _('"revision" must be a whole number.'))
    try:
        application, errors = workflow.application_save_draft(
            application=application, by=request.user, data=data, revision=revision, request=request
        )
    except workflow.WorkflowRefused as exc:
        return _json_error(exc.status_code, exc.get_codes(), exc.message, exc.extra)
    saved_at = timezone.localtime(application.updated_at)
    return JsonResponse(
        {
            "revision": application.revision,
            "errors": errors,
            "saved_at": saved_at.isoformat(),
            "saved_at_display": saved_at.strftime("%H:%M"),
        }
    )


def _save_posted(request, enterprise: Enterprise, application: Application):
    """Save the form-encoded draft. Returns (application, errors) or a response to send instead."""
    data = _posted_sections(request.POST)
    try:
        return workflow.application_save_draft(
            application=application,
            by=request.user,
            data=data,
            revision=_int_or_none(request.POST.get("revision")),
            request=request,
        )
    except workflow.WorkflowRefused as exc:
        if exc.get_codes() == "stale":
            # Another window saved in between. Nothing typed is lost: show it again on top of the newer
            # version, with that version's number, so that saving once more keeps it.
            messages.error(
                request, exc.message + " " + _("What you typed is shown below; save again to keep it.")
            )
            fresh = selectors.application_for_member(enterprise, application.pk)
            return _render_detail(
                request,
                enterprise,
                fresh,
                values=_merged(fresh.data, data),
                revision=(exc.extra or {}).get("revision"),
                status=409,
            )
        messages.error(request, exc.message)
        return _redirect_detail(request, application)


@require_POST
@enterprise_member_required()
def application_save(request, tenant_code, enterprise, pk):
    application = selectors.application_for_member(enterprise, pk)
    if request.content_type == "application/json":
        return _save_json(request, application)
    outcome = _save_posted(request, enterprise, application)
    if not isinstance(outcome, tuple):
        return outcome
    application, errors = outcome
    if errors:
        messages.warning(
            request,
            ngettext(
                "The draft has been saved; %(n)d field needs correcting before you submit.",
                "The draft has been saved; %(n)d fields need correcting before you submit.",
                len(errors),
            )
            % {"n": len(errors)},
        )
    else:
        messages.success(request, _("The draft has been saved."))
    return _redirect_detail(request, application)


# --- attachments -----------------------------------------------------------------------------


@require_POST
@enterprise_member_required()
def application_attachments(request, tenant_code, enterprise, pk):
    application = selectors.application_for_member(enterprise, pk)
    anchor = "#attachments"
    try:
        if "detach" in request.POST:
            workflow.application_detach(
                application=application,
                attachment_id=_int_or_none(request.POST.get("detach")),
                by=request.user,
                request=request,
            )
            messages.success(request, _("The attachment has been removed."))
        else:
            slot = request.POST.get("slot", "")
            if slot in {s["code"] for s in workflow.attachment_slots(application.round.program)}:
                anchor = f"#slot-{slot}"
            # SECURITY: only the enterprise's own documents; anything else reads as "choose one of yours".
            document = Document.objects.filter(
                enterprise=enterprise, pk=_int_or_none(request.POST.get("document"))
            ).first()
            if document is None:
                raise ValidationError({"document": [_("Choose one of your enterprise's documents.")]})
            workflow.application_attach(
                application=application, slot=slot, document=document, by=request.user, request=request
            )
            messages.success(request, _("%(name)s is attached.") % {"name": document.original_name})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except workflow.WorkflowRefused as exc:
        messages.error(request, exc.message)
    return _redirect_detail(request, application, anchor)


# --- submitting and withdrawing -----------------------------------------------------------------


@require_POST
@enterprise_member_required()
def application_submit(request, tenant_code, enterprise, pk):
    application = selectors.application_for_member(enterprise, pk)
    action = Action.RESUBMIT if application.state == S.RETURNED else Action.SUBMIT
    if "revision" in request.POST and application.state in EDITABLE_STATES:
        # The submit button belongs to the form: what was typed since the last autosave is saved first.
        outcome = _save_posted(request, enterprise, application)
        if not isinstance(outcome, tuple):
            return outcome
        application = selectors.application_for_member(enterprise, pk)
    try:
        application = workflow.application_act(
            application=application, action=action, by=request.user, request=request
        )
    except DomainError as exc:
        if exc.fields:
            application = selectors.application_for_member(enterprise, pk)
            problems = workflow.application_problems(application) or [
                workflow.Problem("", anchor, message)
                for anchor, msgs in exc.fields.items()
                for message in msgs
            ]
            return _render_detail(
                request, enterprise, application, problems=problems, problem_title=exc.message, status=400
            )
        messages.error(request, exc.message)
        return _redirect_detail(request, application)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _redirect_detail(request, application)
    messages.success(
        request,
        _("The application has been submitted. It now waits for review at %(region)s.")
        % {"region": application.current_region.name if application.current_region_id else "—"},
    )
    return _redirect_detail(request, application)


@require_http_methods(["GET", "POST"])
@enterprise_member_required()
def application_withdraw(request, tenant_code, enterprise, pk):
    application = selectors.application_for_member(enterprise, pk)
    reason = workflow.application_can(application, Action.WITHDRAW, by=request.user)
    status = 200
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            messages.error(request, _("Tick the box to confirm that you withdraw the application."))
            status = 400
        else:
            try:
                application = workflow.application_act(
                    application=application,
                    action=Action.WITHDRAW,
                    by=request.user,
                    opinion=request.POST.get("opinion", ""),
                    request=request,
                )
            except DomainError as exc:
                messages.error(request, exc.message)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(request, _("The application has been withdrawn."))
            return _redirect_detail(request, application)
    return render(
        request,
        "certification/apply/withdraw.html",
        {"enterprise": enterprise, "application": application, "reason": reason},
        status=status,
    )


@enterprise_member_required()
def application_pdf(request, tenant_code, enterprise, pk):
    application = selectors.application_for_member(enterprise, pk)
    return application_pdf_response(request, application)
