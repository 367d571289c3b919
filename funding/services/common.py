"""What every funding service shares: the refusal, its audit trail, the tenant's settings, links."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.urls import NoReverseMatch, reverse

from funding.models import FundingSettings
from portal.api.errors import DomainError
from portal.audit import audit_record
from portal.models import Post, Region, Tenant, User
from portal.notifications import notification_send


class FundingRefused(DomainError):
    """A funding action the rules do not allow now; `.message` says why, `.code` what kind of no:

    not_allowed (409, the state forbids it), forbidden (403, not this person), over_budget (409; `.extra`
    holds "remaining" and "needed" as strings of yuan), no_budget, four_eyes, already_paid, changed,
    duplicate, not_found (404).
    """

    def __init__(self, message: str, code: str = "not_allowed", status: int = 409, **extra):
        super().__init__(message, code=code, status=status, extra=extra or None)
        self.code = code


@contextmanager
def refusals_audited(
    *, action: str, by: User | None, tenant: Tenant, obj=None, request=None
) -> Iterator[None]:
    """Wrap a service's transaction: a refusal is recorded in the audit log *after* the transaction rolled
    back (a row written inside it would vanish with everything else), then re-raised."""
    try:
        yield
    except FundingRefused as exc:
        audit_record(
            action=action,
            actor=by,
            tenant=tenant,
            obj=obj,
            summary=exc.message,
            request=request,
            outcome="refused",
        )
        raise


def funding_settings(tenant: Tenant) -> FundingSettings:
    """The tenant's settings row, or an unsaved one with the defaults."""
    return FundingSettings.objects.filter(tenant=tenant).first() or FundingSettings(tenant=tenant)


def link(name: str, tenant: Tenant, **kwargs) -> str:
    """The URL of a funding page for a notification, or "" while the pages are not installed."""
    try:
        return reverse(name, kwargs={"tenant_code": tenant.code, **kwargs})
    except NoReverseMatch:
        return ""


def officers_of(region: Region) -> list[User]:
    """The active funding officers of exactly this region (who act on what it pays)."""
    return [
        post.user
        for post in Post.objects.filter(
            tenant_id=region.tenant_id, region=region, role=Post.Role.FUNDING_OFFICER, is_active=True
        ).select_related("user")
    ]


def notify(users, *, tenant: Tenant, subject: str, body: str = "", link_: str = "") -> None:
    """One inbox message per user, sent after commit (notification_send defers itself)."""
    seen = set()
    for user in users:
        if user.pk in seen:
            continue
        seen.add(user.pk)
        notification_send(recipient=user, tenant=tenant, subject=subject, body=body, link=link_)
