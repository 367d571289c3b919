"""Service commissioners (服务专员): who serves which certified enterprise, their visits, the enterprises'
requests (诉求), and the visit coverage officials above see.

Seed 004 (博州): "为每家专精特新中小企业配备一名服务专员", "每季度至少上门跟踪指导一次".

- Staff of the enterprise's region assign one official to a certified enterprise. The grant is the
  django-guardian object permission `enterprises.serve_enterprise`; the `CommissionerAssignment` rows are its
  history (a reassignment ends the current row and starts a new one). Both change in one transaction under
  a lock on the enterprise row, so exactly the current commissioner holds the grant.
- The commissioner logs visits; an enterprise is overdue when its last visit (or the assignment's start,
  when there is none yet) is more than the tenant's `visit_interval_days` ago.
- Members of the enterprise raise requests to its current commissioner, who replies; either side closes.

Every state change: one transaction, the changed row locked, an audit event, notifications on commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    BigIntegerField,
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, Greatest, Substr
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.models import UserObjectPermission
from guardian.shortcuts import assign_perm, remove_perm

from certification.lifecycle import lifecycle_settings
from certification.models import (
    Certification,
    CommissionerAssignment,
    LifecycleEvent,
    ServiceRequest,
    ServiceRequestMessage,
    Visit,
)
from enterprises.models import Enterprise, Membership
from enterprises.permissions import is_member
from portal.api.errors import DomainError
from portal.audit import audit_record
from portal.models import Post, Region, Tenant, User
from portal.notifications import notification_send

SERVE_PERM = "enterprises.serve_enterprise"
SUBJECT_MAX = 200
BODY_MAX = 4000
PEOPLE_MET_MAX = 300
REASON_MAX = 300
CODE_SEGMENT = 7  # "520102/": one level of Region.path


class CommissionerRefused(DomainError):
    """A commissioner action the rules do not allow now; the message says why."""

    def __init__(self, message: str, code: str = "not_allowed", status: int = 409):
        super().__init__(message, code=code, status=status)


# --- who may do what -------------------------------------------------------------------------------


def _manages_commissioners(post: Post) -> bool:
    """County and prefecture reviewers, and provincial staff who see the whole subtree (not experts or
    commissioners, who see only what is granted to them)."""
    if not post.sees_whole_subtree:
        return False
    return post.is_reviewer or post.is_tenant_admin or post.region.level == Region.Level.PROVINCE


def staff_posts(user: User, tenant: Tenant) -> list[Post]:
    """The user's posts that assign commissioners and see the coverage of their region."""
    if not user.is_authenticated:
        return []
    return [p for p in user.posts_in(tenant) if _manages_commissioners(p)]


def is_staff(user: User, tenant: Tenant) -> bool:
    return user.is_authenticated and (user.is_superuser or bool(staff_posts(user, tenant)))


def staff_post_over(user: User, tenant: Tenant, region: Region) -> Post | None:
    """The user's staff post whose subtree holds `region` (the highest first), or None."""
    posts = [p for p in staff_posts(user, tenant) if p.region.contains(region)]
    return min(posts, key=lambda p: len(p.region.path), default=None)


def can_manage(user: User, enterprise: Enterprise) -> bool:
    """May the user assign the enterprise's commissioner (staff of a region holding its county)?"""
    return user.is_authenticated and (
        user.is_superuser or staff_post_over(user, enterprise.tenant, enterprise.county) is not None
    )


def is_commissioner_role(user: User, tenant: Tenant) -> bool:
    return user.is_authenticated and any(
        p.role == Post.Role.SERVICE_COMMISSIONER for p in user.posts_in(tenant)
    )


# --- reads -----------------------------------------------------------------------------------------


def _active_certification(enterprise_ref) -> QuerySet[Certification]:
    return Certification.objects.filter(enterprise=enterprise_ref, status=Certification.Status.ACTIVE)


def certified_enterprises(tenant: Tenant) -> QuerySet[Enterprise]:
    """The tenant's enterprises that hold a certification in force."""
    return Enterprise.objects.for_tenant(tenant).filter(Exists(_active_certification(OuterRef("pk"))))


