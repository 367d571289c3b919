"""Officials' pages: rounds, the review queue, the application file and its experts; the experts' pages.

Each view checks who is asking, calls a selector or a workflow function, and renders. What an
official may see comes from `certification.selectors` (404 for anything else); what they may do
comes from `workflow.application_can`, whose reason is shown on the disabled button.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, Prefetch, prefetch_related_objects
from django.http import Http404, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views.decorators.http import require_POST

from certification import application_pdf, selectors, workflow
from certification.forms_review import (
    BulkRecommendForm,
    ExpertScoreForm,
    QueueFilterForm,
    ReviewActForm,
    RoundForm,
)
from certification.models import (
    LEVEL_ORDER,
    Application,
    ApplicationSnapshot,
    Level,
    Program,
    ReviewEvent,
    Round,
    RoundStage,
    Screening,
)
from certification.transitions import ACTION_LABELS, OFFICIAL_ACTIONS, Action
from enterprises.size_class import SizeClass
from portal.api.errors import DomainError
from portal.audit import audit_record
from portal.exports import xlsx_response
from portal.models import Post, Region
from portal.views import tenant_login_required

QUEUE_PAGE_SIZE = 25
EXPORT_LIMIT = 20000

# The history shows rows the transition table does not name (the draft's start, an expert withdrawn).
EVENT_LABELS = {
    **ACTION_LABELS,
    "start": gettext_lazy("draft started"),
    "unassign_expert": gettext_lazy("expert withdrawn"),
}


# --- who may use these pages -------------------------------------------------------------------


def _require_staff(request) -> None:
    """Officials who see a region (reviewers, administrators…). Experts and commissioners see only
    what is granted to them one by one, so these pages are not theirs.

    SECURITY: 404, not 403, so that another tenant's user learns nothing.
    """
    user = request.user
    if user.is_superuser:
        return
    if not any(p.sees_whole_subtree for p in user.posts_in(request.tenant)):
        raise Http404


def _require_expert(request) -> None:
    if not any(p.role == Post.Role.EXPERT for p in request.user.posts_in(request.tenant)):
        raise Http404


def _managed_programs(request) -> list[Program]:
    programs = (
        Program.objects.for_tenant(request.tenant).filter(is_active=True).select_related("owner_region")
    )
    return [p for p in programs.order_by("tier", "code") if selectors.can_manage_program(request.user, p)]


# --- rounds --------------------------------------------------------------------------------------


def round_phase(round_: Round, now=None) -> tuple[str, str]:
    now = now or timezone.now()
    if now < round_.opens_at:
        return "upcoming", pgettext("round", "upcoming")
    if now < round_.closes_at:
        return "open", pgettext("round", "open")
    return "closed", pgettext("round", "closed")


COUNTED_STATES = [s for s in Application.State if s != Application.State.DRAFT]


@tenant_login_required
def round_list(request, tenant_code):
    _require_staff(request)
    tenant = request.tenant
    rounds = selectors.rounds_visible_to(request.user, tenant)
    page = Paginator(rounds, 50).get_page(request.GET.get("page"))
    rows = list(page)
    # One aggregate query for the page, over the applications the user may see (not the whole tenant's).
    counts: dict[int, dict[str, int]] = {}
    for row in (
        selectors.applications_visible_to(request.user, tenant)
        .filter(round__in=[r.pk for r in rows])
        .order_by()
        .values("round_id", "state")
        .annotate(n=Count("id"))
    ):
        counts.setdefault(row["round_id"], {})[row["state"]] = row["n"]
    now = timezone.now()
    table = []
    for r in rows:
        by_state = counts.get(r.pk, {})
        phase, phase_label = round_phase(r, now)
        table.append(
            {
                "round": r,
                "phase": phase,
                "phase_label": phase_label,
                "counts": [by_state.get(s.value, 0) for s in COUNTED_STATES],
                "total": sum(by_state.values()),
            }
        )
    return render(
        request,
        "certification/review/round_list.html",
        {
            "page": page,
            "rows": table,
            "states": [s.label for s in COUNTED_STATES],
            "can_create": bool(_managed_programs(request)),
        },
    )


@tenant_login_required
def round_edit(request, tenant_code, pk=None):
    """Create (no pk) or change a round. Only the owner region's staff and tenant admins manage rounds."""
    _require_staff(request)
    tenant = request.tenant
    if pk is None:
        programs = _managed_programs(request)
        if not programs:
            raise Http404
        chosen = request.GET.get("program") or (str(programs[0].pk) if len(programs) == 1 else "")
        program = next((p for p in programs if str(p.pk) == chosen), None)
        if program is None:
            return render(request, "certification/review/round_choose_program.html", {"programs": programs})
        instance = None
    else:
        # SECURITY: a round the user may not manage is absent (404), whether or not they can see it.
        instance = get_object_or_404(
            selectors.rounds_managed_by(request.user, tenant).prefetch_related("stages"), pk=pk
        )
        program = instance.program
    form = RoundForm(request.POST or None, program=program, instance=instance)
    if request.method == "POST" and form.is_valid():
        round_ = form.round_instance()
        try:
            round_ = workflow.round_save(
                round_=round_,
                stages=form.stage_specs,
                quotas=form.quota_specs,
                by=request.user,
                request=request,
            )
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, _("The round %(name)s has been saved.") % {"name": round_.name})
            return HttpResponseRedirect(
                reverse("round_detail", kwargs={"tenant_code": tenant_code, "pk": round_.pk})
            )
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "certification/review/round_form.html",
        {"form": form, "program": program, "round": instance, "chain_levels": form.levels},
        status=status,
    )


