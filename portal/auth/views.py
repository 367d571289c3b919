"""Sign-in in two steps (reliability.md A4, A9) and the password views with their audit rows (L1).

Step 1 is Django's LoginView (its form passes `request` to `authenticate()`, so axes counts and refuses). A
user who needs a second factor (portal.auth.policy) is NOT logged in by it: the session only holds a pending
marker (user id, backend, where to go, when) for PENDING_SECONDS. Step 2 asks for the 6-digit code, or first
enrols an authenticator app (QR code served as a PNG by its own URL: no inline script or style, the CSP
forbids them), and only then calls `login()`, which rotates the session key (reliability.md A6).
"""

from __future__ import annotations

import time

import django_otp
from django import forms
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET

from portal.audit import audit_record
from portal.auth import lockout, otp
from portal.auth.policy import requires_second_factor
from portal.models import User

PENDING_KEY = "portal_auth_pending"
BACKUP_KEY = "portal_auth_backup_codes"
PENDING_SECONDS = 10 * 60  # time to type a code, or to install an authenticator app and scan the QR code


def pending_start(request, *, user: User, next_url: str) -> None:
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": user.backend,
        "next": next_url,
        "at": time.time(),
        "tenant": request.tenant.code if getattr(request, "tenant", None) else "",
    }


def pending_user(request) -> tuple[User | None, dict]:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict) or time.time() - pending.get("at", 0) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None, {}
    user = User.objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending


def _login_url(pending: dict) -> str:
    if pending.get("tenant"):
        return reverse("login", kwargs={"tenant_code": pending["tenant"]})
    return reverse("platform_login")


def _expired(request) -> HttpResponse:
    messages.info(request, _("Your sign-in took too long. Please sign in again."))
    return HttpResponseRedirect(reverse("platform_login"))


def _signed_in(request, *, user: User, device, pending: dict) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    login(request, user, backend=pending["backend"])  # rotates the session key; audited as auth.login
    django_otp.login(request, device)  # marks the session as verified with this device
    next_url = pending.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    return HttpResponseRedirect(next_url)


def _locked(request) -> HttpResponse:
    request.session.pop(PENDING_KEY, None)
    return lockout.lockout_response(request)


class SecondFactorLoginMixin:
    """For LoginView subclasses: a user who needs a second factor goes to step 2 instead of being logged in."""

    def form_valid(self, form):
        user = form.get_user()
        if not requires_second_factor(user):
            return super().form_valid(form)
        pending_start(self.request, user=user, next_url=self.get_success_url())
        step = "second_factor" if otp.confirmed_devices_exist(user) else "second_factor_enrol"
        return HttpResponseRedirect(reverse(step))


class PlatformLoginView(SecondFactorLoginMixin, auth_views.LoginView):
    template_name = "registration/login.html"


def _pending_step(request, *, enrolled: bool):
    """(user, pending sign-in, None) between the password and the code, or (None, None, the page to answer
    instead): the sign-in expired, the account or address is locked, or the user belongs on the other step
    (the code step wants a confirmed authenticator, enrolment wants none)."""
    user, pending = pending_user(request)
    if user is None:
        return None, None, _expired(request)
    if lockout.is_locked(request, user.get_username()):
        return None, None, _locked(request)
    if otp.confirmed_devices_exist(user) != enrolled:
        return (
            None,
            None,
            HttpResponseRedirect(reverse("second_factor_enrol" if enrolled else "second_factor")),
        )
    return user, pending, None


class SecondFactorForm(forms.Form):
    otp_token = forms.CharField(
        label=gettext_lazy("One-time code"),
        max_length=16,
        strip=True,
        widget=forms.TextInput(
            # not inputmode=numeric: a backup code has letters
            attrs={"autocomplete": "one-time-code", "autofocus": True, "size": 10, "spellcheck": "false"}
        ),
    )


@never_cache
@csrf_protect
@sensitive_post_parameters("otp_token")
def second_factor(request):
    """Step 2: the code of the user's authenticator app (or a backup code)."""
    user, pending, answer = _pending_step(request, enrolled=True)
    if answer is not None:
        return answer
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.second_factor_verify(request=request, user=user, token=form.cleaned_data["otp_token"])
        if device is not None:
            return _signed_in(request, user=user, device=device, pending=pending)
        if getattr(request, "axes_locked_out", False):
            return _locked(request)
        form.add_error(
            "otp_token", _("This code is not valid. Enter the current code of your authenticator app.")
        )
    return render(
        request, "registration/second_factor.html", {"form": form, "login_url": _login_url(pending)}
    )


@never_cache
@csrf_protect
@sensitive_post_parameters("otp_token")
def second_factor_enrol(request):
    """First sign-in of a user who needs a second factor: scan the QR code (or type the key), confirm a code."""
    user, pending, answer = _pending_step(request, enrolled=False)
    if answer is not None:
        return answer
    device = otp.enrolment_device(user=user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp.enrolment_confirm(
            request=request, user=user, device=device, token=form.cleaned_data["otp_token"]
        ):
            device.refresh_from_db()
            codes = otp.backup_codes_issue(user=user, request=request)
            signed_in = _signed_in(request, user=user, device=device, pending=pending)
            # Shown once, on the next page, from the new (signed-in) session.
            request.session[BACKUP_KEY] = {"codes": codes, "next": signed_in.url}
            messages.success(
                request, _("Your authenticator app is set up. You will need a code from it at every sign-in.")
            )
            return HttpResponseRedirect(reverse("second_factor_backup_codes"))
        if getattr(request, "axes_locked_out", False):
            return _locked(request)
        form.add_error(
            "otp_token", _("This code is not valid. Enter the current code of your authenticator app.")
        )
    return render(
        request,
        "registration/second_factor_enrol.html",
        {
            "form": form,
            "key": otp.key_base32(device),
            "username": user.get_username(),
            "login_url": _login_url(pending),
        },
    )


@never_cache
@require_GET
def second_factor_backup_codes(request):
    """The backup codes just issued at enrolment, once: reloading the page does not show them again."""
    issued = request.session.pop(BACKUP_KEY, None)
    if not request.user.is_authenticated or not isinstance(issued, dict):
        return HttpResponseRedirect("/")
    return render(
        request,
        "registration/second_factor_backup_codes.html",
        {"codes": issued["codes"], "next": issued.get("next") or "/"},
    )


@never_cache
@require_GET
def second_factor_qr(request):
    """The enrolment QR code as an image (an <img> of our own origin: the CSP allows no inline content)."""
    user, _pending = pending_user(request)
    if user is None or otp.confirmed_devices_exist(user):
        return HttpResponse(status=404)
    response = HttpResponse(otp.qr_png(otp.enrolment_device(user=user)), content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


def admin_login(request, extra_context=None):
    """AdminSite.login: the admin signs in through the portal's own two steps, then comes back."""
    next_url = request.GET.get("next") or reverse("admin:index")
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = reverse("admin:index")
    return HttpResponseRedirect(f"{reverse('platform_login')}?{urlencode({'next': next_url})}")


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view (it keeps this session and ends the user's others, reliability.md A6), audited."""

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(action="auth.password_changed", actor=self.request.user, request=self.request)
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit_record(
                action="auth.password_changed",
                actor=form.user,
                actor_label=form.user.get_username(),
                request=self.request,
                summary="reset by e-mail link",
            )
        return response
