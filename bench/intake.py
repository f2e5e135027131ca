"""Filing benchmark: how many repair applications per second the web side files over HTTP, against a floor
(a bare POST view doing one INSERT) measured in the same run. Run with `make bench` (or
`.venv/bin/python bench/intake.py --rounds 3 --duration 10`).

Everything is set up here: a fresh PostgreSQL database `credit_repair_bench` (dropped and created; left in
place afterwards for inspection), its migrations, one deciding department, one applicant with a verified
person, and one eligible credit record for every filing. gunicorn (sync workers) serves `bench.floor`
(`config.settings` plus `POST /bench/floor/`) with DEBUG off; wrk posts, alternating floor and repair
rounds after a warm-up, each filing naming the next unused record. Needs PostgreSQL on 127.0.0.1:5432 (user
postgres, trust), Redis on 127.0.0.1:6379 (database 14 is the broker: letters and notifications are only
enqueued, nothing consumes them) and /usr/bin/wrk. Figures and their meaning: docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
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
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "credit_repair_bench"
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
BROKER_URL = "redis://127.0.0.1:6379/14"
WRK = "/usr/bin/wrk"
FLOOR_PATH = "/bench/floor/"
REPAIR_PATH = "/api/v1/repairs/"
TARGET = 1 / 3  # filing a repair: at least a third of the floor
VIEWFLOW_START = 0.23  # stock viewflow's Flow.start.run() alone (../shared/FINDINGS.md)
STATEMENT = "已缴清罚款，整改到位，今后守法经营。"
USERNAME = "bench-applicant"
# Decided under Order 36 (in force from 2026-04-01), general tier: repair may be applied for 3 months and a
# day after the decision, so every decision date up to 2026-08-21 is eligible on 2026-11-22.
FIRST_DECISION = date(2026, 4, 1)
LAST_DECISION = date(2026, 8, 21)

LUA = r"""
-- bench/intake.py: each request POSTs the JSON body with the next record id of this thread.
-- Thread k of n takes the ids first + k, first + k + n, first + k + 2n, ...
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
      sample = status .. " " .. string.sub(body or "", 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local last, bad_total, sample_any = first - 1, 0, ""
  for _, thread in ipairs(threads) do
    local k, count = thread:get("tid"), thread:get("n")
    if count > 0 then
      last = math.max(last, first + k + nthreads * (count - 1))
    end
    bad_total = bad_total + thread:get("bad")
    if sample_any == "" then sample_any = thread:get("sample") end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non_2xx": %d, ' ..
    '"socket_errors": %d, "timeouts": %d, "last_id": %d, "sample": %q}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), bad_total,
    e.connect + e.read + e.write, e.timeout, last, sample_any))
end
"""


# -- environment and database -------------------------------------------------------------------------------


def bench_env(var_dir: Path, conn_max_age: int) -> dict[str, str]:
    """The settings of the run, for the seeding in this process and for gunicorn alike (the ID keys too)."""
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


def recreate_database() -> None:
    import psycopg2

    connection = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("DROP DATABASE IF EXISTS credit_repair_bench WITH (FORCE)")
        cursor.execute("CREATE DATABASE credit_repair_bench")
    connection.close()


def flush_broker() -> int:
    """Empty the bench's broker database; how many keys (queues) it held."""
    import redis

    client = redis.Redis.from_url(BROKER_URL)
    queued = sum(int(client.llen(key)) for key in client.scan_iter() if client.type(key) == b"list")
    client.flushdb()
    return queued


# -- seeding ---------------------------------------------------------------------------------------------------


@dataclass
class Seeded:
    password: str
    first_id: int
    last_id: int
    registered: int
    seconds: float
    statements: dict[str, Any] = field(default_factory=dict)


