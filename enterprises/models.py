"""Enterprises: who they are, who acts for them, their yearly figures, IP, qualifications and documents."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Region, Tenant
from portal.scoping import TenantScopedQuerySet


class Industry(models.Model):
    """GB/T 4754-2017 国民经济行业分类 (with 第1号修改单), shipped in enterprises/data/."""

    class Level(models.TextChoices):
        SECTION = "section", _("section")  # 门类
        DIVISION = "division", _("division")  # 大类
        GROUP = "group", _("group")  # 中类
        CLASS = "class", _("class")  # 小类

    code = models.CharField(_("code"), max_length=5, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )

    class Meta:
        verbose_name = _("industry")
        verbose_name_plural = _("industries")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


def name_pinyin(name: str) -> str:
    """The sort key of a name: 贵州中科 → "gui zhou zhong ke" (letters and digits pass through)."""
    from pypinyin import lazy_pinyin

    return " ".join(lazy_pinyin(name or "")).lower()[:400]


def name_folded(name: str) -> str:
    """The search form of a name: NFKC (full-width Ｘ to X) and case-folded, so that a plain LIKE on a stored
    column matches what `icontains` would, without upper-casing every row at query time."""
    import unicodedata

    return unicodedata.normalize("NFKC", name or "").casefold()[:200]


class EnterpriseQuerySet(TenantScopedQuerySet):
    def for_member(self, user) -> EnterpriseQuerySet:
        """The enterprises a user acts for."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)


