"""The open tasks as the staff queues read them (workspace.models.OpenTask), kept in step with what they copy.

A row is written in the transaction that changes its source, by one statement each time:

- viewflow saves a human task of a case flow (created, claimed, given, released, started, finished,
  cancelled): `task_saved`, from Task's post_save. viewflow changes tasks only through `save()`; the
  project's own bulk updates of tasks touch timers, never human tasks.
- a deadline is linked to a task's timer, moved (extension, recomputation) or closed: `deadlines_changed`
  (credit.signals), sent by credit's deadline services. The due date of every open task of the deadlines'
  cases is read again from the deadlines (never computed here), so a clock that moves from one task to the
  next is followed too.

Statuses and due dates are copied, never decided here. `drift()` compares the table with what it copies
(tests check it after every test that touched a task; `manage.py open_tasks --check` at any time) and
`sync_all()` repairs it with idempotent statements that are safe beside live traffic.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from viewflow.workflow.fields import get_flow_ref, get_task_ref
from viewflow.workflow.models import Process, Task
from viewflow.workflow.status import STATUS

from credit.models import Deadline

from .models import OpenTask

OPEN = (STATUS.NEW, STATUS.ASSIGNED, STATUS.STARTED)
COLUMNS = (
    "task_id",
    "flow_task",
    "status",
    "owner_id",
    "created",
    "case_type_id",
    "case_id",
    "department_id",
    "person_id",
    "due_date",
)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _case_models() -> dict[Any, type[models.Model]]:
    """The case flows (flow class -> case model): the flows the queues list."""
    from workspace.queues import KINDS

    return {kind.flow: kind.model for kind in KINDS.values()}


def task_saved(task: Task) -> None:
    """Copy a human task of a case flow: its row while it is open, none once it is not."""
    if task.flow_task_type != "HUMAN" or task.flow_task is None:
        return
    case_model = _case_models().get(task.flow_task.flow_class)
    if case_model is None:
        return
    table = _q(OpenTask._meta.db_table)
    with connection.cursor() as cursor:
        if task.status not in OPEN:
            cursor.execute(f"DELETE FROM {table} WHERE task_id = %s", [task.pk])  # noqa: S608
            return
        # The case's department and person come from its row, found through the task's process; the due
        # date stays as it is (a new task gets it when its timer is linked to its deadline).
        # Only table names from the models and placeholders: nothing from a request is spliced in.
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(COLUMNS)}) "  # noqa: S608
            "SELECT %s, %s, %s, %s, %s, %s, c.id, c.department_id, c.person_id, NULL "
            f"FROM {_q(case_model._meta.db_table)} c "
            f"WHERE c.id = (SELECT p.artifact_object_id FROM {_q(Process._meta.db_table)} p WHERE p.id = %s) "
            "ON CONFLICT (task_id) DO UPDATE SET flow_task = excluded.flow_task, status = excluded.status, "
            "owner_id = excluded.owner_id",
            [
                task.pk,
                get_task_ref(task.flow_task),
                task.status,
                task.owner_id,
                connection.ops.adapt_datetimefield_value(task.created),
                ContentType.objects.get_for_model(case_model).pk,
                task.process_id,
            ],
        )


def _due_sql(task_column: str) -> tuple[str, list[Any]]:
    """The due date of the open deadline (Deadline.objects.open()) linked to the timer of the task in
    `task_column`: the timer's `previous` is the task."""
    previous = Task.previous.through._meta.db_table
    # Only table and column names from the models, and placeholders.
    sql = (
        f"(SELECT d.due_date FROM {_q(Deadline._meta.db_table)} d "  # noqa: S608
        f"JOIN {_q(previous)} p ON p.from_task_id = d.task_id "
        f"WHERE p.to_task_id = {task_column} "
        # `d.id + 0`: the few deadlines of this timer are found from it and sorted; never the whole table
        # walked backwards by its key until one matches, which PostgreSQL chose when it believed the table
        # small (fresh statistics after a bulk load).
        "AND (d.status = %s OR (d.status = %s AND d.closed_at IS NULL)) ORDER BY d.id + 0 DESC LIMIT 1)"
    )
    return sql, [Deadline.Status.PENDING.value, Deadline.Status.MISSED.value]


def refresh_due(deadline_ids: Iterable[int]) -> None:
    """Read again the due date of every open task of the cases these deadlines belong to."""
    ids = sorted(set(deadline_ids))
    if not ids:
        return
    table = _q(OpenTask._meta.db_table)
    due, params = _due_sql(f"{table}.task_id")
    placeholders = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET due_date = {due} "  # noqa: S608
            f"WHERE (case_type_id, case_id) IN (SELECT content_type_id, object_id "
            f"FROM {_q(Deadline._meta.db_table)} WHERE id IN ({placeholders}))",
            [*params, *ids],
        )


