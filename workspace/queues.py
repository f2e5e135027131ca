"""The staff queues (/staff/queue/, inbox/, team/, archive/): the human tasks of the four case flows, read
page by page with keyset pagination, never as a whole.

viewflow's stock queue page counts and serialises the whole queue on every request (46 s at 1,000,000 open
tasks, ../shared/FINDINGS.md). Here the queue, the inbox and the team list read their own table of open
tasks (workspace.models.OpenTask, kept by workspace.open_tasks in the transactions that change its sources):
one row per open task with its step, status, owner, created time, its case's department and person, and
the due date of the deadline linked to its timer.

- A page is one query. It is made of index reads (`_arms`): per step the list holds, one for each way the
  user's scope of that case type reaches cases (`credit.selectors.Scope`: every case; a department's; some
  persons'; a case type's own rule). Each read starts with equalities on an index's leading columns (the
  step, and the department or the owner) and walks it in the list's order, up to a page; the reads are
  merged and cut to a page in the same statement. Its cost follows the page, not the queue or the
  department's share of it.
- The orders: by due date (the tasks with a deadline, then those without by creation: two partial indexes)
  or by creation. The next page starts after the last row (a cursor), so no read skips or counts rows it
  does not show.
- A search by case number or person names its few cases: one read of their rows from their own index.
- The archive (finished tasks) is read from viewflow's tasks (index `viewflow_task_archive`).
- Every list is scoped like the stock pages (the flow's `scope(user)`, which its `visible(user)` applies); the
  queue holds the tasks of the nodes whose permission the user's roles grant (viewflow's `user_queue`),
  unclaimed.

Rows name the case and its state, never the person: a list is not a view of a person's records. A search by
an exact ID number is, and its view logs the access (workspace.queue_views).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache, lru_cache
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache as shared_cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from viewflow.workflow.fields import get_task_ref
from viewflow.workflow.flow.nodes import TimerBoundary
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from credit.models import Deadline, Department, User
from credit.models.people import CITY_WIDE_ROLES, DEPARTMENT_ROLES, Role
from credit.roles import ROLE_PERMISSIONS, role_permissions
from credit.selectors import is_staff_member
from credit.sla import Countdown, countdowns
from objections.flows import ComplaintFlow, ObjectionFlow, ReconsiderationFlow
from repair.flows import RepairFlow

from .models import OpenTask

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
# A row's place in its order. By due date: (0, due date, created, task id) for a task with a deadline, then
# (1, None, created, task id) for one without; by creation: (2, None, created, task id).
TIMED, UNTIMED, BY_CREATION = 0, 1, 2
Key = tuple[int, date | None, datetime, int]


def encode_cursor(key: Key) -> str:
    phase, due, created, pk = key
    head = {TIMED: f"d{due.isoformat() if due else ''}", UNTIMED: "n", BY_CREATION: "c"}[phase]
    return f"{head}_{created.isoformat()}_{pk}"


def decode_cursor(cursor: str | None) -> Key | None:
    """The key after which a page starts; None (the first page) for anything that is not a cursor."""
    parts = (cursor or "").split("_")
    if len(parts) != 3 or not parts[0] or not parts[2].isdigit():
        return None
    head, created_text, pk = parts
    phase = {"d": TIMED, "n": UNTIMED, "c": BY_CREATION}.get(head[0])
    try:
        due = date.fromisoformat(head[1:]) if phase == TIMED else None
        created = datetime.fromisoformat(created_text)
    except ValueError:
        return None
    if phase is None or (phase != TIMED and head[1:]) or timezone.is_naive(created):
        return None
    return (phase, due, created, int(pk))


# -- a page --------------------------------------------------------------------------------------------------
@dataclass
class Row:
    """A task as a list shows it: its step, its case's number, state and department, its owner, its clock."""

    task_id: int
    step: Step
    case_id: int
    number: str
    state: str
    department: str
    status: str
    owner_id: int | None
    owner: str
    created: datetime | None
    finished: datetime | None = None
    due_date: date | None = None
    deadline_status: str = ""
    countdown: Countdown | None = None

    @property
    def kind(self) -> Kind:
        return self.step.kind

    @property
    def state_label(self) -> str:
        return _state_labels(get_language()).get((self.kind.slug, self.state), self.state)

    @property
    def deadline_label(self) -> str:
        return str(Deadline.Status(self.deadline_status).label) if self.deadline_status else ""


