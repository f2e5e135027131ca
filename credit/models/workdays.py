from __future__ import annotations

from django.conf import settings
from django.db import models
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
