"""Scenario 2 in the browser: a credit repair in a city that requires an integrity interview and certified
volunteer hours. The applicant applies in the portal; the officer asks for a supplement (one notice) and the
applicant answers it by uploading; the officer verifies the evidence, accepts, schedules the interview and
records it; the applicant uploads a volunteer service certificate, which the officer verifies; the officer
drafts the decision to repair, the legal reviewer approves it, and the applicant sees the record repaired."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

from credit.models import CityOverlay, CreditRecord
from tests.conftest import Personas
from tests.e2e.browser import Browsers, Shots, server_side
from tests.e2e.steps import (
    case_number,
    open_queue,
    pick_up,
    png,
    portal_state,
    state_of,
    submit_action,
    take_step,
)
from tests.factories import make_record

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SUPPLEMENT = "Request a supplement (one notice)"


@pytest.fixture
def overlay(personas: Personas) -> CityOverlay:
    overlay = CityOverlay.objects.create(
        city=personas.market.city,
        effective_from=date(2026, 1, 1),
        interview_required=True,
        volunteer_hours_threshold=Decimal("10"),
    )
    CityOverlay.objects.filter(pk=overlay.pk).update(published_at="2026-01-01T00:00:00+08:00")
    return overlay


@pytest.fixture
def record(personas: Personas, signing: Any, overlay: CityOverlay) -> CreditRecord:
    # General, decided 2026-05-31: repair may be applied for from 2026-09-01 (today is 2026-11-23).
    with server_side():
        return make_record(
            person=personas.applicant_person, department=personas.market, decision_date=date(2026, 5, 31)
        )


def evidence_item(officer: Any, name: str) -> Any:
    return officer.locator("ul.ws-evidence > li", has=officer.get_by_role("img", name=name))


def verify_evidence(officer: Any, name: str) -> None:
    """On the case file: open the piece's verification page, see the image, accept it."""
    evidence_item(officer, name).get_by_role("link", name="Verify").click()
    expect(officer).to_have_url(re.compile(r"/evidence/\d+/verify/$"))
    expect(officer.get_by_role("img", name=name)).to_be_visible()
    officer.locator("input[name=decision][value=accept]").check()
    submit_action(officer)
    expect(evidence_item(officer, name)).to_contain_text("Accepted")
    expect(evidence_item(officer, name).get_by_role("link", name="Verify")).to_have_count(0)


