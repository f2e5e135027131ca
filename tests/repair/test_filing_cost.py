"""What filing costs: the statements of one filing, counted exactly (bench/intake.py measures the time), and
the rules and calendar it reads being current. The race of two filings: tests/services/test_filing_race.py."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from credit.models import CalendarDay, CreditRecord, Deadline, DeadlineRule, RuleSet, TransitionLog
from credit.services.rules import copy_as_new_version
from repair.models import Commitment, RepairCase
from repair.services import file_repair
from tests.conftest import Personas
from tests.factories import make_record

URL = "/api/v1/repairs/"
BODY = {"statement": "已缴清罚款并整改到位", "commitment_accepted": True}


def records(personas: Personas, count: int) -> list[CreditRecord]:
    return [
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, day)
        )
        for day in range(1, count + 1)
    ]


# Transaction bookkeeping: BEGIN and COMMIT in production, a savepoint inside a test's transaction.
BOOKKEEPING = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE")


def statements(queries: list[dict[str, Any]]) -> list[str]:
    """Each statement but the transaction's bookkeeping as its verb and main table, e.g. "INSERT
    repair_repaircase" (subqueries left out)."""
    shapes = []
    for query in queries:
        sql = query["sql"]
        verb = sql.split()[0].upper()
        if verb in BOOKKEEPING:
            continue
        if "nextval" in sql:
            shapes.append("SELECT nextval")
            continue
        outer = re.sub(r"\(SELECT[^()]*(\([^()]*\)[^()]*)*\)", "", sql)  # one level of parentheses in it
        table = re.search(r'(?:FROM|INTO|UPDATE)\s+"([a-z_]+)"', outer)
        shapes.append(f"{verb} {table.group(1)}" if table else verb)
    return shapes


def numbered() -> list[str]:
    if connection.vendor == "postgresql":
        return ["SELECT nextval", "INSERT repair_repaircase"]  # the id first, the number in the INSERT
    return ["INSERT repair_repaircase", "UPDATE repair_repaircase"]  # no sequence: the number after


@pytest.mark.django_db
def test_one_filing_over_http_costs_a_fixed_set_of_statements(personas: Personas) -> None:
    first, second = records(personas, 2)
    api = APIClient()
    api.force_login(personas.applicant)  # a session, as the portal has: its row and the user are read
    assert api.post(URL, {**BODY, "record": first.pk}, format="json").status_code == 201
    with CaptureQueriesContext(connection) as captured, TestCase.captureOnCommitCallbacks() as queued:
        response = api.post(URL, {**BODY, "record": second.pk}, format="json")
    assert response.status_code == 201, response.data
    case = RepairCase.objects.get(pk=response.data["id"])
    assert statements(captured.captured_queries) == [
        # The session, unless a shared cache holds it (CACHE_URL).
        *(["SELECT django_session"] if settings.SESSION_ENGINE.endswith(".db") else []),
        "SELECT credit_user",
        "SELECT auth_group",  # roles, for the scope
        "SELECT credit_authorisation",  # the persons the user acts for: by authorisation
        "SELECT credit_person",  # and their own
        "SELECT credit_creditrecord",  # the record, in scope, with its department
        "SELECT repair_repaircase",  # eligibility: another open repair?
        "SELECT credit_ruleset",  # which rule set and overlay are in force (one statement)
        *numbered(),
        "INSERT repair_commitment",
        "INSERT credit_transitionlog",
        "SELECT credit_calendarday",  # both deadlines from one read of the calendar
        "INSERT credit_deadline",  # and one INSERT
    ]
    # Everything the law asks for is there, in the one transaction; the flow and notices follow it.
    assert case.number == f"XF2026{case.pk:08d}"
    assert Commitment.objects.filter(case=case).count() == 1
    assert TransitionLog.objects.filter(object_id=case.pk, transition="file").count() == 1
    assert set(Deadline.objects.for_object(case).values_list("kind", flat=True)) == {
        "repair.accept",
        "repair.total",
    }
    assert len(queued) == 1  # after_filing, on commit


@pytest.mark.django_db
def test_the_service_alone_costs_a_fixed_number_of_statements(personas: Personas) -> None:
    first, second = records(personas, 2)
    file_repair(record=first, actor=personas.applicant, statement="已整改", commitment_accepted=True)
    record = CreditRecord.objects.select_related("department").get(pk=second.pk)
    with CaptureQueriesContext(connection) as captured:
        file_repair(record=record, actor=personas.applicant, statement="已整改", commitment_accepted=True)
    # The persons acted for were read by the first filing with this user object (they are kept on it, which
    # lives for one request), and the rule set and overlay rows are the process's.
    assert statements(captured.captured_queries) == [
        "SELECT repair_repaircase",
        "SELECT credit_ruleset",
        *numbered(),
        "INSERT repair_commitment",
        "INSERT credit_transitionlog",
        "SELECT credit_calendarday",
        "INSERT credit_deadline",
    ]


@pytest.mark.django_db
def test_a_rule_set_published_between_two_filings_governs_the_second(personas: Personas) -> None:
    first, second = records(personas, 2)
    before = file_repair(record=first, actor=personas.applicant, statement="已整改", commitment_accepted=True)
    current = RuleSet.objects.get(code="ndrc-order-36", version=1)
    assert before.ruleset == current  # and the process now keeps it
    newer = copy_as_new_version(current)
    DeadlineRule.objects.filter(ruleset=newer, kind="repair.accept").update(value=5)
    newer.commitment_text = current.commitment_text + "（修订）"
    newer.save()
    RuleSet.objects.filter(pk=newer.pk).update(published_at=timezone.now())  # as the admin publishes
    after = file_repair(record=second, actor=personas.applicant, statement="已整改", commitment_accepted=True)
    assert after.ruleset == newer
    assert Commitment.objects.get(case=after).text.endswith("（修订）")
    accept = Deadline.objects.for_object(after).get(kind="repair.accept")
    assert (accept.value, accept.ruleset_id, accept.due_date) == (5, newer.pk, date(2026, 11, 30))


@pytest.mark.django_db
def test_a_calendar_override_entered_between_two_filings_moves_the_second_ones_deadlines(
    personas: Personas,
) -> None:
    first, second = records(personas, 2)
    before = file_repair(record=first, actor=personas.applicant, statement="已整改", commitment_accepted=True)
    CalendarDay.objects.create(date=date(2026, 11, 25), kind=CalendarDay.Kind.HOLIDAY, name="临时调整")
    after = file_repair(record=second, actor=personas.applicant, statement="已整改", commitment_accepted=True)

    def due(case: RepairCase) -> list[date]:
        return list(Deadline.objects.for_object(case).order_by("kind").values_list("due_date", flat=True))

    assert due(before) == [date(2026, 11, 26), date(2026, 12, 7)]  # repair.accept, repair.total
    assert due(after) == [date(2026, 11, 27), date(2026, 12, 8)]
