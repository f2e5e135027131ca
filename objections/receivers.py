from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from credit.signals import case_transitioned

from .models import Objection


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
