"""Deploy check: no default or shared accounts (reliability.md A10; 等保 访问控制 b/c, ASVS 2.5.4).

`manage.py check --deploy` fails while an active account has a well-known administrator name: such names are
the first an attacker tries, and a shared account holds no one to account.
"""

from __future__ import annotations

from django.core.checks import Error, Tags, register

DEFAULT_ACCOUNT_NAMES = ("admin", "administrator", "root")


@register(Tags.security, deploy=True)
def default_accounts(app_configs=None, **kwargs):
    from django.db import DatabaseError

    from portal.models import User

    try:
        names = sorted(
            User.objects.filter(
                is_active=True, username__iregex=rf"^({'|'.join(DEFAULT_ACCOUNT_NAMES)})$"
            ).values_list("username", flat=True)
        )
    except DatabaseError:
        return []  # no database yet (a build step): nothing to check
    return [
        Error(
            f"An active account is named {name!r}, a default administrator name.",
            hint="Give each administrator a personal account, then deactivate or rename this one.",
            obj=name,
            id="portal_auth.E001",
        )
        for name in names
    ]
