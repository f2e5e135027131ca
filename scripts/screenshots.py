#!/usr/bin/env python
"""Take the screenshots of the user guides (docs/guides/img/) from a fresh demo.

    .venv/bin/python scripts/screenshots.py [--out DIR] [--text-dir DIR] [--keep]

What it does, start to finish, touching nothing of the developer's own `var/`:

1. Builds a fresh demo database in a temporary VAR_DIR, as `make run` does: `manage.py migrate`, `seed_demo`,
   `dev_signing_setup`. Then, with Celery eager (tasks run in the calling process, no worker), it does the
   worker's first minute: the demo's letters are rendered and signed and the demo cases' work is started.
   One more case is filed through the real service *two weeks ago* (time-machine) and the timer sweep is run
   today, so the head has an escalated, overdue task to show; and a repair is granted (the interview waived),
   for the officer's revocations and letter service pages.
2. Starts `manage.py runserver` on a free port in that VAR_DIR (Celery eager too).
3. Drives Debian's Chromium (headless, never a downloaded browser) through the demo as each role would:
   the applicant files a repair on a phone, a visitor signs up, an agent follows their authorisation, intake
   forwards the objection, finds a walk-in person and verifies an identity claim, the
   officer accepts and verifies the repair and drafts the objection's decision (a correction), the legal
   reviewer approves it, the applicant applies for reconsideration, and the head, the reconsideration
   officer, the auditor and the administrator open their pages. Every page is in Simplified Chinese (the
   default; the browser sends Accept-Language zh-Hans), the applicant's at phone size (390x844), the staff's
   at desktop size (1280x800).
4. Writes each page as docs/guides/img/<role>-<nn>-<page>.png, reduced to a 256-colour PNG.

Idempotent: every run starts from an empty database and replaces the images it takes. A page that is not
there (404: not built yet) is skipped with a note and listed at the end; any other failure (an error page, a
step the demo cannot take) stops the run with a message and exit status 1, leaving the images as they were.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "demo-pass-2026"  # noqa: S105  (credit.services.demo.DEMO_PASSWORD, the demo's published one)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
MAX_BYTES = 150 * 1024


class Missing(Exception):
    """The page answered 404: it is not built yet (or not mounted). Its screenshot is skipped."""


class Failed(Exception):
    """A page or a step of the demo did not do what the guides say it does."""


# -- 1. the demo database ---------------------------------------------------------------------------------
def manage(var_dir: Path, *args: str, eager: bool = False) -> None:
    env = demo_env(var_dir, eager=eager)
    result = subprocess.run(  # noqa: S603  (our own manage.py, no shell)
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise Failed(f"manage.py {' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")


def demo_env(var_dir: Path, *, eager: bool) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "MEDIA_ROOT", "STATIC_ROOT"):
        env.pop(name, None)  # the temporary VAR_DIR's SQLite file and broker, never the developer's
    env.update(
        VAR_DIR=str(var_dir),
        DEBUG="1",
        LANGUAGE_CODE="zh-hans",
        CELERY_TASK_ALWAYS_EAGER="1" if eager else "0",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    return env


def build_database(var_dir: Path) -> dict[str, Any]:
    print(f"demo database in {var_dir}")
    manage(var_dir, "migrate", "--noinput")
    manage(var_dir, "seed_demo", "--quiet-logins")  # its tasks wait in the unused broker directory
    manage(var_dir, "dev_signing_setup")
    facts_file = var_dir / "facts.json"
    result = subprocess.run(  # noqa: S603  (this script, no shell)
        [PYTHON, __file__, "--prepare", str(facts_file)],
        cwd=ROOT,
        env=demo_env(var_dir, eager=True),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise Failed(f"preparing the demo failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}")
    facts: dict[str, Any] = json.loads(facts_file.read_text())
    return facts


def prepare(facts_file: Path) -> None:
    """Run inside Django (eager Celery): the worker's first minute, an overdue case, and the facts the
    browser needs (ids, an ID number, a verification code)."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    import time_machine
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import transaction
    from django.utils import timezone

    from credit import identity
    from credit.models import Authorisation, CreditRecord, IdentityClaim, User
    from credit.services.demo import AGENT, CITIZEN, USERS
    from credit.services.transitions import perform_transition
    from credit.tasks import fire_due_workflow_timers, mark_missed_deadlines
    from letters.models import Letter, LetterKind, LetterState
    from letters.tasks import retry_pending_letters
    from objections import tasks as objection_tasks
    from objections.complaint import Complaint
    from objections.models import Objection
    from portal.selectors import repairable_by_filing
    from repair import eligibility
    from repair import tasks as repair_tasks
    from repair.models import OPEN_STATES, EvidenceKind, RepairCase
    from repair.services import add_evidence, file_repair, verify_evidence, waive_interview

    # What the worker does in the first minute of `make run`: sign the demo's letters, start the cases' work.
    retry_pending_letters(older_than_minutes=0)
    repair_tasks.start_missing_work(older_than_minutes=0)
    objection_tasks.start_missing_work(older_than_minutes=0)
    objection_tasks.start_missing_complaint_work(older_than_minutes=0)

    def repairable(user: User, department: str) -> CreditRecord:
        """A record the person may apply to repair now: eligible, or a minor record held back only by its
        duty, which the application proves with the date it was fulfilled."""
        records = CreditRecord.objects.filter(person__user=user, department__code=department).order_by("pk")
        for record in records:
            busy = record.repair_cases.filter(state__in=OPEN_STATES).exists() or record.objections.exists()
            if not busy and repairable_by_filing(eligibility.check(record)):
                return record
        raise Failed(f"{user} has no repairable record of the {department} department")

    # A repair that applicant2 filed two weeks ago and nobody examined: its 3-working-day clock ran out,
    # the timer sweep escalates the task to the head of the department.
    applicant2 = User.objects.get(username="applicant2")
    with time_machine.travel(timezone.now() - timedelta(days=14), tick=False):
        record = repairable(applicant2, "market")
        with transaction.atomic():
            late = file_repair(
                record=record,
                actor=applicant2,
                statement="罚款已缴清，经营场所已按要求整改。",
                commitment_accepted=True,
            )
        repair_tasks.after_filing(late.pk)
    fire_due_workflow_timers()
    mark_missed_deadlines()

    # A repair of applicant2's that the market regulator granted (the interview waived by the head): the
    # officer's guide shows its revocations page and the service page of its decision letter.
    officer1, head1, reviewer1 = (
        User.objects.get(username=name) for name in ("officer1", "head1", "reviewer1")
    )
    record = repairable(applicant2, "market")
    needs_duty = any(r.code == eligibility.Code.DUTY_NOT_FULFILLED for r in eligibility.check(record).reasons)
    with transaction.atomic():
        granted = file_repair(
            record=record,
            actor=applicant2,
            statement="罚款已缴清，违法行为已改正。",
            commitment_accepted=True,
            duty_fulfilled_on=min(record.decision_date + timedelta(days=10), timezone.localdate())
            if needs_duty
            else None,
        )
    repair_tasks.after_filing(granted.pk)
    perform_transition(granted, "accept", actor=officer1)
    waive_interview(
        case=RepairCase.objects.get(pk=granted.pk), actor=head1, reason="当事人已书面说明整改情况。"
    )
    # The demo city asks for 20 certified volunteer hours.
    certificate = SimpleUploadedFile("志愿服务证明.png", paper_png(["志愿服务证明（演示）", "时长：24小时"]))
    with transaction.atomic():
        hours = add_evidence(
            case=RepairCase.objects.get(pk=granted.pk),
            upload=certificate,
            kind=EvidenceKind.VOLUNTEER,
            actor=applicant2,
            hours=Decimal("24"),
        )
    verify_evidence(evidence=hours, accept=True, actor=officer1)
    perform_transition(
        RepairCase.objects.get(pk=granted.pk),
        "draft_decision",
        actor=officer1,
        payload={"outcome": "approve"},
    )
    perform_transition(RepairCase.objects.get(pk=granted.pk), "approve_decision", actor=reviewer1)
    decision = Letter.objects.filter(object_id=granted.pk, kind=LetterKind.REPAIR_DECISION).first()
    if decision is None or RepairCase.objects.get(pk=granted.pk).state != "repaired":
        raise Failed("the demo repair for the revocations page was not granted")

    applicant1 = User.objects.get(username="applicant1")
    first17 = next(spec[1] for name, _role, _dept, spec in USERS if name == "applicant2" and spec)
    principal17 = next(spec[1] for name, _role, _dept, spec in USERS if name == "applicant1" and spec)
    newcomer17 = "37020219880808005"  # an identity no record is held for: the sign-up's claim
    letter = Letter.objects.filter(state=LetterState.ISSUED, person__user=applicant1).order_by("pk").first()
    record = repairable(applicant1, "market")
    facts = {
        "objection": Objection.objects.get(person__user=applicant1).pk,
        "demo_repair": RepairCase.objects.filter(person__user=applicant1).order_by("pk").first().pk,  # type: ignore[union-attr]
        "late_repair": late.pk,
        "complaint": Complaint.objects.get(person__user=applicant2).pk,
        "repair_record": record.pk,
        "duty_date": min(record.decision_date + timedelta(days=10), timezone.localdate()).isoformat(),
        "walk_in_id_number": first17 + identity.check_char(first17),
        "letter_code": letter.verification_code if letter else "",
        "officer1": User.objects.get(username="officer1").pk,
        "granted": granted.pk,
        "granted_letter": decision.pk,
        "citizen_claim": IdentityClaim.objects.get(user__username=CITIZEN[0]).pk,
        "authorisation": Authorisation.objects.get(agent__username=AGENT).pk,
        "principal_id_number": principal17 + identity.check_char(principal17),
        "newcomer_id_number": newcomer17 + identity.check_char(newcomer17),
    }
    facts_file.write_text(json.dumps(facts))


