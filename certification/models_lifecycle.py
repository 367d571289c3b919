"""Dynamic management (动态管理) of certifications: re-verification, reminders and expiry, revocation,
annual figures and monitoring, change reports, service commissioners and the cultivation library.

Seed 002 (贵州): "获认定的'专精特新'中小企业及专精特新'小巨人'企业有效期为3年，入选满3年的企业需进行复核，
不符合条件或未提交复核申请材料的企业将予以撤销。有效期内如发现虚假申报或存在违法违规行为的，一经查实，立即予以撤销。"
Seed 004 (博州): a service commissioner for every enterprise ("为每家专精特新中小企业配备一名服务专员"), a visit
every quarter ("每季度至少上门跟踪指导一次"), and a tiered cultivation library ("储备一批、培育一批、提升一批").

Imported at the bottom of certification/models.py, so that the models belong to the certification app.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from certification.models import ScannedEvidence  # certification.models imports this module at its end
from enterprises.models import Document
from portal.models import Region, Tenant
from portal.scoping import TenantScopedQuerySet

REVERIFY_LEVELS_DEFAULT = ["county", "province"]
REMINDER_OFFSETS_DEFAULT = [90, 30, 7]


def _reminder_offsets_default() -> list[int]:
    return list(REMINDER_OFFSETS_DEFAULT)


def _reverify_levels_default() -> list[str]:
    return list(REVERIFY_LEVELS_DEFAULT)


class LifecycleSettings(models.Model):
    """A tenant's dynamic-management settings, kept by its tenant administrator. A tenant without a row
    uses the defaults (`lifecycle_settings()` in certification/lifecycle.py)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="lifecycle_settings")
    reminder_offsets = models.JSONField(
        _("expiry reminders (days before)"),
        default=_reminder_offsets_default,
        help_text=_("Days before expiry at which the enterprise and its commissioner are reminded."),
    )
    reapply_bar_years = models.PositiveSmallIntegerField(
        _("years barred after revocation"),
        default=3,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        # domain.md §1.5: 63号 bars a revoked enterprise for at least three years.
    )
    annual_update_month = models.PositiveSmallIntegerField(
        _("annual update deadline: month"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(12)],
    )
    annual_update_day = models.PositiveSmallIntegerField(
        _("annual update deadline: day"), default=30, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    reverify_levels = models.JSONField(
        _("re-verification review levels"),
        default=_reverify_levels_default,
        help_text=_("The levels a re-verification passes through, lowest first; the province decides."),
    )
    visit_interval_days = models.PositiveSmallIntegerField(
        _("commissioner visit interval (days)"),
        default=92,  # seed 004: 每季度至少上门跟踪指导一次
        validators=[MinValueValidator(7), MaxValueValidator(366)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("dynamic-management settings")
        verbose_name_plural = _("dynamic-management settings")

    def __str__(self) -> str:
        return str(self.tenant)


class Reverification(models.Model):
    """A re-verification (复核) of a certification: filed by the enterprise before expiry, reviewed up a
    shorter chain, decided by the province: renewed (three more years from the old expiry) or revoked."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("reverification state", "draft")
        SUBMITTED = "submitted", pgettext_lazy("reverification state", "under review")
        RETURNED = "returned", pgettext_lazy("reverification state", "returned for changes")
        RENEWED = "renewed", pgettext_lazy("reverification state", "renewed")
        REJECTED = "rejected", pgettext_lazy("reverification state", "rejected")
        WITHDRAWN = "withdrawn", pgettext_lazy("reverification state", "withdrawn")

    OPEN_STATES = (State.DRAFT, State.SUBMITTED, State.RETURNED)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    certification = models.ForeignKey(
        "certification.Certification", on_delete=models.PROTECT, related_name="reverifications"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="reverifications"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.DRAFT)
    levels = models.JSONField(_("review levels"), default=list)  # frozen at filing, lowest first
    level = models.CharField(
        _("level"), max_length=10, blank=True
    )  # where it waits; "" while with the enterprise
    current_region = models.ForeignKey(
        Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    version = models.ForeignKey(
        "certification.CriteriaVersion",
        verbose_name=_("criteria version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    statement = models.TextField(_("statement"), blank=True)
    facts = models.JSONField(default=dict, blank=True)  # the facts at submission (facts_to_json)
    screening = models.JSONField(default=dict, blank=True)  # result_json of the screening at submission
    verdict = models.CharField(_("screening verdict"), max_length=12, blank=True)
    revision = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decision_reason = models.TextField(_("decision reason"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("re-verification")
        verbose_name_plural = _("re-verifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification"],
                condition=Q(state__in=["draft", "submitted", "returned"]),
                name="reverification_one_open_per_certification",
            )
        ]
        indexes = [models.Index(fields=["tenant", "state", "level"], name="reverification_queue")]

    def __str__(self) -> str:
        return f"{self.certification_id} {self.get_state_display()}"


class ReverificationAttachment(models.Model):
    """A document of the enterprise attached to a re-verification; the document cannot be deleted while
    a submitted re-verification holds it."""

    reverification = models.ForeignKey(Reverification, on_delete=models.CASCADE, related_name="attachments")
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(_("label"), max_length=120, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reverification", "document"], name="reverification_document_once"
            )
        ]

    def __str__(self) -> str:
        return self.label or str(self.document_id)


class LifecycleEvent(models.Model):
    """One line of a certification's history: reminders, re-verification steps, renewal, expiry,
    revocation, commissioner changes. Append-only."""

    class Kind(models.TextChoices):
        REMINDER = "reminder", _("expiry reminder sent")
        FILED = "filed", _("re-verification submitted")
        RETURNED = "returned", _("re-verification returned")
        RECOMMENDED = "recommended", _("re-verification recommended")
        WITHDRAWN = "withdrawn", _("re-verification withdrawn")
        RENEWED = "renewed", _("renewed")
        REJECTED = "rejected", _("re-verification rejected")
        EXPIRED = "expired", pgettext_lazy("lifecycle event", "expired")
        REVOKED = "revoked", pgettext_lazy("lifecycle event", "revoked")
        COMMISSIONER = "commissioner", _("service commissioner assigned")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    certification = models.ForeignKey(
        "certification.Certification", on_delete=models.CASCADE, related_name="lifecycle_events"
    )
    reverification = models.ForeignKey(
        Reverification, on_delete=models.CASCADE, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(_("event"), max_length=14, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=120, blank=True)  # "system", or the official's post
    region = models.ForeignKey(Region, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    level = models.CharField(max_length=10, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["certification", "created_at"], name="lifecycle_event_timeline")]

    def __str__(self) -> str:
        return f"{self.certification_id} {self.kind}"


class CertificationReminder(models.Model):
    """An expiry reminder sent: once per (certification, expiry date, offset). The unique constraint is what
    makes the daily job idempotent: a second run on the same day finds the row and sends nothing."""

    certification = models.ForeignKey(
        "certification.Certification", on_delete=models.CASCADE, related_name="reminders"
    )
    valid_until = models.DateField()
    offset_days = models.PositiveSmallIntegerField()
    sent_on = models.DateField()
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["certification", "valid_until", "offset_days"], name="certification_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.certification_id} -{self.offset_days}d"


class DailyRun(models.Model):
    """One run of the daily dynamic-management job per day. Inserting the row is the lock: a second beat
    process (or a second `run_daily` for the same day) finds it and does nothing."""

    day = models.DateField(unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    runner = models.CharField(max_length=120, blank=True)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-day"]

    def __str__(self) -> str:
        return str(self.day)


class Revocation(models.Model):
    """A revocation (撤销) of a certification: its grounds, reason and evidence (domain.md §1.5)."""

    class Ground(models.TextChoices):
        FALSE_INFORMATION = "false_information", _("false information or data fraud")
        SAFETY_ACCIDENT = "safety_accident", _("major safety accident (incl. network or data security)")
        QUALITY_ACCIDENT = "quality_accident", _("major quality accident")
        ENVIRONMENT_ACCIDENT = "environment", _("major environmental pollution accident")
        DISHONESTY = "dishonesty", _("serious dishonesty")
        TAX_EVASION = "tax_evasion", _("tax evasion or other violations")
        REVERIFICATION_FAILED = "reverification", _("failed re-verification")
        OTHER = "other", _("other")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    certification = models.OneToOneField(
        "certification.Certification", on_delete=models.PROTECT, related_name="revocation"
    )
    ground = models.CharField(_("ground"), max_length=20, choices=Ground.choices)
    reason = models.TextField(_("reason"))
    revoked_on = models.DateField(_("revoked on"))
    barred_until = models.DateField(_("barred from applying until"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "certification__enterprise__county"

    class Meta:
        verbose_name = _("revocation")
        verbose_name_plural = _("revocations")
        ordering = ["-revoked_on", "-id"]

    def __str__(self) -> str:
        return f"{self.certification_id} {self.ground}"


class RevocationEvidence(ScannedEvidence):
    """A file supporting a revocation (certification/lifecycle_evidence.py scans it)."""

    revocation = models.ForeignKey(Revocation, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="revocations/%Y/%m/", max_length=200)


class ApplyBar(models.Model):
    """An enterprise barred from applying until a date (after a revocation; domain.md §1.5: ≥3 years)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="apply_bars"
    )
    until = models.DateField(_("barred until"))
    reason = models.CharField(_("reason"), max_length=300)
    revocation = models.ForeignKey(
        Revocation, on_delete=models.CASCADE, null=True, blank=True, related_name="bars"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["enterprise", "until"], name="apply_bar_lookup")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} until {self.until}"


# --- annual figures and monitoring -------------------------------------------------------------


class AnnualUpdate(models.Model):
    """A certified enterprise's yearly update (each year by the tenant's deadline, domain.md §1.5: 30 April):
    it confirms its figures of the last fiscal year; the monitoring check runs on them."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="annual_updates"
    )
    year = models.PositiveSmallIntegerField(_("year"))  # the reporting year; figures are of year - 1
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    facts = models.JSONField(default=dict, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    late = models.BooleanField(_("after the deadline"), default=False)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("annual update")
        verbose_name_plural = _("annual updates")
        ordering = ["-year", "-submitted_at"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "year"], name="annual_update_once_a_year")
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.year}"


class MonitoringWarning(models.Model):
    """A certified enterprise whose latest figures fail a condition of its programme, with the rule."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    certification = models.ForeignKey(
        "certification.Certification", on_delete=models.CASCADE, related_name="warnings"
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="monitoring_warnings"
    )
    fiscal_year = models.PositiveSmallIntegerField(_("fiscal year"))
    rule = models.CharField(_("rule"), max_length=80)  # the condition's key in the criteria definition
    label = models.CharField(_("condition"), max_length=300)
    values = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(_("resolution"), blank=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("monitoring warning")
        verbose_name_plural = _("monitoring warnings")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification", "fiscal_year", "rule"], name="monitoring_warning_once"
            )
        ]
        indexes = [models.Index(fields=["tenant", "resolved_at"], name="monitoring_open")]

    def __str__(self) -> str:
        return f"{self.certification_id} {self.rule}"


