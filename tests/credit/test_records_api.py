"""/api/v1/records/: the case API contract, scoping, purposes and the access log, refusals over HTTP."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from credit.models import AccessLog, CreditRecord
from tests.conftest import Personas
from tests.factories import make_record, resident_id

pytestmark = pytest.mark.django_db
URL = "/api/v1/records/"


@pytest.fixture
def records(personas: Personas) -> dict[str, CreditRecord]:
    return {
        "mine": make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        ),
        "mine_env": make_record(
            person=personas.applicant_person, department=personas.environment, decision_date=date(2026, 10, 9)
        ),
        "theirs": make_record(
            person=personas.other_person, department=personas.market, decision_date=date(2026, 7, 1)
        ),
    }


def ids(response: object) -> set[int]:
    return {row["id"] for row in response.data["results"]}  # type: ignore[attr-defined]


def test_anonymous_callers_are_refused(api: APIClient, records: dict[str, CreditRecord]) -> None:
    assert api.get(URL).status_code == 403


def test_an_applicant_lists_only_their_own_records_without_a_purpose(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord]
) -> None:
    api.force_authenticate(personas.applicant)
    response = api.get(URL)
    assert response.status_code == 200
    assert ids(response) == {records["mine"].pk, records["mine_env"].pk}
    assert not AccessLog.objects.exists()


def test_another_applicants_record_is_not_found(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord]
) -> None:
    api.force_authenticate(personas.applicant)
    assert api.get(f"{URL}{records['theirs'].pk}/").status_code == 404
    assert api.post(f"{URL}{records['theirs'].pk}/transitions/temp_mask/", {"reason": "x"}).status_code == 404


def test_the_detail_follows_the_case_contract(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord]
) -> None:
    api.force_authenticate(personas.applicant)
    data = api.get(f"{URL}{records['mine'].pk}/").data
    for key in ("id", "number", "state", "allowed_transitions", "deadlines", "timeline"):
        assert key in data
    assert data["state"] == "repair_eligible"
    assert data["allowed_transitions"] == []
    assert data["person"]["id_masked"] == "3702**********" + resident_id(1)[-4:]
    assert resident_id(1) not in str(data)
    assert data["timeline"][0]["transition"] == "mark_repair_eligible"
    assert data["timeline"][0]["actor"] == "system"


def test_staff_must_state_a_purpose(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord]
) -> None:
    api.force_authenticate(personas.officer)
    response = api.get(URL)
    assert (response.status_code, response.data["code"]) == (400, "purpose_required")
    assert api.get(f"{URL}?purpose=other").data["code"] == "note_required"
    assert api.get(f"{URL}?purpose=nonsense").data["code"] == "purpose_unknown"
    assert not AccessLog.objects.exists()


def test_department_staff_see_their_department_and_each_view_is_logged(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord]
) -> None:
    api.force_authenticate(personas.officer)
    response = api.get(f"{URL}?purpose=enquiry")
    assert ids(response) == {records["mine"].pk, records["theirs"].pk}
    logged = AccessLog.objects.filter(user=personas.officer, action="list")
    assert {e.person_id for e in logged} == {personas.applicant_person.pk, personas.other_person.pk}
    assert {e.purpose for e in logged} == {"enquiry"}

    assert api.get(f"{URL}{records['mine_env'].pk}/?purpose=enquiry").status_code == 404
    response = api.get(f"{URL}{records['mine'].pk}/?purpose=other&note=电话咨询核实")
    assert response.status_code == 200
    view = AccessLog.objects.get(action="view")
    assert (view.person_id, view.purpose, view.note) == (
        personas.applicant_person.pk,
        "other",
        "电话咨询核实",
    )


@pytest.mark.parametrize("who", ["intake", "recon", "auditor"])
def test_city_wide_staff_see_every_department(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord], who: str
) -> None:
    api.force_authenticate(getattr(personas, who))
    assert ids(api.get(f"{URL}?purpose=supervision")) == {r.pk for r in records.values()}


def test_an_administrator_without_a_role_sees_nothing(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord]
) -> None:
    api.force_authenticate(personas.admin)
    assert api.get(URL).data["results"] == []


def test_staff_find_a_person_by_the_exact_id_number_only(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord]
) -> None:
    api.force_authenticate(personas.intake)
    exact = api.get(URL, {"purpose": "identity_check", "id_number": resident_id(2).lower()})
    assert ids(exact) == {records["theirs"].pk}
    assert ids(api.get(URL, {"purpose": "identity_check", "id_number": resident_id(2)[:10]})) == set()


def test_applicants_cannot_search_by_id_number(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord]
) -> None:
    api.force_authenticate(personas.applicant)
    assert api.get(URL, {"id_number": resident_id(2)}).status_code == 400


def test_a_transition_over_http(api: APIClient, personas: Personas, records: dict[str, CreditRecord]) -> None:
    api.force_authenticate(personas.officer)
    record = records["mine"]
    detail = api.get(f"{URL}{record.pk}/?purpose=enquiry").data
    assert detail["allowed_transitions"] == ["temp_mask"]
    response = api.post(
        f"{URL}{record.pk}/transitions/temp_mask/", {"reason": "法院裁定受理重整申请"}, format="json"
    )
    assert response.status_code == 200
    assert response.data["state"] == "temp_masked"
    assert response.data["allowed_transitions"] == ["restore"]
    assert response.data["timeline"][-1]["actor"] == "officer"


def test_refusals_over_http(api: APIClient, personas: Personas, records: dict[str, CreditRecord]) -> None:
    record = records["mine"]
    api.force_authenticate(personas.officer)
    bad = api.post(f"{URL}{record.pk}/transitions/temp_mask/", {}, format="json")
    assert bad.status_code == 400
    conflict = api.post(f"{URL}{record.pk}/transitions/restore/", {"reason": "x"}, format="json")
    assert (conflict.status_code, conflict.data["state"]) == (409, "repair_eligible")
    assert api.post(f"{URL}{record.pk}/transitions/repair/", {}, format="json").status_code == 403
    assert api.post(f"{URL}{record.pk}/transitions/nope/", {}, format="json").status_code == 404
    api.force_authenticate(personas.applicant)
    assert (
        api.post(f"{URL}{record.pk}/transitions/temp_mask/", {"reason": "x"}, format="json").status_code
        == 403
    )
    assert CreditRecord.objects.get(pk=record.pk).state == "repair_eligible"


def test_the_list_costs_a_constant_number_of_queries(api: APIClient, personas: Personas) -> None:
    api.force_login(personas.intake)  # a session, so every request loads the user as in production

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert api.get(f"{URL}?purpose=supervision").status_code == 200
        return len(ctx.captured_queries)

    make_record(person=personas.applicant_person, department=personas.market, decision_date=date(2026, 1, 5))
    few = count()
    for month in range(2, 9):
        make_record(
            person=personas.other_person, department=personas.environment, decision_date=date(2026, month, 5)
        )
    assert count() == few


def test_the_openapi_schema_is_served(api: APIClient, personas: Personas) -> None:
    api.force_authenticate(personas.applicant)
    response = api.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/v1/records/{id}/transitions/{name}/" in response.content


@pytest.fixture
def a_case(personas: Personas, settings, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """Stands in for a case type until the case apps register theirs: any model with a `person`."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from credit.models import Authorisation
    from credit.services import access

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setitem(access.CASE_MODELS, "credit.authorisation", Authorisation)
    return Authorisation.objects.create(
        agent=personas.other_applicant,
        person=personas.other_person,
        document=SimpleUploadedFile("a.pdf", b"%PDF"),
    )


