"""Reads of rounds and applications, scoped: every page and API endpoint starts here.

SECURITY: an application is visible to the members of its enterprise, to officials
whose post's subtree contains its county, and to experts assigned to it (a guardian
grant). Everything else is absent, so a lookup answers 404.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404

from certification.models import Application, ExpertAssignment, Round
from enterprises.models import Enterprise
from portal.models import Post, Tenant, User
from portal.permissions import visible_with_grants

USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")

QUEUE_RELATED = (
    "round__program",
    "enterprise__industry",
    "county",
    "current_region",
)

SORTS = {
    "submitted": "submitted_at",
    "-submitted": "-submitted_at",
    "name": "enterprise__name",
    "-name": "-enterprise__name",
    "score": "score",
    "-score": "-score",
    "expert": "expert_mean",
    "-expert": "-expert_mean",
}


def rounds_visible_to(user: User, tenant: Tenant) -> QuerySet[Round]:
    """Rounds an official manages or reviews: those of programmes owned at or above or below their posts."""
    qs = Round.objects.for_tenant(tenant).select_related("program__owner_region", "version")
    if user.is_superuser:
        return qs
    posts = [p for p in user.posts_in(tenant) if p.sees_whole_subtree]
    if not posts:
        return qs.none()
    condition = Q()
    for post in posts:
        # The owner's staff and every official under the owner see the round.
        ancestors = post.region.path.strip("/").split("/")
        condition |= Q(program__owner_region__code__in=ancestors) | Q(
            program__owner_region__path__startswith=post.region.path
        )
    return qs.filter(condition)


def rounds_managed_by(user: User, tenant: Tenant) -> QuerySet[Round]:
    """Rounds the user may open or change: tenant admins, and the owner region's staff."""
    qs = Round.objects.for_tenant(tenant).select_related("program__owner_region", "version")
    if user.is_superuser or any(p.is_tenant_admin for p in user.posts_in(tenant)):
        return qs
    regions = [p.region_id for p in user.posts_in(tenant) if p.is_reviewer]
    return qs.filter(program__owner_region_id__in=regions)


def can_manage_program(user: User, program) -> bool:
    if user.is_superuser:
        return True
    posts = user.posts_in(program.tenant)
    return any(p.is_tenant_admin for p in posts) or any(
        p.is_reviewer and p.region_id == program.owner_region_id for p in posts
    )


def applications_of_enterprise(enterprise: Enterprise) -> QuerySet[Application]:
    return (
        Application.objects.for_tenant(enterprise.tenant)
        .filter(enterprise=enterprise)
        .select_related("round__program", "current_region")
        .order_by("-created_at")
    )


def applications_visible_to(user: User, tenant: Tenant) -> QuerySet[Application]:
    """Officials by region, experts by assignment. Drafts are the enterprise's own business.

    Only a user with an expert post pays for the guardian grants' subqueries: a reviewer's queue over
    100,000 applications is then one indexed region filter.
    """
    base = Application.objects.all()
    if user.is_authenticated and any(p.role == Post.Role.EXPERT for p in user.posts_in(tenant)):
        qs = visible_with_grants(base, user=user, tenant=tenant)
    else:
        qs = base.visible_to(user, tenant)
    return qs.exclude(state=Application.State.DRAFT)


def application_for_official(user: User, tenant: Tenant, pk: int) -> Application:
    application = (
        applications_visible_to(user, tenant)
        .select_related(*QUEUE_RELATED, "round__tenant", "round__version", "enterprise__county")
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise Http404
    return application


def application_for_member(enterprise: Enterprise, pk: int) -> Application:
    application = (
        applications_of_enterprise(enterprise)
        .select_related("round__tenant", "round__version", "enterprise__county", "county")
        .filter(pk=pk)
        .first()
    )
    if application is None:
        raise Http404
    return application


def reviewer_posts(user: User, tenant: Tenant) -> list[Post]:
    return [p for p in user.posts_in(tenant) if p.is_reviewer]


def application_queue(
    *,
    user: User,
    tenant: Tenant,
    waiting: bool = True,
    round_id: int | None = None,
    state: str | None = None,
    county_code: str | None = None,
    verdict: str | None = None,
    score_min: Decimal | None = None,
    score_max: Decimal | None = None,
    industry: str | None = None,
    size_class: str | None = None,
    search: str | None = None,
    sort: str = "-submitted",
) -> QuerySet[Application]:
    """What waits at the user's level within their region (`waiting`), or everything in their region.

    The joins are fixed, so a page of 20 or of 200 costs the same number of queries.
    """
    if waiting:
        # What waits at one of the user's own reviewer posts is inside that post's subtree by construction
        # (the region waited at is the applicant county or one of its ancestors), so the region-path join
        # of visible_to is not needed: one index range on (current_region, submitted_at).
        regions = [p.region_id for p in reviewer_posts(user, tenant)]
        qs = Application.objects.for_tenant(tenant).filter(
            current_region_id__in=regions, state__in=Application.WAITING_STATES
        )
    else:
        qs = applications_visible_to(user, tenant)
    if round_id:
        qs = qs.filter(round_id=round_id)
    if state:
        qs = qs.filter(state=state)
    if county_code:
        qs = qs.filter(county__code=county_code)
    if verdict:
        qs = qs.filter(verdict=verdict)
    if score_min is not None:
        qs = qs.filter(score__gte=score_min)
    if score_max is not None:
        qs = qs.filter(score__lte=score_max)
    if industry:
        qs = qs.filter(enterprise__industry__code__startswith=industry)
    if size_class:
        qs = qs.filter(enterprise__size_class=size_class)
    if search:
        term = search.strip()
        if USCC_SHAPE.match(term.upper()):
            # A credit code is looked up through the (tenant, uscc) index, not a name scan.
            qs = qs.filter(enterprise__uscc=term.upper())
        else:
            qs = qs.filter(enterprise__name__icontains=term)
    # The form and the enterprise's facts are the two large JSON columns; a list needs neither. The few
    # rounds and regions of a page are prefetched rather than joined: a join of eight tables costs
    # PostgreSQL more to plan (about 9 ms) than the page takes to read.
    return (
        qs.select_related("enterprise__industry")
        .prefetch_related(
            Prefetch(
                "round", queryset=Round.objects.select_related("program__owner_region", "tenant", "version")
            ),
            "county",
            "current_region",
        )
        .defer("data", "enterprise__facts")
        .order_by(SORTS.get(sort, "-submitted_at"), "-id")
    )


def expert_assignments_of(user: User, tenant: Tenant) -> QuerySet[ExpertAssignment]:
    return (
        ExpertAssignment.objects.filter(expert=user, application__tenant=tenant)
        .select_related("application__enterprise", "application__round__program", "application__county")
        .order_by(F("submitted_at").asc(nulls_first=True), "-assigned_at")
    )


def expert_assignment_for(user: User, tenant: Tenant, pk: int) -> ExpertAssignment:
    assignment = expert_assignments_of(user, tenant).filter(pk=pk).first()
    if assignment is None:
        raise Http404
    return assignment
