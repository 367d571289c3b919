from django.urls import include, path
from rest_framework.routers import DefaultRouter

from portal.api import views
from portal.auth.api import TokenObtainApi

router = DefaultRouter()
router.register("regions", views.RegionViewSet, basename="region")
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("notifications", views.NotificationViewSet, basename="notification")

tenant_patterns = [
    path("me/", views.MeApi.as_view(), name="api-me"),
    path("", include(router.urls)),
]

urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="api-token"),
    path("<slug:tenant_code>/", include(tenant_patterns)),
]
