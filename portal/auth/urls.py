from django.urls import path

from portal.auth import views

# Under /accounts/ (portal/urls.py): the steps after the password, the same for every tenant.
urlpatterns = [
    path("login/", views.PlatformLoginView.as_view(), name="platform_login"),
    path("login/code/", views.second_factor, name="second_factor"),
    path("login/enrol/", views.second_factor_enrol, name="second_factor_enrol"),
    path("login/enrol/qr.png", views.second_factor_qr, name="second_factor_qr"),
    path("login/backup-codes/", views.second_factor_backup_codes, name="second_factor_backup_codes"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
]
