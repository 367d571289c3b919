"""Response hardening that Django's own settings do not cover.

The security headers (nosniff, Referrer-Policy, X-Frame-Options, COOP, HSTS) come from Django's
SecurityMiddleware and XFrameOptionsMiddleware, the Content-Security-Policy from django-csp; both are
configured in the "Security headers" block of portal/settings.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from rest_framework.throttling import SimpleRateThrottle


class AuthenticatedNoStoreMiddleware:
    """`Cache-Control: no-store` on every response to a signed-in user (reliability.md P4, ASVS 8.2.1).

    A page or an API answer shown to a signed-in person holds that person's data: neither the browser (its
    back button after sign-out) nor a shared proxy may keep a copy. `Vary: Cookie` tells any cache that the
    same URL answers differently per session. Static files never reach this middleware (WhiteNoise answers
    them before), so they keep their long cache lifetimes.

    DRF authenticates inside the view and copies the user onto the Django request, so a token-authenticated
    API answer is covered as well.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        # Asked before the view as well as after: an API view without authentication classes (registration,
        # the token endpoint) replaces request.user with AnonymousUser, yet the browser holds a signed-in
        # session and the answer may still concern that person. Without a session cookie this costs nothing.
        signed_in = _signed_in(request)
        response = self.get_response(request)
        if signed_in or _signed_in(request):
            # A view's own max-age must not survive for a signed-in user (patch_cache_control drops "public"
            # itself when "private" is set).
            _drop_max_age(response)
            patch_cache_control(response, no_store=True, private=True)
            patch_vary_headers(response, ("Cookie",))
        return response


def _signed_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


def _drop_max_age(response: HttpResponseBase) -> None:
    header = response.get("Cache-Control")
    if not header:
        return
    kept = [
        d.strip()
        for d in header.split(",")
        if d.strip() and d.strip().split("=", 1)[0].lower() not in ("max-age", "s-maxage")
    ]
    if kept:
        response["Cache-Control"] = ", ".join(kept)
    else:
        del response["Cache-Control"]


class RateLimitMiddleware:
    """Rate limits on the endpoints worth abusing (reliability.md V7, ASVS 11.1.4): the API token exchange and the
    Excel exports, by URL name, so no view can forget them and a new `*_export` URL is limited from its first day.

    Counting is DRF's throttle (a sliding window of request times in the cache), keyed by the signed-in user or,
    for anonymous callers, the client address; the rates are REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]. Over the
    limit: 429 with Retry-After, in the API's error format under /api/ and as a page elsewhere. Password guessing
    is axes' job (per account and per address lockout); this bounds the volume, successful calls included.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func, view_args, view_kwargs
    ) -> HttpResponseBase | None:
        scope = throttle_scope(request.resolver_match.url_name if request.resolver_match else None)
        if scope is None:
            return None
        throttle = ScopeThrottle(scope)
        if throttle.allow_request(request, None):
            return None
        return too_many_requests(request, throttle.wait())


def throttle_scope(url_name: str | None) -> str | None:
    if url_name == "api-token":
        return "auth_token"
    if url_name and url_name.endswith("_export"):
        return "export"
    return None


class ScopeThrottle(SimpleRateThrottle):
    """DRF's throttle for one scope, reading the rates when asked (DRF's classes copy them once at import)."""

    def __init__(self, scope: str):
        self.scope = scope
        super().__init__()

    def get_rate(self) -> str:
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]

    def get_cache_key(self, request, view) -> str:
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user is not None and user.is_authenticated else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


def too_many_requests(request: HttpRequest, wait: float | None) -> HttpResponseBase:
    retry_after = max(1, math.ceil(wait or 1))
    message = _("Too many requests. Please wait %(seconds)d seconds and try again.") % {
        "seconds": retry_after
    }
    if request.path.startswith("/api/"):
        response: HttpResponseBase = JsonResponse(
            {"error": {"status": 429, "code": "throttled", "message": message}}, status=429
        )
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response
