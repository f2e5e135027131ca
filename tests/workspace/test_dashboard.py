"""The staff dashboard (/staff/dashboard/): cases by type and state, overdue now, handling time against the
legal limit and the share of repairs within it, per department; figures checked against a small data set
computed by hand, who may see which departments, and a constant number of queries.

Today is Monday 2026-11-23 (tests/conftest.py); the default period is the 90 days 2026-08-26 … 2026-11-23."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from credit.models import CalendarDay, CityOverlay, CreditRecord, Deadline, Department, RuleSet
from credit.reports import overdue_now
from credit.services.deadlines import close_deadline, mark_missed_deadlines, open_deadline
from objections.complaint import Complaint
from objections.models import Objection
from objections.reconsideration import Reconsideration
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from workspace import charts, stats

pytestmark = pytest.mark.django_db
URL = "/staff/dashboard/"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def at(text: str) -> datetime:
    """A moment in Shanghai, e.g. "2026-11-02 00:30"."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def ruleset(on: str) -> RuleSet:
    return RuleSet.objects.in_force(date.fromisoformat(on))


_numbers = iter(range(1, 10_000))


def repair(
    personas: Personas, record: CreditRecord, state: str, received: str, decided: str | None = None
) -> RepairCase:
    return RepairCase.objects.create(
        number=f"XF-T{next(_numbers):05d}",
        record=record,
        person=record.person,
        department=record.department,
        ruleset=ruleset(received[:10]),
        channel=RepairCase.Channel.ONLINE,
        filed_by=personas.applicant,
        statement="已履行",
        received_at=at(received),
        state=state,
        decided_at=at(decided) if decided else None,
    )


def objection(
    personas: Personas,
    record: CreditRecord,
    state: str,
    received: str,
    accepted: str | None = None,
    decided: str | None = None,
) -> Objection:
    return Objection.objects.create(
        number=f"YY-T{next(_numbers):05d}",
        person=record.person,
        record=record,
        department=record.department,
        ruleset=ruleset(received[:10]),
        grounds=["record_wrong"],
        statement="记录有误",
        channel=Objection.Channel.ONLINE,
        filed_by=personas.applicant,
        received_at=at(received),
        state=state,
        accepted_at=at(accepted) if accepted else None,
        decided_at=at(decided) if decided else None,
    )


def reconsideration(
    personas: Personas,
    office: Department,
    challenged: RepairCase,
    received: str,
    accepted: str,
    decided: str,
    *,
    simplified: bool,
) -> Reconsideration:
    return Reconsideration.objects.create(
        number=f"FY-T{next(_numbers):05d}",
        person=challenged.person,
        record=challenged.record,
        repair_case=challenged,
        department=challenged.department,
        office=office,
        ruleset=ruleset(received[:10]),
        request="撤销",
        statement="理由",
        knew_on=date.fromisoformat(received[:10]),
        channel=Reconsideration.Channel.ONLINE,
        filed_by=personas.applicant,
        received_at=at(received),
        state="decided",
        accepted_at=at(accepted),
        simplified=simplified,
        decided_at=at(decided),
    )


def complaint(
    personas: Personas, department: Department, state: str, received: str, replied: str | None = None
) -> Complaint:
    return Complaint.objects.create(
        number=f"TS-T{next(_numbers):05d}",
        person=personas.applicant_person,
        department=department,
        about=Complaint.About.HANDLING,
        statement="处理太慢",
        ruleset=ruleset(received[:10]),
        channel=Complaint.Channel.ONLINE,
        filed_by=personas.applicant,
        received_at=at(received),
        state=state,
        replied_at=at(replied) if replied else None,
    )


def deadline(subject: Any, kind: str, start: str) -> Deadline:
    day = date.fromisoformat(start)
    return open_deadline(subject=subject, kind=kind, start=day, ruleset=RuleSet.objects.in_force(day))


