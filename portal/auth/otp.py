"""The second factor (reliability.md A9): TOTP devices of django-otp, enrolled at the first sign-in.

Services in the house style: keyword-only, each state change in one transaction with its audit row.
"""

from __future__ import annotations

import io
from base64 import b32encode

import segno
from django.db import transaction
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit import audit_record
from portal.auth import lockout
from portal.models import Tenant, User

ENROLMENT_NAME = "authenticator"
BACKUP_NAME = "backup codes"
BACKUP_CODES = 10


def confirmed_devices_exist(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def enrolment_device(*, user: User) -> TOTPDevice:
    """The unconfirmed TOTP device the user is enrolling: the same one (and key) until confirmed, so that the
    QR code and the text key shown on the page stay those the authenticator app scanned."""
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False, name=ENROLMENT_NAME)
            .order_by("pk")
            .first()
        )
        if device is None:
            device = TOTPDevice.objects.create(user=user, name=ENROLMENT_NAME, confirmed=False)
        return device


def key_base32(device: TOTPDevice) -> str:
    """The key as authenticator apps take it when typed: base32, in groups of four."""
    text = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_png(device: TOTPDevice) -> bytes:
    buffer = io.BytesIO()
    segno.make(device.config_url, error="m").save(buffer, kind="png", scale=5, border=4)
    return buffer.getvalue()


def _normalised(token: str) -> str:
    return "".join(str(token).split())


def enrolment_confirm(*, request, user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm the device with a first code from the app. A wrong code counts towards the lockout."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
        if not device.verify_token(_normalised(token)):
            _failed(request=request, user=user, step="enrolment")
            return False
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        audit_record(
            action="auth.otp_enrolled", actor=user, obj=device, request=request, summary="TOTP authenticator"
        )
    return True


def backup_codes_issue(*, user: User, request=None) -> list[str]:
    """Ten single-use codes for a lost phone, replacing earlier ones. Shown once, at enrolment."""
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
        codes = [StaticToken.random_token() for _ in range(BACKUP_CODES)]
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        audit_record(action="auth.backup_codes_issued", actor=user, obj=device, request=request)
    return codes


def second_factor_verify(*, request, user: User, token: str) -> Device | None:
    """The confirmed device that accepts the code, or None: then the failure is audited and counted by axes
    like a wrong password. Six digits are a TOTP code; anything else is tried as a backup code (8 letters and
    digits), so that a mistyped TOTP code does not also slow down the backup codes (django-otp throttles each
    device after a failure)."""
    token = _normalised(token)
    model = TOTPDevice if token.isdigit() else StaticDevice
    with transaction.atomic():
        devices = model.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in devices:
            if token and device.verify_token(token.lower()):
                if model is StaticDevice:
                    audit_record(action="auth.backup_code_used", actor=user, obj=device, request=request)
                return device
    _failed(request=request, user=user, step="sign-in")
    return None


def _failed(*, request, user: User, step: str) -> None:
    # The code typed is never recorded: a near miss would help whoever reads the log (reliability.md L3).
    audit_record(
        action="auth.otp_failed",
        actor_label=user.get_username(),
        tenant=getattr(request, "tenant", None),
        request=request,
        outcome="failure",
        summary=step,
    )
    lockout.second_factor_failed(request, user.get_username())


def second_factor_reset(*, user: User, by: User, tenant: Tenant | None = None, request=None) -> int:
    """Remove a user's devices (a lost phone): the next sign-in enrols a new one. Audited."""
    with transaction.atomic():
        count = 0
        for model in (TOTPDevice, StaticDevice):
            deleted, _ = model.objects.filter(user=user).delete()
            count += deleted
        audit_record(
            action="auth.otp_reset",
            actor=by,
            tenant=tenant,
            obj=user,
            request=request,
            summary=user.get_username(),
        )
    return count