def chart_rows(status_rows: list[dict], *, width: int = 420, row_height: int = 26) -> dict:
    """Geometry of the quota chart (server-side SVG): a bar per region for the recommendations used, a
    solid mark at the maximum and a dashed one at the minimum, all on one scale."""
    scale = max(
        [1]
        + [r["used"] for r in status_rows]
        + [r["maximum"] or 0 for r in status_rows]
        + [r["minimum"] or 0 for r in status_rows]
    )
    label_w, gap = 150, 10

    def x(value: int) -> float:
        return round(label_w + gap + value * width / scale, 1)

    rows = []
    for i, r in enumerate(status_rows):
        top = i * row_height + 4
        rows.append(
            {
                "name": r["region"].name,
                "y": top,
                "text_y": top + 14,
                "bar_w": round(r["used"] * width / scale, 1),
                "max_x": None if r["maximum"] is None else x(r["maximum"]),
                "min_x": None if r["minimum"] is None else x(r["minimum"]),
                "short": bool(r["shortfall"]),
                "full": r["maximum"] is not None and r["remaining"] == 0,
                "used": r["used"],
                "maximum": r["maximum"],
                "minimum": r["minimum"],
            }
        )
    return {
        "rows": rows,
        "height": len(rows) * row_height + 8,
        "width": label_w + gap + width + 90,
        "bar_x": label_w + gap,
        "track_w": width,
        "value_x": label_w + gap + width + 8,
        "scale": scale,
    }


def _ordered_stages(round_: Round) -> list[RoundStage]:
    return sorted(round_.stages.all(), key=lambda s: LEVEL_ORDER.index(s.level))


@tenant_login_required
def round_detail(request, tenant_code, pk):
    _require_staff(request)
    round_ = get_object_or_404(
        selectors.rounds_visible_to(request.user, request.tenant).prefetch_related("stages"), pk=pk
    )
    status_rows = workflow.quota_status(round_)
    phase, phase_label = round_phase(round_)
    queue = reverse("review_queue", kwargs={"tenant_code": tenant_code})
    return render(
        request,
        "certification/review/round_detail.html",
        {
            "round": round_,
            "phase": phase,
            "phase_label": phase_label,
            "stages": _ordered_stages(round_),
            "quota_rows": status_rows,
            "chart": chart_rows(status_rows) if status_rows else None,
            "can_edit": selectors.rounds_managed_by(request.user, request.tenant)
            .filter(pk=round_.pk)
            .exists(),
            "queue_url": f"{queue}?{urlencode({'tab': 'all', 'round': round_.pk})}",
            "queue_waiting_url": f"{queue}?{urlencode({'tab': 'waiting', 'round': round_.pk})}",
        },
    )


