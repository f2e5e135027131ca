"""Reads for the case file and the role screens (read-only; every list starts from the user's scope).

The four case types share one page, so each is described once here (`KINDS`): its model, its flow, what the
case file reads with it, and who sees it (the flow's own `visible()`: `credit.selectors.scoped`, or
`complaints_for` for complaints)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.contrib.contenttypes.prefetch import GenericPrefetch
from django.db import models
from django.db.models import Exists, F, OuterRef, Prefetch, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from credit.models import CreditRecord, Deadline, Penalty, RecordAmendment
from credit.models.people import CITY_WIDE_ROLES, Role, User
from credit.roles import may
from objections.flows import ComplaintFlow, ObjectionFlow, ReconsiderationFlow
from objections.models import Complaint, Objection, ObjectionState, Reconsideration, ReconsiderationState
from repair.flows import RepairFlow
from repair.models import CaseNote, Interview, RepairCase, RepairState

from .models import InternalNote

ACTIVE = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
PAGE_SIZE = 25


@dataclass(frozen=True)
class CaseKind:
    slug: str
    label: Any
    model: type[models.Model]
    flow: Any
    # What the case file reads with the case, so that it costs the same number of queries for any case.
    related: tuple[str, ...] = ()
    prefetch: tuple[Any, ...] = ()
    has_record: bool = True
    # The legal review: state → (approve step, return step).
    reviews: dict[str, tuple[str, str]] = field(default_factory=dict)

    def visible(self, user: Any) -> models.QuerySet[Any]:
        """The cases of this type the user may see: the flow's own rule (the same as its workflow pages)."""
        return self.flow.instance.visible(user)  # type: ignore[no-any-return]

    def content_type(self) -> ContentType:
        return ContentType.objects.get_for_model(self.model)


_RECORD = (
    "record__department",
    "record__ruleset",
)
_RECORD_PREFETCH = (
    Prefetch("record__penalties", queryset=Penalty.objects.order_by("id")),
    Prefetch(
        "record__amendments", queryset=RecordAmendment.objects.select_related("actor").order_by("at", "id")
    ),
)

KINDS: dict[str, CaseKind] = {
    "repair": CaseKind(
        slug="repair",
        label=_("Credit repair"),
        model=RepairCase,
        flow=RepairFlow,
        related=(*_RECORD, "person", "department", "overlay", "commitment", "drafted_by"),
        prefetch=(
            *_RECORD_PREFETCH,
            "evidence",
            "interviews",
            Prefetch(
                "notes", queryset=CaseNote.objects.select_related("author").order_by("created_at", "id")
            ),
        ),
        reviews={
            RepairState.DECISION_REVIEW: ("approve_decision", "return_decision"),
            RepairState.NON_ACCEPTANCE_REVIEW: ("approve_non_acceptance", "return_non_acceptance"),
        },
    ),
    "objection": CaseKind(
        slug="objection",
        label=_("Objection"),
        model=Objection,
        flow=ObjectionFlow,
        related=(*_RECORD, "person", "department", "repair_case", "drafted_by"),
        prefetch=(*_RECORD_PREFETCH, "evidence"),
        reviews={
            ObjectionState.DECISION_REVIEW: ("approve_decision", "return_decision"),
            ObjectionState.NON_ACCEPTANCE_REVIEW: ("approve_non_acceptance", "return_non_acceptance"),
        },
    ),
    "reconsideration": CaseKind(
        slug="reconsideration",
        label=_("Administrative reconsideration"),
        model=Reconsideration,
        flow=ReconsiderationFlow,
        related=(*_RECORD, "person", "department", "office", "objection", "repair_case", "drafted_by"),
        prefetch=_RECORD_PREFETCH,
        reviews={ReconsiderationState.DECISION_REVIEW: ("approve", "return_draft")},
    ),
    "complaint": CaseKind(
        slug="complaint",
        label=_("Complaint"),
        model=Complaint,
        flow=ComplaintFlow,
        related=("person", "department", "case_content_type"),
        has_record=False,
    ),
}


