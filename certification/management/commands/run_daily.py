"""`python manage.py run_daily [--date YYYY-MM-DD] [--force]`: the daily dynamic-management job for a day."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from certification import lifecycle


class Command(BaseCommand):
    help = (
        "Run the daily dynamic-management job (expiry reminders, expiry, monitoring) for a day "
        "(default: today in Asia/Shanghai). Once per day: a second run finds the day done and does nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day, YYYY-MM-DD (default: today)")
        parser.add_argument(
            "--force", action="store_true", help="run again a day already done (every step is idempotent)"
        )

    def handle(self, *args, **options):
        try:
            day = date.fromisoformat(options["date"]) if options["date"] else None
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from exc
        run = lifecycle.run_daily(day=day, force=options["force"])
        if run is None:
            self.stdout.write(f"{day or 'today'}: already run; nothing done (use --force to run it again)")
            return
        stats = ", ".join(f"{k} {v}" for k, v in sorted(run.stats.items()))
        self.stdout.write(f"{run.day}: {stats}")
