"""Filing benchmark: repair applications filed per second over HTTP (`POST /api/v1/repairs/`), against a
floor measured in the same run (a bare POST view doing one INSERT). Run with `make bench` (or
`.venv/bin/python bench/intake.py --rounds 3 --duration 10`). It reports; it asserts nothing.

Everything is set up here: a fresh PostgreSQL database `credit_repair_bench` (dropped and created; left in
place afterwards for inspection), its migrations, one deciding department, one applicant with a verified
person, and one eligible credit record for every filing (a record with an open repair cannot be filed
again). gunicorn (sync workers) serves `bench.floor` (`config.settings` plus `POST /bench/floor/`) with
DEBUG off; wrk posts with the applicant's session and CSRF token, floor and repair rounds alternating after
a warm-up, each filing naming the next unused record.

Each round also reports the CPU a request cost in gunicorn and in PostgreSQL (read from /proc, so Linux with
the server on this machine), which depends much less than requests per second on what else the machine runs.

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust), Redis on 127.0.0.1:6379 and /usr/bin/wrk. Redis
database 14 is the broker: the letters and notifications a filing enqueues after commit are counted and
flushed, never run (the benchmark measures the web side). Figures and their meaning: docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# Run as a script, this folder comes first on the path, where bench/queue.py shadows the standard library.
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.seeding import recreate_database  # noqa: E402  (the project on the path first)

DB_NAME = "credit_repair_bench"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
BROKER_URL = "redis://127.0.0.1:6379/14"
WRK = "/usr/bin/wrk"
FLOOR_PATH = "/bench/floor/"
REPAIR_PATH = "/api/v1/repairs/"
TARGET = 1 / 3  # filing a repair: at least a third of the floor's requests per second
VIEWFLOW_START = (
    0.23  # stock viewflow's Flow.start.run() alone, against the same floor (../shared/FINDINGS.md)
)
USERNAME = "bench-applicant"
STATEMENT = "已缴清罚款，整改到位，今后守法经营。"
# Records decided under Order 36 (in force from 2026-04-01), general tier: repair may be applied for from 3
# months and a day after the decision, and they are shown for a year. Decided 100 to 300 days ago (and not
# before 2026-04-01), every one is eligible today: on 2026-11-22, decisions of 2026-04-01 to 2026-08-14.
ORDER36_FROM = date(2026, 4, 1)

LUA = r"""
-- bench/intake.py: every request POSTs the JSON body with the next record id of its thread.
-- Thread k of n takes first + k, first + k + n, first + k + 2n, ... so no id is sent twice.
local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  first = tonumber(args[1])
  nthreads = tonumber(args[2])
  template = args[6]
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  wrk.headers["Cookie"] = args[3]
  wrk.headers["X-CSRFToken"] = args[4]
  wrk.headers["Referer"] = args[5]
  n = 0
  bad = 0
  sample = ""
end

function request()
  local id = first + tid + nthreads * n
  n = n + 1
  return wrk.format(nil, nil, nil, string.format(template, id))
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad = bad + 1
    if sample == "" then
      sample = status .. " " .. string.gsub(string.sub(body or "", 1, 300), '[%c"\\]', " ")
    end
  end
end

function done(summary, latency, requests)
  -- done() runs in wrk's main Lua state: the threads' globals are read through thread:get().
  local last, bad_total, sample_any = 0, 0, ""
  for _, thread in ipairs(threads) do
    local k, count = thread:get("tid"), thread:get("n")
    local start, step = thread:get("first"), thread:get("nthreads")
    last = math.max(last, start - 1)
    if count > 0 then
      last = math.max(last, start + k + step * (count - 1))
    end
    bad_total = bad_total + thread:get("bad")
    if sample_any == "" then sample_any = thread:get("sample") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non_2xx": %d, ' ..
    '"socket_errors": %d, "last_id": %d, "sample": "%s"}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad_total,
    e.connect + e.read + e.write + e.timeout, last, sample_any))
