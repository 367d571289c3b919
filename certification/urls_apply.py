"""Enterprise pages of the application (views_apply)."""

from django.urls import path

from certification import views_apply as views

urlpatterns = [
    path("applications/", views.application_list, name="application_list"),
    path("applications/start/<int:round_pk>/", views.application_start, name="application_start"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/save/", views.application_save, name="application_save"),
    path("applications/<int:pk>/attachments/", views.application_attachments, name="application_attachments"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application_submit"),
    path("applications/<int:pk>/withdraw/", views.application_withdraw, name="application_withdraw"),
    path("applications/<int:pk>/application.pdf", views.application_pdf, name="application_pdf"),
]
