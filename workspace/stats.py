"""The dashboard's figures: reads only, each one aggregate statement, whatever the number of cases.

Beside the deadline reports of `credit/reports.py` (overdue now, met and missed), the dashboard needs three
figures the kernel does not have:

- `cases_by_state`: the cases received in a period, by type, department and their state today. One
  statement: per case type a GROUP BY over its scoped queryset, joined by UNION ALL.
- `overdue_counts`: the pending deadlines past their due moment, per department and kind (the same rows as
  `credit.reports.overdue_now`, counted instead of listed). One statement over the partial index of pending
  deadlines, joined to each subject model's table as `credit.reports.outcomes` does.
- `handling_times`: for the cases decided in a period, how long each took, against its legal limit, per
  type and department: median, 90th percentile and the share within the limit (for repairs: the share
  finished within `repair.total`, 10 working days under Order 36).

Each case's limit is its rule set's, with two exceptions the data records:

- A complaint has the reply period of the city overlay in force in its department's city on the day it was
  received, when the overlay sets one (`complaint_reply_days`), as `objections.complaint_services.reply_due`
  gave it at filing; else the rule set's. A subquery per replied complaint on the few overlay rows.
- An extended case (`extended`) is compared with its limit plus the extension: a repair's `repair.extend`
  and a reconsideration's `reconsideration.extend` from its rule set (the rule the extension deadline was
  computed from); an objection's from its `objection.extend` deadline, since the head chooses the number of
  working days (a subquery by the deadlines' subject index, for the extended objections only). An extended
  objection whose extension deadline is missing (data imported without it) is compared with its plain
  limit. Extensions are in the unit of the limit they extend (working days for repairs and objections,
  calendar days for reconsiderations).

Not modelled: a limit in calendar days whose last day is a rest day runs to the next working day (as the
deadlines do); here the count of calendar days is compared with the limit's number, so a reconsideration
or complaint decided on that next working day counts as over the limit.

How the working days are counted without a loop over the cases: a **calendar table** built per request.
The period's days, plus a look-back of `LOOKBACK_DAYS` before it, are decided once in Python with
`credit.calendar.Days` (one query for the admin's overrides, the same rules as every deadline) into rows
(day, working days up to and including it, day number). The rows go into the statement as a `WITH cal(...)
AS (VALUES ...)` table (at most ~730 rows). Each case's start and end day join it twice, and the database
computes `end.w - start.w` working days (or `end.o - start.o` calendar days when the rule's unit is calendar
days) and counts the cases per (type, department, rule set, limit kind, duration). What comes back is a
histogram, a few rows per department and duration, whatever the number of cases; the median and percentile
are read from it in Python. PostgreSQL hash-joins the small calendar table; the cases are read through the
filter on their decision time. A case started before the look-back window has no calendar row: it is
counted as "longer than the window" (its duration is then above any legal limit), never dropped.

Working days between two days follow `credit.calendar.working_days_between`: the start day is not counted,
the end day is (a repair received on Friday and decided on Monday took 1 working day). A day is the local day
in Asia/Shanghai (`TruncDate` in the settings' time zone).

Percentiles are nearest-rank: the p-th percentile of n durations is the ceil(p·n)-th smallest.

Measured on PostgreSQL 15 with 1,000,000 repair cases and 300,000 objections (5% extended), ~150,000 of
them decided in the default 90 days, on a shared 2-core machine under load (so ±30%): the histogram
statement ~300 ms for an auditor and ~180 ms for a head of one department, through the partial indexes on
the decision time (`repair_decided`, …); ~520 ms and ~310 ms without them. Over a whole year ~1 s, where
the indexes no longer help. PostgreSQL's JIT compiler (on by default) started on that statement and cost
2–4 s more: on PostgreSQL the statement runs with `SET LOCAL jit = off` in its own transaction (one more
query on the page; three when a test already holds a transaction: the savepoint and its release).
`cases_by_state` ~50 ms city-wide with the indexes on `received_at` alone (~100 ms without; the queue
indexes lead with the department), ~50 ms for a head (~30 ms without: the planner then prefers the new
index). The calendar table for 456 days takes ~9 ms to build.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any, cast

from django.core.exceptions import EmptyResultSet
from django.db import connection, models, transaction
from django.db.models import Case, Count, F, OuterRef, Subquery, Value, When
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast, TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from credit.calendar import Days
from credit.models import CityOverlay, Deadline, DeadlineRule, Department
from credit.models.people import CITY_WIDE_ROLES, Role
from credit.periods import in_force_on
from credit.reports import SUBJECT_DEPARTMENTS, subject_models
from credit.selectors import scoped
from objections.complaint import Complaint, ComplaintState
from objections.complaint_services import complaints_for
from objections.models import OPEN_STATES as OPEN_OBJECTION
from objections.models import Objection, ObjectionState
from objections.reconsideration import OPEN_RECONSIDERATION, Reconsideration, ReconsiderationState
from repair.models import OPEN_STATES as OPEN_REPAIR
from repair.models import RepairCase, RepairState

# The longest period a dashboard shows, and how far before it a decided case's start may lie and still be
# counted exactly. Both bound the calendar table: at most MAX_PERIOD_DAYS + LOOKBACK_DAYS rows.
MAX_PERIOD_DAYS = 366
LOOKBACK_DAYS = 366
DEFAULT_PERIOD_DAYS = 90

# Who sees the dashboard: department heads (their departments) and the city-wide roles.
DASHBOARD_ROLES = frozenset({Role.HEAD, *CITY_WIDE_ROLES})


def may_see_dashboard(user: Any) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.has_role(*DASHBOARD_ROLES))


def dashboard_departments(user: Any) -> frozenset[int] | None:
    """The departments whose figures `user` may see: None for all (city-wide roles), else the user's own.
    Unlike `credit.reports.report_scope`, being an administrator gives nothing: the dashboard is for roles."""
    if user.has_role(*CITY_WIDE_ROLES):
        return None
    return frozenset(user.department_ids())


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both days included (local days in Asia/Shanghai)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"The period starts ({self.start}) after it ends ({self.end}).")

    @classmethod
    def last_days(cls, days: int, today: date | None = None) -> Period:
        end = today or timezone.localdate()
        return cls(end - timedelta(days=days - 1), end)

    @property
    def first_moment(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=timezone.get_default_timezone())

    @property
    def after_moment(self) -> datetime:
        """00:00 of the day after the end: the period is [first_moment, after_moment)."""
        return datetime.combine(
            self.end + timedelta(days=1), time.min, tzinfo=timezone.get_default_timezone()
        )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class CaseType:
    """A kind of case as the dashboard counts it.

    `start_field` → `end_field` is the span a legal limit governs, `limit_kind` the deadline rule (an
    expression over the case: a reconsideration under the simplified procedure has its own). `visible`
    is the scoped queryset of the cases a user may see: `credit.selectors.scoped`, or the complaints'
    own rule. `extension_kind` names the extension of an `extended` case: a rule of the rule set, or, when
    `extension_chosen`, a length chosen per case and kept only in the case's deadline of that kind.
    `own_limit` is an expression for a limit the case has instead of its rule set's (None: the rule
    set's)."""

    key: str
    label: Promise
    model: type[models.Model]
    states: type[models.TextChoices]
    open_states: tuple[str, ...]
    start_field: str
    end_field: str
    limit_kind: Callable[[], models.Expression | Value | Case]
    limit_kinds: tuple[str, ...]  # every value `limit_kind` takes
    span: Promise
    visible: Callable[[Any], models.QuerySet[Any]]
    extension_kind: str | None = None
    extension_chosen: bool = False
    own_limit: Callable[[], Combinable] | None = None

    @property
    def department_field(self) -> str:
        """The department that answers for the case (a reconsideration's office), as in the deadline
        reports, so that every figure of a department counts the same cases."""
        return SUBJECT_DEPARTMENTS[self.model._meta.label_lower]

    def state_label(self, state: str) -> str:
        try:
            return str(self.states(state).label)
        except ValueError:
            return state


