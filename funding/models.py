"""Award policies, budgets, entitlements, bank accounts, payment batches, receivables and the ledger.

The rules (design.md "Funding", issue 8):

- An **award policy** is paid by one region (province, prefecture or city) and lists an amount per award
  level; several levels of government may each pay for one certification, each through its own policy.
- Within a **stacking group** an enterprise receives the highest award once (从高、不重复, seed 003 三、
  （一）2; 就高原则, seed 002 六、（二）): a later, higher award pays only the difference, a lower or equal
  one pays nothing and is recorded as covered by the higher one.
- A **budget** per policy and year caps approvals: `committed <= amount` is a database constraint, and
  approvals lock the budget row.
- Every money movement is a **ledger entry**; the ledger is append-only (the ORM refuses edits and, on
  PostgreSQL, a trigger too: migration 0002).

Amounts are yuan with fen (`funding.money`), never floats.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funding.account_numbers import mask_account_number
from funding.money import ZERO, MoneyField
from portal.models import Region, Tenant
from portal.scoping import TenantScopedQuerySet


class AwardLevel(models.TextChoices):
    """What an award is paid for. A policy lists an amount per level; the amounts, not this order, decide
    which award is "higher" within a stacking group."""

    INNOVATIVE = "innovative", _("innovative SME (创新型中小企业)")
    SRDI = "srdi", _("SRDI SME (专精特新中小企业)")
    LITTLE_GIANT_PROVINCIAL = "little_giant_provincial", _("provincial little giant (省级专精特新“小巨人”)")
    LITTLE_GIANT_NATIONAL = "little_giant_national", _("national little giant (国家级专精特新“小巨人”)")
    CHAMPION_PRODUCT = "champion_product", _("single champion product (制造业单项冠军产品)")
    CHAMPION_ENTERPRISE = "champion_enterprise", _("single champion enterprise (制造业单项冠军企业)")


# The award level of a certification published in this portal, by its programme's tier. The portal's
# little-giant programme publishes the province's own list (seed 002 六、（二）: "择优支持一批贵州省专精特新
# '小巨人'企业"); the national list (工信部) is decided outside the portal and recorded by an officer as
# an ExternalCertification of level LITTLE_GIANT_NATIONAL. Programmes of tier "other" (a city's own list)
# pay only where a policy names the programme itself (AwardAmount.program).
TIER_LEVEL = {
    "innovative": AwardLevel.INNOVATIVE,
    "srdi": AwardLevel.SRDI,
    "little_giant": AwardLevel.LITTLE_GIANT_PROVINCIAL,
}


class AwardPolicy(models.Model):
    """An award schedule of one paying region: amounts per level, the certification dates it covers."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    code = models.SlugField(_("code"), max_length=40)
    name = models.CharField(_("name"), max_length=200)
    region = models.ForeignKey(
        Region,
        verbose_name=_("paying region"),
        on_delete=models.PROTECT,
        related_name="award_policies",
        help_text=_("The region whose budget pays: it awards the enterprises of its subtree."),
    )
    source = models.TextField(_("source"), help_text=_("The policy document and clause, quoted."))
    stacking_group = models.SlugField(
        _("stacking group"),
        max_length=40,
        help_text=_(
            "Within a group an enterprise receives the highest award once: a later, higher award pays "
            "only the difference."
        ),
    )
    covers_from = models.DateField(_("covers certifications from"))
    covers_to = models.DateField(_("covers certifications until"), null=True, blank=True)
    # seed 003 三、（一）4: "对整体迁入本市且正常经营一年的省级以上专精特新企业参照新认定补贴标准执行"
    relocation_counts_as_new = models.BooleanField(
        _("enterprises moving in count as newly certified"),
        default=False,
        help_text=_("After one year of operation in the region, as the policy says."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = _("award policy")
        verbose_name_plural = _("award policies")
        ordering = ["tenant", "region__code", "code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="award_policy_code_unique_in_tenant"),
            models.CheckConstraint(
                condition=Q(covers_to__isnull=True) | Q(covers_to__gte=F("covers_from")),
                name="award_policy_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def covers(self, day) -> bool:
        return self.covers_from <= day and (self.covers_to is None or day <= self.covers_to)


class AwardAmount(models.Model):
    """The amount a policy pays for one award level, or for one programme's certifications."""

    policy = models.ForeignKey(AwardPolicy, on_delete=models.CASCADE, related_name="amounts")
    level = models.CharField(_("award level"), max_length=24, choices=AwardLevel.choices)
    # A programme-specific amount wins over the level's (a city's own list of tier "other").
    program = models.ForeignKey(
        "certification.Program",
        verbose_name=_("programme"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    amount = MoneyField(_("amount (yuan)"))

    class Meta:
        verbose_name = _("award amount")
        verbose_name_plural = _("award amounts")
        ordering = ["policy", "-amount"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "level"], condition=Q(program__isnull=True), name="award_amount_level_once"
            ),
            models.UniqueConstraint(
                fields=["policy", "program"],
                condition=Q(program__isnull=False),
                name="award_amount_program_once",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="award_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.policy} · {self.get_level_display()} · {self.amount}"


class Budget(models.Model):
    """What a policy may commit in one year. `committed` = approved − reversed; `paid` <= committed.

    Both counters change only under a lock on this row (funding.lock_objects); the check constraints are
    the backstop should a code path ever forget.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(AwardPolicy, on_delete=models.PROTECT, related_name="budgets")
    year = models.PositiveSmallIntegerField(_("year"))
    amount = MoneyField(_("budget (yuan)"), default=ZERO)
    committed = MoneyField(_("committed (yuan)"), default=ZERO, editable=False)
    paid = MoneyField(_("paid (yuan)"), default=ZERO, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "policy__region"

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ["policy", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "year"], name="budget_once_per_policy_year"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="budget_amount_not_negative"),
            models.CheckConstraint(condition=Q(committed__gte=0), name="budget_committed_not_negative"),
            models.CheckConstraint(condition=Q(committed__lte=F("amount")), name="budget_committed_within"),
            models.CheckConstraint(condition=Q(paid__gte=0), name="budget_paid_not_negative"),
            models.CheckConstraint(
                condition=Q(paid__lte=F("committed")), name="budget_paid_within_committed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} {self.year}"

    @property
    def remaining(self):
        return self.amount - self.committed

    @property
    def utilisation(self) -> float:
        """Committed share of the budget, 0..1, for charts only (display, never money)."""
        return float(self.committed / self.amount) if self.amount else 0.0


class FundingSettings(models.Model):
    """A tenant's disbursement settings, kept by its tenant administrator; a tenant without a row uses the
    defaults (`funding.services.funding_settings`)."""

    tenant = models.OneToOneField(Tenant, on_delete=models.CASCADE, related_name="funding_settings")
    second_approval_above = MoneyField(
        _("second approval above (yuan)"),
        default=Decimal("1000000.00"),  # 100万元
        help_text=_("A payment batch whose total exceeds this needs a second approver."),
    )

    class Meta:
        verbose_name = _("funding settings")
        verbose_name_plural = _("funding settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(second_approval_above__gte=0), name="funding_threshold_positive"
            )
        ]

    def __str__(self) -> str:
        return str(self.tenant)


class ExternalCertification(models.Model):
    """A certification decided outside this portal that a policy rewards, recorded by a funding officer:
    an entry of the national little-giant list (工信部), a single champion, or an enterprise that moved in
    whole with a certification from elsewhere (seed 003 三、（一）4)."""

    class Basis(models.TextChoices):
        LISTED = "listed", _("on a published list")
        RELOCATED = "relocated", _("moved in whole and operating for a year")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="external_certifications",
    )
    level = models.CharField(_("award level"), max_length=24, choices=AwardLevel.choices)
    basis = models.CharField(_("basis"), max_length=10, choices=Basis.choices, default=Basis.LISTED)
    title = models.CharField(_("list or document"), max_length=200)
    reference = models.CharField(_("document number"), max_length=100, blank=True)
    certified_on = models.DateField(_("certified on"))
    moved_in_on = models.DateField(_("moved in on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("external certification")
        verbose_name_plural = _("external certifications")
        ordering = ["-certified_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise", "level", "basis"], name="external_certification_once"
            ),
            models.CheckConstraint(
                condition=Q(basis="listed") | Q(moved_in_on__isnull=False),
                name="external_relocation_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.get_level_display()}"

    @property
    def basis_date(self):
        """The date a policy's window is tested against: the list's date, or for an enterprise that moved
        in, the day it completed its first year in the region."""
        if self.basis == self.Basis.RELOCATED and self.moved_in_on is not None:
            from dateutil.relativedelta import relativedelta

            return self.moved_in_on + relativedelta(years=1)
        return self.certified_on


class Entitlement(models.Model):
    """What one policy owes an enterprise for one certification (or external certification).

    `level_amount` is the policy's full amount for the level; `amount` is what this entitlement pays:
    the difference to the highest award the enterprise already holds in the stacking group (0 when
    covered). The amount is provisional while pending and fixed at approval.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("waiting for review")
        APPROVED = "approved", _("approved (budget committed)")
        REJECTED = "rejected", _("rejected")
        COVERED = "covered", _("covered by a higher award")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")
        CLAWED_BACK = "clawed_back", _("being recovered")

    FINAL_STATES = (State.REJECTED, State.CANCELLED, State.CLAWED_BACK)
    # The entitlements whose level counts when another one's top-up is worked out.
    HOLDING_STATES = (State.PENDING, State.APPROVED, State.PAID)
    COMMITTED_STATES = (State.APPROVED, State.PAID)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    policy = models.ForeignKey(AwardPolicy, on_delete=models.PROTECT, related_name="entitlements")
    certification = models.ForeignKey(
        "certification.Certification",
        verbose_name=_("certification"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entitlements",
    )
    external = models.ForeignKey(
        ExternalCertification,
        verbose_name=_("external certification"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entitlements",
    )
    enterprise = models.ForeignKey(
        "enterprises.Enterprise",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="entitlements",
    )
    stacking_group = models.SlugField(_("stacking group"), max_length=40)  # the policy's, when created
    level = models.CharField(_("award level"), max_length=24, choices=AwardLevel.choices)
    basis_date = models.DateField(_("certified on"))
    level_amount = MoneyField(_("award for the level (yuan)"))
    amount = MoneyField(_("amount (yuan)"))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.PENDING)
    covered_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="covers"
    )
    budget = models.ForeignKey(
        Budget, on_delete=models.PROTECT, null=True, blank=True, related_name="entitlements"
    )
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    # Officials see what their region pays: the paying region's subtree (not the enterprise's county).
    region_field = "policy__region"

    class Meta:
        verbose_name = _("award entitlement")
        verbose_name_plural = _("award entitlements")
        ordering = ["-created_at", "-id"]
        constraints = [
            # Publishing twice, or a receiver and a sweep running at once, never creates one twice.
            models.UniqueConstraint(
                fields=["policy", "certification"],
                condition=Q(certification__isnull=False),
                name="entitlement_once_per_certification",
            ),
            models.UniqueConstraint(
                fields=["policy", "external"],
                condition=Q(external__isnull=False),
                name="entitlement_once_per_external",
            ),
            models.CheckConstraint(
                condition=Q(certification__isnull=True, external__isnull=False)
                | Q(certification__isnull=False, external__isnull=True),
                name="entitlement_has_one_basis",
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0) & Q(amount__lte=F("level_amount")), name="entitlement_amount_range"
            ),
            models.CheckConstraint(
                condition=~Q(state__in=["approved", "paid", "clawed_back"])
                | (Q(budget__isnull=False) & Q(amount__gt=0)),
                name="entitlement_committed_has_budget",
            ),
        ]
        indexes = [
            models.Index(fields=["tenant", "enterprise", "stacking_group"], name="entitlement_stacking"),
            models.Index(fields=["tenant", "state", "policy"], name="entitlement_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.policy} · {self.amount}"

    @property
    def basis_label(self) -> str:
        if self.certification_id:
            return self.certification.number
        return self.external.reference or self.external.title


class BankAccount(models.Model):
    """The account an enterprise receives awards into. A member enters it, a second member confirms it
    before it takes effect; the previous one is then superseded. Never edited: a change is a new row."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("waiting for a second member's confirmation")
        EFFECTIVE = "effective", _("in effect")
        SUPERSEDED = "superseded", _("replaced")
        REJECTED = "rejected", _("not confirmed")
        WITHDRAWN = "withdrawn", _("withdrawn")

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="bank_accounts"
    )
    account_name = models.CharField(_("account holder"), max_length=200)
    bank_name = models.CharField(_("bank and branch"), max_length=200)
    account_number = models.CharField(_("account number"), max_length=32)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.PROPOSED)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "enterprise__county"

    class Meta:
        verbose_name = _("bank account")
        verbose_name_plural = _("bank accounts")
        ordering = ["-proposed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["enterprise"], condition=Q(state="effective"), name="bank_account_one_effective"
            ),
            models.UniqueConstraint(
                fields=["enterprise"], condition=Q(state="proposed"), name="bank_account_one_proposed"
            ),
            # Four eyes: whoever entered the account cannot confirm it.
            models.CheckConstraint(
                condition=Q(confirmed_by__isnull=True) | ~Q(confirmed_by=F("proposed_by")),
                name="bank_account_confirmed_by_another",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bank_name} {self.masked_number}"

    @property
    def masked_number(self) -> str:
        return mask_account_number(self.account_number)


class PaymentBatch(models.Model):
    """Approved entitlements of one paying region, paid together.

    prepared ──approve (not the preparer)──▶ approved (frozen: total, count, payees, SHA-256)
        └── above the tenant's threshold: ──▶ first_approved ──approve (a third person)──▶ approved
    approved ──every line marked paid with its bank reference──▶ paid;   cancelled before any payment.
    """

    class State(models.TextChoices):
        PREPARED = "prepared", _("waiting for approval")
        FIRST_APPROVED = "first_approved", _("waiting for a second approval")
        APPROVED = "approved", _("approved: ready to pay")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")

    OPEN_STATES = (State.PREPARED, State.FIRST_APPROVED, State.APPROVED)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(
        Region, verbose_name=_("paying region"), on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(_("batch number"), max_length=40, unique=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.PREPARED)
    note = models.CharField(_("note"), max_length=300, blank=True)
    total = MoneyField(_("total (yuan)"), default=ZERO)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    needs_second_approval = models.BooleanField(default=False)
    threshold = MoneyField(_("second approval above (yuan)"), default=ZERO)  # the setting when prepared
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("prepared by")
    )
    prepared_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    second_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("second approval by"),
    )
    second_approved_at = models.DateTimeField(null=True, blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    sha256 = models.CharField(_("SHA-256 of the approved lines"), max_length=64, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = _("payment batch")
        verbose_name_plural = _("payment batches")
        ordering = ["-prepared_at", "-id"]
        constraints = [
            # Four eyes, in the database too: no one approves what they prepared, or approves twice.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("prepared_by")),
                name="batch_approver_not_preparer",
            ),
            models.CheckConstraint(
                condition=Q(second_approved_by__isnull=True)
                | (~Q(second_approved_by=F("prepared_by")) & ~Q(second_approved_by=F("approved_by"))),
                name="batch_second_approver_is_a_third_person",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="batch_total_not_negative"),
        ]

    def __str__(self) -> str:
        return self.reference


class BatchLine(models.Model):
    """One payee of a batch: the entitlement, its amount and the bank details as they were when the batch
    was prepared. Paid once: `paid_at` is set by a conditional update, and the ledger's unique payment
    per line backs it."""

    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="lines")
    entitlement = models.ForeignKey(Entitlement, on_delete=models.PROTECT, related_name="batch_lines")
    active = models.BooleanField(default=True)  # false once its batch is cancelled
    amount = MoneyField(_("amount (yuan)"))
    bank_account = models.ForeignKey(BankAccount, on_delete=models.PROTECT, related_name="+")
    payee_name = models.CharField(_("payee"), max_length=200)
    payee_uscc = models.CharField(_("unified social credit code"), max_length=18)
    bank_name = models.CharField(_("bank and branch"), max_length=200)
    account_number = models.CharField(_("account number"), max_length=32)
    # A revocation stops an unpaid line (止付): it is neither exported nor marked paid.
    stopped_at = models.DateTimeField(null=True, blank=True)
    stop_reason = models.CharField(max_length=300, blank=True)
    bank_reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("batch line")
        verbose_name_plural = _("batch lines")
        ordering = ["batch", "id"]
        constraints = [
            # An entitlement is in at most one batch that may still pay it.
            models.UniqueConstraint(
                fields=["entitlement"], condition=Q(active=True), name="batch_line_one_active_per_entitlement"
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="batch_line_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid_at__isnull=True) | ~Q(bank_reference=""),
                name="batch_line_paid_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch} · {self.payee_name} · {self.amount}"

    @property
    def masked_account_number(self) -> str:
        return mask_account_number(self.account_number)


class Receivable(models.Model):
    """Money to recover (应收/追回): a paid award whose certification was revoked for false information.
    Open until repaid (with the bank reference of each repayment) or written off with a reason, which
    one funding officer requests and another approves."""

    class State(models.TextChoices):
        OPEN = "open", _("open")
        WRITE_OFF_REQUESTED = "write_off_requested", _("write-off requested")
        REPAID = "repaid", _("repaid")
        WRITTEN_OFF = "written_off", _("written off")

    OPEN_STATES = (State.OPEN, State.WRITE_OFF_REQUESTED)

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    entitlement = models.OneToOneField(Entitlement, on_delete=models.PROTECT, related_name="receivable")
    policy = models.ForeignKey(AwardPolicy, on_delete=models.PROTECT, related_name="receivables")
    enterprise = models.ForeignKey(
        "enterprises.Enterprise", on_delete=models.PROTECT, related_name="award_receivables"
    )
    revocation = models.ForeignKey(
        "certification.Revocation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount = MoneyField(_("amount to recover (yuan)"))
    repaid = MoneyField(_("repaid (yuan)"), default=ZERO)
    written_off = MoneyField(_("written off (yuan)"), default=ZERO)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.OPEN)
    write_off_reason = models.TextField(_("write-off reason"), blank=True)
    write_off_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    write_off_requested_at = models.DateTimeField(null=True, blank=True)
    written_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "policy__region"

    class Meta:
        verbose_name = _("receivable")
        verbose_name_plural = _("receivables")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="receivable_amount_positive"),
            models.CheckConstraint(
                condition=Q(repaid__gte=0) & Q(written_off__gte=0), name="receivable_parts_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=F("repaid") + F("written_off")), name="receivable_not_over_recovered"
            ),
            models.CheckConstraint(
                condition=Q(written_off_by__isnull=True) | ~Q(written_off_by=F("write_off_requested_by")),
                name="receivable_write_off_four_eyes",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} · {self.amount}"

    @property
    def outstanding(self):
        return self.amount - self.repaid - self.written_off


class LedgerIsAppendOnly(Exception):
    pass


class LedgerEntryQuerySet(TenantScopedQuerySet):
    """Ledger entries are append-only: the ORM refuses bulk updates and deletes."""

    def update(self, **kwargs):
        raise LedgerIsAppendOnly(_("Ledger entries are never changed: post a reversing entry."))

    def delete(self):
        raise LedgerIsAppendOnly(_("Ledger entries are never deleted: post a reversing entry."))

    _raw_delete = delete


class LedgerEntry(models.Model):
    """One money movement, never edited (corrections are reversing entries). Amounts are positive; the
    kind says which way the money moves:

    - allocation: the budget of a policy-year set or changed (signed: a reduction is negative);
    - approval: an entitlement approved, committing its amount against the budget (the commitment);
    - reversal: an approval undone before payment, releasing the budget;
    - payment: a batch line paid (bank reference);
    - clawback: a paid award to recover after revocation for false information (a receivable);
    - repayment: money recovered on a receivable (bank reference);
    - write_off: the rest of a receivable written off (reason, four eyes).

    Per budget: committed = Σapproval − Σreversal, paid = Σpayment <= Σapproval (funding.ledger checks).
    """

    class Kind(models.TextChoices):
        ALLOCATION = "allocation", _("budget allocation")
        APPROVAL = "approval", _("approval (commitment)")
        REVERSAL = "reversal", _("reversal")
        PAYMENT = "payment", _("payment")
        CLAWBACK = "clawback", _("clawback")
        REPAYMENT = "repayment", _("repayment")
        WRITE_OFF = "write_off", _("write-off")

    tenant = models.ForeignKey(Tenant, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = MoneyField(_("amount (yuan)"))
    policy = models.ForeignKey(AwardPolicy, on_delete=models.PROTECT, related_name="ledger_entries")
    budget = models.ForeignKey(
        Budget, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    entitlement = models.ForeignKey(
        Entitlement, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    batch_line = models.ForeignKey(
        BatchLine, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    receivable = models.ForeignKey(
        Receivable, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_entries"
    )
    reverses = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    reference = models.CharField(_("bank reference"), max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    # As in the audit log: removing a user must never rewrite the ledger.
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = LedgerEntryQuerySet.as_manager()
    region_field = "policy__region"

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0) | (Q(kind="allocation") & ~Q(amount=0)), name="ledger_amount_sign"
            ),
            # A line, and an entitlement, is paid once; an entitlement is clawed back once.
            models.UniqueConstraint(
                fields=["batch_line"], condition=Q(kind="payment"), name="ledger_line_paid_once"
            ),
            models.UniqueConstraint(
                fields=["entitlement"], condition=Q(kind="payment"), name="ledger_entitlement_paid_once"
            ),
            models.UniqueConstraint(
                fields=["entitlement"], condition=Q(kind="clawback"), name="ledger_entitlement_clawed_once"
            ),
            # The same repayment (its bank reference) is recorded once.
            models.UniqueConstraint(
                fields=["receivable", "reference"],
                condition=Q(kind="repayment"),
                name="ledger_repayment_once",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["approval", "reversal", "payment"])
                | (Q(budget__isnull=False) & Q(entitlement__isnull=False)),
                name="ledger_budget_movement_names_budget",
            ),
        ]
        indexes = [models.Index(fields=["budget", "kind"], name="ledger_budget_kind")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d} {self.kind} {self.amount}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerIsAppendOnly(_("Ledger entries are never changed: post a reversing entry."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly(_("Ledger entries are never deleted: post a reversing entry."))
