"""API of rounds, applications and their review, under /api/v1/<tenant_code>/.

Every rule lives in `certification.workflow`: a view here finds the caller's object through a
selector, calls one workflow function and serialises what it returns. Refusals come back as the
workflow raised them: WorkflowRefused → 409 with the reason, an incomplete submission → 400 with
every problem under `fields`, a ValidationError → 400 with `fields`.

SECURITY: an application is looked up for a member through their enterprise and for an official
or expert through `application_for_official`; whatever neither finds is a 404, never a 403, so an
application of another enterprise, region or tenant is indistinguishable from one that does not exist.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from certification import selectors, workflow
from certification.models import (
    Application,
    ApplicationAttachment,
    ApplicationSnapshot,
    CriteriaVersion,
    ExpertAssignment,
    Level,
    Program,
    ReviewEvent,
    Round,
    Screening,
)
from certification.transitions import (
    ACTION_LABELS,
    ALL_ACTIONS,
    ENTERPRISE_ACTIONS,
    MEMBER_TIMELINE,
    OFFICIAL_ACTIONS,
)
from enterprises.models import Document, Enterprise
from enterprises.permissions import user_enterprise
from portal.api.views import TENANT_PARAM, TenantAPIMixin
from portal.models import Region

# drf-spectacular names a `pk` path variable `id` (SCHEMA_COERCE_PATH_PK); describe it under that name.
PK_PARAM = OpenApiParameter("id", int, OpenApiParameter.PATH, description="application id")


# --- who is asking -----------------------------------------------------------------------------


def caller_enterprise(request) -> Enterprise | None:
    """The enterprise the caller acts for in this tenant, once per request."""
    if not hasattr(request, "_srdi_enterprise"):
        request._srdi_enterprise = user_enterprise(request.user, request.tenant)
    return request._srdi_enterprise


def application_for(request, pk: int) -> tuple[Application, bool]:
    """(application, seen as a member). Members first, then officials and assigned experts; else 404."""
    enterprise = caller_enterprise(request)
    if enterprise is not None:
        try:
            return selectors.application_for_member(enterprise, pk), True
        except Http404:
            pass  # a member may also hold a post: try the official's view of it
    return selectors.application_for_official(request.user, request.tenant, pk), False


def member_application(request, pk: int) -> Application:
    """The caller's enterprise's application; an official who may see it is told why they cannot change it."""
    application, as_member = application_for(request, pk)
    if not as_member:
        raise PermissionDenied(_("Only a member of the applicant enterprise can do this."))
    return application


def reviewer_application(request, pk: int) -> Application:
    """An application the caller sees through a post's region, not merely through an expert's grant.

    SECURITY: an assigned expert sees the application but not the other experts or their scores.
    """
    application = selectors.application_for_official(request.user, request.tenant, pk)
    if not Application.objects.visible_to(request.user, request.tenant).filter(pk=application.pk).exists():
        raise Http404
    return application


def _validate(serializer_class, data, **context):
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class PaginatedMixin:
    """Lists use the project's pagination settings (DEFAULT_PAGINATION_CLASS, PAGE_SIZE)."""

    pagination_class = api_settings.DEFAULT_PAGINATION_CLASS

    def paginated(self, queryset, serializer_class, **context):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, self.request, view=self)
        context = {"request": self.request, **context}
        return paginator.get_paginated_response(serializer_class(page, many=True, context=context).data)


# --- serializers: errors and references --------------------------------------------------------


class APIErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField(help_text="e.g. not_allowed, quota_reached, stale, incomplete, not_found")
    message = serializers.CharField(help_text="In the request's language; for a refusal, the reason.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Field (or, for an incomplete submission, form anchor) → messages: every problem at once.",
    )
    extra = serializers.DictField(required=False, help_text="e.g. the current revision of a stale save.")


class APIErrorSerializer(serializers.Serializer):
    error = APIErrorBodySerializer()


# Ids and revisions sent in a body stay within the primary keys' range (BigAutoField): a larger number is a
# 400 naming the field, not an overflow inside the query (a 500 on SQLite, found by tests/api/test_fuzzing.py).
MAX_ID = 2**63 - 1


def errors(*codes: int) -> dict[int, type[serializers.Serializer]]:
    return dict.fromkeys(codes, APIErrorSerializer)


class RegionRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


# --- rounds ------------------------------------------------------------------------------------


class RoundStageSerializer(serializers.Serializer):
    level = serializers.CharField()
    level_display = serializers.CharField(source="get_level_display")
    deadline = serializers.DateTimeField()