def kind_of(model: type[models.Model]) -> CaseKind | None:
    return next((kind for kind in KINDS.values() if kind.model is model), None)


def case_for_file(kind: CaseKind, user: Any, pk: int) -> Any:
    """The case with everything its file shows, if the user may see it (else None: the page answers 404)."""
    queryset = kind.visible(user).select_related(*kind.related).prefetch_related(*kind.prefetch)
    return queryset.filter(pk=pk).first()


def notes_of(kind: CaseKind, case: Any) -> list[Any]:
    if kind.slug == "repair":
        return list(case.notes.all())  # prefetched with their authors
    return list(
        InternalNote.objects.filter(case_content_type=kind.content_type(), case_object_id=case.pk)
        .select_related("author")
        .order_by("created_at", "id")
    )


def letters_of(kind: CaseKind, case: Any) -> list[Any]:
    from letters.models import Letter

    return list(
        Letter.objects.filter(content_type=kind.content_type(), object_id=case.pk)
        .select_related("department")
        .order_by("created_at", "id")
    )


def processes_of(kind: CaseKind, case: Any) -> list[Process]:
    """The case's processes, newest first (a case reopened after its decision was set aside has several)."""
    return list(
        Process.objects.filter(
            artifact_content_type=kind.content_type(), artifact_object_id=case.pk
        ).order_by("-pk")
    )


def open_tasks_of(kind: CaseKind, case: Any) -> list[Task]:
    return list(
        Task.objects.filter(
            process__artifact_content_type=kind.content_type(),
            process__artifact_object_id=case.pk,
            status__in=ACTIVE,
            flow_task_type="HUMAN",
        )
        .select_related("owner", "process")
        .order_by("created", "pk")
    )


# -- the decision under review -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Change:
    field: str
    label: str
    before: str
    after: str


