"""Repair eligibility: each rule at its edges, then properties over rule sets, tiers and dates.

Every test starts on 2026-11-23 10:00 in Shanghai (tests/conftest.py). Records are registered by the real
service, under the rule set in force on their decision date."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from time_machine import TimeMachineFixture

from credit.models import CreditRecord, RuleSet, User
from credit.models.records import Domain, RecordState
from credit.services.transitions import perform_transition
from repair.eligibility import Answer, Code, Reason, check
from repair.models import RepairCase, RepairState
from tests.conftest import Personas
from tests.factories import make_record

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(time_machine: TimeMachineFixture, day: date, hour: int = 10, minute: int = 0) -> None:
    time_machine.move_to(datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI), tick=False)


def codes(answer: Answer) -> list[str]:
    return [reason.code for reason in answer.reasons]


def reason(answer: Answer, code: str) -> Reason:
    return next(r for r in answer.reasons if r.code == code)


def set_fields(record: CreditRecord, **fields: object) -> CreditRecord:
    """Give a record the result of a step that is not under test here (a revocation, a recorded fulfilment,
    a decided repair): the steps themselves have their own tests."""
    CreditRecord.objects.filter(pk=record.pk).update(**fields)
    record.refresh_from_db()
    return record


def open_case(record: CreditRecord, filed_by: User, **fields: object) -> RepairCase:
    return RepairCase.objects.create(
        record=record,
        person=record.person,
        department=record.department,
        ruleset=RuleSet.objects.in_force(date(2026, 11, 23)),
        channel=RepairCase.Channel.ONLINE,
        filed_by=filed_by,
        statement="已缴清罚款并完成整改。",
        **fields,
    )


@pytest.fixture
def general(personas: Personas) -> CreditRecord:
    # Order 36, 一般, decided 2026-05-31: repair from 2026-09-01, shown until 2027-05-31.
    record = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    assert (record.repair_from, record.display_until) == (date(2026, 9, 1), date(2027, 5, 31))
    return record


# -- the minimum period -------------------------------------------------------------------------------


def test_not_eligible_the_day_before_repair_from_and_eligible_on_it(
    personas: Personas, time_machine: TimeMachineFixture
) -> None:
    at(time_machine, date(2026, 8, 31))
    record = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
    )
    assert record.state == RecordState.ACTIVE

    before = check(record)
    assert not before.eligible
    assert codes(before) == [Code.MINIMUM_NOT_REACHED]
    assert reason(before, Code.MINIMUM_NOT_REACHED).from_date == date(2026, 9, 1)
    assert before.first_date == date(2026, 9, 1)

    # No sweep has run, so the record is still `active`: the answer follows the dates, not the sweep.
    at(time_machine, date(2026, 9, 1))
    on = check(record)
    assert on.eligible and on.reasons == [] and on.first_date == date(2026, 9, 1)


def test_the_day_turns_at_midnight_in_shanghai_not_utc(
    general: CreditRecord, time_machine: TimeMachineFixture
) -> None:
    at(time_machine, date(2026, 8, 31), hour=23, minute=59)
    assert codes(check(general)) == [Code.MINIMUM_NOT_REACHED]
    # 00:30 on 1 September in Shanghai is still 31 August in UTC.
    at(time_machine, date(2026, 9, 1), hour=0, minute=30)
    assert check(general).eligible


def test_an_explicit_today_overrides_the_clock(general: CreditRecord) -> None:
    assert check(general).eligible  # the frozen 2026-11-23
    assert codes(check(general, today=date(2026, 8, 31))) == [Code.MINIMUM_NOT_REACHED]


# -- 轻微: the duty fulfilled -------------------------------------------------------------------------


@pytest.fixture
def minor(personas: Personas) -> CreditRecord:
    # Order 36, 轻微, decided 2026-10-10: no minimum period, shown at most until 2027-01-10.
    record = make_record(
        person=personas.applicant_person,
        department=personas.market,
        decision_date=date(2026, 10, 10),
        tiers=("minor",),
    )
    assert record.repair_needs_duty_fulfilled
    assert (record.repair_from, record.display_until) == (date(2026, 10, 11), date(2027, 1, 10))
    return record


def test_a_minor_record_waits_for_the_duty_with_no_date_promised(minor: CreditRecord) -> None:
    answer = check(minor)
    assert not answer.eligible
    assert codes(answer) == [Code.DUTY_NOT_FULFILLED]
    assert reason(answer, Code.DUTY_NOT_FULFILLED).from_date is None
    assert answer.first_date is None


def test_a_minor_record_is_eligible_once_the_duty_is_fulfilled(minor: CreditRecord) -> None:
    set_fields(minor, duty_fulfilled_on=date(2026, 11, 20))
    answer = check(minor)
    assert answer.eligible and answer.first_date == date(2026, 11, 23)


def test_the_fulfilment_recorded_in_the_deciding_case_counts(personas: Personas, minor: CreditRecord) -> None:
    case = open_case(minor, personas.applicant, duty_fulfilled_on=date(2026, 11, 20))
    # For anyone else the record still waits for its duty, and this case is another open repair.
    assert codes(check(minor)) == [Code.DUTY_NOT_FULFILLED, Code.OPEN_REPAIR]
    assert check(minor, exclude_case=case).eligible
    case.check_repairable()


def test_a_fulfilment_recorded_for_a_later_day_counts_from_that_day(minor: CreditRecord) -> None:
    set_fields(minor, duty_fulfilled_on=date(2026, 11, 30))
    answer = check(minor)
    assert codes(answer) == [Code.DUTY_NOT_FULFILLED]
    assert answer.first_date == date(2026, 11, 30)
    assert check(minor, today=date(2026, 11, 30)).eligible


# -- 527号 特定严重: never ------------------------------------------------------------------------------


def test_a_527_specially_serious_record_is_never_repairable(
    personas: Personas, time_machine: TimeMachineFixture
) -> None:
    at(time_machine, date(2021, 6, 20))
    record = make_record(
        person=personas.applicant_person,
        department=personas.market,
        decision_date=date(2021, 6, 15),
        tiers=("special_serious",),
    )
    assert record.ruleset.code == "ndrc-527-2019" and not record.repairable
    for today in (date(2021, 6, 20), date(2022, 6, 16), record.display_until, record.repair_from):
        answer = check(record, today=today)
        assert not answer.eligible
        assert Code.NOT_REPAIRABLE in codes(answer)
        assert answer.first_date is None


def test_a_527_serious_record_is_repairable_after_six_months(
    personas: Personas, time_machine: TimeMachineFixture
) -> None:
    at(time_machine, date(2021, 6, 20))
    record = make_record(
        person=personas.applicant_person,
        department=personas.market,
        decision_date=date(2021, 6, 15),
        tiers=("serious",),
    )
    assert record.repair_from == date(2021, 12, 16)
    assert check(record, today=date(2021, 12, 15)).first_date == date(2021, 12, 16)
    assert check(record, today=date(2021, 12, 16)).eligible


# -- the block after a revoked repair ------------------------------------------------------------------


def test_a_revoked_repair_blocks_until_the_day_after_the_block(general: CreditRecord) -> None:
    set_fields(general, repair_blocked_until=date(2027, 1, 15))
    answer = check(general)
    assert codes(answer) == [Code.BLOCKED_AFTER_REVOCATION]
    assert reason(answer, Code.BLOCKED_AFTER_REVOCATION).from_date == date(2027, 1, 16)
    assert answer.first_date == date(2027, 1, 16)
    assert not check(general, today=date(2027, 1, 15)).eligible
    assert check(general, today=date(2027, 1, 16)).eligible


def test_a_block_outlasting_the_display_promises_no_date(personas: Personas, general: CreditRecord) -> None:
    # The real path: repaired through a case, then revoked (false materials): Order 36 Art. 25 blocks the
    # record for 3 years, far past its display end on 2027-05-31.
    case = open_case(general, personas.applicant)
    perform_transition(general, "repair", actor=personas.reviewer, via=case)
    general.refresh_from_db()
    repaired = check(general, exclude_case=case)
    assert codes(repaired) == [Code.RECORD_REPAIRED]

    perform_transition(general, "revoke_repair", actor=personas.reviewer, via=case, reason="提交虚假材料")
    general.refresh_from_db()
    assert general.state == RecordState.ACTIVE and general.repair_blocked_until == date(2029, 11, 23)
    answer = check(general, exclude_case=case)
    assert codes(answer) == [Code.BLOCKED_AFTER_REVOCATION]
    assert reason(answer, Code.BLOCKED_AFTER_REVOCATION).from_date == date(2029, 11, 24)
    # By then the record is no longer shown: the block ends with nothing left to repair.
    assert answer.first_date is None


# -- another open repair ------------------------------------------------------------------------------


def test_another_open_repair_blocks_and_the_deciding_case_is_not_another(
    personas: Personas, general: CreditRecord
) -> None:
    case = open_case(general, personas.applicant)
    answer = check(general)
    assert codes(answer) == [Code.OPEN_REPAIR]
    assert reason(answer, Code.OPEN_REPAIR).from_date is None
    assert answer.first_date is None
    assert check(general, exclude_case=case).eligible
    case.check_repairable()  # the case's own check at the moment of deciding does not trip over itself


@pytest.mark.parametrize("state", [RepairState.WITHDRAWN, RepairState.REFUSED, RepairState.LAPSED])
def test_a_closed_repair_does_not_block(personas: Personas, general: CreditRecord, state: str) -> None:
    open_case(general, personas.applicant, state=state)
    assert check(general).eligible


def test_an_open_repair_of_another_record_does_not_block(personas: Personas, general: CreditRecord) -> None:
    other = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 30)
    )
    open_case(other, personas.applicant)
    assert check(general).eligible


# -- the display period -------------------------------------------------------------------------------


def test_the_display_end_is_the_last_day(general: CreditRecord) -> None:
    assert check(general, today=date(2027, 5, 31)).eligible
    answer = check(general, today=date(2027, 6, 1))
    assert codes(answer) == [Code.DISPLAY_ENDED]
    assert answer.first_date is None


def test_a_minimum_after_the_display_end_promises_no_date(
    personas: Personas, time_machine: TimeMachineFixture
) -> None:
    # 527号 特定严重: minimum = maximum, so repair_from is the day after the display ends. Even if the rule
    # set allowed repair, that date would be met by "display_ended".
    at(time_machine, date(2021, 6, 20))
    record = make_record(
        person=personas.applicant_person,
        department=personas.market,
        decision_date=date(2021, 6, 15),
        tiers=("special_serious",),
    )
    assert record.repair_from == record.display_until + timedelta(days=1)
    record = set_fields(record, repairable=True)
    answer = check(record)
    assert codes(answer) == [Code.MINIMUM_NOT_REACHED]
    assert answer.first_date is None


# -- records out of force -----------------------------------------------------------------------------


def test_a_masked_record_cannot_be_repaired(personas: Personas, general: CreditRecord) -> None:
    perform_transition(general, "temp_mask", actor=personas.officer, reason="法院裁定破产重整")
    general.refresh_from_db()
    answer = check(general)
    assert codes(answer) == [Code.RECORD_TEMP_MASKED]
    assert answer.first_date is None


@pytest.mark.parametrize(
    ("state", "code"),
    [
        (RecordState.REPAIRED, Code.RECORD_REPAIRED),
        (RecordState.DELETED, Code.RECORD_DELETED),
        (RecordState.REVOKED, Code.RECORD_REVOKED),
    ],
)
def test_a_record_out_of_force_cannot_be_repaired(general: CreditRecord, state: str, code: str) -> None:
    set_fields(general, state=state)
    answer = check(general)
    assert codes(answer) == [code]
    assert answer.first_date is None


def test_an_expired_record_has_nothing_to_repair(personas: Personas) -> None:
    # Order 58, 一般, decided 2023-06-01: shown until 2026-06-01, so expired when registered today.
    record = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2023, 6, 1)
    )
    assert record.state == RecordState.EXPIRED
    answer = check(record)
    assert codes(answer) == [Code.RECORD_EXPIRED, Code.DISPLAY_ENDED]
    assert answer.first_date is None


# -- several reasons ----------------------------------------------------------------------------------


@pytest.fixture
def young(personas: Personas) -> CreditRecord:
    # Order 36, 一般, decided 2026-11-01: repair from 2027-02-02, shown until 2027-11-01.
    record = make_record(
        person=personas.applicant_person, department=personas.market, decision_date=date(2026, 11, 1)
    )
    assert record.repair_from == date(2027, 2, 2)
    return record


def test_every_reason_is_reported_and_the_first_date_is_the_latest(young: CreditRecord) -> None:
    set_fields(young, repair_blocked_until=date(2027, 3, 31))
    answer = check(young)
    assert codes(answer) == [Code.MINIMUM_NOT_REACHED, Code.BLOCKED_AFTER_REVOCATION]
    assert answer.first_date == date(2027, 4, 1)
    assert codes(check(young, today=date(2027, 2, 2))) == [Code.BLOCKED_AFTER_REVOCATION]
    assert check(young, today=date(2027, 4, 1)).eligible


def test_one_undated_reason_leaves_no_first_date(personas: Personas, young: CreditRecord) -> None:
    set_fields(young, repair_blocked_until=date(2027, 3, 31))
    open_case(young, personas.applicant)
    answer = check(young)
    assert codes(answer) == [Code.MINIMUM_NOT_REACHED, Code.BLOCKED_AFTER_REVOCATION, Code.OPEN_REPAIR]
    assert answer.first_date is None


def test_the_answer_is_json_ready(young: CreditRecord) -> None:
    data = check(young).as_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["eligible"] is False and data["first_date"] == "2027-02-02"
    [item] = data["reasons"]
    assert (item["code"], item["from_date"]) == ("minimum_not_reached", "2027-02-02")
    assert "2027-02-02" in item["message"]


# -- properties ---------------------------------------------------------------------------------------

# The tiers each rule set knows, by the first and last decision dates it governs (credit/rulesets.py).
RULESET_TIERS: list[tuple[date, date, tuple[str, ...]]] = [
    (date(2019, 7, 1), date(2023, 4, 30), ("general", "serious", "special_serious")),
    (date(2023, 5, 1), date(2026, 3, 31), ("minor", "general", "serious")),
    (date(2026, 4, 1), date(2026, 11, 22), ("minor", "general", "serious")),
]


@dataclass(frozen=True)
class Scenario:
    decided: date
    tiers: tuple[str, ...]
    domain: str
    # Days after the decision: the day checked, a recorded fulfilment, the end of a block.
    offset: int
    duty_after: int | None
    blocked_after: int | None


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    decided = draw(st.dates(min_value=date(2019, 7, 1), max_value=date(2026, 11, 22)))
    tiers = next(t for first, last, t in RULESET_TIERS if first <= decided <= last)
    return Scenario(
        decided=decided,
        tiers=tuple(draw(st.lists(st.sampled_from(tiers), min_size=1, max_size=2))),
        # 安全生产 has a 1-year minimum under Order 58, whatever the tier.
        domain=draw(st.sampled_from([Domain.FOOD_DRUG, Domain.WORK_SAFETY])),
        offset=draw(st.integers(min_value=0, max_value=4 * 366)),
        duty_after=draw(st.none() | st.integers(min_value=0, max_value=200)),
        blocked_after=draw(st.none() | st.integers(min_value=0, max_value=3 * 366)),
    )


def registered(personas: Personas, time_machine: TimeMachineFixture, s: Scenario) -> CreditRecord:
    # Registered on its decision day, so it is `active` (in force) and only the dates decide; the day
    # checked is passed as `today=`, so no sweep has to run in between.
    at(time_machine, s.decided)
    record = make_record(
        person=personas.applicant_person,
        department=personas.market,
        decision_date=s.decided,
        tiers=s.tiers,
        domain=s.domain,
    )
    assert record.state == RecordState.ACTIVE
    return set_fields(
        record,
        duty_fulfilled_on=None if s.duty_after is None else s.decided + timedelta(days=s.duty_after),
        repair_blocked_until=None if s.blocked_after is None else s.decided + timedelta(days=s.blocked_after),
    )


PROPERTY_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@PROPERTY_SETTINGS
@given(s=scenarios())
def test_eligible_only_inside_the_rules(
    personas: Personas, time_machine: TimeMachineFixture, s: Scenario
) -> None:
    record = registered(personas, time_machine, s)
    today = s.decided + timedelta(days=s.offset)
    answer = check(record, today=today)
    event("eligible" if answer.eligible else "+".join(codes(answer)))  # shown by --hypothesis-show-statistics
    if answer.eligible:
        assert answer.reasons == [] and answer.first_date == today
        assert record.repairable
        assert record.repair_from <= today <= record.display_until
        assert not record.repair_blocked(today)
        if record.repair_needs_duty_fulfilled:
            assert record.duty_fulfilled_on is not None and record.duty_fulfilled_on <= today
    else:
        assert answer.reasons
        if record.minimum_reached(today) and not record.maximum_reached(today):
            # The minimum reached and the record in force: only the 轻微 duty can stand in the way.
            assert set(codes(answer)) == {Code.DUTY_NOT_FULFILLED}


@PROPERTY_SETTINGS
@given(s=scenarios())
def test_the_first_date_is_the_first_eligible_day(
    personas: Personas, time_machine: TimeMachineFixture, s: Scenario
) -> None:
    record = registered(personas, time_machine, s)
    today = s.decided + timedelta(days=s.offset)
    answer = check(record, today=today)
    event(f"first_date {'set' if answer.first_date else 'none'}, eligible={answer.eligible}")
    if answer.eligible:
        return
    if codes(answer) == [Code.MINIMUM_NOT_REACHED]:
        if record.repair_from <= record.display_until:
            assert answer.first_date == record.repair_from
        else:
            assert answer.first_date is None
    if answer.first_date is not None:
        assert answer.first_date > today
        assert check(record, today=answer.first_date).eligible
        assert not check(record, today=answer.first_date - timedelta(days=1)).eligible
