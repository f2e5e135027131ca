"""The one transition path: permission, lock and re-check, audit row, signal, and every refusal."""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import translation

from credit.models import CreditRecord, RecordAmendment, TransitionLog
from credit.models.records import RecordState
from credit.selectors import records_for
from credit.services.transitions import (
    BadPayload,
    Forbidden,
    NotFound,
    System,
    WrongState,
    allowed_transitions,
    perform_transition,
)
from credit.signals import case_transitioned
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(personas: Personas) -> CreditRecord:
    # General tier decided 2026-05-31: repair from 2026-09-01, so eligible on the frozen 2026-11-23.
    return make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )


def log_of(record: CreditRecord) -> list[tuple[str, str, str, str]]:
    rows = TransitionLog.objects.filter(
        content_type=ContentType.objects.get_for_model(record), object_id=record.pk
    )
    return [(r.transition, r.from_state, r.to_state, r.actor_label) for r in rows.order_by("at", "id")]


def test_registration_takes_the_steps_the_periods_call_for_and_logs_them(record: CreditRecord) -> None:
    assert record.state == RecordState.REPAIR_ELIGIBLE
    assert log_of(record) == [("mark_repair_eligible", "active", "repair_eligible", "system:periods")]


def test_a_step_writes_one_audit_row_with_actor_and_reason(personas: Personas, record: CreditRecord) -> None:
    received = []
    case_transitioned.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t1")
    try:
        perform_transition(record, "temp_mask", actor=personas.officer, reason="法院裁定破产重整")
    finally:
        case_transitioned.disconnect(dispatch_uid="t1")
    record.refresh_from_db()
    assert record.state == RecordState.TEMP_MASKED
    entry = TransitionLog.objects.filter(transition="temp_mask").get()
    assert (entry.from_state, entry.to_state, entry.actor, entry.reason) == (
        "repair_eligible",
        "temp_masked",
        personas.officer,
        "法院裁定破产重整",
    )
    assert entry.object_number == record.number
    assert [r["transition"] for r in received] == ["temp_mask"]
    assert received[0]["log"] == entry


def test_restore_returns_to_the_state_the_periods_give(personas: Personas, record: CreditRecord) -> None:
    perform_transition(record, "temp_mask", actor=personas.officer, reason="重整")
    record = perform_transition(record, "restore", actor=personas.head, reason="重整计划未执行")  # type: ignore[assignment]
    assert record.state == RecordState.REPAIR_ELIGIBLE


def test_another_departments_officer_is_forbidden(personas: Personas, record: CreditRecord) -> None:
    with pytest.raises(Forbidden):
        perform_transition(record, "temp_mask", actor=personas.other_officer, reason="x")
    assert CreditRecord.objects.get(pk=record.pk).state == RecordState.REPAIR_ELIGIBLE
    assert not TransitionLog.objects.filter(transition="temp_mask").exists()


@pytest.mark.parametrize("who", ["applicant", "reviewer", "auditor", "intake", "admin"])
def test_roles_without_the_permission_are_forbidden(
    personas: Personas, record: CreditRecord, who: str
) -> None:
    with pytest.raises(Forbidden):
        perform_transition(record, "temp_mask", actor=getattr(personas, who), reason="x")


def test_a_user_cannot_take_a_system_step(personas: Personas) -> None:
    young = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 11, 1)
    )
    with pytest.raises(Forbidden):
        perform_transition(young, "expire", actor=personas.head)


def test_a_case_outcome_is_refused_without_its_case(personas: Personas, record: CreditRecord) -> None:
    with translation.override("en"), pytest.raises(Forbidden, match="decided case"):
        perform_transition(record, "repair", actor=personas.reviewer)


def test_a_case_outcome_with_its_case_is_allowed_and_linked(personas: Personas, record: CreditRecord) -> None:
    case = personas.market  # any saved object stands in for the deciding case here
    perform_transition(record, "repair", actor=personas.reviewer, via=case)
    entry = TransitionLog.objects.get(transition="repair")
    assert (entry.via_content_type.model, entry.via_object_id) == ("department", case.pk)


def test_the_wrong_state_is_a_conflict_naming_the_state(personas: Personas, record: CreditRecord) -> None:
    with pytest.raises(WrongState) as exc:
        perform_transition(record, "restore", actor=personas.officer, reason="x")
    assert exc.value.extra["state"] == "repair_eligible"


def test_the_state_is_rechecked_after_the_lock(personas: Personas, record: CreditRecord) -> None:
    stale = CreditRecord.objects.get(pk=record.pk)
    perform_transition(record, "temp_mask", actor=personas.officer, reason="first")
    with pytest.raises(WrongState):
        perform_transition(stale, "temp_mask", actor=personas.head, reason="second, from a stale page")
    assert TransitionLog.objects.filter(transition="temp_mask").count() == 1


def test_a_missing_reason_is_a_bad_request(personas: Personas, record: CreditRecord) -> None:
    with pytest.raises(BadPayload) as exc:
        perform_transition(record, "temp_mask", actor=personas.officer, reason="   ")
    assert "reason" in exc.value.extra["errors"]


def test_an_unknown_step_or_an_invisible_object_is_not_found(
    personas: Personas, record: CreditRecord
) -> None:
    with pytest.raises(NotFound):
        perform_transition(record, "explode", actor=personas.officer)
    with pytest.raises(NotFound):
        perform_transition(
            record,
            "temp_mask",
            actor=personas.officer,
            reason="x",
            visible=records_for(personas.other_officer),
        )