@dataclass
class Page:
    rows: list[Row]
    next_cursor: str | None
    sort: str


@dataclass
class _Arm:
    """One index read of the open tasks: equalities on an index's leading columns (a step, and a department
    or an owner), then the rows in the index's order, each checked against the other conditions."""

    steps: tuple[Step, ...]
    conditions: list[str]  # besides the step
    params: list[Any]
    # No row it finds can be found by another read of the page: it reaches cases by their department (or
    # every case), not by a person or a case type's own rule, which may reach the same case again.
    exclusive: bool = True

    def where(self) -> tuple[list[str], list[Any]]:
        marks = ", ".join(["%s"] * len(self.steps))
        step = "o.flow_task = %s" if len(self.steps) == 1 else f"o.flow_task IN ({marks})"
        return [step, *self.conditions], [*(s.ref for s in self.steps), *self.params]


def _merged(arms: list[_Arm]) -> list[_Arm]:
    """The arms that read only the exceptions (tasks of timed steps without a due date: none, or a handful)
    merged into one read per scope, instead of one per step."""
    merged: dict[tuple[Any, ...], _Arm] = {}
    for arm in arms:
        key = (tuple(arm.conditions), tuple(arm.params), arm.exclusive)
        if key in merged:
            merged[key].steps += arm.steps
        else:
            merged[key] = _Arm(arm.steps, arm.conditions, arm.params, arm.exclusive)
    return list(merged.values())


