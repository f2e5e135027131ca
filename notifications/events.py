"""The events of the credit kernel and letters. The workflow issues declare theirs beside their code."""

from django.utils.translation import gettext_lazy as _

from .models import Channel
from .registry import (
    Event,
    account,
    administrators,
    agent,
    applicant,
    assignee_or_queue,
    declare,
    heads,
    person_itself,
)

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
# Intake's decisions on identity: the account's real-name check, an agent's written authorisation.
IDENTITY_VERIFIED = declare(
    Event(
        "identity.verified",
        _("Your identity was verified: your account is linked to your records"),
        (account,),
        ALL,
        template="identity.decided",
    )
)
IDENTITY_REJECTED = declare(
    Event(
        "identity.rejected",
        _("Your identity claim was rejected"),
        (account,),
        ALL,
        template="identity.decided",
    )
)
AUTHORISATION_VERIFIED = declare(
    Event(
        "authorisation.verified",
        _("An authorisation to act for a person was verified"),
        (agent, person_itself),
        ALL,
        template="authorisation.decided",
    )
)
AUTHORISATION_REJECTED = declare(
    Event(
        "authorisation.rejected",
        _("An authorisation to act for a person was rejected"),
        (agent,),
        ALL,
        template="authorisation.decided",
    )
)
AUTHORISATION_REVOKED = declare(
    Event(
        "authorisation.revoked",
        _("An authorisation to act for a person was revoked"),
        (agent, person_itself),
        ALL,
        template="authorisation.decided",
    )
)
