"""URLs of the cultivation library pages (views_library)."""

from django.urls import path

from certification import views_library as views

urlpatterns = [
    path("library/", views.library_list, name="library_list"),
    path("library/export/", views.library_export, name="library_export"),
    path("library/add/", views.library_add, name="library_add"),
    path("library/<int:pk>/", views.library_entry, name="library_entry"),
    path("library/<int:pk>/move/", views.library_move, name="library_move"),
    path("library/<int:pk>/remove/", views.library_remove, name="library_remove"),
    path("library/from-batch/<int:pk>/", views.library_from_batch, name="library_from_batch"),
    path("library/targets/", views.library_targets, name="library_targets"),
    path("library/targets/export/", views.library_targets_export, name="library_targets_export"),
    path("library/targets/<str:code>/<int:year>/", views.library_target_edit, name="library_target_edit"),
]
