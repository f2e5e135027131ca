"""The auditor's reads of the transition log and the data-access log: filtered, newest first, in keyset pages,
and as CSV rows for the export. Reads only; the export's own record (AuditExport) is written by the view.

What the pages show of a person is an internal reference (`#<id>`), never a name or an ID number: reading the
logs is then not itself a view of anyone's records. The access log's page addresses are shown without their
query strings, which may carry search terms (an exact ID number searched on the API).

Pages are keyset pages over (at, id) descending: never an OFFSET, never a count. The subject's and the
case's numbers are correlated subqueries per model by primary key, evaluated only for the rows returned.
A number filter is looked up first (one statement) and filters the log on the objects found, through the
logs' indexes by object; a department filter checks each row's object by its primary key as the scan goes.
Measured on PostgreSQL with 1,000,000 rows in each log: every page below 150 ms (see credit.models.audit).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Case, Exists, OuterRef, Q, Subquery, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from credit.models import AccessLog, TransitionLog
from credit.reports import SUBJECT_DEPARTMENTS, subject_models
from credit.services.access import CASE_MODELS

PAGE_SIZE = 50
EXPORT_CHUNK = 2000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class LogCursor:
    """Where a page ended: the last row's time (as microseconds since the epoch) and id."""

    at: datetime
    id: int

    def __str__(self) -> str:
        return f"{(self.at - _EPOCH) // _MICROSECOND}-{self.id}"

    @classmethod
    def parse(cls, text: str) -> LogCursor:
        micros, _dash, pk = text.partition("-")
        try:
            return cls(_EPOCH + timedelta(microseconds=int(micros)), int(pk))
        except (ValueError, OverflowError):
            raise ValueError(_("Not a page position: %(value)r.") % {"value": text}) from None


@dataclass(frozen=True)
class Filters:
    """What the auditor asked for. Dates are local days, both included."""

    start: date
    end: date
    actor: str = ""  # a username, or a system label ("system:periods")
    number: str = ""  # a case or record number
    transition: str = ""  # transition log: the step's name
    purpose: str = ""  # access log
    action: str = ""  # access log
    person: int | None = None  # access log: the person's internal number
    department: int | None = None

    def moments(self) -> tuple[datetime, datetime]:
        tz = timezone.get_default_timezone()
        first = datetime.combine(self.start, datetime.min.time(), tzinfo=tz)
        after = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), tzinfo=tz)
        return first, after

    def as_payload(self) -> dict[str, Any]:
        """The filters as the export's record (credit.models.audit.AuditExport) stores them: the period and
        the filters given, scalars only."""
        payload: dict[str, Any] = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        for name in ("actor", "number", "transition", "purpose", "action", "person", "department"):
            value = getattr(self, name)
            if value not in ("", None):
                payload[name] = value
        return payload


def _numbers(content_type_field: str, object_id_field: str, models_: Iterable[type[models.Model]]) -> Case:
    """The `number` of the row's object among `models_` (None for any other model)."""
    whens = []
    for model in models_:
        if not any(f.name == "number" for f in model._meta.get_fields()):
            continue
        whens.append(
            When(
                **{f"{content_type_field}_id": ContentType.objects.get_for_model(model).pk},
                then=Subquery(
                    model._default_manager.filter(pk=OuterRef(object_id_field))
                    .order_by()
                    .values("number")[:1]
                ),
            )
        )
    return Case(*whens, default=None, output_field=models.CharField())


def numbered(number: str) -> list[tuple[int, int]]:
    """(content type id, primary key) of the cases and records with this number: one statement. Looked up
    first, so that the log's filter is on values its indexes serve; an OR of `IN (subquery)` is not."""
    parts = [
        model._default_manager.filter(number=number)
        .order_by()
        .annotate(ct=Value(ContentType.objects.get_for_model(model).pk, output_field=models.IntegerField()))
        .values_list("ct", "pk")
        for model in _numbered_models()
    ]
    if not parts:
        return []
    first, *rest = parts
    return [(ct, pk) for ct, pk in (first.union(*rest, all=True) if rest else first)]


def _objects(content_type_field: str, object_id_field: str, objects: Iterable[tuple[int, int]]) -> Q:
    """Rows about one of these objects, (content type id, primary key) each."""
    found = Q(pk__in=[])
    for content_type_id, pk in objects:
        found |= Q(**{f"{content_type_field}_id": content_type_id, object_id_field: pk})
    return found


def _numbered_models() -> list[type[models.Model]]:
    from django.apps import apps

    found = []
    for label in SUBJECT_DEPARTMENTS:
        try:
            found.append(apps.get_model(label))
        except LookupError:
            continue
    return found


def _in_departments(
    content_type_field: str,
    object_id_field: str,
    subjects: Iterable[tuple[type[models.Model], str]],
    departments: list[int],
) -> Q:
    """Rows about an object (among `subjects`: model and department field) of one of these departments.

    Checked row by row, by the object's primary key, as the newest-first scan of the log goes: a
    department's cases can be hundreds of thousands, too many for `IN (subquery)` (PostgreSQL then scans
    the list for every row: over 20 s at 1,000,000 log rows), and the page stops after its 51 rows."""
    found = Q(pk__in=[])
    for model, field in subjects:
        of_department = model._default_manager.filter(
            pk=OuterRef(object_id_field), **{f"{field}__in": departments}
        )
        found |= Q(**{f"{content_type_field}_id": ContentType.objects.get_for_model(model).pk}) & Q(
            Exists(of_department)
        )
    return found


