"""The staff queues at scale: 1,000,000 open cases on PostgreSQL, each with its process, its open human task
and, for a step with a legal clock, its boundary timer and deadline. Reports the server time (p50, p95) and
the size of the first page of the queue and of filtered and searched ones (workspace.queues). Run with
`make bench` or `.venv/bin/python bench/queue.py`. It reports; it asserts nothing. Figures and their
meaning: docs/performance.md.

Seeding: one case at every human step of the four flows (13 steps) is filed and driven there through the real
services, with its flow started. Each is then copied in bulk, row for row, with new ids (INSERT ... SELECT
over generate_series): its credit record, the case, its process, the open task, and for a timed step the
timer (linked to the task) and the deadline (linked to the timer). The copies are spread over ten deciding
departments of very different sizes (30% of the cases in the largest, 1% in the smallest) and 200,000
persons; due dates run from 6 days overdue to 38 days ahead (13% overdue: missed, their timers fired).
With `--history N`, N finished tasks of closed cases are added afterwards (their timers cancelled or fired,
their deadlines closed, 5% of them missed) and everything is measured again: the lists should not notice.

Measurement: requests to the WSGI application itself (config.wsgi, as gunicorn calls it) in this process,
with a signed-in browser's cookies: the full middleware stack, CSRF enforced, sessions read from the shared
Redis cache and written through to the database, database connections kept between requests (docs/deploy.md),
templates cached, DEBUG off. "Server time" is the time the application takes to answer, without the network.
The pages take turns request by request, `--requests` rounds after a warm-up, so that a burst of load from
elsewhere on a shared machine falls on all of them alike; a /healthz floor measured among them gives the
machine's pace. Page size is the HTML's bytes, uncompressed.
With `--plans`, the query plans of the list queries are printed (EXPLAIN ANALYZE).

A fresh database `credit_repair_bench_queue` is created (dropped first) and left for inspection;
`--reuse` measures it again without seeding. Seeding uses one connection and asks PostgreSQL for no
parallel workers (one core). Targets (issue #8): p95 <= 25 ms and <= 100 KB per page.
"""

from __future__ import annotations

import argparse
import base64
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this file's directory comes first on the path, and this file would stand in for the
# standard library's `queue` (which asgiref imports): the project's root goes there instead.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.seeding import copy_rows, recreate_database  # noqa: E402  (the project on the path first)

DB_NAME = "credit_repair_bench_queue"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
CACHE_URL = "redis://127.0.0.1:6379/12"
P95_TARGET_MS = 25.0
SIZE_TARGET_KB = 100.0
# Cases per step (1,000,000 in all at --cases 1000000): the shape of a city's backlog.
SHARES = {
    "repair.examine": 250,
    "repair.decide": 200,
    "repair.legal_review": 60,
    "repair.review": 30,
    "objection.register": 60,
    "objection.acceptance": 80,
    "objection.verify": 120,
    "objection.legal_review": 40,
    "objection.review": 20,
    "reconsideration.acceptance": 30,
    "reconsideration.decide": 50,
    "reconsideration.review": 20,
    "complaint.reply": 40,
}
# Percent of the cases in each of the ten deciding departments.
DEPARTMENT_WEIGHTS = [30, 20, 12, 10, 8, 7, 5, 4, 3, 1]
PERSONS = 200_000
OVERDUE_DAYS, AHEAD_DAYS = 6, 38


# -- the templates: one case at every human step, through the real services ----------------------------------
@dataclass
class World:
    departments: list[Any]
    users: dict[str, Any]
    person: Any
    templates: dict[str, Any]  # step name -> case


