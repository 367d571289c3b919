"""`manage.py demo_otp <username>`: the current one-time code of a demo account (DEBUG only)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.auth.demo import DEMO_TOTP_KEY


class Command(BaseCommand):
    help = "Print the current 6-digit code of a demo account's authenticator (seed_demo's published key)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.DEBUG:
            raise CommandError("demo_otp is for the demo only and refuses to run with DEBUG off.")
        device = TOTPDevice.objects.filter(
            user__username__iexact=username, confirmed=True, key=DEMO_TOTP_KEY
        ).first()
        if device is None:
            raise CommandError(f"{username!r} has no demo authenticator: run seed_demo, or it needs none.")
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        remaining = device.step - int(totp.time - device.t0) % device.step
        self.stdout.write(f"{totp.token():0{device.digits}d}")
        self.stderr.write(f"(valid for {remaining} more seconds)")
