from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pytest_django import DjangoAssertNumQueries

from credit.calendar import (
    DueDate,
    add_calendar_days,
    add_working_days,
    calendar_days_due,
    is_working_day,
    working_days_between,
    working_days_due,
)
from credit.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db

D = date.fromisoformat


def override(day: str, kind: str, name: str = "") -> CalendarDay:
    return CalendarDay.objects.create(date=D(day), kind=kind, name=name)


def package_has(year: int) -> bool:
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


# The 2026 data shipped in chinese_calendar 1.11.0 (国办发明电〔2025〕7号):
# 春节 2026-02-15 (Sun) .. 02-23 (Mon) off, 02-14 (Sat) and 02-28 (Sat) worked;
# 中秋 09-25 .. 09-27 off; 国庆 10-01 .. 10-07 off, 09-20 (Sun) and 10-10 (Sat) worked.


def test_2026_data_is_what_the_tests_expect() -> None:
    spring = chinese_calendar.get_holidays(D("2026-02-01"), D("2026-02-28"), include_weekends=False)
    assert spring == [D("2026-02-15") + timedelta(days=i) for i in range(9)]
    national = chinese_calendar.get_holidays(D("2026-10-01"), D("2026-10-31"), include_weekends=False)
    assert national == [D("2026-10-01") + timedelta(days=i) for i in range(7)]
    swapped = [
        d
        for d in chinese_calendar.get_workdays(D("2026-02-01"), D("2026-10-31"))
        if d.weekday() >= 5 and d.year == 2026
    ]
    assert D("2026-02-14") in swapped
    assert D("2026-02-28") in swapped
    assert D("2026-09-20") in swapped
    assert D("2026-10-10") in swapped


# --- Spring Festival 2026 ---


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-02-12", 1, "2026-02-13"),  # Thu -> Fri
        ("2026-02-13", 1, "2026-02-14"),  # the 调休 Saturday is a working day
        ("2026-02-12", 3, "2026-02-24"),  # Fri, Sat (调休), then over the 9 days off
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-02-18", 1, "2026-02-24"),  # start on a holiday
        ("2026-02-15", 5, "2026-02-28"),  # 24, 25, 26, 27, and the 调休 Saturday 28
        ("2026-02-20", 0, "2026-02-20"),
    ],
)
def test_spring_festival_2026(start: str, n: int, expected: str) -> None:
    assert working_days_due(D(start), n) == DueDate(D(expected), provisional=False)


# --- Mid-Autumn and National Day 2026 ---


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-09-18", 1, "2026-09-20"),  # Fri -> the 调休 Sunday
        ("2026-09-18", 2, "2026-09-21"),
        ("2026-09-24", 1, "2026-09-28"),  # Mid-Autumn Fri 25 .. Sun 27
        ("2026-09-28", 3, "2026-10-08"),  # 29, 30, then over National Day
        ("2026-09-30", 1, "2026-10-08"),
        ("2026-09-30", 3, "2026-10-10"),  # the 调休 Saturday
        ("2026-09-30", 4, "2026-10-12"),
        ("2026-10-03", 1, "2026-10-08"),  # start on a holiday
    ],
)
def test_national_day_2026(start: str, n: int, expected: str) -> None:
    assert working_days_due(D(start), n) == DueDate(D(expected), provisional=False)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-02-14", True),
        ("2026-02-16", False),
        ("2026-02-23", False),
        ("2026-02-28", True),
        ("2026-03-07", False),
        ("2026-03-09", True),
        ("2026-09-20", True),
        ("2026-10-07", False),
        ("2026-10-10", True),
    ],
)
def test_is_working_day_2026(day: str, working: bool) -> None:
    assert is_working_day(D(day)) is working


# --- Basics ---


def test_friday_plus_one_is_monday() -> None:
    assert add_working_days(D("2026-03-06"), 1) == D("2026-03-09")


def test_zero_returns_start_even_on_a_rest_day() -> None:
    assert add_working_days(D("2026-03-07"), 0) == D("2026-03-07")
    assert working_days_due(D("2031-05-01"), 0) == DueDate(D("2031-05-01"), provisional=False)


