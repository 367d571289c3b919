"""URLs of the commissioners pages (views_commissioners)."""

from django.urls import path

from certification import views_commissioners as views

urlpatterns = [
    # the commissioner (服务专员)
    path("commissioner/", views.commissioner_home, name="commissioner_home"),
    path("commissioner/export/", views.commissioner_home_export, name="commissioner_home_export"),
    path("commissioner/enterprises/<int:pk>/", views.commissioner_enterprise, name="commissioner_enterprise"),
    path("commissioner/requests/<int:pk>/", views.commissioner_request_act, name="commissioner_request_act"),
    # staff
    path("commissioners/", views.commissioner_assignments, name="commissioner_assignments"),
    path(
        "commissioners/export/", views.commissioner_assignments_export, name="commissioner_assignments_export"
    ),
    path("commissioners/<int:pk>/assign/", views.commissioner_assign, name="commissioner_assign"),
    path("commissioners/coverage/", views.commissioner_coverage, name="commissioner_coverage"),
    path(
        "commissioners/coverage/export/",
        views.commissioner_coverage_export,
        name="commissioner_coverage_export",
    ),
    # the enterprise (诉求)
    path("service-requests/", views.service_requests, name="service_requests"),
    path("service-requests/new/", views.service_request_new, name="service_request_new"),
    path("service-requests/<int:pk>/", views.service_request_detail, name="service_request_detail"),
]
