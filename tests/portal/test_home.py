"""/my/: the applicant's records with their repair eligibility, their cases of the four kinds with the next
deadline's countdown, their letters; only theirs, only for applicants, in Chinese by default."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from credit.models import CreditRecord, Department
from credit.services.records import PenaltyInput
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from tests.portal.conftest import (
    act,
    browser,
    complaint_filed,
    objection_filed,
    reconsideration_filed,
    repair_filed,
    repair_refused,
)

pytestmark = pytest.mark.django_db
HOME = "/my/"


def english(user: Any) -> Client:
    client = browser(user)
    client.cookies["django_language"] = "en"
    return client


def test_signed_out_visitors_are_sent_to_the_login_page() -> None:
    for path in (
        HOME,
        "/my/cases/repair/1/",
        "/my/file/repair/",
        "/my/file/objection/evidence/",
        "/my/consent/",
    ):
        response = Client().get(path)
        assert response.status_code == 302 and response["Location"] == f"/login/?next={path}"


@pytest.mark.parametrize("role", ["officer", "reviewer", "head", "intake", "recon", "auditor"])
def test_staff_are_sent_to_their_workspace(personas: Personas, role: str) -> None:
    staff = browser(getattr(personas, role))
    for path in (
        HOME,
        "/my/cases/repair/1/",
        "/my/file/repair/record/",
        "/my/consent/",
        "/my/complaints/new/",
    ):
        response = staff.get(path)
        assert response.status_code == 302 and response["Location"] == "/staff/"
    assert staff.post("/my/file/repair/evidence/").status_code == 302


def test_the_page_is_in_chinese_by_default(personas: Personas) -> None:
    response = browser(personas.applicant).get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    assert "通知" in html  # the header's "Notifications", translated
    assert '<html lang="en">' in english(personas.applicant).get(HOME).content.decode()


def test_records_show_tier_periods_eligibility_and_the_objection_flag(
    personas: Personas, record: CreditRecord
) -> None:
    too_early = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 10, 1)
    )
    minor = make_record(
        person=personas.applicant_person,
        department=personas.market,
        decision_date=date(2026, 10, 1),
        tiers=("minor",),
    )
    objection = objection_filed(personas, record)
    act(objection, "forward", personas.intake)  # flags the record
    response = english(personas.applicant).get(HOME)
    rows = {row.record.pk: row for row in response.context["record_rows"]}
    assert rows[record.pk].answer.eligible and rows[record.pk].record.under_objection
    assert rows[too_early.pk].answer.first_date == date(2027, 1, 2)  # 3 months after 1 Oct, the day after
    assert not rows[minor.pk].answer.eligible and rows[minor.pk].may_apply_now  # the filing proves the duty
    html = response.content.decode()
    assert "You may apply now" in html and "the first possible date is 2027-01-02" in html
    assert "under objection" in html and "General (一般)" in html and "2027-05-31" in html  # display_until
    assert f"/my/file/repair/?record={record.pk}" in html
    assert f"/my/file/objection/?record={record.pk}" not in html  # an objection is open on it
    assert f"/my/cases/objection/{objection.pk}/" in html


def test_cases_of_the_four_kinds_with_the_next_deadline(
    personas: Personas, record: CreditRecord, office: Department
) -> None:
    other = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 3, 1)
    )
    refused = repair_refused(personas, other)
    recon = reconsideration_filed(personas, refused)
    repair = repair_filed(personas, record)
    objection = objection_filed(personas, record)
    complaint = complaint_filed(personas, repair)
    response = english(personas.applicant).get(HOME)
    rows = {(row.kind.slug, row.case.pk): row for row in response.context["cases"].rows}
    assert set(rows) == {
        ("repair", repair.pk),
        ("repair", refused.pk),
        ("objection", objection.pk),
        ("reconsideration", recon.pk),
        ("complaint", complaint.pk),
    }
    accept = rows[("repair", repair.pk)].next_clock
    assert accept.due_date == date(2026, 11, 26) and accept.countdown.label == "due in 3 working days"
    assert not accept.applicants_own
    assert rows[("objection", objection.pk)].next_clock.countdown.label == "due in 1 working day"
    assert rows[("repair", refused.pk)].next_clock is None  # decided: nothing pending
    html = response.content.decode()
    assert f"/my/cases/reconsideration/{recon.pk}/" in html and "due in 3 working days" in html
    assert "No deadline pending." in html


def test_another_applicant_sees_none_of_it(personas: Personas, record: CreditRecord) -> None:
    repair = repair_filed(personas, record)
    response = browser(personas.other_applicant).get(HOME)
    assert response.context["record_rows"] == [] and response.context["cases"].rows == []
    assert str(record.number) not in response.content.decode()
    assert str(repair.number) not in response.content.decode()


def test_an_account_without_a_verified_person_sees_an_explanation() -> None:
    newcomer = UserFactory(username="newcomer", role="applicant")
    client = english(newcomer)
    response = client.get(HOME)
    assert response.status_code == 200 and "not linked to a verified person" in response.content.decode()


def test_records_and_cases_are_paged(personas: Personas) -> None:
    for month in range(1, 13):
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2025, month, 10)
        )
    client = browser(personas.applicant)
    first = client.get(HOME)
    assert len(first.context["record_rows"]) == 10 and first.context["records"].has_next()
    second = client.get(HOME, {"records": 2})
    assert len(second.context["record_rows"]) == 2
    assert not {r.record.pk for r in first.context["record_rows"]} & {
        r.record.pk for r in second.context["record_rows"]
    }
    assert client.get(HOME, {"records": "x", "cases": "-3", "letters": "9"}).status_code == 200


def test_cases_of_every_kind_are_paged_newest_first(
    personas: Personas, record: CreditRecord, time_machine: Any
) -> None:
    repair = repair_filed(personas, record)
    complaints = []
    for minute in range(1, 12):
        time_machine.move_to(f"2026-11-23T10:{minute:02d}:00+08:00", tick=False)
        complaints.append(complaint_filed(personas, repair))
    client = browser(personas.applicant)
    first = client.get(HOME).context["cases"]
    assert [row.case for row in first.rows] == complaints[::-1][:10] and first.has_next
    second = client.get(HOME, {"cases": 2}).context["cases"]
    assert [row.case for row in second.rows] == [complaints[0], repair] and not second.has_next
    assert second.has_previous


def test_the_number_of_queries_does_not_grow_with_cases_and_records(
    personas: Personas, office: Department, django_assert_max_num_queries: Any
) -> None:
    client = browser(personas.applicant)

    def add_cases(count: int) -> None:
        for _n in range(count):
            first = make_record(
                person=personas.applicant_person, department=personas.market, decision_date=date(2026, 3, 1)
            )
            second = make_record(
                person=personas.applicant_person, department=personas.market, decision_date=date(2026, 4, 1)
            )
            repair = repair_filed(personas, first)
            objection_filed(personas, second)
            complaint_filed(personas, repair)
            reconsideration_filed(personas, repair_refused(personas, second))

    def cost() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HOME).status_code == 200
        return len(queries)

    client.get(HOME)  # caches (content types, the session) warmed as in a running server
    # One record, with one case on it.
    repair_filed(
        personas,
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2025, 1, 1)
        ),
    )
    one = cost()
    response = client.get(HOME)
    assert len(response.context["record_rows"]) == 1 and len(response.context["cases"].rows) == 1
    # A full page of records (eligibility of each, with and without an open repair) and of cases of every
    # kind, with more beyond the page: the same statements.
    for day in range(2, 21):
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2025, 1, day)
        )
    add_cases(4)
    with django_assert_max_num_queries(one):
        response = client.get(HOME)
    assert len(response.context["record_rows"]) == 10 and response.context["records"].has_next()
    assert len(response.context["cases"].rows) == 10 and response.context["cases"].has_next
    assert one <= 20, one


def test_a_record_with_a_penalty_of_its_own_term(personas: Personas) -> None:
    # A licence suspended for 6 months (its own term) never ends early: eligibility says when.
    from credit.periods import Period

    make_record(
        person=personas.applicant_person,
        department=personas.market,
        decision_date=date(2026, 9, 1),
        penalties=[PenaltyInput(kind="licence_suspension", tier="general", term=Period(6, "months"))],
    )
    response = browser(personas.applicant).get(HOME)
    (row,) = response.context["record_rows"]
    assert not row.answer.eligible and row.answer.first_date is not None


def test_an_agent_sees_the_persons_they_act_for(personas: Personas, record: CreditRecord) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from credit.models import Authorisation

    theirs = make_record(
        person=personas.other_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    authorisation = Authorisation.objects.create(
        agent=personas.applicant,
        person=personas.other_person,
        document=SimpleUploadedFile("authorisation.pdf", b"%PDF-1.4 signed"),
    )
    act(authorisation, "verify", personas.intake)
    client = english(personas.applicant)
    response = client.get(HOME)
    assert {row.record.pk for row in response.context["record_rows"]} == {record.pk, theirs.pk}
    html = response.content.decode()
    assert personas.other_person.name in html and personas.applicant_person.name in html
    consent = client.get("/my/consent/").content.decode()
    assert personas.other_person.name in consent
    client.post("/my/consent/", {"person": personas.other_person.pk, "action": "give"})
    from letters.services import consent_in_force

    assert consent_in_force(personas.other_person) is not None
    page = client.get("/my/file/repair/record/")
    assert {c["record"].pk for c in page.context["candidates"] if c["selectable"]} == {record.pk, theirs.pk}
    # The other applicant still sees only their own person's record.
    other = browser(personas.other_applicant).get(HOME)
    assert {row.record.pk for row in other.context["record_rows"]} == {theirs.pk}
