"""The period sweep (beat and `manage.py expire_records`) at the edges of the periods."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import translation

from credit.models import CreditRecord, TransitionLog
from credit.models.records import RecordState
from credit.services.records import advance_record_periods
from credit.services.transitions import perform_transition
from credit.tasks import advance_record_periods as sweep_task
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def general(personas: Personas) -> CreditRecord:
    # Decided 2026-10-31 (Order 36, general): repair from 2027-02-01, shown until 2027-10-31.
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 10, 31)
    )


def state(record: CreditRecord) -> str:
    return CreditRecord.objects.get(pk=record.pk).state


def test_eligible_on_the_day_after_the_minimum_not_before(general: CreditRecord, time_machine) -> None:  # type: ignore[no-untyped-def]
    assert (general.repair_from, general.display_until) == (date(2027, 2, 1), date(2027, 10, 31))
    time_machine.move_to("2027-01-31T23:59:00+08:00", tick=False)
    assert advance_record_periods() == {"repair_eligible": 0, "expired": 0}
    assert state(general) == RecordState.ACTIVE
    time_machine.move_to("2027-02-01T00:00:01+08:00", tick=False)
    assert advance_record_periods() == {"repair_eligible": 1, "expired": 0}
    assert state(general) == RecordState.REPAIR_ELIGIBLE
    assert advance_record_periods() == {"repair_eligible": 0, "expired": 0}  # idempotent


def test_expired_the_day_after_the_maximum(general: CreditRecord, time_machine) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to("2027-10-31T23:59:00+08:00", tick=False)
    advance_record_periods()
    assert state(general) == RecordState.REPAIR_ELIGIBLE
    time_machine.move_to("2027-11-01T00:00:01+08:00", tick=False)
    assert advance_record_periods()["expired"] == 1
    assert state(general) == RecordState.EXPIRED
    assert not CreditRecord.objects.in_force().filter(pk=general.pk).exists()


def test_a_long_absence_expires_without_passing_through_eligible(general: CreditRecord, time_machine) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to("2028-01-01T09:00:00+08:00", tick=False)
    assert advance_record_periods() == {"repair_eligible": 0, "expired": 1}
    transitions = TransitionLog.objects.filter(object_id=general.pk).values_list("transition", flat=True)
    assert list(transitions) == ["expire"]


def test_a_masked_record_also_expires_and_a_blocked_one_is_not_made_eligible(
    personas: Personas,
    general: CreditRecord,
    time_machine,  # type: ignore[no-untyped-def]
) -> None:
    other = make_record(
        person=personas.other_person, department=personas.market, decision_date=date(2026, 10, 31)
    )
    perform_transition(general, "temp_mask", actor=personas.officer, reason="重整")
    CreditRecord.objects.filter(pk=other.pk).update(repair_blocked_until=date(2029, 1, 1))
    time_machine.move_to("2027-03-01T09:00:00+08:00", tick=False)
    assert advance_record_periods() == {"repair_eligible": 0, "expired": 0}
    assert state(other) == RecordState.ACTIVE
    time_machine.move_to("2027-11-01T09:00:00+08:00", tick=False)
    assert advance_record_periods()["expired"] == 2


def test_the_sweep_works_through_batches(personas: Personas, time_machine) -> None:  # type: ignore[no-untyped-def]
    for month in range(1, 8):
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, month, 3)
        )
    # January to March fall under Order 58 (general: up to 3 years), April to July under Order 36 (1 year).
    time_machine.move_to("2029-08-01T09:00:00+08:00", tick=False)
    assert advance_record_periods(batch_size=2)["expired"] == 7


def test_the_sweep_reads_only_what_is_due(personas: Personas, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    for month in range(6, 11):
        make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, month, 3)
        )
    # Nothing is due: two selects (one per kind of step), whatever the number of records.
    with django_assert_max_num_queries(2):
        assert advance_record_periods() == {"repair_eligible": 0, "expired": 0}


def test_the_command_and_the_beat_task(general: CreditRecord, time_machine) -> None:  # type: ignore[no-untyped-def]
    time_machine.move_to("2027-02-02T09:00:00+08:00", tick=False)
    out = StringIO()
    with translation.override("en"):
        call_command("expire_records", stdout=out)
    assert "1 record(s) became repair-eligible, 0 record(s) expired" in out.getvalue()
    time_machine.move_to("2027-11-02T09:00:00+08:00", tick=False)
    assert sweep_task.delay() is not None
    assert state(general) == RecordState.EXPIRED