end
"""


# -- environment, database, broker ---------------------------------------------------------------------------


def bench_env(var_dir: Path, conn_max_age: int) -> dict[str, str]:
    """The settings of the run: the same for the seeding in this process and for gunicorn (with DEBUG off
    the ID numbers are encrypted and hashed with these keys, so both sides must share them)."""
    from cryptography.fernet import Fernet

    return {
        "DJANGO_SETTINGS_MODULE": "bench.floor",
        "DATABASE_URL": DATABASE_URL,
        "DB_CONN_MAX_AGE": str(conn_max_age),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "ID_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ID_LOOKUP_KEY": secrets.token_urlsafe(32),
        "LETTERS_TRUST_ROOTS": "/dev/null",
        "SECURE_SSL_REDIRECT": "0",
        "CELERY_BROKER_URL": BROKER_URL,
        "VAR_DIR": str(var_dir),
    }


def flush_broker() -> int:
    """Empty the bench's broker database; returns the number of messages it held."""
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    queued = sum(int(client.llen(key)) for key in client.scan_iter() if client.type(key) == b"list")
    client.flushdb()
    return queued


# -- seeding -------------------------------------------------------------------------------------------------


@dataclass
class Seeded:
    password: str
    first_id: int
    last_id: int
    registered: int
    register_seconds: float
    copy_seconds: float

    @property
    def count(self) -> int:
        return self.last_id - self.first_id + 1


def seed(*, records: int, registered: int) -> Seeded:
    """One deciding department and its city's overlay, one applicant with a verified person, and `records`
    eligible records with consecutive ids: the first `registered` through `register_record` (each with its
    信用修复告知书), the rest copied from the first in bulk with their own decision numbers, dates, periods
    and record numbers, in the state `register_record` leaves them in (repair_eligible)."""
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from bench.floor import FLOOR_TABLE_SQL
    from credit.identity import IdType, check_char
    from credit.models import CityOverlay, CreditRecord, Department, Penalty, Person, User
    from credit.models.people import Role
    from credit.models.records import Domain, PenaltyKind, RecordState, RecordType
    from credit.services.records import DerivedPeriods, PenaltyInput, derive_periods, register_record

    with connection.cursor() as cursor:
        cursor.execute(FLOOR_TABLE_SQL)
    department = Department.objects.create(
        code="market",
        name="示范市市场监督管理局",
        kind=Department.Kind.DECIDING,
        city="示范市",
        letter_prefix="示市监",
    )
    overlay = CityOverlay.objects.create(
        city="示范市",
        effective_from=date(2026, 4, 1),
        interview_required=True,
        volunteer_hours_threshold=Decimal("20"),
        charity_evidence_accepted=True,
        basis="示范市个人公共信用信息纠错、修复机制（基准测试）",
    )
    CityOverlay.objects.filter(pk=overlay.pk).update(published_at=timezone.now())
    password = secrets.token_urlsafe(16)
    user = User.objects.create(username=USERNAME, email="bench-applicant@example.cn")
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=Role.APPLICANT))
    first17 = "37020219900307002"
    person = Person(
        name="张伟", user=user, verification=Person.Verification.INTAKE, verified_at=timezone.now()
    )
    person.set_id_number(IdType.RESIDENT, first17 + check_char(first17))
    person.save()

    today = timezone.localdate()
    first_decision = max(ORDER36_FROM, today - timedelta(days=300))
    days = (today - timedelta(days=100) - first_decision).days + 1
    if days < 1:
        raise RuntimeError(f"no Order 36 record decided before {today} is eligible yet")
    penalties = [PenaltyInput(kind=PenaltyKind.FINE, tier="general", amount=Decimal("2000"))]

    def decision(i: int) -> tuple[str, date]:
        decided = first_decision + timedelta(days=i % days)
        return f"示市监罚〔{decided.year}〕{10000 + i}号", decided

    began = time.perf_counter()
    made = []
    for i in range(max(1, min(registered, records))):
        number, decided = decision(i)
        made.append(
            register_record(
                person=person,
                record_type=RecordType.ADMIN_PENALTY,
                domain=Domain.FOOD_DRUG,
                department=department,
                decision_number=number,
                decision_date=decided,
                penalties=penalties,
                facts="基准测试记录：罚款已缴清。",
            )
        )
    register_seconds = time.perf_counter() - began

    began = time.perf_counter()
    template = made[0]
    periods: dict[date, DerivedPeriods] = {}
    copies = []
    for i in range(len(made), records):
        number, decided = decision(i)
        if decided not in periods:
            periods[decided] = derive_periods(
                ruleset=template.ruleset, decision_date=decided, domain=template.domain, penalties=penalties
            )
        derived = periods[decided]
        copies.append(
            CreditRecord(
                person=person,
                record_type=template.record_type,
                domain=template.domain,
                department=department,
                decision_number=number,
                decision_date=decided,
                facts=template.facts,
                visibility=template.visibility,
                ruleset=template.ruleset,
                tier=derived.tier,
                repairable=derived.repairable,
                repair_from=derived.repair_from,
                display_until=derived.display_until,
                repair_needs_duty_fulfilled=derived.needs_duty_fulfilled,
                state=RecordState.REPAIR_ELIGIBLE,  # what bring_up_to_date() makes of them today
            )
        )
    CreditRecord.objects.bulk_create(copies, batch_size=2000)
    with connection.cursor() as cursor:  # register_record's numbering: the year and the row id
        cursor.execute(
            "UPDATE credit_creditrecord SET number = 'CR' || to_char(decision_date, 'YYYY') "
            "|| lpad(id::text, 8, '0') WHERE number IS NULL"
        )
    template_penalties = list(template.penalties.all())
    Penalty.objects.bulk_create(
        [
            Penalty(
                record=record,
                kind=p.kind,
                tier=p.tier,
                amount=p.amount,
                term_value=p.term_value,
                term_unit=p.term_unit,
                description=p.description,
            )
            for record in copies
            for p in template_penalties
        ],
        batch_size=5000,
    )
    copy_seconds = time.perf_counter() - began
    ids = sorted(CreditRecord.objects.filter(person=person).values_list("pk", flat=True))
    if len(ids) != records or ids[-1] - ids[0] + 1 != records:
        raise RuntimeError(f"expected {records} records with consecutive ids, got {len(ids)}")
    return Seeded(
        password=password,
        first_id=ids[0],
        last_id=ids[-1],
        registered=len(made),
        register_seconds=register_seconds,
        copy_seconds=copy_seconds,
    )


