from django.urls import include, path
from rest_framework.routers import DefaultRouter, SimpleRouter

from enterprises import api

tenant_router = SimpleRouter()
tenant_router.register("enterprises", api.EnterpriseViewSet, basename="enterprise")
ip_router = SimpleRouter()
ip_router.register("ip", api.IPItemViewSet, basename="enterprise-ip")
global_router = DefaultRouter(trailing_slash=True)
global_router.include_root_view = False
global_router.register("industries", api.IndustryViewSet, basename="industry")

urlpatterns = [
    path("", include(global_router.urls)),
    path("<slug:tenant_code>/register/", api.RegisterApi.as_view(), name="api-register"),
    path("<slug:tenant_code>/", include(tenant_router.urls)),
    path("<slug:tenant_code>/enterprises/<int:enterprise_pk>/", include(ip_router.urls)),
]