def _value(value: Any) -> Any:
    """A parameter as the database stores it (raw SQL skips the fields' own adaptation)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    return value


def _arms(user: Any, list_name: str, chosen: Sequence[Step], filters: Filters) -> list[_Arm]:
    """The reads a list is made of: per step, one for each way the user's scope of its case type reaches
    cases (every case; a department's; some persons'; a case type's own rule), so that each starts from an
    index (`OpenTask.Meta.indexes`) and reads no more rows than it shows."""
    found = []
    for step in chosen:
        scope = step.kind.flow.instance.scope(user)
        base: list[str] = []
        params: list[Any] = []
        if list_name == QUEUE:
            base.append("o.status = %s")
            params.append(STATUS.NEW)
        elif list_name == INBOX:
            base += ["o.owner_id = %s", "o.status IN (%s, %s)"]
            params += [user.pk, STATUS.ASSIGNED, STATUS.STARTED]
        if filters.department is not None:
            base.append("o.department_id = %s")
            params.append(filters.department)
        if filters.state:
            base.append(
                f"EXISTS (SELECT 1 FROM {_q(step.kind.model._meta.db_table)} c "  # noqa: S608
                "WHERE c.id = o.case_id AND c.state = %s)"
            )
            params.append(filters.state.partition(":")[2])
        if scope.everything:
            found.append(_Arm((step,), base, params))
            continue
        for department in sorted(scope.departments or ()):
            if filters.department in (None, department):
                found.append(_Arm((step,), [*base, "o.department_id = %s"], [*params, department]))
        if scope.persons:
            marks = ", ".join(["%s"] * len(scope.persons))
            found.append(
                _Arm((step,), [*base, f"o.person_id IN ({marks})"], [*params, *sorted(scope.persons)], False)
            )
        if scope.extra is not None:
            own = step.kind.model._default_manager.filter(scope.extra).order_by().values("pk")
            sql, own_params = own.query.sql_with_params()
            found.append(_Arm((step,), [*base, f"o.case_id IN ({sql})"], [*params, *own_params], False))
    return found


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


# The orders of a list, each served by an index after the arm's equalities: (phase, columns).
_ORDERS = {
    TIMED: "o.due_date, o.created, o.task_id",
    UNTIMED: "o.created, o.task_id",
    BY_CREATION: "o.created, o.task_id",
}


def _named_cases(arms: list[_Arm], filters: Filters) -> tuple[str, list[Any]] | None:
    """The condition of a search that names its cases (a case number, a person), read from those cases'
    own index; None for a list that is not such a search. A case number is looked up first, in one query
    over the case types of the list: ("", []) when no case has it."""
    if filters.person is not None:
        return "o.person_id = %s", [filters.person]
    if not filters.number:
        return None
    kinds = {arm.steps[0].kind.slug: arm.steps[0].kind for arm in arms}.values()
    lookups: list[str] = []
    params: list[Any] = []
    for kind in kinds:
        lookups.append(f"SELECT %s, c.id FROM {_q(kind.model._meta.db_table)} c WHERE c.number = %s")  # noqa: S608
        params += [kind.content_type().pk, filters.number]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(lookups), params)
        found = cursor.fetchall()
    if not found:
        return "", []
    either = " OR ".join(["(o.case_type_id = %s AND o.case_id = %s)"] * len(found))
    return f"({either})", [value for pair in found for value in pair]


def _page_sql(
    arms: list[_Arm],
    sort: str,
    after: Key | None,
    limit: int,
    today: date,
    overdue: bool,
    narrow: tuple[str, list[Any]] | None,
) -> tuple[str, list[Any]]:
    """The SQL of a page's task ids in order, at most `limit`: each arm read in its index's order (one read
    for the tasks with a deadline and one for those without, in the due order), the reads merged. A search
    that names its cases (narrow) is one read of those few rows, from their own index."""
    phases = [BY_CREATION] if sort != "due" else [TIMED] if overdue else [TIMED, UNTIMED]
    if after is not None:
        phases = [p for p in phases if p >= after[0]] if sort == "due" else phases
    descending = sort == "-created"
    parts: list[str] = []
    params: list[Any] = []
    for phase in phases:
        checks: list[str] = []
        extra: list[Any] = []
        if phase == TIMED:
            checks.append("o.due_date IS NOT NULL")
            if overdue:
                checks.append("o.due_date < %s")
                extra.append(_value(today))
        elif phase == UNTIMED:
            checks.append("o.due_date IS NULL")
        if after is not None and after[0] == phase:
            _phase, due, created, pk = after
            if phase == TIMED:
                checks.append("(o.due_date, o.created, o.task_id) > (%s, %s, %s)")
                extra += [_value(due), _value(created), pk]
            else:
                checks.append(f"(o.created, o.task_id) {'<' if descending else '>'} (%s, %s)")
                extra += [_value(created), pk]
        order = _ORDERS[phase]
        if descending:
            order = "o.created DESC, o.task_id DESC"
        table = _q(OpenTask._meta.db_table)
        select = f"SELECT {_COLUMNS}, {phase} AS phase FROM {table} o"  # noqa: S608
        if narrow is not None:
            wheres = [arm.where() for arm in arms]
            either = " OR ".join("(" + " AND ".join(conditions) + ")" for conditions, _p in wheres)
            params += [*narrow[1], *(p for _c, arm_params in wheres for p in arm_params), *extra]
            parts.append(_read(select, [narrow[0], f"({either})", *checks], order, limit))
            continue
        reads = arms
        if phase == UNTIMED:
            # A timed step's task without a due date is an exception (its clock closed while it stays
            # open): those of all timed steps are read together, from the small index of such rows.
            reads = [a for a in arms if not a.steps[0].timed] + _merged([a for a in arms if a.steps[0].timed])
        for arm in reads:
            conditions, arm_params = arm.where()
            parts.append(_read(select, [*conditions, *checks], order, limit))
            params += [*arm_params, *extra]
    if sort == "due":
        outer = "phase, due_date, created, task_id"
    else:
        outer = "created DESC, task_id DESC" if descending else "created, task_id"
    # A case reached by two of the user's scopes (a department's, a person's) is shown once: UNION then.
    union = " UNION ALL " if all(arm.exclusive for arm in arms) else " UNION "
    return f"{union.join(parts)} ORDER BY {outer} LIMIT {limit}", params


def _read(select: str, conditions: list[str], order: str, limit: int) -> str:
    # Only names from the models, fixed SQL and placeholders are spliced in: nothing from a request.
    where = " AND ".join(conditions)
    return f"SELECT * FROM ({select} WHERE {where} ORDER BY {order} LIMIT {int(limit)}) AS a"  # noqa: S608


def page(
    user: Any,
    list_name: str,
    *,
    filters: Filters | None = None,
    sort: str = "due",
    cursor: str | None = None,
    size: int = PAGE_SIZE,
) -> Page:
    """One page of a list. `sort`: "due" (by due date, then creation; tasks without a deadline last, oldest
    first), "created" (oldest first) or "-created" (newest first); the archive is newest finished first.
    One query for the rows whatever the list, the user's scope or the filters (plus the calendar's, for
    the countdowns)."""
    filters = filters or Filters()
    size = max(1, min(size, MAX_PAGE_SIZE))
    if list_name == ARCHIVE:
        return _archive_page(user, filters, cursor, size)
    sort = sort if sort in SORTS else "due"
    if filters.overdue:
        sort = "due"  # only tasks with a deadline are overdue: they are read in due order
    after = decode_cursor(cursor)
    if after is not None and (after[0] == BY_CREATION) != (sort != "due"):
        after = None  # a cursor of another order starts at the first page
    arms = _arms(user, list_name, _selected(user, list_name, filters), filters)
    if not arms:
        return Page(rows=[], next_cursor=None, sort=sort)
    narrow = _named_cases(arms, filters)
    if narrow is not None and not narrow[0]:
        return Page(rows=[], next_cursor=None, sort=sort)  # no case has that number
    today = timezone.localdate()
    keys, params = _page_sql(arms, sort, after, size + 1, today, filters.overdue, narrow)
    rows = _read_rows(
        keys, params, sort, {arm.steps[0].kind.slug: arm.steps[0].kind for arm in arms}.values()
    )
    more = len(rows) > size
    rows = rows[:size]
    badges = countdowns([row.due_date for row in rows if row.due_date is not None], today)
    for row in rows:
        if row.due_date is not None:
            row.countdown = badges[row.due_date]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        phase = BY_CREATION if sort != "due" else TIMED if last.due_date is not None else UNTIMED
        assert last.created is not None
        next_cursor = encode_cursor((phase, last.due_date, last.created, last.task_id))
    return Page(rows=rows, next_cursor=next_cursor, sort=sort)


# What a page reads of each open task: the arms select it, so the page needs no second read of the table.
_COLUMNS = (
    "o.task_id, o.flow_task, o.status, o.owner_id, o.created, o.due_date, o.case_type_id, o.case_id, "
    "o.department_id"
)


def _read_rows(keys: str, params: list[Any], sort: str, kinds: Iterable[Kind]) -> list[Row]:
    """The page's rows with everything they show, in one query: the keys' rows with their owner's name,
    their department's and their case's number and state, each looked up by its primary key in a subquery
    per row (a join of every case table would cost PostgreSQL more to plan than to run)."""
    number, state, case_params = ["CASE page.case_type_id"], ["CASE page.case_type_id"], []
    for kind in kinds:
        table = _q(kind.model._meta.db_table)
        for column, found in (("number", number), ("state", state)):
            found.append(f"WHEN %s THEN (SELECT c.{column} FROM {table} c WHERE c.id = page.case_id)")  # noqa: S608
        case_params.append(kind.content_type().pk)
    if sort == "due":
        order = "page.phase, page.due_date, page.created, page.task_id"
    elif sort == "-created":
        order = "page.created DESC, page.task_id DESC"
    else:
        order = "page.created, page.task_id"
    sql = (
        "SELECT page.task_id, page.flow_task, page.status, page.owner_id, "  # noqa: S608
        f"(SELECT u.username FROM {_q(User._meta.db_table)} u WHERE u.id = page.owner_id), "
        "page.created, page.due_date, page.case_id, "
        f"(SELECT d.name FROM {_q(Department._meta.db_table)} d WHERE d.id = page.department_id), "
        f"{' '.join(number)} END, {' '.join(state)} END "
        f"FROM ({keys}) AS page ORDER BY {order}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*case_params, *case_params, *params])
        found = cursor.fetchall()
    rows = [
        _row(
            task_id, ref, case_id, number, state, department, status, owner_id, owner, created, None, due, ""
        )
        for task_id, ref, status, owner_id, owner, created, due, case_id, department, number, state in found
    ]
    return [row for row in rows if row is not None]


def _row(
    task_id: int,
    ref: str,
    case_id: int,
    number: str | None,
    state: str | None,
    department: str | None,
    status: str,
    owner_id: int | None,
    owner: str | None,
    created: Any,
    finished: Any,
    due: Any,
    deadline_status: str | None,
) -> Row | None:
    """A row from the columns raw SQL read (None for a task of a node no longer in its flow)."""
    step = _steps_by_ref().get(ref)
    if step is None:
        return None
    return Row(
        task_id=task_id,
        step=step,
        case_id=case_id,
        number=number or "",
        state=state or "",
        department=department or "",
        status=status,
        owner_id=owner_id,
        owner=owner or "",
        created=_aware(created),
        finished=_aware(finished),
        due_date=_date(due),
        deadline_status=deadline_status or "",
    )


def _aware(value: Any) -> datetime | None:
    """A datetime read by raw SQL as the ORM would give it (SQLite gives naive UTC, or text)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return timezone.make_aware(value, UTC) if timezone.is_naive(value) else value


