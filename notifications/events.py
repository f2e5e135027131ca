"""The events of the credit kernel and letters. The workflow issues declare theirs beside their code."""

from django.utils.translation import gettext_lazy as _

from .models import Channel
from .registry import Event, administrators, applicant, assignee_or_queue, declare, heads

ALL = (Channel.INBOX, Channel.EMAIL, Channel.SMS)

RECORD_REGISTERED = declare(
    Event(
        "record.registered",
        _("A credit record was registered, with its credit repair notice"),
        (applicant,),
        ALL,
    )
)
LETTER_ISSUED = declare(Event("letter.issued", _("A letter was issued"), (applicant,), ALL))
LETTER_SERVED = declare(
    Event(
        "letter.served",
        _("A letter was served in person or by post"),
        (applicant,),
        (Channel.INBOX, Channel.EMAIL),
    )
)
DEADLINE_REMINDER = declare(
    Event(
        "deadline.reminder",
        _("A deadline is near or due today"),
        (assignee_or_queue,),
        (Channel.INBOX, Channel.EMAIL),
        for_staff=True,
    )
)
TASK_ESCALATED = declare(
    Event(
        "task.escalated",
        _("A task passed its deadline and is escalated to the head"),
        (heads,),
        ALL,
        for_staff=True,
    )
)
TIMER_FAILED = declare(
    Event(
        "timer.failed",
        _("A deadline's escalation failed and needs an administrator"),
        (heads, administrators),
        (Channel.INBOX, Channel.EMAIL),
        for_staff=True,
    )
)