def _shown(name: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    model_field = CreditRecord._meta.get_field(name)
    choices = dict(getattr(model_field, "flatchoices", None) or [])
    if choices:
        return str(choices.get(value, value))
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def corrections_diff(record: CreditRecord, corrections: dict[str, Any]) -> list[Change]:
    """The record's fields as they are and as the drafted correction would make them, in field order."""
    from credit.services.records import AMENDABLE_FIELDS

    changes = []
    for name in AMENDABLE_FIELDS:
        if name not in (corrections or {}):
            continue
        label = str(CreditRecord._meta.get_field(name).verbose_name)
        before, after = _shown(name, getattr(record, name)), _shown(name, corrections[name])
        changes.append(Change(name, label, before, after))
    return changes


def amendments_of(record: CreditRecord) -> list[tuple[RecordAmendment, str]]:
    """The record's corrections so far (prefetched with the case), each with its field's name."""
    names = {f.name: str(getattr(f, "verbose_name", f.name)) for f in CreditRecord._meta.get_fields()}
    return [(amendment, names.get(amendment.field, amendment.field)) for amendment in record.amendments.all()]


# -- keyset pages --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_cursor: str | None


def page_by_pk(queryset: models.QuerySet[Any], cursor: str | None, *, descending: bool = False) -> Page:
    """One page in primary-key order, and where the next starts: no OFFSET, no COUNT."""
    if cursor and cursor.isdigit():
        queryset = queryset.filter(pk__lt=int(cursor)) if descending else queryset.filter(pk__gt=int(cursor))
    rows = list(queryset.order_by("-pk" if descending else "pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, str(rows[-1].pk) if more else None)


def page_by_due(queryset: models.QuerySet[Any], cursor: str | None) -> Page:
    """One page ordered by the annotated `due` date, then primary key; the cursor is "YYYY-MM-DD.pk"."""
    if cursor:
        day, _sep, pk = cursor.partition(".")
        try:
            after = date.fromisoformat(day)
        except ValueError:
            after = None
        if after is not None and pk.isdigit():
            queryset = queryset.filter(Q(due__gt=after) | Q(due=after, pk__gt=int(pk)))
    rows = list(queryset.order_by("due", "pk")[: PAGE_SIZE + 1])
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return Page(rows, f"{rows[-1].due.isoformat()}.{rows[-1].pk}" if more else None)


def _due(kind: CaseKind, kinds: Iterable[str]) -> Subquery:
    """The due date of the case's pending deadline of `kinds` (the clock an extension would move)."""
    return Subquery(
        Deadline.objects.filter(
            content_type=kind.content_type(),
            object_id=OuterRef("pk"),
            status=Deadline.Status.PENDING,
            kind__in=list(kinds),
        )
        .order_by("due_date")
        .values("due_date")[:1]
    )


# -- the head's screens --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Extendable:
    kind: str
    state: str
    clock: tuple[str, ...]
    perm: str


# The cases a user may extend: the state `extend` leaves from, the clock it moves, the permission it needs.
EXTENDABLE = {
    "repair": Extendable("repair", RepairState.ACCEPTED, ("repair.decide",), "repair.approve_extension"),
    "objection": Extendable(
        "objection", ObjectionState.ACCEPTED, ("objection.verify",), "objections.approve_extension"
    ),
    "reconsideration": Extendable(
        "reconsideration",
        ReconsiderationState.ACCEPTED,
        ("reconsideration.decide", "reconsideration.decide_simplified"),
        "objections.decide_reconsideration",
    ),
}


def extension_kinds(user: Any) -> list[str]:
    """The case types whose extensions this user decides."""
    return [slug for slug, spec in EXTENDABLE.items() if may(user, spec.perm)]


def _in_departments(user: User, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
    """A department's head acts for their departments (credit.roles.in_scope)."""
    if user.has_role(*CITY_WIDE_ROLES):
        return queryset
    return queryset.filter(department__in=list(user.department_ids()))


def extension_candidates(user: Any, slug: str, cursor: str | None = None) -> Page:
    """Open cases whose clock this user may extend now, the nearest deadline first. An extension must be
    served before the original deadline ends, so only clocks still running today are listed."""
    spec = EXTENDABLE[slug]
    kind = KINDS[slug]
    if not may(user, spec.perm):
        return Page([], None)
    queryset = kind.visible(user).filter(state=spec.state, extended=False)
    if slug == "reconsideration":
        # The office decides, never a member of the department whose act is challenged.
        queryset = queryset.exclude(department__in=list(user.department_ids()))
    else:
        queryset = _in_departments(user, queryset)
    queryset = (
        queryset.annotate(due=_due(kind, spec.clock))
        .filter(due__gte=timezone.localdate())
        .select_related("department")
    )
    return page_by_due(queryset, cursor)


def waiver_candidates(user: Any, cursor: str | None = None) -> Page:
    """Accepted repairs whose city requires an integrity interview that has been neither held nor waived:
    the head may waive it (repair.services.waive_interview)."""
    if not may(user, "repair.approve_extension"):
        return Page([], None)
    kind = KINDS["repair"]
    held = Interview.objects.filter(case=OuterRef("pk"), status=Interview.Status.HELD)
    queryset = (
        _in_departments(user, kind.visible(user))
        .filter(
            state=RepairState.ACCEPTED, interview_waived_by__isnull=True, overlay__interview_required=True
        )
        .exclude(Exists(held))
        .annotate(due=_due(kind, ("repair.decide", "repair.extend")))
        .select_related("department")
    )
    return page_by_pk(queryset, cursor)


def _escalation_scope(user: Any) -> Q:
    """The processes whose escalations reach this user: a head's departments' repairs, objections and
    complaints; the reconsideration office's reconsiderations for its reconsideration officers
    (notifications.registry.department_role)."""
    scope = Q(pk__in=[])
    if not (user and user.is_authenticated):
        return scope
    departments = list(user.department_ids())
    for kind in KINDS.values():
        if kind.slug == "reconsideration":
            if not user.has_role(Role.RECONSIDERATION):
                continue
            cases = Reconsideration.objects.filter(office__in=departments)
        else:
            if not user.has_role(Role.HEAD):
                continue
            cases = kind.model._default_manager.filter(department__in=departments)
        scope |= Q(
            process__flow_class=kind.flow,
            process__artifact_content_type=kind.content_type(),
            process__artifact_object_id__in=cases.values("pk"),
        )
    return scope


def escalated_tasks(user: Any) -> models.QuerySet[Task]:
    """Open human tasks whose boundary timer fired and escalated (the flow's `overdue` task follows the timer
    task, which follows its host task: viewflow's `previous` links), in the user's escalation scope."""
    escalation = Task.objects.filter(
        flow_task__in=[kind.flow.overdue for kind in KINDS.values()],
        previous__previous=OuterRef("pk"),
    )
    return (
        Task.objects.filter(_escalation_scope(user), status__in=ACTIVE, flow_task_type="HUMAN")
        .filter(Exists(escalation))
        .select_related("process", "owner")
    )


def escalations(user: Any, cursor: str | None = None) -> Page:
    """A page of escalated tasks, newest first, each with its case (one query per case type) and the clock
    that ran out (one query for the page)."""
    page = page_by_pk(escalated_tasks(user), cursor, descending=True)
    attach_cases(page.rows)
    return page


def attach_cases(tasks: list[Task]) -> None:
    """Set `task.case` (with its department and office) and `task.clock` on each task, in one query per case
    type and one for the clocks. The clock is the deadline whose timer escalated the task
    (`Deadline.task` is the timer, linked by `deadline_timer`; an extension moves the link to its
    replacement, which is then the latest)."""
    processes = [task.process for task in tasks]
    lookups = [kind.model._default_manager.select_related(*_departments(kind)) for kind in KINDS.values()]
    models.prefetch_related_objects(processes, GenericPrefetch("artifact", lookups))  # type: ignore[arg-type]
    clocks: dict[int, Deadline] = {}
    if tasks:
        linked = Deadline.objects.filter(task__previous__in=[task.pk for task in tasks]).annotate(
            host=F("task__previous")
        )
        for deadline in linked.order_by("pk"):
            clocks[deadline.host] = deadline  # type: ignore[attr-defined]  # the latest wins
    for task in tasks:
        task.case = task.process.artifact  # type: ignore[attr-defined]
        task.clock = clocks.get(task.pk)  # type: ignore[attr-defined]


def _departments(kind: CaseKind) -> tuple[str, ...]:
    return ("department", "office") if kind.slug == "reconsideration" else ("department",)


def reassign_candidates(task: Task, limit: int = 200) -> list[User]:
    """Active users who hold the task's owner permission and may work it now (its steps' own permissions:
    role, department, four-eyes)."""
    permission = task.owner_permission or ""
    app_label, _sep, codename = permission.partition(".")
    users = (
        User.objects.filter(
            is_active=True,
            groups__permissions__codename=codename,
            groups__permissions__content_type__app_label=app_label,
        )
        .distinct()
        .order_by("username")[:limit]
    )
    node = task.flow_task
    return [user for user in users if node.may_work(user, task)]


# -- walk-in filing ------------------------------------------------------------------------------------------
def walk_in_targets(person_id: int) -> tuple[list[CreditRecord], list[RepairCase]]:
    """What a walk-in person can file about: their records, and their repair decisions that can be objected
    to (不予受理 / 不予修复)."""
    from objections.services import OBJECTIONABLE_DECISIONS

    records = list(
        CreditRecord.objects.filter(person_id=person_id)
        .select_related("department")
        .order_by("-decision_date", "-pk")[:200]
    )
    decisions = list(
        RepairCase.objects.filter(person_id=person_id, state__in=OBJECTIONABLE_DECISIONS)
        .select_related("record")
        .order_by("-pk")[:50]
    )
    return records, decisions