def _date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


@lru_cache(maxsize=16)
def _state_labels(language: str | None) -> dict[tuple[str, str], str]:
    return {(kind.slug, value): str(label) for kind in KINDS.values() for value, label in kind.states()}


def _case_conditions(kind: Kind, user: Any, filters: Filters) -> tuple[list[str], list[Any]] | None:
    """The conditions on a case of `kind` (alias c) that put it in the user's scope and the filters, as SQL;
    [] when every case qualifies, None when none can."""
    scope = kind.flow.instance.scope(user)
    conditions: list[str] = []
    params: list[Any] = []
    if not scope.everything:
        either: list[str] = []
        if scope.departments:
            either.append(f"c.department_id IN ({', '.join(['%s'] * len(scope.departments))})")
            params += sorted(scope.departments)
        if scope.persons:
            either.append(f"c.person_id IN ({', '.join(['%s'] * len(scope.persons))})")
            params += sorted(scope.persons)
        if scope.extra is not None:
            try:
                sql, extra = (
                    kind.model._default_manager.filter(scope.extra).values("pk").query.sql_with_params()
                )
            except EmptyResultSet:
                sql = ""
            if sql:
                either.append(f"c.id IN ({sql})")
                params += list(extra)
        if not either:
            return None
        conditions.append("(" + " OR ".join(either) + ")")
    for column, value in (
        ("department_id", filters.department),
        ("state", filters.state.partition(":")[2] or None),
        ("number", filters.number or None),
        ("person_id", filters.person),
    ):
        if value is not None:
            conditions.append(f"c.{column} = %s")
            params.append(value)
    return conditions, params


