"""Scenario 5 in the browser: a visitor finds sign-up on the login page and makes an account on a phone,
claiming the identity of a person whose record is held; the account shows nothing yet and says what to
bring to the intake window. Intake finds the claim among the real-name checks, sees the scan and the person
held with that number, and verifies it; the applicant is told and sees the record."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from credit.models import CreditRecord, IdentityClaim, Person, User
from tests.conftest import Personas
from tests.e2e.browser import Browsers, Shots, server_side
from tests.e2e.steps import png
from tests.factories import PersonFactory, make_record, resident_id

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
PASSWORD = "Kx7-long-enough-2026"


@pytest.fixture
def held(personas: Personas, signing: Any, settings: Any, tmp_path: Any) -> tuple[Person, CreditRecord]:
    """王芳 has a record here (its notice signed by the department) and no account."""
    settings.MEDIA_ROOT = tmp_path
    with server_side():
        person = PersonFactory(name="王芳", id_number=resident_id(31))
        record = make_record(person=person, department=personas.market, decision_date=date(2026, 5, 31))
    return person, record


def test_a_visitor_signs_up_and_intake_links_the_account(
    browsers: Browsers, shots: Shots, personas: Personas, held: tuple[Person, CreditRecord]
) -> None:
    person, record = held
    # -- the visitor, on a phone -------------------------------------------------------------------------
    visitor = browsers.visitor(phone=True)
    visitor.goto("/login/")
    visitor.get_by_role("link", name="Sign up").click()
    expect(visitor.get_by_role("heading", name="Sign up")).to_be_visible()
    visitor.get_by_label("Username").fill("wangfang")
    visitor.locator("#id_password1").fill(PASSWORD)
    visitor.locator("#id_password2").fill(PASSWORD)
    visitor.get_by_label("Mobile phone").fill("13800138000")
    visitor.get_by_label("Full name").fill("王芳")
    visitor.get_by_label("ID number (all 18 characters)").fill(resident_id(31)[:-1])  # one character short
    visitor.get_by_label("Photo or scan of the identity document").set_input_files(png("身份证.png"))
    visitor.get_by_label(re.compile("I agree that my name")).check()
    visitor.get_by_role("button", name="Make the account").click()
    summary = visitor.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("An ID number has 18 characters; this one has 17.")
    expect(visitor.get_by_label("Full name")).to_have_value("王芳")  # kept; the passwords are not
    expect(visitor.locator("#id_password1")).to_have_value("")
    shots.take(visitor, "sign-up refused, what was typed kept")
    visitor.locator("#id_password1").fill(PASSWORD)
    visitor.locator("#id_password2").fill(PASSWORD)
    visitor.get_by_label("ID number (all 18 characters)").fill(resident_id(31))
    visitor.get_by_label("Photo or scan of the identity document").set_input_files(png("身份证.png"))
    visitor.get_by_role("button", name="Make the account").click()
    expect(visitor).to_have_url(re.compile(r"/my/identity/$"))
    expect(visitor.get_by_role("heading", name="Your account waits for the real-name check")).to_be_visible()
    expect(visitor.locator("main")).to_contain_text("What to bring to the intake window")
    shots.take(visitor, "account waits for the real-name check")
    visitor.get_by_role("link", name="My records and cases").first.click()
    expect(visitor.locator("main")).not_to_contain_text(record.number)

    # -- intake verifies the claim --------------------------------------------------------------------
    claim = IdentityClaim.objects.get(user__username="wangfang")
    intake = browsers.as_user(personas.intake)
    intake.goto("/staff/queue/")
    intake.get_by_role("link", name="Real-name checks").click()
    intake.get_by_role("link", name=claim.number).click()
    expect(intake.locator("#person-title")).to_have_text("The person held with this ID number")
    expect(intake.locator("main")).to_contain_text(person.id_masked)
    with intake.expect_popup() as popup:
        intake.evaluate("url => window.open(url)", f"/staff/identities/{claim.pk}/document/")
    expect(popup.value.locator("img")).to_be_visible()
    popup.value.close()
    shots.take(intake, "intake sees the claim and the person held")
    intake.get_by_label("Verify").check()
    intake.get_by_role("button", name="Record the decision").click()
    expect(intake.locator("ul.messages")).to_contain_text("The claim was verified")

    # -- the applicant is told, and sees the record ----------------------------------------------------
    visitor.goto("/inbox/")
    expect(visitor.locator("main")).to_contain_text("Your identity was verified")
    visitor.goto("/my/")
    expect(visitor.locator("main")).to_contain_text(record.number)
    shots.take(visitor, "applicant sees the record")
    with server_side():
        assert Person.objects.get(pk=person.pk).user == User.objects.get(username="wangfang")
