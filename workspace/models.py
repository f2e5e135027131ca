"""The staff workspace's own data: internal case notes, and the open tasks as the queues read them.

A note is staff-only: it is never shown to the applicant and no API for applicants reads it. It is append-only
(a note that turns out wrong is answered by another note), with its author and time, like the audit rows."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credit.models.audit import AppendOnlyModel


class InternalNote(AppendOnlyModel):
    """A staff member's note on an objection, a reconsideration or a complaint (a repair case keeps its notes
    in `repair.CaseNote`, which the repair API already serves to staff)."""

    case_content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    case_object_id = models.PositiveBigIntegerField()
    case = GenericForeignKey("case_content_type", "case_object_id")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(_("written at"), default=timezone.now)

    class Meta:
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["case_content_type", "case_object_id", "created_at"], name="internalnote_case"
            )
        ]

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case_content_type_id}:{self.case_object_id}"


_TIMED, _UNTIMED = models.Q(due_date__isnull=False), models.Q(due_date__isnull=True)


class OpenTask(models.Model):
    """An open human task of a case flow as the staff queues read it: one row per task while it is NEW,
    ASSIGNED or STARTED, with what a queue is sorted and scoped by (its step, its case's department and
    person, its owner, its due date). A read model, kept in the transaction of every change to what it
    copies (workspace.open_tasks): viewflow's task row and the deadline linked to the task's timer.

    It exists because a queue page over viewflow's tables needs the task, its process, its case and its
    timer's deadline together (docs/performance.md): here one index serves each page, however the open
    work is spread over departments and steps."""

    task = models.OneToOneField("viewflow.Task", on_delete=models.CASCADE, primary_key=True, related_name="+")
    flow_task = models.CharField(max_length=255)  # the node's reference, as viewflow stores it
    status = models.CharField(max_length=50)
    # The foreign keys' own indexes are left out: the composite indexes below lead with them.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    created = models.DateTimeField()
    case_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+", db_index=False)
    case_id = models.PositiveBigIntegerField()
    department = models.ForeignKey(
        "credit.Department", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    person = models.ForeignKey("credit.Person", on_delete=models.PROTECT, related_name="+", db_index=False)
    # The open deadline (pending, or missed and not closed) linked to the task's boundary timer; None for a
    # task without a legal clock.
    due_date = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("open task")
        verbose_name_plural = _("open tasks")
        # A page is read in one of these orders after equalities on the leading columns (workspace.queues):
        # per step city-wide, per department and step, or per owner and step; by due date (the tasks with
        # a deadline, then those without, by creation) or by creation alone. The due order is split in two
        # partial indexes so that the tasks without a deadline (a few steps' only) are found without
        # walking the others.
        indexes = [
            models.Index(
                fields=["flow_task", "due_date", "created", "task"],
                name="opentask_step_due",
                condition=_TIMED,
            ),
            models.Index(
                fields=["department", "flow_task", "due_date", "created", "task"],
                name="opentask_dept_due",
                condition=_TIMED,
            ),
            models.Index(
                fields=["flow_task", "created", "task"], name="opentask_step_untimed", condition=_UNTIMED
            ),
            models.Index(
                fields=["department", "flow_task", "created", "task"],
                name="opentask_dept_untimed",
                condition=_UNTIMED,
            ),
            models.Index(fields=["flow_task", "created", "task"], name="opentask_step_created"),
            models.Index(fields=["department", "flow_task", "created", "task"], name="opentask_dept_created"),
            models.Index(
                fields=["owner", "flow_task", "due_date", "created", "task"],
                name="opentask_owner_due",
                condition=models.Q(owner__isnull=False),
            ),
            models.Index(fields=["case_type", "case_id"], name="opentask_case"),
            models.Index(fields=["person"], name="opentask_person"),
        ]

    def __str__(self) -> str:
        return f"task {self.task_id} ({self.flow_task}, {self.status})"