def test_a_correction_keeps_history_and_rederives_the_periods(
    personas: Personas, record: CreditRecord
) -> None:
    record = perform_transition(  # type: ignore[assignment]
        record,
        "amend",
        actor=personas.reviewer,
        reason="决定日期录入错误",
        via=personas.market,
        payload={"decision_date": "2026-10-31"},
    )
    assert record.decision_date == date(2026, 10, 31)
    assert record.repair_from == date(2027, 2, 1)
    assert record.state == RecordState.ACTIVE  # no longer eligible: the minimum moved past today
    history = RecordAmendment.objects.get(record=record)
    assert (history.field, history.old_value, history.new_value) == (
        "decision_date",
        "2026-05-31",
        "2026-10-31",
    )


def test_a_correction_with_a_bad_payload_changes_nothing(personas: Personas, record: CreditRecord) -> None:
    with pytest.raises(BadPayload):
        perform_transition(
            record,
            "amend",
            actor=personas.reviewer,
            reason="r",
            via=personas.market,
            payload={"decision_date": "not a date"},
        )
    with pytest.raises(BadPayload):
        perform_transition(
            record,
            "amend",
            actor=personas.reviewer,
            reason="r",
            via=personas.market,
            payload={"decision_date": "2026-05-31"},
        )  # the same value: no change
    assert not RecordAmendment.objects.exists()
    assert TransitionLog.objects.filter(transition="amend").count() == 0


def test_revoking_a_repair_blocks_repair_for_three_years(personas: Personas, record: CreditRecord) -> None:
    perform_transition(record, "repair", actor=personas.reviewer, via=personas.market)
    record = perform_transition(
        record,
        "revoke_repair",
        actor=personas.reviewer,
        via=personas.market,  # type: ignore[assignment]
        reason="承诺不实",
    )
    assert record.repair_blocked_until == date(2029, 11, 23)
    assert record.state == RecordState.ACTIVE
    assert "repair" not in allowed_transitions(record, personas.reviewer, direct_only=False)


def test_the_objection_flag_is_set_and_cleared_without_changing_the_state(
    personas: Personas, record: CreditRecord
) -> None:
    record = perform_transition(record, "flag_objection", actor=personas.intake, via=personas.market)  # type: ignore[assignment]
    assert record.under_objection and record.state == RecordState.REPAIR_ELIGIBLE
    with pytest.raises(WrongState):
        perform_transition(record, "flag_objection", actor=personas.intake, via=personas.market)
    record = perform_transition(record, "clear_objection", actor=personas.reviewer, via=personas.market)  # type: ignore[assignment]
    assert not record.under_objection
    assert [t for t, *_ in log_of(record)][-2:] == ["flag_objection", "clear_objection"]


def test_allowed_transitions_are_computed_for_the_caller(personas: Personas, record: CreditRecord) -> None:
    assert allowed_transitions(record, personas.officer) == ["temp_mask"]
    assert allowed_transitions(record, personas.head) == ["temp_mask"]
    assert allowed_transitions(record, personas.other_officer) == []
    assert allowed_transitions(record, personas.applicant) == []
    assert allowed_transitions(record, personas.admin) == []


def test_the_system_actor_is_named_in_the_log(personas: Personas, time_machine: object) -> None:
    record = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    time_machine.move_to("2027-06-01T08:00:00+08:00", tick=False)  # type: ignore[attr-defined]
    perform_transition(record, "expire", actor=System("system:test"))
    assert log_of(record)[-1] == ("expire", "repair_eligible", "expired", "system:test")


def test_the_system_takes_only_its_own_steps(record: CreditRecord) -> None:
    with pytest.raises(Forbidden):
        perform_transition(record, "temp_mask", actor=System("system:test"), reason="x")


def test_a_minor_record_is_repaired_only_once_the_duty_is_fulfilled(personas: Personas) -> None:
    minor = make_record(
        person=personas.applicant_person,
        department=personas.market,
        decision_date=date(2026, 11, 2),
        tiers=("minor",),
    )
    assert minor.state == RecordState.REPAIR_ELIGIBLE and minor.repair_needs_duty_fulfilled
    with translation.override("en"), pytest.raises(WrongState, match="conditions"):
        perform_transition(minor, "repair", actor=personas.reviewer, via=personas.market)
    CreditRecord.objects.filter(pk=minor.pk).update(duty_fulfilled_on=date(2026, 11, 20))
    minor.refresh_from_db()
    assert (
        perform_transition(minor, "repair", actor=personas.reviewer, via=personas.market).state == "repaired"
    )


def test_only_the_objects_own_row_is_locked(personas: Personas, record: CreditRecord) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if not connection.features.has_select_for_update_of:
        pytest.skip("row locks are a PostgreSQL matter (make test-services)")
    with CaptureQueriesContext(connection) as ctx:
        perform_transition(
            record, "temp_mask", actor=personas.officer, reason="x", visible=records_for(personas.officer)
        )
    locks = [q["sql"] for q in ctx.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locks) == 1
    assert 'FOR UPDATE OF "credit_creditrecord"' in locks[0] and "JOIN" not in locks[0]
