"""Events reach the right people, in their language, on the channels they chose, once."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from viewflow.workflow.timers import fire_due_timers

from credit.flows import RecordMaskFlow
from credit.models import Authorisation
from credit.services.transitions import perform_transition
from letters.models import Letter, LetterKind, ServiceMethod
from letters.services import give_consent, record_service
from notifications.models import Channel, Delivery, DeliveryStatus, Notification, Preference
from notifications.services import notify, send_daily_digests, send_deadline_reminders
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _reachable(personas: Personas) -> None:
    for user, email, phone in (
        (personas.applicant, "zhang@example.cn", "13800138000"),
        (personas.head, "head@example.cn", "13900139000"),
        (personas.officer, "officer@example.cn", ""),
    ):
        user.email, user.phone = email, phone
        user.save()
    Preference.objects.create(user=personas.applicant, email=True, sms=True)


@pytest.fixture
def notice(personas: Personas, signing, django_capture_on_commit_callbacks) -> Letter:  # type: ignore[no-untyped-def]
    """A record registered and its 信用修复告知书 issued, with every after-commit callback run."""
    give_consent(person=personas.applicant_person, actor=personas.applicant)
    with django_capture_on_commit_callbacks(execute=True):
        record = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
    return Letter.objects.for_object(record).get(kind=LetterKind.REPAIR_NOTICE)


def test_a_registered_record_reaches_the_applicant_on_every_channel(
    personas: Personas, notice: Letter
) -> None:
    inbox = Notification.objects.get(recipient=personas.applicant)
    assert inbox.event == "record.registered" and inbox.case_number == notice.case_number
    assert "信用修复告知书" in inbox.body and notice.reference_number in inbox.body  # Chinese by default
    deliveries = {d.channel: d for d in Delivery.objects.filter(notification=inbox)}
    assert set(deliveries) == {Channel.EMAIL, Channel.SMS}
    assert all(d.status == DeliveryStatus.SENT for d in deliveries.values())
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["zhang@example.cn"]
    assert mail.outbox[0].extra_headers["Message-ID"].endswith("@credit-repair>")


def test_an_sms_carries_the_case_number_and_a_link_and_nothing_personal(
    personas: Personas, notice: Letter
) -> None:
    text = Delivery.objects.get(channel=Channel.SMS).payload["text"]
    assert notice.case_number in text and "http://127.0.0.1:8000/" in text
    person = personas.applicant_person
    for personal in (person.name, person.id_masked, person.id_number, notice.department.name):
        assert personal not in text


def test_english_speakers_get_english(
    personas: Personas, signing, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    personas.applicant.preferred_language = "en"
    personas.applicant.save()
    with django_capture_on_commit_callbacks(execute=True):
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
    inbox = Notification.objects.get(recipient=personas.applicant)
    assert inbox.subject.startswith("[Credit information]") and "credit repair notice" in inbox.body


def test_an_agent_with_a_verified_authorisation_is_told_too(
    personas: Personas,
    signing,
    settings,
    tmp_path,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    settings.MEDIA_ROOT = tmp_path
    authorisation = Authorisation.objects.create(
        agent=personas.other_applicant,
        person=personas.applicant_person,
        document=SimpleUploadedFile("a.pdf", b"%PDF"),
    )
    perform_transition(authorisation, "verify", actor=personas.intake)
    with django_capture_on_commit_callbacks(execute=True):
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {
        "applicant",
        "other_applicant",
    }


def test_raising_an_event_again_changes_nothing(personas: Personas, notice: Letter) -> None:
    again = notify(
        "record.registered",
        key=f"letter:{notice.pk}",
        context={"letter": notice, "person": notice.person, "department": notice.department},
        case_number=notice.case_number,
    )
    assert again == []
    assert Notification.objects.count() == 1 and Delivery.objects.count() == 2


def test_a_served_letter_is_announced(
    personas: Personas, notice: Letter, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=True):
        record_service(
            letter=notice,
            method=ServiceMethod.POST,
            served_at=datetime(2026, 11, 23, 10, tzinfo=SHANGHAI),
            receipt="EMS 1234",
            actor=personas.officer,
        )
    served = Notification.objects.get(event="letter.served")
    assert served.recipient == personas.applicant and "2026年11月23日" in served.subject


def test_without_an_address_or_consent_only_the_inbox(personas: Personas) -> None:
    Preference.objects.filter(user=personas.applicant).update(email=False, sms=False)
    notify(
        "letter.issued",
        key="letter:x",
        context={
            "person": personas.applicant_person,
            "department": personas.market,
            "letter": Letter(kind="acceptance", reference_number="R"),
        },
    )
    assert Notification.objects.count() == 1 and not Delivery.objects.exists()


class TestStaffEvents:
    def test_a_deadline_reminder_goes_to_the_queue_in_advance_and_on_the_day(
        self,
        personas: Personas,
        time_machine,  # type: ignore[no-untyped-def]
    ) -> None:
        record = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
        RecordMaskFlow.start.run(
            record=record, received=date(2026, 11, 23), ruling="(2026)示01破1号"
        )  # due 12-07
        time_machine.move_to("2026-12-03T07:30:00+08:00", tick=False)  # 2 WD before
        assert send_deadline_reminders() == 1
        assert send_deadline_reminders() == 0
        reminder = Notification.objects.get(event="deadline.reminder")
        assert reminder.recipient == personas.officer and "12月7日" in reminder.subject
        time_machine.move_to("2026-12-07T07:30:00+08:00", tick=False)
        assert send_deadline_reminders() == 1
        assert "今日到期" in Notification.objects.filter(event="deadline.reminder").first().subject  # type: ignore[union-attr]

    def test_an_overdue_task_is_escalated_to_the_head(self, personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
        record = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
        RecordMaskFlow.start.run(record=record, received=date(2026, 11, 23), ruling="(2026)示01破1号")
        time_machine.move_to("2026-12-08T00:00:01+08:00", tick=False)
        assert fire_due_timers() == 1
        escalation = Notification.objects.get(event="task.escalated")
        assert escalation.recipient == personas.head and escalation.case_number == record.number
        assert {d.channel for d in escalation.deliveries.all()} == {Channel.EMAIL}  # head chose no SMS

    def test_a_staff_digest_holds_e_mail_and_sends_one_a_day(self, personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
        Preference.objects.create(user=personas.officer, daily_digest=True)
        record = make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )
        RecordMaskFlow.start.run(record=record, received=date(2026, 11, 23), ruling="(2026)示01破1号")
        time_machine.move_to("2026-12-03T07:30:00+08:00", tick=False)
        send_deadline_reminders()
        held = Delivery.objects.get(notification__recipient=personas.officer)
        assert held.status == DeliveryStatus.HELD and not mail.outbox
        assert send_daily_digests() == 1
        assert send_daily_digests() == 0
        assert len(mail.outbox) == 1 and "每日待办汇总" in mail.outbox[0].subject
        held.refresh_from_db()
        assert held.status == DeliveryStatus.SENT