class RoundQuotaSerializer(serializers.Serializer):
    region = serializers.CharField(source="region.code")
    region_name = serializers.CharField(source="region.name")
    maximum = serializers.IntegerField(allow_null=True)
    minimum = serializers.IntegerField(allow_null=True)
    used = serializers.IntegerField()
    remaining = serializers.IntegerField(allow_null=True)
    shortfall = serializers.IntegerField(allow_null=True)
    source = serializers.CharField()


class RoundSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    program = serializers.CharField(source="program.code")
    program_name = serializers.CharField(source="program.name")
    version = serializers.IntegerField(source="version_id")
    version_label = serializers.CharField(source="version.label")
    name = serializers.CharField()
    year = serializers.IntegerField()
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    notes = serializers.CharField()
    is_open = serializers.BooleanField()
    stages = serializers.SerializerMethodField()

    @extend_schema_field(RoundStageSerializer(many=True))
    def get_stages(self, round_: Round):
        stages = sorted(round_.stages.all(), key=lambda s: workflow.LEVEL_ORDER.index(s.level))
        return RoundStageSerializer(stages, many=True).data


class RoundDetailSerializer(RoundSerializer):
    quotas = serializers.SerializerMethodField(help_text="Officials only: null for enterprise users.")
    can_manage = serializers.SerializerMethodField()

    @extend_schema_field(RoundQuotaSerializer(many=True, allow_null=True))
    def get_quotas(self, round_: Round):
        if not self.context.get("official"):
            return None
        return RoundQuotaSerializer(workflow.quota_status(round_), many=True).data

    def get_can_manage(self, round_: Round) -> bool:
        return selectors.can_manage_program(self.context["request"].user, round_.program)


class StageInputSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    deadline = serializers.DateTimeField()


class QuotaInputSerializer(serializers.Serializer):
    region = serializers.CharField(max_length=6, help_text="GB/T 2260 code of a region of this tenant")
    maximum = serializers.IntegerField(min_value=0, allow_null=True, required=False, default=None)
    minimum = serializers.IntegerField(min_value=0, allow_null=True, required=False, default=None)
    source = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")


class RoundInputMixin:
    """Turns codes and ids into the tenant's objects and the workflow's specs."""

    def validate_version(self, value):
        version = CriteriaVersion.objects.filter(program__tenant=self.context["tenant"], pk=value).first()
        if version is None:
            raise serializers.ValidationError(_("There is no such criteria version in this portal."))
        return version

    def validate_stages(self, value):
        return [workflow.StageSpec(level=s["level"], deadline=s["deadline"]) for s in value]

    def validate_quotas(self, value):
        codes = [q["region"] for q in value]
        regions = {
            r.code: r for r in Region.objects.for_tenant(self.context["tenant"]).filter(code__in=codes)
        }
        unknown = [c for c in codes if c not in regions]
        if unknown:
            raise serializers.ValidationError(
                _("No region of this portal has the code %(codes)s.") % {"codes": "、".join(unknown)}
            )
        return [
            workflow.QuotaSpec(
                region=regions[q["region"]], maximum=q["maximum"], minimum=q["minimum"], source=q["source"]
            )
            for q in value
        ]


class RoundCreateSerializer(RoundInputMixin, serializers.Serializer):
    program = serializers.SlugField(help_text="programme code")
    version = serializers.IntegerField(max_value=MAX_ID, help_text="criteria version id of the programme")
    name = serializers.CharField(max_length=120)
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False, allow_null=True)
    opens_at = serializers.DateTimeField()
    closes_at = serializers.DateTimeField()
    notes = serializers.CharField(allow_blank=True, required=False, default="")
    stages = StageInputSerializer(
        many=True, help_text="the review chain: one stage per level, with deadlines"
    )
    quotas = QuotaInputSerializer(many=True, required=False, default=list)

    def validate_program(self, value):
        program = Program.objects.for_tenant(self.context["tenant"]).filter(code=value).first()
        if program is None:
            raise serializers.ValidationError(_("There is no such programme in this portal."))
        return program


class RoundUpdateSerializer(RoundInputMixin, serializers.Serializer):
    """What a PATCH may change; the programme stays. Fields not sent keep their value."""

    version = serializers.IntegerField(
        max_value=MAX_ID, required=False, help_text="criteria version id of the programme"
    )
    name = serializers.CharField(max_length=120, required=False)
    year = serializers.IntegerField(min_value=2000, max_value=2100, required=False, allow_null=True)
    opens_at = serializers.DateTimeField(required=False)
    closes_at = serializers.DateTimeField(required=False)
    notes = serializers.CharField(allow_blank=True, required=False)
    stages = StageInputSerializer(many=True, required=False, help_text="replaces the chain")
    quotas = QuotaInputSerializer(many=True, required=False, help_text="replaces the quotas")


