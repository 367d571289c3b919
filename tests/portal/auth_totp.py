"""Second-factor helpers for tests: a confirmed TOTP device and the code an authenticator app would show."""

from __future__ import annotations

import datetime as dt
import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice


def totp_device(user, *, confirmed: bool = True) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="test", confirmed=confirmed)


def _timestamp(at: dt.datetime | None) -> float:
    if at is None:
        return time.time()
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).timestamp()


def totp_code(device: TOTPDevice, *, at: dt.datetime | None = None, steps_ahead: int = 0) -> str:
    """The code an app shows at `at` (default now). Under freezegun pass `at=clock()`: freezegun hands a test
    function the real time (tests/conftest.py ignores _pytest's frames), the views the frozen one."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = _timestamp(at) + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code(device: TOTPDevice, *, at: dt.datetime | None = None) -> str:
    """A 6-digit code the device refuses: none of those its tolerance accepts (the previous, current, next)."""
    accepted = {totp_code(device, at=at, steps_ahead=n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in accepted)
