from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from credit.signals import case_transitioned

from .models import Complaint, Objection, Reconsideration


@receiver(case_transitioned, sender=Objection, dispatch_uid="objections.on_step")
def _on_step(
    sender: Any,
    instance: Objection,
    transition: str,
    actor: Any,
    source: str,
    target: str,
    log: Any,
    **kwargs: Any,
) -> None:
    from .services import on_step

    on_step(instance, transition, actor, source, target, reason=log.reason, payload=log.payload)


@receiver(case_transitioned, sender=Reconsideration, dispatch_uid="objections.on_reconsideration_step")
def _on_reconsideration_step(
    sender: Any,
    instance: Reconsideration,
    transition: str,
    actor: Any,
    source: str,
    target: str,
    log: Any,
    **kwargs: Any,
) -> None:
    from .reconsideration_services import on_step

    on_step(instance, transition, actor, source, target, reason=log.reason, payload=log.payload)


@receiver(case_transitioned, sender=Complaint, dispatch_uid="objections.on_complaint_step")
def _on_complaint_step(
    sender: Any, instance: Complaint, transition: str, actor: Any, source: str, target: str, **kwargs: Any
) -> None:
    from .complaint_services import on_step

    on_step(instance, transition, actor, source, target)
