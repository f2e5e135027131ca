"""/my/authorisations/: an agent (with or without a person of their own) submits a signed authorisation and
follows its status; the person sees who acts for them; nobody sees another's; for applicants only."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from credit.models import Authorisation
from credit.services.transitions import perform_transition
from notifications.models import Notification
from tests.conftest import Personas
from tests.factories import UserFactory, make_record, resident_id
from tests.portal.conftest import not_a_document, stored_files

pytestmark = pytest.mark.django_db
LIST, NEW = "/my/authorisations/", "/my/authorisations/new/"


def english(user: Any) -> Client:
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(user)
    return client


def signed() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(buffer, "PDF")
    return SimpleUploadedFile("授权委托书.pdf", buffer.getvalue(), content_type="application/pdf")


def form(personas: Personas, **change: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": personas.other_person.name,
        "id_type": "resident_id",
        "id_number": personas.other_person.id_number,
        "scope": "申请信用修复及签收文书",
        "valid_from": "2026-11-23",
        "valid_until": "2027-11-22",
        "document": signed(),
        "declaration": "on",
    }
    data.update(change)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture
def agent() -> Any:
    return UserFactory(username="agent", role="applicant")  # an applicant's account without a person


def test_an_agent_without_a_person_submits_and_follows_it(
    personas: Personas, agent: Any, media: Path
) -> None:
    client = english(agent)
    assert "Submit an authorisation" in client.get(LIST).content.decode()
    done = client.post(NEW, form(personas), follow=True)
    authorisation = Authorisation.objects.get()
    assert done.redirect_chain == [(LIST, 302)] and authorisation.person == personas.other_person
    html = done.content.decode()
    assert f"Your authorisation {authorisation.number} was sent" in html
    assert "Waiting for verification" in html and "李娜" in html and len(stored_files(media)) == 1
    perform_transition(authorisation, "reject", actor=personas.intake, reason="委托人签名缺失")
    page = client.get(LIST).content.decode()
    assert "Rejected" in page and "委托人签名缺失" in page


def test_a_person_with_records_may_act_for_another(personas: Personas) -> None:
    english(personas.applicant).post(NEW, form(personas))
    assert Authorisation.objects.get().agent == personas.applicant


def test_no_match_says_nothing_of_who_has_records(personas: Personas, agent: Any, media: Path) -> None:
    client = english(agent)
    nobody = client.post(NEW, form(personas, id_number=resident_id(77)))
    other_name = client.post(NEW, form(personas, name="李娜娜"))
    assert nobody.status_code == other_name.status_code == 422
    text = "No person whose records are held here has this name and this ID number."
    for response in (nobody, other_name):
        html = response.content.decode()
        assert text in html and 'value="申请信用修复及签收文书"' in html
    assert not Authorisation.objects.exists() and stored_files(media) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"document": not_a_document("授权委托书.pdf")}, "This type of file is not accepted."),
        ({"document": None}, "This field is required."),
        ({"declaration": None}, "Tick the box to make the declaration."),
        ({"valid_until": "2026-11-01"}, "The authorisation cannot end before it begins."),
        ({"id_number": "37020219900307"}, "An ID number has 18 characters; this one has 14."),
    ],
)
def test_a_bad_form_is_refused_saying_why(
    personas: Personas, agent: Any, media: Path, change: dict[str, Any], message: str
) -> None:
    response = english(agent).post(NEW, form(personas, **change))
    assert response.status_code == 422 and message in response.content.decode()
    assert not Authorisation.objects.exists() and stored_files(media) == []


def test_each_sees_their_own_and_the_person_sees_who_acts_for_them(personas: Personas, agent: Any) -> None:
    english(agent).post(NEW, form(personas))
    authorisation = Authorisation.objects.get()
    someone = UserFactory(username="someone", role="applicant")
    assert authorisation.number not in english(someone).get(LIST).content.decode()
    assert authorisation.number not in english(personas.applicant).get(LIST).content.decode()
    perform_transition(authorisation, "verify", actor=personas.intake)
    principal = english(personas.other_applicant).get(LIST).content.decode()
    assert "Who acts for you" in principal and authorisation.number in principal and "agent" in principal


def test_signed_out_visitors_go_to_the_login_page() -> None:
    for path in (LIST, NEW):
        assert Client().get(path)["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("role", ["officer", "reviewer", "intake", "auditor"])
def test_staff_are_sent_to_their_workspace(personas: Personas, role: str) -> None:
    staff = english(getattr(personas, role))
    for path in (LIST, NEW):
        assert staff.get(path)["Location"] == "/staff/"
    assert staff.post(NEW, form(personas))["Location"] == "/staff/"
    assert not Authorisation.objects.exists()


def test_an_account_without_the_applicants_role_is_refused(personas: Personas) -> None:
    admin = english(personas.admin)
    for path in (LIST, NEW):
        assert admin.get(path).status_code == 403
    assert admin.post(NEW, form(personas)).status_code == 403
    assert not Authorisation.objects.exists()


def test_from_the_portal_to_intake_and_back(personas: Personas, agent: Any) -> None:
    """The agent submits; intake verifies it on its own page; the agent is told and acts for the person."""
    record = make_record(
        person=personas.other_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    english(agent).post(NEW, form(personas))
    authorisation = Authorisation.objects.get()
    intake = english(personas.intake)
    assert authorisation.number in intake.get("/staff/authorisations/").content.decode()
    page = intake.get(f"/staff/authorisations/{authorisation.pk}/").content.decode()
    assert "申请信用修复及签收文书" in page and "Record the decision" in page
    assert intake.get(f"/staff/authorisations/{authorisation.pk}/document/").status_code == 200
    intake.post(f"/staff/authorisations/{authorisation.pk}/", {"decision": "verify"})
    assert Notification.objects.get(recipient=agent).event == "authorisation.verified"
    assert record.number in english(agent).get("/my/").content.decode()