# --- the queue -----------------------------------------------------------------------------------


def _queue_form(request) -> QueueFilterForm:
    tenant = request.tenant
    counties = (
        Region.objects.visible_to(request.user, tenant)
        .filter(level=Region.Level.COUNTY)
        .select_related("parent")
        .order_by("code")
    )
    default_tab = "waiting" if selectors.reviewer_posts(request.user, tenant) else "all"
    form = QueueFilterForm(
        request.GET or None,
        rounds=selectors.rounds_visible_to(request.user, tenant).order_by("-opens_at"),
        counties=counties,
        default_tab=default_tab,
    )
    form.is_valid()  # an invalid filter is shown with its error and ignored
    return form


def _queue(request, form: QueueFilterForm):
    # A filter that failed validation is absent from cleaned_data, so it is dropped (the form shows why).
    kwargs = form.selector_kwargs()
    qs = selectors.application_queue(user=request.user, tenant=request.tenant, **kwargs)
    # Keeps the row cost flat: the deadline and application_can read the round's stages (and its tenant,
    # prefetched by the selector) from memory, whatever the number of rows.
    return qs.prefetch_related(Prefetch("round__stages", queryset=RoundStage.objects.order_by("deadline")))


def _deadline(application: Application):
    if not application.level:
        return None
    stage = workflow.stage_for(application.round, application.level)
    return stage.deadline if stage else None


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


@tenant_login_required
def review_queue(request, tenant_code):
    _require_staff(request)
    form = _queue_form(request)
    page = Paginator(_queue(request, form), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = []
    for application in page:
        deadline = _deadline(application)
        rows.append(
            {
                "app": application,
                "deadline": deadline,
                "overdue": deadline is not None and deadline < now,
                # No query per row: stages are prefetched, posts cached on the user, the tenant joined.
                "can_recommend": application.is_waiting
                and workflow.application_can(application, Action.RECOMMEND, by=request.user) is None,
            }
        )
    query = _query_without_page(request)
    return render(
        request,
        "certification/review/queue.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "tab": form.current_tab,
            "query": query,
            "any_selectable": any(r["can_recommend"] for r in rows),
            "export_url": reverse("review_queue_export", kwargs={"tenant_code": tenant_code})
            + (f"?{query}" if query else ""),
            "tab_urls": {tab: "?" + _with(request.GET, tab=tab) for tab in ("waiting", "all")},
        },
    )


def _with(params: QueryDict, **changes) -> str:
    query = params.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@tenant_login_required
def review_queue_export(request, tenant_code):
    _require_staff(request)
    form = _queue_form(request)
    qs = _queue(request, form)
    audit_record(
        action="application.queue_exported",
        actor=request.user,
        request=request,
        summary=request.GET.urlencode()[:500],
    )
    verdicts = dict(Screening.Verdict.choices)
    sizes = {s.value: s.label for s in SizeClass}
    return xlsx_response(
        filename=f"review-queue-{request.tenant.code}-{timezone.localdate():%Y%m%d}.xlsx",
        title=_("Review queue"),
        columns=[
            (_("Enterprise"), lambda a: a.enterprise.name),
            (_("Unified social credit code"), lambda a: a.enterprise.uscc),
            (_("County"), lambda a: a.county.name),
            (_("Programme"), lambda a: a.round.program.name),
            (_("Round"), lambda a: a.round.name),
            (_("State"), lambda a: a.get_state_display()),
            (_("Waiting at"), lambda a: a.current_region.name if a.current_region_id else ""),
            (_("Level"), lambda a: a.get_level_display() if a.level else ""),
            (_("Verdict"), lambda a: str(verdicts.get(a.verdict, a.verdict))),
            (_("Score"), lambda a: a.score),
            (_("Expert mean"), lambda a: a.expert_mean),
            (_("Industry"), lambda a: str(a.enterprise.industry) if a.enterprise.industry_id else ""),
            (_("Size class"), lambda a: str(sizes.get(a.enterprise.size_class, a.enterprise.size_class))),
            (_("Submitted"), lambda a: a.submitted_at),
            (_("Deadline"), _deadline),
        ],
        rows=qs[:EXPORT_LIMIT].iterator(chunk_size=500),
    )


