"""Scenario 1 in the browser: an applicant files an objection in the portal; intake flags the record and
forwards it; the deciding department's officer accepts it, verifies and drafts a correction; the legal
reviewer approves it; the applicant sees the decision, downloads the signed letter, and the letter verifies
(on the public /verify/ page by its code and by its file, and with pyHanko against the dev CA)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from credit.models import CreditRecord
from letters.signing import validate_signed_pdf
from tests.conftest import Personas
from tests.e2e.browser import Browsers, Shots, server_side
from tests.e2e.steps import case_number, claim, open_case, open_queue, png, portal_state, state_of, take_step
from tests.factories import make_record

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FORWARD = "Flag the record and forward to the deciding department"


@pytest.fixture
def record(personas: Personas, signing: Any) -> CreditRecord:
    # Registering a record issues its notice, signed by the department.
    with server_side():
        return make_record(
            person=personas.applicant_person,
            department=personas.market,
            decision_date=date(2026, 5, 31),
            number="测罚〔2026〕17号",
        )


def verification_code(pdf: bytes) -> str:
    """The code printed on the letter (验证码：XXXX-XXXX-XXXX), read from the PDF's text."""
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed: make system-deps"
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    found = re.search(r"验证码[:：]\s*([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", text.decode())
    assert found, "no verification code in the letter"
    return found.group(1)