def _rounds_for(request):
    """Enterprise users: the rounds open to their enterprise; officials: the rounds of their regions."""
    enterprise = caller_enterprise(request)
    if enterprise is not None:
        return workflow.rounds_open_to(enterprise).prefetch_related("stages"), False
    qs = selectors.rounds_visible_to(request.user, request.tenant).prefetch_related("stages")
    return qs.order_by("-opens_at", "-id"), True


def _round_for(request, pk: int) -> tuple[Round, bool]:
    enterprise = caller_enterprise(request)
    if enterprise is not None:
        # The rounds open to it, and any round it applied to (which may have closed since).
        open_now = workflow.rounds_open_to(enterprise).values("pk")
        qs = (
            Round.objects.for_tenant(request.tenant)
            .filter(Q(pk__in=open_now) | Q(applications__enterprise=enterprise))
            .distinct()
        )
        official = False
    else:
        qs, official = selectors.rounds_visible_to(request.user, request.tenant), True
    round_ = (
        qs.select_related("program__owner_region", "version").prefetch_related("stages").filter(pk=pk).first()
    )
    if round_ is None:
        raise Http404
    return round_, official


def _round_response(request, round_: Round, *, official: bool = True, code=status.HTTP_200_OK):
    round_ = (
        Round.objects.select_related("program__owner_region", "version")
        .prefetch_related("stages")
        .get(pk=round_.pk)
    )
    context = {"request": request, "official": official}
    return Response(RoundDetailSerializer(round_, context=context).data, status=code)


@extend_schema(parameters=[TENANT_PARAM])
class RoundListApi(TenantAPIMixin, PaginatedMixin, APIView):
    """Rounds (申报批次): enterprise users see those open to them, officials those of their regions."""

    @extend_schema(responses={200: RoundSerializer(many=True), **errors(401)})
    def get(self, request, tenant_code):
        qs, _official = _rounds_for(request)
        return self.paginated(qs, RoundSerializer)

    @extend_schema(
        request=RoundCreateSerializer,
        responses={201: RoundDetailSerializer, **errors(400, 401, 403)},
        description="Open a round: tenant administrators and the programme owner's reviewers.",
    )
    def post(self, request, tenant_code):
        data = _validate(RoundCreateSerializer, request.data, tenant=self.tenant)
        program = data["program"]
        if not selectors.can_manage_program(request.user, program):
            raise PermissionDenied(
                _("Only the programme owner's reviewers and tenant administrators manage rounds.")
            )
        round_ = Round(
            program=program,
            version=data["version"],
            name=data["name"],
            year=data.get("year"),
            opens_at=data["opens_at"],
            closes_at=data["closes_at"],
            notes=data["notes"],
        )
        round_ = workflow.round_save(
            round_=round_, stages=data["stages"], quotas=data["quotas"], by=request.user, request=request
        )
        return _round_response(request, round_, code=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[TENANT_PARAM, OpenApiParameter("id", int, OpenApiParameter.PATH, description="round id")]
)
class RoundDetailApi(TenantAPIMixin, APIView):
    """One round with its chain; officials also get the quotas with what is used, left and short."""

    @extend_schema(responses={200: RoundDetailSerializer, **errors(401, 404)})
    def get(self, request, tenant_code, pk):
        round_, official = _round_for(request, pk)
        return _round_response(request, round_, official=official)

    @extend_schema(
        request=RoundUpdateSerializer,
        responses={200: RoundDetailSerializer, **errors(400, 401, 403, 404)},
        description="Change a round (partial). The programme stays; `stages` replaces the chain when given, "
        "`quotas` replaces the quotas when given.",
    )
    def patch(self, request, tenant_code, pk):
        round_, official = _round_for(request, pk)
        if not official or not selectors.can_manage_program(request.user, round_.program):
            raise PermissionDenied(
                _("Only the programme owner's reviewers and tenant administrators manage rounds.")
            )
        data = _validate(RoundUpdateSerializer, request.data, tenant=self.tenant)
        for name in ("version", "name", "year", "opens_at", "closes_at", "notes"):
            if name in data:
                setattr(round_, name, data[name])
        stages = data.get("stages")
        if stages is None:
            stages = [workflow.StageSpec(s.level, s.deadline) for s in round_.stages.all()]
        round_ = workflow.round_save(
            round_=round_, stages=stages, quotas=data.get("quotas"), by=request.user, request=request
        )
        return _round_response(request, round_)