def test_a_repair_with_a_supplement_an_interview_and_volunteer_hours(
    browsers: Browsers, shots: Shots, personas: Personas, record: CreditRecord, time_machine: Any
) -> None:
    # -- the applicant applies on a phone ------------------------------------------------------------------
    applicant = browsers.as_user(personas.applicant, phone=True)
    expect(applicant.get_by_text("You may apply now")).to_be_visible()
    applicant.get_by_role("link", name=f"Apply for repair of {record.number}").click()
    expect(applicant.locator(f"#record-{record.pk}")).to_be_checked()
    shots.take(applicant, "repair step 1 record")
    applicant.get_by_role("button", name="Continue").click()
    applicant.get_by_label("How the conduct was corrected and the obligations performed").fill(
        "已于2026年6月缴清全部罚款，并完成食品安全整改。"
    )
    applicant.get_by_role("button", name="Continue").click()
    expect(applicant.get_by_role("heading", name="The credit commitment (信用承诺书)")).to_be_visible()
    applicant.get_by_label("I have read the credit commitment above, and I sign it.").check()
    shots.take(applicant, "repair step 3 commitment")
    applicant.get_by_role("button", name="Continue").click()
    expect(applicant.locator("main")).to_contain_text("This city also asks for 10.0 hours")
    expect(applicant.locator("main")).to_contain_text("This city holds an integrity interview")
    applicant.locator("#id_evidence-0-file").set_input_files(png("缴款凭证.png"))
    applicant.locator("#id_evidence-0-kind").select_option("performance")
    applicant.locator("#id_evidence-0-description").fill("罚款缴款凭证")
    shots.take(applicant, "repair step 4 evidence")
    applicant.get_by_role("button", name="Sign and send the application").click()
    expect(applicant).to_have_url(re.compile(r"/my/cases/repair/\d+/$"))
    number = case_number(applicant)
    expect(applicant.locator("main")).to_contain_text(f"Your repair application {number} was filed.")
    case_page = applicant.url
    shots.take(applicant, "applicant repair filed")

    # -- the officer asks for what is missing, in one notice -------------------------------------------
    time_machine.move_to("2026-11-23T15:00:00+08:00", tick=False)
    officer = browsers.as_user(personas.officer)
    open_queue(officer)
    shots.take(officer, "officer queue")
    pick_up(officer, number)
    take_step(officer, SUPPLEMENT, fields={"missing": "整改完成报告（加盖公章）\n整改现场照片"})
    expect(state_of(officer)).to_have_text("Waiting for the applicant's supplement")
    shots.take(officer, "officer asked for a supplement")

    # -- the applicant answers the notice by uploading -------------------------------------------------
    time_machine.move_to("2026-11-24T20:00:00+08:00", tick=False)
    applicant.goto(case_page)
    missing = applicant.locator("section[aria-labelledby=missing-title]")
    expect(missing).to_contain_text("整改完成报告（加盖公章）")
    shots.take(applicant, "applicant sees the notice to supplement", focus=missing)
    applicant.get_by_role("link", name="Answer the notice to supplement").click()
    applicant.locator("#id_evidence-0-file").set_input_files(png("整改完成报告.png"))
    applicant.locator("#id_evidence-0-kind").select_option("performance")
    applicant.locator("#id_evidence-0-description").fill("整改完成报告")
    applicant.locator("#id_evidence-1-file").set_input_files(png("整改现场.png", "lightgrey"))
    applicant.locator("#id_evidence-1-kind").select_option("other")
    applicant.get_by_label("Note to the department (optional)").fill("两项材料均已上传。")
    shots.take(applicant, "applicant answers the notice")
    applicant.get_by_role("button", name="Send the supplement").click()
    expect(applicant).to_have_url(case_page)
    expect(applicant.locator("main")).to_contain_text("Your supplement was sent")
    expect(portal_state(applicant)).to_have_text("State: Submitted, waiting for acceptance")

    # -- the officer verifies the evidence, accepts, and schedules the interview -----------------------
    # The supplied application is examined again: a new task in the department's queue.
    time_machine.move_to("2026-11-25T09:00:00+08:00", tick=False)
    pick_up(officer, number)
    for name in ("缴款凭证.png", "整改完成报告.png", "整改现场.png"):
        verify_evidence(officer, name)
    take_step(officer, "Accept")
    expect(state_of(officer)).to_have_text("Accepted, being verified")
    blockers = officer.get_by_role("note")
    expect(blockers).to_contain_text("the integrity interview the city requires has not been held or waived")
    shots.take(officer, "officer case file accepted", focus=blockers)
    officer.get_by_role("link", name="Schedule an interview").click()
    officer.get_by_label("Time").fill("2026-11-26T15:00")
    officer.get_by_label("Place").fill("市场监督管理局三楼约谈室")
    shots.take(officer, "officer schedules the interview")
    submit_action(officer)
    expect(officer.locator("main")).to_contain_text("2026-11-26 15:00 · 市场监督管理局三楼约谈室 · Scheduled")

    # -- the applicant sees the interview and adds a volunteer service certificate ----------------------
    time_machine.move_to("2026-11-25T19:00:00+08:00", tick=False)
    applicant.goto(case_page)
    interviews = applicant.locator("section[aria-labelledby=interviews-title]")
    expect(interviews).to_contain_text("2026-11-26 15:00")
    expect(interviews).to_contain_text("市场监督管理局三楼约谈室")
    shots.take(applicant, "applicant sees the interview", focus=interviews)
    applicant.get_by_role("link", name="Add evidence").click()
    applicant.locator("#id_evidence-0-file").set_input_files(png("志愿服务证明.png", "lightyellow"))
    applicant.locator("#id_evidence-0-kind").select_option("volunteer")
    hours = applicant.locator("#id_evidence-0-hours")
    expect(hours).to_be_visible()  # shown for a volunteer certificate only
    hours.fill("12")
    applicant.locator("#id_evidence-0-description").fill("社区志愿服务12小时")
    shots.take(applicant, "applicant adds volunteer hours")
    applicant.get_by_role("button", name="Add the evidence").click()
    expect(applicant.locator("main")).to_contain_text("Your evidence was added to the case.")
    expect(applicant.locator("section[aria-labelledby=evidence-title]")).to_contain_text("(12.0 h)")

    # -- after the interview the officer records it, verifies the hours and drafts the decision ----------
    # Accepted, the case waits in the queue for its decision.
    time_machine.move_to("2026-11-26T16:30:00+08:00", tick=False)
    pick_up(officer, number)
    officer.get_by_role("link", name="Record the outcome").click()
    officer.get_by_label("Held").check()
    officer.get_by_label("Minutes").fill("申请人如约到场，说明了整改情况，承诺今后依法经营。")
    submit_action(officer)
    expect(officer.locator("main")).to_contain_text("Held: 申请人如约到场")
    verify_evidence(officer, "志愿服务证明.png")
    expect(officer.get_by_role("note")).to_have_count(0)  # nothing blocks the decision now
    shots.take(officer, "officer case file ready to decide")
    take_step(
        officer,
        "Draft the decision",
        fields={
            "outcome": "approve",
            "reasons": "已履行法定义务并完成整改\n已参加诚信约谈\n志愿服务时长达到要求",
        },
    )
    expect(state_of(officer)).to_have_text("Decision in legal review")

    # -- the legal reviewer approves -------------------------------------------------------------------
    time_machine.move_to("2026-11-27T10:00:00+08:00", tick=False)
    reviewer = browsers.as_user(personas.reviewer)
    pick_up(reviewer, number)
    reviewer.get_by_role("link", name="Legal review: approve or return").click()
    expect(reviewer.locator("#approval-title")).to_have_text("Legal review of the drafted decision")
    expect(reviewer.locator("main")).to_contain_text("志愿服务时长达到要求")
    shots.take(reviewer, "reviewer approval screen")
    reviewer.get_by_label("Approve", exact=True).check()
    reviewer.get_by_role("button", name="Record the decision").click()
    expect(state_of(reviewer)).to_have_text("Repaired")

    # -- the applicant sees the record repaired ------------------------------------------------------------
    applicant.goto(case_page)
    expect(portal_state(applicant)).to_have_text("State: Repaired")
    letters = applicant.locator("section[aria-labelledby=letters-title]")
    repaired = letters.locator("li", has_text="Credit repair decision")
    expect(repaired.get_by_role("link", name="Signed letter (PDF)")).to_be_visible()
    shots.take(applicant, "applicant sees the repair letter", focus=repaired)
    timeline = applicant.locator("ol.timeline")
    for step in ("Request a supplement", "Supply the missing materials", "Accept", "Approve the decision"):
        expect(timeline).to_contain_text(step)
    applicant.goto("/my/")
    expect(applicant.locator("main")).to_contain_text("Repaired")
    shots.take(applicant, "applicant portal home after the repair")

    applicant.goto(case_page)
    expect(applicant.locator("section[aria-labelledby=decision-title]")).to_contain_text("已参加诚信约谈")
