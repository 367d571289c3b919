from django.urls import path

from enterprises import views

urlpatterns = [
    path("register/", views.register, name="enterprise_register"),
    path("verify-email/<str:token>/", views.verify_email, name="enterprise_verify_email"),
    path("invitation/<str:token>/", views.invitation, name="enterprise_invitation"),
    path("enterprise/", views.home, name="enterprise_home"),
    path("enterprise/verify-email/resend/", views.resend_verification, name="enterprise_resend_verification"),
    path("enterprise/profile/", views.profile_edit, name="enterprise_profile"),
    path("enterprise/figures/", views.figures, name="enterprise_figures"),
    path("enterprise/figures/template.xlsx", views.figures_template, name="enterprise_figures_template"),
    path("enterprise/figures/import/", views.figures_upload, name="enterprise_figures_import"),
    path("enterprise/ip/new/", views.ip_edit, name="enterprise_ip_new"),
    path("enterprise/ip/<int:pk>/", views.ip_edit, name="enterprise_ip_edit"),
    path("enterprise/qualifications/new/", views.qualification_edit, name="enterprise_qualification_new"),
    path(
        "enterprise/qualifications/<int:pk>/", views.qualification_edit, name="enterprise_qualification_edit"
    ),
    path(
        "enterprise/records/<str:kind>/<int:pk>/delete/", views.child_delete, name="enterprise_child_delete"
    ),
    path("enterprise/members/", views.members, name="enterprise_members"),
    path("enterprise/members/<int:pk>/<str:action>/", views.member_action, name="enterprise_member_action"),
    path(
        "enterprise/invitations/<int:pk>/revoke/",
        views.invitation_revoke,
        name="enterprise_invitation_revoke",
    ),
    path("enterprises/", views.enterprise_list, name="enterprise_list"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise_detail"),
]
