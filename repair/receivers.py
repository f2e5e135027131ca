from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from credit.signals import case_transitioned

from .models import RepairCase, RepairRevocation


@receiver(case_transitioned, sender=RepairCase, dispatch_uid="repair.on_step")
def _on_step(
    sender: Any,
    instance: RepairCase,
    transition: str,
    actor: Any,
    source: str,
    target: str,
    log: Any,
    **kwargs: Any,
) -> None:
    from .services import on_step

    on_step(instance, transition, actor, source, target, reason=log.reason)


@receiver(case_transitioned, sender=RepairRevocation, dispatch_uid="repair.on_revocation")
def _on_revocation(
    sender: Any, instance: RepairRevocation, transition: str, actor: Any, **kwargs: Any
) -> None:
    from .services import on_revocation_approved

    if transition == "approve":
        on_revocation_approved(instance, actor)
