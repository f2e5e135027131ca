from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from credit.models import AccessLog
from credit.models.audit import AccessPurpose


def validate_purpose(purpose: str | None, note: str = "") -> tuple[str, str]:
    """A staff member opening a person's records outside an assigned case must say why."""
    if not purpose:
        raise ValidationError(
            _("Staff must state why they open a person's records: give a purpose (%(choices)s)."),
            params={"choices": ", ".join(AccessPurpose.values)},
            code="purpose_required",
        )
    if purpose not in AccessPurpose.values:
        raise ValidationError(_("Unknown purpose “%(p)s”."), params={"p": purpose}, code="purpose_unknown")
    note = (note or "").strip()
    if purpose == AccessPurpose.OTHER and not note:
        raise ValidationError(_("Explain the purpose in a note when it is “other”."), code="note_required")
    return purpose, note[:200]


def log_access(
    *, user: Any, person_ids: Iterable[int], action: str, purpose: str, note: str = "", path: str = ""
) -> int:
    rows = [
        AccessLog(user=user, person_id=pid, action=action, purpose=purpose, note=note, path=path[:300])
        for pid in sorted(set(person_ids))
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)
