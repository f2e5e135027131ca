"""The browser tier's machinery: where Chromium is, screenshots, a signed-in page per persona, and the
turn that the live server and the test take on the shared database connection (see conftest.py)."""

from __future__ import annotations

import asyncio
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS", str(Path(settings.BASE_DIR) / "var" / "e2e-artifacts")))
PASSWORD = "pw"  # tests.factories.UserFactory's
# Long enough for a letter to be rendered and signed inside a request on a busy two-core machine.
TIMEOUT_MS = 30_000
STAFF_VIEWPORT = {"width": 1280, "height": 900}
PHONE_VIEWPORT = {"width": 390, "height": 844}  # the portal is mobile-first: the applicant uses a phone

# Every screenshot taken in this run, for the summary at its end.
written: list[Path] = []
# Held by the live server while it answers a request, and by the test while it runs server-side code.
_DATABASE_TURN = threading.Lock()


@contextmanager
def server_side() -> Iterator[None]:
    """Run server-side code (seeding a record, beat's sweep) in the test's own thread: the live server waits
    (it shares the connection), and Playwright's event loop, which runs in this thread, is hidden for the
    while, since code that runs a loop of its own (pyHanko signs a letter with asyncio.run) refuses to start
    inside a running one. Playwright is not called inside."""
    with _DATABASE_TURN:
        loop = asyncio._get_running_loop()
        asyncio._set_running_loop(None)
        try:
            yield
        finally:
            asyncio._set_running_loop(loop)


def one_request_at_a_time(application: Any) -> Any:
    """The WSGI application, run while it holds the turn; the response is read whole and closed inside the
    turn too (Django's request_finished signal runs when it is closed)."""

    def answer(environ: Any, start_response: Any) -> list[bytes]:
        with _DATABASE_TURN:
            response = application(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                if hasattr(response, "close"):
                    response.close()

    return answer


@dataclass
class Shots:
    """Numbered screenshots of one test: 01-portal-home.png, 02-…"""

    folder: Path
    count: int = 0

    def take(self, page: Any, name: str, *, focus: Any = None, full_page: bool = False) -> Path:
        """The viewport (or the whole page); with `focus`, scrolled to that element first."""
        if focus is not None:
            focus.scroll_into_view_if_needed()
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        path = self.folder / f"{self.count:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=full_page)
        written.append(path)
        return path


@dataclass
class Browsers:
    """A signed-in page per persona, each in its own browser context (its own cookies)."""

    chromium: Any
    base_url: str
    pages: dict[str, Any] = field(default_factory=dict)
    contexts: list[Any] = field(default_factory=list)

    def visitor(self, *, phone: bool = False) -> Any:
        """A page in a new browser context, signed out."""
        context = self.chromium.new_context(
            base_url=self.base_url,
            viewport=PHONE_VIEWPORT if phone else STAFF_VIEWPORT,
            # English pages, so that the tests read the English source texts, whatever the translation.
            locale="en-US",
            accept_downloads=True,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        return context.new_page()

    def as_user(self, user: Any, *, phone: bool = False) -> Any:
        """The user's page, signed in on the login page the first time."""
        username = user.get_username()
        if username in self.pages:
            return self.pages[username]
        page = self.visitor(phone=phone)
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(PASSWORD)
        with page.expect_navigation():
            page.get_by_role("button", name="Log in").click()
        assert "/login/" not in page.url, f"{username} could not sign in"
        self.pages[username] = page
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()