def seed(*, records: int, registered: int) -> Seeded:
    """One deciding department, the city's overlay, one applicant with a verified person, and `records`
    eligible records: the first `registered` through `register_record` (each with its 信用修复告知书), the
    rest copied from the first with their own decision numbers, dates and periods, in bulk."""
    from decimal import Decimal

    from django.contrib.auth.models import Group
    from django.db import connection
    from django.utils import timezone

    from bench.floor import FLOOR_TABLE_SQL
    from credit.identity import IdType, check_char
    from credit.models import CityOverlay, CreditRecord, Department, Penalty, Person, User
    from credit.models.people import Role
    from credit.models.records import Domain, PenaltyKind, RecordState, RecordType
    from credit.services.records import PenaltyInput, derive_periods, register_record

    start = time.perf_counter()
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
    user = User.objects.create(username=USERNAME, email="bench@example.cn")
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name=Role.APPLICANT))
    first17 = "37020219900307002"
    person = Person(name="张伟", user=user, verification=Person.Verification.INTAKE, verified_at=timezone.now())
    person.set_id_number(IdType.RESIDENT, first17 + check_char(first17))
    person.save()

    days = (LAST_DECISION - FIRST_DECISION).days + 1
    penalties = [PenaltyInput(kind=PenaltyKind.FINE, tier="general", amount=Decimal("2000"))]

    def decision(i: int) -> tuple[str, date]:
        return f"示市监罚〔2026〕{10000 + i}号", FIRST_DECISION + timedelta(days=i % days)

    made = []
    for i in range(min(registered, records)):
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
                facts="基准测试记录。",
            )
        )
    template = made[0]
    copies = []
    periods: dict[date, Any] = {}
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
                # What bring_up_to_date() makes of a record whose minimum period has passed.
                state=RecordState.REPAIR_ELIGIBLE,
            )
        )
    CreditRecord.objects.bulk_create(copies, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE credit_creditrecord SET number = 'CR' || to_char(decision_date, 'YYYY') "
            "|| lpad(id::text, 8, '0') WHERE number IS NULL"
        )
    model_penalties = list(template.penalties.all())
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
            for p in model_penalties
        ],
        batch_size=5000,
    )
    ids = sorted(CreditRecord.objects.filter(person=person).values_list("pk", flat=True))
    if len(ids) != records or ids[-1] - ids[0] + 1 != records:
        raise RuntimeError(f"expected {records} records with consecutive ids, got {len(ids)}")
    return Seeded(
        password=password,
        first_id=ids[0],
        last_id=ids[-1],
        registered=len(made),
        seconds=time.perf_counter() - start,
    )


def check_sample(seeded: Seeded, size: int = 50) -> None:
    """`repair.eligibility.check` says eligible for the first and last record and a random sample."""
    import random

    from credit.models import CreditRecord
    from repair import eligibility

    picks = {seeded.first_id, seeded.first_id + seeded.registered, seeded.last_id}
    picks |= set(random.sample(range(seeded.first_id, seeded.last_id + 1), size))
    for record in CreditRecord.objects.filter(pk__in=picks).select_related("ruleset", "department"):
        answer = eligibility.check(record)
        if not answer.eligible:
            raise RuntimeError(f"record {record.pk} is not eligible: {answer.as_dict()}")


# -- one filing, in this process ---------------------------------------------------------------------------------


def _table(sql: str) -> str:
    match = re.search(r'(?:FROM|INTO|UPDATE)\s+"([a-z_]+)"', sql)
    return match.group(1) if match else sql.split()[0].upper()


def _summary(queries: list[dict[str, Any]]) -> dict[str, Any]:
    kinds = Counter(q["sql"].split()[0].upper() for q in queries)
    tables = Counter(_table(q["sql"]) for q in queries if not q["sql"].upper().startswith(("SAVEPOINT", "RELEASE")))
    return {"total": len(queries), "kinds": dict(kinds.most_common()), "tables": dict(tables.most_common())}


@dataclass
class InProcess:
    service: dict[str, Any]
    request: dict[str, Any]
    service_ms: float
    request_ms: float
    sql_share: float
    used: int


