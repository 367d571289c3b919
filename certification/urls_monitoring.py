"""URLs of the monitoring pages (views_monitoring): annual updates, warnings and change reports."""

from django.urls import path

from certification import views_monitoring as views

urlpatterns = [
    # enterprises
    path("enterprise/annual-update/", views.annual_update, name="annual_update"),
    path("enterprise/change-reports/", views.change_reports, name="change_reports"),
    path("enterprise/change-reports/new/", views.change_report_new, name="change_report_new"),
    # officials
    path("monitoring/", views.monitoring_home, name="monitoring_home"),
    path("monitoring/missing.xlsx", views.monitoring_export, name="monitoring_export"),
    path("monitoring/warnings/", views.monitoring_warnings, name="monitoring_warnings"),
    path("monitoring/warnings.xlsx", views.monitoring_warnings_export, name="monitoring_warnings_export"),
    path("monitoring/warnings/<int:pk>/resolve/", views.warning_resolve, name="warning_resolve"),
    path("monitoring/change-reports/", views.change_report_list, name="change_report_list"),
    path("monitoring/change-reports.xlsx", views.change_report_export, name="change_report_export"),
    path("monitoring/change-reports/<int:pk>/", views.change_report_review, name="change_report_review"),
]
