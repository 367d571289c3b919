"""Targets, designations and generated reports (issue 9: where each region stands against its plan).

- A **target** is a number a region means to reach by a deadline, in one metric of `Target.Metric`
  (reports/metrics.py says how each metric is counted from rows), with the policy text it comes from.
- A **designation** records an enterprise attribute the portal has no other row for: recommended to the
  national little-giant list, a demonstration enterprise, a listed company. The metrics of the same names
  count these rows.
- A **report job** is one yearly development report (发展报告) of a region, rendered to PDF in the
  background; its progress is polled by the page.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Region, Tenant
from portal.scoping import TenantScopedQuerySet


class Target(models.Model):
    """A number a region means to reach by a deadline (seed 000: “到‘十四五’末……达50家左右”)."""

    class Metric(models.TextChoices):
        # Certifications published in this portal (certification.Certification), by programme tier.
        INNOVATIVE = "innovative", _("innovative SMEs certified (创新型中小企业)")
        SRDI = "srdi", _("SRDI SMEs certified (专精特新中小企业)")
        LITTLE_GIANT = "little_giant", _("provincial little giants certified (省级专精特新“小巨人”)")
        SRDI_ALL = "srdi_all", _("SRDI enterprises of every list (专精特新企业)")
        PROGRAMME = "programme", _("certified in one programme")
        SRDI_REVENUE = "srdi_revenue_1e8", _("SRDI SMEs with main-business revenue above 1亿元")
        # Lists decided outside the portal, recorded by funding officers (funding.ExternalCertification).
        NATIONAL_LITTLE_GIANT = "national_little_giant", _("national little giants (国家级专精特新“小巨人”)")
        SINGLE_CHAMPION = "single_champion", _("single champions (制造业单项冠军企业或产品)")
        # The review chain (certification.ReviewEvent).
        RECOMMENDED = "recommended", _("applications the region recommended upward")
        # Designations recorded on the designations page (reports.Designation).
        RECOMMENDED_NATIONAL = "recommended_national", _("recommended to the national little-giant list")
        DEMONSTRATION = "demonstration", _("demonstration enterprises (示范企业)")
        LISTED = "listed", _("listed companies (上市企业)")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    metric = models.CharField(_("what is counted"), max_length=24, choices=Metric.choices)
    program = models.ForeignKey(
        "certification.Program",
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Only for “certified in one programme”."),
    )
    value = models.PositiveIntegerField(_("target"))
    baseline = models.PositiveIntegerField(
        _("starting point"),
        null=True,
        blank=True,
        help_text=_(
            "What the plan started from, as it states it (seed 004: 在现有37家的基础上), for reference."
        ),
    )
    counts_from = models.DateField(
        _("count from"),
        null=True,
        blank=True,
        help_text=_(
            "Empty: what is in force (or recorded) on the deadline. A date: only what was certified, "
            "recorded or recommended from that day to the deadline, e.g. a yearly target from 1 January."
        ),
    )
    deadline = models.DateField(_("deadline"))
    source = models.TextField(_("source"), help_text=_("The policy document and clause, quoted."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        ordering = ["region__path", "deadline", "metric", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="target_value_positive"),
            models.CheckConstraint(
                condition=Q(counts_from__isnull=True) | Q(counts_from__lte=models.F("deadline")),
                name="target_counts_from_before_deadline",
            ),
            models.CheckConstraint(
                condition=(Q(metric="programme") & Q(program__isnull=False))
                | (~Q(metric="programme") & Q(program__isnull=True)),
                name="target_programme_iff_programme_metric",
            ),
        ]
        indexes = [models.Index(fields=["tenant", "region", "deadline"], name="target_region")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.metric} {self.value} @ {self.deadline}"


class Designation(models.Model):
    """An enterprise attribute no other row holds, recorded by an official with its evidence."""

    class Kind(models.TextChoices):
        RECOMMENDED_NATIONAL = "recommended_national", _("recommended to the national little-giant list")
        DEMONSTRATION = "demonstration", _("demonstration enterprise (示范企业)")
        LISTED = "listed", _("listed company (上市企业)")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.CASCADE,
        related_name="designations",
    )
    kind = models.CharField(_("designation"), max_length=24, choices=Kind.choices)
    on = models.DateField(_("since"))
    reference = models.CharField(
        _("reference"), max_length=200, help_text=_("The document number, list or stock code.")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("designation")
        verbose_name_plural = _("designations")
        ordering = ["-on", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "kind"], name="designation_once_per_kind"),
        ]
        indexes = [models.Index(fields=["tenant", "kind", "on"], name="designation_kind")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.kind} {self.on}"


class ReportJob(models.Model):
    """One development report (发展报告) of a region and year, rendered in the background."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("being generated")
        DONE = "done", _("ready")
        FAILED = "failed", _("failed")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    step = models.CharField(
        max_length=40, blank=True
    )  # the step under way, a key of reports.report_pdf.STEPS
    file = models.FileField(upload_to="reports/%Y/", max_length=200, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # How often reports.reconcile sent a stuck job to the workers again, and when last (reliability.md C7, C9).
    requeues = models.PositiveSmallIntegerField(default=0)
    requeued_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="report_progress_percent"),
        ]
        indexes = [models.Index(fields=["tenant", "region", "-created_at"], name="report_job_region")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year} {self.status}"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
