"""Second-factor devices for the demo accounts of `seed_demo` (reliability.md A9 in a demo).

Every demo account that needs a second factor gets a confirmed TOTP device with one published key, so that a
visitor of `make run` can add it to an authenticator app once, or print the current code with
`manage.py demo_otp <username>` (DEBUG only). Demo only: the key is in README.md.
"""

from __future__ import annotations

from base64 import b32encode
from binascii import unhexlify

from django.db import transaction
from django.db.models import Q
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit import audit_record
from portal.auth.policy import SECOND_FACTOR_ROLES
from portal.models import User

# RFC 6238's own test key ("12345678901234567890"); base32 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ.
DEMO_TOTP_KEY = "3132333435363738393031323334353637383930"
DEMO_DEVICE_NAME = "demo"


def demo_key_base32() -> str:
    return b32encode(unhexlify(DEMO_TOTP_KEY)).decode()


def seed_second_factor() -> list[str]:
    """Give each account that needs a second factor and has none the demo device. Idempotent."""
    needing = (
        User.objects.filter(
            Q(is_staff=True)
            | Q(is_superuser=True)
            | Q(posts__is_active=True, posts__role__in=SECOND_FACTOR_ROLES)
        )
        .exclude(totpdevice__confirmed=True)
        .distinct()
        .order_by("username")
    )
    created = []
    with transaction.atomic():
        for user in needing:
            device = TOTPDevice.objects.create(
                user=user, name=DEMO_DEVICE_NAME, key=DEMO_TOTP_KEY, confirmed=True
            )
            audit_record(
                action="auth.otp_enrolled",
                obj=device,
                summary=f"demo device of {user.username}",
                actor_label="seed_demo",
            )
            created.append(user.username)
    return created
