"""Deciding a letter: its number (文号), its frozen content, idempotency; service (送达) and consent."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from credit.models import CreditRecord
from credit.services.transitions import Forbidden, WrongState
from letters.models import Letter, LetterKind, LetterSequence, LetterState, ServiceMethod
from letters.services import (
    give_consent,
    issue_repair_notice,
    normalize_code,
    record_service,
    verify_code,
    withdraw_consent,
)
from tests.conftest import Personas
from tests.factories import make_record, resident_id

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _prefixes(personas: Personas) -> None:
    for dept, prefix in ((personas.market, "示市监"), (personas.environment, "示环")):
        dept.letter_prefix = prefix
        dept.save()


def notice(record: CreditRecord) -> Letter:
    return Letter.objects.for_object(record).get(kind=LetterKind.REPAIR_NOTICE)


def register(personas: Personas, department=None, decided: date = date(2026, 5, 31)) -> CreditRecord:  # type: ignore[no-untyped-def]
    return make_record(
        person=personas.applicant_person, department=department or personas.market, decision_date=decided
    )


def test_registering_a_record_decides_its_repair_notice(personas: Personas) -> None:
    record = register(personas)
    letter = notice(record)
    assert letter.state == LetterState.PENDING
    assert letter.reference_number == "示市监信〔2026〕1号"
    assert (letter.person, letter.department, letter.case_number) == (
        personas.applicant_person,
        personas.market,
        record.number,
    )
    assert len(letter.verification_code) == 12
    ctx = letter.context
    assert ctx["person"]["id_masked"] == personas.applicant_person.id_masked
    assert resident_id(1) not in str(ctx)  # never the full ID number
    assert ctx["record"]["repair_from"] == "2026-09-01" and ctx["record"]["display_until"] == "2027-05-31"
    assert (ctx["remedies"]["reconsideration_days"], ctx["remedies"]["litigation_months"]) == (60, 6)
    assert ctx["letter"]["verify_url"].endswith(f"/verify/{letter.verification_code}/")


def test_deciding_the_same_letter_twice_gives_the_same_letter(personas: Personas) -> None:
    record = register(personas)
    first = notice(record)
    assert issue_repair_notice(record) == first
    assert LetterSequence.objects.get(department=personas.market, year=2026).last_number == 1


def test_numbers_run_per_department_and_year(personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
    a, b = register(personas), register(personas, decided=date(2026, 6, 1))
    env = register(personas, department=personas.environment)
    assert [notice(r).reference_number for r in (a, b, env)] == [
        "示市监信〔2026〕1号",
        "示市监信〔2026〕2号",
        "示环信〔2026〕1号",
    ]
    time_machine.move_to("2027-01-04T09:00:00+08:00", tick=False)
    assert notice(register(personas, decided=date(2026, 12, 1))).reference_number == "示市监信〔2027〕1号"


def test_a_rolled_back_decision_gives_its_number_back(personas: Personas) -> None:
    register(personas)
    with pytest.raises(RuntimeError), transaction.atomic():
        register(personas, decided=date(2026, 6, 1))
        raise RuntimeError("the deciding transaction fails after the letter was numbered")
    assert notice(register(personas, decided=date(2026, 6, 2))).sequence == 2  # no gap


def test_verification_codes_are_forgiving_to_type() -> None:
    assert normalize_code("k7qm-3xda-9prt") == "K7QM3XDA9PRT"
    assert normalize_code("O1IL") == "0111"


def test_a_pending_letter_does_not_verify(personas: Personas) -> None:
    letter = notice(register(personas))
    assert verify_code(letter.verification_code).as_dict() == {
        "verdict": "unknown",
        "kind": "",
        "department": "",
        "reference_number": "",
        "issued_on": "",
        "sha256": "",
    }
    assert verify_code("not a code").verdict == "unknown"


class TestService:
    def test_a_pending_letter_cannot_be_served(self, personas: Personas) -> None:
        letter = notice(register(personas))
        with pytest.raises(WrongState):
            record_service(
                letter=letter,
                method=ServiceMethod.POST,
                served_at=datetime(2026, 11, 23, tzinfo=SHANGHAI),
                receipt="EMS 1234",
                actor=personas.officer,
            )

    @pytest.fixture
    def issued(self, personas: Personas) -> Letter:
        letter = notice(register(personas))
        # Issued without rendering: these tests are about service; generation has its own tests.
        Letter.objects.filter(pk=letter.pk).update(
            state=LetterState.ISSUED, issued_at=datetime(2026, 11, 23, 9, tzinfo=SHANGHAI)
        )
        letter.refresh_from_db()
        return letter

    def test_service_in_person_or_by_post_needs_a_receipt(self, personas: Personas, issued: Letter) -> None:
        when = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
        with pytest.raises(ValidationError) as exc:
            record_service(
                letter=issued, method=ServiceMethod.POST, served_at=when, receipt=" ", actor=personas.officer
            )
        assert exc.value.code == "receipt_required"
        record = record_service(
            letter=issued,
            method=ServiceMethod.POST,
            served_at=when,
            receipt="EMS 1234",
            actor=personas.officer,
        )
        assert issued.served_at == record.served_at == when

    def test_electronic_service_needs_consent(self, personas: Personas, issued: Letter) -> None:
        when = datetime(2026, 11, 23, 9, 30, tzinfo=SHANGHAI)
        with pytest.raises(ValidationError) as exc:
            record_service(
                letter=issued,
                method=ServiceMethod.ELECTRONIC,
                served_at=when,
                receipt="",
                actor=personas.intake,
            )
        assert exc.value.code == "no_consent"
        give_consent(person=personas.applicant_person, actor=personas.applicant)
        served = record_service(
            letter=issued, method=ServiceMethod.ELECTRONIC, served_at=when, receipt="", actor=personas.intake
        )
        assert served.consent is not None

    def test_the_service_date_is_plausible(self, personas: Personas, issued: Letter) -> None:
        for when, code in (
            (datetime(2026, 11, 24, 9, tzinfo=SHANGHAI), "future"),
            (datetime(2026, 11, 22, 9, tzinfo=SHANGHAI), "before_issue"),
        ):
            with pytest.raises(ValidationError) as exc:
                record_service(
                    letter=issued,
                    method=ServiceMethod.POST,
                    served_at=when,
                    receipt="EMS",
                    actor=personas.officer,
                )
            assert exc.value.code == code

    @pytest.mark.parametrize("who", ["other_officer", "applicant", "auditor", "reviewer"])
    def test_only_intake_and_the_departments_officers_record_service(
        self, personas: Personas, issued: Letter, who: str
    ) -> None:
        with pytest.raises(Forbidden):
            record_service(
                letter=issued,
                method=ServiceMethod.POST,
                served_at=issued.issued_at + timedelta(hours=1),
                receipt="EMS",
                actor=getattr(personas, who),
            )


class TestConsent:
    def test_the_person_gives_and_withdraws_their_own_consent(self, personas: Personas) -> None:
        consent = give_consent(person=personas.applicant_person, actor=personas.applicant)
        assert give_consent(person=personas.applicant_person, actor=personas.applicant) == consent  # once
        assert withdraw_consent(person=personas.applicant_person, actor=personas.applicant) == 1
        consent.refresh_from_db()
        assert consent.withdrawn_at is not None

    def test_nobody_else_but_intake_may(self, personas: Personas) -> None:
        with pytest.raises(Forbidden):
            give_consent(person=personas.applicant_person, actor=personas.other_applicant)
        with pytest.raises(Forbidden):
            give_consent(person=personas.applicant_person, actor=personas.officer)
        assert (
            give_consent(person=personas.applicant_person, actor=personas.intake).recorded_by
            == personas.intake
        )
