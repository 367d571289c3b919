from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from portal import health, views

admin.site.site_header = _("SRDI Portal administration")
admin.site.site_title = _("SRDI Portal")

tenant_patterns = [
    path("", views.tenant_home, name="tenant_home"),
    path("login/", views.TenantLoginView.as_view(), name="login"),
    path("logout/", views.tenant_logout, name="logout"),
    path("me/", views.dashboard, name="dashboard"),
    path("regions/", views.region_list, name="regions"),
    path("regions/<str:code>/", views.region_detail, name="region_detail"),
    path("audit/", views.audit_log, name="audit"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("", include("enterprises.urls")),
    path("", include("enterprises.document_urls")),
    path("", include("certification.urls")),
    path("", include("funding.urls")),
    path("", include("reports.urls")),
]

# Password change and reset are the same for every tenant: the account is the person's, not the tenant's.
# Sign-in, its second step and the audited password change/reset come from portal.auth (first match wins).
account_patterns = [
    path("", include("portal.auth.urls")),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("password/reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/done/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]

urlpatterns = [
    path("", views.platform_home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include(account_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Platform-wide API paths (industries, auth) come before the tenant-prefixed ones they would shadow.
    path("api/v1/", include("enterprises.api_urls")),
    path("api/v1/", include("certification.api_urls")),
    path("api/v1/", include("portal.api.urls")),
    path("<slug:tenant_code>/", include(tenant_patterns)),
]

handler400 = "portal.views.bad_request"
handler404 = "portal.views.not_found"
handler403 = "portal.views.permission_denied"
handler500 = "portal.views.server_error"
