"""What every app needs: tenants, regions, users and their posts, audit events, notifications."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from portal.scoping import TenantScopedQuerySet


class Tenant(models.Model):
    """One provincial-level authority: every tenant-scoped row points here."""

    code = models.SlugField(_("code"), max_length=16, unique=True)
    name = models.CharField(_("name"), max_length=100)
    root_region = models.OneToOneField(
        "Region",
        verbose_name=_("root region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Branding and defaults a tenant admin may change without a deploy.
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    authority_name = models.CharField(_("authority"), max_length=100, blank=True)
    primary_color = models.CharField(_("primary colour"), max_length=7, default="#b3261e")
    notice_days = models.PositiveSmallIntegerField(_("default public-notice length (days)"), default=5)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """A node of the GB/T 2260 administrative tree inside one tenant."""

    class Level(models.TextChoices):
        PROVINCE = "province", pgettext_lazy("region level", "province")
        PREFECTURE = "prefecture", pgettext_lazy("region level", "prefecture")
        COUNTY = "county", pgettext_lazy("region level", "county")

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), on_delete=models.CASCADE, related_name="regions"
    )
    code = models.CharField(_("division code"), max_length=6)
    name = models.CharField(_("name"), max_length=60)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    # Materialised path of codes ("520000/520100/520102/"): a subtree is one indexed prefix match.
    path = models.CharField(max_length=64, db_index=True, editable=False)

    objects = TenantScopedQuerySet.as_manager()
    region_field = ""  # the region itself is the scoped field: see in_subtree

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "code"], name="region_code_unique_in_tenant"),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[1-9][0-9]{5}$"), name="region_code_six_digits"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent_id else "") + f"{self.code}/"
        super().save(*args, **kwargs)

    def ancestors(self) -> list[Region]:
        """From the root down to the parent, read off the path (one query)."""
        codes = self.path.strip("/").split("/")[:-1]
        by_code = {r.code: r for r in Region.objects.filter(tenant_id=self.tenant_id, code__in=codes)}
        return [by_code[c] for c in codes if c in by_code]

    def contains(self, other: Region) -> bool:
        return other.tenant_id == self.tenant_id and other.path.startswith(self.path)

    @property
    def full_name(self) -> str:
        return "".join(r.name for r in [*self.ancestors(), self])


class PortalUserManager(UserManager):
    def get_by_natural_key(self, username):
        # Usernames are unique without regard to case (reliability.md A1): log in with either.
        return self.get(username__iexact=username)


class User(AbstractUser):
    """A person. What they may do comes from their posts and enterprise memberships."""

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    email = models.EmailField(_("email address"), blank=True)

    objects = PortalUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("username"), name="user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def posts_in(self, tenant: Tenant) -> list[Post]:
        """The user's active posts in a tenant, cached on the instance for the request."""
        cache = self.__dict__.setdefault("_posts_cache", {})
        if tenant.pk not in cache:
            cache[tenant.pk] = list(
                Post.objects.filter(user=self, tenant=tenant, is_active=True).select_related("region")
            )
        return cache[tenant.pk]