def check_sample(seeded: Seeded, size: int = 50) -> int:
    """`repair.eligibility.check` must say eligible for the first record, the first copy, the last one and a
    random sample; returns how many were checked."""
    from credit.models import CreditRecord
    from repair import eligibility

    picks = {seeded.first_id, seeded.first_id + seeded.registered, seeded.last_id}
    picks |= set(random.sample(range(seeded.first_id, seeded.last_id + 1), min(size, seeded.count)))
    for record in CreditRecord.objects.filter(pk__in=picks).select_related("ruleset", "department"):
        answer = eligibility.check(record)
        if not answer.eligible:
            raise RuntimeError(f"record {record.pk} is not eligible: {answer.as_dict()}")
    return len(picks)


# -- filings in this process: SQL statements and time --------------------------------------------------------


@dataclass
class Statements:
    total: int
    savepoints: int  # SAVEPOINT and RELEASE SAVEPOINT
    kinds: dict[str, int]
    tables: dict[str, int]


# A subquery, with at most one level of parentheses inside: left out when naming a statement's table.
_SUBQUERY = re.compile(r"\(SELECT[^()]*(\([^()]*\)[^()]*)*\)")


def _statements(queries: list[dict[str, Any]]) -> Statements:
    kinds = Counter(q["sql"].split()[0].upper() for q in queries)
    tables = Counter(
        match.group(1)
        for q in queries
        if (match := re.search(r'(?:FROM|INTO|UPDATE)\s+"([a-z_]+)"', _SUBQUERY.sub("", q["sql"])))
        is not None
    )
    return Statements(
        total=len(queries),
        savepoints=kinds["SAVEPOINT"] + kinds["RELEASE"],
        kinds=dict(kinds.most_common()),
        tables=dict(tables.most_common()),
    )


@dataclass
class InProcess:
    service: Statements
    request: Statements
    service_ms: float
    request_ms: float
    sql_share: float
    used: int
    profile: str