# --- applications: serializers -------------------------------------------------------------------


class ApplicationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    state_display = serializers.CharField(source="get_state_display")
    level = serializers.CharField(
        help_text="the level it waits at; empty when no official is expected to act"
    )
    level_display = serializers.CharField(source="get_level_display")
    waiting_at = RegionRefSerializer(source="current_region", allow_null=True)
    round = serializers.IntegerField(source="round_id")
    round_name = serializers.CharField(source="round.name")
    program = serializers.CharField(source="round.program.code")
    enterprise = serializers.IntegerField(source="enterprise_id")
    enterprise_name = serializers.CharField(source="enterprise.name")
    uscc = serializers.CharField(source="enterprise.uscc")
    county = RegionRefSerializer()
    verdict = serializers.CharField(help_text="screening verdict of the submitted facts")
    score = serializers.IntegerField(allow_null=True)
    expert_mean = serializers.SerializerMethodField(
        help_text="mean of the experts' totals: reviewers only (null for the applicant, as on its pages)"
    )
    created_at = serializers.DateTimeField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True))
    def get_expert_mean(self, application: Application):
        if self.context.get("member") or application.expert_mean is None:
            return None
        return f"{application.expert_mean:.2f}"


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    slot = serializers.CharField()
    document = serializers.IntegerField(source="document_id")
    name = serializers.CharField(source="document.original_name")
    doc_type = serializers.CharField(source="document.doc_type")
    scan_status = serializers.CharField(source="document.scan_status")


class AttachmentSlotSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    doc_types = serializers.ListField(child=serializers.CharField())
    required = serializers.BooleanField()


class SnapshotSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    facts = serializers.JSONField()
    profile = serializers.JSONField(
        help_text="basic information, figures, IP and qualifications as submitted"
    )
    data = serializers.JSONField(help_text="the form as submitted")
    attachments = serializers.JSONField()
    result = serializers.JSONField(help_text="the screening result against the round's criteria version")


class ApplicationDetailSerializer(ApplicationSerializer):
    revision = serializers.IntegerField(help_text="send it back with the next PATCH: a stale save is refused")
    return_level = serializers.CharField(
        help_text="set after a minor return: resubmission goes straight there"
    )
    data = serializers.SerializerMethodField(help_text="the form: members only (officials read the snapshot)")
    attachments = serializers.SerializerMethodField(help_text="the draft's attachments: members only")
    attachment_slots = serializers.SerializerMethodField(help_text="what the programme asks to attach")
    snapshot = serializers.SerializerMethodField(help_text="what was last submitted; null before submission")
    actions = serializers.SerializerMethodField(
        help_text="what the caller may do now: action → null when allowed, else the reason why not"
    )

    @extend_schema_field({"type": "object", "additionalProperties": {}, "nullable": True})
    def get_data(self, application: Application):
        return application.data if self.context["member"] else None

    @extend_schema_field(AttachmentSerializer(many=True, allow_null=True))
    def get_attachments(self, application: Application):
        if not self.context["member"]:
            return None
        rows = application.attachments.select_related("document").order_by("slot", "id")
        return AttachmentSerializer(rows, many=True).data

    @extend_schema_field(AttachmentSlotSerializer(many=True))
    def get_attachment_slots(self, application: Application):
        return AttachmentSlotSerializer(workflow.attachment_slots(application.round.program), many=True).data

    @extend_schema_field(SnapshotSerializer(allow_null=True))
    def get_snapshot(self, application: Application):
        snapshot: ApplicationSnapshot | None = workflow.latest_snapshot(application)
        return None if snapshot is None else SnapshotSerializer(snapshot).data

    @extend_schema_field(serializers.DictField(child=serializers.CharField(allow_null=True)))
    def get_actions(self, application: Application):
        user = self.context["request"].user
        actions = ENTERPRISE_ACTIONS if self.context["member"] else OFFICIAL_ACTIONS
        return {
            action: (
                None
                if (reason := workflow.application_can(application, action, by=user)) is None
                else str(reason)
            )
            for action in actions
        }