def test_a_case_purpose_must_name_a_case(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord]
) -> None:
    api.force_authenticate(personas.intake)
    response = api.get(URL, {"purpose": "case"})
    assert (response.status_code, response.data["code"]) == (400, "case_required")
    missing = api.get(URL, {"purpose": "case", "case": "credit.authorisation:999"})
    assert (missing.status_code, missing.data["code"]) == (400, "case_required")
    assert not AccessLog.objects.exists()


def test_a_case_purpose_limits_the_view_to_the_cases_person(
    api: APIClient, personas: Personas, records: dict[str, CreditRecord], a_case
) -> None:  # type: ignore[no-untyped-def]
    api.force_authenticate(personas.intake)
    reference = f"credit.authorisation:{a_case.pk}"
    response = api.get(URL, {"purpose": "case", "case": reference})
    assert ids(response) == {records["theirs"].pk}
    entry = AccessLog.objects.get()
    assert (entry.person_id, entry.purpose, entry.case_object_id) == (
        personas.other_person.pk,
        "case",
        a_case.pk,
    )
    mine = api.get(f"{URL}{records['mine'].pk}/", {"purpose": "case", "case": reference})
    assert mine.status_code == 400
    assert api.get(f"{URL}{records['theirs'].pk}/", {"purpose": "case", "case": reference}).status_code == 200