def in_staff_subtrees(queryset: QuerySet[Enterprise], user: User, tenant: Tenant) -> QuerySet[Enterprise]:
    """The enterprises of `queryset` in the subtrees of the user's staff posts (all of them for a superuser)."""
    qs = queryset.filter(tenant=tenant)
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser:
        return qs
    condition = Q()
    for post in staff_posts(user, tenant):
        if post.region_id == tenant.root_region_id:
            return qs
        condition |= Q(county__path__startswith=post.region.path)
    return qs.filter(condition) if condition else qs.none()


def managed_enterprises(user: User, tenant: Tenant) -> QuerySet[Enterprise]:
    """Certified enterprises in the subtrees of the user's staff posts: those whose commissioner they assign."""
    return in_staff_subtrees(certified_enterprises(tenant), user, tenant)


def current_assignment(enterprise: Enterprise) -> CommissionerAssignment | None:
    return (
        CommissionerAssignment.objects.filter(enterprise=enterprise, ended_on__isnull=True)
        .select_related("commissioner")
        .first()
    )


def current_commissioner(enterprise: Enterprise) -> User | None:
    assignment = current_assignment(enterprise)
    return assignment.commissioner if assignment else None


def commissioner_enterprises(user: User, tenant: Tenant) -> QuerySet[Enterprise]:
    """The enterprises the user serves in `tenant`: those on which they hold the guardian grant (one query).

    SECURITY: limited to `tenant`, so a stray grant on another tenant's enterprise never shows up here.
    """
    if not user.is_authenticated:
        return Enterprise.objects.none()
    granted = (
        UserObjectPermission.objects.filter(
            user=user,
            permission__codename="serve_enterprise",
            permission__content_type__app_label="enterprises",
            content_type__app_label="enterprises",
            content_type__model="enterprise",
        )
        .annotate(enterprise_pk=Cast("object_pk", BigIntegerField()))
        .values("enterprise_pk")
    )
    return Enterprise.objects.for_tenant(tenant).filter(pk__in=granted)


def visit_interval(tenant: Tenant) -> int:
    return lifecycle_settings(tenant).visit_interval_days


