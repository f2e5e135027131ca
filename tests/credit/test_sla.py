"""Countdowns in working days, at the edges and across Spring Festival and National Day."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from credit.calendar import working_days_between
from credit.sla import countdown, countdowns


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("due", "today", "state", "n"),
    [
        (date(2026, 11, 23), date(2026, 11, 23), "today", 0),
        (date(2026, 11, 24), date(2026, 11, 23), "due", 1),
        (date(2026, 11, 30), date(2026, 11, 27), "due", 1),  # Friday to Monday: one working day
        (date(2026, 11, 27), date(2026, 11, 30), "overdue", 1),
        (date(2026, 11, 27), date(2026, 11, 28), "overdue", 0),  # late since Saturday, no working day yet
        # National Day 2026: 1–7 October off, 9 and 10 October (Sat) worked.
        (date(2026, 10, 9), date(2026, 9, 30), "due", 2),
        # Spring Festival 2026: 15–23 February off; 14 and 28 February worked.
        (date(2026, 2, 24), date(2026, 2, 13), "due", 2),
        (date(2026, 2, 13), date(2026, 2, 24), "overdue", 2),
    ],
)
def test_countdown(due: date, today: date, state: str, n: int) -> None:
    c = countdown(due, today)
    assert (c.state, c.working_days) == (state, n)
    if state != "today":
        assert n == working_days_between(min(due, today), max(due, today))


@pytest.mark.django_db
def test_a_page_of_due_dates_reads_the_calendar_once() -> None:
    dates = [date(2026, 1, 1), date(2026, 6, 30), date(2027, 3, 1), date(2026, 11, 23)]
    with CaptureQueriesContext(connection) as queries:
        result = countdowns(dates, date(2026, 11, 23))
    assert len(queries) <= 2  # the overrides of the window, and the official years once past 2026
    for d in dates:
        assert result[d] == countdown(d, date(2026, 11, 23))


@pytest.mark.django_db
def test_labels() -> None:
    with translation.override("en"):
        assert countdown(date(2026, 11, 25), date(2026, 11, 23)).label == "due in 2 working days"
        assert countdown(date(2026, 11, 23), date(2026, 11, 23)).label == "due today"
        assert countdown(date(2026, 11, 20), date(2026, 11, 23)).label == "overdue by 1 working day"