def measure_in_process(seeded: Seeded, repetitions: int, profile: int) -> InProcess:
    """The SQL statements of one `file_repair` call and of one whole POST (Django's test client, so the same
    middleware, session and DRF view), each after a first uncounted call, then their median times and the
    share of a request spent waiting on SQL. Uses the first records; wrk starts after them."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from credit.models import CreditRecord, User
    from repair.services import file_repair

    user = User.objects.get(username=USERNAME)
    next_id = seeded.first_id

    def take() -> int:
        nonlocal next_id
        next_id += 1
        return next_id - 1

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)

    def service_call(around: Callable[[], AbstractContextManager[Any]] = nullcontext) -> float:
        """`file_repair` alone, the record read beforehand (the view reads it through `records_for`)."""
        record = CreditRecord.objects.select_related("person", "department", "ruleset").get(pk=take())
        with around():
            began = time.perf_counter()
            file_repair(record=record, actor=user, statement=STATEMENT, commitment_accepted=True)
            return time.perf_counter() - began

    def request_call(around: Callable[[], AbstractContextManager[Any]] = nullcontext) -> float:
        body = json.dumps({"record": take(), "statement": STATEMENT, "commitment_accepted": True})
        with around():
            began = time.perf_counter()
            response = client.post(REPAIR_PATH, body, content_type="application/json")
            elapsed = time.perf_counter() - began
        if response.status_code != 201:
            raise RuntimeError(f"in-process filing: {response.status_code} {response.content[:300]!r}")
        return elapsed

    service_call()  # the first call of a process fills caches (content types, permissions)
    request_call()
    # Summarised at once: `captured_queries` reads the connection's log lazily, and each request clears it.
    captured = CaptureQueriesContext(connection)
    service_call(lambda: captured)
    service = _statements(captured.captured_queries)
    captured = CaptureQueriesContext(connection)
    request_call(lambda: captured)
    request = _statements(captured.captured_queries)

    sql_seconds = 0.0

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal sql_seconds
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds += time.perf_counter() - began

    times = [service_call() for _ in range(repetitions)]
    service_ms = statistics.median(times) * 1000
    sql_seconds = 0.0
    with connection.execute_wrapper(timed):
        times = [request_call() for _ in range(repetitions)]
    request_ms = statistics.median(times) * 1000
    sql_share = sql_seconds / sum(times)

    text = ""
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(profile):
            request_call()
        profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(r"/(credit|repair|letters|notifications|viewflow/workflow)/", 30)
        text = out.getvalue()
    return InProcess(
        service=service,
        request=request,
        service_ms=service_ms,
        request_ms=request_ms,
        sql_share=sql_share,
        used=next_id - seeded.first_id,
        profile=text,
    )


# -- the server and the client -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], workers: int, log: Path) -> Iterator[tuple[str, int]]:
    """gunicorn serving `bench.floor`, until the block ends (or fails): stopped by its own process id.
    Yields its address and that id."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        f"--workers={workers}",
        "--worker-class=sync",
        f"--bind=127.0.0.1:{port}",
        f"--chdir={ROOT}",
        f"--error-logfile={log}",
        "--no-control-socket",  # gunicorn's default socket in ~/.gunicorn is shared with any other gunicorn
    ]
    output = log.open("ab")  # the application's own logging goes to stderr
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=output, stderr=output)  # noqa: S603
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within 60 s; see {log}")
            time.sleep(0.2)
        yield base, process.pid
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        output.close()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Session:
    cookie: str
    csrf: str
    referer: str


def login(base: str, password: str) -> Session:
    """Log in like a browser: GET the form (CSRF cookie and token), POST it, keep the session cookie and the
    CSRF cookie rotated at login. With DEBUG off the cookies are marked Secure, which a cookie jar would
    withhold over http; they are kept here by hand."""
    opener = urllib.request.build_opener(_NoRedirect)
    jar: dict[str, str] = {}

    def keep(headers: Any) -> None:
        for value in headers.get_all("Set-Cookie") or []:
            jar.update({name: morsel.value for name, morsel in SimpleCookie(value).items()})

    with opener.open(f"{base}/login/", timeout=10) as response:
        keep(response.headers)
        form = response.read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    if token is None:
        raise RuntimeError("no CSRF token in the login form")
    body = urllib.parse.urlencode(
        {"username": USERNAME, "password": password, "csrfmiddlewaretoken": token.group(1)}
    ).encode()
    request = urllib.request.Request(  # noqa: S310
        f"{base}/login/",
        data=body,
        headers={"Cookie": f"csrftoken={jar['csrftoken']}", "Referer": f"{base}/login/"},
    )
    try:
        opener.open(request, timeout=30)
        raise RuntimeError("the login form did not redirect: wrong password?")
    except urllib.error.HTTPError as redirect:
        if redirect.code != 302:
            raise
        keep(redirect.headers)
    if "sessionid" not in jar:
        raise RuntimeError("no session cookie after logging in")
    cookie = f"sessionid={jar['sessionid']}; csrftoken={jar['csrftoken']}"
    return Session(cookie=cookie, csrf=jar["csrftoken"], referer=f"{base}/")


