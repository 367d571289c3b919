"""The second sign-in step in the browser (reliability.md A9), for the shared `sign_in` helpers.

After the password, officials who need a second factor land on the code page (or, without a device yet, on
the enrolment page, whose visit created an unconfirmed device). The code is computed from that device in the
database, as an authenticator app would from the scanned key.
"""

from __future__ import annotations

import time
from urllib.parse import urlparse

from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def complete_second_factor(page, username: str) -> None:
    path = urlparse(page.url).path
    if path not in (reverse("second_factor"), reverse("second_factor_enrol")):
        return
    device = TOTPDevice.objects.filter(user__username__iexact=username).order_by("-confirmed", "-pk").first()
    assert device is not None, f"{username} is on {path} without a device"
    # A journey signs the same person in several times within one 30-second step; django-otp accepts each
    # step's code once (replay protection, tested in tests/portal/test_auth_second_factor.py), so the helper
    # forgets the last step used, like a person who waits for the next code.
    TOTPDevice.objects.filter(pk=device.pk).update(
        last_t=-1, throttling_failure_count=0, throttling_failure_timestamp=None
    )
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    page.locator("#id_otp_token").fill(f"{totp.token():0{device.digits}d}")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    if urlparse(page.url).path == reverse("second_factor_backup_codes"):  # after a first-time enrolment
        with page.expect_navigation():
            page.get_by_test_id("backup-codes-continue").click()
