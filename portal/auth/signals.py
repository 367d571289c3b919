"""Audit rows of sign-in events django-axes announces (reliability.md L1). Sign-in, sign-out and failed
passwords are recorded by portal.signals; wrong one-time codes and enrolment by portal.auth.otp."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.conf import settings
from django.dispatch import receiver

from portal.audit import audit_record


@receiver(user_locked_out)
def _locked_out(sender, request, username=None, ip_address=None, **kwargs):
    # axes announces a lockout again at every refused attempt while it lasts (those are audited as
    # auth.login_failed); the lockout row is written once, by the failure that reached the limit.
    if getattr(request, "axes_failures_since_start", None) != settings.AXES_FAILURE_LIMIT:
        return
    audit_record(
        action="auth.lockout",
        actor_label=str(username or "")[:150],
        request=request,
        outcome="failure",
        summary=f"{settings.AXES_FAILURE_LIMIT} failed attempts",
    )