# -- 2. the server ----------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(var_dir: Path) -> Iterator[str]:
    port = free_port()
    log = (var_dir / "runserver.log").open("w")
    process = subprocess.Popen(  # noqa: S603  (our own manage.py, no shell)
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=demo_env(var_dir, eager=True),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310  (http://127.0.0.1 only)
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise Failed(f"runserver did not start; see {var_dir / 'runserver.log'}") from None
                time.sleep(0.3)
        print(f"server at {base}")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


# -- 3. the browser ---------------------------------------------------------------------------------------
@dataclass
class Camera:
    base: str
    staging: Path
    text_dir: Path | None
    taken: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def go(self, page: Any, path: str) -> None:
        response = page.goto(path if path.startswith("http") else self.base + path)
        status = response.status if response is not None else 0
        if status == 404:
            raise Missing(path)
        if status >= 400:
            raise Failed(f"{path} answered {status}")
        page.wait_for_load_state("networkidle")

    def shot(self, page: Any, name: str, path: str | None = None, *, at: str | None = None) -> None:
        """Screenshot the viewport as <name>.png: after opening `path` (if given), scrolled so that the
        element `at` (if given) is at the top."""
        if path is not None:
            self.go(page, path)
        if at is not None:
            page.locator(at).first.evaluate("element => element.scrollIntoView({block: 'start'})")
        else:
            page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(150)
        png = page.screenshot(animations="disabled", caret="hide")
        (self.staging / f"{name}.png").write_bytes(optimise(png))
        if self.text_dir is not None:
            text = page.evaluate(
                "document.body ? document.body.innerText : document.documentElement.textContent"
            )
            (self.text_dir / f"{name}.txt").write_text(f"{page.url}\n\n{text}")
        self.taken.append(name)
        print(f"  {name}  {page.url.removeprefix(self.base)}")

    def attempt(self, name: str, action: Callable[[], None]) -> bool:
        """Run one screenshot (or a step that others depend on); a missing page is skipped with a note."""
        try:
            action()
            return True
        except Missing as missing:
            self.skipped.append(f"{name}: {missing.args[0]} is not there (404)")
            print(f"  SKIPPED {name}: {missing.args[0]} answered 404")
            return False


def optimise(png: bytes) -> bytes:
    """A screenshot is text on flat colours: 256 colours without dithering keep it sharp and small."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colours in (256, 128, 64):
        out = io.BytesIO()
        image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
            out, format="PNG", optimize=True
        )
        if out.tell() <= MAX_BYTES:
            break
    return out.getvalue()


def paper_png(lines: list[str]) -> bytes:
    """A photo of a paper, as the demo's (credit/demo_images.py)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from credit.demo_images import paper_png as draw

    return draw(lines)


def evidence_image(path: Path) -> Path:
    """A small receipt-like PNG for the applicant to upload (the upload check reads the content)."""
    path.write_bytes(
        paper_png(["罚没款缴款凭证（演示）", "缴款人：张伟", "金额：人民币伍佰元整", "示范市财政局"])
    )
    return path


def visitor(browser: Any, *, phone: bool = False) -> Any:
    """A page in a new browser context, signed out."""
    context = browser.new_context(
        viewport=PHONE if phone else DESKTOP,
        locale="zh-CN",
        timezone_id="Asia/Shanghai",  # the server's zone: the admin's date widgets then add no warning
        extra_http_headers={"Accept-Language": "zh-Hans,zh;q=0.9"},
        device_scale_factor=1,
        is_mobile=phone,
        has_touch=phone,
    )
    page = context.new_page()
    page.set_default_timeout(60_000)  # a step that signs a letter runs it inline (eager Celery)
    return page


def login(browser: Any, base: str, username: str, *, phone: bool = False) -> Any:
    page = visitor(browser, phone=phone)
    page.goto(f"{base}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    if "/login/" in page.url:
        raise Failed(f"{username} could not log in")
    return page


def submit(page: Any, selector: str = "main form.ws-form button[type=submit]", *, expect: str = "") -> None:
    """Submit a form and check that the page we land on says `expect` (a success message)."""
    with page.expect_navigation():
        page.locator(selector).last.click()
    page.wait_for_load_state("networkidle")
    if expect and expect not in page.inner_text("main"):
        raise Failed(
            f"after submitting on {page.url}: expected {expect!r}; the page says:\n"
            f"{page.inner_text('main')[:1500]}"
        )


def step_done(page: Any) -> None:
    """A legal step taken on the case file ends on the case file with a success message ('Done: …')."""
    if (
        "/steps/" in page.url
        or "/approval/" in page.url
        or page.locator("ul.messages li.success").count() == 0
    ):
        raise Failed(f"the step was not taken ({page.url}):\n{page.inner_text('main')[:1500]}")


def browse(camera: Camera, facts: dict[str, Any], work: Path) -> None:
    from playwright.sync_api import sync_playwright

    base = camera.base
    objection = f"/staff/cases/objection/{facts['objection']}/"
    state: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            applicant_files(camera, login(browser, base, "applicant1", phone=True), facts, work, state)
            sign_up(camera, visitor(browser, phone=True), facts, work)
            agent(camera, login(browser, base, "agent1", phone=True), facts, work)
            intake(camera, login(browser, base, "intake1"), facts, objection)
            verified(camera, login(browser, base, "citizen1", phone=True))
            officer(camera, login(browser, base, "officer1"), facts, objection, state)
            reviewer(camera, login(browser, base, "reviewer1"), objection)
            applicant_after(camera, login(browser, base, "applicant1", phone=True), facts, state)
            reconsideration(camera, login(browser, base, "recon1"), state)
            head(camera, login(browser, base, "head1"), facts, state)
            auditor(camera, login(browser, base, "auditor1"))
            admin(camera, login(browser, base, "admin"), facts)
        finally:
            browser.close()


# The pages, role by role. Names are <role>-<nn>-<page>; the guides refer to them.
def applicant_files(
    camera: Camera, page: Any, facts: dict[str, Any], work: Path, state: dict[str, Any]
) -> None:
    shot = camera.shot
    camera.attempt("applicant-01-home", lambda: shot(page, "applicant-01-home", "/my/"))
    camera.attempt(
        "applicant-02-records", lambda: shot(page, "applicant-02-records", "/my/", at="#records-title")
    )
    camera.attempt(
        "applicant-03-letters", lambda: shot(page, "applicant-03-letters", "/my/", at="#letters-title")
    )

    def file_repair() -> None:
        record = facts["repair_record"]
        camera.go(page, "/my/file/repair/")
        page.check(f"#record-{record}")
        shot(page, "applicant-04-repair-record")
        submit(page, "#portal-page form button[type=submit]")
        page.fill(
            "textarea[name=statement]",
            "罚款已于决定作出当月全额缴清，相关经营问题已整改到位，今后将依法诚信经营。",
        )
        if page.locator("input[name=duty_fulfilled_on]").count():  # a minor record: the duty's date
            page.fill("input[name=duty_fulfilled_on]", facts["duty_date"])
        shot(page, "applicant-05-repair-statement")
        submit(page, "#portal-page form button[type=submit]")
        page.check("input[name=sign]")
        shot(page, "applicant-06-repair-commitment")
        submit(page, "#portal-page form button[type=submit]")
        page.set_input_files("input[name='evidence-0-file']", str(evidence_image(work / "receipt.png")))
        page.select_option("select[name='evidence-0-kind']", index=1)
        page.fill("input[name='evidence-0-description']", "罚没款缴款凭证")
        shot(page, "applicant-07-repair-evidence", at="h2 >> nth=1")
        with page.expect_navigation(url="**/my/cases/repair/**"):
            page.locator("#portal-page form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        state["repair"] = int(page.url.rstrip("/").rsplit("/", 1)[-1])
        shot(page, "applicant-08-repair-case")
        shot(page, "applicant-09-repair-deadlines", at="#deadlines-title")

    if not camera.attempt("repair filing", file_repair):
        raise Failed("the applicant's repair filing pages are missing; the staff pages depend on them")
    camera.attempt(
        "applicant-10-objection", lambda: shot(page, "applicant-10-objection", "/my/file/objection/")
    )
    camera.attempt(
        "applicant-11-objection-case",
        lambda: shot(page, "applicant-11-objection-case", f"/my/cases/objection/{facts['objection']}/"),
    )
    camera.attempt("applicant-12-consent", lambda: shot(page, "applicant-12-consent", "/my/consent/"))
    camera.attempt("applicant-13-notifications", lambda: shot(page, "applicant-13-notifications", "/inbox/"))
    page.context.close()


def sign_up(camera: Camera, page: Any, facts: dict[str, Any], work: Path) -> None:
    """A visitor signs up on a phone, claiming an identity no record is held for, with a photo of the card."""
    shot = camera.shot

    def fill_and_send() -> None:
        camera.go(page, "/login/")
        with page.expect_navigation():
            page.click("a[href='/my/signup/']")
        page.fill("#id_username", "zhaoqiang")
        page.fill("#id_password1", PASSWORD)
        page.fill("#id_password2", PASSWORD)
        page.fill("#id_phone", "139 0000 0008")
        page.fill("#id_name", "赵强")
        page.fill("#id_id_number", facts["newcomer_id_number"])
        card = work / "id-card.png"
        card.write_bytes(paper_png(["居民身份证（演示样例）", "姓名：赵强", "正反两面照片"]))
        page.set_input_files("#id_document", str(card))
        page.check("#id_consent")
        shot(page, "applicant-20-signup")
        shot(page, "applicant-21-signup-identity", at="#id_name")
        with page.expect_navigation(url="**/my/identity/"):
            page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        shot(page, "applicant-22-identity-pending")

    camera.attempt("applicant-20-signup", fill_and_send)
    page.context.close()


def agent(camera: Camera, page: Any, facts: dict[str, Any], work: Path) -> None:
    """agent1 (no person of their own) follows the authorisation the demo submitted, and fills in another."""
    shot = camera.shot
    camera.attempt(
        "applicant-23-authorisations",
        lambda: shot(page, "applicant-23-authorisations", "/my/authorisations/"),
    )

    def fill() -> None:
        camera.go(page, "/my/authorisations/new/")
        page.fill("#id_name", "张伟")
        page.fill("#id_id_number", facts["principal_id_number"])
        page.fill("#id_scope", "代为提出异议及签收相关文书")
        signed = work / "authorisation.png"
        signed.write_bytes(
            paper_png(["授权委托书（演示样例）", "委托人：张伟", "受托人：agent1", "签名：张伟"])
        )
        page.set_input_files("#id_document", str(signed))
        page.check("#id_declaration")
        shot(page, "applicant-24-authorisation-new", at="#id_name")

    camera.attempt("applicant-24-authorisation-new", fill)
    page.context.close()


def verified(camera: Camera, page: Any) -> None:
    """citizen1, whose claim intake verified, sees 王芳's records."""
    camera.attempt(
        "applicant-25-verified-home",
        lambda: camera.shot(page, "applicant-25-verified-home", "/my/", at="#records-title"),
    )
    page.context.close()


def intake(camera: Camera, page: Any, facts: dict[str, Any], objection: str) -> None:
    shot = camera.shot
    camera.attempt("intake-01-queue", lambda: shot(page, "intake-01-queue", "/staff/queue/"))
    camera.attempt("intake-02-case", lambda: shot(page, "intake-02-case", objection))

    def forward() -> None:
        shot(page, "intake-03-forward", objection + "steps/forward/")
        submit(page)
        step_done(page)

    if not camera.attempt("intake-03-forward", forward):
        raise Failed("intake cannot forward the objection; the officer's pages depend on it")
    camera.attempt("intake-04-archive", lambda: shot(page, "intake-04-archive", "/staff/archive/"))

    def walk_in() -> None:
        camera.go(page, "/staff/walk-in/")
        page.fill("input[name=id_number]", facts["walk_in_id_number"])
        shot(page, "intake-05-walk-in")
        submit(page)
        if "/walk-in/person/" not in page.url:
            raise Failed(f"the walk-in search did not find applicant2: {page.inner_text('main')[:800]}")
        shot(page, "intake-06-walk-in-person")
        page.locator("details summary").last.click()
        shot(page, "intake-07-walk-in-repair", at="details >> nth=-1")

    camera.attempt("intake-05-walk-in", walk_in)

    claim = f"/staff/identities/{facts['citizen_claim']}/"
    camera.attempt("intake-08-identities", lambda: shot(page, "intake-08-identities", "/staff/identities/"))

    def verify_claim() -> None:
        shot(page, "intake-09-identity", claim)
        page.check("input[name=decision][value=verify]")
        shot(page, "intake-10-identity-decision", at="#person-title")
        submit(page, expect="账号已关联信用主体")

    if not camera.attempt("intake-09-identity", verify_claim):
        raise Failed("intake cannot verify the demo's identity claim; citizen1's page depends on it")

    def window() -> None:
        camera.go(page, "/staff/identities/window/")
        page.fill("#id_username", "zhaoqiang")
        page.fill("#id_name", "赵强")
        page.fill("#id_id_number", facts["newcomer_id_number"])
        shot(page, "intake-11-identity-window")

    camera.attempt("intake-11-identity-window", window)
    camera.attempt(
        "intake-12-authorisation",
        lambda: shot(page, "intake-12-authorisation", f"/staff/authorisations/{facts['authorisation']}/"),
    )
    page.context.close()


def officer(camera: Camera, page: Any, facts: dict[str, Any], objection: str, state: dict[str, Any]) -> None:
    shot = camera.shot
    repair = f"/staff/cases/repair/{state['repair']}/"
    camera.attempt("officer-01-queue", lambda: shot(page, "officer-01-queue", "/staff/queue/"))

    def claim() -> None:
        camera.go(page, "/staff/queue/")
        row = page.locator("tr", has=page.locator(f"a[href='{repair}']"))
        with page.expect_navigation():
            row.locator("button[formaction*='/claim/']").click()
        shot(page, "officer-02-inbox", "/staff/inbox/")

    camera.attempt("officer-02-inbox", claim)
    camera.attempt("officer-03-repair-case", lambda: shot(page, "officer-03-repair-case", repair))

    def accept_repair() -> None:
        shot(page, "officer-04-accept", repair + "steps/accept/")
        submit(page)
        step_done(page)
        shot(page, "officer-05-evidence", at="#evidence-title")

    if not camera.attempt("officer-04-accept", accept_repair):
        raise Failed("the officer cannot accept the repair")

    def verify() -> None:
        with page.expect_navigation():
            page.locator("#evidence-title ~ ul a[href$='/verify/']").first.click()
        page.check("input[name=decision][value=accept]")
        shot(page, "officer-06-verify-evidence")
        submit(page)

    camera.attempt("officer-06-verify-evidence", verify)

    def interview() -> None:
        camera.go(page, repair)
        with page.expect_navigation():
            page.locator("a[href$='/interviews/new/']").first.click()
        shot(page, "officer-07-interview")

    camera.attempt("officer-07-interview", interview)

    def objection_steps() -> None:
        shot(page, "officer-08-objection-case", objection)
        camera.go(page, objection + "steps/accept/")
        submit(page)
        step_done(page)
        camera.go(page, objection + "steps/draft_decision/")
        page.select_option("select[name=outcome]", "founded")
        page.select_option("select[name=remedy]", "correct")
        page.fill(
            "textarea[name=findings], input[name=findings]",
            "经核查，原处罚决定书文号登记有误，应为示市监罚〔2026〕1100号。",
        )
        page.fill(
            "textarea[name=reasons]",
            "与处罚决定书原件核对，文号录入错误。\n依据《信用修复管理办法》第十八条予以更正。",
        )
        page.fill("input[name=corrections__decision_number]", "示市监罚〔2026〕1100号")
        shot(page, "officer-09-draft")
        shot(page, "officer-10-draft-corrections", at="label[for=id_corrections__record_type]")
        submit(page)
        step_done(page)
        shot(page, "officer-11-four-eyes", objection + "approval/", at="#your-decision")

    if not camera.attempt("officer-08-objection-case", objection_steps):
        raise Failed("the officer cannot draft the objection's decision; the reviewer's pages depend on it")

    def chart() -> None:
        camera.go(page, objection)
        link = page.locator("ul.ws-actions a.secondary[href^='/workflow/']")
        if link.count() == 0:
            raise Missing("flow chart link on the case file")
        with page.expect_navigation():
            link.first.click()
        if page.url.endswith("/login/"):
            raise Failed("the flow chart asked for a login")
        shot(page, "officer-12-flow-chart")
        # viewflow's own page of the same process: its tasks, who did them, and the chart.
        shot(page, "officer-13-workflow-process", page.url.removesuffix("chart/"))

    camera.attempt("officer-12-flow-chart", chart)
    granted = f"/staff/cases/repair/{facts['granted']}/"
    camera.attempt(
        "officer-14-revocations",
        lambda: shot(page, "officer-14-revocations", granted + "revocations/", at="main h1"),
    )
    camera.attempt(
        "officer-15-letter-service",
        lambda: shot(
            page, "officer-15-letter-service", granted + f"letters/{facts['granted_letter']}/service/"
        ),
    )
    page.context.close()


def reviewer(camera: Camera, page: Any, objection: str) -> None:
    shot = camera.shot
    camera.attempt("reviewer-01-queue", lambda: shot(page, "reviewer-01-queue", "/staff/queue/"))

    def approve() -> None:
        shot(page, "reviewer-02-approval", objection + "approval/")
        page.check("input[name=decision][value=approve]")
        shot(page, "reviewer-03-approve", at="#your-decision")
        submit(page)
        step_done(page)
        shot(page, "reviewer-04-decided", at="#letters-title")

    if not camera.attempt("reviewer-02-approval", approve):
        raise Failed("the legal reviewer cannot approve the objection's decision")
    page.context.close()


def applicant_after(camera: Camera, page: Any, facts: dict[str, Any], state: dict[str, Any]) -> None:
    shot = camera.shot
    case = f"/my/cases/objection/{facts['objection']}/"
    camera.attempt(
        "applicant-14-decided", lambda: shot(page, "applicant-14-decided", case, at="#decision-title")
    )
    camera.attempt(
        "applicant-15-decision-letter",
        lambda: shot(page, "applicant-15-decision-letter", case, at="#letters-title"),
    )

    def apply_for_reconsideration() -> None:
        camera.go(page, case + "reconsideration/")
        page.fill("textarea[name=request]", "请求撤销该异议处理决定中关于处罚金额未予更正的部分。")
        page.fill(
            "textarea[name=statement]", "异议处理结果只更正了文号，处罚金额仍与决定书原件不符，请依法复议。"
        )
        shot(page, "applicant-16-reconsideration")
        with page.expect_navigation(url="**/my/cases/reconsideration/**"):
            page.locator("#portal-page form button[type=submit]").click()
        state["reconsideration"] = int(page.url.rstrip("/").rsplit("/", 1)[-1])
        shot(page, "applicant-17-reconsideration-case")

    camera.attempt("applicant-16-reconsideration", apply_for_reconsideration)
    camera.attempt(
        "applicant-18-complaint", lambda: shot(page, "applicant-18-complaint", "/my/complaints/new/")
    )
    if facts["letter_code"]:
        camera.attempt(
            "applicant-19-verify",
            lambda: shot(page, "applicant-19-verify", f"/verify/{facts['letter_code']}/", at="[role=status]"),
        )
    page.context.close()


def reconsideration(camera: Camera, page: Any, state: dict[str, Any]) -> None:
    shot = camera.shot
    camera.attempt(
        "reconsideration-01-queue", lambda: shot(page, "reconsideration-01-queue", "/staff/queue/")
    )
    if "reconsideration" not in state:
        camera.skipped.append("reconsideration-02/03: no reconsideration was filed")
        page.context.close()
        return
    case = f"/staff/cases/reconsideration/{state['reconsideration']}/"
    camera.attempt("reconsideration-02-case", lambda: shot(page, "reconsideration-02-case", case))
    camera.attempt(
        "reconsideration-03-accept", lambda: shot(page, "reconsideration-03-accept", case + "steps/accept/")
    )
    page.context.close()


def head(camera: Camera, page: Any, facts: dict[str, Any], state: dict[str, Any]) -> None:
    shot = camera.shot
    camera.attempt("head-01-queue", lambda: shot(page, "head-01-queue", "/staff/queue/"))
    camera.attempt("head-02-team", lambda: shot(page, "head-02-team", "/staff/team/"))
    camera.attempt(
        "head-03-escalations", lambda: shot(page, "head-03-escalations", "/staff/head/escalations/")
    )

    def reassign() -> None:
        camera.go(page, "/staff/head/escalations/")
        link = page.locator("main table a[href*='/head/escalations/']")
        if link.count() == 0:
            raise Failed("the head's escalations list is empty; the demo's overdue repair should be there")
        with page.expect_navigation():
            link.first.click()
        shot(page, "head-04-reassign")

    camera.attempt("head-04-reassign", reassign)
    camera.attempt("head-05-extensions", lambda: shot(page, "head-05-extensions", "/staff/head/extensions/"))
    repair = f"/staff/cases/repair/{state['repair']}/"
    camera.attempt("head-06-extend", lambda: shot(page, "head-06-extend", repair + "steps/extend/"))
    camera.attempt("head-07-waivers", lambda: shot(page, "head-07-waivers", "/staff/head/waivers/"))
    complaint = f"/staff/cases/complaint/{facts['complaint']}/"
    camera.attempt("head-08-complaint", lambda: shot(page, "head-08-complaint", complaint))
    camera.attempt("head-09-answer", lambda: shot(page, "head-09-answer", complaint + "steps/answer/"))
    camera.attempt("head-10-dashboard", lambda: shot(page, "head-10-dashboard", "/staff/dashboard/"))
    page.context.close()


def auditor(camera: Camera, page: Any) -> None:
    shot = camera.shot
    camera.attempt("auditor-01-dashboard", lambda: shot(page, "auditor-01-dashboard", "/staff/dashboard/"))
    camera.attempt(
        "auditor-02-dashboard-states",
        lambda: shot(page, "auditor-02-dashboard-states", "/staff/dashboard/", at="#states-heading"),
    )
    camera.attempt(
        "auditor-03-transitions", lambda: shot(page, "auditor-03-transitions", "/staff/audit/transitions/")
    )
    camera.attempt("auditor-04-access", lambda: shot(page, "auditor-04-access", "/staff/audit/access/"))
    page.context.close()


def admin(camera: Camera, page: Any, facts: dict[str, Any]) -> None:
    shot = camera.shot
    camera.attempt("admin-01-index", lambda: shot(page, "admin-01-index", "/admin/"))
    camera.attempt("admin-02-rulesets", lambda: shot(page, "admin-02-rulesets", "/admin/credit/ruleset/"))
    camera.attempt(
        "admin-03-calendar", lambda: shot(page, "admin-03-calendar", "/admin/credit/calendarday/add/")
    )
    camera.attempt(
        "admin-04-user",
        lambda: shot(
            page, "admin-04-user", f"/admin/credit/user/{facts['officer1']}/change/", at=".field-groups"
        ),
    )
    camera.attempt(
        "admin-05-memberships",
        lambda: shot(
            page,
            "admin-05-memberships",
            f"/admin/credit/user/{facts['officer1']}/change/",
            at=".inline-group",
        ),
    )
    camera.attempt("admin-06-overlay", lambda: shot(page, "admin-06-overlay", "/admin/credit/cityoverlay/"))
    camera.attempt(
        "admin-07-deadlines", lambda: shot(page, "admin-07-deadlines", "/admin/credit/deadline/report/")
    )
    page.context.close()


# -- 4. putting it together -------------------------------------------------------------------------------
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "guides" / "img")
    parser.add_argument(
        "--text-dir", type=Path, help="also write each page's text here (for checking the guides)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary VAR_DIR (its path is printed)"
    )
    parser.add_argument("--prepare", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare)
        return 0
    if not Path(CHROMIUM).exists():
        print(f"error: {CHROMIUM} is missing (apt-get install chromium)", file=sys.stderr)
        return 1
    work = Path(tempfile.mkdtemp(prefix="guides-screenshots-"))
    var_dir, staging = work / "var", work / "img"
    staging.mkdir(parents=True)
    if args.text_dir:
        args.text_dir.mkdir(parents=True, exist_ok=True)
    try:
        facts = build_database(var_dir)
        with server(var_dir) as base:
            camera = Camera(base=base, staging=staging, text_dir=args.text_dir)
            browse(camera, facts, work)
    except Failed as failure:
        print(f"error: {failure}", file=sys.stderr)
        print(f"(the images in {args.out} were left as they were; work files in {work})", file=sys.stderr)
        return 1
    except Exception as exc:  # a Playwright timeout, a missing element: the page is not what we expect
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(f"(the images in {args.out} were left as they were; work files in {work})", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.png"):
        old.unlink()
    total = 0
    for image in sorted(staging.glob("*.png")):
        total += image.stat().st_size
        shutil.copy2(image, args.out / image.name)
    print(f"{len(camera.taken)} screenshot(s), {total / 1024:.0f} KB, in {args.out}")
    if camera.skipped:
        print("skipped (pages not there yet):")
        for note in camera.skipped:
            print(f"  - {note}")
    if args.keep:
        print(f"work files kept in {work}")
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
