"""The staff queues (/staff/queue/, inbox/, team/, archive/): the human tasks of the four case flows, read
page by page with keyset pagination, never as a whole.

viewflow's stock queue page counts and serialises the whole queue on every request (46 s at 1,000,000 open
tasks, ../shared/FINDINGS.md). Here a page is a few bounded, index-ordered reads:

- A task's due date is its legal deadline's: the `Deadline` row linked (`Deadline.task`) to the boundary
  timer viewflow arms beside the task (`timer.previous` is the task). Whether a node has a clock is part of
  the flow (its `.OnTimeout`), so the tasks of timed nodes are read from the deadlines' side, in due order
  (index `deadline_queue`: the open deadlines that have a timer, per case type by due date; closed ones
  leave it, so it does not grow with history), and the tasks of nodes without a clock from the tasks'
  side, oldest first (index `viewflow_task_open`). One read per case type with timed nodes, one per
  untimed node; their rows are merged here.
- How a read finds the user's cases is chosen per page (`_scope`), not left to the planner: few cases in
  scope (a bounded count) are looked up by their ids; many are found by walking the due order and checking
  each row's case, which fills a page quickly because many rows match. Both are measured in bench/queue.py.
- The order is (due date, deadline id), then the tasks without a deadline by (created, id); the next page
  starts after the last row (a cursor), so no read skips or counts rows it does not show.
- Every list is scoped like the stock pages (credit.workflow.scoped_tasks): the flow's own `visible(user)`
  (credit.selectors.scoped, or complaints_for); the queue holds the tasks of the nodes whose permission the
  user's roles grant (viewflow's `user_queue`), unclaimed.

Rows name the case and its state, never the person: a list is not a view of a person's records. A search by
an exact ID number is, and its view logs the access (workspace.queue_views).
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache, lru_cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.db.models import Case, F, OuterRef, Q, Subquery, When
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow.nodes import TimerBoundary
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from credit.models import Deadline, Department, User
from credit.models.people import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role
from credit.roles import ROLE_PERMISSIONS, role_permissions
from credit.selectors import is_staff_member
from credit.sla import Countdown, countdowns
from objections.flows import ComplaintFlow, ObjectionFlow, ReconsiderationFlow
from repair.flows import RepairFlow

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
OPEN_DEADLINES = (Deadline.Status.PENDING, Deadline.Status.MISSED)
PAGE_SIZE = 30
MAX_PAGE_SIZE = 100

QUEUE, INBOX, TEAM, ARCHIVE = "queue", "inbox", "team", "archive"
LISTS = (QUEUE, INBOX, TEAM, ARCHIVE)
SORTS = ("due", "created", "-created")


# -- the case types and their human steps --------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    slug: str  # as in the case file's URL (workspace:case)
    flow: Any

    @property
    def model(self) -> type[models.Model]:
        return self.flow.case_model  # type: ignore[no-any-return]

    @property
    def label(self) -> Any:
        return self.flow.process_title

    def content_type(self) -> ContentType:
        return ContentType.objects.get_for_model(self.model)

    def visible(self, user: Any) -> models.QuerySet[Any]:
        """The cases of this type the user may see: the flow's rule, the same as its stock pages'."""
        return self.flow.instance.visible(user)  # type: ignore[no-any-return]

    def states(self) -> list[tuple[str, Any]]:
        return list(getattr(self.model._meta.get_field("state"), "choices", None) or [])


KINDS: dict[str, Kind] = {
    kind.slug: kind
    for kind in (
        Kind("repair", RepairFlow),
        Kind("objection", ObjectionFlow),
        Kind("reconsideration", ReconsiderationFlow),
        Kind("complaint", ComplaintFlow),
    )
}


@dataclass(frozen=True)
class Step:
    """A human node of a case flow."""

    kind: Kind
    node: Any = field(compare=False)
    ref: str
    perm: str
    timed: bool  # it has a legal clock: a boundary timer linked to a deadline
    # The case's states while the task is open: the sources of the legal steps that end it (the task is
    # created and ended in the same transactions as the case's state changes). None if not known.
    states: frozenset[str] | None = None

    @property
    def title(self) -> str:
        return str(self.node.task_title or self.node.name)


def _sources(model: type[models.Model], transitions: Iterable[str]) -> frozenset[str] | None:
    found: set[str] = set()
    for name in transitions:
        meta = getattr(getattr(model, name, None), "_django_fsm", None)
        if meta is None:
            return None
        found |= {str(source) for source in meta.transitions}
    if not found or found & {"*", "+"}:
        return None
    return frozenset(found)


@cache
def steps() -> tuple[Step, ...]:
    found = []
    for kind in KINDS.values():
        for node in kind.flow.instance.nodes():
            if node.task_type != "HUMAN":
                continue
            timed = any(isinstance(event, TimerBoundary) for event in getattr(node, "_boundary_events", []))
            states = _sources(kind.model, getattr(node, "steps", []))
            found.append(
                Step(kind, node, get_task_ref(node), str(node._owner_permission or ""), timed, states)
            )
    return tuple(sorted(found, key=lambda s: (list(KINDS).index(s.kind.slug), s.ref)))


@cache
def _steps_by_ref() -> dict[str, Step]:
    return {step.ref: step for step in steps()}


def step_of(task: Task) -> Step | None:
    if task.flow_task is None:
        return None
    return _steps_by_ref().get(get_task_ref(task.flow_task))


# Work that department staff share and a head hands out: the steps of department roles' permissions (not
# intake's forwarding nor the reconsideration office's work, which are city-wide).
_DEPARTMENT_PERMS = frozenset(p for role in DEPARTMENT_ROLES for p in ROLE_PERMISSIONS[role]) - frozenset(
    p for role in CITY_WIDE_ROLES for p in ROLE_PERMISSIONS[role]
)


def is_department_step(step: Step) -> bool:
    return step.perm in _DEPARTMENT_PERMS


def lists_for(user: Any) -> list[str]:
    """The lists a staff member has: queue, inbox and archive; the team's open work for a head."""
    if not is_staff_member(user):
        return []
    found = [QUEUE, INBOX, ARCHIVE]
    if user.has_role(Role.HEAD):
        found.insert(2, TEAM)
    return found


