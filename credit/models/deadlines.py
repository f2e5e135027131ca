from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .audit import AppendOnlyModel
from .rules import DeadlineUnit


class DeadlineQuerySet(models.QuerySet["Deadline"]):
    def for_object(self, obj: models.Model) -> DeadlineQuerySet:
        return self.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)

    def pending(self) -> DeadlineQuerySet:
        return self.filter(status=Deadline.Status.PENDING)

    def open(self) -> DeadlineQuerySet:
        """Deadlines whose step is still to be taken: pending, or missed (the due moment passed, marked by
        the sweep) and not yet closed by the late step or the end of the case."""
        return self.filter(OPEN)

    def overdue(self, now: datetime | None = None) -> DeadlineQuerySet:
        """Open deadlines past their due moment: the work that is late now. due_at is 24:00 on the due day,
        so a deadline is overdue once its due date is before today."""
        today = timezone.localdate(now or timezone.now())
        return self.open().filter(due_date__lt=today)


OPEN = models.Q(status="pending") | models.Q(status="missed", closed_at__isnull=True)


class Deadline(models.Model):
    """One legal deadline of any object (a case, a record), computed from the rule set and the calendar."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        MET = "met", _("Met")
        MISSED = "missed", _("Missed")
        EXTENDED = "extended", _("Extended")
        CANCELLED = "cancelled", _("Cancelled")

    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    subject = GenericForeignKey("content_type", "object_id")
    kind = models.CharField(_("kind"), max_length=60)
    description = models.CharField(_("description"), max_length=200)
    ruleset = models.ForeignKey("credit.RuleSet", on_delete=models.PROTECT, related_name="+")
    basis = models.CharField(_("legal basis"), max_length=200)
    value = models.PositiveSmallIntegerField(_("value"))
    unit = models.CharField(_("unit"), max_length=10, choices=DeadlineUnit.choices)
    start_date = models.DateField(_("counted from"))
    due_date = models.DateField(_("due date"))
    provisional = models.BooleanField(
        _("provisional"),
        default=False,
        help_text=_("Computed for a year whose official holiday schedule was not yet entered."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # When the deadline's step was taken (met, or missed if late), it was extended or cancelled. A missed
    # deadline without it is still open: the due moment passed and the step is still outstanding.
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The viewflow task whose boundary timer fires at this deadline, when one is attached.
    task = models.ForeignKey(
        "viewflow.Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    replaces = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replaced_by"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="deadline_subject"),
            # Sweeps look only at pending rows by due date; the partial index keeps them cheap however
            # much history accumulates.
            models.Index(
                fields=["due_date"], name="deadline_pending_due", condition=models.Q(status="pending")
            ),
            # Recomputation after a calendar change: the pending deadlines whose window [start, due]
            # touches the changed days (due_date >= first and start_date <= last), read in keyset batches
            # in this order (credit.services.recompute).
            models.Index(
                fields=["due_date", "start_date", "id"],
                name="deadline_pending_window",
                condition=models.Q(status="pending"),
            ),
            # Work that is late now (Deadline.objects.overdue): the missed deadlines whose step is still
            # outstanding, beside the pending ones of deadline_pending_due.
            models.Index(
                fields=["due_date"],
                name="deadline_missed_open",
                condition=models.Q(status="missed", closed_at__isnull=True),
            ),
            # The report of provisional deadlines (credit.reports.provisional_pending): a small index, as few
            # deadlines fall in a year without official calendar data.
            models.Index(
                fields=["due_date", "id"],
                name="deadline_provisional",
                condition=models.Q(status="pending", provisional=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} due {self.due_date.isoformat()}"

    @property
    def due_at(self) -> datetime:
        """A deadline ends at 24:00 Asia/Shanghai on its due day, i.e. at 00:00 of the next day."""
        return due_moment(self.due_date)


def due_moment(due_date: date) -> datetime:
    """The moment a deadline due on `due_date` runs out: 24:00 Asia/Shanghai, i.e. 00:00 of the next day."""
    tz = timezone.get_default_timezone()
    return datetime.combine(due_date + timedelta(days=1), time.min, tzinfo=tz)


class DeadlineChange(AppendOnlyModel):
    """A pending deadline's due date or provisional flag changed by a recomputation after a calendar change:
    the history of its due date. Append-only, like the transition log."""

    deadline = models.ForeignKey(
        Deadline, on_delete=models.PROTECT, related_name="changes", verbose_name=_("deadline")
    )
    cause = models.ForeignKey(
        "credit.CalendarChange",
        on_delete=models.PROTECT,
        related_name="deadline_changes",
        verbose_name=_("cause"),
    )
    old_due = models.DateField(_("old due date"))
    new_due = models.DateField(_("new due date"))
    old_provisional = models.BooleanField(_("was provisional"))
    new_provisional = models.BooleanField(_("provisional"))
    # The viewflow timer task rescheduled with it, if one was still waiting.
    timer_task_id = models.PositiveBigIntegerField(_("timer moved"), null=True, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("deadline change")
        verbose_name_plural = _("deadline changes")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.deadline_id}: {self.old_due.isoformat()} → {self.new_due.isoformat()}"

    @property
    def reason(self) -> str:
        return str(self.cause)
