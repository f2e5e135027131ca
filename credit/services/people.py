"""Identity: linking an applicant account to a person after a real-name check, and agents' authorisations
(whose verification goes through the transition service like every other legal state)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credit.models import Person
from credit.roles import Role, may
from credit.services.transitions import Forbidden, WrongState, write_log


@transaction.atomic
def verify_applicant(
    *, person: Person, user: Any, actor: Any, method: str = Person.Verification.INTAKE
) -> Person:
    """Link `user` to `person` once intake has checked the person's identity; logged like a transition."""
    if not may(actor, "credit.verify_identity"):
        raise Forbidden(_("Only intake staff verify identities."))
    locked = Person.objects.select_for_update().get(pk=person.pk)
    if locked.user_id is not None and locked.user_id != user.pk:
        raise WrongState(_("This person is already linked to another account."), state="verified")
    if Person.objects.filter(user=user).exclude(pk=locked.pk).exists():
        raise WrongState(_("This account is already linked to another person."), state="verified")
    source = "verified" if locked.user_id else "unverified"
    locked.user = user
    locked.verification = method
    locked.verified_by = actor
    locked.verified_at = timezone.now()
    locked.save()
    user.groups.add(Group.objects.get(name=Role.APPLICANT))
    write_log(
        locked,
        "verify_identity",
        source=source,
        target="verified",
        actor=actor,
        reason=str(Person.Verification(method).label),
    )
    return locked
