"""Walk-in filing at the counter (/staff/walk-in/): intake finds the person by the exact number of the
identity document they show, sees their records (access-logged), and files an objection or a repair for them
with the scanned signed form, through the same services as the API."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.test import TestCase
from django.utils import translation

from credit.models import AccessLog, CreditRecord
from objections.models import Objection
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import make_record, resident_id
from tests.workspace.test_case_file import browser, pdf, png

pytestmark = pytest.mark.django_db
WALK_IN, PERSON = "/staff/walk-in/", "/staff/walk-in/person/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def at_the_counter(personas: Personas) -> Any:
    client = browser(personas.intake)
    response = client.post(WALK_IN, {"id_type": "resident_id", "id_number": resident_id(1).lower()})
    assert response.status_code == 302 and response["Location"] == PERSON
    return client


def test_intake_finds_the_person_by_the_exact_number_only(personas: Personas, record: CreditRecord) -> None:
    client = browser(personas.intake)
    with translation.override("en"):
        assert client.get(WALK_IN).status_code == 200
        wrong = client.post(WALK_IN, {"id_type": "resident_id", "id_number": resident_id(1)[:17] + "0"})
        assert wrong.status_code == 422 and wrong.context["form"].errors["id_number"]
        partial = client.post(WALK_IN, {"id_type": "resident_id", "id_number": resident_id(1)[:10]})
        assert partial.status_code == 422 and "18 characters" in partial.content.decode()
        unknown = client.post(WALK_IN, {"id_type": "resident_id", "id_number": resident_id(77)})
        assert unknown.status_code == 422 and "No person" in unknown.content.decode()
        other_type = client.post(WALK_IN, {"id_type": "foreign_permanent", "id_number": resident_id(1)})
        assert other_type.status_code == 422
    # Without a person found, the second step sends back to the first.
    assert client.get(PERSON)["Location"] == WALK_IN
    assert not AccessLog.objects.exists()

    client = at_the_counter(personas)
    response = client.get(PERSON)
    html = response.content.decode()
    assert (
        response.status_code == 200 and record.number in html and personas.applicant_person.id_masked in html
    )
    assert resident_id(1) not in html  # the full number is never shown
    logged = AccessLog.objects.get()
    assert (logged.user, logged.person_id, logged.action, logged.purpose) == (
        personas.intake,
        personas.applicant_person.pk,
        "list",
        "enquiry",
    )
    # Done with this person: the next one starts again.
    client.get(WALK_IN + "?done=1")
    assert client.get(PERSON)["Location"] == WALK_IN


def test_intake_files_an_objection_with_the_signed_form(personas: Personas, record: CreditRecord) -> None:
    client = at_the_counter(personas)
    body = {
        "filing": "objection",
        "target": f"record:{record.pk}",
        "grounds": ["record_wrong"],
        "statement": "处罚决定书文号有误",
    }
    # Without the signed form nothing is filed, and what was typed is kept.
    with translation.override("en"):
        response = client.post(PERSON, body)
    assert response.status_code == 422 and "处罚决定书文号有误" in response.content.decode()
    assert not Objection.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(PERSON, {**body, "signed_form": pdf("form.pdf"), "evidence": png()})
    objection = Objection.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/cases/objection/{objection.pk}/"
    assert (objection.channel, objection.filed_by, objection.person) == (
        "walk_in",
        personas.intake,
        personas.applicant_person,
    )
    assert objection.signed_form and objection.evidence.count() == 1
    # The case file shows the signed form through the permission-checked view.
    html = client.get(response["Location"]).content.decode()
    assert f"/staff/cases/objection/{objection.pk}/signed-form/" in html
    served = client.get(f"/staff/cases/objection/{objection.pk}/signed-form/")
    assert served.status_code == 200 and served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith("attachment")
    # A second open objection on the same record is refused with the first one's number.
    response = client.post(PERSON, {**body, "signed_form": pdf("form.pdf")})
    assert response.status_code == 422 and objection.number in response.content.decode()


def test_intake_files_a_repair_and_a_bad_evidence_file_files_nothing(
    personas: Personas, record: CreditRecord
) -> None:
    client = at_the_counter(personas)
    body = {
        "filing": "repair",
        "record": str(record.pk),
        "statement": "已缴清罚款并整改到位",
        "commitment_accepted": "on",
        "evidence_kind": "performance",
    }
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("receipt.png", b"not an image", content_type="image/png")
    response = client.post(PERSON, {**body, "signed_form": pdf("form.pdf"), "evidence": bad})
    assert response.status_code == 422 and not RepairCase.objects.exists()  # the filing rolled back
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(PERSON, {**body, "signed_form": png("form.png"), "evidence": png()})
    case = RepairCase.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/staff/cases/repair/{case.pk}/"
    assert (case.channel, case.filed_by, case.commitment.signed_by) == (
        "walk_in",
        personas.intake,
        personas.intake,
    )
    assert case.evidence.get().kind == "performance"


def test_only_intake_files_at_the_counter(personas: Personas, record: CreditRecord) -> None:
    for user in (personas.officer, personas.reviewer, personas.head, personas.auditor, personas.recon):
        client = browser(user)
        assert client.get(WALK_IN).status_code == 403
        assert (
            client.post(WALK_IN, {"id_type": "resident_id", "id_number": resident_id(1)}).status_code == 403
        )
        assert client.post(PERSON, {"filing": "objection"}).status_code == 403
    assert browser(personas.applicant).get(WALK_IN).status_code == 403
    assert browser().get(WALK_IN).status_code == 302
    # A record of another person is not offered and cannot be named.
    other = make_record(
        person=personas.other_person, department=personas.market, decision_date=date(2026, 5, 30)
    )
    client = at_the_counter(personas)
    assert other.number not in client.get(PERSON).content.decode()
    response = client.post(
        PERSON,
        {
            "filing": "objection",
            "target": f"record:{other.pk}",
            "grounds": ["record_wrong"],
            "statement": "x",
            "signed_form": pdf(),
        },
    )
    assert response.status_code == 422 and not Objection.objects.exists()


def test_each_label_on_the_counter_page_names_its_own_input(personas: Personas, record: CreditRecord) -> None:
    """Both filing forms are on one page: no id twice, so a label never points at the other form's field."""
    html = at_the_counter(personas).get(PERSON).content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert ids and len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    for target in re.findall(r'<label for="([^"]+)"', html):
        assert target in ids