@pytest.mark.parametrize(
    "call",
    [
        lambda: add_working_days(D("2026-03-06"), -1),
        lambda: working_days_due(D("2026-03-06"), -1),
        lambda: add_calendar_days(D("2026-03-06"), -1),
        lambda: calendar_days_due(D("2026-03-06"), -1),
    ],
)
def test_negative_count_raises(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="negative"):
        call()


def test_datetime_is_rejected() -> None:
    with pytest.raises(TypeError):
        add_working_days(datetime(2026, 3, 6, 12, 0), 1)


# --- Calendar-day periods ---


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2026-03-02", 4, "2026-03-06"),  # ends on a Friday: stays
        ("2026-03-06", 1, "2026-03-09"),  # ends on Saturday: moves to Monday
        ("2026-03-02", 6, "2026-03-09"),  # ends on Sunday
        ("2026-09-21", 10, "2026-10-08"),  # ends on 10-01, inside National Day
        ("2026-09-30", 7, "2026-10-08"),  # ends on 10-07, its last day
        ("2026-10-01", 9, "2026-10-10"),  # ends on the 调休 Saturday: stays
        ("2026-02-01", 13, "2026-02-14"),  # likewise in Spring Festival
        ("2026-03-07", 0, "2026-03-09"),  # n == 0 on a rest day still moves (民法典 Art. 203)
    ],
)
def test_add_calendar_days(start: str, n: int, expected: str) -> None:
    assert calendar_days_due(D(start), n) == DueDate(D(expected), provisional=False)
    assert add_calendar_days(D(start), n) == D(expected)


# --- Provisional years ---


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2031-04-30", 1, "2031-05-05"),  # Labour Day Thu 1, Fri 2, then the weekend
        ("2031-09-30", 1, "2031-10-06"),  # National Day Wed 1 .. Fri 3, then the weekend
        ("2031-01-21", 1, "2031-01-27"),  # 除夕 Wed 22 .. 初三 Sat 25; the guessed Monday 补假 is not law
        ("2031-04-04", 1, "2031-04-07"),  # Qingming is Sat 5; its guessed "observed" Monday is worked
        ("2031-06-23", 1, "2031-06-25"),  # Dragon Boat Tue 24
        ("2030-12-31", 1, "2031-01-02"),  # New Year's Day
        ("2031-03-07", 1, "2031-03-10"),  # a plain weekend
    ],
)
def test_year_without_data_uses_the_statutory_rule(start: str, n: int, expected: str) -> None:
    assert not package_has(2031)
    assert working_days_due(D(start), n) == DueDate(D(expected), provisional=True)


def test_rule_days() -> None:
    assert not is_working_day(D("2031-05-01"))
    assert not is_working_day(D("2031-01-22"))
    assert is_working_day(D("2031-01-27"))
    assert is_working_day(D("2031-04-07"))


def test_calendar_days_in_a_provisional_year() -> None:
    assert calendar_days_due(D("2031-09-28"), 3) == DueDate(D("2031-10-06"), provisional=True)
    # Even a plain working day is provisional: a 调休 could yet be announced for it.
    assert calendar_days_due(D("2031-03-09"), 1) == DueDate(D("2031-03-10"), provisional=True)


def test_count_inside_2026_is_not_provisional() -> None:
    assert working_days_due(D("2026-12-01"), 20) == DueDate(D("2026-12-29"), provisional=False)
    assert working_days_due(D("2026-12-30"), 1) == DueDate(D("2026-12-31"), provisional=False)


def test_count_crossing_into_2027_is_provisional() -> None:
    if package_has(2027):
        pytest.skip("this chinese_calendar version has 2027 data")
    # 2027-01-01 is a Friday and New Year's Day by the rule.
    assert working_days_due(D("2026-12-31"), 1) == DueDate(D("2027-01-04"), provisional=True)
    assert working_days_due(D("2026-12-30"), 2) == DueDate(D("2027-01-04"), provisional=True)
    assert calendar_days_due(D("2026-12-30"), 2) == DueDate(D("2027-01-04"), provisional=True)


# --- Overrides ---


def test_holiday_override_on_a_working_day_is_skipped() -> None:
    override("2026-03-10", CalendarDay.Kind.HOLIDAY)
    assert add_working_days(D("2026-03-09"), 1) == D("2026-03-11")
    assert not is_working_day(D("2026-03-10"))
    assert add_calendar_days(D("2026-03-09"), 1) == D("2026-03-11")


