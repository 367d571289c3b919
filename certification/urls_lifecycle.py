"""Dynamic-management pages: certifications' lifecycle, re-verification, revocation, settings (views_lifecycle)."""

from django.urls import path

from certification import views_lifecycle as views

urlpatterns = [
    # the enterprise
    path("certificates/<int:pk>/", views.certification_detail, name="certification_detail"),
    path("certificates/<int:pk>/reverify/", views.reverification_start, name="reverification_start"),
    path("reverifications/<int:pk>/", views.reverification_detail, name="reverification_detail"),
    path("reverifications/<int:pk>/save/", views.reverification_save, name="reverification_save"),
    path(
        "reverifications/<int:pk>/attachments/",
        views.reverification_attachments,
        name="reverification_attachments",
    ),
    path("reverifications/<int:pk>/submit/", views.reverification_submit, name="reverification_submit"),
    path("reverifications/<int:pk>/withdraw/", views.reverification_withdraw, name="reverification_withdraw"),
    # officials
    path("lifecycle/reverifications/", views.reverification_queue, name="reverification_queue"),
    path(
        "lifecycle/reverifications/export.xlsx",
        views.reverification_queue_export,
        name="reverification_queue_export",
    ),
    path("lifecycle/reverifications/<int:pk>/", views.reverification_review, name="reverification_review"),
    path("lifecycle/reverifications/<int:pk>/act/", views.reverification_act, name="reverification_act"),
    path("lifecycle/certifications/", views.certification_manage_list, name="certification_manage_list"),
    path(
        "lifecycle/certifications/export.xlsx",
        views.certification_manage_export,
        name="certification_manage_export",
    ),
    path("lifecycle/certifications/<int:pk>/", views.certification_manage, name="certification_manage"),
    path("lifecycle/certifications/<int:pk>/revoke/", views.revocation_new, name="revocation_new"),
    path("lifecycle/revocations/", views.revocation_list, name="revocation_list"),
    path("lifecycle/revocations/export.xlsx", views.revocation_list_export, name="revocation_list_export"),
    path(
        "lifecycle/evidence/<int:pk>/download/",
        views.revocation_evidence_download,
        name="revocation_evidence_download",
    ),
    path(
        "lifecycle/evidence/<int:pk>/rescan/",
        views.revocation_evidence_rescan,
        name="revocation_evidence_rescan",
    ),
    path("lifecycle/settings/", views.lifecycle_settings_edit, name="lifecycle_settings"),
]
