"""The Django admin behind the portal's own sign-in (reliability.md A9: admin MFA, ASVS 4.3.1)."""

from __future__ import annotations

from django.contrib import admin
from django_otp import DEVICE_ID_SESSION_KEY


class PortalAdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        # The admin's own password-only form would skip the second factor: send it through ours.
        from portal.auth.views import admin_login

        return admin_login(request, extra_context)

    def has_permission(self, request):
        if not super().has_permission(request):
            return False
        # Staff always need a second factor (portal.auth.policy) and can only be logged in through it. Defence in
        # depth: a session of a user who has a device but was not verified with it does not reach the admin.
        # (A staff user with no device at all can only come from force_login in tests.)
        if request.session.get(DEVICE_ID_SESSION_KEY):
            return True
        from portal.auth.otp import confirmed_devices_exist

        return not confirmed_devices_exist(request.user)
