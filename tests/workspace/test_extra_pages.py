"""Staff pages for work that existed only in the API: intake verifies agents' authorisations, staff record the
service of a case's letter, an officer proposes the revocation of a granted repair and another legal reviewer
decides it. Happy paths, the refusals, who gets in (wrong role, other department, applicant, signed out) and
the data-access log."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from credit.models import AccessLog, Authorisation, CreditRecord, TransitionLog
from letters.models import Letter, LetterKind, LetterState, ServiceRecord
from repair.models import RepairCase, RepairRevocation
from tests.conftest import Personas
from tests.factories import PersonFactory, UserFactory, make_record
from tests.repair.test_cases import file as file_repair
from tests.repair.test_cases import step as repair_step

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def browser(user: Any = None) -> Client:
    client = Client(headers={"Accept-Language": "en"}, enforce_csrf_checks=False)
    if user is not None:
        client.force_login(user)
    return client


def get(user: Any, url: str) -> Any:
    with translation.override("en"):
        return browser(user).get(url)


def post(user: Any, url: str, data: dict[str, Any]) -> Any:
    with translation.override("en"):
        return browser(user).post(url, data, follow=True)


def logged(user: Any, path: str) -> list[tuple[int, str, str]]:
    return list(AccessLog.objects.filter(user=user, path=path).values_list("person_id", "action", "purpose"))


# -- authorisations ------------------------------------------------------------------------------------------
@pytest.fixture
def authorisation(personas: Personas) -> Authorisation:
    agent = UserFactory(username="agent", role="applicant")
    return Authorisation.objects.create(
        agent=agent,
        person=personas.applicant_person,
        document=SimpleUploadedFile("auth.pdf", b"%PDF-1.4 signed", content_type="application/pdf"),
        scope="信用修复",
    )


class TestAuthorisations:
    def test_intake_lists_and_verifies(self, personas: Personas, authorisation: Authorisation) -> None:
        listing = get(personas.intake, "/staff/authorisations/")
        assert listing.status_code == 200 and authorisation.number in listing.content.decode()
        assert logged(personas.intake, "/staff/authorisations/") == [
            (personas.applicant_person.pk, "list", "identity_check")
        ]
        url = f"/staff/authorisations/{authorisation.pk}/"
        page = get(personas.intake, url)
        assert page.status_code == 200 and "Record the decision" in page.content.decode()
        document = get(personas.intake, url + "document/")
        assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
        # Downloaded, never cached on the way, never run as a page of the site.
        assert document["Content-Disposition"].startswith("attachment")
        assert (
            document["Cache-Control"] == "private, no-store"
            and "sandbox" in document["Content-Security-Policy"]
        )
        done = post(personas.intake, url, {"decision": "verify"})
        assert done.redirect_chain[-1][0] == "/staff/authorisations/"
        assert "The authorisation was verified." in done.content.decode()
        authorisation.refresh_from_db()
        assert authorisation.status == "verified" and authorisation.verified_by == personas.intake
        assert TransitionLog.objects.filter(transition="verify", object_id=authorisation.pk).exists()
        assert authorisation.number not in done.content.decode()  # no longer waiting
        assert "Record the decision" not in get(personas.intake, url).content.decode()

    def test_rejecting_needs_a_reason(self, personas: Personas, authorisation: Authorisation) -> None:
        url = f"/staff/authorisations/{authorisation.pk}/"
        refused = post(personas.intake, url, {"decision": "reject", "reason": " "})
        assert refused.status_code == 422
        authorisation.refresh_from_db()
        assert authorisation.status == "pending"
        post(personas.intake, url, {"decision": "reject", "reason": "签名与身份证不符"})
        authorisation.refresh_from_db()
        assert authorisation.status == "rejected"

    def test_a_decided_authorisation_is_not_decided_again(
        self, personas: Personas, authorisation: Authorisation
    ) -> None:
        url = f"/staff/authorisations/{authorisation.pk}/"
        post(personas.intake, url, {"decision": "verify"})
        again = post(personas.intake, url, {"decision": "reject", "reason": "x"})
        assert again.status_code == 409
        authorisation.refresh_from_db()
        assert authorisation.status == "verified"

    @pytest.mark.parametrize("who", ["officer", "reviewer", "auditor", "applicant", "admin"])
    def test_only_intake_gets_in(self, personas: Personas, authorisation: Authorisation, who: str) -> None:
        user = getattr(personas, who)
        for url in ("/staff/authorisations/", f"/staff/authorisations/{authorisation.pk}/"):
            assert get(user, url).status_code == 403
        assert (
            browser(user)
            .post(f"/staff/authorisations/{authorisation.pk}/", {"decision": "verify"})
            .status_code
            == 403
        )
        authorisation.refresh_from_db()
        assert authorisation.status == "pending" and not AccessLog.objects.filter(user=user).exists()

    def test_signed_out_goes_to_the_login_page(self, authorisation: Authorisation) -> None:
        response = browser().post(f"/staff/authorisations/{authorisation.pk}/", {"decision": "verify"})
        assert response.status_code == 302 and "login" in response["Location"]
        authorisation.refresh_from_db()
        assert authorisation.status == "pending"

    def test_unknown_is_404(self, personas: Personas) -> None:
        assert get(personas.intake, "/staff/authorisations/999999/").status_code == 404

    def test_the_list_costs_the_same_for_many(
        self, personas: Personas, django_assert_max_num_queries: Any
    ) -> None:
        agent = UserFactory(username="agent2", role="applicant")
        for n in range(30):  # one waits per agent and person
            Authorisation.objects.create(
                agent=agent, person=PersonFactory(name=f"委托人{n}"), document="authorisations/2026/x.pdf"
            )
        client = browser(personas.intake)
        with django_assert_max_num_queries(12):
            response = client.get("/staff/authorisations/?page=2")
        assert response.status_code == 200


# -- repaired case: letters and revocation -------------------------------------------------------------------
@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


@pytest.fixture
def repaired(personas: Personas, record: CreditRecord) -> RepairCase:
    case = file_repair(personas, record)
    repair_step(personas.officer, case["id"], "accept")
    repair_step(personas.officer, case["id"], "draft_decision", payload={"outcome": "approve"})
    assert repair_step(personas.reviewer, case["id"], "approve_decision").data["state"] == "repaired"
    return RepairCase.objects.get(pk=case["id"])


@pytest.fixture
def letter(repaired: RepairCase) -> Letter:
    letter = Letter.objects.get(object_id=repaired.pk, kind=LetterKind.REPAIR_DECISION)
    Letter.objects.filter(pk=letter.pk).update(
        state=LetterState.ISSUED, issued_at="2026-11-23T09:00:00+08:00"
    )
    letter.refresh_from_db()
    return letter


def service_url(case: RepairCase, letter: Letter) -> str:
    return f"/staff/cases/repair/{case.pk}/letters/{letter.pk}/service/"


class TestLetterService:
    def test_the_officer_records_service_by_post(
        self, personas: Personas, repaired: RepairCase, letter: Letter
    ) -> None:
        file_page = get(personas.officer, f"/staff/cases/repair/{repaired.pk}/").content.decode()
        assert service_url(repaired, letter) in file_page
        url = service_url(repaired, letter)
        assert get(personas.officer, url).status_code == 200
        done = post(
            personas.officer, url, {"method": "post", "served_at": "2026-11-23T09:30", "receipt": "EMS 1234"}
        )
        assert done.redirect_chain[-1][0] == f"/staff/cases/repair/{repaired.pk}/#letters-title"
        served = ServiceRecord.objects.get(letter=letter)
        assert (served.method, served.receipt, served.recorded_by) == ("post", "EMS 1234", personas.officer)
        assert "view" in {a for _p, a, _u in logged(personas.officer, url)}

    def test_intake_records_service_in_person(
        self, personas: Personas, repaired: RepairCase, letter: Letter
    ) -> None:
        post(
            personas.intake,
            service_url(repaired, letter),
            {"method": "in_person", "served_at": "2026-11-23T09:45", "receipt": "张伟 签收"},
        )
        assert ServiceRecord.objects.get(letter=letter).method == "in_person"

    @pytest.mark.parametrize(
        "data",
        [
            {"method": "post", "served_at": "2026-11-23T09:30", "receipt": " "},  # no receipt
            {"method": "post", "served_at": "2026-11-24T09:30", "receipt": "EMS"},  # future
            {"method": "electronic", "served_at": "2026-11-23T09:30", "receipt": ""},  # no consent
        ],
    )
    def test_a_refusal_writes_nothing(
        self, personas: Personas, repaired: RepairCase, letter: Letter, data: dict[str, str]
    ) -> None:
        response = post(personas.officer, service_url(repaired, letter), data)
        assert response.status_code == 422 and not ServiceRecord.objects.exists()

    def test_a_pending_letter_is_refused(self, personas: Personas, repaired: RepairCase) -> None:
        pending = Letter.objects.get(object_id=repaired.pk, kind=LetterKind.ACCEPTANCE)
        Letter.objects.filter(pk=pending.pk).update(state=LetterState.PENDING)
        response = post(
            personas.officer,
            service_url(repaired, pending),
            {"method": "post", "served_at": "2026-11-23T09:30", "receipt": "EMS"},
        )
        assert response.status_code == 409 and "not issued yet" in response.content.decode()
        assert not ServiceRecord.objects.exists()

    @pytest.mark.parametrize(
        ("who", "status"),
        [("reviewer", 403), ("auditor", 403), ("applicant", 403), ("other_officer", 404)],
    )
    def test_who_gets_in(
        self, personas: Personas, repaired: RepairCase, letter: Letter, who: str, status: int
    ) -> None:
        user = getattr(personas, who)
        url = service_url(repaired, letter)
        assert get(user, url).status_code == status
        data = {"method": "post", "served_at": "2026-11-23T09:30", "receipt": "EMS"}
        assert browser(user).post(url, data).status_code == status
        assert not ServiceRecord.objects.exists()

    def test_signed_out_and_another_cases_letter(
        self, personas: Personas, repaired: RepairCase, letter: Letter
    ) -> None:
        response = browser().get(service_url(repaired, letter))
        assert response.status_code == 302 and "login" in response["Location"]
        other = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
        notice = Letter.objects.get(object_id=other.pk, kind=LetterKind.REPAIR_NOTICE)
        assert get(personas.officer, service_url(repaired, notice)).status_code == 404


class TestRevocation:
    def url(self, case: RepairCase) -> str:
        return f"/staff/cases/repair/{case.pk}/revocations/"

    def test_officer_proposes_and_reviewer_approves(self, personas: Personas, repaired: RepairCase) -> None:
        file_page = get(personas.officer, f"/staff/cases/repair/{repaired.pk}/").content.decode()
        assert self.url(repaired) in file_page
        page = get(personas.officer, self.url(repaired))
        assert page.status_code == 200 and "Propose the revocation" in page.content.decode()
        done = post(
            personas.officer, self.url(repaired), {"ground": "false_materials", "facts": "缴款凭证系伪造"}
        )
        assert "The revocation was proposed" in done.content.decode()
        revocation = RepairRevocation.objects.get(case=repaired)
        assert revocation.state == "proposed" and revocation.opened_by == personas.officer
        assert "Propose the revocation" not in done.content.decode()  # one open revocation at a time
        decide = f"{self.url(repaired)}{revocation.pk}/"
        # The officer who proposed it cannot decide it.
        assert "Record the decision" not in get(personas.officer, decide).content.decode()
        refused = post(personas.officer, decide, {"decision": "approve"})
        assert refused.status_code == 403
        revocation.refresh_from_db()
        assert revocation.state == "proposed"
        assert "Record the decision" in get(personas.reviewer, decide).content.decode()
        approved = post(personas.reviewer, decide, {"decision": "approve"})
        assert "The revocation was approved" in approved.content.decode()
        revocation.refresh_from_db()
        repaired.refresh_from_db()
        assert revocation.state == "approved" and revocation.decided_by == personas.reviewer
        assert repaired.state == "revoked" and revocation.new_record is not None
        assert logged(personas.reviewer, decide)

    def test_the_reviewer_rejects_with_a_reason(self, personas: Personas, repaired: RepairCase) -> None:
        post(personas.officer, self.url(repaired), {"ground": "breach", "facts": "未履行承诺"})
        revocation = RepairRevocation.objects.get(case=repaired)
        decide = f"{self.url(repaired)}{revocation.pk}/"
        assert post(personas.reviewer, decide, {"decision": "reject"}).status_code == 422
        post(personas.reviewer, decide, {"decision": "reject", "reason": "证据不足"})
        revocation.refresh_from_db()
        repaired.refresh_from_db()
        assert revocation.state == "rejected" and repaired.state == "repaired"

    def test_the_reviewer_does_not_propose(self, personas: Personas, repaired: RepairCase) -> None:
        assert "Propose the revocation" not in get(personas.reviewer, self.url(repaired)).content.decode()
        refused = post(personas.reviewer, self.url(repaired), {"ground": "breach", "facts": "x"})
        assert refused.status_code == 403 and not RepairRevocation.objects.exists()

    def test_only_a_granted_repair(self, personas: Personas, record: CreditRecord) -> None:
        case = RepairCase.objects.get(pk=file_repair(personas, record)["id"])
        refused = post(personas.officer, self.url(case), {"ground": "breach", "facts": "x"})
        assert refused.status_code == 409 and not RepairRevocation.objects.exists()

    @pytest.mark.parametrize(
        ("who", "status"),
        [("intake", 403), ("head", 403), ("auditor", 403), ("applicant", 403), ("other_officer", 404)],
    )
    def test_who_gets_in(self, personas: Personas, repaired: RepairCase, who: str, status: int) -> None:
        user = getattr(personas, who)
        assert get(user, self.url(repaired)).status_code == status
        data = {"ground": "breach", "facts": "x"}
        assert browser(user).post(self.url(repaired), data).status_code == status
        assert not RepairRevocation.objects.exists()

    def test_another_departments_reviewer_cannot_decide(
        self, personas: Personas, repaired: RepairCase
    ) -> None:
        post(personas.officer, self.url(repaired), {"ground": "breach", "facts": "x"})
        revocation = RepairRevocation.objects.get(case=repaired)
        other_reviewer = UserFactory(
            username="env_reviewer", role="reviewer", department=personas.environment
        )
        decide = f"{self.url(repaired)}{revocation.pk}/"
        assert browser(other_reviewer).post(decide, {"decision": "approve"}).status_code == 404
        assert browser().post(decide, {"decision": "approve"}).status_code == 302
        revocation.refresh_from_db()
        assert revocation.state == "proposed"

    def test_not_for_other_case_kinds(self, personas: Personas, repaired: RepairCase) -> None:
        assert get(personas.officer, f"/staff/cases/objection/{repaired.pk}/revocations/").status_code == 404