@pytest.fixture
def book(personas: Personas, office: Department) -> dict[str, Any]:
    """Cases of the market regulator, the environment bureau and the reconsideration office, with the
    durations worked out by hand in the comments (WD: working days after the start day up to the end day)."""
    market = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    environment = make_record(
        person=personas.other_person, department=personas.environment, decision_date=date(2026, 5, 31)
    )
    book: dict[str, Any] = {"market": market, "environment": environment}
    # Market repairs decided in the period.
    # A: received Mon 2 Nov 00:30 in Shanghai (still Sunday 1 Nov in UTC), decided Fri 6 Nov 23:30 (15:30
    # UTC): 3, 4, 5, 6 Nov = 4 WD. Counted in UTC it would be 5.
    book["A"] = repair(personas, market, "repaired", "2026-11-02 00:30", "2026-11-06 23:30")
    book["B"] = repair(personas, market, "refused", "2026-11-06 10:00", "2026-11-09 10:00")  # 1 WD
    book["C"] = repair(personas, market, "repaired", "2026-11-02 09:00", "2026-11-16 16:00")  # 10 WD
    book["D"] = repair(personas, market, "repaired", "2026-11-02 09:00", "2026-11-17 16:00")  # 11 WD
    book["E"] = repair(personas, market, "not_accepted", "2026-11-07 11:00", "2026-11-09 09:00")  # Sat → 1
    # H: received before the period (3 Aug), decided in it (31 Aug): 4 + 5 + 5 + 5 + 1 = 20 WD.
    book["H"] = repair(personas, market, "repaired", "2026-08-03 09:00", "2026-08-31 17:00")
    book["G"] = repair(personas, market, "submitted", "2026-11-10 09:00")  # open
    # Environment: F 10 Nov … 20 Nov = 9 WD; L received in 2025 under Order 58, beyond the calendar window.
    book["F"] = repair(personas, environment, "repaired", "2026-11-09 09:00", "2026-11-20 09:00")
    book["L"] = repair(personas, environment, "repaired", "2025-08-01 09:00", "2026-11-20 09:00")
    # Objections, from acceptance to the decision against objection.verify (7 WD). O1 runs over National
    # Day 2026: 1–7 Oct off, Sat 10 Oct an adjusted working day: 8, 9, 10, 12 Oct = 4 WD.
    book["O1"] = objection(
        personas, market, "decided", "2026-09-29 09:00", "2026-09-30 10:00", "2026-10-12 10:00"
    )
    # O2: 3, 4, 5, 6, 9, 10, 11, 12 Nov = 8 WD, over the limit.
    book["O2"] = objection(
        personas, market, "decided", "2026-11-01 09:00", "2026-11-02 10:00", "2026-11-12 10:00"
    )
    book["O3"] = objection(personas, environment, "forwarded", "2026-11-10 09:00")  # open
    # Reconsiderations, decided by the office, in calendar days: R1 1 Sep → 10 Nov = 70 days against 60;
    # R2 (simplified) 20 Oct → 10 Nov = 21 days against 30.
    book["R1"] = reconsideration(
        personas,
        office,
        book["B"],
        "2026-08-28 09:00",
        "2026-09-01 09:00",
        "2026-11-10 09:00",
        simplified=False,
    )
    book["R2"] = reconsideration(
        personas,
        office,
        book["E"],
        "2026-10-19 09:00",
        "2026-10-20 09:00",
        "2026-11-10 09:00",
        simplified=True,
    )
    # Complaints: 2 Nov → 20 Nov = 18 calendar days against 30; one open in the environment bureau.
    book["K1"] = complaint(personas, personas.market, "replied", "2026-11-02 10:00", "2026-11-20 10:00")
    book["K2"] = complaint(personas, personas.environment, "submitted", "2026-11-18 10:00")
    # Deadlines. Overdue now (pending, last day passed): G's acceptance (3 WD from 10 Nov: 13 Nov), the
    # market record's mask (10 WD from 2 Nov: 16 Nov), O3's forwarding (1 WD from 10 Nov: 11 Nov).
    book["late_accept"] = deadline(book["G"], "repair.accept", "2026-11-10")
    book["late_mask"] = deadline(market, "record.mask", "2026-11-02")
    book["late_forward"] = deadline(book["O3"], "objection.forward", "2026-11-10")
    deadline(book["K2"], "complaint.reply", "2026-11-18")  # due 18 Dec: not overdue
    # Due in the period and closed: C's total met, D's total missed (both due 16 Nov).
    close_deadline(deadline(book["C"], "repair.total", "2026-11-02"), status=Deadline.Status.MET)
    close_deadline(deadline(book["D"], "repair.total", "2026-11-02"), status=Deadline.Status.MISSED)
    return book


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def get(user: Any, query: str = "") -> Any:
    with translation.override("en"):
        return browser(user).get(URL + query, HTTP_ACCEPT_LANGUAGE="en")