def body_template() -> str:
    """The JSON body with `%d` for the record id (ASCII: the statement is \\u-escaped)."""
    body = json.dumps({"record": 0, "statement": STATEMENT, "commitment_accepted": True})
    return body.replace('"record": 0', '"record": %d')


def file_once(base: str, session: Session, record_id: int) -> None:
    """One filing over HTTP with the session before wrk starts: a clear error if the set-up is wrong."""
    request = urllib.request.Request(  # noqa: S310
        f"{base}{REPAIR_PATH}",
        data=(body_template() % record_id).encode(),
        headers={
            "Content-Type": "application/json",
            "Cookie": session.cookie,
            "X-CSRFToken": session.csrf,
            "Referer": session.referer,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            if response.status != 201:
                raise RuntimeError(f"the first filing answered {response.status}")
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"the first filing answered {error.code}: {error.read()[:300]!r}") from error


@dataclass
class Round:
    kind: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    last_id: int
    sample: str
    web_cpu_ms: float | None = None  # CPU per request: gunicorn
    db_cpu_ms: float | None = None  # and PostgreSQL


def run_wrk(
    *, base: str, kind: str, seconds: float, first_id: int, session: Session, args: Any, lua: Path, out: Path
) -> Round:
    path = FLOOR_PATH if kind == "floor" else REPAIR_PATH
    command = [
        WRK,
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{seconds:g}s",
        "--latency",
        "-s",
        str(lua),
        f"{base}{path}",
        "--",
        str(first_id),
        str(args.threads),
        session.cookie,
        session.csrf,
        session.referer,
        body_template(),
    ]
    result = subprocess.run(  # noqa: S603
        command, capture_output=True, encoding="utf-8", errors="replace", check=True, timeout=seconds + 120
    )
    out.write_text(result.stdout + result.stderr)
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    return Round(
        kind=kind,
        requests=data["requests"],
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"],
        last_id=data["last_id"],
        sample=data["sample"],
    )


# -- CPU used per request ------------------------------------------------------------------------------------
#
# Requests per second depend on whatever else the machine runs; the CPU each request costs depends much less
# on it. Read from /proc: gunicorn's master and workers, and PostgreSQL's postmaster (which reaps each
# backend, so with DB_CONN_MAX_AGE=0 every request's backend is counted when it exits) with its live children
# (background writers, and any other client's sessions, which add noise). Linux and a local server only.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds(pid: int, *, reaped: bool) -> float:
    """CPU seconds used by a process, and with `reaped` by the children it has waited for."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(value) for value in fields[11:15])
    return (utime + stime + ((cutime + cstime) if reaped else 0)) / CLOCK_TICKS


def _children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def postmaster_pid() -> int | None:
    """The local PostgreSQL server's process id (its data directory's postmaster.pid), or None."""
    import psycopg2

    try:
        connection = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            row = cursor.fetchone()
        connection.close()
        pid = int((Path(row[0]) / "postmaster.pid").read_text().split()[0]) if row else None
        if pid is not None:
            _cpu_seconds(pid, reaped=True)
        return pid
    except (OSError, ValueError, IndexError, psycopg2.Error):
        return None


@dataclass
class CpuMeter:
    web: int  # gunicorn's master
    database: int | None  # the postmaster

    def read(self) -> tuple[float, float | None]:
        """CPU seconds so far: the web server's, and the database server's (None if not readable)."""
        web = _cpu_seconds(self.web, reaped=True)
        web += sum(_cpu_seconds(child, reaped=True) for child in _children(self.web))
        if self.database is None:
            return web, None
        try:
            database = _cpu_seconds(self.database, reaped=True)
            for child in _children(self.database):
                # A child that exited since the list was read is counted at the next reading (reaped).
                with suppress(FileNotFoundError):
                    database += _cpu_seconds(child, reaped=False)
        except OSError:
            return web, None
        return web, database


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value:5.2f} ms"


# -- main ----------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kind, alternating")
    parser.add_argument("--duration", type=float, default=10, help="seconds per round")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per kind")
    parser.add_argument("--records", type=int, default=20000, help="eligible records to seed")
    parser.add_argument("--registered", type=int, default=300, help="of which through register_record")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--conn-max-age", type=int, default=0, help="DB_CONN_MAX_AGE of the run (seconds)")
    parser.add_argument("--in-process", type=int, default=30, help="in-process filings timed, each way")
    parser.add_argument("--profile", type=int, default=0, help="profile this many in-process filings")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    os.environ.update(bench_env(var_dir, args.conn_max_age))
    recreate_database(DB_NAME)
    flush_broker()

    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    from repair.models import RepairCase

    began = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(f"database {DB_NAME}: created and migrated in {time.perf_counter() - began:.1f} s", flush=True)
    seeded = seed(records=args.records, registered=args.registered)
    checked = check_sample(seeded)
    print(
        f"seeded {seeded.count} eligible records: {seeded.registered} through register_record in "
        f"{seeded.register_seconds:.1f} s ({seeded.registered / seeded.register_seconds:.0f}/s), "
        f"{seeded.count - seeded.registered} copied in {seeded.copy_seconds:.1f} s; "
        f"{checked} checked eligible",
        flush=True,
    )
    measured = measure_in_process(seeded, args.in_process, args.profile)
    cases_before = RepairCase.objects.count()
    connection.close()

    next_id = seeded.first_id + measured.used
    lua = var_dir / "intake.lua"
    lua.write_text(LUA)
    plan = [("floor", args.warmup), ("repair", args.warmup)]
    plan += [(kind, args.duration) for _ in range(args.rounds) for kind in ("floor", "repair")]
    rounds: list[Round] = []
    filed_2xx = 0
    with gunicorn(dict(os.environ), args.workers, var_dir / "gunicorn.log") as (base, web_pid):
        meter = CpuMeter(web=web_pid, database=postmaster_pid())
        session = login(base, seeded.password)
        file_once(base, session, next_id)
        next_id += 1
        filed_2xx += 1
        for index, (kind, seconds) in enumerate(plan):
            web_before, db_before = meter.read()
            result = run_wrk(
                base=base,
                kind=kind,
                seconds=seconds,
                first_id=next_id,
                session=session,
                args=args,
                lua=lua,
                out=var_dir / f"wrk-{index:02d}-{kind}.txt",
            )
            time.sleep(0.5)  # the requests still in flight when wrk stopped finish, their backends exit
            web_after, db_after = meter.read()
            done = max(result.requests, 1)
            result.web_cpu_ms = (web_after - web_before) / done * 1000
            if db_before is not None and db_after is not None:
                result.db_cpu_ms = (db_after - db_before) / done * 1000
            label = "warm-up" if index < 2 else f"round {(index - 2) // 2 + 1}"
            print(
                f"{label:<9} {kind:<7}{result.rps:>9.1f} req/s   p50 {result.p50_ms:6.1f} ms   "
                f"p99 {result.p99_ms:6.1f} ms   non-2xx {result.non_2xx}   "
                f"socket errors {result.socket_errors}   CPU/request: web {result.web_cpu_ms:5.2f} ms, "
                f"database {_ms(result.db_cpu_ms)}"
                + (f"   first non-2xx: {result.sample}" if result.sample else ""),
                flush=True,
            )
            if kind == "repair":
                if result.last_id > seeded.last_id:
                    print(f"ran out of records (the last is {seeded.last_id}): run with a larger --records")
                next_id = result.last_id + 1
                filed_2xx += result.requests - result.non_2xx
            if index >= 2:
                rounds.append(result)
        time.sleep(1)  # requests still in the workers when wrk stopped
    cases = RepairCase.objects.count() - cases_before
    connection.close()
    report(args, rounds, measured)
    print(
        f"repair cases filed over HTTP: {cases} (about {filed_2xx} counted by wrk; the rest were in flight "
        f"when a round ended); records used {next_id - seeded.first_id} of {seeded.count}"
    )
    print(f"broker {BROKER_URL}: {flush_broker()} messages enqueued (letters, notifications), flushed")
    print(f"left for inspection: database {DB_NAME}; wrk output and gunicorn log in {var_dir}")
    return 0


def report(args: Any, rounds: list[Round], measured: InProcess) -> None:
    def median(kind: str, value: Callable[[Round], float]) -> float:
        return statistics.median(value(r) for r in rounds if r.kind == kind)

    def total(kind: str, value: Callable[[Round], int]) -> int:
        return sum(value(r) for r in rounds if r.kind == kind)

    floor_rps = median("floor", lambda r: r.rps)
    repair_rps = median("repair", lambda r: r.rps)
    ratio = repair_rps / floor_rps
    service, request = measured.service, measured.request
    print()
    print(
        f"cores: {os.cpu_count()}; gunicorn {args.workers} sync workers, DEBUG off, "
        f"DB_CONN_MAX_AGE={args.conn_max_age}; wrk -t{args.threads} -c{args.connections}; "
        f"{args.rounds} rounds of {args.duration:g} s per kind, alternating, after {args.warmup:g} s warm-up"
    )
    print(f"{'measure':<40}{'floor':>12}{'repair':>12}")
    print(f"{'requests/s, median of rounds':<40}{floor_rps:>12.1f}{repair_rps:>12.1f}")
    print(
        f"{'p50 ms, median of rounds':<40}"
        f"{median('floor', lambda r: r.p50_ms):>12.1f}{median('repair', lambda r: r.p50_ms):>12.1f}"
    )
    print(
        f"{'p99 ms, median of rounds':<40}"
        f"{median('floor', lambda r: r.p99_ms):>12.1f}{median('repair', lambda r: r.p99_ms):>12.1f}"
    )
    print(
        f"{'non-2xx responses, all rounds':<40}"
        f"{total('floor', lambda r: r.non_2xx):>12}{total('repair', lambda r: r.non_2xx):>12}"
    )
    print(
        f"{'socket errors and timeouts, all rounds':<40}"
        f"{total('floor', lambda r: r.socket_errors):>12}{total('repair', lambda r: r.socket_errors):>12}"
    )
    web = {kind: median(kind, lambda r: r.web_cpu_ms or 0.0) for kind in ("floor", "repair")}
    measured_db = all(r.db_cpu_ms is not None for r in rounds)
    db = {kind: median(kind, lambda r: r.db_cpu_ms or 0.0) for kind in ("floor", "repair")}
    print(f"{'CPU per request, gunicorn, ms (median)':<40}{web['floor']:>12.2f}{web['repair']:>12.2f}")
    if measured_db:
        print(f"{'CPU per request, PostgreSQL, ms (median)':<40}{db['floor']:>12.2f}{db['repair']:>12.2f}")
    verdict = "target met" if ratio >= TARGET else "target NOT met"
    print(f"{'ratio repair / floor':<40}{ratio:>24.3f}  {verdict}")
    if measured_db:
        cpu_ratio = (web["floor"] + db["floor"]) / (web["repair"] + db["repair"])
        print(f"{'CPU per request, floor / repair':<40}{cpu_ratio:>24.3f}  (less sensitive to other load)")
    print(f"{'target: repair / floor at least':<40}{TARGET:>24.3f}")
    print(f"{'stock viewflow start alone / floor':<40}{VIEWFLOW_START:>24.3f}")
    print(f"{'SQL statements, file_repair':<40}{service.total:>24}  ({service.savepoints} savepoint)")
    print(f"{'SQL statements, whole POST':<40}{request.total:>24}  ({request.savepoints} savepoint)")
    print(f"{'in process: file_repair, median ms':<40}{measured.service_ms:>24.1f}")
    print(f"{'in process: whole POST, median ms':<40}{measured.request_ms:>24.1f}")
    print(f"{'in process: share waiting on SQL':<40}{measured.sql_share:>24.0%}")
    print()
    print(f"file_repair statements by kind: {service.kinds}")
    print(f"  by table: {service.tables}")
    print(f"whole POST statements by kind: {request.kinds}")
    print(f"  by table: {request.tables}")
    if measured.profile:
        print(measured.profile)


if __name__ == "__main__":
    sys.exit(main())