def measure_in_process(seeded: Seeded, repetitions: int) -> InProcess:
    """The SQL of one `file_repair` call and of one whole POST (test client, same middleware), and their
    median times over `repetitions` filings each. Uses the first records; wrk starts after them."""
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

    def service_call() -> None:
        record = CreditRecord.objects.select_related("person", "department", "ruleset").get(pk=take())
        file_repair(record=record, actor=user, statement=STATEMENT, commitment_accepted=True)

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)

    def request_call() -> None:
        body = json.dumps({"record": take(), "statement": STATEMENT, "commitment_accepted": True})
        response = client.post(REPAIR_PATH, body, content_type="application/json")
        if response.status_code != 201:
            raise RuntimeError(f"in-process filing: {response.status_code} {response.content[:300]!r}")

    with CaptureQueriesContext(connection) as service_queries:
        service_call()
    with CaptureQueriesContext(connection) as request_queries:
        request_call()

    sql_seconds = 0.0

    def timed(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        nonlocal sql_seconds
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_seconds += time.perf_counter() - began

    def median_ms(fn: Callable[[], None]) -> tuple[float, float]:
        nonlocal sql_seconds
        times, sql_seconds = [], 0.0
        with connection.execute_wrapper(timed):
            for _ in range(repetitions):
                began = time.perf_counter()
                fn()
                times.append(time.perf_counter() - began)
        return statistics.median(times) * 1000, sql_seconds / sum(times)

    service_ms, _ = median_ms(service_call)
    request_ms, sql_share = median_ms(request_call)
    return InProcess(
        service=_summary(service_queries.captured_queries),
        request=_summary(request_queries.captured_queries),
        service_ms=service_ms,
        request_ms=request_ms,
        sql_share=sql_share,
        used=next_id - seeded.first_id,
    )


# -- the server and the client ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], workers: int, log: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--workers",
        str(workers),
        "--worker-class",
        "sync",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(ROOT),
        "--error-logfile",
        str(log),
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
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
                raise RuntimeError(f"gunicorn did not answer in 60 s; see {log}")
            time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


@dataclass
class Session:
    cookie: str
    csrf: str
    referer: str


def login(base: str, password: str) -> Session:
    """Log in like a browser: GET the form (CSRF cookie and token), POST it, keep the session cookie. The
    cookies are marked Secure with DEBUG off; a cookie jar would withhold them over http, so they are kept
    here by hand."""
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
    body = json.dumps({"record": 0, "statement": STATEMENT, "commitment_accepted": True})
    return body.replace('"record": 0', '"record": %d')


def file_once(base: str, session: Session, record_id: int) -> None:
    """One filing over HTTP before wrk starts: a clear error if the set-up is wrong."""
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
                raise RuntimeError(f"filing answered {response.status}")
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"filing answered {error.code}: {error.read()[:300]!r}") from error


@dataclass
class Round:
    kind: str
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    last_id: int
    sample: str


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
    result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120)  # noqa: S603
    out.write_text(result.stdout + result.stderr)
    line = next(line for line in result.stdout.splitlines() if line.startswith("BENCH "))
    data = json.loads(line.removeprefix("BENCH "))
    return Round(
        kind=kind,
        rps=data["requests"] / (data["duration_us"] / 1e6),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        non_2xx=data["non_2xx"],
        socket_errors=data["socket_errors"] + data["timeouts"],
        last_id=data["last_id"],
        sample=data["sample"],
    )


# -- main --------------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kind, alternating")
    parser.add_argument("--duration", type=float, default=10, help="seconds per round")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per kind")
    parser.add_argument("--records", type=int, default=20000, help="eligible records to seed")
    parser.add_argument("--registered", type=int, default=300, help="of which through register_record")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--conn-max-age", type=int, default=0, help="DB_CONN_MAX_AGE of the web workers")
    parser.add_argument("--in-process", type=int, default=30, help="in-process filings timed, each way")
    args = parser.parse_args()

    var_dir = Path(tempfile.mkdtemp(prefix="bench-intake-"))
    env = bench_env(var_dir, args.conn_max_age)
    os.environ.update(env)
    recreate_database()
    queued_before = flush_broker()

    import django
    from django.core.management import call_command
    from django.db import connection

    django.setup()
    began = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.perf_counter() - began
    seeded = seed(records=args.records, registered=args.registered)
    check_sample(seeded)
    measured = measure_in_process(seeded, args.in_process)
    connection.close()
    print(f"database {DB_NAME}: migrated in {migrate_s:.1f} s; {args.records} eligible records seeded in "
          f"{seeded.seconds:.1f} s ({seeded.registered} through register_record, the rest copied)")
    print(f"broker {BROKER_URL}: {queued_before} messages of an earlier run flushed")

    next_id = seeded.first_id + measured.used
    lua = var_dir / "intake.lua"
    lua.write_text(LUA)
    rounds: list[Round] = []
    with gunicorn(dict(os.environ), args.workers, var_dir / "gunicorn.log") as base:
        session = login(base, seeded.password)
        file_once(base, session, next_id)
        next_id += 1
        plan = [("floor", args.warmup), ("repair", args.warmup)]
        plan += [(kind, args.duration) for _ in range(args.rounds) for kind in ("floor", "repair")]
        for index, (kind, seconds) in enumerate(plan):
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
            warm = index < 2
            print(
                f"{'warm-up' if warm else 'round'} {kind:<7}{result.rps:>9.1f} req/s  p50 {result.p50_ms:6.1f} ms"
                f"  p99 {result.p99_ms:6.1f} ms  non-2xx {result.non_2xx}  socket errors {result.socket_errors}"
                + (f"  first non-2xx: {result.sample}" if result.sample else ""),
                flush=True,
            )
            if kind == "repair":
                if result.last_id > seeded.last_id:
                    print(f"ran out of records (last id {seeded.last_id}): run with a larger --records")
                next_id = result.last_id + 1
            if not warm:
                rounds.append(result)

    report(args, rounds, measured, seeded, next_id, var_dir)
    return 0