def _kind(kind: str) -> Callable[[], Value]:
    return lambda: Value(kind, output_field=models.CharField())


def _complaint_reply_days() -> Combinable:
    """The period for the written reply of the city overlay in force on the day the complaint was received
    in its department's city, when the overlay sets one (None: the rule set's), as
    `objections.complaint_services.reply_due` gives it at filing. The overlays are a handful of rows."""
    overlays = CityOverlay.objects.filter(
        in_force_on(cast(Any, OuterRef("sd"))), city=OuterRef("department__city"), published_at__isnull=False
    )
    return Subquery(
        overlays.order_by("-effective_from", "-version").values("complaint_reply_days")[:1],
        output_field=models.IntegerField(),
    )


def _reconsideration_kind() -> Case:
    return Case(
        When(simplified=True, then=Value("reconsideration.decide_simplified")),
        default=Value("reconsideration.decide"),
        output_field=models.CharField(),
    )


CASE_TYPES: tuple[CaseType, ...] = (
    CaseType(
        key="repair",
        label=_("Credit repair"),
        model=RepairCase,
        states=RepairState,
        open_states=tuple(OPEN_REPAIR),
        start_field="received_at",
        end_field="decided_at",
        limit_kind=_kind("repair.total"),
        limit_kinds=("repair.total",),
        span=_("from receipt to the decision"),
        visible=lambda user: scoped(user, RepairCase.objects.all()),
        extension_kind="repair.extend",
    ),
    CaseType(
        key="objection",
        label=_("Objection"),
        model=Objection,
        states=ObjectionState,
        open_states=tuple(OPEN_OBJECTION),
        start_field="accepted_at",
        end_field="decided_at",
        limit_kind=_kind("objection.verify"),
        limit_kinds=("objection.verify",),
        span=_("from acceptance to the decision"),
        visible=lambda user: scoped(user, Objection.objects.all()),
        extension_kind="objection.extend",  # the head approves a number of working days
        extension_chosen=True,
    ),
    CaseType(
        key="reconsideration",
        label=_("Administrative reconsideration"),
        model=Reconsideration,
        states=ReconsiderationState,
        open_states=tuple(OPEN_RECONSIDERATION),
        start_field="accepted_at",
        end_field="decided_at",
        limit_kind=_reconsideration_kind,
        limit_kinds=("reconsideration.decide", "reconsideration.decide_simplified"),
        span=_("from acceptance to the decision"),
        visible=lambda user: scoped(user, Reconsideration.objects.all()),
        extension_kind="reconsideration.extend",
    ),
    CaseType(
        key="complaint",
        label=_("Complaint"),
        model=Complaint,
        states=ComplaintState,
        open_states=(ComplaintState.SUBMITTED,),
        start_field="received_at",
        end_field="replied_at",
        limit_kind=_kind("complaint.reply"),
        limit_kinds=("complaint.reply",),
        span=_("from receipt to the written reply"),
        visible=complaints_for,
        own_limit=_complaint_reply_days,
    ),
)
CASE_TYPE = {case_type.key: case_type for case_type in CASE_TYPES}


