"""Periods counted in calendar terms (民法典 Arts. 200–204), used for display and repair periods.

A period of days, months or years starts the day after its start date (the start day is not counted). A
period of months or years ends on the corresponding day of its last month, or on that month's last day when
it has no such day: 2026-11-30 + 3 months ends 2027-02-28.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import models
from django.utils.translation import gettext_lazy as _


class PeriodUnit(models.TextChoices):
    DAYS = "days", _("days")
    MONTHS = "months", _("months")
    YEARS = "years", _("years")


@dataclass(frozen=True)
class Period:
    value: int
    unit: str

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("A period cannot be negative")
        if self.unit not in PeriodUnit.values:
            raise ValueError(f"Unknown period unit {self.unit!r}")

    def end(self, start: date) -> date:
        """The last day of the period that starts after `start`."""
        if self.unit == PeriodUnit.DAYS:
            return start + timedelta(days=self.value)
        months = self.value if self.unit == PeriodUnit.MONTHS else self.value * 12
        return add_months(start, months)

    def __str__(self) -> str:
        return f"{self.value} {PeriodUnit(self.unit).label}"


def in_force_on(on: date, start: str = "effective_from", end: str = "effective_until") -> models.Q:
    """Rows whose validity [start, end] (end open when null) includes the day `on`."""
    return models.Q(**{f"{start}__lte": on}) & (
        models.Q(**{f"{end}__isnull": True}) | models.Q(**{f"{end}__gte": on})
    )


def add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)
