"""Programs, their criteria versions, and screening results."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