def steps_for(user: Any, list_name: str) -> list[Step]:
    """The steps whose tasks may appear in this user's list: in the queue and the inbox, those whose
    permission the user's roles grant (viewflow's user_queue; not is_superuser); in the team list, the
    department work; in the archive, every step."""
    if list_name not in lists_for(user):
        return []
    if list_name in (QUEUE, INBOX):
        # A task is given only to someone who may claim it, so an inbox holds these steps too.
        perms = role_permissions(user)
        return [s for s in steps() if s.perm in perms]
    if list_name == TEAM:
        return [s for s in steps() if is_department_step(s)]
    return list(steps())


# -- filters -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    kind: str = ""  # a KINDS slug
    step: str = ""  # a Step.ref
    state: str = ""  # "kind:state"
    department: int | None = None
    overdue: bool = False
    number: str = ""  # an exact case number
    person: int | None = None  # a Person id (from an exact ID number search)

    @property
    def narrow(self) -> bool:
        """A search that names its cases: the few rows are read whole, not by index order."""
        return bool(self.number) or self.person is not None


def department_choices(user: Any) -> list[Department]:
    """Departments a staff member may filter by: every one for city-wide roles, their own for the others
    (worth a filter only when there are several)."""
    if not is_staff_member(user):
        return []
    if user.has_role(*CITY_WIDE_ROLES):
        return list(Department.objects.order_by("code"))
    if len(user.department_ids()) < 2:
        return []
    return list(Department.objects.filter(pk__in=user.department_ids()).order_by("code"))