def _archive_page(user: Any, filters: Filters, cursor: str | None, size: int) -> Page:
    """The user's finished tasks, most recently finished first (index `viewflow_task_archive`), with what
    they show, in one query. Each row's case is checked by its primary key (never a read of every case in
    scope); the clock shown is the deadline still linked to the task's timer, met or missed (a shared
    clock moves on to the next task)."""
    chosen = _selected(user, ARCHIVE, filters)
    if not chosen or filters.overdue:
        return Page(rows=[], next_cursor=None, sort="finished")
    either: list[str] = []
    params: list[Any] = []
    shown: list[Kind] = []
    for kind in KINDS.values():
        refs = [s.ref for s in chosen if s.kind is kind]
        found = _case_conditions(kind, user, filters) if refs else None
        if found is None:
            continue
        shown.append(kind)
        conditions, case_params = found
        part = [f"t.flow_task IN ({', '.join(['%s'] * len(refs))})", "p.artifact_content_type_id = %s"]
        if conditions:
            table = _q(kind.model._meta.db_table)
            part.append(
                f"EXISTS (SELECT 1 FROM {table} c WHERE c.id = p.artifact_object_id "  # noqa: S608
                f"AND {' AND '.join(conditions)})"
            )
        either.append("(" + " AND ".join(part) + ")")
        params += [*refs, kind.content_type().pk, *case_params]
    if not either:
        return Page(rows=[], next_cursor=None, sort="finished")
    where = ["t.owner_id = %s", "t.finished IS NOT NULL", "t.flow_task_type = %s", f"({' OR '.join(either)})"]
    params = [user.pk, "HUMAN", *params]
    after = decode_cursor(cursor)
    if after is not None and after[0] == BY_CREATION:
        where.append("(t.finished, t.id) < (%s, %s)")
        params += [_value(after[2]), after[3]]
    number, state, department, case_params = (
        ["CASE p.artifact_content_type_id"],
        ["CASE p.artifact_content_type_id"],
        ["CASE p.artifact_content_type_id"],
        [],
    )
    for kind in shown:
        table = _q(kind.model._meta.db_table)
        joined = f"{table} c JOIN {_q(Department._meta.db_table)} d ON d.id = c.department_id"
        for column, source, whens in (
            ("c.number", table + " c", number),
            ("c.state", table + " c", state),
            ("d.name", joined, department),
        ):
            whens.append(f"WHEN %s THEN (SELECT {column} FROM {source} WHERE c.id = p.artifact_object_id)")  # noqa: S608
        case_params.append(kind.content_type().pk)
    clock, clock_params = _due_of_finished("t.id")
    sql = (
        "SELECT t.id, t.flow_task, t.status, t.created, t.finished, p.artifact_object_id, "  # noqa: S608
        f"{' '.join(number)} END, {' '.join(state)} END, {' '.join(department)} END, "
        f"{clock.format(column='due_date')}, {clock.format(column='status')} "
        f"FROM {_q(Task._meta.db_table)} t JOIN {_q(Process._meta.db_table)} p ON p.id = t.process_id "
        f"WHERE {' AND '.join(where)} ORDER BY t.finished DESC, t.id DESC LIMIT {int(size) + 1}"
    )
    with connection.cursor() as cursor_:
        cursor_.execute(
            sql, [*case_params, *case_params, *case_params, *clock_params, *clock_params, *params]
        )
        found_rows = cursor_.fetchall()
    name = user.get_username()
    built: list[Row | None] = []
    for (
        task_id,
        ref,
        status,
        created,
        finished,
        case_id,
        number_,
        state_,
        dept,
        due,
        due_status,
    ) in found_rows:
        case = (case_id, number_, state_, dept)
        built.append(_row(task_id, ref, *case, status, user.pk, name, created, finished, due, due_status))
    rows = [row for row in built if row is not None]
    more = len(rows) > size
    rows = rows[:size]
    next_cursor = None
    if more and rows and rows[-1].finished is not None:
        next_cursor = encode_cursor((BY_CREATION, None, rows[-1].finished, rows[-1].task_id))
    return Page(rows=rows, next_cursor=next_cursor, sort="finished")


