from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from credit import reports
from credit.models import Deadline, Department

# The met/missed table covers the last 30 days unless a period is asked for.
DEFAULT_DAYS = 30
# The outcome columns, in the order of Outcome's fields (each a Deadline.Status).
COUNTED = ["met", "missed", "pending", "extended", "cancelled"]


@dataclass(frozen=True)
class Found:
    overdue: reports.DeadlinePage
    outcomes: list[reports.Outcome]
    provisional: reports.DeadlinePage
    start: date
    end: date


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(_("Not a date: %(value)r (expected YYYY-MM-DD).") % {"value": text}) from None


class Command(BaseCommand):
    help = (
        "Print the deadline reports: pending deadlines overdue now, deadlines met and missed per department "
        "and kind, and pending provisional deadlines."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["text", "csv", "json"], default="text")
        parser.add_argument(
            "--from",
            dest="start",
            type=str,
            help="First due date counted in the met/missed table (default: 29 days before --to).",
        )
        parser.add_argument(
            "--to",
            dest="end",
            type=str,
            help="Last due date counted in the met/missed table (default: today).",
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=reports.DEFAULT_PAGE,
            help=f"Rows of overdue and of provisional deadlines, at most {reports.MAX_PAGE} "
            f"(default {reports.DEFAULT_PAGE}).",
        )
        parser.add_argument(
            "--after", default="", help="Continue the overdue list after this position (printed as 'next')."
        )
        parser.add_argument("--department", default="", help="Only this department's deadlines (its code).")

    def handle(self, *args: Any, **options: Any) -> None:
        end = _date(options["end"]) if options["end"] else timezone.localdate()
        start = _date(options["start"]) if options["start"] else end - timedelta(days=DEFAULT_DAYS - 1)
        departments = None
        if options["department"]:
            department = (
                Department.objects.filter(code=options["department"]).values_list("pk", flat=True).first()
            )
            if department is None:
                raise CommandError(
                    _("No department has the code %(code)r.") % {"code": options["department"]}
                )
            departments = frozenset({department})
        try:
            after = reports.Cursor.parse(options["after"]) if options["after"] else None
            found = Found(
                overdue=reports.overdue_now(limit=options["limit"], after=after, departments=departments),
                outcomes=reports.outcomes(start=start, end=end, departments=departments),
                provisional=reports.provisional_pending(limit=options["limit"], departments=departments),
                start=start,
                end=end,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        {"text": self._text, "csv": self._csv, "json": self._json}[options["format"]](found)

    def _json(self, found: Found) -> None:
        def page(rows: reports.DeadlinePage) -> dict[str, Any]:
            return {"rows": [asdict(row) for row in rows.rows], "next": str(rows.next) if rows.next else None}

        body = {
            "overdue": page(found.overdue),
            "outcomes": {
                "from": found.start,
                "to": found.end,
                "rows": [{**asdict(row), "total": row.total} for row in found.outcomes],
            },
            "provisional": page(found.provisional),
        }
        self.stdout.write(json.dumps(body, default=date.isoformat, ensure_ascii=False, indent=2))

    # Each CSV block starts with its header row; blocks are separated by an empty line.
    _ROW_COLUMNS = ["id", "kind", "subject_type", "subject_number", "department", "due_date", "days_overdue"]
    _OUTCOME_COLUMNS = ["department", "kind", "met", "missed", "pending", "extended", "cancelled", "total"]

    def _csv(self, found: Found) -> None:
        writer = csv.writer(self.stdout, lineterminator="\n")
        for name, page in (("overdue", found.overdue), ("provisional", found.provisional)):
            writer.writerow(["report", *self._ROW_COLUMNS])
            for row in page.rows:
                writer.writerow([name, *(getattr(row, column) for column in self._ROW_COLUMNS)])
            self.stdout.write("")
        writer.writerow(["report", "from", "to", *self._OUTCOME_COLUMNS])
        for outcome in found.outcomes:
            columns = (getattr(outcome, column) for column in self._OUTCOME_COLUMNS)
            writer.writerow(["outcomes", found.start, found.end, *columns])

    def _text(self, found: Found) -> None:
        def rows(page: reports.DeadlinePage, *, days: bool) -> None:
            if not page.rows:
                self.stdout.write("  " + _("None."))
            for row in page.rows:
                subject = row.subject_number or str(row.subject_id)
                line = f"  {row.due_date.isoformat()}  {row.kind:<36} {subject:<20} {row.department or '-'}"
                if days:
                    line += "  " + _("%(days)d day(s) overdue") % {"days": row.days_overdue}
                self.stdout.write(line)
            if page.next is not None:
                self.stdout.write("  " + _("More: --after %(next)s") % {"next": page.next})

        self.stdout.write(_("Overdue now"))
        rows(found.overdue, days=True)
        self.stdout.write("")
        self.stdout.write(
            _("Met and missed, due from %(start)s to %(end)s")
            % {"start": found.start.isoformat(), "end": found.end.isoformat()}
        )
        header = [str(Deadline.Status(status).label) for status in COUNTED]
        self.stdout.write(f"  {'':<20} {'':<36} " + " ".join(f"{h:>9}" for h in header))
        if not found.outcomes:
            self.stdout.write("  " + _("No deadline was due in this period."))
        for outcome in found.outcomes:
            counts = " ".join(f"{getattr(outcome, status):>9}" for status in COUNTED)
            self.stdout.write(f"  {outcome.department or '-':<20} {outcome.kind:<36} {counts}")
        self.stdout.write("")
        self.stdout.write(_("Provisional deadlines"))
        rows(found.provisional, days=False)
