"""Programs, their criteria versions, and screening results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from enterprises.models import Document
from portal.models import Region, Tenant
from portal.scoping import TenantScopedQuerySet


class Program(models.Model):
    """A certification or cultivation programme of a tenant, owned by a region (province, prefecture…)."""

    class Tier(models.TextChoices):
        INNOVATIVE = "innovative", _("innovative SME (创新型中小企业)")
        SRDI = "srdi", _("SRDI SME (专精特新中小企业)")
        LITTLE_GIANT = "little_giant", _("little giant recommendation (专精特新“小巨人”)")
        OTHER = "other", _("other")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=120)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices)
    owner_region = models.ForeignKey(
        Region, verbose_name=_("owner region"), on_delete=models.PROTECT, related_name="programs"
    )
    is_active = models.BooleanField(_("active"), default=True)
    # What an application must carry: [{"code", "label", "doc_types": [...], "required": bool}].
    attachment_slots = models.JSONField(_("attachment slots"), default=list, blank=True)
    # What experts score: [{"code", "label", "max": points}]; empty means no expert review.
    expert_indicators = models.JSONField(_("expert indicators"), default=list, blank=True)
    min_expert_reviews = models.PositiveSmallIntegerField(_("minimum expert reviews"), default=0)
    # domain.md §0: certifications issued under the 2022 rules are re-verified under the rules the tenant
    # chooses. Empty: the version in force on the day the re-verification is submitted.
    reverification_version = models.ForeignKey(
        "certification.CriteriaVersion",
        verbose_name=_("criteria version for re-verification"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = TenantScopedQuerySet.as_manager()
    region_field = "owner_region"

    class Meta:
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")
        ordering = ["tenant", "tier", "code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="program_code_unique_in_tenant")
        ]

    def __str__(self) -> str:
        return self.name

    def version_on(self, day) -> CriteriaVersion | None:
        """The frozen version in force on `day`: the latest effective_from on or before it."""
        return (
            self.versions.filter(status=CriteriaVersion.Status.FROZEN, effective_from__lte=day)
            .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=day))
            .order_by("-effective_from")
            .first()
        )


class CriteriaVersion(models.Model):
    """The criteria of a programme from a date on: data validated when saved, frozen once used."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        FROZEN = "frozen", _("frozen")

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="versions")
    label = models.CharField(
        _("label"), max_length=120, help_text=_("The policy document, e.g. 工信部企业〔2022〕63号.")
    )
    effective_from = models.DateField(_("effective from"))
    effective_to = models.DateField(_("effective until"), null=True, blank=True)
    pending_confirmation = models.BooleanField(
        _("pending confirmation of the official text"),
        default=False,
        help_text=_(
            "The rules come from reported encodings and must be checked against the official document."
        ),
    )
    source = models.TextField(_("source"), blank=True)
    definition = models.JSONField(_("definition"))
    definition_hash = models.CharField(max_length=64, editable=False)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.DRAFT)
    frozen_at = models.DateTimeField(_("frozen"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("criteria version")
        verbose_name_plural = _("criteria versions")
        ordering = ["program", "-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "effective_from"], name="criteria_version_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True) | Q(effective_to__gte=models.F("effective_from")),
                name="criteria_version_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program} · {self.label} ({self.effective_from})"

    @property
    def is_frozen(self) -> bool:
        return self.status == self.Status.FROZEN


class Screening(models.Model):
    """One evaluation of one enterprise's facts against one criteria version; never recomputed in place.

    Idempotent by (enterprise, version, facts hash, purpose): the same facts screened again
    against the same version find the existing row instead of writing a new one.
    """

    class Verdict(models.TextChoices):
        ELIGIBLE = "eligible", _("eligible")
        LIBRARY = "library", _("cultivation library")
        INELIGIBLE = "ineligible", _("not eligible")
        EXCLUDED = "excluded", _("excluded")

    class Purpose(models.TextChoices):
        SELF_EVALUATION = "self", _("self-evaluation")
        BACKGROUND = "background", _("background screening")
        APPLICATION = "application", _("application")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="screenings"
    )
    version = models.ForeignKey(CriteriaVersion, on_delete=models.PROTECT, related_name="screenings")
    purpose = models.CharField(max_length=12, choices=Purpose.choices)
    facts_hash = models.CharField(max_length=64)
    verdict = models.CharField(_("verdict"), max_length=10, choices=Verdict.choices)
    score = models.PositiveSmallIntegerField(_("score"), null=True)
    size_class = models.CharField(_("size class"), max_length=8)
    result = models.JSONField(_("result"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("screening")
        verbose_name_plural = _("screenings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "version", "facts_hash", "purpose"], name="screening_once_per_facts"
            ),
        ]
        indexes = [models.Index(fields=["tenant", "version", "verdict"], name="screening_verdicts")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.version_id} {self.verdict}"


class ScreeningBatch(models.Model):
    """Staff asked to screen every enterprise of a region against a version; progress is visible."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(CriteriaVersion, on_delete=models.PROTECT, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)  # verdict -> number
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = _("screening batch")
        verbose_name_plural = _("screening batches")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.version} · {self.region} · {self.done}/{self.total}"

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.done * 100 / self.total)


class ScreeningBatchChunk(models.Model):
    """A slice of a batch (a range of enterprise ids) that one task screens; finished exactly once."""

    batch = models.ForeignKey(ScreeningBatch, on_delete=models.CASCADE, related_name="chunks")
    first_pk = models.BigIntegerField()
    last_pk = models.BigIntegerField()
    size = models.PositiveIntegerField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "first_pk"], name="batch_chunk_unique_start")]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.first_pk}–{self.last_pk}"


# --- rounds, applications and review ---------------------------------------------------------


class Level(models.TextChoices):
    """A level of the review chain: the level of the region that acts (design.md "Application workflow")."""

    COUNTY = "county", pgettext_lazy("review level", "county")
    PREFECTURE = "prefecture", pgettext_lazy("review level", "prefecture")
    PROVINCE = "province", pgettext_lazy("review level", "province")


LEVEL_ORDER = [Level.COUNTY, Level.PREFECTURE, Level.PROVINCE]


class Round(models.Model):
    """A call for applications (申报批次): one programme, one frozen criteria version, open between two times."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(
        Program, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="rounds"
    )
    version = models.ForeignKey(
        CriteriaVersion, verbose_name=_("criteria version"), on_delete=models.PROTECT, related_name="rounds"
    )
    name = models.CharField(_("name"), max_length=120)
    year = models.PositiveSmallIntegerField(_("year"))
    opens_at = models.DateTimeField(_("opens"))
    closes_at = models.DateTimeField(_("closes"))
    notes = models.TextField(_("notes for applicants"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "program__owner_region"

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        ordering = ["-opens_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="round_dates_ordered"
            ),
            models.UniqueConstraint(fields=["program", "name"], name="round_name_unique_in_program"),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open(self, at=None) -> bool:
        at = at or timezone.now()
        return self.opens_at <= at < self.closes_at


class RoundStage(models.Model):
    """One level of a round's review chain and its deadline; a level without a stage is skipped."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="stages")
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    deadline = models.DateTimeField(_("review deadline"))

    class Meta:
        verbose_name = _("review stage")
        verbose_name_plural = _("review stages")
        ordering = ["round", "deadline"]
        constraints = [models.UniqueConstraint(fields=["round", "level"], name="round_stage_once_per_level")]

    def __str__(self) -> str:
        return f"{self.round} · {self.get_level_display()}"


class RoundQuota(models.Model):
    """How many applications a region may pass up in a round (enforced), and how many it should (shown)."""

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="quotas")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    maximum = models.PositiveIntegerField(_("maximum recommendations"), null=True, blank=True)
    minimum = models.PositiveIntegerField(_("expected minimum"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("quota")
        verbose_name_plural = _("quotas")
        ordering = ["round", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["round", "region"], name="quota_once_per_region"),
            models.CheckConstraint(
                condition=Q(maximum__isnull=True)
                | Q(minimum__isnull=True)
                | Q(maximum__gte=models.F("minimum")),
                name="quota_minimum_within_maximum",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.region}"


class ExpertProfile(models.Model):
    """An expert of the tenant's pool and the conflicts they declared (回避)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="expert_profiles"
    )
    home_county = models.ForeignKey(
        Region,
        verbose_name=_("home county"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Experts are not assigned to enterprises of their own county."),
    )
    specialty = models.CharField(_("specialty"), max_length=120, blank=True)
    linked_enterprises = models.ManyToManyField(
        "enterprises.Enterprise",
        verbose_name=_("declared links"),
        blank=True,
        related_name="+",
        help_text=_("Enterprises the expert works for, advises, owns shares in or is related to."),
    )

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("expert")
        verbose_name_plural = _("experts")
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="expert_once_per_tenant")]

    def __str__(self) -> str:
        return str(self.user)


class Application(models.Model):
    """An enterprise's application to a round, from draft through the review chain to a decision."""

    class State(models.TextChoices):
        DRAFT = "draft", _("draft")  # the enterprise is filling it in
        SUBMITTED = "submitted", _("submitted")  # waiting at the first level of the chain
        IN_REVIEW = "in_review", _("under review")  # recommended by a lower level, waiting at `level`
        RETURNED = "returned", _("returned for correction")  # the enterprise corrects and resubmits
        REJECTED = "rejected", _("rejected")  # final: a level turned it down with a reason
        APPROVED = "approved", _("approved")  # the owner level approved; the public notice comes next
        IN_NOTICE = "in_notice", _("in public notice")  # listed in an open notice (公示)
        PUBLISHED = "published", _("certified")  # final: published (认定/公告); a certification exists
        WITHDRAWN = "withdrawn", _("withdrawn")  # final: the enterprise withdrew it

    FINAL_STATES = (State.REJECTED, State.WITHDRAWN, State.PUBLISHED)
    WAITING_STATES = (State.SUBMITTED, State.IN_REVIEW)  # an official is expected to act
    INACTIVE_STATES = (State.WITHDRAWN,)  # an enterprise may start again in the same round

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.PROTECT, related_name="applications"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="applications",
    )
    # The applicant's county when it started: the chain and the scoping follow it (identity is locked after).
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    # The region whose officials act now (the applicant's ancestor at `level`).
    current_region = models.ForeignKey(
        Region,
        verbose_name=_("waiting at"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A minor correction goes straight back to the level that asked for it.
    return_level = models.CharField(max_length=10, choices=Level.choices, blank=True)
    data = models.JSONField(_("form"), default=dict, blank=True)
    revision = models.PositiveIntegerField(default=0)  # bumped by every draft save: stale saves are refused
    verdict = models.CharField(_("verdict"), max_length=10, choices=Screening.Verdict.choices, blank=True)
    score = models.PositiveSmallIntegerField(_("score"), null=True, blank=True)
    expert_mean = models.DecimalField(_("expert mean"), max_digits=6, decimal_places=2, null=True, blank=True)
    screening = models.ForeignKey(
        Screening, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "county"

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            # One active application per enterprise per round; a withdrawn one does not count.
            models.UniqueConstraint(
                fields=["round", "enterprise"],
                condition=~Q(state="withdrawn"),
                name="application_one_active_per_round",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["submitted", "in_review"]) | Q(current_region__isnull=False),
                name="application_waiting_has_region",
            ),
        ]
        indexes = [
            # The queue pages: what waits at a region, newest first; a whole tenant by date or by score.
            models.Index(fields=["current_region", "-submitted_at", "-id"], name="application_queue"),
            models.Index(fields=["tenant", "-submitted_at", "-id"], name="application_newest"),
            models.Index(fields=["tenant", "-score", "-id"], name="application_by_score"),
            models.Index(fields=["tenant", "round", "state"], name="application_round_state"),
            # The dashboard's funnel (reports.aggregates._funnel): a round's applications by county, state and
            # level, from the index alone.
            models.Index(fields=["tenant", "round", "county", "state", "level"], name="application_funnel"),
        ]

    def __str__(self) -> str:
        return f"{self.round} · {self.enterprise_id}"

    @property
    def is_waiting(self) -> bool:
        return self.state in self.WAITING_STATES


class ApplicationSnapshot(models.Model):
    """What the enterprise submitted, frozen: facts, the form, the attachments and the screening result."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="snapshots")
    number = models.PositiveSmallIntegerField()
    facts = models.JSONField()
    facts_hash = models.CharField(max_length=64)
    profile = models.JSONField()  # basic information, figures, IP and qualifications as displayed
    data = models.JSONField()
    attachments = models.JSONField(default=list)  # [{slot, document, name, sha256, size, doc_type}]
    result = models.JSONField()  # the screening result (as_dict) against the round's version
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["application", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="snapshot_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} #{self.number}"


class SnapshotDocument(models.Model):
    """Keeps a document a snapshot refers to from being deleted."""

    snapshot = models.ForeignKey(ApplicationSnapshot, on_delete=models.CASCADE, related_name="documents")
    document = models.ForeignKey("enterprises.Document", on_delete=models.PROTECT, related_name="+")
    slot = models.CharField(max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "document", "slot"], name="snapshot_document_once")
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id}:{self.slot}:{self.document_id}"


class ApplicationAttachment(models.Model):
    """A document the enterprise put into one of the programme's attachment slots of its draft."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    slot = models.CharField(_("attachment"), max_length=40)
    document = models.ForeignKey("enterprises.Document", on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["slot", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "slot", "document"], name="attachment_once_per_slot"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application_id}:{self.slot}:{self.document_id}"


class ReviewEvent(models.Model):
    """One row of an application's history: who did what, when, at which level, with which opinion."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("action"), max_length=20)
    from_state = models.CharField(max_length=10, choices=Application.State.choices, blank=True)
    to_state = models.CharField(max_length=10, choices=Application.State.choices, blank=True)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    minor = models.BooleanField(default=False)
    snapshot = models.ForeignKey(
        ApplicationSnapshot, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("review event")
        verbose_name_plural = _("review events")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id} {self.action}"


class QuotaUse(models.Model):
    """An application a region passed up in a round: counted once, however often it is recommended again."""

    quota = models.ForeignKey(RoundQuota, on_delete=models.CASCADE, related_name="uses")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["quota", "application"], name="quota_use_once")]

    def __str__(self) -> str:
        return f"{self.quota_id}:{self.application_id}"


class ExpertAssignment(models.Model):
    """An expert asked to score one application; their scores once they give them."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="expert_assignments")
    expert = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="expert_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    scores = models.JSONField(
        _("scores"), default=dict, blank=True
    )  # indicator code -> points (string decimal)
    total = models.DecimalField(_("total"), max_digits=6, decimal_places=2, null=True, blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    submitted_at = models.DateTimeField(_("scored"), null=True, blank=True)

    class Meta:
        verbose_name = _("expert assignment")
        verbose_name_plural = _("expert assignments")
        ordering = ["application", "assigned_at"]
        constraints = [
            models.UniqueConstraint(fields=["application", "expert"], name="expert_once_per_application")
        ]

    def __str__(self) -> str:
        return f"{self.application_id} · {self.expert_id}"


class ReminderSent(models.Model):
    """A deadline reminder already sent: the daily job sends each one once."""

    stage = models.ForeignKey(RoundStage, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["stage", "region", "day"], name="reminder_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.stage_id}:{self.region_id}:{self.day}"


# --- public notice, objections, publication, certifications -------------------------------------


class Holiday(models.Model):
    """A day the tenant declares a holiday or an adjusted working day (调休), for years the calendar
    package does not know or where the province differs from it."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    is_workday = models.BooleanField(
        _("working day"), default=False, help_text=_("Ticked: a weekend day that is worked (调休上班).")
    )
    name = models.CharField(_("name"), max_length=60, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("holiday or adjusted working day")
        verbose_name_plural = _("holidays and adjusted working days")
        ordering = ["tenant", "day"]
        constraints = [models.UniqueConstraint(fields=["tenant", "day"], name="holiday_once_per_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.name}"


class Notice(models.Model):
    """A public notice (公示) of the applications a round approved: open for objections for N working days."""

    class Status(models.TextChoices):
        OPEN = "open", _("open for objections")
        CLOSED = "closed", _("closed")
        PUBLISHED = "published", _("published")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    round = models.ForeignKey(
        Round, verbose_name=_("round"), on_delete=models.PROTECT, related_name="notices"
    )
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    how_to_object = models.TextField(_("how to object"))
    working_days = models.PositiveSmallIntegerField(_("period (working days)"))
    starts_on = models.DateField(_("first day"))
    ends_on = models.DateField(_("last day"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "round__program__owner_region"

    class Meta:
        verbose_name = _("public notice")
        verbose_name_plural = _("public notices")
        ordering = ["-starts_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")), name="notice_dates_ordered"
            ),
            models.CheckConstraint(condition=Q(working_days__gte=1), name="notice_at_least_one_day"),
        ]

    def __str__(self) -> str:
        return self.title


class NoticeEntry(models.Model):
    """One approved application on a notice; what the public sees is copied here (no personal data)."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="entries")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="notice_entries")
    enterprise_name = models.CharField(_("enterprise"), max_length=200)
    uscc = models.CharField(_("unified social credit code"), max_length=18)
    county_name = models.CharField(_("county"), max_length=60)
    program_name = models.CharField(_("programme"), max_length=120)
    position = models.PositiveIntegerField()
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removed_reason = models.TextField(_("reason for removal"), blank=True)

    class Meta:
        ordering = ["notice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "application"], name="notice_entry_once"),
            # An application is on at most one notice that has not removed it.
            models.UniqueConstraint(
                fields=["application"], condition=Q(removed_at__isnull=True), name="notice_entry_one_active"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id}: {self.enterprise_name}"


class Objection(models.Model):
    """An objection (异议) filed by anyone during a notice's period, under their real name."""

    class Status(models.TextChoices):
        OPEN = "open", _("under investigation")
        DISMISSED = "dismissed", _("dismissed")
        UPHELD = "upheld", _("upheld")

    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="objections")
    entry = models.ForeignKey(
        NoticeEntry,
        verbose_name=_("enterprise concerned"),
        on_delete=models.PROTECT,
        related_name="objections",
    )
    reference = models.CharField(_("reference number"), max_length=32, unique=True)
    filer_name = models.CharField(_("real name"), max_length=60)
    filer_organisation = models.CharField(_("organisation"), max_length=200, blank=True)
    filer_phone = models.CharField(_("mobile phone"), max_length=20)
    filer_email = models.EmailField(_("email"), blank=True)
    grounds = models.TextField(_("grounds"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    reply = models.TextField(_("reply"), blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    filed_at = models.DateTimeField(_("filed"), default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")
        ordering = ["-filed_at", "-id"]

    def __str__(self) -> str:
        return self.reference


class ScannedEvidence(models.Model):
    """A file attached to a case (an objection, a revocation): stored unservable until the malware scan
    passes, like enterprise documents (certification/evidence_scan.py)."""

    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    scan_status = models.CharField(
        _("scan"), max_length=10, choices=Document.Scan.choices, default=Document.Scan.PENDING
    )
    scan_detail = models.CharField(_("scan result"), max_length=200, blank=True)
    scanned_at = models.DateTimeField(_("scanned"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.original_name


class ObjectionEvidence(ScannedEvidence):
    """A file the filer attached to an objection."""

    objection = models.ForeignKey(Objection, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="objections/%Y/%m/", max_length=200)


class PublishedList(models.Model):
    """The final list of a notice as published (认定名单): an immutable snapshot. A correction is a new
    version pointing to the one it replaces, never an edit."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    notice = models.ForeignKey(Notice, on_delete=models.PROTECT, related_name="published_lists")
    version = models.PositiveSmallIntegerField(default=1)
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    title = models.CharField(_("title"), max_length=200)
    rows = models.JSONField()  # [{number, enterprise, uscc, county, program, issued_on, valid_until}]
    correction_note = models.TextField(_("what was corrected"), blank=True)
    pdf = models.FileField(upload_to="published/", max_length=200, blank=True)
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    published_at = models.DateTimeField(default=timezone.now)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("published list")
        verbose_name_plural = _("published lists")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["notice", "version"], name="published_list_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            # Only the PDF and its hash may be filled in once, right after publication.
            stored = PublishedList.objects.filter(pk=self.pk).values("rows", "title", "pdf_sha256").first()
            if stored and (
                stored["rows"] != self.rows
                or stored["title"] != self.title
                or (stored["pdf_sha256"] and stored["pdf_sha256"] != self.pdf_sha256)
            ):
                raise PublishedListIsImmutable(_("A published list is never edited: publish a correction."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PublishedListIsImmutable(_("A published list is never deleted: publish a correction."))


class PublishedListIsImmutable(Exception):
    pass


class Certification(models.Model):
    """An enterprise certified in a programme: from publication for three years (seed 002: 有效期为3年)."""

    class Status(models.TextChoices):
        # A context of their own: "valid" and "revoked" also label other things (qualifications, posts).
        ACTIVE = "active", pgettext_lazy("certification status", "valid")
        EXPIRED = "expired", pgettext_lazy("certification status", "expired")
        REVOKED = "revoked", pgettext_lazy("certification status", "revoked")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("certificate number"), max_length=32, unique=True)
    program = models.ForeignKey(
        Program, verbose_name=_("programme"), on_delete=models.PROTECT, related_name="certifications"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="certifications",
    )
    # The enterprise's county and industry section (GB/T 4754 门类, the first letter of its class), copied when
    # the certification is made and kept with the enterprise's (`enterprise_moved`): the dashboards count
    # certifications by region and section without a join to every enterprise (issue 9: the provincial
    # dashboard over 100,000 enterprises in under 300 ms).
    county = models.ForeignKey(Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="+")
    industry_section = models.CharField(_("industry section"), max_length=1, blank=True)
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="certification")
    published_list = models.ForeignKey(PublishedList, on_delete=models.PROTECT, related_name="certifications")
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.ACTIVE)
    certificate = models.FileField(upload_to="certificates/%Y/", max_length=200, blank=True)
    certificate_sha256 = models.CharField(max_length=64, blank=True)
    certificate_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("certification")
        verbose_name_plural = _("certifications")
        ordering = ["-issued_on", "number"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__gt=models.F("issued_on")), name="certification_dates_ordered"
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "status", "program"], name="certification_directory"),
            # "Has a certification in force": the directory's per-enterprise check, from the index alone.
            models.Index(
                fields=["enterprise", "status", "valid_until", "tenant"], name="certification_in_force"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if self.county_id is None or not self.industry_section:
            enterprises = self._meta.get_field("enterprise").related_model.objects
            county_id, industry_id = enterprises.values_list("county_id", "industry_id").get(
                pk=self.enterprise_id
            )
            self.county_id = county_id
            self.industry_section = industry_id[:1]
        super().save(*args, **kwargs)


def enterprise_moved(sender, instance, update_fields=None, **kwargs) -> None:
    """post_save of an Enterprise: its certifications follow its county and industry section."""
    if update_fields is not None and not {"county", "industry"} & set(update_fields):
        return
    section = instance.industry_id[:1]
    Certification.objects.filter(enterprise_id=instance.pk).exclude(
        county_id=instance.county_id, industry_section=section
    ).update(county_id=instance.county_id, industry_section=section)


class NumberSequence(models.Model):
    """The last number issued per (tenant, programme, year): certificate numbers never repeat or skip."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "program", "year"], name="number_sequence_once")
        ]

    def __str__(self) -> str:
        return f"{self.program_id} {self.year}: {self.last}"


# Dynamic management: re-verification, expiry, revocation, monitoring, commissioners, cultivation library.
from certification.models_lifecycle import *  # noqa: E402, F403
