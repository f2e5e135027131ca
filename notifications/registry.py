"""The one place events are declared: who receives each, on which channels, from which templates.

Workflow apps declare their events with `declare(Event(...))` in their AppConfig.ready() and raise them with
`notifications.services.notify(name, key=..., context=...)`; nothing else is needed to reach people."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from credit.batching import remembered
from credit.models import Authorisation, Department, Membership
from credit.roles import Role

from .models import Channel

Resolver = Callable[[dict[str, Any]], Iterable[Any]]


def applicant(context: dict[str, Any]) -> list[Any]:
    """The person's own account and the agents acting for them under a verified, current authorisation."""
    person = context.get("person")
    if person is None:
        return []
    users = [person.user] if person.user_id else []
    agent_ids = Authorisation.objects.in_force().filter(person=person).values_list("agent_id", flat=True)
    users += list(get_user_model().objects.filter(pk__in=list(agent_ids)))
    return users


def account(context: dict[str, Any]) -> list[Any]:
    """The account an identity claim is about, linked to a person or not (yet)."""
    user = context.get("account")
    return [user] if user is not None else []


def agent(context: dict[str, Any]) -> list[Any]:
    """The agent of the context's authorisation, whatever its status."""
    authorisation = context.get("authorisation")
    return [authorisation.agent] if authorisation is not None else []


def person_itself(context: dict[str, Any]) -> list[Any]:
    """The person's own account, without their agents (told that an agent may now act for them)."""
    person = context.get("person")
    return [person.user] if person is not None and person.user_id else []


def assignee(context: dict[str, Any]) -> list[Any]:
    task = context.get("task")
    owner = getattr(task, "owner", None)
    return [owner] if owner is not None else []


def department_role(role: str) -> Resolver:
    """Every member of the context's department who holds `role` (a department's queue, its head). The
    reconsideration office has neither officers nor a head among the roles: its reconsideration officers
    are its queue and answer for its deadlines."""

    def resolve(context: dict[str, Any]) -> list[Any]:
        department = context.get("department")
        if department is None:
            return []
        wanted = role
        if department.kind == Department.Kind.RECONSIDERATION and role in (Role.OFFICER, Role.HEAD):
            wanted = Role.RECONSIDERATION

        def members() -> list[Any]:
            user_ids = Membership.objects.filter(
                department=department, user__groups__name=wanted
            ).values_list("user_id", flat=True)
            return list(get_user_model().objects.filter(pk__in=list(user_ids)))

        # A sweep escalating a thousand cases of one department reads its heads once (credit.batching).
        return remembered(("department_role", wanted, department.pk), members)

    resolve.__name__ = f"department_{role}"
    return resolve


def administrators(context: dict[str, Any]) -> list[Any]:
    """The system's administrators (Django staff): they fix what the software cannot."""
    return remembered(
        "administrators", lambda: list(get_user_model().objects.filter(is_staff=True, is_active=True))
    )


heads = department_role(Role.HEAD)
department_queue = department_role(Role.OFFICER)


def assignee_or_queue(context: dict[str, Any]) -> list[Any]:
    """Whoever holds the task, or, while nobody has claimed it, the department's officers."""
    return assignee(context) or list(department_queue(context))


@dataclass(frozen=True)
class Event:
    name: str
    description: Any  # a lazy translation
    recipients: tuple[Resolver, ...]
    channels: tuple[str, ...] = (Channel.INBOX, Channel.EMAIL)
    # Staff events may be held for a staff member's daily digest; applicants' never are.
    for_staff: bool = False
    # Events that only say "your case moved on" share the `case.update` templates, titled by `description`.
    template: str = ""

    @property
    def template_dir(self) -> str:
        return f"notifications/{self.template or self.name}"


EVENTS: dict[str, Event] = {}


def declare(event: Event) -> Event:
    if event.name in EVENTS and EVENTS[event.name] != event:
        raise ValueError(f"Event {event.name!r} is declared twice")
    EVENTS[event.name] = event
    return event
