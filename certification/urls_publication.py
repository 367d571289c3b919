"""Public notice, objections, published lists, verification (public), their staff pages, and the
enterprise's certificates (views_publication)."""

from django.urls import path

from certification import views_publication as views

urlpatterns = [
    # public, no sign-in
    path("notices/", views.notice_public_list, name="notice_public_list"),
    path("notices/<int:pk>/", views.notice_public, name="notice_public"),
    path("notices/<int:pk>/notice.pdf", views.notice_pdf, name="notice_pdf"),
    path("notices/<int:pk>/object/", views.objection_new, name="objection_new"),
    path("published/<int:pk>/", views.published_public, name="published_public"),
    path("published/<int:pk>/list.pdf", views.published_pdf, name="published_pdf"),
    path("published/<int:pk>/list.xlsx", views.published_xlsx, name="published_xlsx"),
    path("published/<int:pk>/verify/", views.published_verify, name="published_verify"),
    path("verify/", views.verify, name="verify"),
    path("verify/<str:number>/", views.verify, name="verify_number"),
    # staff
    path("notice-admin/", views.notice_manage_list, name="notice_manage_list"),
    path("notice-admin/new/<int:round_pk>/", views.notice_create, name="notice_create"),
    path("notice-admin/<int:pk>/", views.notice_manage, name="notice_manage"),
    path("notice-admin/<int:pk>/publish/", views.notice_publish, name="notice_publish"),
    path("notice-admin/objections/<int:pk>/", views.objection_resolve, name="objection_resolve"),
    path(
        "notice-admin/evidence/<int:pk>/download/",
        views.objection_evidence_download,
        name="objection_evidence_download",
    ),
    path(
        "notice-admin/evidence/<int:pk>/rescan/",
        views.objection_evidence_rescan,
        name="objection_evidence_rescan",
    ),
    path("published-admin/<int:pk>/", views.published_manage, name="published_manage"),
    path("published-admin/<int:pk>/correct/", views.published_correct, name="published_correct"),
    path("published-admin/<int:pk>/retry/", views.certificates_retry, name="certificates_retry"),
    # enterprises
    path("enterprise/certifications/", views.certification_list, name="certification_list"),
    path(
        "enterprise/certifications/<int:pk>/certificate.pdf",
        views.certificate_download,
        name="certificate_download",
    ),
]