def test_workday_override_on_a_saturday_is_counted() -> None:
    override("2026-03-07", CalendarDay.Kind.WORKDAY, "调休上班")
    assert add_working_days(D("2026-03-06"), 1) == D("2026-03-07")
    assert is_working_day(D("2026-03-07"))
    assert add_calendar_days(D("2026-03-06"), 1) == D("2026-03-07")


def test_override_wins_over_chinese_calendar() -> None:
    override("2026-10-05", CalendarDay.Kind.WORKDAY)
    override("2026-10-10", CalendarDay.Kind.HOLIDAY)
    assert add_working_days(D("2026-09-30"), 1) == D("2026-10-05")
    assert add_working_days(D("2026-10-09"), 1) == D("2026-10-12")


def test_official_year_is_not_provisional_and_counts_only_weekends_and_overrides() -> None:
    CalendarYear.objects.create(year=2031, official=True)
    # Labour Day has not been entered as overrides yet: the official schedule rules, so 05-01 is worked.
    assert working_days_due(D("2031-04-30"), 1) == DueDate(D("2031-05-01"), provisional=False)
    assert working_days_due(D("2031-01-21"), 1) == DueDate(D("2031-01-22"), provisional=False)
    assert add_working_days(D("2031-03-07"), 1) == D("2031-03-10")

    override("2031-05-01", CalendarDay.Kind.HOLIDAY, "劳动节")
    override("2031-05-02", CalendarDay.Kind.HOLIDAY, "劳动节")
    override("2031-05-05", CalendarDay.Kind.HOLIDAY, "劳动节")
    override("2031-05-10", CalendarDay.Kind.WORKDAY, "调休上班")
    assert working_days_due(D("2031-04-30"), 1) == DueDate(D("2031-05-06"), provisional=False)
    assert working_days_due(D("2031-05-08"), 2) == DueDate(D("2031-05-10"), provisional=False)
    assert calendar_days_due(D("2031-04-27"), 4) == DueDate(D("2031-05-06"), provisional=False)


def test_unofficial_calendar_year_stays_provisional() -> None:
    CalendarYear.objects.create(year=2031, official=False)
    assert working_days_due(D("2031-04-30"), 1) == DueDate(D("2031-05-05"), provisional=True)


def test_overrides_beyond_the_first_window_are_loaded() -> None:
    # 60 days off in a row outrun the window sized for one working day.
    for i in range(60):
        override((D("2026-03-07") + timedelta(days=i)).isoformat(), CalendarDay.Kind.HOLIDAY)
    expected = D("2026-05-06")  # 03-07 + 60 = 05-06, a Wednesday after the Labour Day holiday
    assert chinese_calendar.is_workday(expected)
    assert add_working_days(D("2026-03-06"), 1) == expected
    assert working_days_between(D("2026-03-06"), expected) == 1


# --- working_days_between ---


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-02-12", "2026-02-24", 3),
        ("2026-02-12", "2026-02-23", 2),  # end on a holiday: not counted
        ("2026-03-06", "2026-03-06", 0),
        ("2026-03-09", "2026-03-06", 0),
        ("2026-09-30", "2026-10-12", 4),
        ("2026-12-31", "2027-01-04", 1),
    ],
)
def test_working_days_between(start: str, end: str, expected: int) -> None:
    assert working_days_between(D(start), D(end)) == expected


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60, deadline=None)
@given(start=st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)), n=st.integers(0, 40))
def test_working_days_between_inverts_add_working_days(start: date, n: int) -> None:
    due = add_working_days(start, n)
    assert working_days_between(start, due) == n
    if n > 0:
        assert is_working_day(due)
        assert due > start


# --- Efficiency ---


@pytest.mark.parametrize("n", [20, 250])
def test_queries_are_constant(django_assert_max_num_queries: DjangoAssertNumQueries, n: int) -> None:
    override("2026-03-10", CalendarDay.Kind.HOLIDAY)
    # Inside chinese_calendar's years only the overrides are read (n=250 runs into 2027, hence 2).
    with django_assert_max_num_queries(1 if n == 20 else 2):
        working_days_due(D("2026-03-02"), n)
    # A provisional year also reads the official years, once.
    with django_assert_max_num_queries(2):
        working_days_due(D("2031-03-03"), n)
    with django_assert_max_num_queries(2):
        working_days_between(D("2031-03-03"), D("2031-12-31"))