def _back_to_queue(tenant_code: str, query: str) -> HttpResponseRedirect:
    # Re-encode the kept query so that only our own page's parameters come back.
    safe = QueryDict(query or "").urlencode()
    url = reverse("review_queue", kwargs={"tenant_code": tenant_code})
    return HttpResponseRedirect(f"{url}?{safe}" if safe else url)


@require_POST
@tenant_login_required
def review_bulk(request, tenant_code):
    """Recommend every ticked application, or none of them (e.g. when the quota would be passed)."""
    _require_staff(request)
    query = request.POST.get("query", "")
    requested = [v for v in request.POST.getlist("ids") if v.isdigit()]
    visible_ids = list(
        selectors.applications_visible_to(request.user, request.tenant)
        .filter(pk__in=requested)
        .values_list("pk", flat=True)
    )
    form = BulkRecommendForm(request.POST, visible_ids=visible_ids)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return _back_to_queue(tenant_code, query)
    try:
        done = workflow.application_recommend_bulk(
            tenant=request.tenant,
            ids=form.cleaned_data["ids"],
            by=request.user,
            opinion=form.cleaned_data["opinion"],
            request=request,
        )
    except (DomainError, ValidationError) as exc:
        messages.error(request, _message(exc))
    else:
        messages.success(
            request,
            ngettext(
                "%(n)d application recommended to the next level.",
                "%(n)d applications recommended to the next level.",
                len(done),
            )
            % {"n": len(done)},
        )
    return _back_to_queue(tenant_code, query)


def _message(exc) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    return " ".join(exc.messages)


# --- the application file ----------------------------------------------------------------------

BASIC_LABELS = [
    ("name", gettext_lazy("Legal name")),
    ("uscc", gettext_lazy("Unified social credit code")),
    ("county", gettext_lazy("County")),
    ("address", gettext_lazy("Address")),
    ("industry", gettext_lazy("Industry")),
    ("size_class_label", gettext_lazy("Size class")),
    ("established_date", gettext_lazy("Established")),
    ("legal_representative", gettext_lazy("Legal representative")),
    ("contact_person", gettext_lazy("Contact person")),
    ("contact_phone", gettext_lazy("Mobile phone")),
    ("contact_email", gettext_lazy("Email")),
    ("main_product", gettext_lazy("Main product")),
]


def snapshot_context(application: Application, snapshot: ApplicationSnapshot | None) -> dict:
    """What the snapshot partial shows: the same reading of a snapshot as the 申报书 PDF and the
    enterprise's own page (application_pdf.snapshot_context), plus the basic facts as labelled rows."""
    if snapshot is None:
        return {"snapshot": None}
    context = application_pdf.snapshot_context(application, snapshot)
    basic = context.get("basic") or {}
    context["basic_rows"] = [(label, basic.get(key, "")) for key, label in BASIC_LABELS]
    return context


def _snapshots(application: Application, wanted: str | None):
    snapshots = list(application.snapshots.order_by("-number"))
    selected = None
    if wanted and wanted.isdigit():
        selected = next((s for s in snapshots if s.number == int(wanted)), None)
    return snapshots, selected or (snapshots[0] if snapshots else None)


def _expert_assign_reason(application: Application, user) -> str | None:
    """Why the user may not assign experts now, or None (the workflow's own check, without acting)."""
    return workflow.expert_can_assign(application, by=user)


