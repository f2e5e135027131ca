"""Which clocks run against the applicant, so that the reminder sweep tells the applicant, not the staff.

Most deadlines are the authorities' (accept within 3 WD, decide within 7 WD): the sweep reminds whoever
holds the work. A few are the applicant's own: supplying missing materials, and applying for reconsideration
of a decision served on them. Nobody on the staff has anything to do before those end (the case lapses or is
deemed withdrawn by its timer), so they are reminded to the applicant and their agents only.

The workflow apps declare theirs beside their events:

- `applicant_deadline(kind, event)`: a `Deadline` kind that the applicant must meet, and the event that
  reminds them of it;
- `reminder_source(function)`: a clock that is not a `Deadline` row (the period to apply for reconsideration
  runs from a letter's service). `function(targets=...)` raises its reminders for the clocks ending on the
  target days and returns how many notifications it created.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from .registry import EVENTS, Event

# A target day of the sweep and what the reminder says of it: "today" (the last day) or "ahead".
Targets = dict[date, str]


class ReminderSource(Protocol):
    def __call__(self, *, targets: Targets) -> int: ...


APPLICANT_DEADLINES: dict[str, str] = {}
SOURCES: list[ReminderSource] = []


def applicant_deadline(kind: str, event: Event) -> None:
    """Deadlines of `kind` are the applicant's to meet; remind them with `event` (declared)."""
    if EVENTS.get(event.name) != event:
        raise ValueError(f"Event {event.name!r} is not declared")
    if APPLICANT_DEADLINES.setdefault(kind, event.name) != event.name:
        raise ValueError(f"Deadline kind {kind!r} already reminds with {APPLICANT_DEADLINES[kind]!r}")


def reminder_source(source: Callable[..., int]) -> Callable[..., int]:
    if source not in SOURCES:
        SOURCES.append(source)
    return source


def targets(today: date, ahead: date) -> Targets:
    """The days whose ending clocks are reminded today: `ahead` (N working days on) and today itself."""
    return {ahead: "ahead", today: "today"}  # today wins when N is 0
