"""Shared personas, built once per test that asks for them: the applicant and another applicant, the
officer, reviewer and head of one department, an officer of another, intake, reconsideration and audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings
from rest_framework.test import APIClient

from config.celery import app as celery_app
from credit.models import Department, Person, User
from credit.models.people import Role
from letters.pki import DEV_PASSPHRASE, DEV_PASSPHRASE_ENV, DevPki, create_dev_pki
from tests.factories import DepartmentFactory, PersonFactory, UserFactory, dev_signing_identity, resident_id


@pytest.fixture(autouse=True)
def _fast_and_eager(settings: pytest.FixtureRequest, request: pytest.FixtureRequest) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # type: ignore[attr-defined]
    # Celery reads its configuration once, so set the app itself: eager in the unit tier, a real broker
    # and worker for the tests marked `services`.
    eager = request.node.get_closest_marker("services") is None
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = eager
    yield  # type: ignore[misc]
    celery_app.conf.task_always_eager = previous


@dataclass
class Personas:
    market: Department
    environment: Department
    applicant: User
    applicant_person: Person
    other_applicant: User
    other_person: Person
    officer: User
    other_officer: User
    reviewer: User
    head: User
    intake: User
    recon: User
    auditor: User
    admin: User


@pytest.fixture
def personas(db: None) -> Personas:
    market = DepartmentFactory(code="market", name="市场监督管理局")
    environment = DepartmentFactory(code="environment", name="生态环境局")
    platform = DepartmentFactory(code="platform", name="公共信用信息中心", kind=Department.Kind.PLATFORM)
    applicant = UserFactory(username="applicant", role=Role.APPLICANT)
    other_applicant = UserFactory(username="other_applicant", role=Role.APPLICANT)
    applicant_person = PersonFactory(name="张伟", id_number=resident_id(1), user=applicant)
    other_person = PersonFactory(name="李娜", id_number=resident_id(2), user=other_applicant)
    return Personas(
        market=market,
        environment=environment,
        applicant=applicant,
        applicant_person=applicant_person,
        other_applicant=other_applicant,
        other_person=other_person,
        officer=UserFactory(username="officer", role=Role.OFFICER, department=market),
        other_officer=UserFactory(username="other_officer", role=Role.OFFICER, department=environment),
        reviewer=UserFactory(username="reviewer", role=Role.REVIEWER, department=market),
        head=UserFactory(username="head", role=Role.HEAD, department=market),
        intake=UserFactory(username="intake", role=Role.INTAKE, department=platform),
        recon=UserFactory(username="recon", role=Role.RECONSIDERATION),
        auditor=UserFactory(username="auditor", role=Role.AUDITOR),
        admin=UserFactory(username="admin", is_superuser=True, is_staff=True),
    )


@pytest.fixture
def office(personas: Personas) -> Department:
    """The city's reconsideration office, which decides reconsiderations (never the department challenged)."""
    return DepartmentFactory(
        code="recon-office",
        name="示范市人民政府行政复议办公室",
        kind=Department.Kind.RECONSIDERATION,
        city=personas.market.city,
        letter_prefix="示府复",
    )


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def today() -> date:
    return date(2026, 11, 23)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """Rate limits count in the cache: no test inherits another's counts."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _no_kept_rules() -> None:
    """Each test starts without the rule sets another test's (rolled-back) rows left in the process."""
    from credit.selectors import forget_rules

    forget_rules()


@pytest.fixture(autouse=True)
def _frozen_now(time_machine: object) -> None:
    """Every test starts on Monday 2026-11-23 10:00 in Shanghai; none reads the real clock."""
    time_machine.move_to("2026-11-23T10:00:00+08:00", tick=False)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _open_tasks_follow_their_sources(request: pytest.FixtureRequest) -> object:
    """After every test in a database transaction: the queues' table of open tasks (workspace.OpenTask) is
    exactly what viewflow's tasks and the deadlines of their timers say, whatever the test did."""
    marker = request.node.get_closest_marker("django_db")
    in_db = marker is not None or "db" in request.fixturenames
    transactional = (marker is not None and marker.kwargs.get("transaction")) or (
        "transactional_db" in request.fixturenames
    )
    if not in_db or transactional:
        yield
        return
    request.getfixturevalue("db")  # set up first, so that this runs before the test's rollback
    yield
    from django.db import connection

    if connection.needs_rollback:  # the test left its transaction broken on purpose
        return
    from workspace.open_tasks import drift

    found = drift(limit=5)
    assert not found, f"workspace.OpenTask differs from the tasks it copies: {found}"


def pytest_sessionstart(session: pytest.Session) -> None:
    # The .mo catalogues are build output; compile them so that a bare `pytest` tests the current .po files.
    from io import StringIO

    from django.core.management import call_command

    call_command("compile_translations", stdout=StringIO())


# The personas' deciding departments, as stand-ins: the PKI is built once per session, outside any test's
# database (RSA key generation is slow).
STAND_INS = [
    Department(code="market", name="市场监督管理局", city="测试市", kind=Department.Kind.DECIDING),
    Department(code="environment", name="生态环境局", city="测试市", kind=Department.Kind.DECIDING),
]


@pytest.fixture(scope="session")
def letters_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPki:
    return create_dev_pki(
        tmp_path_factory.mktemp("letters-pki"),
        STAND_INS,
        passphrase=DEV_PASSPHRASE,
        not_before=datetime(2026, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def signing(
    personas, letters_pki: DevPki, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    """Signing identities for the personas' departments, the dev CA trusted, letters stored under tmp."""
    monkeypatch.setenv(DEV_PASSPHRASE_ENV, DEV_PASSPHRASE.decode())
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.LETTERS_TRUST_ROOTS = [str(letters_pki.ca_cert)]
    for department in (personas.market, personas.environment):
        dev_signing_identity(department, letters_pki.departments[department.code])
    return letters_pki