def test_an_objection_from_the_portal_to_a_signed_decision_that_verifies(
    browsers: Browsers,
    shots: Shots,
    personas: Personas,
    record: CreditRecord,
    signing: Any,
    time_machine: Any,
    tmp_path: Any,
) -> None:
    # -- the applicant, on a phone, files the objection --------------------------------------------------
    applicant = browsers.as_user(personas.applicant, phone=True)
    expect(applicant).to_have_url(re.compile(r"/my/$"))
    expect(applicant.get_by_role("heading", name="My credit records")).to_be_visible()
    shots.take(applicant, "applicant portal home")
    applicant.get_by_role("link", name=f"Object to {record.number}").click()
    expect(applicant.locator(f"#target-record-{record.pk}")).to_be_checked()
    shots.take(applicant, "objection step 1 target")
    applicant.get_by_role("button", name="Continue").click()
    applicant.get_by_label("The record is wrong").check()
    shots.take(applicant, "objection step 2 grounds")
    applicant.get_by_role("button", name="Continue").click()
    statement = "处罚决定书文号应为测罚〔2026〕71号，登记时把数字写反了。"
    applicant.get_by_label("What is wrong, and why").fill(statement)
    applicant.get_by_role("button", name="Continue").click()
    expect(applicant.get_by_role("heading", name="Evidence, and send the objection")).to_be_visible()
    applicant.locator("#id_evidence-0-file").set_input_files(png("处罚决定书.png"))
    applicant.locator("#id_evidence-0-description").fill("处罚决定书原件照片")
    shots.take(applicant, "objection step 4 evidence")
    applicant.get_by_role("button", name="Send the objection").click()
    expect(applicant).to_have_url(re.compile(r"/my/cases/objection/\d+/$"))
    number = case_number(applicant)
    case_page = applicant.url
    expect(applicant.locator("main")).to_contain_text(f"Your objection {number} was filed.")
    expect(portal_state(applicant)).to_have_text("State: Filed, to be flagged and forwarded")
    expect(applicant.locator("section[aria-labelledby=evidence-title]")).to_contain_text("处罚决定书.png")
    shots.take(applicant, "applicant objection filed")
    # Another applicant is told nothing about it.
    other = browsers.as_user(personas.other_applicant, phone=True)
    response = other.goto(case_page)
    assert response is not None and response.status == 404

    # -- intake claims it from the queue, and flags the record and forwards it ---------------------------
    time_machine.move_to("2026-11-23T14:00:00+08:00", tick=False)
    intake = browsers.as_user(personas.intake)
    open_queue(intake)
    shots.take(intake, "intake queue")
    claim(intake, number)
    open_queue(intake, "inbox")
    open_case(intake, number)
    shots.take(intake, "intake case file")
    take_step(intake, FORWARD)
    expect(state_of(intake)).to_have_text("Forwarded to the deciding department")

    # -- the market regulator's officer accepts, looks at the evidence, and drafts a correction ------------
    time_machine.move_to("2026-11-24T09:30:00+08:00", tick=False)
    officer = browsers.as_user(personas.officer)
    open_queue(officer)
    claim(officer, number)
    open_queue(officer, "inbox")
    open_case(officer, number)
    take_step(officer, "Accept")
    expect(state_of(officer)).to_have_text("Accepted, being verified")
    evidence = officer.locator("section[aria-labelledby=evidence-title] img")
    expect(evidence).to_have_attribute("alt", "处罚决定书.png")
    expect(evidence).to_have_js_property("complete", True)
    assert evidence.evaluate("img => img.naturalWidth") == 120  # served to the officer, not a broken image
    shots.take(officer, "officer case file with evidence")
    # The flow's chart (viewflow's page), reachable from the case.
    officer.locator("ul.ws-actions").get_by_role("link", name="Flow chart").click()
    expect(officer.locator("svg").first).to_be_visible()
    shots.take(officer, "flow chart of the case")
    officer.go_back()
    expect(officer.locator("#case-title")).to_contain_text(number)
    officer.locator("ul.ws-actions").get_by_role("link", name="Draft the decision", exact=True).click()
    officer.locator("[name=outcome]").select_option("founded")
    officer.locator("[name=remedy]").select_option("correct")
    officer.locator("[name=corrections__decision_number]").fill("测罚〔2026〕71号")
    officer.locator("[name=findings]").fill("经调取处罚决定书原件核对，登记的文号有误。")
    officer.locator("[name=reasons]").fill("处罚决定书原件文号为测罚〔2026〕71号\n登记时录入错误")
    shots.take(officer, "officer drafts the decision")
    officer.get_by_role("button", name="Take this step").click()
    expect(officer.locator("ul.messages")).to_contain_text("Done: Draft the decision")
    expect(state_of(officer)).to_have_text("Decision in legal review")

    # -- the legal reviewer sees the correction before and after, and approves ---------------------------
    time_machine.move_to("2026-11-25T10:00:00+08:00", tick=False)
    reviewer = browsers.as_user(personas.reviewer)
    open_queue(reviewer)
    claim(reviewer, number)
    open_queue(reviewer, "inbox")
    open_case(reviewer, number)
    reviewer.get_by_role("link", name="Legal review: approve or return").click()
    expect(reviewer.locator("#approval-title")).to_have_text("Legal review of the drafted decision")
    diff = reviewer.locator("table.ws-diff")
    expect(diff.locator("del")).to_have_text("测罚〔2026〕17号")
    expect(diff.locator("ins")).to_have_text("测罚〔2026〕71号")
    shots.take(reviewer, "reviewer approval screen")
    reviewer.get_by_label("Approve", exact=True).check()
    reviewer.get_by_role("button", name="Record the decision").click()
    expect(reviewer.locator("ul.messages")).to_contain_text("Done: Approve the decision")
    expect(state_of(reviewer)).to_have_text("Decided")
    letters = reviewer.locator("section[aria-labelledby=letters-title]")
    expect(letters.get_by_role("link", name="Signed letter (PDF)")).to_be_visible()
    shots.take(reviewer, "reviewer case file decided")

    # -- the applicant sees the decision and downloads the signed letter ---------------------------------
    applicant.goto(case_page)
    expect(portal_state(applicant)).to_have_text("State: Decided")
    decision = applicant.locator("section[aria-labelledby=decision-title]")
    expect(decision).to_contain_text("Founded")
    expect(decision).to_contain_text("Correct the record")
    shots.take(applicant, "applicant sees the decision", focus=decision)
    link = applicant.locator("section[aria-labelledby=letters-title]").get_by_role(
        "link", name="Signed letter (PDF)"
    )
    with applicant.expect_download() as download_info:
        link.click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    pdf = saved.read_bytes()
    assert pdf.startswith(b"%PDF-")
    # The letter is the applicant's: another applicant's request for it finds nothing.
    assert other.request.get(download.url).status == 404

    # The file itself: signed by the department, intact, and chained to the (dev) CA the tests trust.
    with server_side():
        report = validate_signed_pdf(pdf, trust_roots=[signing.ca_cert])
    assert report.signed and report.intact and report.valid and report.trusted, report

    # The record is corrected and no longer under objection.
    applicant.goto("/my/")
    expect(applicant.locator("main")).to_contain_text("测罚〔2026〕71号")
    expect(applicant.get_by_text("under objection")).to_have_count(0)

    # -- anyone verifies the letter: by its code, and by the file -----------------------------------------
    code = verification_code(pdf)
    applicant.get_by_role("link", name="Check a letter's authenticity").click()
    applicant.get_by_label("Verification code").fill(code)
    applicant.get_by_role("button", name="Verify", exact=True).click()
    result = applicant.get_by_role("status")
    expect(result.locator(".verdict-authentic")).to_be_visible()
    expect(result).to_contain_text(personas.market.name)
    shots.take(applicant, "verify by code")
    applicant.get_by_label("The letter (PDF)").set_input_files(str(saved))
    applicant.get_by_role("button", name="Check the file").click()
    result = applicant.get_by_role("status")
    expect(result.locator(".verdict-authentic")).to_be_visible()
    expect(result).to_contain_text("The file's digital signature is intact and valid.")
    shots.take(applicant, "verify by file")