def _due_of_finished(task_column: str) -> tuple[str, list[Any]]:
    """A column of the latest deadline linked to the timer of the task in `task_column`, whatever its
    status (a template: format it with `column`)."""
    previous = _q(Task.previous.through._meta.db_table)
    return (
        f"(SELECT d.{{column}} FROM {_q(Deadline._meta.db_table)} d JOIN {previous} pr "  # noqa: S608
        f"ON pr.from_task_id = d.task_id WHERE pr.to_task_id = {task_column} ORDER BY d.id + 0 DESC LIMIT 1)",
        [],
    )


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


COLLEAGUES_SECONDS = 60


def colleagues(user: Any, chosen: Iterable[Step], limit: int = 200) -> list[tuple[int, str]]:
    """Staff who may be given tasks of these steps, as (id, "name (username)"): members of the roles
    granting the steps' permissions (credit.roles), in the user's departments (everyone's, for city-wide
    roles). Each task is checked again, with the law's own rules, when it is given."""
    perms = {s.perm for s in chosen if s.perm}
    roles = sorted(role for role, granted in ROLE_PERMISSIONS.items() if perms & set(granted))
    if not roles:
        return []
    city_wide = user.has_role(*CITY_WIDE_ROLES)
    departments = [] if city_wide else sorted(user.department_ids())
    # The same list for a minute (the shared cache): a page of the queue asks for it on every request. A
    # colleague who left since is refused when given a task (could_claim).
    key = f"workspace.colleagues:{user.pk}:{','.join(roles)}:{'*' if city_wide else departments}:{limit}"
    named: list[tuple[int, str]] | None = shared_cache.get(key)
    if named is not None:
        return named
    users = User.objects.filter(groups__name__in=roles, is_active=True).exclude(pk=user.pk)
    if not city_wide:
        users = users.filter(memberships__department__in=departments)
    found = users.distinct().order_by("username").values_list("pk", "username", "first_name", "last_name")
    named = []
    for pk, username, first, last in found[:limit]:
        full = f"{first} {last}".strip()
        named.append((pk, f"{full or username} ({username})"))
    shared_cache.set(key, named, COLLEAGUES_SECONDS)
    return named


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


def step_titles() -> dict[str, str]:
    """Each step's title in the current language, translated once per language and process."""
    return _step_titles(get_language())


@lru_cache(maxsize=16)
def _step_titles(language: str | None) -> dict[str, str]:
    return {s.ref: s.title for s in steps()}


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
