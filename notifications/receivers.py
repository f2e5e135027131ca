"""Turn what happened elsewhere into declared events."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.urls import reverse

from credit.flows import deadline_overdue
from credit.models import Authorisation, IdentityClaim
from credit.signals import case_transitioned, timer_failed
from letters.models import LetterKind
from letters.services import letter_issued, letter_served
from portal.links import applicant_link, staff_link

from .services import notify


@receiver(letter_issued, dispatch_uid="notifications.letter_issued")
def _letter_issued(sender: Any, letter: Any, **kwargs: Any) -> None:
    event = "record.registered" if letter.kind == LetterKind.REPAIR_NOTICE else "letter.issued"
    notify(
        event,
        key=f"letter:{letter.pk}",
        link=applicant_link(letter.subject),
        context={"letter": letter, "person": letter.person, "department": letter.department},
        case_number=letter.case_number,
    )


@receiver(letter_served, dispatch_uid="notifications.letter_served")
def _letter_served(sender: Any, service: Any, **kwargs: Any) -> None:
    letter = service.letter
    notify(
        "letter.served",
        key=f"service:{service.pk}",
        link=applicant_link(letter.subject),
        context={
            "letter": letter,
            "service": service,
            "person": letter.person,
            "department": letter.department,
        },
        case_number=letter.case_number,
    )


@receiver(deadline_overdue, dispatch_uid="notifications.task_escalated")
def _task_escalated(sender: Any, deadline: Any, task: Any, **kwargs: Any) -> None:
    if deadline is None:
        return
    subject = deadline.subject
    # A reconsideration answers to its office, not to the department whose decision it reviews.
    department = getattr(subject, "office", None) or getattr(subject, "department", None)
    notify(
        "task.escalated",
        key=f"deadline:{deadline.pk}",
        link=staff_link(subject),
        context={"deadline": deadline, "subject": subject, "task": task, "department": department},
        case_number=str(getattr(subject, "number", "") or ""),
    )


@receiver(timer_failed, dispatch_uid="notifications.timer_failed")
def _timer_failed(sender: Any, task: Any, error: str, **kwargs: Any) -> None:
    subject = task.process.coerced.artifact
    notify(
        "timer.failed",
        key=f"timer:{task.pk}:failed",
        link=staff_link(subject),
        context={
            "task": task,
            "subject": subject,
            "error": error[:300],
            "department": getattr(subject, "department", None),
        },
        case_number=str(getattr(subject, "number", "") or ""),
    )


@receiver(case_transitioned, sender=IdentityClaim, dispatch_uid="notifications.identity_decided")
def _identity_decided(sender: Any, instance: IdentityClaim, transition: str, log: Any, **kwargs: Any) -> None:
    if transition not in ("verify", "reject"):
        return
    notify(
        "identity.verified" if transition == "verify" else "identity.rejected",
        key=f"identity-claim:{instance.pk}",
        link=reverse("portal:identity"),
        context={"account": instance.user, "claim": instance, "reason": log.reason},
        case_number=instance.number,
    )


AUTHORISATION_EVENTS = {
    "verify": "authorisation.verified",
    "reject": "authorisation.rejected",
    "revoke": "authorisation.revoked",
}


@receiver(case_transitioned, sender=Authorisation, dispatch_uid="notifications.authorisation_decided")
def _authorisation_decided(
    sender: Any, instance: Authorisation, transition: str, log: Any, **kwargs: Any
) -> None:
    if transition not in AUTHORISATION_EVENTS:
        return
    notify(
        AUTHORISATION_EVENTS[transition],
        key=f"authorisation:{instance.pk}:{transition}",
        link=reverse("portal:authorisations"),
        context={
            "authorisation": instance,
            "person": instance.person,
            "reason": log.reason,
            "decision": transition,
        },
        case_number=instance.number,
    )