def _in_departments(case_type: CaseType, queryset: models.QuerySet[Any], departments: Collection[int] | None):  # type: ignore[no-untyped-def]
    if departments is None:
        return queryset
    return queryset.filter(**{f"{case_type.department_field}__in": list(departments)})


# -- cases by state ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateCount:
    case_type: str
    department_id: int | None
    state: str
    count: int


def cases_by_state(user: Any, *, period: Period, departments: Collection[int] | None) -> list[StateCount]:
    """The cases `user` may see that were received in `period`, counted per type, answering department
    and state today. One statement."""
    parts = []
    for case_type in CASE_TYPES:
        queryset = _in_departments(case_type, case_type.visible(user), departments).filter(
            received_at__gte=period.first_moment, received_at__lt=period.after_moment
        )
        parts.append(
            queryset.order_by()
            .annotate(
                t=Value(case_type.key, output_field=models.CharField()),
                dep=F(f"{case_type.department_field}_id"),
            )
            .values("t", "dep", "state")
            .annotate(n=Count("pk"))
            .values_list("t", "dep", "state", "n")
        )
    first, *rest = parts
    rows = first.union(*rest, all=True) if rest else first
    return [StateCount(t, dep, state, n) for t, dep, state, n in rows]


# -- overdue now ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueCount:
    department_id: int | None
    kind: str
    count: int


def _quote_column(model: type[models.Model], name: str) -> str:
    found = model._meta.pk if name == "pk" else model._meta.get_field(name)
    assert isinstance(found, models.Field) and found.column
    return connection.ops.quote_name(found.column)


