"""Business actions on enterprises. Views, the API, the admin and tasks all call these.

Each action is one transaction that writes an audit event; emails leave only
after the commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from enterprises.models import AnnualFigures, Enterprise, Invitation, IPItem, Membership, Qualification
from portal.audit import audit_record, diff
from portal.models import Region, Tenant, User

EMAIL_TOKEN_SALT = "enterprises.email-verification"
EMAIL_TOKEN_MAX_AGE = timedelta(days=3)
INVITATION_LIFETIME = timedelta(days=7)

# Checks that forbid moving an enterprise between reviewers once it has applied.
# certification registers one (an application was submitted); each returns a reason or None.
IDENTITY_LOCKS: list[Callable[[Enterprise], str | None]] = []
IDENTITY_FIELDS = ("uscc", "county")

PROFILE_FIELDS = [
    "name",
    "uscc",
    "county",
    "address",
    "industry",
    "legal_representative",
    "contact_person",
    "contact_phone",
    "contact_email",
    "established_date",
    "main_product",
    "niche_years",
    "market_share",
    "main_product_field",
    "strategic_emerging_industry",
    "digital_level",
    "own_brand",
    "standards_participation",
    "ethnic_crafts",
    "provincial_key_field",
    "negative_false_info",
    "negative_major_accident_3y",
    "negative_tax_or_dishonest",
    "negative_abnormal_list",
]

USCC_TAKEN = gettext_lazy(
    "This unified social credit code is already registered on this portal. "
    "Ask your enterprise's administrator to invite you."
)


def _send_after_commit(*, subject: str, body: str, to: str) -> None:
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to]))


def _absolute(request, path: str) -> str:
    return request.build_absolute_uri(path) if request is not None else path


# --- registration and email -----------------------------------------------------------


@transaction.atomic
def enterprise_register(
    *, tenant: Tenant, username: str, password: str, request=None, **fields: Any
) -> tuple[User, Enterprise]:
    """Create the account, the enterprise and the admin membership in one step."""
    county: Region = fields["county"]
    if county.tenant_id != tenant.pk or county.level != Region.Level.COUNTY:
        raise ValidationError({"county": _("Choose a county of this province.")})
    if Enterprise.objects.for_tenant(tenant).filter(uscc=fields["uscc"]).exists():
        raise ValidationError({"uscc": USCC_TAKEN})
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("This user name is taken. Choose another.")})
    user = User(
        username=username,
        display_name=fields["contact_person"],
        email=fields["contact_email"],
        phone=fields["contact_phone"],
    )
    user.set_password(password)
    try:
        # A savepoint, so that losing a race with another registration of the same code keeps the transaction usable.
        with transaction.atomic():
            user.save()
            enterprise = Enterprise.objects.create(tenant=tenant, **fields)
    except IntegrityError as exc:
        if "uscc" in str(exc).lower():
            raise ValidationError({"uscc": USCC_TAKEN}) from None
        raise ValidationError({"username": _("This user name is taken. Choose another.")}) from None
    Membership.objects.create(enterprise=enterprise, user=user, role=Membership.Role.ADMIN)
    audit_record(
        action="enterprise.registered",
        actor=user,
        tenant=tenant,
        obj=enterprise,
        summary=f"{enterprise.name} {enterprise.uscc}",
        request=request,
    )
    email_verification_send(enterprise=enterprise, request=request)
    return user, enterprise


def email_verification_token(enterprise: Enterprise) -> str:
    return signing.dumps({"e": enterprise.pk, "m": enterprise.contact_email}, salt=EMAIL_TOKEN_SALT)


def email_verification_send(*, enterprise: Enterprise, request=None) -> None:
    token = email_verification_token(enterprise)
    link = _absolute(
        request,
        reverse("enterprise_verify_email", kwargs={"tenant_code": enterprise.tenant.code, "token": token}),
    )
    _send_after_commit(
        to=enterprise.contact_email,
        subject=_("Verify the email address of %(name)s") % {"name": enterprise.name},
        body=_(
            "Open this link within 3 days to verify the email address of %(name)s on the SRDI portal:\n\n"
            "%(link)s\n\nYour enterprise can submit applications once the address is verified."
        )
        % {"name": enterprise.name, "link": link},
    )


@transaction.atomic
def email_verify(*, tenant: Tenant, token: str, request=None) -> Enterprise:
    try:
        data = signing.loads(token, salt=EMAIL_TOKEN_SALT, max_age=EMAIL_TOKEN_MAX_AGE)
    except signing.SignatureExpired:
        raise ValidationError(
            _("This verification link has expired. Ask for a new one from your enterprise page."),
            code="expired",
        ) from None
    except signing.BadSignature:
        raise ValidationError(_("This verification link is not valid."), code="invalid") from None
    enterprise = Enterprise.objects.for_tenant(tenant).select_for_update().filter(pk=data["e"]).first()
    if enterprise is None or enterprise.contact_email != data["m"]:
        # The address changed since the link was sent: only the newest address can be verified.
        raise ValidationError(_("This verification link is not valid."), code="invalid")
    if enterprise.email_verified_at is None:
        enterprise.email_verified_at = timezone.now()
        enterprise.save(update_fields=["email_verified_at", "updated_at"])
        audit_record(
            action="enterprise.email_verified",
            tenant=tenant,
            obj=enterprise,
            summary=enterprise.contact_email,
            request=request,
            actor=getattr(request, "user", None) if request else None,
        )
    return enterprise


def enterprise_can_submit(enterprise: Enterprise) -> str | None:
    """The reason the enterprise cannot submit anything yet, or None. Applications call this."""
    if not enterprise.email_verified:
        return _("Verify your enterprise's email address before submitting.")
    return None


# --- profile ------------------------------------------------------------------------


def identity_lock_reason(enterprise: Enterprise) -> str | None:
    for check in IDENTITY_LOCKS:
        reason = check(enterprise)
        if reason:
            return reason
    return None


@transaction.atomic
def enterprise_update_profile(
    *, enterprise: Enterprise, by: User, data: dict[str, Any], request=None
) -> Enterprise:
    enterprise = Enterprise.objects.select_for_update().get(pk=enterprise.pk)
    before = {name: getattr(enterprise, name) for name in PROFILE_FIELDS}
    for name, value in data.items():
        if name in PROFILE_FIELDS:
            setattr(enterprise, name, value)
    changes = diff(enterprise, before, PROFILE_FIELDS)
    if not changes:
        return enterprise
    moving = [name for name in IDENTITY_FIELDS if name in changes]
    if moving:
        reason = identity_lock_reason(enterprise)
        if reason:
            raise ValidationError(
                {
                    name: _(
                        "This cannot change any more: %(reason)s A different code or county would move the "
                        "enterprise to other reviewers. Contact your county's industry and IT bureau."
                    )
                    % {"reason": reason}
                    for name in moving
                }
            )
    if "county" in changes and (
        enterprise.county.tenant_id != enterprise.tenant_id or enterprise.county.level != Region.Level.COUNTY
    ):
        raise ValidationError({"county": _("Choose a county of this province.")})
    if (
        "uscc" in changes
        and Enterprise.objects.for_tenant(enterprise.tenant)
        .filter(uscc=enterprise.uscc)
        .exclude(pk=enterprise.pk)
        .exists()
    ):
        raise ValidationError({"uscc": USCC_TAKEN})
    if "contact_email" in changes:
        enterprise.email_verified_at = None
    enterprise.save()
    audit_record(
        action="enterprise.profile_changed",
        actor=by,
        tenant=enterprise.tenant,
        obj=enterprise,
        changes=changes,
        summary=", ".join(sorted(changes)),
        request=request,
    )
    if "contact_email" in changes:
        email_verification_send(enterprise=enterprise, request=request)
    enterprise_refresh_facts(enterprise=enterprise)
    return enterprise


# --- members ------------------------------------------------------------------------


def _lock_enterprise(enterprise: Enterprise) -> Enterprise:
    # Membership changes serialise on the enterprise row: two admins removing each other at once
    # would otherwise both see "another admin remains" and leave none.
    return Enterprise.objects.select_for_update().get(pk=enterprise.pk)


@transaction.atomic
def member_invite(*, enterprise: Enterprise, by: User, email: str, role: str, request=None) -> Invitation:
    email = email.strip().lower()
    if Membership.objects.filter(enterprise=enterprise, user__email__iexact=email).exists():
        raise ValidationError({"email": _("A member already uses this email address.")})
    invitation = Invitation.objects.create(
        enterprise=enterprise,
        email=email,
        role=role,
        invited_by=by,
        token=secrets.token_urlsafe(32),
        expires_at=timezone.now() + INVITATION_LIFETIME,
    )
    audit_record(
        action="enterprise.member_invited",
        actor=by,
        tenant=enterprise.tenant,
        obj=enterprise,
        summary=f"{email} ({role})",
        request=request,
    )
    link = _absolute(
        request,
        reverse(
            "enterprise_invitation", kwargs={"tenant_code": enterprise.tenant.code, "token": invitation.token}
        ),
    )
    _send_after_commit(
        to=email,
        subject=_("%(name)s invites you to the SRDI portal") % {"name": enterprise.name},
        body=_(
            "%(who)s invites you to act for %(name)s on the SRDI portal. Open this link within 7 days "
            "to accept:\n\n%(link)s"
        )
        % {"who": by, "name": enterprise.name, "link": link},
    )
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User, request=None) -> Membership:
    invitation = (
        Invitation.objects.select_for_update()
        .select_related("enterprise__tenant")
        .filter(token=token)
        .first()
    )
    if invitation is None or not invitation.is_open:
        raise ValidationError(
            _(
                "This invitation is not valid any more: it was used, withdrawn or has expired. "
                "Ask the enterprise's administrator for a new one."
            )
        )
    member, created = Membership.objects.get_or_create(
        enterprise=invitation.enterprise, user=user, defaults={"role": invitation.role}
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at"])
    if created:
        audit_record(
            action="enterprise.member_joined",
            actor=user,
            tenant=invitation.enterprise.tenant,
            obj=invitation.enterprise,
            summary=f"{user.username} ({member.role})",
            request=request,
        )
    return member


def _admins_left(enterprise: Enterprise, *, without: Membership) -> int:
    return enterprise.memberships.filter(role=Membership.Role.ADMIN).exclude(pk=without.pk).count()


@transaction.atomic
def member_set_role(*, membership: Membership, by: User, role: str, request=None) -> Membership:
    enterprise = _lock_enterprise(membership.enterprise)
    membership = Membership.objects.get(pk=membership.pk)
    if membership.role == role:
        return membership
    if (
        membership.is_admin
        and role != Membership.Role.ADMIN
        and _admins_left(enterprise, without=membership) == 0
    ):
        raise ValidationError({"role": _("The enterprise needs at least one administrator.")})
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role"])
    audit_record(
        action="enterprise.member_role_changed",
        actor=by,
        tenant=enterprise.tenant,
        obj=enterprise,
        changes={"role": [before, role]},
        summary=membership.user.username,
        request=request,
    )
    return membership


@transaction.atomic
def member_remove(*, membership: Membership, by: User, request=None) -> None:
    enterprise = _lock_enterprise(membership.enterprise)
    membership = Membership.objects.select_related("user").get(pk=membership.pk)
    if membership.is_admin and _admins_left(enterprise, without=membership) == 0:
        raise ValidationError(
            _("The last administrator cannot leave: make another member an administrator first.")
        )
    membership.delete()
    audit_record(
        action="enterprise.member_removed",
        actor=by,
        tenant=enterprise.tenant,
        obj=enterprise,
        summary=membership.user.username,
        request=request,
    )


# --- annual figures -----------------------------------------------------------------

RD_RATIO_WARNING = Decimal("0.5")


def figures_check(values: dict[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """Errors by field, and warnings, for one year of figures. Shared by the form, the API and the import."""
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []

    def err(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    v = values.get
    for name in (
        "revenue",
        "main_business_revenue",
        "rd_expense",
        "total_assets",
        "total_liabilities",
        "equity_financing",
    ):
        if v(name) is not None and v(name) < 0:
            err(name, _("Cannot be negative."))
    if (
        v("revenue") is not None
        and v("main_business_revenue") is not None
        and v("main_business_revenue") > v("revenue")
    ):
        err("main_business_revenue", _("Main-business revenue cannot exceed revenue."))
    if v("employees") is not None and v("rd_staff") is not None and v("rd_staff") > v("employees"):
        err("rd_staff", _("R&D staff cannot exceed the number of employees."))
    if (
        v("rd_expense") is not None
        and v("revenue") is not None
        and v("revenue") > 0
        and v("rd_expense") / v("revenue") > RD_RATIO_WARNING
    ):
        warnings.append(_("R&D expense is more than half of revenue. Please check the figures."))
    if (
        v("total_assets") is not None
        and v("total_liabilities") is not None
        and v("total_assets") >= 0
        and v("total_liabilities") > v("total_assets")
    ):
        warnings.append(_("Liabilities exceed assets (debt ratio above 100%). Please check the figures."))
    if v("total_assets") == 0 and v("revenue"):
        err("total_assets", _("An enterprise with revenue cannot have zero total assets."))
    return errors, warnings


@transaction.atomic
def figures_save(
    *, enterprise: Enterprise, by: User, fiscal_year: int, values: dict[str, Any], request=None
) -> AnnualFigures:
    errors, _warnings = figures_check(values)
    if errors:
        raise ValidationError(errors)
    row, created = AnnualFigures.objects.select_for_update().get_or_create(
        enterprise=enterprise, fiscal_year=fiscal_year
    )
    before = {name: getattr(row, name) for name in AnnualFigures.FIELDS}
    for name in AnnualFigures.FIELDS:
        if name in values:
            setattr(row, name, values[name])
    changes = diff(row, before, AnnualFigures.FIELDS)
    if changes or created:
        row.save()
        audit_record(
            action="enterprise.figures_saved",
            actor=by,
            tenant=enterprise.tenant,
            obj=row,
            changes=changes,
            summary=str(fiscal_year),
            request=request,
        )
        enterprise_refresh_facts(enterprise=enterprise)
    return row


# --- IP and qualifications ----------------------------------------------------------


def _save_child(*, obj, by: User, fields: list[str], action: str, request=None):
    enterprise = obj.enterprise
    adding = obj._state.adding
    before = {} if adding else {n: getattr(type(obj).objects.get(pk=obj.pk), n) for n in fields}
    obj.full_clean()
    obj.save()
    audit_record(
        action=f"{action}.{'added' if adding else 'changed'}",
        actor=by,
        tenant=enterprise.tenant,
        obj=obj,
        changes=diff(obj, before, fields),
        summary=str(obj),
        request=request,
    )
    enterprise_refresh_facts(enterprise=enterprise)
    return obj


IP_FIELDS = [
    "ip_type",
    "number",
    "title",
    "grant_date",
    "acquisition",
    "acquired_date",
    "related_to_main_product",
    "high_value",
    "valid",
]
QUALIFICATION_FIELDS = ["kind", "title", "level", "rank", "certificate_number", "issued_on", "valid_until"]


@transaction.atomic
def ip_item_save(*, item: IPItem, by: User, request=None) -> IPItem:
    if item.acquisition == IPItem.Acquisition.TRANSFERRED and item.acquired_date is None:
        raise ValidationError({"acquired_date": _("Give the date the IP was transferred in.")})
    if item.acquisition == IPItem.Acquisition.SELF_DEVELOPED:
        item.acquired_date = None
    return _save_child(obj=item, by=by, fields=IP_FIELDS, action="enterprise.ip", request=request)


@transaction.atomic
def qualification_save(*, qualification: Qualification, by: User, request=None) -> Qualification:
    return _save_child(
        obj=qualification,
        by=by,
        fields=QUALIFICATION_FIELDS,
        action="enterprise.qualification",
        request=request,
    )


@transaction.atomic
def child_delete(*, obj, by: User, request=None) -> None:
    enterprise = obj.enterprise
    label, kind = str(obj), obj._meta.model_name
    obj.delete()
    audit_record(
        action=f"enterprise.{kind}.deleted",
        actor=by,
        tenant=enterprise.tenant,
        obj=enterprise,
        summary=label,
        request=request,
    )
    enterprise_refresh_facts(enterprise=enterprise)


def enterprise_refresh_facts(*, enterprise: Enterprise) -> bool:
    """Recompute the stored facts, their hash and the size class; True when the facts changed.

    Called by every change of a fact's input (profile, figures, IP, qualifications) and daily by beat,
    since "the last complete fiscal year" moves on 1 January. When the facts change, the enterprise is
    screened again in the background, after the commit.
    """
    from enterprises.derived import derived_values
    from enterprises.facts import enterprise_facts, facts_hash, facts_to_json

    facts = enterprise_facts(enterprise)
    size = derived_values(facts)["size_class"]
    stored = facts_to_json(facts)
    new_hash = facts_hash(stored)
    if new_hash == enterprise.facts_hash and size == enterprise.size_class:
        return False
    Enterprise.objects.filter(pk=enterprise.pk).update(size_class=size, facts=stored, facts_hash=new_hash)
    enterprise.size_class, enterprise.facts, enterprise.facts_hash = size, stored, new_hash
    for hook in FACTS_CHANGED:
        transaction.on_commit(lambda hook=hook: hook(enterprise.pk))
    return True


# Called with the enterprise id after a commit that changed its facts (certification registers re-screening).
FACTS_CHANGED: list[Callable[[int], None]] = []