def _cases(
    kind: Kind, user: Any, filters: Filters, chosen: Sequence[Step] = ()
) -> models.QuerySet[Any] | None:
    """The cases of `kind` the user may see, narrowed by the filters; None when that is every case of the
    type (a city-wide role without a filter): then no condition on the case is written at all.

    A narrowed set also names the states the `chosen` steps' tasks are open in: redundant, but it lets the
    database start from the cases (index on department and state) when they are few, e.g. the legal
    reviews of a small department, instead of walking the deadlines in due order looking for them."""
    cases = kind.visible(user)
    narrowed = bool(cases.query.where)
    if filters.department is not None:
        cases, narrowed = cases.filter(department_id=filters.department), True
    if filters.state:
        cases, narrowed = cases.filter(state=filters.state.partition(":")[2]), True
    if filters.number:
        cases, narrowed = cases.filter(number=filters.number), True
    if filters.person is not None:
        cases, narrowed = cases.filter(person_id=filters.person), True
    if not narrowed:
        return None
    states = [step.states for step in chosen]
    if states and not filters.state and all(known is not None for known in states):
        cases = cases.filter(state__in=sorted(set().union(*(known or () for known in states))))
    return cases


def _selected(user: Any, list_name: str, filters: Filters) -> list[Step]:
    chosen = steps_for(user, list_name)
    kind = filters.kind or (filters.state.partition(":")[0] if filters.state else "")
    if kind:
        chosen = [s for s in chosen if s.kind.slug == kind]
    if filters.step:
        chosen = [s for s in chosen if s.ref == filters.step]
    if filters.state:
        # Only the steps whose tasks are open in that state can have a task in it.
        state = filters.state.partition(":")[2]
        chosen = [s for s in chosen if s.states is None or state in s.states]
    if filters.overdue:
        chosen = [s for s in chosen if s.timed]
    return chosen


# -- the cursor ----------------------------------------------------------------------------------------------
# A row's place in the order: (0, due date, deadline id) for a task with a deadline, (1, created, task id)
# for one without (after all those with one); by creation alone: (1, created, task id).
Key = tuple[int, Any, int]


def encode_cursor(key: Key) -> str:
    phase, value, pk = key
    text = value.isoformat()
    return f"{'d' if phase == 0 else 'c'}{text}_{pk}"


def decode_cursor(cursor: str | None) -> Key | None:
    """The key after which a page starts; None (the first page) for anything that is not a cursor."""
    if not cursor or cursor[0] not in "dc" or "_" not in cursor:
        return None
    text, _sep, pk = cursor[1:].rpartition("_")
    if not pk.isdigit():
        return None
    try:
        if cursor[0] == "d":
            return (0, date.fromisoformat(text), int(pk))
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if timezone.is_naive(moment):
        return None
    return (1, moment, int(pk))


# -- a page --------------------------------------------------------------------------------------------------
@dataclass
class Row:
    task: Task
    step: Step
    case: Any
    due_date: date | None = None
    deadline_status: str = ""
    countdown: Countdown | None = None

    @property
    def kind(self) -> Kind:
        return self.step.kind

    @property
    def deadline_label(self) -> str:
        return str(Deadline.Status(self.deadline_status).label) if self.deadline_status else ""


@dataclass
class Page:
    rows: list[Row]
    next_cursor: str | None
    sort: str


def _owner_filter(list_name: str, user: Any) -> dict[str, Any]:
    if list_name == QUEUE:
        return {"status": STATUS.NEW}
    if list_name == INBOX:
        return {"status__in": [STATUS.ASSIGNED, STATUS.STARTED], "owner": user}
    return {"status__in": list(OPEN)}  # TEAM


def _after_due(key: Key | None) -> Q:
    if key is None or key[0] != 0:
        return Q()
    _phase, due, pk = key
    return Q(due_date__gte=due) & (Q(due_date__gt=due) | Q(pk__gt=pk))


