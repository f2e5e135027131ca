"""Reads, scoped. Every staff or applicant query of cases and records starts from `scoped()`. Also the rules
in force, which are the same for everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from credit.models import CityOverlay, CreditRecord, Deadline, RuleSet, TransitionLog
from credit.models.people import CITY_WIDE_ROLES, DEPARTMENT_ROLES, STAFF_ROLES, Role, persons_acted_for

M = TypeVar("M", bound=models.Model)


def is_staff_member(user: Any) -> bool:
    return bool(user.is_authenticated and user.has_role(*STAFF_ROLES))


@dataclass(frozen=True)
class Scope:
    """Which objects a user may see, as data: every one, or those of some departments, of some persons, and
    of a case type's own further rule (`extra`, e.g. the complaints intake entered). `scoped()` applies it
    to a queryset; the staff queues (workspace.queues) turn it into index reads of their own."""

    everything: bool = False
    departments: frozenset[int] | None = None  # None: not by department at all
    persons: frozenset[int] | None = None  # None: not by person at all
    extra: models.Q | None = None

    def q(self, *, department_field: str = "department", person_field: str = "person") -> models.Q | None:
        """The condition on the objects; None for every object."""
        if self.everything:
            return None
        visible = models.Q(pk__in=[])
        if self.departments is not None:
            visible |= models.Q(**{f"{department_field}__in": sorted(self.departments)})
        if self.persons is not None:
            visible |= models.Q(**{f"{person_field}__in": sorted(self.persons)})
        if self.extra is not None:
            visible |= self.extra
        return visible

    def apply(
        self,
        queryset: models.QuerySet[M],
        *,
        department_field: str = "department",
        person_field: str = "person",
    ) -> models.QuerySet[M]:
        condition = self.q(department_field=department_field, person_field=person_field)
        return queryset if condition is None else queryset.filter(condition)


def scope_of(user: Any) -> Scope:
    """Applicants see the objects of the persons they act for (their own, or by a verified authorisation);
    department staff their departments'; intake, reconsideration and audit staff everything. Anyone else,
    administrators without a role included, sees nothing."""
    if not (user and user.is_authenticated and user.is_active):
        return Scope()
    if user.has_role(*CITY_WIDE_ROLES):
        return Scope(everything=True)
    return Scope(
        departments=frozenset(user.department_ids()) if user.has_role(*DEPARTMENT_ROLES) else None,
        persons=frozenset(persons_acted_for(user)) if user.has_role(Role.APPLICANT) else None,
    )


def scoped(
    user: Any,
    queryset: models.QuerySet[M],
    *,
    department_field: str = "department",
    person_field: str = "person",
) -> models.QuerySet[M]:
    """What this user may see of `queryset` (scope_of)."""
    return scope_of(user).apply(queryset, department_field=department_field, person_field=person_field)


def records_for(user: Any) -> models.QuerySet[CreditRecord]:
    return scoped(user, CreditRecord.objects.select_related("person", "department", "ruleset"))


# Entries of a case's log that route the staff's work (who holds a task: workspace.queue_services,
# workspace.case_services), not legal steps. They name staff members and carry their notes to each other, so
# the applicant's timeline leaves them out.
WORK_ROUTING = frozenset({"claim", "assign", "reassign", "release"})


def timeline(obj: models.Model, *, for_applicant: bool = False) -> models.QuerySet[TransitionLog]:
    entries = TransitionLog.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=obj.pk
    )
    if for_applicant:
        entries = entries.exclude(transition__in=WORK_ROUTING)
    return entries.select_related("actor").order_by("at", "id")


def deadlines_of(obj: models.Model) -> models.QuerySet[Deadline]:
    return Deadline.objects.for_object(obj).order_by("due_date", "id")


# Published rule sets and city overlays are frozen (their save() and their rules' save() refuse), so a
# process keeps each one it has read, by id, with its deadline rules. Which one is in force is asked of the
# database on every call, in one statement: a rule set published by another process, or one that takes effect
# today, counts from the next call. Only published rows are kept; a draft is never in force.
_rulesets: dict[int, RuleSet] = {}
_overlays: dict[int, CityOverlay] = {}


def _in_force_sql() -> str:
    """`RuleSet.objects.in_force(on)` and `CityOverlay.in_force(city, on)` as one statement, written out:
    built by the ORM on every filing it cost ~0.8 ms of Python, against ~0.14 ms for the whole round trip
    written out. tests/credit/test_rule_cache.py keeps its answers equal to those two."""
    q = connection.ops.quote_name
    ruleset, overlay = q(RuleSet._meta.db_table), q(CityOverlay._meta.db_table)

    def in_force(table: str) -> str:
        return (
            f"{table}.published_at IS NOT NULL AND {table}.effective_from <= %s "
            f"AND ({table}.effective_until IS NULL OR {table}.effective_until >= %s) "
            f"ORDER BY {table}.effective_from DESC, {table}.version DESC LIMIT 1"
        )

    # Only table names from the models and %s placeholders: nothing from a request is spliced in.
    return (
        f"SELECT {ruleset}.id, (SELECT {overlay}.id FROM {overlay} WHERE {overlay}.city = %s AND "  # noqa: S608
        f"{in_force(overlay)}) FROM {ruleset} WHERE {in_force(ruleset)}"
    )


def rules_in_force(on: date, city: str) -> tuple[RuleSet, CityOverlay | None]:
    """The published rule set in force on `on` (the latest start, then the highest version: as
    `RuleSet.objects.in_force`), with its deadline rules, and the city's published overlay in force then
    (as `CityOverlay.in_force`), if any. Raises RuleSet.DoesNotExist when no rule set is in force."""
    day = connection.ops.adapt_datefield_value(on)
    with connection.cursor() as cursor:
        cursor.execute(_in_force_sql(), [city, day, day, day, day])
        found = cursor.fetchone()
    if found is None:
        raise RuleSet.DoesNotExist(f"No published rule set is in force on {on.isoformat()}")
    ruleset_pk, overlay_pk = found
    ruleset = _rulesets.get(ruleset_pk)
    if ruleset is None:
        ruleset = RuleSet.objects.prefetch_related("deadline_rules").get(pk=ruleset_pk)
        if ruleset.is_published:
            _rulesets[ruleset_pk] = ruleset
    if overlay_pk is None:
        return ruleset, None
    overlay = _overlays.get(overlay_pk)
    if overlay is None:
        overlay = CityOverlay.objects.get(pk=overlay_pk)
        if overlay.published_at is not None:
            _overlays[overlay_pk] = overlay
    return ruleset, overlay


def forget_rules() -> None:
    """Drop the rule sets and overlays this process keeps. For tests: their rows are rolled back, and SQLite
    may give a later test's rule set the same id."""
    _rulesets.clear()
    _overlays.clear()
