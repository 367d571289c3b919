"""Recompute the audit log's hash chain and name every row that was changed or lost its predecessor
(reliability.md L5). Exit status 1 when anything is found, so a cron job or CI step fails loudly."""

from django.core.management.base import BaseCommand, CommandError

from portal.audit_chain import verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain; list the rows that do not match."

    def handle(self, *args, **options):
        problems = list(verify())
        for problem in problems:
            self.stdout.write(f"audit event {problem}")
        if problems:
            raise CommandError(f"{len(problems)} audit events fail verification")
        self.stdout.write("audit chain verified: no row changed, no linked row missing")