class ChangeReport(models.Model):
    """A major change reported by a certified enterprise (重大变化情况报告, within three months: domain.md
    §1.5), reviewed by staff."""

    class Kind(models.TextChoices):
        RENAME = "rename", _("change of name")
        MERGER = "merger", _("merger or acquisition")
        RESTRUCTURING = "restructuring", _("restructuring")
        MOVE_OUT = "move_out", _("move out of the province")
        OVERSEAS_BRANCH = "overseas", _("overseas branch established")
        OTHER = "other", _("other major change")

    class State(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("change report state", "submitted")
        ACCEPTED = "accepted", pgettext_lazy("change report state", "accepted")
        ACTION = "action", pgettext_lazy("change report state", "needs action")

    REPORT_WITHIN_MONTHS = 3

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="change_reports"
    )
    kind = models.CharField(_("kind of change"), max_length=16, choices=Kind.choices)
    occurred_on = models.DateField(_("date of the change"))
    description = models.TextField(_("description"))
    new_name = models.CharField(_("new name"), max_length=200, blank=True)
    documents = models.ManyToManyField(Document, blank=True, related_name="+")
    late = models.BooleanField(_("reported late"), default=False)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SUBMITTED)
    review_note = models.TextField(_("review note"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("change report")
        verbose_name_plural = _("change reports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.kind}"


# --- service commissioners (服务专员) ------------------------------------------------------------


class CommissionerAssignment(models.Model):
    """An official assigned as the service commissioner of an enterprise (seed 004: one per enterprise).
    Reassignment ends the current row and starts a new one, so the history stays. The grant itself is a
    django-guardian object permission `enterprises.serve_enterprise` on the enterprise."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="commissioner_assignments"
    )
    commissioner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("service commissioner"),
        on_delete=models.PROTECT,
        related_name="commissioner_assignments",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    started_on = models.DateField(_("from"), default=timezone.localdate)
    ended_on = models.DateField(_("until"), null=True, blank=True)
    end_reason = models.CharField(_("reason for the change"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("commissioner assignment")
        verbose_name_plural = _("commissioner assignments")
        ordering = ["-started_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise"],
                condition=Q(ended_on__isnull=True),
                name="commissioner_one_current_per_enterprise",
            )
        ]

    def __str__(self) -> str:
        return f"{self.enterprise_id} → {self.commissioner_id}"


class Visit(models.Model):
    """A commissioner's visit to an enterprise (走访), with what was raised and the follow-up."""

    class Kind(models.TextChoices):
        ONSITE = "onsite", _("on-site visit")
        PHONE = "phone", _("telephone")
        VIDEO = "video", _("video call")
        MEETING = "meeting", _("meeting at the bureau")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey("enterprises.Enterprise", on_delete=models.CASCADE, related_name="visits")
    assignment = models.ForeignKey(CommissionerAssignment, on_delete=models.PROTECT, related_name="visits")
    commissioner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    visited_on = models.DateField(_("date of the visit"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.ONSITE)
    people_met = models.CharField(_("people met"), max_length=300)
    problems = models.TextField(_("problems raised"), blank=True)
    follow_up = models.TextField(_("follow-up"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-visited_on", "-id"]
        indexes = [models.Index(fields=["enterprise", "visited_on"], name="visit_latest")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.visited_on}"


class ServiceRequest(models.Model):
    """A request (诉求) an enterprise raises to its commissioner, followed through to a reply."""

    class Category(models.TextChoices):
        FINANCING = "financing", _("financing")
        TALENT = "talent", _("talent")
        MARKET = "market", _("market")
        TECHNOLOGY = "technology", _("technology and innovation")
        POLICY = "policy", _("policy and approvals")
        LAND = "land", _("land, power and premises")
        OTHER = "other", _("other")

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("service request state", "open")
        ANSWERED = "answered", pgettext_lazy("service request state", "answered")
        CLOSED = "closed", pgettext_lazy("service request state", "closed")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="service_requests"
    )
    assignment = models.ForeignKey(
        CommissionerAssignment, on_delete=models.PROTECT, null=True, blank=True, related_name="requests"
    )
    category = models.CharField(_("category"), max_length=12, choices=Category.choices)
    subject = models.CharField(_("subject"), max_length=200)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class ServiceRequestMessage(models.Model):
    """One message of a service request's thread (the enterprise's request and follow-ups, the replies)."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_official = models.BooleanField(default=False)
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.created_at:%Y-%m-%d}"


# --- cultivation library (培育库) -----------------------------------------------------------------


class LibraryEntry(models.Model):
    """An enterprise in the cultivation library for a target programme, at a stage (seeds 000 and 004:
    储备一批、培育一批、提升一批)."""

    class Stage(models.TextChoices):
        RESERVE = "reserve", _("reserve (储备)")
        CULTIVATING = "cultivating", _("cultivating (培育)")
        UPGRADING = "upgrading", _("upgrading (提升)")

    class Source(models.TextChoices):
        MANUAL = "manual", _("added by an official")
        SCREENING = "screening", _("from a screening result")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.CASCADE, related_name="library_entries"
    )
    program = models.ForeignKey(
        "certification.Program",
        verbose_name=_("target programme"),
        on_delete=models.PROTECT,
        related_name="library_entries",
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.RESERVE)
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.MANUAL)
    screening = models.ForeignKey(
        "certification.Screening", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("note"), blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(_("removed"), null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    removal_reason = models.CharField(_("reason for removal"), max_length=300, blank=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("cultivation library entry")
        verbose_name_plural = _("cultivation library entries")
        ordering = ["-added_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "program"],
                condition=Q(removed_at__isnull=True),
                name="library_once_per_programme",
            )
        ]
        indexes = [models.Index(fields=["tenant", "removed_at", "stage"], name="library_current")]

    def __str__(self) -> str:
        return f"{self.enterprise_id} {self.program_id} {self.stage}"


class LibraryStageChange(models.Model):
    """One move of a library entry (added, between stages, removed), with its note. Append-only."""

    entry = models.ForeignKey(LibraryEntry, on_delete=models.CASCADE, related_name="changes")
    from_stage = models.CharField(max_length=12, blank=True)  # "" when added
    to_stage = models.CharField(max_length=12, blank=True)  # "" when removed
    note = models.TextField(_("note"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.entry_id}: {self.from_stage} → {self.to_stage}"


class LibraryTarget(models.Model):
    """A county's yearly library target (seed 004: 不少于辖区规上工业企业总数的10%, 其中博乐市不少于6家、
    阿拉山口市不少于4家、精河县不少于3家、温泉县不少于2家): the larger of the minimum and the share of its
    regulated industrial enterprises (规上工业企业), whose number the official records."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="+")
    year = models.PositiveSmallIntegerField(_("year"))
    regulated_enterprises = models.PositiveIntegerField(_("regulated industrial enterprises"), default=0)
    share_percent = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal("10.00"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )
    minimum = models.PositiveIntegerField(_("minimum"), default=0)
    source = models.CharField(_("source"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = _("library target")
        verbose_name_plural = _("library targets")
        ordering = ["region__code", "-year"]
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="library_target_once")]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year}"
