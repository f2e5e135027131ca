from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from credit.services.recompute import recompute_pending, request_recomputation


class Command(BaseCommand):
    help = (
        "Count pending deadlines again with the calendar as it is now, moving their viewflow timers, with "
        "history: every provisional one, or with --year every one whose window touches that year. Also "
        "recomputes calendar changes not yet recomputed. Waits for a recomputation already running."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--year", type=int, help="every pending deadline whose counting window touches this year"
        )
        parser.add_argument("--batch-size", type=int, default=1000, help="deadlines per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"]
        if year is not None and not 1900 < year < 2200:
            raise CommandError(_("%(year)s is not a year this calendar can count in") % {"year": year})
        if options["batch_size"] < 1:
            raise CommandError(_("--batch-size must be at least 1"))
        request_recomputation(year=year)
        result = recompute_pending(wait=True, batch_size=options["batch_size"])
        self.stdout.write(
            _(
                "%(changes)d calendar change(s) recomputed: %(examined)d pending deadline(s) counted again, "
                "%(changed)d changed (%(moved)d due date(s) moved, %(timers)d timer(s) moved)"
            )
            % {
                "changes": result.changes,
                "examined": result.examined,
                "changed": result.changed,
                "moved": result.moved,
                "timers": result.timers_moved,
            }
        )
