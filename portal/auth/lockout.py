"""Login-failure lockout (reliability.md A4) on top of django-axes.

axes counts failures per username and per address (settings AXES_LOCKOUT_PARAMETERS) and refuses a locked
one in `authenticate()` (AxesStandaloneBackend, first in AUTHENTICATION_BACKENDS), so every sign-in path must
pass `request` to `authenticate()`. A wrong one-time code at the second step is a failure like a wrong password
(`second_factor_failed`). The answer to a locked request is the same whether the account exists or not.
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def axes_username(request, credentials) -> str | None:
    """The username axes counts failures under: the typed one, case-folded (usernames are case-insensitive,
    reliability.md A1), so that "Zhang" and "zhang" share one count."""
    if credentials:
        username = credentials.get("username")
    else:
        data = getattr(request, "data", None) or request.POST
        username = data.get("username")
    if not isinstance(username, str):
        return None
    return username.strip().casefold()[:150] or None


def cool_off_minutes() -> int:
    cool_off = get_cool_off()
    return int(cool_off.total_seconds() // 60) if cool_off else 0


def lockout_message() -> str:
    return _(
        "Too many failed sign-in attempts. Signing in is blocked for %(minutes)d minutes; try again later."
    ) % {"minutes": cool_off_minutes()}


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the lockout page, or the API's error format under /api/. Never names the
    account, so it answers alike for an account that exists and one that does not."""
    status = settings.AXES_HTTP_RESPONSE_CODE  # 429
    retry_after = str(cool_off_minutes() * 60)
    if request.path.startswith("/api/"):
        body = {"error": {"status": status, "code": "locked_out", "message": lockout_message()}}
        response = JsonResponse(body, status=status)
    else:
        response = render(
            request, "registration/locked_out.html", {"message": lockout_message()}, status=status
        )
    response["Retry-After"] = retry_after
    return response


def is_locked(request, username: str) -> bool:
    return bool(AxesProxyHandler.is_locked(request, {"username": username}))


def second_factor_failed(request, username: str) -> bool:
    """Count a wrong one-time code as a failed sign-in for the username and the address; True if that (or an
    earlier failure) locks them out."""
    AxesProxyHandler.user_login_failed(sender=__name__, credentials={"username": username}, request=request)
    return bool(getattr(request, "axes_locked_out", False))
