"""Reads, scoped. Every staff or applicant query of cases and records starts from `scoped()`."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models

from credit.models import CreditRecord, Deadline, TransitionLog
from credit.models.people import CITY_WIDE_ROLES, DEPARTMENT_ROLES, STAFF_ROLES, Role, persons_acted_for

M = TypeVar("M", bound=models.Model)


def is_staff_member(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_role(*STAFF_ROLES))


def scoped(
    user: Any,
    queryset: models.QuerySet[M],
    *,
    department_field: str = "department",
    person_field: str = "person",
) -> models.QuerySet[M]:
    """What this user may see of `queryset`: applicants the objects of the persons they act for (their own,
    or by a verified authorisation); department staff their departments'; intake, reconsideration and audit
    staff everything. Anyone else, administrators without a role included, sees nothing."""
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if user.has_role(*CITY_WIDE_ROLES):
        return queryset
    visible = models.Q(pk__in=[])
    if user.has_role(*DEPARTMENT_ROLES):
        visible |= models.Q(**{f"{department_field}__in": list(user.department_ids())})
    if user.has_role(Role.APPLICANT):
        visible |= models.Q(**{f"{person_field}__in": list(persons_acted_for(user))})
    return queryset.filter(visible)


def records_for(user: Any) -> models.QuerySet[CreditRecord]:
    return scoped(user, CreditRecord.objects.select_related("person", "department", "ruleset"))


def timeline(obj: models.Model) -> models.QuerySet[TransitionLog]:
    return (
        TransitionLog.objects.filter(content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk)
        .select_related("actor")
        .order_by("at", "id")
    )


def deadlines_of(obj: models.Model) -> models.QuerySet[Deadline]:
    return Deadline.objects.for_object(obj).order_by("due_date", "id")