def build_world() -> World:
    from django.db import transaction

    from credit.models import Department
    from credit.models.people import Role
    from credit.services.transitions import perform_transition
    from objections.complaint_services import file_complaint
    from objections.complaint_services import start_work as start_complaint
    from objections.reconsideration_services import file_reconsideration
    from objections.reconsideration_services import start_work as start_reconsideration
    from objections.services import file_objection
    from objections.services import start_work as start_objection
    from repair.services import file_repair
    from repair.services import start_work as start_repair
    from tests.factories import DepartmentFactory, PersonFactory, UserFactory, make_record, resident_id

    departments = [
        DepartmentFactory(code=f"bench-d{i}", name=f"示范市第{i}局", letter_prefix=f"示{i}")
        for i in range(10)
    ]
    DepartmentFactory(code="platform", name="公共信用信息中心", kind=Department.Kind.PLATFORM)
    office = DepartmentFactory(
        code="recon-office", name="行政复议办公室", kind=Department.Kind.RECONSIDERATION
    )
    users: dict[str, Any] = {}
    for i, department in enumerate(departments):
        for role in (Role.OFFICER, Role.REVIEWER, Role.HEAD):
            users[f"{role}-d{i}"] = UserFactory(username=f"{role}-d{i}", role=role, department=department)
    users["intake"] = UserFactory(username="intake", role=Role.INTAKE)
    users["recon"] = UserFactory(username="recon", role=Role.RECONSIDERATION, department=office)
    users["recon2"] = UserFactory(username="recon2", role=Role.RECONSIDERATION, department=office)
    users["auditor"] = UserFactory(username="auditor", role=Role.AUDITOR)
    applicant = UserFactory(username="applicant", role=Role.APPLICANT)
    person = PersonFactory(name="张伟", id_number=resident_id(1), user=applicant)
    officer, reviewer, intake, recon = (
        users["officer-d0"],
        users["reviewer-d0"],
        users["intake"],
        users["recon"],
    )
    counter = iter(range(1, 1000))

    def record() -> Any:
        n = next(counter)
        from datetime import date

        return make_record(
            person=person,
            department=departments[0],
            decision_date=date(2026, 3 + n % 4, 1 + n % 27),
            number=f"T-{n}",
        )

    def take(case: Any, name: str, actor: Any, **payload: Any) -> Any:
        return perform_transition(case, name, actor=actor, payload=payload or None)

    def repair() -> Any:
        with transaction.atomic():
            case = file_repair(record=record(), actor=applicant, statement="已整改", commitment_accepted=True)
        start_repair(case.pk)
        return case

    def objection() -> Any:
        with transaction.atomic():
            case = file_objection(
                actor=applicant, grounds=["record_wrong"], statement="有误", record=record()
            )
        start_objection(case.pk)
        return case

    def reconsideration() -> Any:
        refused = take(repair(), "accept", officer)
        refused = take(refused, "draft_decision", officer, outcome="refuse", reasons=["仍未缴清"])
        refused = take(refused, "approve_decision", reviewer)
        with transaction.atomic():
            case = file_reconsideration(
                actor=applicant, request="撤销", statement="理由", repair_case=refused
            )
        start_reconsideration(case.pk)
        return case

    t: dict[str, Any] = {"repair.examine": repair()}
    t["repair.decide"] = take(repair(), "accept", officer)
    t["repair.legal_review"] = take(
        take(repair(), "accept", officer), "draft_decision", officer, outcome="refuse", reasons=["x"]
    )
    t["repair.review"] = take(repair(), "propose_non_acceptance", officer, reasons=["非本机关"])
    t["objection.register"] = objection()
    t["objection.acceptance"] = take(objection(), "forward", intake)
    t["objection.verify"] = take(take(objection(), "forward", intake), "accept", officer)
    t["objection.legal_review"] = take(
        take(take(objection(), "forward", intake), "accept", officer),
        "draft_decision",
        officer,
        outcome="not_founded",
        reasons=["一致"],
    )
    t["objection.review"] = take(
        take(objection(), "forward", intake), "propose_non_acceptance", officer, reasons=["y"]
    )
    t["reconsideration.acceptance"] = reconsideration()
    t["reconsideration.decide"] = take(reconsideration(), "accept", recon, simplified=False)
    t["reconsideration.review"] = take(
        take(reconsideration(), "accept", recon, simplified=False),
        "draft",
        recon,
        decision="uphold",
        findings="事实清楚",
        reasons=["维持"],
    )
    with transaction.atomic():
        complaint = file_complaint(
            actor=applicant, about="handling", statement="无人联系", case=t["repair.examine"]
        )
    start_complaint(complaint.pk)
    t["complaint.reply"] = complaint
    return World(departments=departments, users=users, person=person, templates=t)