def report(
    args: Any, rounds: list[Round], measured: InProcess, seeded: Seeded, next_id: int, var_dir: Path
) -> None:
    def per_kind(kind: str, value: Callable[[Round], float]) -> float:
        return statistics.median(value(r) for r in rounds if r.kind == kind)

    floor_rps = per_kind("floor", lambda r: r.rps)
    repair_rps = per_kind("repair", lambda r: r.rps)
    ratio = repair_rps / floor_rps
    print()
    print(f"cores: {os.cpu_count()}; gunicorn {args.workers} sync workers; wrk -t{args.threads} "
          f"-c{args.connections}; {args.rounds} rounds of {args.duration:g} s each, alternating; "
          f"DB_CONN_MAX_AGE={args.conn_max_age}")
    print(f"{'measure':<34}{'floor':>12}{'repair':>12}")
    print(f"{'requests/s, median of rounds':<34}{floor_rps:>12.1f}{repair_rps:>12.1f}")
    for label, key in (("p50 ms, median of rounds", "p50_ms"), ("p99 ms, median of rounds", "p99_ms")):
        print(f"{label:<34}"
              f"{per_kind('floor', lambda r, k=key: getattr(r, k)):>12.1f}"
              f"{per_kind('repair', lambda r, k=key: getattr(r, k)):>12.1f}")
    for label, key in (("non-2xx responses, all rounds", "non_2xx"), ("socket errors, all rounds", "socket_errors")):
        print(f"{label:<34}"
              f"{sum(getattr(r, key) for r in rounds if r.kind == 'floor'):>12}"
              f"{sum(getattr(r, key) for r in rounds if r.kind == 'repair'):>12}")
    verdict = "target met" if ratio >= TARGET else "target NOT met"
    print(f"{'ratio repair / floor':<34}{ratio:>24.2f}")
    print(f"{'target (>= 1/3 of the floor)':<34}{TARGET:>24.2f}  {verdict}")
    print(f"{'stock viewflow start alone':<34}{VIEWFLOW_START:>24.2f}")
    print()
    print(f"SQL statements, one file_repair call: {measured.service['total']} {measured.service['kinds']}")
    print(f"  by table: {measured.service['tables']}")
    print(f"SQL statements, one whole POST {REPAIR_PATH}: {measured.request['total']} {measured.request['kinds']}")
    print(f"  by table: {measured.request['tables']}")
    print(f"in process, median of {args.in_process}: file_repair {measured.service_ms:.1f} ms; whole POST "
          f"{measured.request_ms:.1f} ms, {measured.sql_share:.0%} of it waiting on SQL")
    print(f"records filed: {next_id - seeded.first_id} of {seeded.last_id - seeded.first_id + 1}")
    print(f"left for inspection: database {DB_NAME}; wrk output and gunicorn log in {var_dir}")
    queued = flush_broker()
    print(f"broker {BROKER_URL}: {queued} messages enqueued by the run (letters, notifications), flushed")


if __name__ == "__main__":
    sys.exit(main())
