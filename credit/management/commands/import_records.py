from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from credit.services.imports import COLUMNS, import_records, read_csv


class Command(BaseCommand):
    help = (
        "Register credit records from a CSV file (UTF-8, header row; columns: "
        + ", ".join(COLUMNS)
        + "; optional: visibility). Rows of the same department, decision number and ID number form one "
        "record with several penalties. Nothing is imported if any row is bad, unless --skip-invalid."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="import the good rows and report the bad ones"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            stream = read_csv(options["file"])
        except OSError as exc:
            raise CommandError(
                _("cannot read %(file)s: %(error)s") % {"file": options["file"], "error": exc.strerror}
            ) from exc
        with stream:
            result = import_records(stream, skip_invalid=options["skip_invalid"])
        for error in result.errors:
            self.stderr.write(str(error))
        if result.errors and not options["skip_invalid"]:
            raise CommandError(
                _(
                    "%(n)d bad row(s); nothing was imported "
                    "(fix them, or use --skip-invalid to import the good rows)"
                )
                % {"n": len(result.errors)}
            )
        self.stdout.write(
            _("imported %(records)d record(s) with %(penalties)d penalty(ies); %(skipped)d line(s) skipped")
            % {"records": result.records, "penalties": result.penalties, "skipped": result.skipped_lines}
        )
