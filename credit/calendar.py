"""Working days (工作日) for legal deadlines.

A day's status is decided, in order, by:

1. a ``CalendarDay`` override entered by an administrator;
2. the ``chinese_calendar`` package, for the years it has data for;
3. a ``CalendarYear(official=True)`` row: the year's holidays and 调休 days are all entered as overrides, so
   any other day is a working day iff it is Mon–Fri;
4. a rule: Mon–Fri minus the statutory holidays (全国年节及纪念日放假办法) from the ``holidays`` package.
   Days decided this way are *provisional*: the State Council's annual arrangement may still move them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import chinese_calendar
import holidays

from credit.models import CalendarDay, CalendarYear

__all__ = [
    "Days",
    "DueDate",
    "add_calendar_days",
    "add_working_days",
    "calendar_days_due",
    "days_from",
    "is_working_day",
    "working_days_between",
    "working_days_due",
]

_ONE_DAY = timedelta(days=1)
# No run of rest days in China is longer than ~9 days, so twice the count plus a month comfortably covers
# n working days in one query; admin overrides can still push past it, hence the extension below.
_SLACK_DAYS = 31
_EXTENSION_DAYS = 366
# `holidays` marks annual arrangements (补假 guesses and 调休 swaps copied from past notices) by these
# words in English names; they are not fixed by law, and a swap without its working weekend is wrong.
_ARRANGEMENT_MARKERS = ("observed", "substituted")


@dataclass(frozen=True)
class DueDate:
    date: date
    provisional: bool


@functools.cache
def _package_years() -> range | None:
    """The years chinese_calendar has data for, read from its tables, or None if they are not reachable."""
    try:
        from chinese_calendar import constants

        # Mirrors the package's own range check (utils._validate_date), which also spans min..max of this.
        years = [d.year for d in constants.holidays]
    except (ImportError, AttributeError, TypeError):
        return None
    if not years:
        return None
    return range(min(years), max(years) + 1)


@functools.lru_cache(maxsize=64)
def _package_has_year(year: int) -> bool:
    years = _package_years()
    if years is not None:
        return year in years
    try:
        chinese_calendar.is_workday(date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> frozenset[date]:
    # English names so the marker filter works: the package's default language for China is zh_CN.
    table = holidays.China(years=year, observed=False, language="en_US")
    return frozenset(
        day
        for day, name in table.items()
        if not any(marker in name.lower() for marker in _ARRANGEMENT_MARKERS)
    )


class Days:
    """The calendar data for one or more computations: one query for the overrides of its window (extended
    when a computation runs past it), one for the official years when a day outside chinese_calendar's years
    is asked. Several due dates counted from one day (a filing's deadlines) share one instance, so one read.
    It lives for one computation or one transaction, never across requests: an override entered in the
    admin counts from the next computation on."""

    def __init__(self, first: date, last: date) -> None:
        self._first = first
        self._loaded_to = first - _ONE_DAY
        self._overrides: dict[date, str] = {}
        self._official_years: frozenset[int] | None = None
        self._load_overrides(last)

    def _load_overrides(self, last: date) -> None:
        rows = CalendarDay.objects.filter(date__gt=self._loaded_to, date__lte=last).values_list(
            "date", "kind"
        )
        self._overrides.update(rows)
        self._loaded_to = last

    def _is_official(self, year: int) -> bool:
        # Loaded lazily: computations inside chinese_calendar's years never need it.
        if self._official_years is None:
            self._official_years = frozenset(
                CalendarYear.objects.filter(official=True).values_list("year", flat=True)
            )
        return year in self._official_years

    def decide(self, d: date) -> tuple[bool, bool]:
        """(is a working day, decided by the provisional rule)."""
        if d < self._first:
            raise ValueError(f"{d} is before the loaded window starting {self._first}")
        if d > self._loaded_to:
            self._load_overrides(max(d, self._loaded_to + timedelta(days=_EXTENSION_DAYS)))
        kind = self._overrides.get(d)
        if kind is not None:
            return kind == CalendarDay.Kind.WORKDAY, False
        if _package_has_year(d.year):
            return bool(chinese_calendar.is_workday(d)), False
        weekday = d.weekday() < 5
        if self._is_official(d.year):
            return weekday, False
        return weekday and d not in _statutory_holidays(d.year), True

    def working_days_due(self, start: date, n: int) -> DueDate:
        """The n-th working day after `start` (the start day is not counted); `start` itself when n == 0.

        Provisional if any day examined after `start`, up to and including the result, was decided by the
        rule."""
        _check_date(start)
        _check_count(n)
        current, provisional, remaining = start, False, n
        while remaining:
            current += _ONE_DAY
            working, by_rule = self.decide(current)
            provisional |= by_rule
            if working:
                remaining -= 1
        return DueDate(current, provisional)

    def calendar_days_due(self, start: date, n: int) -> DueDate:
        """`start` + n days, moved on to the next working day if that day is a rest day.

        This applies to n == 0 as well: a period whose last day is a rest day ends on the next working day
        (民法典 Art. 203). Provisional if the nominal last day or any day it moved over was decided by the
        rule."""
        _check_date(start)
        _check_count(n)
        current = start + timedelta(days=n)
        working, provisional = self.decide(current)
        while not working:
            current += _ONE_DAY
            working, by_rule = self.decide(current)
            provisional |= by_rule
        return DueDate(current, provisional)


def days_from(start: date, *, working_days: int = 0, calendar_days: int = 0) -> Days:
    """Calendar data for counting up to `working_days` working days or `calendar_days` calendar days from
    `start` (and for dates beyond, read when a count gets there), with one query."""
    _check_date(start)
    return Days(start, start + timedelta(days=max(2 * working_days, calendar_days) + _SLACK_DAYS))


def _check_date(d: date) -> None:
    # A datetime would never match the date keys of the overrides, and which day it is depends on its zone.
    if isinstance(d, datetime) or not isinstance(d, date):
        raise TypeError(f"Expected a date, got {type(d).__name__}")


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"A number of days cannot be negative (got {n})")


def is_working_day(d: date) -> bool:
    _check_date(d)
    return Days(d, d).decide(d)[0]


def working_days_due(start: date, n: int) -> DueDate:
    """The n-th working day after `start` (the start day is not counted); `start` itself when n == 0.

    Provisional if any day examined after `start`, up to and including the result, was decided by the rule.
    """
    _check_date(start)
    _check_count(n)
    return Days(start + _ONE_DAY, start + timedelta(days=2 * n + _SLACK_DAYS)).working_days_due(start, n)


def calendar_days_due(start: date, n: int) -> DueDate:
    """`start` + n days, moved on to the next working day if that day is a rest day.

    This applies to n == 0 as well: a period whose last day is a rest day ends on the next working day
    (民法典 Art. 203).
    Provisional if the nominal last day or any day it moved over was decided by the rule.
    """
    _check_date(start)
    _check_count(n)
    current = start + timedelta(days=n)
    return Days(current, current + timedelta(days=_SLACK_DAYS)).calendar_days_due(start, n)


def add_working_days(start: date, n: int) -> date:
    return working_days_due(start, n).date


def add_calendar_days(start: date, n: int) -> date:
    return calendar_days_due(start, n).date


def working_days_between(start: date, end: date) -> int:
    """The number of working days d with start < d <= end, so that add_working_days(start, result) == end
    when `end` is a working day; 0 if end <= start."""
    _check_date(start)
    _check_date(end)
    if end <= start:
        return 0
    days = Days(start + _ONE_DAY, end)
    count, current = 0, start
    while current < end:
        current += _ONE_DAY
        if days.decide(current)[0]:
            count += 1
    return count