def _case_models() -> list[tuple[type[models.Model], str]]:
    return [(model, SUBJECT_DEPARTMENTS.get(label, "department")) for label, model in CASE_MODELS.items()]


def _actor(field: str, label_field: str | None, actor: str) -> Q:
    found = Q(**{f"{field}__username": actor})
    if label_field is not None:  # a system actor has a label and no user
        found |= Q(**{f"{field}__isnull": True, label_field: actor})
    return found


def _after(cursor: LogCursor | None) -> Q:
    if cursor is None:
        return Q()
    return Q(at__lt=cursor.at) | Q(at=cursor.at, pk__lt=cursor.id)


# -- transition log ------------------------------------------------------------------------------------


def transitions(filters: Filters) -> models.QuerySet[TransitionLog]:
    """The transition log rows matching `filters`, newest first, with `via_number` (the case behind a
    step on a record) and the actor joined."""
    first, after = filters.moments()
    queryset = TransitionLog.objects.filter(at__gte=first, at__lt=after)
    if filters.actor:
        queryset = queryset.filter(_actor("actor", "actor_label", filters.actor))
    if filters.number:
        # Its own steps (by number, as logged), and the steps it caused on other objects (a record).
        caused = _objects("via_content_type", "via_object_id", numbered(filters.number))
        queryset = queryset.filter(Q(object_number=filters.number) | caused)
    if filters.transition:
        queryset = queryset.filter(transition=filters.transition)
    if filters.department is not None:
        queryset = queryset.filter(
            _in_departments("content_type", "object_id", subject_models(), [filters.department])
        )
    return (
        queryset.select_related("actor")
        .annotate(via_number=_numbers("via_content_type", "via_object_id", CASE_MODELS.values()))
        .order_by("-at", "-pk")
    )


# -- data-access log -----------------------------------------------------------------------------------


def accesses(filters: Filters) -> models.QuerySet[AccessLog]:
    """The data-access log rows matching `filters`, newest first, with `case_number` and the user joined."""
    first, after = filters.moments()
    queryset = AccessLog.objects.filter(at__gte=first, at__lt=after)
    if filters.actor:
        queryset = queryset.filter(_actor("user", None, filters.actor))
    if filters.number:
        queryset = queryset.filter(_objects("case_content_type", "case_object_id", numbered(filters.number)))
    if filters.purpose:
        queryset = queryset.filter(purpose=filters.purpose)
    if filters.action:
        queryset = queryset.filter(action=filters.action)
    if filters.person is not None:
        queryset = queryset.filter(person_id=filters.person)
    if filters.department is not None:
        queryset = queryset.filter(
            _in_departments("case_content_type", "case_object_id", _case_models(), [filters.department])
        )
    return (
        queryset.select_related("user")
        .annotate(case_number=_numbers("case_content_type", "case_object_id", CASE_MODELS.values()))
        .order_by("-at", "-pk")
    )


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next: LogCursor | None


def page(queryset: models.QuerySet[Any], *, after: LogCursor | None, limit: int = PAGE_SIZE) -> Page:
    rows = list(queryset.filter(_after(after))[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return Page(rows, LogCursor(last.at, last.pk) if last is not None else None)


# -- display and CSV -----------------------------------------------------------------------------------


def person_reference(person_id: int | None) -> str:
    """How the logs name a person: an internal number, not personal data."""
    return f"#{person_id}" if person_id is not None else ""


def display_name(user: Any, fallback: str = "") -> str:
    if user is None:
        return fallback
    return user.get_full_name() or user.get_username()


def model_label(content_type_id: int | None) -> str:
    if content_type_id is None:
        return ""
    model = ContentType.objects.get_for_id(content_type_id).model_class()  # cached per process
    return str(model._meta.verbose_name) if model is not None else ""


def path_only(path: str) -> str:
    """A logged page address without its query string (which may hold a searched ID number)."""
    return path.split("?", 1)[0]


# OWASP's list: a cell starting with one of these is read as a formula by spreadsheets.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text: one starting like a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def transition_csv_header() -> list[str]:
    return [
        _("time"),
        _("object type"),
        _("number"),
        _("transition"),
        _("from"),
        _("to"),
        _("actor"),
        _("actor's name"),
        _("reason"),
        _("via case"),
    ]


def transition_csv_row(row: TransitionLog) -> list[str]:
    return [
        _local(row.at),
        model_label(row.content_type_id),
        row.object_number or f"#{row.object_id}",
        row.transition,
        row.from_state,
        row.to_state,
        row.actor_label,
        display_name(row.actor, row.actor_label),
        row.reason,
        getattr(row, "via_number", "") or "",
    ]


def access_csv_header() -> list[str]:
    return [
        _("time"),
        _("user"),
        _("user's name"),
        _("action"),
        _("purpose"),
        _("note"),
        _("person"),
        _("case type"),
        _("case number"),
        _("page"),
    ]


def access_csv_row(row: AccessLog) -> list[str]:
    return [
        _local(row.at),
        row.user.get_username(),
        display_name(row.user),
        row.get_action_display(),
        row.get_purpose_display(),
        row.note,
        person_reference(row.person_id),
        model_label(row.case_content_type_id),
        getattr(row, "case_number", "") or "",
        path_only(row.path),
    ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[list[str]]) -> Iterator[str]:
    """The CSV text, line by line: a UTF-8 byte-order mark first (so that Excel reads UTF-8), every cell
    safe from formula injection."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])
