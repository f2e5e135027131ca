"""/api/v1/letters/ and /api/v1/consents/: scoped like records; verification reveals nothing personal."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from credit.models import AccessLog
from letters.models import Letter, LetterKind, ServiceConsent
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db
URL = "/api/v1/letters/"


@pytest.fixture
def letters(personas: Personas) -> dict[str, Letter]:
    mine = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    theirs = make_record(
        person=personas.other_person, department=personas.environment, decision_date=date(2026, 5, 31)
    )
    return {
        "mine": Letter.objects.for_object(mine).get(kind=LetterKind.REPAIR_NOTICE),
        "theirs": Letter.objects.for_object(theirs).get(kind=LetterKind.REPAIR_NOTICE),
    }


def test_an_applicant_sees_only_their_letters(
    api: APIClient, personas: Personas, letters: dict[str, Letter]
) -> None:
    api.force_authenticate(personas.applicant)
    assert [row["id"] for row in api.get(URL).data["results"]] == [letters["mine"].pk]
    assert api.get(f"{URL}{letters['theirs'].pk}/").status_code == 404
    assert api.get(f"{URL}{letters['theirs'].pk}/pdf/").status_code == 404
    detail = api.get(f"{URL}{letters['mine'].pk}/").data
    assert detail["state"] == "pending" and detail["allowed_transitions"] == []


def test_a_pending_letter_cannot_be_downloaded_yet(
    api: APIClient, personas: Personas, letters: dict[str, Letter]
) -> None:
    api.force_authenticate(personas.applicant)
    response = api.get(f"{URL}{letters['mine'].pk}/pdf/")
    assert (response.status_code, response.data["code"]) == (400, "pending")


def test_staff_see_their_departments_letters_with_a_logged_purpose(
    api: APIClient, personas: Personas, letters: dict[str, Letter]
) -> None:
    api.force_authenticate(personas.officer)
    assert api.get(URL).data["code"] == "purpose_required"
    rows = api.get(URL, {"purpose": "enquiry"}).data["results"]
    assert [row["id"] for row in rows] == [letters["mine"].pk]
    assert AccessLog.objects.filter(user=personas.officer, person=personas.applicant_person).exists()
    assert api.get(f"{URL}{letters['theirs'].pk}/", {"purpose": "enquiry"}).status_code == 404


def test_verification_is_public_and_says_nothing_personal(api: APIClient, letters: dict[str, Letter]) -> None:
    response = api.get(f"{URL}verify/{letters['mine'].verification_code}/")
    assert response.status_code == 200
    assert response.data["verdict"] == "unknown"  # not issued yet
    assert api.get(f"{URL}verify/ZZZZZZZZZZZZ/").data["verdict"] == "unknown"


def test_consent_over_the_api(api: APIClient, personas: Personas) -> None:
    api.force_authenticate(personas.applicant)
    assert api.post("/api/v1/consents/", {}, format="json").status_code == 201
    assert ServiceConsent.objects.filter(person=personas.applicant_person, withdrawn_at__isnull=True).exists()
    denied = api.post("/api/v1/consents/", {"person": personas.other_person.pk}, format="json")
    assert (denied.status_code, denied.data["code"]) == (400, "not_staff")
    assert api.post("/api/v1/consents/withdraw/", {}, format="json").data == {"withdrawn": 1}
    api.force_authenticate(personas.intake)
    assert (
        api.post("/api/v1/consents/", {"person": personas.other_person.pk}, format="json").status_code == 201
    )
    api.force_authenticate(personas.officer)
    assert (
        api.post("/api/v1/consents/", {"person": personas.other_person.pk}, format="json").status_code == 403
    )


def test_an_account_without_a_person_cannot_consent(api: APIClient, personas: Personas) -> None:
    api.force_authenticate(personas.officer)
    response = api.post("/api/v1/consents/", {}, format="json")
    assert (response.status_code, response.data["code"]) == (400, "no_person")