class Enterprise(models.Model):
    """An enterprise registered in one tenant, sitting in one county."""

    class MainProductField(models.TextChoices):
        KEY_CHAIN = "key_chain", _("fills a gap in a key industrial chain (补短板、锻长板、填空白)")
        SIX_FOUNDATIONS = (
            "six_foundations",
            _("industrial foundations, time-honoured brand or key-chain supplier"),
        )
        OTHER = "other", _("other")

    tenant = models.ForeignKey(Tenant, verbose_name=_("tenant"), on_delete=models.PROTECT, related_name="+")
    uscc = models.CharField(_("unified social credit code"), max_length=18)
    name = models.CharField(_("legal name"), max_length=200)
    # The name in pinyin, lower case, syllables separated by spaces: the directory sorts by it (a stored key
    # with an index rather than a database collation, which SQLite lacks and PostgreSQL builds vary in).
    name_pinyin = models.CharField(max_length=400, blank=True, db_index=False, editable=False)
    name_folded = models.CharField(
        max_length=200, blank=True, editable=False
    )  # name_folded(name): the search key
    county = models.ForeignKey(
        Region, verbose_name=_("county"), on_delete=models.PROTECT, related_name="enterprises"
    )
    address = models.CharField(_("address"), max_length=300)
    industry = models.ForeignKey(
        Industry, verbose_name=_("industry"), on_delete=models.PROTECT, related_name="enterprises"
    )
    legal_representative = models.CharField(_("legal representative"), max_length=60)
    contact_person = models.CharField(_("contact person"), max_length=60)
    contact_phone = models.CharField(_("mobile phone"), max_length=11)
    contact_email = models.EmailField(_("email"))
    email_verified_at = models.DateTimeField(_("email verified"), null=True, blank=True)
    established_date = models.DateField(_("date of establishment"), null=True, blank=True)

    # Facts an enterprise states about itself (design.md "Enterprise facts"); null = not stated = unknown.
    main_product = models.CharField(_("main product"), max_length=200, blank=True)
    niche_years = models.PositiveSmallIntegerField(_("years in the niche market"), null=True, blank=True)
    market_share = models.DecimalField(
        _("national market share of the main product"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("As a fraction: 0.035 is 3.5%."),
    )
    main_product_field = models.CharField(
        _("field of the main product"), max_length=20, choices=MainProductField.choices, blank=True
    )
    strategic_emerging_industry = models.BooleanField(
        _("main product in a strategic emerging industry"), null=True
    )
    digital_level = models.PositiveSmallIntegerField(
        _("digitalisation level"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(4)],
        help_text=_("中小企业数字化水平 level 0 to 4."),
    )
    own_brand = models.BooleanField(_("owns a brand"), null=True)
    standards_participation = models.BooleanField(_("took part in drafting standards"), null=True)
    ethnic_crafts = models.BooleanField(_("ethnic crafts enterprise"), null=True)
    provincial_key_field = models.BooleanField(
        _("main product in a key field the province cultivates"),
        null=True,
        help_text=_(
            "E.g. Guizhou's key fields: big data and electronics, advanced equipment, health and medicine, "
            "ecological food, basic materials, modern chemicals, new building materials, light industry, "
            "ethnic crafts."
        ),
    )
    negative_false_info = models.BooleanField(_("provided false information"), null=True)
    negative_major_accident_3y = models.BooleanField(
        _("major safety, quality or environmental accident in 3 years"), null=True
    )
    negative_tax_or_dishonest = models.BooleanField(_("tax evasion or on the dishonesty list"), null=True)
    negative_abnormal_list = models.BooleanField(_("on the list of abnormal operations"), null=True)

    # Derived from industry and the last complete year's figures (enterprises.derived); stored so that
    # officials can filter and sort by it. Refreshed by every change of its inputs and daily by beat.
    size_class = models.CharField(
        _("size class"), max_length=8, default="unknown", db_index=True, editable=False
    )
    # The facts dictionary as of its last refresh (JSON-safe: money as strings), and its hash. Batch screening
    # reads this one column instead of rebuilding the facts from figures, IP and qualifications.
    facts = models.JSONField(default=dict, editable=False)
    facts_hash = models.CharField(max_length=64, blank=True, editable=False)
    # Listed in the public directory: holds a certification in force. Kept by a signal on Certification
    # (certification/directory_cache.py listing_refresh), so that the directory walks one partial index
    # instead of checking every enterprise for a certification (bench/directory.py).
    directory_listed = models.BooleanField(default=False, editable=False)
    # The programme tiers (certification.Program.Tier) of the certifications in force, each between bars
    # ("|innovative|srdi|"), "" when none; kept with directory_listed. The dashboard's targets count the
    # enterprises in force of a tier from it, without a DISTINCT over the certifications (reports.metrics).
    tiers_in_force = models.CharField(max_length=80, blank=True, default="", editable=False)

    created_at = models.DateTimeField(_("registered"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = EnterpriseQuerySet.as_manager()
    region_field = "county"

    class Meta:
        verbose_name = _("enterprise")
        verbose_name_plural = _("enterprises")
        ordering = ["name"]
        # A django-guardian object permission: the enterprise's service commissioner (服务专员).
        permissions = [("serve_enterprise", _("Can serve the enterprise as its service commissioner"))]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "uscc"], name="enterprise_uscc_unique_in_tenant"),
            models.CheckConstraint(
                condition=Q(uscc__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$"), name="enterprise_uscc_form"
            ),
        ]
        # The public directory: a tenant's enterprises by county, then by the pinyin of the name.
        indexes = [
            models.Index(
                # the folded name last: a name search filters the index entries alone (an index-only
                # scan on PostgreSQL, a covering index on SQLite), never the wide table rows
                fields=["tenant", "county", "name_pinyin", "id", "name_folded"],
                condition=Q(directory_listed=True),
                name="enterprise_listed",
            ),
            # The dashboard's targets: enterprises in force per county and tier, from the index alone.
            models.Index(
                fields=["tenant", "county", "tiers_in_force", "id"],
                condition=Q(directory_listed=True),
                name="enterprise_tiers_in_force",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.name_pinyin = name_pinyin(self.name)
        self.name_folded = name_folded(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_pinyin", "name_folded"}
        super().save(*args, **kwargs)

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None


class Membership(models.Model):
    """A person acting for an enterprise: its administrators manage members and the profile."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("administrator")
        MEMBER = "member", _("member")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(_("joined"), default=timezone.now)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["enterprise", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.enterprise}"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Invitation(models.Model):
    """An emailed invitation to join an enterprise; the link carries `token` and expires."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email"))
    role = models.CharField(
        _("role"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER
    )
    token = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


MONEY = {"max_digits": 14, "decimal_places": 2, "null": True, "blank": True}


class AnnualFigures(models.Model):
    """One fiscal year of an enterprise's figures. Money in 万元 (10,000 CNY) as Decimal."""

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="figures")
    fiscal_year = models.PositiveSmallIntegerField(
        _("fiscal year"), validators=[MinValueValidator(1990), MaxValueValidator(2100)]
    )
    revenue = models.DecimalField(_("revenue (万元)"), **MONEY)
    main_business_revenue = models.DecimalField(_("main-business revenue (万元)"), **MONEY)
    rd_expense = models.DecimalField(_("R&D expense (万元)"), **MONEY)
    net_profit = models.DecimalField(_("net profit (万元)"), **MONEY)
    total_assets = models.DecimalField(_("total assets (万元)"), **MONEY)
    total_liabilities = models.DecimalField(_("total liabilities (万元)"), **MONEY)
    employees = models.PositiveIntegerField(_("employees at year end"), null=True, blank=True)
    rd_staff = models.PositiveIntegerField(_("R&D staff"), null=True, blank=True)
    equity_financing = models.DecimalField(
        _("new equity financing from qualified investors (万元)"),
        **MONEY,
        help_text=_("Paid in during this year by qualified institutional investors."),
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("annual figures")
        verbose_name_plural = _("annual figures")
        ordering = ["-fiscal_year"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "fiscal_year"], name="figures_one_row_per_year"),
            models.CheckConstraint(
                condition=Q(revenue__gte=0) | Q(revenue=None), name="figures_revenue_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(main_business_revenue__lte=models.F("revenue"))
                | Q(main_business_revenue=None)
                | Q(revenue=None),
                name="figures_main_business_within_revenue",
            ),
            models.CheckConstraint(
                condition=Q(rd_staff__lte=models.F("employees")) | Q(rd_staff=None) | Q(employees=None),
                name="figures_rd_staff_within_employees",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enterprise} {self.fiscal_year}"

    FIELDS = [
        "revenue",
        "main_business_revenue",
        "rd_expense",
        "net_profit",
        "total_assets",
        "total_liabilities",
        "employees",
        "rd_staff",
        "equity_financing",
    ]


class IPItem(models.Model):
    """An item of intellectual property. Its class (Ⅰ/Ⅱ) is derived, never typed (domain.md §1.4)."""

    class Type(models.TextChoices):
        INVENTION = "invention", _("invention patent")
        DEFENCE_PATENT = "defence_patent", _("defence patent")
        PLANT_VARIETY = "plant_variety", _("new plant variety")
        CROP_VARIETY = "crop_variety", _("national crop variety")
        NEW_DRUG = "new_drug", _("national new drug")
        TCM_PROTECTED = "tcm_protected", _("first-grade protected TCM variety")
        IC_LAYOUT = "ic_layout", _("integrated circuit layout design")
        UTILITY_MODEL = "utility_model", _("utility model patent")
        DESIGN = "design", _("design patent")
        SOFTWARE = "software", _("software copyright")

    class Acquisition(models.TextChoices):
        SELF_DEVELOPED = "self", _("self-developed")
        TRANSFERRED = "transferred", _("transferred in")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="ip_items")
    ip_type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    number = models.CharField(_("number"), max_length=60)
    title = models.CharField(_("title"), max_length=200)
    grant_date = models.DateField(_("grant date"))
    acquisition = models.CharField(
        _("acquired by"), max_length=12, choices=Acquisition.choices, default=Acquisition.SELF_DEVELOPED
    )
    acquired_date = models.DateField(_("date transferred in"), null=True, blank=True)
    related_to_main_product = models.BooleanField(_("related to the main product"), default=True)
    high_value = models.BooleanField(
        _("high-value"),
        default=False,
        help_text=_(
            "Overseas family patent, maintained over 10 years, pledged for high-value financing, "
            "or won a national S&T award or the China Patent Award."
        ),
    )
    valid = models.BooleanField(_("valid"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("IP item")
        verbose_name_plural = _("IP items")
        ordering = ["-grant_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enterprise", "ip_type", "number"], name="ip_unique_number"),
            models.CheckConstraint(
                condition=Q(acquisition="self") | Q(acquired_date__isnull=False),
                name="ip_transferred_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_ip_type_display()} {self.number}"


class Qualification(models.Model):
    """Titles, institutions, certifications and awards that the criteria ask about."""

    class Kind(models.TextChoices):
        HIGH_TECH = "high_tech", _("high-tech enterprise (高新技术企业)")
        RD_INSTITUTION = "rd_institution", _("recognised R&D institution")
        QUALITY_SYSTEM = "quality_system", _("quality management system certification")
        QUALITY_AWARD = "quality_award", _("quality award")
        ST_AWARD = "st_award", _("science and technology award")
        MAKER_CHINA = "maker_china", _("Maker China (创客中国) contest")
        INNOVATION_HONOUR = (
            "innovation_honour",
            _("innovation honour (demonstration enterprise, IP advantage)"),
        )

    class Level(models.TextChoices):
        NATIONAL = "national", _("national")
        PROVINCIAL = "provincial", _("provincial")
        MUNICIPAL = "municipal", _("municipal")
        BELOW_MUNICIPAL = "below_municipal", _("below municipal")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    level = models.CharField(_("level"), max_length=16, choices=Level.choices, blank=True)
    rank = models.PositiveSmallIntegerField(
        _("rank of the enterprise"),
        null=True,
        blank=True,
        help_text=_(
            "For awards: the enterprise's place among the winners (1 = first). "
            "For Maker China: the national top N it reached (50 or 500)."
        ),
    )
    certificate_number = models.CharField(_("certificate number"), max_length=80, blank=True)
    issued_on = models.DateField(_("issued on"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        ordering = ["kind", "-issued_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=models.F("issued_on")),
                name="qualification_validity_after_issue",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def is_valid_on(self, day: date) -> bool:
        return self.issued_on <= day and (self.valid_until is None or day <= self.valid_until)


def document_path(instance: Document, filename: str) -> str:
    # Generated names only: the uploaded name never reaches the file system (reliability.md F-items).
    return f"documents/{instance.enterprise.tenant_id}/{instance.enterprise_id}/{uuid.uuid4().hex}"


class Document(models.Model):
    """An uploaded file. Served only through an authorising view, after a clean malware scan."""

    class Type(models.TextChoices):
        BUSINESS_LICENCE = "business_licence", _("business licence")
        AUDIT_REPORT = "audit_report", _("audit report")
        FINANCIAL_STATEMENT = "financial_statement", _("financial statements")
        IP_CERTIFICATE = "ip_certificate", _("IP certificate")
        SOCIAL_INSURANCE = "social_insurance", _("social-insurance proof")
        TAX_PROOF = "tax_proof", _("tax payment proof")
        QUALIFICATION = "qualification", _("qualification certificate")
        OTHER = "other", _("other")

    class Scan(models.TextChoices):
        PENDING = "pending", _("being scanned")
        CLEAN = "clean", _("clean")
        INFECTED = "infected", _("quarantined: malware found")
        FAILED = "failed", _("scan failed")

    enterprise = models.ForeignKey(Enterprise, on_delete=models.CASCADE, related_name="documents")
    doc_type = models.CharField(_("document type"), max_length=24, choices=Type.choices)
    file = models.FileField(_("file"), upload_to=document_path, max_length=200)
    original_name = models.CharField(_("original file name"), max_length=200)
    content_type = models.CharField(_("content type"), max_length=60)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)
    scan_status = models.CharField(_("scan"), max_length=10, choices=Scan.choices, default=Scan.PENDING)
    scan_detail = models.CharField(_("scan result"), max_length=200, blank=True)
    scanned_at = models.DateTimeField(_("scanned"), null=True, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.original_name
