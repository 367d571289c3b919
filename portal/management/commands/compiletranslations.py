"""Compile locale/*/LC_MESSAGES/*.po into .mo without GNU gettext.

Django's `compilemessages` needs the `msgfmt` binary, which a fresh Debian
machine lacks; polib writes the same .mo files in pure Python, so `make run`
works with nothing but Python installed. Fuzzy entries are left out, as msgfmt does.
"""

from pathlib import Path

import polib
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the project's .po files to .mo (pure Python, no gettext needed)."

    def handle(self, *args, **options):
        count = 0
        for base in settings.LOCALE_PATHS:
            for po_path in sorted(Path(base).glob("*/LC_MESSAGES/*.po")):
                po = polib.pofile(str(po_path))
                for entry in po.fuzzy_entries():
                    po.remove(entry)
                po.save_as_mofile(str(po_path.with_suffix(".mo")))
                count += 1
                self.stdout.write(f"compiled {po_path} ({po.percent_translated()}% translated)")
        if not count:
            self.stdout.write("no .po files found")
