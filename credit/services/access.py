"""The data-access log (查询使用登记): every staff view of a person's records, with its purpose."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _

from credit.models import AccessLog
from credit.models.audit import AccessPurpose

# Case models a staff member may name as the purpose of opening a person's records ("app_label.model" →
# model). The case apps register theirs in AppConfig.ready(); each has a `person` and is scoped like records.
CASE_MODELS: dict[str, type[models.Model]] = {}


def register_case_model(model: type[models.Model]) -> None:
    CASE_MODELS[model._meta.label_lower] = model


@dataclass(frozen=True)
class Purpose:
    purpose: str
    note: str = ""
    case: models.Model | None = None

    @property
    def person_id(self) -> int | None:
        """Opened from a case, the view is limited to the case's person."""
        return getattr(self.case, "person_id", None) if self.case is not None else None


def resolve_purpose(user: Any, purpose: str | None, note: str = "", case: str | None = None) -> Purpose:
    """A staff member opening a person's records must say why: a case they can see ("label:id"), or a
    purpose from the list (and a note for "other"). Raises ValidationError saying what is missing."""
    from credit.selectors import scoped

    if not purpose:
        raise ValidationError(
            _("Staff must state why they open a person's records: give a purpose (%(choices)s)."),
            params={"choices": ", ".join(AccessPurpose.values)},
            code="purpose_required",
        )
    if purpose not in AccessPurpose.values:
        raise ValidationError(_("Unknown purpose “%(p)s”."), params={"p": purpose}, code="purpose_unknown")
    note = (note or "").strip()[:200]
    if purpose == AccessPurpose.OTHER and not note:
        raise ValidationError(_("Explain the purpose in a note when it is “other”."), code="note_required")
    if purpose != AccessPurpose.CASE:
        return Purpose(purpose, note)
    label, _sep, pk = (case or "").partition(":")
    model = CASE_MODELS.get(label.lower())
    if model is None or not pk.isdigit():
        raise ValidationError(
            _("Name the case the records are opened from, as type:number (%(types)s)."),
            params={"types": ", ".join(sorted(CASE_MODELS)) or _("no case types yet")},
            code="case_required",
        )
    found = scoped(user, model._default_manager.all()).filter(pk=int(pk)).first()
    if found is None:
        raise ValidationError(_("There is no such case among yours."), code="case_not_found")
    return Purpose(purpose, note, found)


def log_access(*, user: Any, person_ids: Iterable[int], action: str, purpose: Purpose, path: str = "") -> int:
    """Log that `user` saw the records of `person_ids`. `path` is the page's address; its query string is
    dropped, whoever passes one: it may carry what was searched for (a full ID number, `?id_number=`), and
    ID numbers never appear in logs. Callers pass `request.path`."""
    path = path.split("?", 1)[0]
    case = purpose.case
    case_type = ContentType.objects.get_for_model(case) if case is not None else None
    rows = [
        AccessLog(
            user=user,
            person_id=pid,
            action=action,
            purpose=purpose.purpose,
            note=purpose.note,
            case_content_type=case_type,
            case_object_id=case.pk if case is not None else None,
            path=path[:300],
        )
        for pid in sorted(set(person_ids))
    ]
    AccessLog.objects.bulk_create(rows)
    return len(rows)
