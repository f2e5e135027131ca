from __future__ import annotations

from django.db.models.signals import post_migrate
from django.dispatch import Signal, receiver

from credit.roles import sync_role_groups

# Sent inside the transaction of every legal step, after its audit row is written:
# sender=model class, instance, transition (name), actor (User or None for the system), source, target,
# log (the TransitionLog row). Receivers that reach outside the database use transaction.on_commit.
case_transitioned = Signal()

# Sent inside the registration transaction of a credit record: sender=CreditRecord, record, registered_by.
# The letters app serves the 信用修复告知书 on it ("两书同达").
record_registered = Signal()

# Sent when open deadlines changed in a way that may move the due date of the task they time: linked to a
# task's timer, moved (extension, recomputation) or closed. sender=Deadline, deadline_ids. Inside the
# transaction that changed them. The staff queues' read model follows it (workspace.open_tasks).
deadlines_changed = Signal()

# Sent when a workflow timer's path raised and the timer was marked failed (credit.timers), inside the
# sweep's transaction: sender=viewflow Task, task (the failed timer task), error (its message).
timer_failed = Signal()


@receiver(post_migrate)
def _sync_roles(sender: object, **kwargs: object) -> None:
    # After every app's migrations, not only credit's: other apps' permissions are created by their own
    # post_migrate, and the last call sees them all. Idempotent and cheap.
    sync_role_groups()
