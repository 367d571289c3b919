"""The public directory (名录) and profiles, and the national recommendation package (views_directory)."""

from django.urls import path

from certification import views_directory as views

urlpatterns = [
    # public, no sign-in
    path("directory/", views.directory, name="directory"),
    path("directory/export.xlsx", views.directory_export, name="directory_export"),
    path("directory/<int:pk>/", views.directory_enterprise, name="directory_enterprise"),
    # provincial staff
    path("recommend-national/", views.national_package, name="national_package"),
]