def open_task(case: Any) -> tuple[Any, Any, Any]:
    """The case's open human task, its timer (or None) and the deadline linked to the timer (or None)."""
    from viewflow.workflow.models import Task
    from viewflow.workflow.status import STATUS

    from credit.models import Deadline
    from workspace.queues import KINDS

    kind = next(k for k in KINDS.values() if k.model is type(case))
    host = Task.objects.get(
        process__flow_class=kind.flow,
        process__artifact_object_id=case.pk,
        flow_task_type="HUMAN",
        status__in=[STATUS.NEW, STATUS.ASSIGNED],
    )
    timer = Task.objects.filter(previous=host, flow_task_type="TIMER").first()
    deadline = Deadline.objects.filter(task=timer).first() if timer is not None else None
    return host, timer, deadline


def seed(world: World, cases: int) -> float:
    """Copy the templates to `cases` open cases in all; returns the seconds it took."""
    from django.db import connection, transaction
    from django.utils import timezone

    began = time.perf_counter()
    today = timezone.localdate()
    total = sum(SHARES.values())
    ids = [d.pk for d in world.departments]
    weighted = [ids[i] for i, weight in enumerate(DEPARTMENT_WEIGHTS) for _ in range(weight)]
    # Department and due date drawn from two independent hashes of the copy's number: no department is
    # bunched at some due dates (as any two linear spreads of g would do).
    departments = f"ARRAY[{', '.join(map(str, weighted))}]"
    # Due dates from OVERDUE_DAYS before today to AHEAD_DAYS after, spread over the copies.
    span = OVERDUE_DAYS + AHEAD_DAYS + 1
    due_of = f"(DATE '{today.isoformat()}' + (mod(abs(hashtext('due{{}}:' || g)), {span}) - {OVERDUE_DAYS}))"
    created = "(now() - mod(g * 13, 40) * interval '1 day' - mod(g, 86400) * interval '1 second')"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute("SET LOCAL synchronous_commit = off")
        persons = copy_rows(
            cursor,
            "credit_person",
            world.person.pk,
            PERSONS,
            {
                "id_hash": "md5('bench-a' || g) || md5('bench-b' || g)",
                "id_masked": "'3702**********' || lpad(mod(g, 10000)::text, 4, '0')",
                "user_id": "NULL",
                "name": "'申请人' || g",
            },
        )
        repair_bases: list[int] = []
        # Deadlines of all steps take turns in the id order (as deadlines filed day by day do): a tie on the
        # due date is not a run of one step's deadlines.
        cursor.execute("SELECT coalesce(max(id), 0) FROM credit_deadline")
        deadline_base = cursor.fetchone()[0]
        for index, (step, share) in enumerate(SHARES.items()):
            department = f"({departments})[1 + mod(abs(hashtext('department{index}:' || g)), 100)]"
            due = due_of.format(index)
            overdue = f"({due} < DATE '{today.isoformat()}')"
            count = cases * share // total
            case = world.templates[step]
            host, timer, deadline = open_task(case)
            table = case._meta.db_table
            case_overrides = {
                "number": "t.number || '-' || g",
                "department_id": department,
                # Each step's copies go round the persons from another starting point.
                "person_id": f"({persons} + 1 + mod((g + {index * 1009}) * 7919, {PERSONS}))",
                "received_at": created,
            }
            if hasattr(case, "record_id"):
                records = copy_rows(
                    cursor,
                    "credit_creditrecord",
                    case.record_id,
                    count,
                    {
                        "number": "t.number || '-' || g",
                        "decision_number": "t.decision_number || '-' || g",
                        "department_id": department,
                        "person_id": case_overrides["person_id"],
                    },
                )
                case_overrides["record_id"] = f"{records} + g"
            if step.startswith("reconsideration."):
                # One open reconsideration per challenged decision: each names its own repair case.
                case_overrides["repair_case_id"] = f"{repair_bases[0]} + {_recon_offset(step, cases)} + g"
            copies = copy_rows(cursor, table, case.pk, count, case_overrides)
            if step == "repair.examine":
                repair_bases.append(copies)
            processes = copy_rows(
                cursor, "viewflow_process", host.process_id, count, {"artifact_object_id": f"{copies} + g"}
            )
            hosts = copy_rows(
                cursor,
                "viewflow_task",
                host.pk,
                count,
                {"process_id": f"{processes} + g", "created": created},
            )
            if timer is not None:
                timers = copy_rows(
                    cursor,
                    "viewflow_task",
                    timer.pk,
                    count,
                    {
                        "process_id": f"{processes} + g",
                        "status": f"CASE WHEN {overdue} THEN 'DONE' ELSE 'SCHEDULED' END",
                        "scheduled": f"(({due} + 1)::timestamp AT TIME ZONE 'Asia/Shanghai')",
                        "created": created,
                    },
                )
                cursor.execute(
                    "INSERT INTO viewflow_task_previous (from_task_id, to_task_id) "
                    "SELECT %s + g, %s + g FROM generate_series(1, %s) g",
                    [timers, hosts, count],
                )
                copy_rows(
                    cursor,
                    "credit_deadline",
                    deadline.pk,
                    count,
                    {
                        "id": f"{deadline_base} + {index + 1} + {len(SHARES)} * (g - 1)",
                        "object_id": f"{copies} + g",
                        "task_id": f"{timers} + g",
                        "start_date": f"({due} - 7)",
                        "due_date": due,
                        # Marked missed by the sweep, still open: the step is outstanding.
                        "status": f"CASE WHEN {overdue} THEN 'missed' ELSE 'pending' END",
                        "closed_at": "NULL",
                    },
                )
            print(f"  {step}: {count} copies ({time.perf_counter() - began:.0f} s)", flush=True)
        # The first officer's inbox: 40 tasks of his department's examinations, claimed.
        officer = world.users["officer-d0"]
        cursor.execute(
            "UPDATE viewflow_task SET status = 'ASSIGNED', owner_id = %s, assigned = now() WHERE id IN ("
            " SELECT t.id FROM viewflow_task t JOIN viewflow_process p ON p.id = t.process_id"
            " JOIN repair_repaircase c ON c.id = p.artifact_object_id"
            " WHERE t.flow_task = 'repair/flows.RepairFlow.examine' AND t.status = 'NEW'"
            " AND c.department_id = %s ORDER BY t.id DESC LIMIT 40)",
            [officer.pk, world.departments[0].pk],
        )
    # The queues' table of open tasks, as the migration fills it for an existing database: here from the
    # copied rows, which were written without the signals that keep it.
    from workspace.open_tasks import sync_all

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # the copies' statistics, as autovacuum would gather them
    written = sync_all()
    print(f"  open tasks: {written} rows ({time.perf_counter() - began:.0f} s)", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - began


def _recon_offset(step: str, cases: int) -> int:
    """Reconsiderations of each step challenge disjoint ranges of the copied repair cases."""
    total = sum(SHARES.values())
    before = 0
    for name in ("reconsideration.acceptance", "reconsideration.decide", "reconsideration.review"):
        if name == step:
            return before
        before += cases * SHARES[name] // total
    raise ValueError(step)


def seed_history(world: World, finished: int) -> float:
    """Finished tasks of closed cases, most of the first officer's department's, over the past year: the
    tasks done (and the timers cancelled), their deadlines met, 5% missed (late)."""
    from django.db import connection, transaction
    from django.utils import timezone

    began = time.perf_counter()
    today = timezone.localdate()
    case = world.templates["repair.examine"]
    host, timer, deadline = open_task(case)
    officers = [world.users[f"officer-d{i}"].pk for i in range(10)]
    owner = f"(ARRAY[{', '.join(map(str, officers))}])[1 + mod(g, 10)]"
    due = f"(DATE '{today.isoformat()}' - 8 - mod(g, 365))"
    late = "(mod(g, 20) = 0)"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        hosts = copy_rows(
            cursor,
            "viewflow_task",
            host.pk,
            finished,
            {
                "status": "'DONE'",
                "owner_id": owner,
                "created": f"({due} - 3)::timestamp AT TIME ZONE 'Asia/Shanghai'",
                "assigned": f"({due} - 2)::timestamp AT TIME ZONE 'Asia/Shanghai'",
                "started": f"({due} - 1)::timestamp AT TIME ZONE 'Asia/Shanghai'",
                "finished": f"(({due} - 1)::timestamp + interval '10 hours') AT TIME ZONE 'Asia/Shanghai'",
            },
        )
        timers = copy_rows(
            cursor,
            "viewflow_task",
            timer.pk,
            finished,
            {"status": f"CASE WHEN {late} THEN 'DONE' ELSE 'CANCELED' END", "finished": "now()"},
        )
        cursor.execute(
            "INSERT INTO viewflow_task_previous (from_task_id, to_task_id) "
            "SELECT %s + g, %s + g FROM generate_series(1, %s) g",
            [timers, hosts, finished],
        )
        copy_rows(
            cursor,
            "credit_deadline",
            deadline.pk,
            finished,
            {
                "task_id": f"{timers} + g",
                "due_date": due,
                "status": f"CASE WHEN {late} THEN 'missed' ELSE 'met' END",
                "closed_at": "now()",
            },
        )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return time.perf_counter() - began


# -- measuring -----------------------------------------------------------------------------------------------
def percentile(values: list[float], pct: int) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-pct * len(ordered) // 100))  # ceil(pct% of n)
    return ordered[rank - 1]


@dataclass
class Result:
    name: str
    rows: int
    p50: float
    p95: float
    kb: float
    queries: int


@dataclass
class Page:
    """A page to measure: who asks for it, and how."""

    name: str
    user: Any
    path: str
    params: dict[str, Any]
    method: str = "get"
    status: int = 200


class Browser:
    """One signed-in user's requests to the WSGI application itself (config.wsgi, as gunicorn calls it):
    the session and CSRF cookies a browser would send, CSRF enforced. Not Django's test client, which
    connects signal receivers on every request and keeps them until it is discarded."""

    def __init__(self, user: Any) -> None:
        from django.test import Client

        login = Client()
        login.force_login(user)
        self.cookies = {name: morsel.value for name, morsel in login.cookies.items()}

    def request(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        from urllib.parse import urlencode

        from django.test.client import RequestFactory

        from config.wsgi import application

        body = urlencode(params, doseq=True).encode() if method == "post" else b""
        environ = RequestFactory()._base_environ(
            PATH_INFO=path,
            QUERY_STRING="" if method == "post" else urlencode(params, doseq=True),
            REQUEST_METHOD=method.upper(),
            HTTP_COOKIE="; ".join(f"{name}={value}" for name, value in self.cookies.items()),
            HTTP_ACCEPT_LANGUAGE="zh-hans",
            SERVER_PORT="443",
            **{"wsgi.url_scheme": "https"},
        )
        if method == "post":
            from io import BytesIO

            environ.update(
                {
                    "CONTENT_TYPE": "application/x-www-form-urlencoded",
                    "CONTENT_LENGTH": str(len(body)),
                    "wsgi.input": BytesIO(body),
                    "HTTP_X_CSRFTOKEN": self.cookies.get("csrftoken", ""),
                    "HTTP_REFERER": "https://testserver/staff/queue/",
                }
            )
        answer: dict[str, Any] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answer["status"], answer["headers"] = int(status.split()[0]), dict(headers)
            for name, value in headers:
                if name.lower() == "set-cookie":
                    name_, _eq, cookie = value.split(";", 1)[0].strip().partition("=")
                    self.cookies[name_] = cookie

        content = b"".join(application(environ, start_response))
        return answer["status"], answer["headers"], content


def measure_all(pages: list[Page], requests: int) -> list[Result]:
    """Each page `requests` times after a warm-up, the pages taking turns request by request: a burst of
    load from elsewhere on a shared machine then falls on every page alike, not on whichever page was being
    measured at the time. Then each page once more with its queries counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    browsers = [Browser(page.user) for page in pages]
    for browser in browsers:  # the CSRF cookie, as a browser has it from the page with the form
        browser.request("get", "/staff/queue/", {})

    def ask(i: int) -> bytes:
        page = pages[i]
        status, _headers, content = browsers[i].request(page.method, page.path, page.params)
        assert status == page.status, (page.name, status)
        return content

    for _ in range(max(3, requests // 10)):
        for i in range(len(pages)):
            ask(i)
    times: list[list[float]] = [[] for _ in pages]
    for _ in range(requests):
        for i in range(len(pages)):
            began = time.perf_counter()
            ask(i)
            times[i].append((time.perf_counter() - began) * 1000)
    results = []
    for i, page in enumerate(pages):
        with CaptureQueriesContext(connection) as queries:
            content = ask(i)
        p50, p95 = statistics.median(times[i]), percentile(times[i], 95)
        print(f"  {page.name}: p50 {p50:.1f} ms, p95 {p95:.1f} ms", flush=True)
        body = content if page.method == "get" else b""
        results.append(
            Result(page.name, body.decode().count("data-task="), p50, p95, len(body) / 1024, len(queries))
        )
    return results


def search_location(world: World) -> str:
    """The list an exact ID number search leads to (its POST logs the access and signs the person)."""
    browser = Browser(world.users["officer-d0"])
    browser.request("get", "/staff/queue/", {})
    status, headers, _content = browser.request(
        "post", "/staff/queue/find-person/", {"id_number": world.person.id_number, "purpose": "enquiry"}
    )
    assert status == 302, status
    return str(headers["Location"])


def plans(world: World) -> str:
    """EXPLAIN ANALYZE of the list queries of three pages."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from workspace import queues

    out = []
    for label, user, kwargs in (
        ("officer, first page", world.users["officer-d0"], {}),
        ("reviewer of the smallest department", world.users["reviewer-d9"], {}),
        (
            "intake, overdue in one department",
            world.users["intake"],
            {"filters": queues.Filters(department=world.departments[3].pk, overdue=True)},
        ),
    ):
        with CaptureQueriesContext(connection) as captured:
            queues.page(user, queues.QUEUE, **kwargs)
        for query in captured.captured_queries:
            sql = query["sql"]
            if sql.startswith("EXPLAIN") or "workspace_opentask" not in sql:
                continue
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) {sql}")
                out.append(f"-- {label}\n" + "\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(out)


def scenarios(world: World, requests: int) -> list[Result]:
    from workspace import queues

    u = world.users
    from repair.models import RepairCase

    number = (
        RepairCase.objects.filter(department=world.departments[0], state="accepted", number__contains="-")
        .values_list("number", flat=True)
        .first()
    )
    officer = u["officer-d0"]
    cursor = None
    for _ in range(10):
        cursor = queues.page(officer, queues.QUEUE, cursor=cursor).next_cursor
    location = search_location(world)
    path, _sep, query = location.partition("?")
    from urllib.parse import unquote

    token = unquote(query.partition("=")[2])
    queue = "/staff/queue/"
    pages = [
        # The machine's pace, measured among the pages: Django's answer through the same middleware with one
        # query and no page (docs/performance.md gives each page's multiple of it).
        Page(FLOOR, officer, "/healthz", {}),
        Page("queue, officer, largest department (30%)", officer, queue, {}),
        Page("queue, officer, smallest department (1%)", u["officer-d9"], queue, {}),
        Page("queue, reviewer, smallest department", u["reviewer-d9"], queue, {}),
        Page("queue, intake (city-wide)", u["intake"], queue, {}),
        Page("queue, reconsideration office (city-wide)", u["recon"], queue, {}),
        Page(
            "filtered: intake, overdue in one department (10%)",
            u["intake"],
            queue,
            {"department": world.departments[3].pk, "overdue": "on"},
        ),
        Page(
            "filtered: recon, overdue in the smallest department",
            u["recon"],
            queue,
            {"department": world.departments[9].pk, "overdue": "on"},
        ),
        Page("filtered: officer, overdue only", officer, queue, {"overdue": "on"}),
        Page(
            "filtered: officer, objections in state accepted", officer, queue, {"state": "objection:accepted"}
        ),
        Page("officer, 11th page (cursor)", officer, queue, {"after": cursor}),
        Page("officer, oldest first", officer, queue, {"sort": "created"}),
        Page("search: case number", officer, queue, {"number": number}),
        Page("inbox, officer (40 claimed)", officer, "/staff/inbox/", {}),
        Page("team, head of the largest department", u["head-d0"], "/staff/team/", {}),
        Page("archive, officer", officer, "/staff/archive/", {}),
        Page(
            "ID search: POST (logged)",
            officer,
            "/staff/queue/find-person/",
            {"id_number": world.person.id_number, "purpose": "enquiry"},
            method="post",
            status=302,
        ),
        Page("search: exact ID number, the list", officer, path, {"person": token}),
    ]
    return measure_all(pages, requests)


FLOOR = "floor: /healthz (SELECT 1, no session, no page)"


def report(title: str, results: list[Result]) -> None:
    floor = next((r.p50 for r in results if r.name == FLOOR), 0.0) or 1.0
    print(f"\n{title}")
    print(f"{'page':56} {'rows':>5} {'p50 ms':>8} {'p95 ms':>8} {'x floor':>8} {'KB':>7} {'queries':>8}")
    for r in results:
        flag = " !" if r.p95 > P95_TARGET_MS or r.kb > SIZE_TARGET_KB else ""
        print(
            f"{r.name:56} {r.rows:>5} {r.p50:>8.1f} {r.p95:>8.1f} {r.p50 / floor:>8.1f} {r.kb:>7.1f} "
            f"{r.queries:>8}{flag}"
        )
    print(
        f"targets: p95 <= {P95_TARGET_MS:.0f} ms, <= {SIZE_TARGET_KB:.0f} KB ('!' marks a miss)", flush=True
    )


def load_world() -> World:
    """The world of a seeded database (--reuse): the templates are the cases of the seeded person."""
    from viewflow.workflow.models import Task

    from credit.models import Department, Person, User
    from workspace.queues import KINDS

    departments = list(Department.objects.filter(code__startswith="bench-d").order_by("code"))
    users = {u.username: u for u in User.objects.all()}
    person = Person.objects.get(user__username="applicant")
    templates: dict[str, Any] = {}
    for step in SHARES:
        kind_name, node_name = step.split(".")
        kind = KINDS[kind_name]
        theirs = kind.model._default_manager.filter(person=person).values("pk")
        task = Task.objects.filter(
            flow_task=getattr(kind.flow, node_name),
            status__in=["NEW", "ASSIGNED"],
            process__flow_class=kind.flow,
            process__artifact_object_id__in=theirs,
        ).first()
        assert task is not None, step
        templates[step] = kind.model._default_manager.get(pk=task.process.artifact_object_id)
    return World(departments=departments, users=users, person=person, templates=templates)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000, help="open cases in all")
    parser.add_argument("--history", type=int, default=0, help="finished tasks added, then measured again")
    parser.add_argument("--requests", type=int, default=200, help="requests timed per page")
    parser.add_argument("--reuse", action="store_true", help="measure the existing database again")
    parser.add_argument("--plans", action="store_true", help="print the list queries' plans")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    # Production settings (DEBUG off: cached templates, no query log). The keys are fixed so that --reuse
    # finds the seeded person by the same keyed hash; this database holds no real data.
    os.environ.update(
        {
            "DATABASE_URL": DATABASE_URL,
            "DEBUG": "0",
            "SECRET_KEY": "bench-queue-secret-key-not-secret-0123456789-abcdefghijklmnop",
            "ALLOWED_HOSTS": "testserver",
            "ID_ENCRYPTION_KEYS": base64.urlsafe_b64encode(b"bench-queue-fernet-key-32-bytes!").decode(),
            "ID_LOOKUP_KEY": "bench-queue-lookup-key-not-secret",
            "LETTERS_TRUST_ROOTS": "/dev/null",
            "VAR_DIR": str(var_dir),
            "CELERY_BROKER_URL": f"filesystem://{var_dir}",  # deliveries are queued, not sent
            # Production's shared cache (docs/deploy.md): sessions read from Redis, written through.
            "CACHE_URL": CACHE_URL,
            # Connections kept between requests, as docs/deploy.md sets production up.
            "DB_CONN_MAX_AGE": "60",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    if not args.reuse:
        recreate_database(DB_NAME)
    import django

    django.setup()
    from django.core.management import call_command

    import config.wsgi  # noqa: F401  (the web process's start: the WSGI app, and the collector's freeze)

    if args.reuse:
        world = load_world()
    else:
        began = time.perf_counter()
        call_command("migrate", verbosity=0, interactive=False)
        print(f"database {DB_NAME}: created and migrated in {time.perf_counter() - began:.1f} s", flush=True)
        began = time.perf_counter()
        world = build_world()
        print(f"13 template cases filed and driven in {time.perf_counter() - began:.1f} s", flush=True)
        seconds = seed(world, args.cases)
        print(f"{args.cases} open cases copied in {seconds:.0f} s", flush=True)
    results = scenarios(world, args.requests)
    report(f"{args.cases:,} open cases", results)
    if args.plans:
        print("\n" + plans(world))
    if args.history:
        seconds = seed_history(world, args.history)
        print(f"\n{args.history} finished tasks added in {seconds:.0f} s", flush=True)
        report(f"{args.cases:,} open cases, {args.history:,} finished tasks", scenarios(world, args.requests))
        if args.plans:
            print("\n" + plans(world))
    print(f"\nthe database {DB_NAME} is left for inspection; the queued deliveries are under {var_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
