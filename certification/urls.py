from django.urls import include, path

from certification import views

urlpatterns = [
    path("self-evaluation/", views.self_evaluation, name="self_evaluation"),
    path("calculator/", views.calculator, name="calculator"),
    path("screening/", views.screening_home, name="screening_home"),
    path("screening/versions/<int:pk>/", views.version_detail, name="version_detail"),
    path("screening/batches/", views.batch_start, name="batch_start"),
    path("screening/batches/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("screening/batches/<int:pk>/progress/", views.batch_progress, name="batch_progress"),
    path("", include("certification.urls_apply")),
    path("", include("certification.urls_review")),
    path("", include("certification.urls_publication")),
    path("", include("certification.urls_directory")),
    path("", include("certification.urls_lifecycle")),
    path("", include("certification.urls_monitoring")),
    path("", include("certification.urls_commissioners")),
    path("", include("certification.urls_library")),
]
