"""The applicant is reminded of their own clocks: the supplement to a repair application or a reconsideration,
and the period to apply for reconsideration of a decision served on them. N working days before the last day
and on it, once, to the person and their verified agents only, and never to the staff as work to do."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.template.loader import get_template
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from credit.models import Authorisation, CreditRecord, Deadline, Department, RuleSet
from credit.services.transitions import perform_transition
from letters.models import Letter, LetterKind, ServiceRecord
from notifications.models import Channel, Notification, Preference
from notifications.registry import EVENTS
from notifications.reminders import APPLICANT_DEADLINES, targets
from notifications.services import send_deadline_reminders
from objections.models import Reconsideration
from objections.reconsideration_services import last_day_to_apply
from objections.reminders import remind_reconsideration_windows, service_days_ending_on
from repair.models import RepairCase
from tests.conftest import Personas
from tests.factories import UserFactory, make_record
from tests.objections.test_reconsideration import applied, apply
from tests.objections.test_reconsideration import step as recon_step
from tests.repair.test_cases import client_for
from tests.repair.test_cases import file as file_repair
from tests.repair.test_cases import step as repair_step

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    settings.NOTIFY_REMINDER_WORKING_DAYS = 2


@pytest.fixture(autouse=True)
def _reachable(personas: Personas) -> None:
    personas.applicant.email, personas.applicant.phone = "zhang@example.cn", "13800138000"
    personas.applicant.save()
    Preference.objects.create(user=personas.applicant, email=True, sms=True)


@pytest.fixture
def agent(personas: Personas) -> Any:
    """An agent with a verified written authorisation from the applicant, who reads English."""
    user = UserFactory(username="agent", role="applicant")
    user.preferred_language = "en"
    user.save()
    authorisation = Authorisation.objects.create(
        agent=user, person=personas.applicant_person, document=SimpleUploadedFile("a.pdf", b"%PDF")
    )
    perform_transition(authorisation, "verify", actor=personas.intake)
    return user


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def at(moment: str, time_machine: Any) -> int:
    """The 07:30 sweep on that day (Shanghai): the notifications it created."""
    time_machine.move_to(f"{moment}T07:30:00+08:00", tick=False)
    return send_deadline_reminders()


def reminders(event: str, **filters: Any) -> list[Notification]:
    return list(Notification.objects.filter(event=event, **filters).order_by("created_at", "pk"))


def test_the_applicants_clocks_are_declared_with_their_events() -> None:
    assert APPLICANT_DEADLINES == {
        "repair.supplement": "repair.supplement_due",
        "reconsideration.supplement_reply": "reconsideration.supplement_due",
    }
    assert targets(date(2026, 12, 3), date(2026, 12, 7)) == {
        date(2026, 12, 7): "ahead",
        date(2026, 12, 3): "today",
    }
    assert targets(date(2026, 12, 3), date(2026, 12, 3)) == {date(2026, 12, 3): "today"}


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_declared_event_has_its_messages_in_both_languages(language: str) -> None:
    for event in EVENTS.values():
        for part in ("subject.txt", "body.txt", "body.html", "sms.txt"):
            get_template(f"{event.template_dir}/{language}/{part}")  # raises TemplateDoesNotExist


class TestRepairSupplement:
    def supplement_requested(self, personas: Personas, record: CreditRecord) -> Deadline:
        case = file_repair(personas, record)
        asked = repair_step(
            personas.officer, case["id"], "request_supplement", payload={"missing": ["缴款凭证"]}
        )
        assert asked.status_code == 200, asked.data
        due = Deadline.objects.get(object_id=case["id"], kind="repair.supplement")
        assert due.due_date == date(2026, 12, 7)  # 10 WD from Monday 2026-11-23
        return due

    def test_before_on_and_after_the_last_day(
        self, personas: Personas, record: CreditRecord, agent: Any, time_machine: Any
    ) -> None:
        due = self.supplement_requested(personas, record)
        case = RepairCase.objects.get(pk=due.object_id)
        at("2026-12-02", time_machine)  # 3 WD before
        assert reminders("repair.supplement_due") == []
        at("2026-12-03", time_machine)  # 2 WD before (4 Dec, 7 Dec)
        ahead = reminders("repair.supplement_due")
        assert {n.recipient for n in ahead} == {personas.applicant, agent}
        mine = next(n for n in ahead if n.recipient == personas.applicant)
        assert mine.case_number == case.number and "12月7日24时届满" in mine.subject
        assert "补正材料期限" in mine.body and "逾期" in mine.body  # the consequence, in Chinese by default
        theirs = next(n for n in ahead if n.recipient == agent)
        assert "ends on 2026-12-07 at 24:00" in theirs.subject and "lapses" in theirs.body
        sms = mine.deliveries.get(channel=Channel.SMS).payload["text"]
        assert case.number in sms and personas.applicant_person.name not in sms
        assert personas.market.name not in sms
        # Once: the same sweep again, and the weekend's sweeps that look ahead to 8 and 9 Dec, add nothing.
        for day in ("2026-12-03", "2026-12-04", "2026-12-05", "2026-12-06"):
            at(day, time_machine)
            assert len(reminders("repair.supplement_due")) == 2
        at("2026-12-07", time_machine)
        today = reminders("repair.supplement_due", recipient=personas.applicant)
        assert len(today) == 2 and "今日24时届满" in today[-1].subject
        at("2026-12-08", time_machine)
        assert len(reminders("repair.supplement_due")) == 4
        assert not Notification.objects.filter(
            event="repair.supplement_due", recipient=personas.other_applicant
        )

    def test_the_staff_are_not_told_to_act_on_the_applicants_clock(
        self, personas: Personas, record: CreditRecord, time_machine: Any
    ) -> None:
        due = self.supplement_requested(personas, record)
        at("2026-12-03", time_machine)
        at("2026-12-07", time_machine)
        staff = Notification.objects.filter(event="deadline.reminder")
        # The case's own clock (repair.total, 10 WD from filing, also ends on 7 Dec) still reaches the queue.
        total = Deadline.objects.get(object_id=due.object_id, kind="repair.total")
        assert {n.key for n in staff} == {
            f"deadline:{total.pk}:2026-12-07:ahead",
            f"deadline:{total.pk}:2026-12-07:today",
        }
        assert {n.recipient for n in staff} == {personas.officer}

    def test_a_supplied_application_is_not_reminded(
        self, personas: Personas, record: CreditRecord, time_machine: Any
    ) -> None:
        due = self.supplement_requested(personas, record)
        time_machine.move_to("2026-11-25T10:00:00+08:00", tick=False)
        supplied = repair_step(personas.applicant, due.object_id, "supply")
        assert supplied.status_code == 200, supplied.data
        at("2026-12-03", time_machine)
        at("2026-12-07", time_machine)
        assert reminders("repair.supplement_due") == []


def test_the_reconsideration_supplement_is_reminded_to_the_applicant_only(
    personas: Personas, record: CreditRecord, office: Department, time_machine: Any
) -> None:
    _repair, recon = applied(personas, record)
    asked = recon_step(personas.recon, recon["id"], "request_supplement", payload={"missing": ["身份证明"]})
    assert asked.status_code == 200, asked.data
    due = Deadline.objects.get(object_id=recon["id"], kind="reconsideration.supplement_reply")
    assert due.due_date == date(2026, 12, 7)
    at("2026-12-02", time_machine)
    assert reminders("reconsideration.supplement_due") == []
    at("2026-12-03", time_machine)
    sent = reminders("reconsideration.supplement_due")
    assert [n.recipient for n in sent] == [personas.applicant]
    assert sent[0].case_number == recon["number"] and "视为撤回" in sent[0].body
    keys = set(Notification.objects.filter(event="deadline.reminder").values_list("key", flat=True))
    assert not any(key.startswith(f"deadline:{due.pk}:") for key in keys)


def test_a_reconsiderations_clock_is_its_offices_not_the_respondents(
    personas: Personas, record: CreditRecord, office: Department, time_machine: Any
) -> None:
    _repair, recon = applied(personas, record)  # acceptance due in 5 WD: Monday 30 Nov
    accept = Deadline.objects.get(object_id=recon["id"], kind="reconsideration.accept")
    assert accept.due_date == date(2026, 11, 30)
    office_officer = UserFactory(username="office_officer", role="reconsideration", department=office)
    at("2026-11-26", time_machine)
    told = Notification.objects.filter(event="deadline.reminder", key__startswith=f"deadline:{accept.pk}:")
    # The respondent department's officers cannot act on it; the office's queue (its reconsideration
    # officers) is told.
    assert {n.recipient for n in told} == {office_officer}


class TestReconsiderationWindow:
    """A refusal served on 3 Aug 2026: 60 calendar days end on Friday 2 Oct, in the National Day holiday
    (1–7 Oct), so the period ends on Thursday 8 Oct. Two working days before it is Tuesday 29 Sep."""

    @pytest.fixture
    def early_record(self, personas: Personas, time_machine: Any) -> CreditRecord:
        time_machine.move_to("2026-08-03T09:00:00+08:00", tick=False)
        return make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 3, 2)
        )

    def refused(self, applicant: Any, officer: Any, reviewer: Any, record: CreditRecord) -> Letter:
        api = client_for(applicant)
        with TestCase.captureOnCommitCallbacks(execute=True):
            filed = api.post(
                "/api/v1/repairs/",
                {"record": record.pk, "statement": "已缴清罚款并整改到位", "commitment_accepted": True},
                format="json",
            )
        assert filed.status_code == 201, filed.data
        case_id = filed.data["id"]
        assert repair_step(officer, case_id, "accept").status_code == 200
        drafted = repair_step(
            officer, case_id, "draft_decision", payload={"outcome": "refuse", "reasons": ["未提供缴款凭证"]}
        )
        assert drafted.status_code == 200, drafted.data
        assert repair_step(reviewer, case_id, "approve_decision").status_code == 200
        letter = Letter.objects.get(object_id=case_id, kind=LetterKind.REPAIR_REFUSAL)
        assert letter.context["remedies"] is not None  # the letter stated the right
        return letter

    def serve(self, letter: Letter, when: datetime, method: str = "in_person") -> ServiceRecord:
        return ServiceRecord.objects.create(letter=letter, method=method, served_at=when, receipt="签收")

    def test_before_on_and_after_the_last_day_across_national_day(
        self, personas: Personas, early_record: CreditRecord, agent: Any, time_machine: Any
    ) -> None:
        letter = self.refused(personas.applicant, personas.officer, personas.reviewer, early_record)
        self.serve(letter, datetime(2026, 8, 3, 15, tzinfo=SHANGHAI))
        case = RepairCase.objects.get(pk=letter.object_id)
        ruleset = RuleSet.objects.in_force(date(2026, 9, 29))
        assert last_day_to_apply(case, knew_on=date(2026, 8, 3), ruleset=ruleset) == date(2026, 10, 8)
        assert at("2026-09-28", time_machine) == 0  # two working days on is 30 Sep
        at("2026-09-29", time_machine)
        sent = reminders("reconsideration.window")
        assert {n.recipient for n in sent} == {personas.applicant, agent}
        mine = next(n for n in sent if n.recipient == personas.applicant)
        assert mine.case_number == case.number and letter.reference_number in mine.subject
        assert "10月8日24时届满" in mine.subject and "2026年8月3日 送达" in mine.body
        theirs = next(n for n in sent if n.recipient == agent)
        assert "ends on 2026-10-08 at 24:00" in theirs.subject
        sms = mine.deliveries.get(channel=Channel.SMS).payload["text"]
        assert case.number in sms and letter.reference_number not in sms
        for day in (
            "2026-09-30",
            "2026-10-01",
            "2026-10-05",
            "2026-10-07",
        ):  # looking ahead to 9 Oct and later
            at(day, time_machine)
        assert len(reminders("reconsideration.window")) == 2
        at("2026-10-08", time_machine)
        today = reminders("reconsideration.window", recipient=personas.applicant)
        assert len(today) == 2 and "今日24时届满" in today[-1].subject
        at("2026-10-08", time_machine)
        at("2026-10-09", time_machine)
        assert len(reminders("reconsideration.window")) == 4

    def test_only_served_letters_from_their_first_service_while_no_application_was_filed(
        self, personas: Personas, early_record: CreditRecord, office: Department, time_machine: Any
    ) -> None:
        other_record = make_record(
            person=personas.other_person, department=personas.market, decision_date=date(2026, 3, 2)
        )
        unserved_record = make_record(
            person=personas.applicant_person, department=personas.environment, decision_date=date(2026, 3, 2)
        )
        mine = self.refused(personas.applicant, personas.officer, personas.reviewer, early_record)
        theirs = self.refused(personas.other_applicant, personas.officer, personas.reviewer, other_record)
        env_reviewer = UserFactory(username="env_reviewer", role="reviewer", department=personas.environment)
        self.refused(
            personas.applicant, personas.other_officer, env_reviewer, unserved_record
        )  # never served
        self.serve(mine, datetime(2026, 8, 3, 15, tzinfo=SHANGHAI))
        self.serve(
            mine, datetime(2026, 8, 10, 9, tzinfo=SHANGHAI), method="post"
        )  # served again: no new clock
        self.serve(theirs, datetime(2026, 8, 3, 16, tzinfo=SHANGHAI))
        # The other applicant applies for reconsideration, then withdraws: no reminder to them any more.
        time_machine.move_to("2026-09-10T10:00:00+08:00", tick=False)
        response = apply(personas.other_applicant, repair_case=theirs.object_id)
        assert response.status_code == 201, response.data
        assert recon_step(personas.other_applicant, response.data["id"], "withdraw").status_code == 200
        assert Reconsideration.objects.get(pk=response.data["id"]).state == "withdrawn"

        at("2026-09-29", time_machine)
        assert [n.recipient for n in reminders("reconsideration.window")] == [personas.applicant]
        # 10 Aug + 60 days is Friday 9 Oct: its second service starts nothing, before or on that day.
        at("2026-10-08", time_machine)
        at("2026-10-09", time_machine)
        assert {n.key.split(":")[3] for n in reminders("reconsideration.window")} == {"2026-10-08"}
        assert not Notification.objects.filter(
            event="reconsideration.window", recipient=personas.other_applicant
        ).exists()

    def test_no_reminder_once_the_applicant_has_applied(
        self, personas: Personas, early_record: CreditRecord, office: Department, time_machine: Any
    ) -> None:
        letter = self.refused(personas.applicant, personas.officer, personas.reviewer, early_record)
        self.serve(letter, datetime(2026, 8, 3, 15, tzinfo=SHANGHAI))
        time_machine.move_to("2026-09-29T07:00:00+08:00", tick=False)
        assert apply(personas.applicant, repair_case=letter.object_id).status_code == 201
        at("2026-09-29", time_machine)
        at("2026-10-08", time_machine)
        assert reminders("reconsideration.window") == []

    def test_a_letter_that_did_not_state_the_right_is_not_reminded_at_sixty_days(
        self, personas: Personas, early_record: CreditRecord, time_machine: Any
    ) -> None:
        letter = self.refused(personas.applicant, personas.officer, personas.reviewer, early_record)
        Letter.objects.filter(pk=letter.pk).update(context={**letter.context, "remedies": None})
        self.serve(letter, datetime(2026, 8, 3, 15, tzinfo=SHANGHAI))
        at("2026-09-29", time_machine)
        assert reminders("reconsideration.window") == []


def test_the_service_days_whose_period_ends_on_a_day(db: None, django_assert_num_queries: Any) -> None:
    # 60 calendar days: every service from 2 to 9 Aug ends on 8 Oct (2–7 Oct fall in the holiday); 1 Aug on
    # Wednesday 30 Sep; nothing ends on a rest day.
    with django_assert_num_queries(1):  # the calendar overrides, read once
        found = service_days_ending_on(
            [date(2026, 10, 8), date(2026, 9, 30), date(2026, 10, 3)], value=60, unit="cd"
        )
    assert found == {
        date(2026, 8, 1): date(2026, 9, 30),
        **{date(2026, 8, day): date(2026, 10, 8) for day in range(2, 10)},
    }
    # Working days: the 8th working day after 23 Sep is 12 Oct (24, 28, 29, 30 Sep, 8, 9, 10 (a 调休 Saturday)
    # and 12 Oct); after 22 Sep it is 10 Oct, after 24 Sep (through the 25–27 Sep rest days) 13 Oct.
    assert service_days_ending_on([date(2026, 10, 12)], value=8, unit="wd") == {
        date(2026, 9, 23): date(2026, 10, 12)
    }


def test_the_window_sweep_costs_the_same_whatever_the_archive_holds(
    personas: Personas, record: CreditRecord, time_machine: Any
) -> None:
    """Letters served on other days are not read: the queries are the same for none as for many."""
    time_machine.move_to("2026-09-29T07:30:00+08:00", tick=False)
    days = targets(date(2026, 9, 29), date(2026, 10, 8))
    remind_reconsideration_windows(targets=days)  # content types and rules loaded once per process
    with CaptureQueriesContext(connection) as empty:
        assert remind_reconsideration_windows(targets=days) == 0
    notice = Letter.objects.get(object_id=record.pk, kind=LetterKind.REPAIR_NOTICE)
    # Served on other days, and on the very days whose period ends on 29 Sep or 8 Oct (31 Jul, 2–9 Aug): a
    # 信用修复告知书 cannot be challenged, so none of them is reminded.
    for served in [date(2026, 7, day) for day in range(1, 32)] + [date(2026, 8, day) for day in range(1, 10)]:
        ServiceRecord.objects.create(
            letter=notice,
            method="in_person",
            served_at=datetime.combine(served, datetime.min.time(), SHANGHAI),
        )
    with CaptureQueriesContext(connection) as full:
        assert remind_reconsideration_windows(targets=days) == 0
    assert len(empty) == len(full)


def test_the_sweeps_read_indexes_on_postgresql(
    personas: Personas, record: CreditRecord, office: Department, time_machine: Any
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("EXPLAIN plans are checked on PostgreSQL (set DATABASE_URL)")
    _repair, recon = applied(personas, record)
    recon_step(personas.recon, recon["id"], "request_supplement", payload={"missing": ["身份证明"]})
    letter = Letter.objects.filter(kind=LetterKind.REPAIR_REFUSAL).get()
    ServiceRecord.objects.create(
        letter=letter, method="in_person", served_at=datetime(2026, 10, 5, tzinfo=SHANGHAI)
    )
    # An archive of decisions served over two years, so that the planner's statistics look like a city's.
    archive = Letter.objects.bulk_create(
        Letter(
            kind=LetterKind.REPAIR_REFUSAL,
            content_type_id=letter.content_type_id,
            object_id=10_000 + n,
            decision="refused",
            person_id=letter.person_id,
            department_id=letter.department_id,
            year=2025,
            sequence=10_000 + n,
            reference_number=f"ARCHIVE-{n}",
            case_number=f"ARCHIVE-{n}",
            verification_code=f"A{n:08d}",
        )
        for n in range(3000)
    )
    ServiceRecord.objects.bulk_create(
        ServiceRecord(
            letter=old,
            method="in_person",
            served_at=datetime(2025, 1, 1, tzinfo=SHANGHAI) + timedelta(hours=6 * n),
            receipt="签收",
        )
        for n, old in enumerate(archive)
    )
    time_machine.move_to("2026-12-03T07:30:00+08:00", tick=False)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE letters_letter, letters_servicerecord, credit_deadline")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table still read in full has no index to use
    with CaptureQueriesContext(connection) as queries:
        send_deadline_reminders()
    # A server-side cursor (the applicants' deadlines are read in chunks) is DECLAREd FOR the SELECT.
    selects = [
        q["sql"].partition(" FOR ")[2] if q["sql"].startswith("DECLARE") else q["sql"] for q in queries
    ]
    sweeps = [
        sql
        for sql in selects
        if sql.startswith("SELECT")
        and ('FROM "credit_deadline"' in sql or 'FROM "letters_servicerecord"' in sql)
    ]
    assert len(sweeps) >= 3
    for sql in sweeps:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN {sql}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert (
            "Seq Scan on credit_deadline" not in plan and "Seq Scan on letters_servicerecord" not in plan
        ), plan
        if 'FROM "letters_servicerecord"' in sql:
            assert "service_served_at" in plan, plan