# -- what the table copies, all of it ---------------------------------------------------------------------
def _expected(case_model: type[models.Model], flow: Any) -> tuple[str, list[Any]]:
    """The rows the table should hold for one case flow (SQL and its parameters), in COLUMNS' order: the
    open human tasks of the flow's processes joined to their case, each with its timer's due date."""
    due, due_params = _due_sql("t.id")
    # Only table names from the models, fixed SQL and placeholders.
    sql = (
        "SELECT t.id AS task_id, t.flow_task, t.status, t.owner_id, t.created, "  # noqa: S608
        f"%s AS case_type_id, c.id AS case_id, c.department_id, c.person_id, {due} AS due_date "
        f"FROM {_q(Task._meta.db_table)} t JOIN {_q(Process._meta.db_table)} p ON p.id = t.process_id "
        f"JOIN {_q(case_model._meta.db_table)} c ON c.id = p.artifact_object_id "
        f"WHERE t.flow_task_type = %s AND t.status IN ({', '.join(['%s'] * len(OPEN))}) "
        "AND p.flow_class = %s AND p.artifact_content_type_id = %s"
    )
    case_type = ContentType.objects.get_for_model(case_model).pk
    return sql, [
        case_type,
        *due_params,
        "HUMAN",
        *(status.value for status in OPEN),
        get_flow_ref(flow),
        case_type,
    ]


@dataclass
class Drift:
    """Task ids where the table and its sources disagree (a row that differs is in both lists)."""

    missing: list[int]  # open tasks without their row as it should be
    stale: list[int]  # rows that are not what an open task says

    def __bool__(self) -> bool:
        return bool(self.missing or self.stale)


def _expected_sql() -> tuple[str, list[Any]]:
    parts, params = [], []
    for i, (flow, case_model) in enumerate(_case_models().items()):
        sql, found = _expected(case_model, flow)
        parts.append(f"SELECT * FROM ({sql}) AS e{i}")  # noqa: S608  (see _expected)
        params += list(found)
    return " UNION ALL ".join(parts), params


def drift(limit: int = 100) -> Drift:
    """How the table differs from what it copies: at most `limit` task ids each way. Two set differences in
    the database (for tests after every test, and `manage.py open_tasks` at any size)."""
    expected, params = _expected_sql()
    actual = f"SELECT {', '.join(COLUMNS)} FROM {_q(OpenTask._meta.db_table)}"  # noqa: S608
    found = []
    with connection.cursor() as cursor:
        for sql in (
            f"SELECT * FROM ({expected}) AS x EXCEPT {actual}",  # noqa: S608
            f"{actual} EXCEPT SELECT * FROM ({expected}) AS x",  # noqa: S608
        ):
            cursor.execute(
                f"SELECT d.task_id FROM ({sql}) AS d ORDER BY d.task_id LIMIT {int(limit)}",  # noqa: S608
                params,
            )
            found.append([row[0] for row in cursor.fetchall()])
    return Drift(missing=found[0], stale=found[1])


@transaction.atomic
def sync_all() -> int:
    """Make the table what it copies: rows of tasks that are no longer open go, missing rows are written and
    wrong ones corrected. Idempotent; each statement locks only the rows it writes, so it runs beside live
    work. Returns the number of rows written."""
    table = _q(OpenTask._meta.db_table)
    written = 0
    # NOT EXISTS, not NOT IN: an anti-join, where NOT IN over a million ids no longer fits in memory and
    # PostgreSQL then searches the list once per row.
    marks = ", ".join(["%s"] * len(OPEN))
    distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
    columns = COLUMNS[1:]
    updates = ", ".join(f"{column} = excluded.{column}" for column in columns)
    differs = " OR ".join(f"{table}.{column} {distinct} excluded.{column}" for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE NOT EXISTS (SELECT 1 FROM {_q(Task._meta.db_table)} t "  # noqa: S608
            f"WHERE t.id = {table}.task_id AND t.flow_task_type = %s AND t.status IN ({marks}))",
            ["HUMAN", *(status.value for status in OPEN)],
        )
        for flow, case_model in _case_models().items():
            sql, params = _expected(case_model, flow)
            # SQLite reads `ON CONFLICT` after a bare SELECT's FROM as a join: the SELECT is wrapped. A row
            # already right is left alone (no new row version).
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(COLUMNS)}) SELECT * FROM ({sql}) AS expected "  # noqa: S608
                f"WHERE true ON CONFLICT (task_id) DO UPDATE SET {updates} WHERE {differs}",
                params,
            )
            written += cursor.rowcount
    return written
