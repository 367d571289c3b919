"""The absolute session limit (reliability.md A5; ASVS 3.3.2 L2: 12 hours however active).

The idle limit is Django's own: SESSION_COOKIE_AGE (30 minutes) renewed by SESSION_SAVE_EVERY_REQUEST. This
adds the sign-in time to the session and ends a session older than SESSION_ABSOLUTE_SECONDS.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

STARTED_KEY = "portal_auth_started_at"


@receiver(user_logged_in)
def _remember_sign_in_time(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[STARTED_KEY] = timezone.now().timestamp()


class AbsoluteSessionLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        now = timezone.now().timestamp()
        started = request.session.get(STARTED_KEY)
        if not isinstance(started, (int, float)):
            # A session from before this limit existed: it counts from now.
            request.session[STARTED_KEY] = now
            return None
        if now - started <= settings.SESSION_ABSOLUTE_SECONDS:
            return None
        logout(request)
        if request.path.startswith("/api/"):
            return None  # now anonymous: the API answers 401 in its own format
        messages.info(request, _("You have been signed in for 12 hours. Please sign in again."))
        tenant_code = view_kwargs.get("tenant_code") if getattr(request, "tenant", None) else None
        login_url = (
            reverse("login", kwargs={"tenant_code": tenant_code})
            if tenant_code
            else reverse("platform_login")
        )
        return HttpResponseRedirect(f"{login_url}?{urlencode({'next': request.get_full_path()})}")