def _experts_context(application: Application, user) -> dict:
    program = application.round.program
    indicators = workflow.indicators(program)
    levels = workflow.application_levels(application.round, application.county)
    at_final = application.is_waiting and bool(levels) and application.level == levels[-1]
    summary = workflow.expert_summary(application)
    if not indicators or not (at_final or summary["assignments"]):
        return {"experts": None}
    reason = _expert_assign_reason(application, user) if at_final else None
    assigned_ids = {a.expert_id for a in summary["assignments"]}
    pool = []
    if at_final and reason is None:
        for profile in workflow.expert_pool(application.round.tenant).order_by("user__username"):
            if profile.user_id in assigned_ids:
                continue
            pool.append({"profile": profile, "conflict": workflow.expert_conflict(profile, application)})
    rows = [
        {
            "assignment": a,
            "scores": [a.scores.get(ind["code"]) for ind in indicators],
            "can_unassign": at_final and reason is None and a.submitted_at is None,
        }
        for a in summary["assignments"]
    ]
    return {
        "experts": {
            "indicators": indicators,
            "rows": rows,
            "mean": summary["mean"],
            "spread": summary["spread"],
            "count": summary["count"],
            "needed": summary["needed"],
            "pool": pool,
            "assign_reason": reason
            if at_final
            else _("Experts are assigned while the application waits at the last level."),
            "at_final": at_final,
        }
    }


def _detail_context(request, application: Application, *, act_form: ReviewActForm | None = None) -> dict:
    user = request.user
    snapshots, snapshot = _snapshots(application, request.GET.get("snapshot"))
    events = list(
        ReviewEvent.objects.filter(application=application)
        .select_related("region")
        .order_by("created_at", "id")
    )
    timeline = [
        {
            "event": e,
            "label": EVENT_LABELS.get(e.action, e.action),
            "level": Level(e.level).label if e.level else "",
        }
        for e in events
    ]
    actions = []
    for action in OFFICIAL_ACTIONS:
        reason = workflow.application_can(application, action, by=user)
        actions.append({"code": action, "label": ACTION_LABELS[action], "reason": reason})
    quota = None
    if application.current_region_id:
        quota = next(
            (
                r
                for r in workflow.quota_status(application.round)
                if r["region"].pk == application.current_region_id
            ),
            None,
        )
    context = {
        "application": application,
        "deadline": _deadline(application),
        "snapshots": snapshots,
        "timeline": timeline,
        "actions": actions,
        "any_action": any(a["reason"] is None for a in actions),
        "quota": quota,
        "act_form": act_form or ReviewActForm(),
        "result": snapshot.result if snapshot else None,
        "version": application.round.version,
        "program": application.round.program,
        "can_download": True,
        **snapshot_context(application, snapshot),
        **_experts_context(application, user),
    }
    return context


def _application(request, pk) -> Application:
    """The application as the official may see it (404 otherwise), with its round's chain loaded once."""
    application = selectors.application_for_official(request.user, request.tenant, pk)
    prefetch_related_objects([application], "round__stages")
    return application


@tenant_login_required
def review_detail(request, tenant_code, pk):
    _require_staff(request)
    application = _application(request, pk)
    return render(request, "certification/review/detail.html", _detail_context(request, application))


@require_POST
@tenant_login_required
def review_act(request, tenant_code, pk):
    _require_staff(request)
    application = _application(request, pk)
    form = ReviewActForm(request.POST)
    if not form.is_valid():
        context = _detail_context(request, application, act_form=form)
        return render(request, "certification/review/detail.html", context, status=400)
    action = form.cleaned_data["action"]
    try:
        application = workflow.application_act(
            application=application,
            action=action,
            by=request.user,
            opinion=form.cleaned_data["opinion"],
            minor=form.cleaned_data["minor"] and action == Action.RETURN,
            request=request,
        )
    except ValidationError as exc:
        for field, errors in (
            exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        ):
            for error in errors:
                form.add_error(field if field in form.fields else None, error)
        # Nothing changed: the workflow worked on its own locked copy and rolled back.
        context = _detail_context(request, application, act_form=form)
        return render(request, "certification/review/detail.html", context, status=400)
    except DomainError as exc:
        form.add_error(None, exc.message)
        context = _detail_context(request, application, act_form=form)
        return render(request, "certification/review/detail.html", context, status=exc.status_code)
    if application.is_waiting:
        done = _("%(action)s: done. The application now waits at %(region)s (%(level)s).") % {
            "action": ACTION_LABELS[action],
            "region": application.current_region.name,
            "level": application.get_level_display(),
        }
    else:
        done = _("%(action)s: done. The application is now %(state)s.") % {
            "action": ACTION_LABELS[action],
            "state": application.get_state_display(),
        }
    messages.success(request, done)
    return HttpResponseRedirect(
        reverse("review_detail", kwargs={"tenant_code": tenant_code, "pk": application.pk})
    )