def overdue_counts(
    *, now: datetime | None = None, departments: Collection[int] | None = None
) -> list[OverdueCount]:
    """How many open deadlines are past their due moment now (`Deadline.objects.overdue`), per answering
    department and kind: the rows `credit.reports.overdue_now` lists, counted. One statement, per subject
    model a JOIN of the open, past-due deadlines (the partial indexes `deadline_pending_due` and
    `deadline_missed_open`) to the subject's table; deadlines of other models (no department) only when all
    departments are asked for."""
    from django.contrib.contenttypes.models import ContentType

    today = timezone.localdate(now or timezone.now())
    q = connection.ops.quote_name
    deadline = q(Deadline._meta.db_table)
    # Open: pending, or marked missed with the step still outstanding (credit.models.deadlines.OPEN).
    where = "(d.status = %s OR (d.status = %s AND d.closed_at IS NULL)) AND d.due_date < %s"
    base: list[Any] = [
        Deadline.Status.PENDING,
        Deadline.Status.MISSED,
        connection.ops.adapt_datefield_value(today),
    ]
    branches, params, content_type_ids = [], [], []
    for model, department_field in subject_models():
        content_type_id = ContentType.objects.get_for_model(model).pk
        content_type_ids.append(content_type_id)
        column = _quote_column(model, department_field)
        branch = (
            f"SELECT s.{column}, d.kind, COUNT(*) FROM {deadline} d "  # noqa: S608 - names from model metadata
            f"JOIN {q(model._meta.db_table)} s ON s.{_quote_column(model, 'pk')} = d.object_id "
            f"WHERE {where} AND d.content_type_id = %s"
        )
        branch_params = [*base, content_type_id]
        if departments is not None:
            placeholders = ", ".join(["%s"] * len(departments)) or "NULL"
            branch += f" AND s.{column} IN ({placeholders})"
            branch_params += list(departments)
        branches.append(f"{branch} GROUP BY s.{column}, d.kind")
        params += branch_params
    if departments is None:
        others = ", ".join(["%s"] * len(content_type_ids)) or "NULL"
        branches.append(
            f"SELECT NULL, d.kind, COUNT(*) FROM {deadline} d "  # noqa: S608
            f"WHERE {where} AND d.content_type_id NOT IN ({others}) GROUP BY d.kind"
        )
        params += [*base, *content_type_ids]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        return [OverdueCount(dep, kind, n) for dep, kind, n in cursor.fetchall()]


# -- handling time -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limit:
    kind: str
    value: int
    unit: str  # "wd" or "cd"; other units are measured in calendar days
    extension: int = 0  # an extended case's extension, in the same unit

    @property
    def in_working_days(self) -> bool:
        return self.unit == "wd"

    @property
    def allowed(self) -> int:
        return self.value + self.extension


@dataclass
class Histogram:
    """Durations of decided cases (in the unit of their limit) and how many were within their limit."""

    counts: dict[int, int] = field(default_factory=dict)
    beyond_window: int = 0  # started before the calendar table: longer than any limit
    within: int = 0
    extended: int = 0  # compared with their extended limit
    limits: set[int] = field(default_factory=set)  # the limits before any extension
    units: set[str] = field(default_factory=set)

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.beyond_window

    @property
    def share_within(self) -> float | None:
        return self.within / self.total if self.total else None

    def percentile(self, p: float) -> int | None:
        """Nearest rank: the ceil(p·n)-th smallest duration; None if there are no cases or the rank falls
        among the cases longer than the window."""
        n = self.total
        if not n:
            return None
        rank, seen = max(1, math.ceil(p * n)), 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return value
        return None

    @property
    def median(self) -> int | None:
        return self.percentile(0.5)

    @property
    def p90(self) -> int | None:
        return self.percentile(0.9)

    @property
    def unit(self) -> str:
        return "wd" if self.units == {"wd"} else "cd" if self.units else "wd"

    @property
    def limit_range(self) -> tuple[int, int] | None:
        return (min(self.limits), max(self.limits)) if self.limits else None

    def add(self, duration: int | None, count: int, limit: Limit | None) -> None:
        if duration is None:
            self.beyond_window += count
        else:
            self.counts[duration] = self.counts.get(duration, 0) + count
            if limit is not None and duration <= limit.allowed:
                self.within += count
        if limit is not None:
            self.limits.add(limit.value)
            self.units.add("wd" if limit.in_working_days else "cd")
            if limit.extension:
                self.extended += count