def _after_created(key: Key | None, *, descending: bool = False) -> Q:
    if key is None:
        return Q()
    if key[0] == 0:  # still among the tasks with a deadline: those without one all come later
        return Q()
    _phase, created, pk = key
    if descending:
        return Q(created__lte=created) & (Q(created__lt=created) | Q(pk__lt=pk))
    return Q(created__gte=created) & (Q(created__gt=created) | Q(pk__gt=pk))


# Up to this many cases in scope, a list starts from them (their department and state index) and sorts
# their tasks; with more, it walks the due order and checks each row's case, which finds a page quickly
# because then many rows match.
FEW_CASES = 5000


def _scope(cases: models.QuerySet[Any] | None, narrow: bool, few_rows: bool = False) -> tuple[str, Any]:
    """How to find the rows of the cases in scope, chosen here rather than left to the planner, whose
    guesses across these joins were measured to be wrong by orders of magnitude (a hash of a whole node's
    tasks for a page of 30):

    - ("all", None): every case of the type (a city-wide role, no filter);
    - ("search", cases): a search names a handful of cases: the planner starts from them;
    - ("few", cases): few cases (a small department's reviews): the rows are looked up by the cases' ids
      (index on department and state, then the rows' index by case), then sorted: the cost follows the
      cases in scope;
    - ("walk", cases): many: the rows are walked in the index's order, each one's case checked by a scalar
      subquery (which the planner cannot turn into a hash over every case in scope), until the page is
      full: the cost follows how rare the user's cases are among all;
    - ("none", None): no case in scope.
    Few or many: a bounded count of the cases (index `<case>_queue_scope`, at most FEW_CASES + 1 entries)."""
    if cases is None:
        return "all", None
    if narrow:
        return "search", cases
    cases = cases.order_by()  # a case type's default order would only add a sort to these reads
    if few_rows:  # the rows are few already (an inbox's): each one's case is checked
        return "walk", cases
    ids = cases.values("pk")
    sql, params = _sql_or_none(ids)
    if sql is None:
        return "none", None
    # Many cases stay many for a while: that answer is kept for a minute (per process), sparing a large
    # department's pages the bounded count. Few cases are counted again on every page.
    key = (sql, tuple(params))
    if _many.get(key, 0.0) > time.monotonic():
        return "walk", cases
    found = ids[: FEW_CASES + 1].count()  # a bounded count, not a count of the queue
    if found == 0:
        return "none", None
    if found <= FEW_CASES:
        return "few", cases
    if len(_many) > 10_000:
        _many.clear()
    _many[key] = time.monotonic() + 60
    return "walk", cases


_many: dict[tuple[str, tuple[Any, ...]], float] = {}
# The columns holding a row's case id, as the queries below name them.
_DEADLINE_CASE = '"credit_deadline"."object_id"'
_PROCESS_CASE = '"viewflow_process"."artifact_object_id"'


def _sql_or_none(queryset: models.QuerySet[Any]) -> tuple[str | None, Any]:
    try:
        return queryset.query.sql_with_params()
    except EmptyResultSet:
        return None, ()


def _in_scope(
    rows: models.QuerySet[Any], field: str, column: str, scope: tuple[str, Any]
) -> models.QuerySet[Any]:
    """Keep the rows whose case (its id in `field`, the SQL `column`) is in scope (see _scope)."""
    how, what = scope
    if how == "few" and connection.vendor == "postgresql":
        # The cases' ids as one array, computed once: the rows' index is then probed for each id; never a
        # join the planner could turn into a hash of every row.
        sql, params = what.values("pk").query.sql_with_params()
        return rows.extra(where=[f"{column} = ANY(ARRAY({sql}))"], params=list(params))  # noqa: S610
    if how in ("search", "few"):
        return rows.filter(**{f"{field}__in": what.values("pk")})
    if how == "walk":
        case = what.filter(pk=OuterRef(field)).values("pk")[:1]
        return rows.annotate(in_scope=Subquery(case)).filter(in_scope__isnull=False)
    return rows


