"""API of the portal core, under /api/v1/<tenant_code>/. Every queryset starts from the scoping API."""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from portal import permissions as portal_permissions
from portal.api.serializers import (
    AuditEventSerializer,
    MeSerializer,
    NotificationSerializer,
    RegionSerializer,
)
from portal.filters import AuditEventFilter
from portal.models import AuditEvent, Notification, Region

TENANT_PARAM = OpenApiParameter("tenant_code", str, OpenApiParameter.PATH, description="Tenant code, e.g. gz")


class TenantAPIMixin:
    """Gives each view `self.tenant`, resolved from the URL by TenantMiddleware."""

    @property
    def tenant(self):
        return self.request.tenant


class IsTenantAdmin(permissions.BasePermission):
    def has_permission(self, request, view):
        return portal_permissions.is_tenant_admin(request.user, request.tenant)


class IsOfficial(permissions.BasePermission):
    def has_permission(self, request, view):
        if not portal_permissions.is_official(request.user, request.tenant):
            # SECURITY: say "not found" rather than "forbidden" to users of no standing here.
            raise NotFound()
        return True


@extend_schema(parameters=[TENANT_PARAM])
class MeApi(TenantAPIMixin, APIView):
    """The signed-in user and their posts in this tenant."""

    @extend_schema(responses=MeSerializer)
    def get(self, request, tenant_code):
        user = request.user
        data = {
            "username": user.username,
            "display_name": str(user),
            "email": user.email,
            "posts": user.posts_in(self.tenant),
        }
        return Response(MeSerializer(data).data)


@extend_schema(parameters=[TENANT_PARAM])
class RegionViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    """Regions an official may see: the subtrees of their posts."""

    serializer_class = RegionSerializer
    permission_classes = [permissions.IsAuthenticated, IsOfficial]
    lookup_field = "code"
    filterset_fields = ["level"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request.tenant
            return Region.objects.none()
        return (
            Region.objects.visible_to(self.request.user, self.tenant)
            .select_related("parent")
            .order_by("code")
        )


@extend_schema(parameters=[TENANT_PARAM])
class AuditEventViewSet(TenantAPIMixin, viewsets.ReadOnlyModelViewSet):
    """The tenant's audit log, for tenant administrators."""

    serializer_class = AuditEventSerializer
    permission_classes = [permissions.IsAuthenticated, IsTenantAdmin]
    filterset_class = AuditEventFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request.tenant
            return AuditEvent.objects.none()
        return AuditEvent.objects.for_tenant(self.tenant).order_by("-occurred_at", "-id")


@extend_schema(parameters=[TENANT_PARAM])
class NotificationViewSet(
    TenantAPIMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The signed-in user's inbox in this tenant."""

    serializer_class = NotificationSerializer
    filterset_fields = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no request.tenant
            return Notification.objects.none()
        return Notification.objects.for_tenant(self.tenant).filter(recipient=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, tenant_code, pk=None):
        note = self.get_object()
        Notification.objects.filter(pk=note.pk, read_at=None).update(read_at=timezone.now())
        note.refresh_from_db()
        return Response(self.get_serializer(note).data)
