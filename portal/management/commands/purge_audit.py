"""Remove audit events older than AUDIT_RETENTION_DAYS (reliability.md L6).

Celery beat runs the same purge daily ("daily-purge-audit" in portal.celery); this command is for an
operator, and `--dry-run` only counts.
"""

from django.core.management.base import BaseCommand

from portal.audit import audit_purge, audit_purgeable


class Command(BaseCommand):
    help = "Delete audit events older than AUDIT_RETENTION_DAYS (at least 183 days), in batches."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be removed; remove nothing."
        )
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, dry_run=False, batch_size=1000, **options):
        _old, cutoff, days = audit_purgeable()
        count = audit_purge(dry_run=dry_run, batch_size=batch_size)
        verb = "would remove" if dry_run else "removed"
        self.stdout.write(f"{verb} {count} audit events older than {cutoff:%Y-%m-%d %H:%M} UTC ({days} days)")
