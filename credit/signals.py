from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import Signal, receiver

from credit.roles import sync_role_groups

# Sent inside the transaction of every legal step, after its audit row is written:
# sender=model class, instance, transition (name), actor (User or None for the system), source, target,
# log (the TransitionLog row). Receivers that reach outside the database use transaction.on_commit.
case_transitioned = Signal()


@receiver(post_migrate)
def _sync_roles(sender: object, **kwargs: object) -> None:
    # After every app's migrations, not only credit's: other apps' permissions are created by their own
    # post_migrate, and the last call sees them all. Idempotent and cheap.
    sync_role_groups()
