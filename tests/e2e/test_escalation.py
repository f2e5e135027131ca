"""Scenario 3 in the browser: intake files a repair for a walk-in applicant at the counter; nobody examines it
within its 3 working days; beat's timer sweep escalates the overdue task to the department's head, who sees
it on the escalations screen, in the team's list and on the case file as overdue, and gives it to a
colleague; the colleague finds it in their inbox, overdue, and accepts the application."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from credit.models import CreditRecord
from credit.models.people import Role
from credit.tasks import fire_due_workflow_timers
from tests.conftest import Personas
from tests.e2e.browser import Browsers, Shots, server_side
from tests.e2e.steps import case_number, open_case, open_queue, png, queue_row, state_of, take_step
from tests.factories import UserFactory, make_record, resident_id

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def record(personas: Personas, signing: Any) -> CreditRecord:
    with server_side():
        return make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )


@pytest.fixture
def colleague(personas: Personas) -> Any:
    return UserFactory(username="colleague", role=Role.OFFICER, department=personas.market)


def test_an_overdue_task_is_escalated_to_the_head_who_reassigns_it(
    browsers: Browsers,
    shots: Shots,
    personas: Personas,
    record: CreditRecord,
    colleague: Any,
    time_machine: Any,
) -> None:
    # -- Monday: the applicant files at the counter, through intake ---------------------------------------
    intake = browsers.as_user(personas.intake)
    intake.get_by_role("link", name="Walk-in filing").click()
    intake.get_by_label("ID number (all 18 characters)").fill(resident_id(1))
    shots.take(intake, "walk-in identity")
    intake.get_by_role("button", name="Find the person").click()
    expect(intake.locator("#walk-in-person")).to_contain_text(personas.applicant_person.name)
    expect(intake.locator("main")).to_contain_text(record.number)
    intake.get_by_text("File a repair application").click()
    # The page holds two filing forms; each field is looked for inside the repair form.
    form = intake.locator("form", has=intake.locator("input[name=filing][value=repair]"))
    form.locator("[name=record]").select_option(str(record.pk))
    form.locator("[name=statement]").fill("罚款已于6月缴清，整改已完成。")
    form.locator("[name=commitment_accepted]").check()
    form.locator("[name=signed_form]").set_input_files(png("申请表签字页.png"))
    form.locator("[name=evidence]").set_input_files(png("缴款凭证.png"))
    form.locator("[name=evidence_description]").fill("罚款缴款凭证")
    shots.take(intake, "walk-in repair form", focus=form)
    form.get_by_role("button", name="File the repair application").click()
    expect(intake).to_have_url(re.compile(r"/staff/cases/repair/\d+/$"))
    number = case_number(intake)
    expect(intake.locator("ul.messages")).to_contain_text(f"Filed: {number}.")
    expect(state_of(intake)).to_have_text("Submitted, waiting for acceptance")
    shots.take(intake, "walk-in case filed")

    # The officer sees it in the department's queue, due in 3 working days, and leaves it there.
    officer = browsers.as_user(personas.officer)
    open_queue(officer)
    expect(queue_row(officer, number).locator(".sla")).to_have_text("due in 3 working days")

    # -- Friday: the acceptance clock ran out on Thursday; beat's sweep fires the timer --------------------
    time_machine.move_to("2026-11-27T09:00:00+08:00", tick=False)
    with server_side():
        fire_due_workflow_timers()

    head = browsers.as_user(personas.head)
    head.get_by_role("link", name="Escalations").click()
    row = head.locator("tbody tr", has=head.get_by_role("link", name=number, exact=True))
    expect(row).to_have_count(1)
    expect(row.locator(".sla-overdue")).to_have_text("overdue by 1 working day")
    expect(row).to_contain_text("in the queue")
    shots.take(head, "head escalations")

    head.get_by_role("link", name="Team", exact=True).click()
    expect(queue_row(head, number).locator(".sla-overdue")).to_have_text("overdue by 1 working day")
    shots.take(head, "head team list overdue")
    open_case(head, number)
    deadlines = head.locator("section[aria-labelledby=deadlines-title]")
    expect(deadlines.locator(".sla-overdue")).to_contain_text("overdue by 1 working day")
    shots.take(head, "head case file overdue", focus=deadlines)

    # -- the head gives the task to a colleague ------------------------------------------------------------
    head.get_by_role("link", name="Escalations").click()
    row = head.locator("tbody tr", has=head.get_by_role("link", name=number, exact=True))
    row.get_by_role("link", name="Reassign").click()
    expect(head.locator("#reassign-title")).to_be_visible()
    head.get_by_label("Give the task to").select_option(str(colleague.pk))
    head.get_by_label("Reason (optional)").fill("原经办人外出核查，改由同事办理")
    shots.take(head, "head reassigns")
    head.get_by_role("button", name="Reassign").click()
    expect(head.locator("ul.messages")).to_contain_text("The task was given to colleague.")
    row = head.locator("tbody tr", has=head.get_by_role("link", name=number, exact=True))
    expect(row).to_contain_text("colleague")  # still overdue until its step is taken

    # -- the colleague finds it in their inbox, overdue, and accepts ---------------------------------------
    worker = browsers.as_user(colleague)
    open_queue(worker, "inbox")
    expect(queue_row(worker, number).locator(".sla-overdue")).to_have_text("overdue by 1 working day")
    shots.take(worker, "colleague inbox overdue")
    open_case(worker, number)
    expect(worker.locator("ol").last).to_contain_text("原经办人外出核查")  # the timeline says who moved it
    take_step(worker, "Accept")
    expect(state_of(worker)).to_have_text("Accepted, being verified")
    shots.take(worker, "colleague accepted")

    head.get_by_role("link", name="Escalations").click()
    expect(head.get_by_role("link", name=number, exact=True)).to_have_count(0)
    expect(head.locator("main")).to_contain_text("No escalated task.")
