"""How a due date reads to a person: due in N working days, due today, or overdue by N working days. One
definition for the staff queues' SLA badges and the applicant's countdowns."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone
from django.utils.translation import gettext, ngettext

from credit.calendar import Days


@dataclass(frozen=True)
class Countdown:
    due_date: date
    state: str  # "due", "today" or "overdue"
    working_days: int  # working days left (due) or past (overdue); 0 when due today

    @property
    def label(self) -> str:
        if self.state == "today":
            return gettext("due today")
        if self.state == "overdue":
            if self.working_days == 0:  # passed over a weekend or holiday: not yet a working day late
                return gettext("overdue")
            return ngettext(
                "overdue by %(n)d working day", "overdue by %(n)d working days", self.working_days
            ) % {"n": self.working_days}
        return ngettext("due in %(n)d working day", "due in %(n)d working days", self.working_days) % {
            "n": self.working_days
        }


def countdowns(due_dates: Iterable[date], today: date | None = None) -> dict[date, Countdown]:
    """The countdown of each due date, from one read of the calendar (one query however many rows a page
    shows). A deadline runs to 24:00 on its due date (credit.models.deadlines.due_moment), so it is due today
    on that date and overdue from the next day. Counts are working days of the official calendar: those
    after the earlier of (today, due date) up to and including the later."""
    today = today or timezone.localdate()
    dates = set(due_dates)
    if not dates:
        return {}
    first, last = min(*dates, today), max(*dates, today)
    if first == last:
        return {today: Countdown(today, "today", 0)}
    days = Days(first + timedelta(days=1), last)
    # working[i] = working days in (first, first + i]
    working, count = [0], 0
    for offset in range(1, (last - first).days + 1):
        count += days.decide(first + timedelta(days=offset))[0]
        working.append(count)

    def between(start: date, end: date) -> int:
        return working[(end - first).days] - working[(start - first).days]

    result = {}
    for due in dates:
        if due == today:
            result[due] = Countdown(due, "today", 0)
        elif due > today:
            result[due] = Countdown(due, "due", between(today, due))
        else:
            result[due] = Countdown(due, "overdue", between(due, today))
    return result


def countdown(due_date: date, today: date | None = None) -> Countdown:
    return countdowns([due_date], today)[due_date]
