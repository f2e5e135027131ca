"""`seed_demo` is idempotent and every demo user can log in; the pages speak Chinese by default."""

from __future__ import annotations

from collections import Counter
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from credit.models import CreditRecord, User
from credit.services.demo import DEMO_PASSWORD, SIGNED_UP, USERS
from tests.conftest import Personas

pytestmark = pytest.mark.django_db
DEMO_USERS = [u[0] for u in USERS] + SIGNED_UP + ["admin"]


@pytest.fixture
def demo(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = True
    settings.MEDIA_ROOT = tmp_path  # the demo's scans, not in var/
    call_command("seed_demo", stdout=StringIO())


def test_seed_demo_is_idempotent(demo: None) -> None:
    from objections.models import Complaint, Objection
    from repair.models import RepairCase

    records = CreditRecord.objects.count()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "0 user(s) and 0 record(s) created" in out.getvalue()
    assert "0 repair, 0 objection, 0 complaint filed" in out.getvalue()
    assert CreditRecord.objects.count() == records
    assert (RepairCase.objects.count(), Objection.objects.count(), Complaint.objects.count()) == (1, 1, 1)


def test_the_demo_gives_each_queue_work(demo: None) -> None:
    """A repair for officer2 (environment), an objection for intake1 to forward, a complaint for head1."""
    from objections.models import Complaint, Objection
    from repair.models import RepairCase

    assert RepairCase.objects.get().department.code == "environment"
    objection = Objection.objects.get()
    assert objection.person.user.username == "applicant1" and objection.department.code == "market"
    assert Complaint.objects.get().department.code == "market"


def test_the_demo_covers_states_rule_sets_and_both_applicants(demo: None) -> None:
    records = CreditRecord.objects.all()
    assert 35 <= records.count() <= 45
    states = Counter(records.values_list("state", flat=True))
    assert {"active", "repair_eligible", "expired"} <= set(states)
    assert set(records.values_list("ruleset__code", flat=True)) == {
        "ndrc-order-36",
        "ndrc-order-58",
        "ndrc-527-2019",
    }
    owners = Counter(records.values_list("person__user__username", flat=True))
    assert owners["applicant1"] >= 15 and owners["applicant2"] >= 15
    assert records.filter(penalties__isnull=False).distinct().count() == records.count()


def test_the_demo_gives_intake_a_claim_and_an_authorisation_from_the_portal(demo: None) -> None:
    from credit.models import Authorisation, ClaimStatus, IdentityClaim

    claim = IdentityClaim.objects.get()
    assert (claim.user.username, claim.status, claim.name) == ("citizen1", ClaimStatus.PENDING, "王芳")
    assert claim.document and CreditRecord.objects.filter(person__id_hash=claim.id_hash).count() == 3
    authorisation = Authorisation.objects.get()
    assert (authorisation.agent.username, authorisation.person.user.username) == ("agent1", "applicant2")
    assert authorisation.status == Authorisation.Status.PENDING and authorisation.document
    call_command("seed_demo", stdout=StringIO())
    assert (IdentityClaim.objects.count(), Authorisation.objects.count()) == (1, 1)


def test_seed_demo_refuses_to_run_in_production(settings) -> None:  # type: ignore[no-untyped-def]
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_demo_user_logs_in_on_the_login_page(demo: None, username: str) -> None:
    client = Client()
    page = client.get("/login/")
    assert page.status_code == 200
    assert "登录".encode() in page.content  # Simplified Chinese by default
    response = client.post("/login/", {"username": username, "password": DEMO_PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.context["user"].get_username() == username
    assert username.encode() in response.content


def test_an_applicant_sees_their_records_on_the_home_page(demo: None) -> None:
    client = Client()
    client.force_login(User.objects.get(username="applicant1"))
    response = client.get("/", follow=True)
    assert response.redirect_chain == [("/my/", 302)]  # the applicant's portal
    content = response.content.decode()
    mine = CreditRecord.objects.filter(person__user__username="applicant1").first()
    theirs = CreditRecord.objects.filter(person__user__username="applicant2").first()
    assert mine is not None and theirs is not None
    assert mine.number in content and theirs.number not in content


@pytest.mark.parametrize(
    ("username", "landing"),
    [("officer1", "/staff/queue/"), ("auditor1", "/staff/queue/"), ("intake1", "/staff/queue/")],
)
def test_staff_start_in_the_workspace(demo: None, username: str, landing: str) -> None:
    client = Client()
    client.force_login(User.objects.get(username=username))
    response = client.get("/", follow=True)
    assert response.status_code == 200 and response.redirect_chain[-1][0] == landing


def test_someone_without_a_role_gets_the_plain_home_page(personas: Personas) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(personas.admin)
    page = client.get("/")
    assert page.status_code == 200 and "Your roles:" in page.content.decode()


def test_english_is_available(demo: None) -> None:
    client = Client(headers={"accept-language": "en"})
    assert b"Log in" in client.get("/login/").content


def test_a_wrong_password_is_refused_with_a_message() -> None:
    response = Client().post("/login/", {"username": "nobody", "password": "x"})
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()


def test_healthz() -> None:
    assert Client().get("/healthz").json() == {"status": "ok"}