@require_POST
@tenant_login_required
def review_experts(request, tenant_code, pk):
    """Assign an expert from the pool, or withdraw one who has not scored yet."""
    _require_staff(request)
    application = selectors.application_for_official(request.user, request.tenant, pk)
    op = request.POST.get("op")
    try:
        if op == "assign":
            profile = (
                workflow.expert_pool(request.tenant).filter(user_id=request.POST.get("expert") or 0).first()
                if (request.POST.get("expert") or "").isdigit()
                else None
            )
            if profile is None:
                raise ValidationError(_("This person is not in the expert pool of this portal."))
            workflow.expert_assign(
                application=application, expert=profile.user, by=request.user, request=request
            )
            messages.success(request, _("%(expert)s has been asked to score.") % {"expert": profile.user})
        elif op == "unassign":
            assignment = (
                application.expert_assignments.select_related("expert")
                .filter(
                    pk=request.POST.get("assignment")
                    if (request.POST.get("assignment") or "").isdigit()
                    else 0
                )
                .first()
            )
            if assignment is None:
                raise Http404
            workflow.expert_unassign(assignment=assignment, by=request.user, request=request)
            messages.success(request, _("%(expert)s has been withdrawn.") % {"expert": assignment.expert})
        else:
            raise Http404
    except (DomainError, ValidationError) as exc:
        messages.error(request, _message(exc))
    url = reverse("review_detail", kwargs={"tenant_code": tenant_code, "pk": application.pk})
    return HttpResponseRedirect(f"{url}#experts")


@tenant_login_required
def review_pdf(request, tenant_code, pk):
    _require_staff(request)
    application = selectors.application_for_official(request.user, request.tenant, pk)
    return application_pdf.application_pdf_response(request, application)


# --- experts ---------------------------------------------------------------------------------------


@tenant_login_required
def expert_home(request, tenant_code):
    _require_expert(request)
    assignments = selectors.expert_assignments_of(request.user, request.tenant).order_by(
        # Pending first on every database (PostgreSQL sorts NULL last in ascending order).
        F("submitted_at").asc(nulls_first=True),
        "-assigned_at",
    )
    return render(request, "certification/review/expert_home.html", {"assignments": list(assignments)})


@tenant_login_required
def expert_review(request, tenant_code, pk):
    """An expert reads the application as submitted and scores it. Only their own assignment exists."""
    _require_expert(request)
    assignment = selectors.expert_assignment_for(request.user, request.tenant, pk)
    application = (
        Application.objects.select_related(
            "round__program", "round__version", "round__tenant", "county", "enterprise"
        )
        .filter(pk=assignment.application_id)
        .get()
    )
    indicators = workflow.indicators(application.round.program)
    form = None
    if assignment.submitted_at is None:
        form = ExpertScoreForm(request.POST or None, indicators=indicators)
        if request.method == "POST" and form.is_valid():
            try:
                workflow.expert_score(
                    assignment=assignment,
                    by=request.user,
                    scores=form.scores(),
                    opinion=form.cleaned_data["opinion"],
                    request=request,
                )
            except ValidationError as exc:
                form.apply_errors(exc)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Your scores have been submitted. Thank you."))
                return HttpResponseRedirect(
                    reverse("expert_review", kwargs={"tenant_code": tenant_code, "pk": assignment.pk})
                )
    elif request.method == "POST":
        messages.error(request, _("You have already submitted your scores for this application."))
    snapshot = workflow.latest_snapshot(application)
    scored = [
        {"label": ind["label"], "max": ind["max"], "value": assignment.scores.get(ind["code"])}
        for ind in indicators
    ]
    status = 400 if request.method == "POST" and form is not None and form.errors else 200
    return render(
        request,
        "certification/review/expert_review.html",
        {
            "assignment": assignment,
            "application": application,
            "form": form,
            "scored": scored,
            # Experts are granted the application, not the enterprise: the document pages do not open for
            # them, so the attachments are listed without links.
            "can_download": False,
            **snapshot_context(application, snapshot),
        },
        status=status,
    )
