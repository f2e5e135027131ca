"""Deadline reports: overdue now, met and missed per department and kind, provisional deadlines; in the admin
and as `manage.py deadlines_report`; a constant number of queries, on indexes."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from credit import reports
from credit.models import CreditRecord, Deadline, Department, RuleSet
from credit.services.deadlines import close_deadline, open_deadline
from objections.models import Reconsideration
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from tests.objections.test_reconsideration import applied

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def _open(subject: Any, kind: str, start: date) -> Deadline:
    return open_deadline(subject=subject, kind=kind, start=start, ruleset=RuleSet.objects.in_force(start))


@pytest.fixture
def book(personas: Personas, office: Department) -> dict[str, Any]:
    """Deadlines of records of two departments and of a reconsideration (whose respondent is the market
    regulator and whose office decides), in every status. Today is Monday 2026-11-23."""
    market = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    environment = make_record(
        person=personas.other_person, department=personas.environment, decision_date=date(2026, 5, 31)
    )
    _repair, recon = applied(personas, market)  # reconsideration.accept and .supplement_request due 11-30
    reconsideration = Reconsideration.objects.get(pk=recon["id"])
    book = {
        "market": market,
        "environment": environment,
        "reconsideration": reconsideration,
        # record.mask is 10 working days: from 2 Nov due 16 Nov, from 5 Nov due 19 Nov, from 9 Nov due 23 Nov.
        "late": _open(market, "record.mask", date(2026, 11, 2)),
        "later": _open(environment, "record.mask", date(2026, 11, 5)),
        "today": _open(market, "record.mask", date(2026, 11, 9)),
        "met": _open(market, "record.mask", date(2026, 11, 3)),
        "missed": _open(environment, "record.mask", date(2026, 11, 3)),
        "cancelled": _open(environment, "record.mask", date(2026, 11, 4)),
        # Counted into 2027, for which chinese_calendar 1.11 has no data: provisional.
        "provisional": _open(market, "record.mask", date(2026, 12, 28)),
        "provisional_closed": _open(environment, "record.mask", date(2026, 12, 28)),
    }
    close_deadline(book["met"], status=Deadline.Status.MET)
    close_deadline(book["missed"], status=Deadline.Status.MISSED)
    close_deadline(book["cancelled"], status=Deadline.Status.CANCELLED)
    close_deadline(book["provisional_closed"], status=Deadline.Status.CANCELLED)
    return book


class TestOverdue:
    def test_pending_deadlines_past_their_due_moment_longest_overdue_first(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        page = reports.overdue_now()
        assert [row.id for row in page.rows] == [book["late"].pk, book["later"].pk]
        late, later = page.rows
        assert (late.due_date, late.days_overdue) == (date(2026, 11, 16), 7)
        assert (late.department, late.department_id) == (personas.market.name, personas.market.pk)
        assert late.subject_type == "credit.creditrecord" and late.subject_number == book["market"].number
        assert (later.department, later.days_overdue) == (personas.environment.name, 4)
        assert page.next is None

    def test_a_deadline_is_overdue_from_24_00_on_its_due_day(
        self, book: dict[str, Any], office: Department, time_machine
    ) -> None:  # type: ignore[no-untyped-def]
        time_machine.move_to("2026-11-23T23:59:59+08:00", tick=False)
        assert book["today"].pk not in {row.id for row in reports.overdue_now().rows}
        time_machine.move_to("2026-11-24T00:00:00+08:00", tick=False)
        row = next(row for row in reports.overdue_now().rows if row.id == book["today"].pk)
        assert row.days_overdue == 1

    def test_a_reconsideration_is_reported_under_its_office_not_the_respondent(
        self, personas: Personas, office: Department, book: dict[str, Any], time_machine
    ) -> None:  # type: ignore[no-untyped-def]
        time_machine.move_to("2026-12-01T09:00:00+08:00", tick=False)  # after 30 Nov, the recon's due day
        recon = book["reconsideration"]
        assert recon.department == personas.market  # the respondent
        rows = reports.overdue_now().rows
        theirs = [row for row in rows if row.subject_type == "objections.reconsideration"]
        assert {row.kind for row in theirs} == {
            "reconsideration.accept",
            "reconsideration.supplement_request",
        }
        assert {(row.department, row.subject_number) for row in theirs} == {(office.name, recon.number)}
        office_only = reports.overdue_now(departments={office.pk}).rows
        assert {row.id for row in office_only} == {row.id for row in theirs}
        market_only = reports.overdue_now(departments={personas.market.pk}).rows
        assert [row.id for row in market_only] == [book["late"].pk, book["today"].pk]
        assert [row.id for row in reports.overdue_now(kind="reconsideration.accept").rows] == [
            row.id for row in theirs if row.kind == "reconsideration.accept"
        ]

    def test_pages_follow_each_other_without_gaps_or_repeats(
        self, book: dict[str, Any], office: Department, time_machine
    ) -> None:  # type: ignore[no-untyped-def]
        time_machine.move_to("2026-12-01T09:00:00+08:00", tick=False)
        everything = [row.id for row in reports.overdue_now(limit=reports.MAX_PAGE).rows]
        assert len(everything) == 5
        seen: list[int] = []
        after = None
        while True:
            page = reports.overdue_now(limit=2, after=after)
            seen += [row.id for row in page.rows]
            if page.next is None:
                break
            after = reports.Cursor.parse(str(page.next))
        assert seen == everything

    def test_bad_pages_are_refused_with_reasons(self, db: None) -> None:
        with translation.override("en"):
            with pytest.raises(ValueError, match="1 to 500 rows, not 0"):
                reports.overdue_now(limit=0)
            with pytest.raises(ValueError, match="1 to 500 rows, not 501"):
                reports.provisional_pending(limit=501)
            with pytest.raises(ValueError, match=r"Not a page position: '2026-13-01\.4'"):
                reports.Cursor.parse("2026-13-01.4")
            with pytest.raises(ValueError, match="Not a page position"):
                reports.Cursor.parse("2026-11-01")


def test_met_and_missed_per_department_and_kind(
    personas: Personas, office: Department, book: dict[str, Any]
) -> None:
    found = {
        (o.department, o.kind): (o.met, o.missed, o.pending, o.extended, o.cancelled)
        for o in reports.outcomes(start=date(2026, 11, 16), end=date(2026, 11, 30))
    }
    # Due 16 Nov … 30 Nov: record.mask from 2, 3, 4, 5 and 9 Nov; the reconsideration's two on 30 Nov; the
    # refused repair's deadlines (accept, decide, total) due from 26 Nov to 2 Dec.
    market, environment = personas.market.name, personas.environment.name
    assert found[(market, "record.mask")] == (1, 0, 2, 0, 0)
    assert found[(environment, "record.mask")] == (0, 1, 1, 0, 1)
    assert found[(office.name, "reconsideration.accept")] == (0, 0, 1, 0, 0)
    assert found[(office.name, "reconsideration.supplement_request")] == (0, 0, 1, 0, 0)
    assert (market, "reconsideration.accept") not in found
    repair_rows = {kind: counts for (dept, kind), counts in found.items() if kind.startswith("repair.")}
    expected: dict[str, list[int]] = {}
    statuses = ["met", "missed", "pending", "extended", "cancelled"]
    for deadline in Deadline.objects.filter(
        kind__startswith="repair.", due_date__range=(date(2026, 11, 16), date(2026, 11, 30))
    ):
        expected.setdefault(deadline.kind, [0] * 5)[statuses.index(deadline.status)] += 1
    assert repair_rows == {kind: tuple(counts) for kind, counts in expected.items()} and repair_rows
    # One day only: the deadlines due that day.
    only = reports.outcomes(start=date(2026, 11, 16), end=date(2026, 11, 16))
    assert [(o.department, o.kind, o.met, o.missed, o.pending, o.total) for o in only] == [
        (market, "record.mask", 0, 0, 1, 1)
    ]
    assert reports.outcomes(start=date(2026, 11, 16), end=date(2026, 11, 30), departments={office.pk}) == [
        o
        for o in reports.outcomes(start=date(2026, 11, 16), end=date(2026, 11, 30))
        if o.department == office.name
    ]
    # A deadline of a model the reports do not know a department of is still counted, without one.
    stray = _open(personas.market, "record.mask", date(2026, 11, 2))
    close_deadline(stray, status=Deadline.Status.MET)
    unknown = [
        o for o in reports.outcomes(start=date(2026, 11, 16), end=date(2026, 11, 16)) if not o.department
    ]
    assert [(o.department_id, o.kind, o.met, o.total) for o in unknown] == [(None, "record.mask", 1, 1)]
    with translation.override("en"), pytest.raises(ValueError, match="starts \\(2026-12-01\\) after"):
        reports.outcomes(start=date(2026, 12, 1), end=date(2026, 11, 30))


def test_met_and_missed_is_one_grouped_query(
    office: Department, book: dict[str, Any], django_assert_num_queries: Any
) -> None:
    reports.outcomes(
        start=date(2026, 11, 1), end=date(2026, 11, 30)
    )  # content types cached, as in any process
    with django_assert_num_queries(1):
        reports.outcomes(start=date(2026, 11, 1), end=date(2026, 11, 30))


def test_provisional_deadlines_are_the_pending_ones_counted_over_a_year_without_official_data(
    personas: Personas, office: Department, book: dict[str, Any]
) -> None:
    assert book["provisional"].provisional and book["provisional"].due_date.year == 2027
    assert not book["late"].provisional
    page = reports.provisional_pending()
    assert [row.id for row in page.rows] == [book["provisional"].pk]
    assert page.rows[0].department == personas.market.name and page.rows[0].days_overdue == 0
    assert reports.provisional_pending(departments={personas.environment.pk}).rows == []


def test_a_page_costs_the_same_queries_for_two_rows_as_for_twenty(
    personas: Personas, office: Department, book: dict[str, Any], time_machine
) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to("2026-12-01T09:00:00+08:00", tick=False)
    reports.overdue_now()  # content types cached
    with CaptureQueriesContext(connection) as few:
        assert len(reports.overdue_now(limit=2).rows) == 2
    for start in range(2, 20):
        _open(book["environment"], "record.mask", date(2026, 10, start))
    with CaptureQueriesContext(connection) as many:
        assert len(reports.overdue_now(limit=20).rows) == 20
    with CaptureQueriesContext(connection) as provisional:
        reports.provisional_pending(limit=20)
    assert len(few) == len(many) == len(provisional) == 1


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_lists_read_the_index_of_pending_deadlines_on_postgresql(
    personas: Personas, office: Department, book: dict[str, Any]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (set DATABASE_URL)")
    with connection.cursor() as cursor:
        # With sequential scans priced out, a table still read in full is one no index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    reports.overdue_now(departments={personas.market.pk})  # content types cached
    with CaptureQueriesContext(connection) as queries:
        reports.overdue_now()
        reports.overdue_now(departments={personas.market.pk}, kind="record.mask")
        reports.provisional_pending()
    assert len(queries) == 3
    for query in queries:
        plan = _plan(query["sql"])
        # Pending deadlines by due date; the provisional ones have their own, smaller index.
        assert "deadline_pending" in plan or "deadline_provisional" in plan, plan
        assert "Seq Scan" not in plan, plan


def test_met_and_missed_reads_each_subject_by_its_primary_key_on_postgresql(
    office: Department, book: dict[str, Any]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (set DATABASE_URL)")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    reports.overdue_now()  # content types cached
    with CaptureQueriesContext(connection) as queries:
        reports.outcomes(start=date(2026, 11, 1), end=date(2026, 11, 30))
    plan = _plan(queries[0]["sql"])
    for table in ("credit_creditrecord", "objections_reconsideration", "repair_repaircase"):
        assert f"Seq Scan on {table}" not in plan, plan
    assert "_pkey" in plan, plan


class TestAdmin:
    URL = "/admin/credit/deadline/"

    def client_for(self, user: Any) -> Client:
        user.is_staff = True
        user.save()
        client = Client()
        client.force_login(user)
        return client

    def test_an_auditor_reads_the_three_reports_linked_from_the_changelist(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        client = self.client_for(personas.auditor)
        with translation.override("en"):
            changelist = client.get(self.URL, HTTP_ACCEPT_LANGUAGE="en")
        assert changelist.status_code == 200
        assert f'href="{self.URL}report/"' in changelist.content.decode()
        report = client.get(f"{self.URL}report/", {"start": "2026-11-16", "end": "2026-11-30"})
        assert report.status_code == 200
        assert [row.id for row in report.context["overdue"].rows] == [book["late"].pk, book["later"].pk]
        assert [row.id for row in report.context["provisional"].rows] == [book["provisional"].pk]
        assert {o.department for o in report.context["outcomes"]} == {
            personas.market.name,
            personas.environment.name,
            office.name,
        }
        body = report.content.decode()
        assert book["market"].number in body and office.name in body

    def test_the_changelist_filters_overdue_provisional_kind_and_department(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        client = self.client_for(personas.auditor)

        def ids(**query: str) -> set[int]:
            response = client.get(self.URL, query)
            assert response.status_code == 200
            return {deadline.pk for deadline in response.context["cl"].result_list}

        assert ids(overdue="yes") == {book["late"].pk, book["later"].pk}
        assert book["late"].pk not in ids(overdue="no") and book["today"].pk in ids(overdue="no")
        assert ids(provisional__exact="1") == {book["provisional"].pk, book["provisional_closed"].pk}
        assert ids(kind="reconsideration.accept") == set(
            Deadline.objects.filter(kind="reconsideration.accept").values_list("pk", flat=True)
        )
        assert ids(department=str(office.pk)) == set(
            Deadline.objects.filter(
                object_id=book["reconsideration"].pk, kind__startswith="reconsideration."
            ).values_list("pk", flat=True)
        )
        assert ids(department="x") == set()

    def test_deadlines_stay_read_only(self, personas: Personas, book: dict[str, Any]) -> None:
        client = Client()
        client.force_login(personas.admin)
        assert client.get(f"{self.URL}add/").status_code == 403
        change = client.post(f"{self.URL}{book['late'].pk}/change/", {"due_date": "2027-01-01"})
        assert change.status_code in (302, 403)
        book["late"].refresh_from_db()
        assert book["late"].due_date == date(2026, 11, 16)

    def test_department_staff_see_their_departments_only(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        officer = UserFactory(username="env_officer", role="officer", department=personas.environment)
        report = self.client_for(officer).get(f"{self.URL}report/")
        assert report.status_code == 200
        assert [row.id for row in report.context["overdue"].rows] == [book["later"].pk]
        assert {o.department for o in report.context["outcomes"]} <= {personas.environment.name}
        # Staff of no department see nothing.
        assert reports.overdue_now(departments=frozenset()).rows == []
        assert (
            reports.outcomes(start=date(2026, 11, 1), end=date(2026, 11, 30), departments=frozenset()) == []
        )
        # Another department cannot be asked for.
        other = self.client_for(officer).get(f"{self.URL}report/", {"department": personas.market.pk})
        assert "overdue" not in other.context and other.context["form"].errors["department"]

    def test_staff_without_the_permission_are_refused(self, book: dict[str, Any]) -> None:
        clerk = UserFactory(username="clerk")
        assert self.client_for(clerk).get(f"{self.URL}report/").status_code == 403

    def test_bad_input_is_shown_not_raised(self, personas: Personas, book: dict[str, Any]) -> None:
        client = self.client_for(personas.auditor)
        with translation.override("en"):
            response = client.get(
                f"{self.URL}report/",
                {"start": "2026-12-01", "end": "2026-11-01", "overdue_after": "nope"},
                HTTP_ACCEPT_LANGUAGE="en",
            )
        assert response.status_code == 200 and "overdue" not in response.context
        form = response.context["form"]
        assert form.errors["overdue_after"][0].startswith("Not a page position")
        next_page = client.get(f"{self.URL}report/", {"overdue_after": "2026-11-16." + str(book["late"].pk)})
        assert [row.id for row in next_page.context["overdue"].rows] == [book["later"].pk]


class TestCommand:
    def run(self, *args: str) -> str:
        out = io.StringIO()
        with translation.override("en"):
            call_command("deadlines_report", *args, stdout=out)
        return out.getvalue()

    def test_text_by_default(self, personas: Personas, office: Department, book: dict[str, Any]) -> None:
        text = self.run("--from", "2026-11-16", "--to", "2026-11-30")
        overdue, outcomes, provisional = text.split("\n\n")
        assert overdue.splitlines()[0] == "Overdue now"
        assert "2026-11-16" in overdue.splitlines()[1] and "7 day(s) overdue" in overdue.splitlines()[1]
        assert personas.environment.name in overdue.splitlines()[2]
        assert outcomes.splitlines()[0] == "Met and missed, due from 2026-11-16 to 2026-11-30"
        assert any(office.name in line and "reconsideration.accept" in line for line in outcomes.splitlines())
        assert book["market"].number in provisional and "2027-" in provisional

    def test_json_and_limit(self, office: Department, book: dict[str, Any]) -> None:
        body = json.loads(self.run("--format", "json", "--limit", "1", "--from", "2026-11-16"))
        assert [row["id"] for row in body["overdue"]["rows"]] == [book["late"].pk]
        assert body["overdue"]["next"] == f"2026-11-16.{book['late'].pk}"
        assert body["outcomes"]["from"] == "2026-11-16" and body["outcomes"]["to"] == "2026-11-23"
        mask = next(r for r in body["outcomes"]["rows"] if r["kind"] == "record.mask" and r["met"] == 1)
        assert (mask["pending"], mask["total"]) == (2, 3)
        after = json.loads(self.run("--format", "json", "--limit", "1", "--after", body["overdue"]["next"]))
        assert [row["id"] for row in after["overdue"]["rows"]] == [book["later"].pk]

    def test_csv(self, personas: Personas, office: Department, book: dict[str, Any]) -> None:
        blocks = self.run("--format", "csv", "--department", "market").strip().split("\n\n")
        overdue, provisional, outcomes = (list(csv.reader(io.StringIO(block))) for block in blocks)
        assert overdue[0][:3] == ["report", "id", "kind"]
        assert [row[1] for row in overdue[1:]] == [str(book["late"].pk)]
        assert [row[1] for row in provisional[1:]] == [str(book["provisional"].pk)]
        assert outcomes[0][:4] == ["report", "from", "to", "department"]
        assert {row[3] for row in outcomes[1:]} == {personas.market.name}

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--from", "2026-02-30"), "Not a date: '2026-02-30'"),
            (("--from", "2026-12-01", "--to", "2026-11-01"), "starts (2026-12-01) after it ends"),
            (("--limit", "0"), "1 to 500 rows, not 0"),
            (("--after", "yesterday"), "Not a page position"),
            (("--department", "nowhere"), "No department has the code 'nowhere'"),
        ],
    )
    def test_bad_input_is_a_clear_error(self, db: None, args: tuple[str, ...], message: str) -> None:
        with pytest.raises(CommandError) as error:
            self.run(*args)
        assert message in str(error.value)


def test_department_of_a_subject(personas: Personas, office: Department, book: dict[str, Any]) -> None:
    assert reports.department_of(book["reconsideration"]) == office
    assert reports.department_of(CreditRecord.objects.get(pk=book["market"].pk)) == personas.market
    assert reports.department_of(None) is None