def _owned(user: Any) -> list[int] | None:
    """The ids of the user's claimed tasks, if they are few (an inbox is read from them); else None."""
    mine = Task.objects.filter(
        owner=user, status__in=[STATUS.ASSIGNED, STATUS.STARTED], flow_task_type="HUMAN"
    ).values_list("pk", flat=True)
    found = list(mine[: FEW_CASES + 1])
    return found if len(found) <= FEW_CASES else None


def _timed_keys(
    kind: Kind,
    chosen: Sequence[Step],
    cases: models.QuerySet[Any] | None,
    host: dict[str, Any],
    owned: list[int] | None,
    filters: Filters,
    after: Key | None,
    limit: int | None,
    today: date,
) -> list[tuple[Key, int]]:
    """(key, task id) of the tasks of `chosen` (timed steps of `kind`) in due order, from their deadlines
    (index `deadline_queue`); the task is the one the deadline's timer is attached to."""
    # The open deadlines: Deadline.objects.open() (pending, or missed and not closed), written as the index's
    # condition (a pending deadline has no closed_at), so that PostgreSQL reads it from the index alone.
    deadlines = Deadline.objects.filter(
        content_type=kind.content_type(),
        status__in=OPEN_DEADLINES,
        closed_at__isnull=True,
        task__isnull=False,
    )
    if filters.overdue:
        # A deadline runs to 24:00 on its due date: overdue from the next day (credit.sla).
        deadlines = deadlines.filter(due_date__lt=today)
    deadlines = deadlines.filter(_after_due(after))
    nodes = [s.node for s in chosen]
    scope = _scope(cases, filters.narrow, few_rows=owned is not None)
    if scope[0] == "none":
        return []
    if owned is None and scope[0] == "few" and limit is not None and connection.vendor == "postgresql":
        # The few cases' deadlines sorted first (from the index alone), their tasks checked after, until
        # the page is full: not the task of every candidate.
        few = _in_scope(deadlines, "object_id", _DEADLINE_CASE, scope)
        found = _sorted_then_checked(few, nodes, host, limit)
        return [((0, due, pk), task_id) for pk, due, task_id in found]
    if owned is not None:  # the few tasks of an inbox: the database starts from them
        deadlines = deadlines.filter(task__previous__in=owned)
    tasks = Task.previous.through.objects.filter(
        from_task_id=OuterRef("task_id"),
        to_task__flow_task__in=nodes,
        to_task__flow_task_type="HUMAN",
        **{f"to_task__{name}": value for name, value in host.items()},
    ).values("to_task_id")[:1]
    deadlines = deadlines.annotate(host=Subquery(tasks)).filter(host__isnull=False)
    ordered = _in_scope(deadlines, "object_id", _DEADLINE_CASE, scope).order_by("due_date", "pk")
    rows = ordered.values_list("pk", "due_date", "host")
    if limit is not None:
        rows = rows[:limit]
    return [((0, due, pk), task_id) for pk, due, task_id in rows]


