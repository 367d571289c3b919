"""Sign-in events into the audit log (reliability.md L1). Django announces them only through signals."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal.audit import audit_record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(action="auth.login", actor=user, request=request)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="auth.logout", actor=user, request=request)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    # The username tried is kept (it may not exist); the password never is.
    audit_record(
        action="auth.login_failed",
        request=request,
        actor_label=str(credentials.get("username", ""))[:150],
        outcome="failure",
    )