@dataclass
class Handling:
    """Per case type: all departments together, and each department."""

    overall: dict[str, Histogram]
    by_department: dict[tuple[str, int | None], Histogram]


def calendar_table(first: date, last: date) -> list[tuple[date, int, int]]:
    """(day, working days in [first, day], day number) for every day from `first` to `last`: one read of
    the calendar (`credit.calendar.Days`), the same decisions as every deadline's."""
    days = Days(first, last)
    rows, working = [], 0
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        working += days.decide(day)[0]
        rows.append((day, working, offset))
    return rows


def _limits(kinds: Iterable[str]) -> dict[tuple[int, str], Limit]:
    rows = DeadlineRule.objects.filter(kind__in=list(kinds)).values_list(
        "ruleset_id", "kind", "value", "unit"
    )
    return {(ruleset, kind): Limit(kind, value, unit) for ruleset, kind, value, unit in rows}


# A typed NULL: PostgreSQL cannot unite an untyped one with the other branches' numbers.
_NO_NUMBER = Cast(Value(None), output_field=models.IntegerField())


def _extended(case_type: CaseType) -> Combinable:
    if case_type.extension_kind is None:
        return Value(False, output_field=models.BooleanField())
    return F("extended")


def _extension(case_type: CaseType) -> Combinable:
    """The extension chosen for an extended case, as its extension deadline holds it; looked up only for
    the extended cases, by the deadlines' subject index. Not for an extension a rule fixes (a repair's, a
    reconsideration's): the rule set has it, and a subquery per decided case of the largest tables doubles
    the statement's estimated cost (PostgreSQL's JIT compiler then starts, for seconds)."""
    if not case_type.extension_chosen:
        return _NO_NUMBER
    from django.contrib.contenttypes.models import ContentType

    content_type = ContentType.objects.get_for_model(case_type.model)  # cached per process
    served = Deadline.objects.filter(
        content_type_id=content_type.pk, object_id=OuterRef("pk"), kind=case_type.extension_kind
    )
    return Case(
        When(extended=True, then=Subquery(served.order_by("-pk").values("value")[:1])),
        default=None,
        output_field=models.IntegerField(),
    )


def _own_limit(case_type: CaseType) -> Combinable:
    if case_type.own_limit is None:
        return _NO_NUMBER
    return case_type.own_limit()


def _limit_of(
    case_type: CaseType,
    limits: dict[tuple[int, str], Limit],
    ruleset: int,
    kind: str,
    extended: bool,
    extension: int | None,
    own: int | None,
) -> Limit | None:
    """The limit one group of cases is compared with: its rule set's, or the case's own (a city's period
    for complaints), plus the extension of an extended case: the one chosen for it, else the rule set's
    (an extended objection without its extension deadline has no known extension: its plain limit)."""
    limit = limits.get((ruleset, kind))
    if limit is None:
        return None
    if own is not None:
        limit = replace(limit, value=own)
    if extended and case_type.extension_kind is not None:
        rule = limits.get((ruleset, case_type.extension_kind))
        if extension is None and rule is not None:
            extension = rule.value
        if extension:
            limit = replace(limit, extension=extension)
    return limit