def _detail(request, pk: int, *, code=status.HTTP_200_OK, **extra) -> Response:
    """The application as the caller sees it now, fetched again through the caller's own lookup."""
    application, as_member = application_for(request, pk)
    data = ApplicationDetailSerializer(application, context={"request": request, "member": as_member}).data
    return Response({**data, **extra} if extra else data, status=code)


class QueueQuerySerializer(serializers.Serializer):
    """Filters of the officials' list (ignored for enterprise users but `round` and `state`)."""

    waiting = serializers.BooleanField(
        required=False, default=False, help_text="only what waits at the caller's own regions for them to act"
    )
    round = serializers.IntegerField(max_value=MAX_ID, required=False, min_value=1)
    state = serializers.ChoiceField(choices=Application.State.choices, required=False)
    county = serializers.CharField(required=False, max_length=6, help_text="county code")
    verdict = serializers.ChoiceField(choices=Screening.Verdict.choices, required=False)
    score_min = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    score_max = serializers.DecimalField(max_digits=6, decimal_places=2, required=False)
    industry = serializers.CharField(required=False, max_length=5, help_text="GB/T 4754 code prefix")
    size_class = serializers.CharField(required=False, max_length=8)
    search = serializers.CharField(required=False, max_length=100, help_text="enterprise name or USCC")
    ordering = serializers.ChoiceField(choices=list(selectors.SORTS), required=False, default="-submitted")


class StartSerializer(serializers.Serializer):
    round = serializers.IntegerField(max_value=MAX_ID, min_value=1)


class DraftSaveSerializer(serializers.Serializer):
    data = serializers.DictField(
        help_text='sections of the form: {"products": {...}, "innovation": {...}, "commitment": {...}}; '
        "fields not sent keep their value"
    )
    revision = serializers.IntegerField(
        max_value=MAX_ID, min_value=0, help_text="the revision the client's copy is based on"
    )


class DraftSavedSerializer(ApplicationDetailSerializer):
    field_errors = serializers.DictField(
        child=serializers.CharField(),
        help_text='"section.field" → message; the values are kept as typed, and submission refuses them',
    )


class AttachSerializer(serializers.Serializer):
    slot = serializers.CharField(max_length=40)
    document = serializers.IntegerField(
        max_value=MAX_ID, min_value=1, help_text="id of one of the enterprise's documents"
    )


class ActSerializer(serializers.Serializer):
    opinion = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="审核意见; required to return or reject"
    )
    minor = serializers.BooleanField(
        required=False, default=False, help_text="return only: a minor correction goes back to this level"
    )


class BulkRecommendSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=500
    )
    opinion = serializers.CharField(required=False, allow_blank=True, default="")


class BulkRecommendedSerializer(serializers.Serializer):
    applications = ApplicationSerializer(many=True)


class ReviewEventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    action = serializers.CharField()
    action_display = serializers.SerializerMethodField()
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    level = serializers.CharField()
    region = RegionRefSerializer(allow_null=True)
    actor = serializers.SerializerMethodField(
        help_text="who acted; for the applicant, officials' decisions are signed by region and level"
    )
    opinion = serializers.CharField()
    minor = serializers.BooleanField()
    snapshot = serializers.IntegerField(source="snapshot.number", allow_null=True, default=None)
    created_at = serializers.DateTimeField()

    def get_action_display(self, event: ReviewEvent) -> str:
        return str(ACTION_LABELS.get(event.action, event.action))

    def get_actor(self, event: ReviewEvent) -> str:
        if not self.context.get("member") or event.action == "start" or event.action in ENTERPRISE_ACTIONS:
            return event.actor_label
        region = f"{event.region.name} · " if event.region_id else ""
        return f"{region}{event.get_level_display()}"


class ExpertAssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    application = serializers.IntegerField(source="application_id")
    expert = serializers.IntegerField(source="expert_id")
    expert_name = serializers.CharField(source="expert")
    assigned_at = serializers.DateTimeField()
    scores = serializers.DictField(child=serializers.CharField())
    total = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    opinion = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)


class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    max = serializers.FloatField(help_text="the most points an expert may give")


class PoolExpertSerializer(serializers.Serializer):
    expert = serializers.IntegerField(max_value=MAX_ID, help_text="user id to assign")
    name = serializers.CharField()
    specialty = serializers.CharField()
    home_county = serializers.CharField(allow_null=True)
    conflict = serializers.CharField(allow_null=True, help_text="why this expert may not review it, or null")
    assigned = serializers.BooleanField()


