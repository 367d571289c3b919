"""Pages of the reports app, under /<tenant>/dashboard/ (the role landing page is /<tenant>/me/, "dashboard")."""

from django.urls import path

from reports import views

urlpatterns = [
    path("dashboard/", views.dashboard, name="region_dashboard"),
    path("dashboard/export.xlsx", views.dashboard_export, name="region_dashboard_export"),
    path("dashboard/circular/", views.circular, name="region_circular"),
    path("dashboard/circular/export.xlsx", views.circular_export, name="region_circular_export"),
    path("dashboard/targets/", views.targets, name="reports_targets"),
    path("dashboard/targets/<int:pk>/", views.target_edit, name="reports_target_edit"),
    path("dashboard/targets/<int:pk>/delete/", views.target_delete, name="reports_target_delete"),
    path("dashboard/designations/", views.designations, name="reports_designations"),
    path(
        "dashboard/designations/<int:pk>/delete/", views.designation_delete, name="reports_designation_delete"
    ),
    path("dashboard/reports/", views.report_list, name="reports_jobs"),
    path("dashboard/reports/<int:pk>/", views.report_job, name="reports_job"),
    path("dashboard/reports/<int:pk>/progress/", views.report_job_progress, name="reports_job_progress"),
    path("dashboard/reports/<int:pk>/download/", views.report_job_download, name="reports_job_download"),
]
