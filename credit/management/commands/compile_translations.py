from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = (
        "Compile the .po catalogues under LOCALE_PATHS to .mo files, in pure Python (Babel), so that a "
        "machine without GNU gettext can run the project. The .mo files are build output, never committed."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        compiled = 0
        for root in settings.LOCALE_PATHS:
            for po_path in sorted(Path(root).glob("*/LC_MESSAGES/*.po")):
                with po_path.open("rb") as handle:
                    catalog = read_po(handle, abort_invalid=True)
                # Fuzzy entries are not compiled (use_fuzzy=False below), so their guesses are not errors.
                errors = [
                    (message.id, err)
                    for message, errs in catalog.check()
                    if not message.fuzzy
                    for err in errs
                ]
                if errors:
                    raise CommandError(
                        f"{po_path}: " + "; ".join(f"{mid!r}: {err}" for mid, err in errors[:5])
                    )
                mo_path = po_path.with_suffix(".mo")
                tmp = mo_path.with_suffix(".mo.tmp")
                with tmp.open("wb") as handle:
                    write_mo(handle, catalog, use_fuzzy=False)
                tmp.replace(mo_path)
                compiled += 1
        self.stdout.write(f"{compiled} catalogue(s) compiled")