@contextmanager
def _without_jit() -> Iterator[None]:
    """On PostgreSQL, a transaction without the JIT compiler: on a large table the histogram's estimated
    cost passes the JIT thresholds, and compiling the plan then costs seconds (measured with 1,000,000
    cases: 3.7 s instead of 0.5 s for 90 days)."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield


def handling_times(user: Any, *, period: Period, departments: Collection[int] | None) -> Handling:
    """For the cases `user` may see that were decided in `period`: durations against the legal limit of
    each case (its rule set's, the city's own for a complaint, plus the extension of an extended case), per
    type and answering department. Three statements: the rules, the calendar overrides, and the histogram
    (see the module's docstring)."""
    limits = _limits(
        kind
        for case_type in CASE_TYPES
        for kind in (*case_type.limit_kinds, *filter(None, [case_type.extension_kind]))
    )
    first = period.start - timedelta(days=LOOKBACK_DAYS)
    cal = calendar_table(first, period.end)
    adapt = connection.ops.adapt_datefield_value
    values = ", ".join(["(%s, %s, %s)"] * len(cal))
    cal_params: list[Any] = [v for day, w, o in cal for v in (adapt(day), w, o)]
    branches, params = [], []
    tz = timezone.get_default_timezone()
    for case_type in CASE_TYPES:
        # The rules of this type measured in calendar days: their durations come from the day numbers.
        in_days = [
            (ruleset, kind)
            for (ruleset, kind), limit in limits.items()
            if kind in case_type.limit_kinds and not limit.in_working_days
        ]
        in_calendar_days = " OR ".join(["(c.rs = %s AND c.lk = %s)"] * len(in_days)) or "1 = 0"
        measure = (
            "CASE WHEN cs.d IS NULL OR ce.d IS NULL THEN NULL "
            f"WHEN {in_calendar_days} THEN ce.o - cs.o ELSE ce.w - cs.w END"
        )
        measure_params: list[Any] = [v for pair in in_days for v in pair]
        # First the cases per (department, rule set, limit, start day, end day), a hash aggregate over
        # the decided cases; only these few rows meet the calendar table.
        queryset = (
            _in_departments(case_type, case_type.visible(user), departments)
            .filter(
                **{
                    f"{case_type.end_field}__gte": period.first_moment,
                    f"{case_type.end_field}__lt": period.after_moment,
                    f"{case_type.start_field}__isnull": False,
                }
            )
            .order_by()
            .annotate(
                dep=F(f"{case_type.department_field}_id"),
                rs=F("ruleset_id"),
                lk=case_type.limit_kind(),
                sd=TruncDate(case_type.start_field, tzinfo=tz),
                ed=TruncDate(case_type.end_field, tzinfo=tz),
            )
            .annotate(x=_extended(case_type), ext=_extension(case_type), own=_own_limit(case_type))
            .values("dep", "rs", "lk", "sd", "ed", "x", "ext", "own")
            .annotate(n=Count("pk"))
        )
        try:
            inner, inner_params = queryset.query.sql_with_params()
        except EmptyResultSet:  # nothing to see (a head of no department): no branch
            continue
        branches.append(
            f"SELECT %s, c.dep, c.rs, c.lk, c.x, c.ext, c.own, {measure}, SUM(c.n) "  # noqa: S608
            f"FROM ({inner}) c LEFT JOIN cal cs ON cs.d = c.sd LEFT JOIN cal ce ON ce.d = c.ed "
            f"GROUP BY c.dep, c.rs, c.lk, c.x, c.ext, c.own, {measure}"
        )
        params += [case_type.key, *measure_params, *inner_params, *measure_params]
    rows: list[tuple[Any, ...]] = []
    if branches:
        sql = f"WITH cal(d, w, o) AS (VALUES {values}) " + " UNION ALL ".join(branches)
        with _without_jit(), connection.cursor() as cursor:
            cursor.execute(sql, cal_params + params)
            rows = cursor.fetchall()
    overall: dict[str, Histogram] = defaultdict(Histogram)
    by_department: dict[tuple[str, int | None], Histogram] = defaultdict(Histogram)
    for key, department, ruleset, kind, extended, extension, own, duration, total in rows:
        limit = _limit_of(CASE_TYPE[key], limits, ruleset, kind, bool(extended), extension, own)
        count = int(total)  # SUM() of a count is a decimal on PostgreSQL
        overall[key].add(duration, count, limit)
        by_department[(key, department)].add(duration, count, limit)
    return Handling(overall=dict(overall), by_department=dict(by_department))


# -- departments ---------------------------------------------------------------------------------------


def departments_for(user: Any) -> models.QuerySet[Department]:
    """The departments `user` may pick in the dashboard's filter (all for city-wide roles)."""
    scope = dashboard_departments(user)
    queryset = Department.objects.order_by("name")
    return queryset if scope is None else queryset.filter(pk__in=scope)


def names_of(departments: Sequence[Department]) -> dict[int | None, str]:
    return {department.pk: department.name for department in departments}


__all__ = [
    "CASE_TYPE",
    "CASE_TYPES",
    "Handling",
    "Histogram",
    "Limit",
    "OverdueCount",
    "Period",
    "StateCount",
    "calendar_table",
    "cases_by_state",
    "dashboard_departments",
    "departments_for",
    "handling_times",
    "may_see_dashboard",
    "overdue_counts",
]