class ExpertSummarySerializer(serializers.Serializer):
    assignments = ExpertAssignmentSerializer(many=True)
    mean = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    spread = serializers.DecimalField(max_digits=6, decimal_places=2, allow_null=True)
    count = serializers.IntegerField(help_text="experts who have scored")
    needed = serializers.IntegerField(help_text="expert reviews the programme requires before approval")
    indicators = IndicatorSerializer(many=True)
    pool = PoolExpertSerializer(many=True)


class AssignSerializer(serializers.Serializer):
    expert = serializers.IntegerField(
        max_value=MAX_ID, min_value=1, help_text="user id of an expert of this portal's pool"
    )


class MyAssignmentSerializer(ExpertAssignmentSerializer):
    enterprise_name = serializers.CharField(source="application.enterprise.name")
    round_name = serializers.CharField(source="application.round.name")
    program = serializers.CharField(source="application.round.program.code")
    county = serializers.CharField(source="application.county.name")
    state = serializers.CharField(source="application.state")
    indicators = serializers.SerializerMethodField()

    @extend_schema_field(IndicatorSerializer(many=True))
    def get_indicators(self, assignment: ExpertAssignment):
        return IndicatorSerializer(workflow.indicators(assignment.application.round.program), many=True).data


class ScoreSerializer(serializers.Serializer):
    scores = serializers.DictField(
        child=serializers.CharField(allow_blank=True), help_text="indicator code → points"
    )
    opinion = serializers.CharField(allow_blank=True)


# --- applications: views -----------------------------------------------------------------------


@extend_schema(parameters=[TENANT_PARAM])
class ApplicationListApi(TenantAPIMixin, PaginatedMixin, APIView):
    """Enterprise users: their enterprise's applications. Officials: what their regions hold (the queue)."""

    @extend_schema(
        parameters=[QueueQuerySerializer],
        responses={200: ApplicationSerializer(many=True), **errors(400, 401)},
    )
    def get(self, request, tenant_code):
        query = _validate(QueueQuerySerializer, request.query_params)
        enterprise = caller_enterprise(request)
        member = enterprise is not None
        if member:
            qs = selectors.applications_of_enterprise(enterprise).select_related("enterprise", "county")
            if query.get("round"):
                qs = qs.filter(round_id=query["round"])
            if query.get("state"):
                qs = qs.filter(state=query["state"])
        else:
            qs = selectors.application_queue(
                user=request.user,
                tenant=self.tenant,
                waiting=query["waiting"],
                round_id=query.get("round"),
                state=query.get("state"),
                county_code=query.get("county"),
                verdict=query.get("verdict"),
                score_min=query.get("score_min"),
                score_max=query.get("score_max"),
                industry=query.get("industry"),
                size_class=query.get("size_class"),
                search=query.get("search"),
                sort=query["ordering"],
            )
        return self.paginated(qs, ApplicationSerializer, member=member)

    @extend_schema(
        request=StartSerializer,
        responses={201: ApplicationDetailSerializer, **errors(400, 401, 403, 409)},
        description="Start a draft for an open round (enterprise users). The form is prefilled from the profile.",
    )
    def post(self, request, tenant_code):
        enterprise = caller_enterprise(request)
        if enterprise is None:
            raise PermissionDenied(_("Only a member of an enterprise of this portal can apply."))
        data = _validate(StartSerializer, request.data)
        round_ = (
            Round.objects.for_tenant(self.tenant)
            .select_related("program__owner_region", "version")
            .filter(pk=data["round"])
            .first()
        )
        if round_ is None:
            raise serializers.ValidationError({"round": [_("There is no such round.")]})
        application = workflow.application_start(
            round_=round_, enterprise=enterprise, by=request.user, request=request
        )
        return _detail(request, application.pk, code=status.HTTP_201_CREATED)


@extend_schema(parameters=[TENANT_PARAM, PK_PARAM])
class ApplicationDetailApi(TenantAPIMixin, APIView):
    """One application as the caller sees it, with what they may do to it now and why not."""

    @extend_schema(responses={200: ApplicationDetailSerializer, **errors(401, 404)})
    def get(self, request, tenant_code, pk):
        return _detail(request, pk)

    @extend_schema(
        request=DraftSaveSerializer,
        responses={200: DraftSavedSerializer, **errors(400, 401, 403, 404, 409)},
        description="Save the draft (members). Wrong values are kept and listed in `field_errors`; a save based "
        "on an older `revision` is refused with 409 `stale`.",
    )
    def patch(self, request, tenant_code, pk):
        application = member_application(request, pk)
        data = _validate(DraftSaveSerializer, request.data)
        application, field_errors = workflow.application_save_draft(
            application=application,
            by=request.user,
            data=data["data"],
            revision=data["revision"],
            request=request,
        )
        return _detail(request, application.pk, field_errors=field_errors)


