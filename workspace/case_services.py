"""Writes of the case file and the head's screens that are not legal steps: an internal note, and the head
giving an escalated task to someone else. Legal steps go through `perform_transition`, never through here."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.models.people import Role
from credit.selectors import is_staff_member
from credit.services.transitions import Forbidden, WrongState, write_log

from .models import InternalNote

# Staff who act on cases write notes; auditors read everything and change nothing.
NOTE_WRITERS = (Role.INTAKE, Role.OFFICER, Role.REVIEWER, Role.HEAD, Role.RECONSIDERATION)
MAX_NOTE_CHARS = 5000


def may_write_notes(user: Any) -> bool:
    return bool(is_staff_member(user) and user.has_role(*NOTE_WRITERS))


def add_internal_note(*, case: models.Model, actor: Any, text: str) -> InternalNote:
    """A staff-only note on a case the caller has already found in their scope."""
    if not may_write_notes(actor):
        raise Forbidden(_("Only staff who work on cases write case notes."))
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("A note needs text."), code="text_required")
    if len(text) > MAX_NOTE_CHARS:
        raise ValidationError(
            _("A note has at most %(n)d characters."), params={"n": MAX_NOTE_CHARS}, code="too_long"
        )
    return InternalNote.objects.create(
        case_content_type=ContentType.objects.get_for_model(type(case)),
        case_object_id=case.pk,
        author=actor,
        text=text,
    )


ACTIVE = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)


def reassign_task(*, task: Task, to: Any, actor: Any, reason: str = "") -> Task:
    """Give an open task to `to`, who must be allowed to work it now (its steps' permissions), and say so on
    the case's timeline. The caller has checked that the task is in `actor`'s escalation scope.

    Taken under the process lock, the one the flow and the timer sweep take, and re-read under it: the task
    may have been done or claimed since the page was shown."""
    node = task.flow_task
    with transaction.atomic(), node.flow_class.lock(task.process_id):
        locked = Task.objects.select_related("process").get(pk=task.pk)
        if locked.status not in ACTIVE:
            raise WrongState(_("This task is no longer open."), state=locked.status)
        if not node.may_work(to, locked):
            raise Forbidden(_("%(user)s may not work this task.") % {"user": to.get_username()})
        case = locked.process.artifact
        previous = locked.owner.get_username() if locked.owner_id else ""
        now = timezone.now()
        locked.owner = to
        locked.status = STATUS.ASSIGNED
        locked.assigned = now
        locked.started = None
        locked.save(update_fields=["owner", "status", "assigned", "started"])
        title = str(node.task_title or node.name)
        moved = f"{title}: {previous or '—'} → {to.get_username()}"
        write_log(
            case,
            "reassign",
            source=case.state,
            target=case.state,
            actor=actor,
            reason=f"{moved}. {reason.strip()}" if reason.strip() else moved,
        )
    return locked
