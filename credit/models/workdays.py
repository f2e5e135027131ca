from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _


class CalendarDay(models.Model):
    """An override of one day: a holiday, or a working day (调休), entered from the official schedule."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Rest day (法定节假日 or 休息日)")
        WORKDAY = "workday", _("Working day (调休上班)")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    source = models.CharField(
        _("source"), max_length=200, blank=True, help_text=_("e.g. 国务院办公厅通知 文号")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}"


class CalendarYear(models.Model):
    """Marks a year's official schedule as entered: its deadlines are no longer provisional."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    official = models.BooleanField(_("official schedule entered"), default=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarChange(models.Model):
    """A change of the working-day calendar whose pending deadlines must be recomputed: written in the
    change's own transaction (an outbox), recomputed after commit by a Celery task, or by the sweep if that
    message was lost (credit.services.recompute). The cause of every `DeadlineChange`."""

    class Kind(models.TextChoices):
        DAY_SAVED = "day_saved", _("Calendar override entered or changed")
        DAY_DELETED = "day_deleted", _("Calendar override deleted")
        YEAR_CHANGED = "year_changed", _("Official schedule of a year marked or unmarked")
        OPERATOR = "operator", _("Recomputation asked by an operator")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    # The days whose status may have changed: pending deadlines whose counting window touches them are
    # recomputed. Both empty: every pending provisional deadline (an operator's run, e.g. after an upgrade
    # of chinese_calendar).
    first = models.DateField(_("first day"), null=True, blank=True)
    last = models.DateField(_("last day"), null=True, blank=True)
    # What changed, for the history: the day's kind before and after, its name and source; the year's flag.
    details = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    recomputed_at = models.DateTimeField(_("recomputed at"), null=True, blank=True)
    moved = models.PositiveIntegerField(_("deadlines changed"), default=0)

    class Meta:
        verbose_name = _("calendar change")
        verbose_name_plural = _("calendar changes")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(first__isnull=True, last__isnull=True)
                    | models.Q(first__isnull=False, last__isnull=False, first__lte=models.F("last"))
                ),
                name="calendarchange_window",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.describe()}"

    def describe(self) -> str:
        """What changed, in a line: the day and its kind before and after (with the override's name and
        source), or the year and its flag, or the operator's window."""
        d = self.details
        if self.kind in (self.Kind.DAY_SAVED, self.Kind.DAY_DELETED):
            text = gettext("%(date)s: %(before)s → %(after)s") % {
                "date": d.get("date", ""),
                "before": _day_kind_label(d.get("before")),
                "after": _day_kind_label(d.get("after")),
            }
            extra = "; ".join(str(d[key]) for key in ("name", "source") if d.get(key))
            return f"{text} ({extra})" if extra else text
        if self.kind == self.Kind.YEAR_CHANGED:
            return gettext("%(year)s: official schedule %(before)s → %(after)s") % {
                "year": d.get("year", ""),
                "before": _official_label(d.get("before")),
                "after": _official_label(d.get("after")),
            }
        if self.first is not None and self.last is not None:
            return f"{self.first.isoformat()} – {self.last.isoformat()}"
        return gettext("every pending provisional deadline")

    @property
    def window(self) -> tuple[date, date] | None:
        if self.first is None or self.last is None:
            return None
        return self.first, self.last


def _day_kind_label(kind: str | None) -> str:
    if kind is None:
        return pgettext("calendar day", "no override")
    return str(CalendarDay.Kind(kind).label) if kind in CalendarDay.Kind.values else kind


def _official_label(official: bool | None) -> str:
    return gettext("entered") if official else gettext("not entered")