class TestFigures:
    def test_handling_time_per_type_against_the_limit_of_each_rule_set(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        handling = stats.handling_times(personas.auditor, period=stats.Period.last_days(90), departments=None)
        repairs = handling.overall["repair"]
        # 1, 1, 4, 9, 10, 11, 20 WD and one beyond the window (L): the median is the 4th: 9; the 90th
        # percentile the 8th, beyond the window.
        assert repairs.counts == {1: 2, 4: 1, 9: 1, 10: 1, 11: 1, 20: 1} and repairs.beyond_window == 1
        assert (repairs.total, repairs.median, repairs.p90) == (8, 9, None)
        assert repairs.within == 5 and repairs.limit_range == (10, 10) and repairs.unit == "wd"

        market = handling.by_department[("repair", personas.market.pk)]
        assert sorted(market.counts.items()) == [(1, 2), (4, 1), (10, 1), (11, 1), (20, 1)]
        assert (market.median, market.p90, market.within, market.total) == (4, 20, 4, 6)
        environment = handling.by_department[("repair", personas.environment.pk)]
        assert (environment.median, environment.p90, environment.within) == (9, None, 1)

        objections = handling.overall["objection"]
        assert objections.counts == {4: 1, 8: 1}
        assert (objections.median, objections.p90, objections.within, objections.limit_range) == (
            4,
            8,
            1,
            (7, 7),
        )

        reconsiderations = handling.by_department[("reconsideration", office.pk)]
        assert reconsiderations.counts == {21: 1, 70: 1} and reconsiderations.unit == "cd"
        assert (reconsiderations.within, reconsiderations.limit_range) == (1, (30, 60))

        complaints = handling.overall["complaint"]
        assert complaints.counts == {18: 1} and complaints.within == 1 and complaints.unit == "cd"

    def test_a_calendar_override_counts_like_it_does_for_deadlines(
        self, personas: Personas, book: dict[str, Any]
    ) -> None:
        CalendarDay.objects.create(date=date(2026, 11, 4), kind=CalendarDay.Kind.HOLIDAY, name="台风")
        handling = stats.handling_times(
            personas.head, period=stats.Period(date(2026, 11, 6), date(2026, 11, 6)), departments=None
        )
        assert handling.overall["repair"].counts == {3: 1}  # A alone, 4 Nov no longer a working day

    def test_cases_received_in_the_period_by_type_department_and_state(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        counts = {
            (c.case_type, c.department_id, c.state): c.count
            for c in stats.cases_by_state(
                personas.auditor, period=stats.Period.last_days(90), departments=None
            )
        }
        market, environment = personas.market.pk, personas.environment.pk
        assert counts == {
            ("repair", market, "repaired"): 3,  # A, C, D (H was received before the period)
            ("repair", market, "refused"): 1,
            ("repair", market, "not_accepted"): 1,
            ("repair", market, "submitted"): 1,
            ("repair", environment, "repaired"): 1,  # F (L was received in 2025)
            ("objection", market, "decided"): 2,
            ("objection", environment, "forwarded"): 1,
            ("reconsideration", office.pk, "decided"): 2,  # under the office that decides them
            ("complaint", market, "replied"): 1,
            ("complaint", environment, "submitted"): 1,
        }

    def test_overdue_now_counts_the_rows_the_deadline_report_lists(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        counts = {(c.department_id, c.kind): c.count for c in stats.overdue_counts()}
        assert counts == {
            (personas.market.pk, "repair.accept"): 1,
            (personas.market.pk, "record.mask"): 1,
            (personas.environment.pk, "objection.forward"): 1,
        }
        assert stats.overdue_counts(departments={personas.environment.pk}) == [
            stats.OverdueCount(personas.environment.pk, "objection.forward", 1)
        ]
        # The sweep marks them missed; they stay overdue, and counted, until their steps are taken.
        mark_missed_deadlines()
        assert {(c.department_id, c.kind): c.count for c in stats.overdue_counts()} == counts
        assert sum(counts.values()) == len(overdue_now().rows)

    def test_percentiles_are_nearest_rank(self) -> None:
        histogram = stats.Histogram()
        for value in (5, 1, 3, 2, 4, 6, 7, 8, 9, 10):
            histogram.add(value, 1, stats.Limit("repair.total", 5, "wd"))
        assert (histogram.median, histogram.p90, histogram.percentile(0.91), histogram.within) == (
            5,
            9,
            10,
            5,
        )
        assert stats.Histogram().median is None and stats.Histogram().share_within is None


def publish(overlay: CityOverlay) -> CityOverlay:
    CityOverlay.objects.filter(pk=overlay.pk).update(published_at=at("2025-12-01 00:00"))
    return overlay


def extension(subject: Any, kind: str, value: int, start: str) -> Deadline:
    """The deadline an approved extension left on a case (as services.extend_… write it)."""
    day = date.fromisoformat(start)
    return Deadline.objects.create(
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        kind=kind,
        description="延期",
        ruleset=RuleSet.objects.in_force(day),
        basis="负责人批准",
        value=value,
        unit="wd",
        start_date=day,
        due_date=day,
        status=Deadline.Status.MET,
    )


class TestOwnLimits:
    def test_a_complaint_is_compared_with_its_citys_period_when_the_city_sets_one(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        # The departments' city replies within 10 days from 2026 (version 1); version 2, from 10 Nov, sets
        # no period of its own: the rule set's 30 days again. Another city's 5 days ended in January.
        city = personas.market.city
        publish(
            CityOverlay.objects.create(
                city=city, version=1, effective_from=date(2026, 1, 1), complaint_reply_days=10
            )
        )
        publish(CityOverlay.objects.create(city=city, version=2, effective_from=date(2026, 11, 10)))
        publish(
            CityOverlay.objects.create(
                city="别市",
                version=1,
                effective_from=date(2026, 1, 1),
                complaint_reply_days=5,
                effective_until=date(2026, 1, 31),
            )
        )
        elsewhere = Department.objects.create(code="elsewhere", name="别市市场监督管理局", city="别市")
        # K1 (market, 2 → 20 Nov, 18 days) under version 1: over its 10 days.
        # One received on 10 Nov (12 days) under version 2: within 30. Elsewhere 18 days: within 30.
        complaint(personas, personas.market, "replied", "2026-11-10 10:00", "2026-11-22 10:00")
        complaint(personas, elsewhere, "replied", "2026-11-02 10:00", "2026-11-20 10:00")
        handling = stats.handling_times(personas.auditor, period=stats.Period.last_days(90), departments=None)
        complaints = handling.overall["complaint"]
        assert complaints.counts == {18: 2, 12: 1} and complaints.within == 2
        assert complaints.limit_range == (10, 30) and complaints.extended == 0
        assert handling.by_department[("complaint", personas.market.pk)].within == 1  # the one of 10 Nov
        assert handling.by_department[("complaint", elsewhere.pk)].within == 1

    def test_the_period_is_the_one_a_complaint_was_given_at_filing(self, personas: Personas) -> None:
        from objections.complaint_services import reply_due

        publish(
            CityOverlay.objects.create(
                city=personas.market.city, version=1, effective_from=date(2026, 1, 1), complaint_reply_days=10
            )
        )
        _due, days, _basis = reply_due(personas.market, ruleset("2026-11-02"), date(2026, 11, 2))
        assert days == 10
        complaint(personas, personas.market, "replied", "2026-11-02 10:00", "2026-11-13 10:00")  # 11 days
        handling = stats.handling_times(personas.auditor, period=stats.Period.last_days(90), departments=None)
        assert (handling.overall["complaint"].within, handling.overall["complaint"].limit_range) == (
            0,
            (10, 10),
        )

    def test_an_extended_case_is_compared_with_its_extended_limit(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        market = book["market"]
        # A repair extended by the rule set's 10 WD: 2 → 19 Nov is 13 WD, within 10 + 10.
        extended = repair(personas, market, "repaired", "2026-11-02 09:00", "2026-11-19 16:00")
        RepairCase.objects.filter(pk=extended.pk).update(extended=True)
        # Objections accepted 2 Nov, decided 12 Nov: 8 WD. One extended by 5 WD (the head's choice, kept
        # in its deadline): within 7 + 5. One marked extended without its deadline: its plain 7 WD.
        chosen = objection(
            personas, market, "decided", "2026-11-01 09:00", "2026-11-02 10:00", "2026-11-12 10:00"
        )
        extension(chosen, "objection.extend", 5, "2026-11-11")
        unknown = objection(
            personas, market, "decided", "2026-11-01 09:00", "2026-11-02 10:00", "2026-11-12 10:00"
        )
        Objection.objects.filter(pk__in=[chosen.pk, unknown.pk]).update(extended=True)
        # A reconsideration extended by the rule set's 30 days: 1 Sep → 20 Nov is 80 days, within 60 + 30.
        Reconsideration.objects.filter(pk=book["R1"].pk).update(
            decided_at=at("2026-11-20 09:00"), extended=True
        )

        handling = stats.handling_times(personas.auditor, period=stats.Period.last_days(90), departments=None)
        repairs = handling.overall["repair"]
        assert repairs.counts[13] == 1 and (repairs.within, repairs.total, repairs.extended) == (6, 9, 1)
        assert repairs.limit_range == (10, 10)  # the legal limit shown is the plain one
        objections = handling.overall["objection"]
        assert objections.counts == {4: 1, 8: 3}
        assert (objections.within, objections.extended) == (2, 1)  # O1 and the one extended by 5 WD
        reconsiderations = handling.overall["reconsideration"]
        assert reconsiderations.counts == {21: 1, 80: 1}
        assert (reconsiderations.within, reconsiderations.extended) == (2, 1)

        response = get(personas.auditor)
        types = {t.key: t for t in response.context["types"]}
        assert (types["repair"].extended, types["objection"].extended) == (1, 1)
        assert "(1 extended)" in response.content.decode()


class TestPage:
    def test_the_auditor_sees_every_department_with_charts_and_tables(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        response = get(personas.auditor)
        assert response.status_code == 200
        rows = {row.name: row for row in response.context["department_rows"]}
        market, environment = rows[personas.market.name], rows[personas.environment.name]
        assert (market.received, market.open, market.overdue, market.met, market.missed) == (9, 1, 2, 1, 1)
        assert (market.repairs_decided, market.repairs_within) == (6, pytest.approx(4 / 6))
        assert (environment.received, environment.open, environment.overdue) == (3, 2, 1)
        assert (environment.repairs_decided, environment.repairs_within) == (2, 0.5)
        assert (rows[office.name].received, rows[office.name].open) == (2, 0)
        assert response.context["overdue_total"] == 3
        # The overdue list is the deadline report's, longest overdue first.
        assert [row.id for row, _link in response.context["overdue_rows"]] == [
            book["late_forward"].pk,  # due 11 Nov
            book["late_accept"].pk,  # 13 Nov
            book["late_mask"].pk,  # 16 Nov
        ]
        types = {t.key: t for t in response.context["types"]}
        assert (types["repair"].median, types["repair"].p90, types["repair"].decided) == (9, None, 8)
        assert ("submitted", "Submitted, waiting for acceptance", 1) in types["repair"].states
        html = response.content.decode()
        assert html.count('role="img"') >= 6  # states per type, overdue, handling per type, repairs
        assert "over a year" in html  # the repairs' 90th percentile lies beyond the calendar window
        assert "4 WD" in html and "9 WD" in html  # the market's and the environment bureau's medians
        assert "67%" in html and "50%" in html  # repairs within 10 WD: 4 of 6, 1 of 2
        assert book["G"].number in html and "Days overdue" in html
        assert personas.applicant_person.name not in html and personas.applicant_person.id_masked not in html

    def test_overdue_rows_link_to_the_case_file_and_page_on(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        rows = dict(get(personas.auditor).context["overdue_rows"])
        links = {row.id: link for row, link in rows.items()}
        assert links[book["late_accept"].pk] == f"/staff/cases/repair/{book['G'].pk}/"
        assert links[book["late_forward"].pk] == f"/staff/cases/objection/{book['O3'].pk}/"
        assert links[book["late_mask"].pk] is None  # a record has no case file
        after = get(personas.auditor, f"?overdue_after=2026-11-13.{book['late_accept'].pk}")
        assert [row.id for row, _link in after.context["overdue_rows"]] == [book["late_mask"].pk]
        assert get(personas.auditor, "?overdue_after=yesterday").status_code == 400

    def test_a_head_sees_their_department_only(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        response = get(personas.head)
        assert response.status_code == 200
        assert [row.name for row in response.context["department_rows"]] == [personas.market.name]
        assert response.context["overdue_total"] == 2
        assert {row.department for row, _link in response.context["overdue_rows"]} == {personas.market.name}
        # Another department, even named in the query, is refused.
        refused = get(personas.head, f"?department={personas.environment.pk}")
        assert refused.status_code == 400
        assert "department_rows" not in refused.context
        assert personas.environment.name not in refused.content.decode()

    def test_a_head_of_no_department_sees_nothing(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        nobody = UserFactory(username="head-without-department", role="head")
        response = get(nobody)
        assert response.status_code == 200
        assert response.context["department_rows"] == [] and response.context["overdue_total"] == 0
        assert all(t.received == 0 and t.decided == 0 for t in response.context["types"])

    def test_a_city_wide_role_filters_by_department(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        response = get(personas.auditor, f"?department={personas.environment.pk}")
        assert response.status_code == 200
        assert [row.name for row in response.context["department_rows"]] == [personas.environment.name]
        assert response.context["overdue_total"] == 1

    def test_the_period_filter_changes_what_is_counted(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        # 9 to 16 Nov: received B? no (6 Nov); E? no (7 Nov); G and F and O3 yes. Decided: B, E, C, F? no.
        response = get(personas.auditor, "?start=2026-11-09&end=2026-11-16")
        types = {t.key: t for t in response.context["types"]}
        assert types["repair"].received == 2  # G (10 Nov) and F (9 Nov)
        assert types["repair"].decided == 3  # B and E (9 Nov, 1 WD each), C (16 Nov, 10 WD)
        assert (types["repair"].median, types["repair"].within) == (1, 1.0)

    def test_a_bad_period_is_refused_with_its_reason(self, personas: Personas) -> None:
        for query in ("?start=2026-11-20&end=2026-11-01", "?start=2025-01-01&end=2026-11-23", "?start=x"):
            response = get(personas.auditor, query)
            assert response.status_code == 400
            assert response.context["form"].errors

    def test_intake_counts_only_the_complaints_it_may_see(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        types = {t.key: t for t in get(personas.intake).context["types"]}
        assert types["complaint"].received == 0  # complaints are the head's and the auditors'
        assert types["repair"].received == 7

    @pytest.mark.parametrize("who", ["officer", "reviewer", "applicant", "admin"])
    def test_who_may_not_see_it(self, personas: Personas, who: str) -> None:
        assert get(getattr(personas, who)).status_code == 403

    def test_signed_out_visitors_are_sent_to_log_in(self) -> None:
        response = Client().get(URL)
        assert response.status_code == 302 and "login" in response["Location"]

    def test_a_constant_number_of_queries(
        self, personas: Personas, office: Department, book: dict[str, Any]
    ) -> None:
        def count() -> int:
            client = browser(personas.auditor)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(URL).status_code == 200
            return len(queries)

        count()  # the content types the statements name are cached per process
        few = count()
        # Ten times the cases, in more departments, with more deadlines overdue.
        for n in range(3):
            department = Department.objects.create(code=f"extra-{n}", name=f"附加局{n}", city="测试市")
            record = make_record(
                person=personas.other_person, department=department, decision_date=date(2026, 5, 31)
            )
            for day in range(2, 27):
                repair(personas, record, "repaired", f"2026-10-{day:02d} 09:00", "2026-11-12 09:00")
            deadline(repair(personas, record, "submitted", "2026-11-03 09:00"), "repair.accept", "2026-11-03")
        assert count() == few
        # On PostgreSQL the histogram runs without the JIT compiler in its own transaction: inside the
        # test's transaction a savepoint, `SET LOCAL jit = off` and the release (one query in production).
        # The session is read from the database unless a shared cache holds it (CACHE_URL).
        session = 1 if settings.SESSION_ENGINE == "django.contrib.sessions.backends.db" else 0
        assert few == 11 + session + (3 if connection.vendor == "postgresql" else 0), few


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def test_the_figures_read_the_decision_and_receipt_indexes_on_postgresql(
    personas: Personas, office: Department, book: dict[str, Any]
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (set DATABASE_URL)")
    with connection.cursor() as cursor:
        # With sequential scans priced out, a table still read in full is one no index can serve.
        cursor.execute("SET LOCAL enable_seqscan = off")
    Objection.objects.filter(pk=book["O2"].pk).update(extended=True)
    period = stats.Period.last_days(90)
    stats.handling_times(personas.auditor, period=period, departments=None)  # content types cached
    with CaptureQueriesContext(connection) as queries:
        stats.handling_times(personas.auditor, period=period, departments=None)
        stats.cases_by_state(personas.auditor, period=period, departments=None)
    handling, by_state = [q["sql"] for q in queries if "UNION ALL" in q["sql"]]
    plan = _plan(handling)
    # The cases decided (complaints: replied to) in the period, by the partial indexes on that time; an
    # extended objection's extension by an index on the deadlines (at scale: deadline_subject).
    for index in ("repair_decided", "objection_decided", "reconsideration_decided", "complaint_replied"):
        assert index in plan, plan
    assert "on credit_deadline" in plan and "Seq Scan on credit_deadline" not in plan, plan
    plan = _plan(by_state)
    for index in ("repair_received", "objection_received", "reconsideration_received", "complaint_received"):
        assert index in plan, plan
    for table in (
        "repair_repaircase",
        "objections_objection",
        "objections_reconsideration",
        "objections_complaint",
    ):
        assert f"Seq Scan on {table}" not in plan, plan


def test_charts_escape_their_labels_and_mark_the_limit() -> None:
    svg = charts.bar_chart(
        title="<b>",
        labels=['A "&" <B>', "C"],
        series=[charts.Series("median", [3, None]), charts.Series("p90", [12, 1])],
        marker=10,
        marker_label="limit 10",
    )
    assert "<b>" not in svg and "&lt;B&gt;" in svg and "&quot;&amp;&quot;" in svg
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert "12+" not in svg and "—" in svg and "limit 10" in svg and "stroke-dasharray" in svg