def _sorted_then_checked(
    deadlines: models.QuerySet[Deadline], nodes: list[Any], host: dict[str, Any], limit: int
) -> list[tuple[int, date, int]]:
    """(deadline id, due date, task id) of `deadlines` in due order whose timer's task is one of `nodes`'
    in the list's state (`host`), at most `limit`: the candidates are sorted in a subquery that PostgreSQL
    keeps apart (OFFSET 0), and the task of each is looked up only until `limit` are found."""
    inner, params = (
        deadlines.order_by("due_date", "pk").values("id", "due_date", "task_id").query.sql_with_params()
    )
    statuses = host.get("status__in") or [host["status"]]
    q = connection.ops.quote_name
    through, task = q(Task.previous.through._meta.db_table), q(Task._meta.db_table)
    check = [
        "p.from_task_id = s.task_id AND h.flow_task_type = 'HUMAN'",
        f"h.flow_task IN ({', '.join(['%s'] * len(nodes))})",
        f"h.status IN ({', '.join(['%s'] * len(statuses))})",
    ]
    check_params: list[Any] = [get_task_ref(node) for node in nodes] + list(statuses)
    if "owner" in host:
        check.append("h.owner_id = %s")
        check_params.append(host["owner"].pk)
    # Only table names from the models and placeholders: nothing from a request is spliced in.
    sql = (
        "SELECT t.id, t.due_date, t.host FROM ("  # noqa: S608
        f"SELECT s.id, s.due_date, (SELECT p.to_task_id FROM {through} p JOIN {task} h "
        f"ON h.id = p.to_task_id WHERE {' AND '.join(check)} LIMIT 1) AS host FROM ({inner} OFFSET 0) s"
        ") t WHERE t.host IS NOT NULL ORDER BY t.due_date, t.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*check_params, *params, limit])
        return [(pk, due, task_id) for pk, due, task_id in cursor.fetchall()]


def _untimed_keys(
    kind: Kind,
    step: Step,
    cases: models.QuerySet[Any] | None,
    host: dict[str, Any],
    owned: list[int] | None,
    filters: Filters,
    after: Key | None,
    limit: int | None,
    descending: bool = False,
) -> list[tuple[Key, int]]:
    """(key, task id) of the open tasks of one step by creation (index `viewflow_task_open`)."""
    tasks = Task.objects.filter(
        flow_task=step.node,
        flow_task_type="HUMAN",
        process__artifact_content_type=kind.content_type(),
        **host,
    )
    if owned is not None:
        tasks = tasks.filter(pk__in=owned)
    tasks = tasks.filter(_after_created(after, descending=descending))
    scope = _scope(cases, filters.narrow, owned is not None)
    if scope[0] == "none":
        return []
    tasks = _in_scope(tasks, "process__artifact_object_id", _PROCESS_CASE, scope)
    tasks = tasks.order_by("-created", "-pk") if descending else tasks.order_by("created", "pk")
    found = tasks.values_list("pk", "created")
    if limit is not None:
        found = found[:limit]
    return [((1, created, pk), pk) for pk, created in found]


def page(
    user: Any,
    list_name: str,
    *,
    filters: Filters | None = None,
    sort: str = "due",
    cursor: str | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of a list. `sort`: "due" (by due date, then id; tasks without a deadline last, oldest
    first), "created" (oldest first) or "-created" (newest first); the archive is newest finished first."""
    filters = filters or Filters()
    size = max(1, min(size, MAX_PAGE_SIZE))
    if list_name == ARCHIVE:
        return _archive_page(user, filters, cursor, size)
    sort = sort if sort in SORTS else "due"
    if filters.overdue:
        sort = "due"  # only tasks with a deadline are overdue: they are read in due order
    after = decode_cursor(cursor)
    if sort != "due" and after is not None and after[0] == 0:
        after = None
    chosen = _selected(user, list_name, filters)
    host = _owner_filter(list_name, user)
    owned = _owned(user) if list_name == INBOX else None
    today = timezone.localdate()
    # A search by case number or person names a handful of cases: read them whole and order them here
    # (an index-ordered read with such a filter would walk the whole queue looking for them).
    limit = None if filters.narrow else size + 1
    streams: list[list[tuple[Key, int]]] = []
    for kind in KINDS.values():
        of_kind = [s for s in chosen if s.kind is kind]
        if not of_kind:
            continue
        timed = [s for s in of_kind if s.timed]
        if sort == "due" and timed and (after is None or after[0] == 0):
            cases = _cases(kind, user, filters, timed)
            streams.append(_timed_keys(kind, timed, cases, host, owned, filters, after, limit, today))
        untimed = of_kind if sort != "due" else [s for s in of_kind if not s.timed]
        for step in untimed:
            cases = _cases(kind, user, filters, [step])
            streams.append(
                _untimed_keys(
                    kind, step, cases, host, owned, filters, after, limit, descending=sort == "-created"
                )
            )
    if sort == "-created":
        merged = heapq.merge(*streams, key=lambda item: (item[0][1], item[0][2]), reverse=True)
    else:
        merged = heapq.merge(*streams, key=lambda item: item[0])
    window = []
    for item in merged:  # each stream starts after the cursor already
        window.append(item)
        if len(window) > size:
            break
    more = len(window) > size
    window = window[:size]
    rows = hydrate([task_id for _key, task_id in window])
    dues = {task_id: key[1] for key, task_id in window if key[0] == 0}
    if sort != "due":
        dues = _due_dates([row.task.pk for row in rows])
    _attach_countdowns(rows, dues, today)
    next_cursor = encode_cursor(window[-1][0]) if more and window else None
    return Page(rows=rows, next_cursor=next_cursor, sort=sort)


def hydrate(task_ids: Sequence[int]) -> list[Row]:
    """The rows of these tasks in this order: the tasks with their process and owner in one query, the cases
    in one query per case type."""
    shown_tasks = (
        Task.objects.filter(pk__in=list(task_ids))
        .select_related("process", "owner")
        .only(
            "id",
            "flow_task",
            "status",
            "created",
            "finished",
            "owner__username",
            "process__artifact_content_type_id",
            "process__artifact_object_id",
        )
    )
    tasks = {t.pk: t for t in shown_tasks}
    by_type: dict[int, set[int]] = {}
    for task in tasks.values():
        by_type.setdefault(task.process.artifact_content_type_id, set()).add(task.process.artifact_object_id)
    cases: dict[tuple[int, int], Any] = {}
    for kind in KINDS.values():
        ct = kind.content_type()
        if ct.pk in by_type:
            shown = kind.model._default_manager.filter(pk__in=by_type[ct.pk]).select_related("department")
            for found in shown.only("id", "number", "state", "department__name"):
                cases[(ct.pk, found.pk)] = found
    rows = []
    for task_id in task_ids:
        task = tasks.get(task_id)
        if task is None:  # gone between the two reads
            continue
        step = step_of(task)
        if step is None:
            continue
        case = cases.get((task.process.artifact_content_type_id, task.process.artifact_object_id))
        if case is None:
            continue
        rows.append(Row(task=task, step=step, case=case))
    return rows


def _due_dates(task_ids: Iterable[int]) -> dict[int, date]:
    """The open deadline of each task (through its timer), in one query."""
    ids = list(task_ids)
    if not ids:
        return {}
    found = (
        Deadline.objects.open()
        .filter(task__previous__in=ids)
        .order_by("pk")
        .values_list("task__previous", "due_date")
    )
    return dict(found)


def _attach_countdowns(rows: list[Row], dues: dict[int, date], today: date) -> None:
    badges = countdowns(dues.values(), today)
    for row in rows:
        due = dues.get(row.task.pk)
        if due is not None:
            row.due_date = due
            row.countdown = badges[due]


def _archive_page(user: Any, filters: Filters, cursor: str | None, size: int) -> Page:
    """The user's finished tasks, most recently finished first (index `viewflow_task_archive`)."""
    chosen = _selected(user, ARCHIVE, filters)
    if not chosen or filters.overdue:
        return Page(rows=[], next_cursor=None, sort="finished")
    condition = Q(pk__in=[])
    scope = []
    for kind in KINDS.values():
        of_kind = [s.node for s in chosen if s.kind is kind]
        if not of_kind:
            continue
        ct = kind.content_type()
        condition |= Q(flow_task__in=of_kind, process__artifact_content_type=ct)
        cases = _cases(kind, user, filters)
        if cases is not None:
            # Checked row by row (the user's finished tasks, newest first): never a hash of every case.
            case = cases.order_by().filter(pk=OuterRef("process__artifact_object_id")).values("pk")[:1]
            scope.append(When(process__artifact_content_type=ct, then=Subquery(case)))
        else:
            scope.append(When(process__artifact_content_type=ct, then=F("process__artifact_object_id")))
    tasks = Task.objects.filter(condition, owner=user, finished__isnull=False, flow_task_type="HUMAN")
    tasks = tasks.annotate(in_scope=Case(*scope, output_field=models.BigIntegerField())).filter(
        in_scope__isnull=False
    )
    after = decode_cursor(cursor)
    if after is not None and after[0] == 1:
        _phase, finished, pk = after
        tasks = tasks.filter(
            Q(finished__lt=finished) | Q(finished=finished, pk__lt=pk), finished__lte=finished
        )
    found = list(tasks.order_by("-finished", "-pk").values_list("pk", "finished")[: size + 1])
    more = len(found) > size
    found = found[:size]
    rows = hydrate([pk for pk, _finished in found])
    # The clock the task ran against, if its deadline is still linked to its timer (a shared clock moves
    # on to the next task): met or missed.
    linked = (
        Deadline.objects.filter(task__previous__in=[row.task.pk for row in rows])
        .order_by("pk")
        .values_list("task__previous", "due_date", "status")
    )
    clocks = {task_id: (due, status) for task_id, due, status in linked}
    for row in rows:
        if row.task.pk in clocks:
            row.due_date, row.deadline_status = clocks[row.task.pk]
    next_cursor = encode_cursor((1, found[-1][1], found[-1][0])) if more and found else None
    return Page(rows=rows, next_cursor=next_cursor, sort="finished")


# -- who may take or give a task -----------------------------------------------------------------------------
def could_claim(user: Any, task: Task) -> bool:
    """Whether `user` could claim `task` if it were unclaimed: viewflow's owner permission and the node's
    own rule (credit.workflow.CaseTask.may_work: a staff role, and a step of the task the user may take on
    this case now, four-eyes included)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    node = task.flow_task
    if task.owner_permission and not user.has_perm(task.owner_permission):
        return False
    may_work = getattr(node, "may_work", None)
    return bool(may_work is not None and may_work(user, task))


def heads_department(user: Any, case: Any) -> bool:
    """The user is the head of the case's department (who hands out its work)."""
    return bool(user.has_role(Role.HEAD) and getattr(case, "department_id", None) in user.department_ids())


def colleagues(user: Any, chosen: Iterable[Step], limit: int = 200) -> list[User]:
    """Staff who may be given tasks of these steps: members of the roles granting the steps' permissions
    (credit.roles), in the user's departments (everyone's, for city-wide roles). Each task is checked again,
    with the law's own rules, when it is given."""
    perms = {s.perm for s in chosen if s.perm}
    roles = [role for role, granted in ROLE_PERMISSIONS.items() if perms & set(granted)]
    if not roles:
        return []
    users = User.objects.filter(groups__name__in=roles, is_active=True).exclude(pk=user.pk)
    if not user.has_role(*CITY_WIDE_ROLES):
        users = users.filter(memberships__department__in=list(user.department_ids()))
    return list(users.distinct().order_by("username")[:limit])


# The filters' choices come from the flows and the models, so they are translated once per language.
@lru_cache(maxsize=16)
def _states_choices(language: str | None) -> tuple[tuple[str, str], ...]:
    return tuple(
        (f"{kind.slug}:{value}", f"{kind.label} · {label}")
        for kind in KINDS.values()
        for value, label in kind.states()
    )


@lru_cache(maxsize=16)
def _step_labels(language: str | None) -> dict[str, str]:
    return {s.ref: f"{s.kind.label} · {s.title}" for s in steps()}


def states_choices() -> list[tuple[str, str]]:
    return list(_states_choices(get_language()))


def step_choices(user: Any, list_name: str) -> list[tuple[str, str]]:
    labels = _step_labels(get_language())
    return [(s.ref, labels[s.ref]) for s in steps_for(user, list_name)]


def kind_choices() -> list[tuple[str, str]]:
    return [(slug, str(kind.label)) for slug, kind in KINDS.items()]


LIST_TITLES = {
    QUEUE: _("Queue"),
    INBOX: _("Inbox"),
    TEAM: _("Team"),
    ARCHIVE: _("Archive"),
}