@extend_schema(parameters=[TENANT_PARAM, PK_PARAM])
class ApplicationAttachmentsApi(TenantAPIMixin, APIView):
    """Put one of the enterprise's documents into an attachment slot of the draft (members)."""

    @extend_schema(
        request=AttachSerializer, responses={201: AttachmentSerializer, **errors(400, 401, 403, 404, 409)}
    )
    def post(self, request, tenant_code, pk):
        application = member_application(request, pk)
        data = _validate(AttachSerializer, request.data)
        document = Document.objects.filter(
            pk=data["document"], enterprise_id=application.enterprise_id
        ).first()
        if document is None:
            raise serializers.ValidationError({"document": [_("Choose one of your enterprise's documents.")]})
        attachment = workflow.application_attach(
            application=application, slot=data["slot"], document=document, by=request.user, request=request
        )
        attachment = ApplicationAttachment.objects.select_related("document").get(pk=attachment.pk)
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


@extend_schema(
    parameters=[TENANT_PARAM, PK_PARAM, OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)]
)
class ApplicationAttachmentApi(TenantAPIMixin, APIView):
    @extend_schema(request=None, responses={204: None, **errors(401, 403, 404, 409)})
    def delete(self, request, tenant_code, pk, attachment_id):
        """Take an attachment out of the draft (members); the document stays in the enterprise's files."""
        application = member_application(request, pk)
        if not application.attachments.filter(pk=attachment_id).exists():
            raise Http404
        workflow.application_detach(
            application=application, attachment_id=attachment_id, by=request.user, request=request
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(parameters=[TENANT_PARAM, PK_PARAM])
class ApplicationActApi(TenantAPIMixin, APIView):
    """Take one workflow action (the path names it): submit, resubmit, withdraw (enterprise members);
    return, reject, recommend, approve (the reviewers where it waits). 409 with the reason when the
    rules refuse it; an incomplete submission is a 400 listing every problem under `fields`."""

    workflow_action = ""  # one of transitions.ALL_ACTIONS, set per route by api_urls

    @extend_schema(
        request=ActSerializer, responses={200: ApplicationDetailSerializer, **errors(400, 401, 404, 409)}
    )
    def post(self, request, tenant_code, pk):
        if self.workflow_action not in ALL_ACTIONS:
            raise Http404
        application, _as_member = application_for(request, pk)
        data = _validate(ActSerializer, request.data)
        workflow.application_act(
            application=application,
            action=self.workflow_action,
            by=request.user,
            opinion=data["opinion"],
            minor=data["minor"],
            request=request,
        )
        return _detail(request, application.pk)


@extend_schema(parameters=[TENANT_PARAM])
class ApplicationBulkRecommendApi(TenantAPIMixin, APIView):
    """Recommend several applications at once: all of them, or none (e.g. when the quota runs out)."""

    @extend_schema(
        operation_id="v1_applications_recommend_bulk",
        request=BulkRecommendSerializer,
        responses={200: BulkRecommendedSerializer, **errors(400, 401, 409)},
    )
    def post(self, request, tenant_code):
        data = _validate(BulkRecommendSerializer, request.data)
        ids = set(data["ids"])
        # SECURITY: the workflow looks the ids up in the whole tenant; an application outside the caller's
        # regions must be as absent here as everywhere else (no name in a refusal, no existence oracle).
        visible = set(
            selectors.applications_visible_to(request.user, self.tenant)
            .filter(pk__in=ids)
            .values_list("pk", flat=True)
        )
        if visible != ids:
            raise workflow.WorkflowRefused(
                _("Some of the selected applications do not exist."), code="not_found"
            )
        done = workflow.application_recommend_bulk(
            tenant=self.tenant, ids=sorted(ids), by=request.user, opinion=data["opinion"], request=request
        )
        rows = selectors.application_queue(user=request.user, tenant=self.tenant, waiting=False).filter(
            pk__in=[a.pk for a in done]
        )
        return Response(BulkRecommendedSerializer({"applications": rows}).data)


@extend_schema(parameters=[TENANT_PARAM, PK_PARAM])
class ApplicationHistoryApi(TenantAPIMixin, APIView):
    """The application's timeline: who did what, when, at which level, with which opinion."""

    @extend_schema(responses={200: ReviewEventSerializer(many=True), **errors(401, 404)})
    def get(self, request, tenant_code, pk):
        application, as_member = application_for(request, pk)
        events = application.events.select_related("region", "snapshot").order_by("created_at", "id")
        if as_member:
            events = events.filter(action__in=MEMBER_TIMELINE)
        return Response(ReviewEventSerializer(events, many=True, context={"member": as_member}).data)


@extend_schema(parameters=[TENANT_PARAM, PK_PARAM])
class ApplicationExpertsApi(TenantAPIMixin, APIView):
    """Expert review of an application, for reviewers: the assignments with their scores, mean and spread."""

    @extend_schema(responses={200: ExpertSummarySerializer, **errors(401, 404)})
    def get(self, request, tenant_code, pk):
        application = reviewer_application(request, pk)
        return Response(self._summary(application))

    @extend_schema(
        request=AssignSerializer,
        responses={201: ExpertAssignmentSerializer, **errors(400, 401, 404, 409)},
        description="Assign an expert (reviewers where the application waits, at the chain's last level). "
        "A conflict of interest is a 409.",
    )
    def post(self, request, tenant_code, pk):
        application = reviewer_application(request, pk)
        data = _validate(AssignSerializer, request.data)
        profile = workflow.expert_pool(self.tenant).filter(user_id=data["expert"]).first()
        if profile is None:
            raise serializers.ValidationError(
                {"expert": [_("This person is not in the expert pool of this portal.")]}
            )
        assignment = workflow.expert_assign(
            application=application, expert=profile.user, by=request.user, request=request
        )
        assignment = ExpertAssignment.objects.select_related("expert").get(pk=assignment.pk)
        return Response(ExpertAssignmentSerializer(assignment).data, status=status.HTTP_201_CREATED)

    def _summary(self, application: Application) -> dict:
        summary = workflow.expert_summary(application)
        assigned = {a.expert_id for a in summary["assignments"]}
        pool = [
            {
                "expert": p.user_id,
                "name": str(p.user),
                "specialty": p.specialty,
                "home_county": p.home_county.name if p.home_county_id else None,
                "conflict": workflow.expert_conflict(p, application),
                "assigned": p.user_id in assigned,
            }
            for p in workflow.expert_pool(self.tenant).order_by("user__username")
        ]
        return ExpertSummarySerializer(
            {**summary, "indicators": workflow.indicators(application.round.program), "pool": pool}
        ).data


@extend_schema(
    parameters=[TENANT_PARAM, PK_PARAM, OpenApiParameter("assignment_id", int, OpenApiParameter.PATH)]
)
class ApplicationExpertApi(TenantAPIMixin, APIView):
    @extend_schema(request=None, responses={204: None, **errors(401, 404, 409)})
    def delete(self, request, tenant_code, pk, assignment_id):
        """Withdraw an expert who has not scored yet."""
        application = reviewer_application(request, pk)
        assignment = application.expert_assignments.filter(pk=assignment_id).first()
        if assignment is None:
            raise Http404
        workflow.expert_unassign(assignment=assignment, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- experts -----------------------------------------------------------------------------------


@extend_schema(parameters=[TENANT_PARAM])
class ExpertAssignmentListApi(TenantAPIMixin, PaginatedMixin, APIView):
    """The caller's own expert assignments: what to score first, then what they scored."""

    @extend_schema(responses={200: MyAssignmentSerializer(many=True), **errors(401)})
    def get(self, request, tenant_code):
        return self.paginated(
            selectors.expert_assignments_of(request.user, self.tenant).select_related("expert"),
            MyAssignmentSerializer,
        )


@extend_schema(
    parameters=[TENANT_PARAM, OpenApiParameter("id", int, OpenApiParameter.PATH, description="assignment id")]
)
class ExpertScoreApi(TenantAPIMixin, APIView):
    @extend_schema(
        request=ScoreSerializer, responses={200: MyAssignmentSerializer, **errors(400, 401, 404, 409)}
    )
    def post(self, request, tenant_code, pk):
        """Score each indicator and give an opinion (once: the scores stay on record)."""
        assignment = selectors.expert_assignment_for(request.user, self.tenant, pk)
        data = _validate(ScoreSerializer, request.data)
        workflow.expert_score(
            assignment=assignment,
            by=request.user,
            scores=data["scores"],
            opinion=data["opinion"],
            request=request,
        )
        assignment = selectors.expert_assignment_for(request.user, self.tenant, pk)
        return Response(MyAssignmentSerializer(assignment).data)