class Post(models.Model):
    """A user's role at a region of one tenant (岗位): what they see is that region's subtree."""

    class Role(models.TextChoices):
        COUNTY_REVIEWER = "county_reviewer", _("county reviewer")
        PREFECTURE_REVIEWER = "prefecture_reviewer", _("prefecture reviewer")
        PROVINCIAL_REVIEWER = "provincial_reviewer", _("provincial reviewer")
        PROVINCIAL_APPROVER = "provincial_approver", _("provincial approver")
        EXPERT = "expert", _("expert")
        FUNDING_OFFICER = "funding_officer", _("funding officer")
        SERVICE_COMMISSIONER = "service_commissioner", _("service commissioner")
        TENANT_ADMIN = "tenant_admin", _("tenant administrator")

    # The region level each reviewing role sits at; other roles may sit at any level.
    ROLE_LEVEL = {
        Role.COUNTY_REVIEWER: Region.Level.COUNTY,
        Role.PREFECTURE_REVIEWER: Region.Level.PREFECTURE,
        Role.PROVINCIAL_REVIEWER: Region.Level.PROVINCE,
        Role.PROVINCIAL_APPROVER: Region.Level.PROVINCE,
        Role.TENANT_ADMIN: Region.Level.PROVINCE,
    }

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), on_delete=models.CASCADE, related_name="posts"
    )
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="posts")
    region = models.ForeignKey(
        Region, verbose_name=_("region"), on_delete=models.PROTECT, related_name="posts"
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = TenantScopedQuerySet.as_manager()
    region_field = "region"

    class Meta:
        verbose_name = _("post")
        verbose_name_plural = _("posts")
        ordering = ["tenant", "region__code", "role"]
        constraints = [
            models.UniqueConstraint(fields=["user", "region", "role"], name="post_unique_user_region_role"),
        ]

    def __str__(self) -> str:
        return f"{self.region.name} · {self.get_role_display()}"

    @property
    def is_reviewer(self) -> bool:
        return self.role in {
            self.Role.COUNTY_REVIEWER,
            self.Role.PREFECTURE_REVIEWER,
            self.Role.PROVINCIAL_REVIEWER,
            self.Role.PROVINCIAL_APPROVER,
        }

    @property
    def is_tenant_admin(self) -> bool:
        return self.role == self.Role.TENANT_ADMIN

    @property
    def sees_whole_subtree(self) -> bool:
        """Experts and commissioners see only what they are granted, not their region's subtree."""
        return self.role not in {self.Role.EXPERT, self.Role.SERVICE_COMMISSIONER}


class AuditEventQuerySet(TenantScopedQuerySet):
    """Audit events are append-only: the ORM refuses bulk updates and deletes."""

    def update(self, **kwargs):
        raise AuditLogIsAppendOnly(_("Audit events cannot be changed."))

    def delete(self):
        raise AuditLogIsAppendOnly(_("Audit events cannot be deleted."))

    _raw_delete = delete


class AuditLogIsAppendOnly(Exception):
    pass


class AuditEvent(models.Model):
    """One thing that happened: who, when, where, to what, and what changed. Never edited."""

    occurred_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("actor"),
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,  # a user's removal must never need to rewrite history: id and name stay
    )
    actor_label = models.CharField(_("actor name"), max_length=150, blank=True)
    tenant = models.ForeignKey(
        Tenant,
        verbose_name=_("tenant"),
        on_delete=models.DO_NOTHING,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    summary = models.TextField(_("summary"), blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, default="success")
    # The actor's posts and memberships when it happened ("county_reviewer@520102"): a later change of
    # post must not rewrite who acted in which capacity (reliability.md L2).
    actor_roles = models.CharField(_("roles"), max_length=255, blank=True)
    # The X-Request-ID of the request that wrote the row: joins it to the log lines (reliability.md L2).
    request_id = models.CharField(_("request id"), max_length=32, blank=True, db_index=True)
    # Hash chain (reliability.md L5): row_hash is an HMAC of the row's content and prev_hash, prev_id/
    # prev_hash name the row written before it. `manage.py verify_audit` recomputes both.
    prev_id = models.BigIntegerField(null=True, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    row_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-occurred_at"], name="audit_tenant_time")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditLogIsAppendOnly(_("Audit events cannot be changed."))
        from portal import audit_chain

        audit_chain.link(self)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditLogIsAppendOnly(_("Audit events cannot be deleted."))


class Notification(models.Model):
    """An inbox message; the same text goes out by email when the user has an address."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # idempotency: one row per send
    tenant = models.ForeignKey(Tenant, verbose_name=_("tenant"), on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        User, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="notifications"
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    # The outbox (reliability.md C7, C9): the row is written in the transaction of the change, the email task is
    # sent after the commit. A send lost with the broker is sent again by portal.outbox, which counts its sends
    # here and gives up after MAX_EMAIL_REQUEUES.
    email_requeues = models.PositiveSmallIntegerField(_("email sent again"), default=0, editable=False)
    email_requeued_at = models.DateTimeField(
        _("email last sent again"), null=True, blank=True, editable=False
    )
    email_given_up_at = models.DateTimeField(_("email given up"), null=True, blank=True, editable=False)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "tenant", "read_at"], name="notification_inbox"),
            # what the outbox sweep reads: the few rows whose email is still due
            models.Index(
                fields=["created_at"],
                name="notification_email_due",
                condition=models.Q(emailed_at=None, email_given_up_at=None),
            ),
        ]

    def __str__(self) -> str:
        return self.subject