def with_visit_clock(queryset: QuerySet[Enterprise], today: date, interval: int) -> QuerySet[Enterprise]:
    """Annotate enterprises with the start of the current assignment (`assigned_on`), the last visit, the
    date the visit clock runs from (`reference`), whether they are `overdue`, and their open requests.

    The reference is the last visit or, when there is none since the assignment, its start: a newly
    assigned commissioner has one interval for the first visit (seed 004: 每季度至少上门跟踪指导一次).
    An enterprise without a commissioner has no reference and is never overdue.
    """
    cutoff = today - timedelta(days=interval)
    current = CommissionerAssignment.objects.filter(enterprise=OuterRef("pk"), ended_on__isnull=True)
    last_visit = Visit.objects.filter(enterprise=OuterRef("pk")).order_by("-visited_on").values("visited_on")
    open_requests = (
        ServiceRequest.objects.filter(enterprise=OuterRef("pk"), state=ServiceRequest.State.OPEN)
        .order_by()
        .values("enterprise")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        queryset.annotate(
            assigned_on=Subquery(current.values("started_on")[:1]),
            last_visit=Subquery(last_visit[:1]),
            open_requests=Coalesce(Subquery(open_requests, output_field=IntegerField()), Value(0)),
        )
        # Visits of an earlier commissioner all fall before this assignment's start, so the later of the
        # two dates is the last visit since the assignment, or its start.
        .annotate(reference=Greatest(Coalesce("last_visit", "assigned_on"), "assigned_on"))
        .annotate(
            overdue=Case(
                When(reference__lt=cutoff, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def caseload(user: User, tenant: Tenant, today: date, *, interval: int | None = None) -> QuerySet[Enterprise]:
    """The commissioner's enterprises with their visit clock (`with_visit_clock`), overdue first."""
    interval = visit_interval(tenant) if interval is None else interval
    return with_visit_clock(
        commissioner_enterprises(user, tenant).select_related("county"), today, interval
    ).order_by(F("reference").asc(nulls_last=True), "name_pinyin", "pk")


def visits_overdue(user: User, tenant: Tenant, today: date) -> QuerySet[Enterprise]:
    """The commissioner's enterprises whose last visit (or assignment start) is older than the interval."""
    return caseload(user, tenant, today).filter(overdue=True)


def eligible_posts(enterprise: Enterprise) -> QuerySet[Post]:
    """Active posts whose region holds the enterprise's county: their holders may serve it. Experts are
    outside reviewers, not officials of a region, so they are never commissioners."""
    path = enterprise.county.path
    codes = path.strip("/").split("/")
    ancestor_paths = ["".join(f"{c}/" for c in codes[: i + 1]) for i in range(len(codes))]
    return (
        Post.objects.filter(
            tenant_id=enterprise.tenant_id,
            is_active=True,
            user__is_active=True,
            region__path__in=ancestor_paths,
        )
        .exclude(role=Post.Role.EXPERT)
        .select_related("user", "region")
    )


def rank_eligible(posts: list[Post]) -> list[tuple[User, Post]]:
    """One entry per user, their most fitting post: service commissioners first, then the nearest region."""

    def key(p: Post):
        return (p.role != Post.Role.SERVICE_COMMISSIONER, -len(p.region.path), p.user.username)

    chosen: dict[int, Post] = {}
    for post in sorted(posts, key=key):
        chosen.setdefault(post.user_id, post)
    return [(p.user, p) for p in chosen.values()]


def eligible_commissioners(enterprise: Enterprise) -> list[tuple[User, Post]]:
    return rank_eligible(list(eligible_posts(enterprise)))


def _check_eligible(user: User, enterprise: Enterprise) -> None:
    if not eligible_posts(enterprise).filter(user=user).exists():
        raise ValidationError(
            {
                "commissioner": [
                    _(
                        "Service commissioner: choose an official with a post in %(county)s or a region "
                        "above it."
                    )
                    % {"county": enterprise.county.name}
                ]
            }
        )


# --- assignment ------------------------------------------------------------------------------------


def _lock_enterprise(enterprise: Enterprise) -> Enterprise:
    return (
        Enterprise.objects.select_for_update(of=("self",))
        .select_related("county", "tenant")
        .get(pk=enterprise.pk)
    )


def _actor_label(by: User, post: Post | None) -> str:
    return str(post) if post is not None else (_("platform superuser") if by.is_superuser else "")


def _audit_refusal(*, action: str, by: User, tenant: Tenant, obj, reason: str, request) -> None:
    """Called after the action's transaction rolled back, so that the attempt stays on record."""
    audit_record(
        action=action, actor=by, tenant=tenant, obj=obj, summary=reason, request=request, outcome="refused"
    )


def commissioner_assign(
    *, enterprise: Enterprise, commissioner: User, by: User, reason: str = "", request=None
) -> CommissionerAssignment:
    """Make `commissioner` the service commissioner of a certified enterprise, ending the current one's
    assignment (with the reason, required then) and moving the guardian grant."""
    try:
        return _commissioner_assign(
            enterprise=enterprise, commissioner=commissioner, by=by, reason=reason, request=request
        )
    except CommissionerRefused as exc:
        _audit_refusal(
            action="commissioner.assign",
            by=by,
            tenant=enterprise.tenant,
            obj=enterprise,
            reason=exc.message,
            request=request,
        )
        raise


@transaction.atomic
def _commissioner_assign(
    *, enterprise: Enterprise, commissioner: User, by: User, reason: str, request
) -> CommissionerAssignment:
    reason = (reason or "").strip()
    # Two staff assigning at once: the second waits here for the first to commit, then finds its row
    # current and ends it. The partial unique index (one current row per enterprise) backs this up.
    enterprise = _lock_enterprise(enterprise)
    tenant = enterprise.tenant
    post = staff_post_over(by, tenant, enterprise.county) if by.is_authenticated else None
    if post is None and not by.is_superuser:
        raise CommissionerRefused(
            _("Only staff of the enterprise's region assign its service commissioner."),
            code="not_found",
            status=404,
        )
    certifications = list(_active_certification(enterprise).order_by("pk"))
    if not certifications:
        raise CommissionerRefused(
            _("Only an enterprise that holds a certification in force gets a service commissioner."),
            code="not_certified",
        )
    _check_eligible(commissioner, enterprise)
    current = (
        CommissionerAssignment.objects.select_for_update()
        .filter(enterprise=enterprise, ended_on__isnull=True)
        .select_related("commissioner")
        .first()
    )
    if current is not None and current.commissioner_id == commissioner.pk:
        raise ValidationError(
            {
                "commissioner": [
                    _("Service commissioner: %(name)s already serves this enterprise.")
                    % {"name": commissioner}
                ]
            }
        )
    if current is not None and not reason:
        raise ValidationError(
            {"reason": [_("Reason for the change: give it; it stays in the enterprise's history.")]}
        )
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("Reason for the change: at most 300 characters.")]})

    today = timezone.localdate()
    previous = current.commissioner if current is not None else None
    if current is not None:
        current.ended_on = today
        current.end_reason = reason
        current.save(update_fields=["ended_on", "end_reason"])
    assignment = CommissionerAssignment.objects.create(
        tenant=tenant, enterprise=enterprise, commissioner=commissioner, assigned_by=by, started_on=today
    )
    # SECURITY: exactly the current commissioner holds the grant; one given by hand (admin) goes too.
    for holder in _grant_holders(enterprise):
        if holder.pk != commissioner.pk:
            remove_perm(SERVE_PERM, holder, enterprise)
    assign_perm(SERVE_PERM, commissioner, enterprise)

    label = _actor_label(by, post)
    data = {
        "assignment": assignment.pk,
        "commissioner_id": commissioner.pk,
        "commissioner": str(commissioner),
        "previous_id": previous.pk if previous else None,
        "previous": str(previous) if previous else "",
    }
    LifecycleEvent.objects.bulk_create(
        LifecycleEvent(
            tenant=tenant,
            certification=certification,
            kind=LifecycleEvent.Kind.COMMISSIONER,
            actor=by,
            actor_label=label,
            region=post.region if post else None,
            level=post.region.level if post else "",
            reason=reason,
            data=data,
        )
        for certification in certifications
    )
    audit_record(
        action="commissioner.reassigned" if previous else "commissioner.assigned",
        actor=by,
        tenant=tenant,
        obj=enterprise,
        summary=f"{enterprise.name} · {previous or '—'} → {commissioner}"
        + (f" · {reason}" if reason else ""),
        changes={"commissioner": [previous.pk if previous else None, commissioner.pk]},
        request=request,
    )
    _notify_assignment(enterprise, commissioner=commissioner, previous=previous)
    return assignment


@transaction.atomic
def commissioner_end(
    *, enterprise: Enterprise, reason: str, by: User | None = None, request=None
) -> CommissionerAssignment | None:
    """End the current assignment without a successor and take the grant back: for the lifecycle when a
    certification expires or is revoked (the enterprise leaves the commissioners' lists). Returns the ended
    row, or None when there was none. `by` None means the system (the daily job)."""
    enterprise = _lock_enterprise(enterprise)
    current = (
        CommissionerAssignment.objects.select_for_update()
        .filter(enterprise=enterprise, ended_on__isnull=True)
        .select_related("commissioner")
        .first()
    )
    for holder in _grant_holders(enterprise):
        remove_perm(SERVE_PERM, holder, enterprise)
    if current is None:
        return None
    current.ended_on = timezone.localdate()
    current.end_reason = (reason or "")[:REASON_MAX]
    current.save(update_fields=["ended_on", "end_reason"])
    audit_record(
        action="commissioner.ended",
        actor=by,
        tenant=enterprise.tenant,
        obj=enterprise,
        summary=f"{enterprise.name} · {current.commissioner} · {current.end_reason}",
        changes={"commissioner": [current.commissioner_id, None]},
        request=request,
        actor_label="" if by is not None else "system",
    )
    notification_send(
        recipient=current.commissioner,
        tenant=enterprise.tenant,
        subject=_("You no longer serve %(name)s") % {"name": enterprise.name},
        body=current.end_reason,
    )
    return current


def _grant_holders(enterprise: Enterprise) -> list[User]:
    return list(
        User.objects.filter(
            userobjectpermission__permission__codename="serve_enterprise",
            userobjectpermission__content_type__app_label="enterprises",
            userobjectpermission__content_type__model="enterprise",
            userobjectpermission__object_pk=str(enterprise.pk),
        ).distinct()
    )


def _admins(enterprise: Enterprise) -> list[User]:
    return [
        m.user
        for m in Membership.objects.filter(enterprise=enterprise, role=Membership.Role.ADMIN)
        .select_related("user")
        .order_by("pk")
    ]


def _url(name: str, tenant: Tenant, **kwargs) -> str:
    return reverse(name, kwargs={"tenant_code": tenant.code, **kwargs})


def _notify_assignment(enterprise: Enterprise, *, commissioner: User, previous: User | None) -> None:
    tenant = enterprise.tenant
    notification_send(
        recipient=commissioner,
        tenant=tenant,
        subject=_("You are now the service commissioner of %(name)s") % {"name": enterprise.name},
        body=_("Visit it at least once every %(days)d days and log each visit.")
        % {"days": visit_interval(tenant)},
        link=_url("commissioner_enterprise", tenant, pk=enterprise.pk),
    )
    if previous is not None:
        notification_send(
            recipient=previous,
            tenant=tenant,
            subject=_("You no longer serve %(name)s") % {"name": enterprise.name},
            body=_("%(name)s is its new service commissioner.") % {"name": commissioner},
        )
    body = _("Your service commissioner is %(name)s.") % {"name": commissioner}
    if commissioner.phone:
        body += " " + _("Mobile phone: %(phone)s") % {"phone": commissioner.phone}
    for admin in _admins(enterprise):
        notification_send(
            recipient=admin,
            tenant=tenant,
            subject=_("Your enterprise has a service commissioner: %(name)s") % {"name": commissioner},
            body=body,
            link=_url("service_requests", tenant),
        )


# --- visits ----------------------------------------------------------------------------------------


def _require_current(enterprise: Enterprise, by: User, message: str) -> CommissionerAssignment:
    assignment = (
        CommissionerAssignment.objects.select_for_update()
        .filter(enterprise=enterprise, ended_on__isnull=True)
        .first()
    )
    if assignment is None or assignment.commissioner_id != by.pk:
        raise CommissionerRefused(message, code="not_commissioner", status=404)
    return assignment


@transaction.atomic
def visit_log(
    *,
    enterprise: Enterprise,
    by: User,
    visited_on: date | None,
    kind: str = Visit.Kind.ONSITE,
    people_met: str,
    problems: str = "",
    follow_up: str = "",
    request=None,
    today: date | None = None,
) -> Visit:
    """The current commissioner records a visit. Every field problem is reported at once, by field."""
    today = today or timezone.localdate()
    enterprise = _lock_enterprise(enterprise)
    assignment = _require_current(
        enterprise, by, _("Only the enterprise's current service commissioner logs its visits.")
    )
    people_met = (people_met or "").strip()
    problems = (problems or "").strip()
    follow_up = (follow_up or "").strip()
    errors: dict[str, list[str]] = {}
    if visited_on is None:
        errors["visited_on"] = [_("Date of the visit: give the day of the visit.")]
    elif visited_on > today:
        errors["visited_on"] = [_("Date of the visit: it cannot be in the future.")]
    elif visited_on < assignment.started_on:
        errors["visited_on"] = [
            _("Date of the visit: it cannot be before your assignment began (%(day)s).")
            % {"day": assignment.started_on.isoformat()}
        ]
    if kind not in Visit.Kind.values:
        errors["kind"] = [_("Kind: choose one of the listed kinds of visit.")]
    if not people_met:
        errors["people_met"] = [_("People met: say whom you met.")]
    elif len(people_met) > PEOPLE_MET_MAX:
        errors["people_met"] = [_("People met: at most 300 characters.")]
    for field, value, label in (
        ("problems", problems, _("Problems raised")),
        ("follow_up", follow_up, _("Follow-up")),
    ):
        if len(value) > BODY_MAX:
            errors[field] = [_("%(field)s: at most 4,000 characters.") % {"field": label}]
    if errors:
        raise ValidationError(errors)
    visit = Visit.objects.create(
        tenant=enterprise.tenant,
        enterprise=enterprise,
        assignment=assignment,
        commissioner=by,
        visited_on=visited_on,
        kind=kind,
        people_met=people_met,
        problems=problems,
        follow_up=follow_up,
    )
    audit_record(
        action="visit.logged",
        actor=by,
        tenant=enterprise.tenant,
        obj=visit,
        summary=f"{enterprise.name} · {visited_on.isoformat()} · {visit.get_kind_display()}",
        request=request,
    )
    return visit


# --- requests (诉求) --------------------------------------------------------------------------------


def _lock_request(service_request: ServiceRequest) -> ServiceRequest:
    return (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("enterprise__tenant", "enterprise__county")
        .get(pk=service_request.pk)
    )


def _body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": [_("Message: write something.")]})
    if len(body) > BODY_MAX:
        raise ValidationError({"body": [_("Message: at most 4,000 characters.")]})
    return body


def _member_recipients(service_request: ServiceRequest) -> list[User]:
    """The member who raised the request and the enterprise's administrators, each once."""
    people = {u.pk: u for u in _admins(service_request.enterprise)}
    if service_request.created_by_id and service_request.created_by.is_active:
        people.setdefault(service_request.created_by_id, service_request.created_by)
    return list(people.values())


@transaction.atomic
def request_open(
    *, enterprise: Enterprise, by: User, category: str, subject: str, body: str, request=None
) -> ServiceRequest:
    """A member raises a request; it goes to the enterprise's current commissioner."""
    enterprise = _lock_enterprise(enterprise)
    if not is_member(by, enterprise):
        raise CommissionerRefused(_("Only members of the enterprise raise its requests."), status=404)
    assignment = (
        CommissionerAssignment.objects.filter(enterprise=enterprise, ended_on__isnull=True)
        .select_related("commissioner")
        .first()
    )
    if assignment is None:
        raise CommissionerRefused(
            _("Your enterprise has no service commissioner yet, so there is no one to send a request to."),
            code="no_commissioner",
        )
    subject = (subject or "").strip()
    errors: dict[str, list[str]] = {}
    if category not in ServiceRequest.Category.values:
        errors["category"] = [_("Category: choose one of the listed categories.")]
    if not subject:
        errors["subject"] = [_("Subject: say in a few words what the request is about.")]
    elif len(subject) > SUBJECT_MAX:
        errors["subject"] = [_("Subject: at most 200 characters.")]
    try:
        body = _body(body)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    service_request = ServiceRequest.objects.create(
        tenant=enterprise.tenant,
        enterprise=enterprise,
        assignment=assignment,
        category=category,
        subject=subject,
        created_by=by,
    )
    ServiceRequestMessage.objects.create(request=service_request, author=by, from_official=False, body=body)
    audit_record(
        action="service_request.opened",
        actor=by,
        tenant=enterprise.tenant,
        obj=service_request,
        summary=f"{enterprise.name} · {service_request.get_category_display()} · {subject}",
        request=request,
    )
    notification_send(
        recipient=assignment.commissioner,
        tenant=enterprise.tenant,
        subject=_("A request from %(name)s: %(subject)s") % {"name": enterprise.name, "subject": subject},
        body=body[:500],
        link=_url("commissioner_enterprise", enterprise.tenant, pk=enterprise.pk)
        + f"#request-{service_request.pk}",
    )
    return service_request


def _refuse_closed(service_request: ServiceRequest) -> None:
    if service_request.state == ServiceRequest.State.CLOSED:
        raise CommissionerRefused(_("This request is closed."), code="closed")


@transaction.atomic
def request_reply(*, service_request: ServiceRequest, by: User, body: str, request=None) -> ServiceRequest:
    """The enterprise's current commissioner answers a request."""
    service_request = _lock_request(service_request)
    enterprise = service_request.enterprise
    _require_current(enterprise, by, _("Only the enterprise's current service commissioner replies."))
    _refuse_closed(service_request)
    body = _body(body)
    before = service_request.state
    ServiceRequestMessage.objects.create(request=service_request, author=by, from_official=True, body=body)
    service_request.state = ServiceRequest.State.ANSWERED
    service_request.answered_at = timezone.now()
    service_request.save(update_fields=["state", "answered_at"])
    audit_record(
        action="service_request.answered",
        actor=by,
        tenant=enterprise.tenant,
        obj=service_request,
        summary=f"{enterprise.name} · {service_request.subject}",
        changes={"state": [before, service_request.state]},
        request=request,
    )
    for member in _member_recipients(service_request):
        notification_send(
            recipient=member,
            tenant=enterprise.tenant,
            subject=_("Your service commissioner replied: %(subject)s")
            % {"subject": service_request.subject},
            body=body[:500],
            link=_url("service_request_detail", enterprise.tenant, pk=service_request.pk),
        )
    return service_request


@transaction.atomic
def request_follow_up(
    *, service_request: ServiceRequest, by: User, body: str, request=None
) -> ServiceRequest:
    """A member adds a message: the request is open again, waiting for the commissioner."""
    service_request = _lock_request(service_request)
    enterprise = service_request.enterprise
    if not is_member(by, enterprise):
        raise CommissionerRefused(_("Only members of the enterprise follow up its requests."), status=404)
    _refuse_closed(service_request)
    body = _body(body)
    before = service_request.state
    ServiceRequestMessage.objects.create(request=service_request, author=by, from_official=False, body=body)
    service_request.state = ServiceRequest.State.OPEN
    service_request.save(update_fields=["state"])
    audit_record(
        action="service_request.followed_up",
        actor=by,
        tenant=enterprise.tenant,
        obj=service_request,
        summary=f"{enterprise.name} · {service_request.subject}",
        changes={"state": [before, service_request.state]},
        request=request,
    )
    commissioner = current_commissioner(enterprise)
    if commissioner is not None:
        notification_send(
            recipient=commissioner,
            tenant=enterprise.tenant,
            subject=_("%(name)s followed up a request: %(subject)s")
            % {"name": enterprise.name, "subject": service_request.subject},
            body=body[:500],
            link=_url("commissioner_enterprise", enterprise.tenant, pk=enterprise.pk)
            + f"#request-{service_request.pk}",
        )
    return service_request


def request_can_close(service_request: ServiceRequest, by: User) -> bool:
    if service_request.state == ServiceRequest.State.CLOSED:
        return False
    return is_member(by, service_request.enterprise) or (
        current_commissioner(service_request.enterprise) == by
    )


@transaction.atomic
def request_close(*, service_request: ServiceRequest, by: User, request=None) -> ServiceRequest:
    """A member or the current commissioner closes a request: nothing more is added to it."""
    service_request = _lock_request(service_request)
    enterprise = service_request.enterprise
    member = is_member(by, enterprise)
    commissioner = current_commissioner(enterprise)
    if not member and (commissioner is None or commissioner.pk != by.pk):
        raise CommissionerRefused(
            _("Only the enterprise's members or its current service commissioner close its requests."),
            status=404,
        )
    if service_request.state == ServiceRequest.State.CLOSED:
        raise CommissionerRefused(_("This request is already closed."), code="closed")
    before = service_request.state
    service_request.state = ServiceRequest.State.CLOSED
    service_request.closed_at = timezone.now()
    service_request.save(update_fields=["state", "closed_at"])
    audit_record(
        action="service_request.closed",
        actor=by,
        tenant=enterprise.tenant,
        obj=service_request,
        summary=f"{enterprise.name} · {service_request.subject}",
        changes={"state": [before, service_request.state]},
        request=request,
    )
    subject = _("Request closed: %(subject)s") % {"subject": service_request.subject}
    if member and commissioner is not None:
        notification_send(
            recipient=commissioner,
            tenant=enterprise.tenant,
            subject=subject,
            link=_url("commissioner_enterprise", enterprise.tenant, pk=enterprise.pk),
        )
    elif not member:
        for person in _member_recipients(service_request):
            notification_send(
                recipient=person,
                tenant=enterprise.tenant,
                subject=subject,
                link=_url("service_request_detail", enterprise.tenant, pk=service_request.pk),
            )
    return service_request


# --- coverage --------------------------------------------------------------------------------------


@dataclass
class CoverageRow:
    """One region's visit coverage. `visited`, `overdue`, `pending` and `unassigned` split `certified`:
    visited within the interval; with a commissioner and overdue; with a commissioner whose first interval
    has not run out; without a commissioner and not visited."""

    region: Region
    certified: int = 0
    with_commissioner: int = 0
    visited: int = 0
    overdue: int = 0
    pending: int = 0
    unassigned: int = 0
    open_requests: int = 0

    @property
    def without_commissioner(self) -> int:
        return self.certified - self.with_commissioner

    @property
    def visited_percent(self) -> int | None:
        return round(100 * self.visited / self.certified) if self.certified else None


def coverage_regions(user: User, tenant: Tenant) -> list[Region]:
    """The regions of the user's staff posts, highest first (the coverage page starts at the first)."""
    if user.is_authenticated and user.is_superuser:
        return [tenant.root_region] if tenant.root_region_id else []
    regions = {p.region_id: p.region for p in staff_posts(user, tenant)}
    return sorted(regions.values(), key=lambda r: (len(r.path), r.code))


def may_see_region(user: User, tenant: Tenant, region: Region) -> bool:
    return user.is_authenticated and (user.is_superuser or staff_post_over(user, tenant, region) is not None)


def coverage_children(region: Region) -> list[Region]:
    """The regions a coverage table has rows for: the children, or a county itself."""
    if region.level == Region.Level.COUNTY:
        return [region]
    return list(Region.objects.filter(tenant_id=region.tenant_id, parent=region).order_by("code"))


def coverage_by_region(
    user: User, tenant: Tenant, region: Region, today: date, *, interval: int | None = None
) -> list[CoverageRow]:
    """Per child region (prefectures of a province, counties of a prefecture, a county itself): certified
    enterprises, with a commissioner, visited within the interval, overdue, open requests. Counted in SQL,
    in a constant number of queries whatever the number of enterprises."""
    if region.tenant_id != tenant.pk or not may_see_region(user, tenant, region):
        raise CommissionerRefused(_("This region is not in your jurisdiction."), code="not_found", status=404)
    interval = visit_interval(tenant) if interval is None else interval
    cutoff = today - timedelta(days=interval)
    # The child a county belongs to is the first segment of its path below `region`.
    key_length = len(region.path) + (0 if region.level == Region.Level.COUNTY else CODE_SEGMENT)
    current = CommissionerAssignment.objects.filter(enterprise=OuterRef("pk"), ended_on__isnull=True)
    has_commissioner = Exists(current)
    # A visit on or after the cutoff is within the interval (caseload: reference < cutoff is overdue).
    visited = Exists(Visit.objects.filter(enterprise=OuterRef("pk"), visited_on__gte=cutoff))
    started_before_cutoff = Exists(current.filter(started_on__lt=cutoff))
    counts = (
        certified_enterprises(tenant)
        .filter(county__path__startswith=region.path)
        .annotate(child=Substr("county__path", 1, key_length))
        .order_by()
        .values("child")
        .annotate(
            certified=Count("pk"),
            with_commissioner=Count("pk", filter=has_commissioner),
            visited=Count("pk", filter=visited),
            overdue=Count("pk", filter=Q(started_before_cutoff) & ~Q(visited)),
            pending=Count("pk", filter=Q(has_commissioner) & ~Q(started_before_cutoff) & ~Q(visited)),
            unassigned=Count("pk", filter=~Q(has_commissioner) & ~Q(visited)),
        )
    )
    by_child = {row["child"]: row for row in counts}
    requests = (
        ServiceRequest.objects.for_tenant(tenant)
        .filter(state=ServiceRequest.State.OPEN, enterprise__county__path__startswith=region.path)
        .annotate(child=Substr("enterprise__county__path", 1, key_length))
        .order_by()
        .values("child")
        .annotate(n=Count("pk"))
    )
    open_by_child = {row["child"]: row["n"] for row in requests}
    rows = []
    for child in coverage_children(region):
        found = by_child.get(child.path, {})
        rows.append(
            CoverageRow(
                region=child,
                certified=found.get("certified", 0),
                with_commissioner=found.get("with_commissioner", 0),
                visited=found.get("visited", 0),
                overdue=found.get("overdue", 0),
                pending=found.get("pending", 0),
                unassigned=found.get("unassigned", 0),
                open_requests=open_by_child.get(child.path, 0),
            )
        )
    return rows


def coverage_total(region: Region, rows: list[CoverageRow]) -> CoverageRow:
    total = CoverageRow(region=region)
    for row in rows:
        for field in (
            "certified",
            "with_commissioner",
            "visited",
            "overdue",
            "pending",
            "unassigned",
            "open_requests",
        ):
            setattr(total, field, getattr(total, field) + getattr(row, field))
    return total
