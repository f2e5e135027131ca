"""What people do on the pages, in words the tests read: open a case from a queue, take a legal step on the
case file, upload a file. Every helper clicks and types in the browser; it waits for what the page shows
next (Playwright's `expect` retries), never for a fixed time."""

from __future__ import annotations

import io
import re
from typing import Any

from PIL import Image
from playwright.sync_api import expect


def png(name: str = "receipt.png", colour: str = "white") -> dict[str, Any]:
    """A small real PNG, as Playwright's set_input_files takes it (the server judges files by content)."""
    buffer = io.BytesIO()
    Image.new("RGB", (120, 80), colour).save(buffer, "PNG")
    return {"name": name, "mimeType": "image/png", "buffer": buffer.getvalue()}


def case_number(page: Any) -> str:
    """The case number in the page's heading ("Objection YY202600000001")."""
    heading = page.locator("h1").first.inner_text()
    found = re.search(r"[A-Z]{2}\d{12}", heading)
    assert found, f"no case number in {heading!r}"
    return found.group(0)


def open_queue(page: Any, list_name: str = "queue") -> None:
    page.goto(f"/staff/{list_name}/")
    expect(page.locator("h1")).to_be_visible()


def queue_row(page: Any, number: str) -> Any:
    row = page.locator("table.q-rows tbody tr", has=page.get_by_role("link", name=number, exact=True))
    expect(row).to_have_count(1)
    return row


def claim(page: Any, number: str) -> None:
    """Claim the case's task in the queue; it moves to the inbox."""
    queue_row(page, number).get_by_role("button", name=f"Claim {number}").click()
    expect(page.locator("ul.messages")).to_contain_text(f"You took the task of {number}")


def open_case(page: Any, number: str) -> None:
    queue_row(page, number).get_by_role("link", name=number, exact=True).click()
    expect(page.locator("#case-title")).to_contain_text(number)


def pick_up(page: Any, number: str) -> None:
    """Claim the case's open task from the queue, then work it from the inbox."""
    open_queue(page)
    claim(page, number)
    open_queue(page, "inbox")
    open_case(page, number)


def take_step(page: Any, label: str, *, fields: dict[str, str] | None = None, reason: str = "") -> None:
    """On the case file: follow the step's button, fill its form, take it; back on the case file."""
    page.locator("ul.ws-actions").get_by_role("link", name=label, exact=True).click()
    expect(page.locator("#step-title")).to_have_text(label)
    for name, value in (fields or {}).items():
        field = page.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    if reason:
        page.locator("[name=reason]").fill(reason)
    page.get_by_role("button", name="Take this step").click()
    expect(page.locator("ul.messages")).to_contain_text(f"Done: {label}")
    expect(page.locator("#case-title")).to_be_visible()


def submit_action(page: Any) -> None:
    """Send the form of a case-file action page (verify evidence, schedule or record an interview) and come
    back to the case file with its success message. The button is found by its place, not its text: these
    pages' titles and buttons are translated when the module is imported, not per request (reported)."""
    page.locator("form.ws-form button[type=submit]").click()
    expect(page.locator("ul.messages li.success")).to_be_visible()
    expect(page.locator("#case-title")).to_be_visible()


def state_of(page: Any) -> Any:
    """The case file's state, next to its heading."""
    return page.locator(".ws-head strong")


def portal_state(page: Any) -> Any:
    """The state line of the applicant's case page ("State: …")."""
    return page.locator("main p", has=page.get_by_text("State:", exact=True))
