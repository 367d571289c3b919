"""Screen a facts file against a programme, or list a tenant's programmes, as JSON.

    python manage.py screen --tenant gz --program srdi --facts facts.json [--version 3] [--at 2026-05-01]
    python manage.py screen --tenant gz --list

Exit status 0 with the result on standard output; 2 with a message naming the field on bad input.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand

from certification import services
from certification.facts_input import parse_facts
from certification.models import Program
from portal.models import Tenant


class Command(BaseCommand):
    help = "Screen facts (JSON) against a programme's criteria, or list the programmes of a tenant."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # `--version` selects a criteria version here; let it replace Django's "print the Django version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant code, e.g. gz")
        parser.add_argument("--program", help="programme code (see --list)")
        parser.add_argument(
            "--facts", help="path of a JSON file holding a facts object, or - for standard input"
        )
        parser.add_argument("--version", type=int, help="criteria version id (default: the one in force)")
        parser.add_argument("--at", help="use the version in force on this date, YYYY-MM-DD (default today)")
        parser.add_argument("--list", action="store_true", help="print the tenant's programmes")

    def fail(self, message: str) -> None:
        self.stderr.write(message)
        sys.exit(2)

    def handle(self, *args, tenant, program, facts, version, at, list, **options):
        tenant_obj = Tenant.objects.filter(code=tenant).first()
        if tenant_obj is None:
            self.fail(f"tenant: unknown tenant code {tenant!r}")
        if list:
            programs = (
                Program.objects.for_tenant(tenant_obj)
                .select_related("owner_region")
                .prefetch_related("versions")
                .order_by("tier", "code")
            )
            self.stdout.write(
                json.dumps([services.program_json(p) for p in programs], ensure_ascii=False, indent=2)
            )
            return
        if not program or not facts:
            self.fail("program and facts: both are required unless --list is given")
        program_obj = Program.objects.for_tenant(tenant_obj).filter(code=program).first()
        if program_obj is None:
            self.fail(f"program: no programme {program!r} in tenant {tenant!r} (see --list)")
        try:
            raw = json.loads(sys.stdin.read() if facts == "-" else Path(facts).read_text(encoding="utf-8"))
        except FileNotFoundError:
            self.fail(f"facts: no such file {facts}")
        except json.JSONDecodeError as exc:
            self.fail(f"facts: not valid JSON ({exc})")
        when = None
        if at:
            try:
                when = date.fromisoformat(at)
            except ValueError:
                self.fail("at: a date such as 2026-05-01 is expected")
        try:
            parsed = parse_facts(raw)
            version_obj = services.version_for(program_obj, version_id=version, at=when)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"facts": exc.messages}
            self.fail("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
        result = services.screen_facts(version=version_obj, facts=parsed)
        self.stdout.write(
            json.dumps(
                services.result_json(program=program_obj, version=version_obj, result=result),
                ensure_ascii=False,
                indent=2,
            )
        )
