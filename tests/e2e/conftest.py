"""The browser tier (`make test-e2e`): Playwright for Python drives Debian's Chromium (/usr/bin/chromium,
headless, never a downloaded browser) through the pages served by pytest-django's live server.

The live server runs in a thread of this process, so time-machine moves its clock too, and it shares the
test's in-memory SQLite connection (the tests are transactional: what the server writes, the test reads).
One connection cannot serve two threads at once, so the server answers one request at a time, and code the
test runs on the server's side (seeding, beat's sweep) waits for its turn too (`browser.server_side`).
Each persona has its own browser context, signs in on the login page and is kept for the test. A screenshot
of each main page goes to var/e2e-artifacts/<test>/<nn>-<page>.png (the viewport only, to keep them small);
the folders are printed at the end of the run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import ARTIFACTS, CHROMIUM, TIMEOUT_MS, Browsers, Shots, one_request_at_a_time, written


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = str(Path(__file__).parent)
    for item in items:
        if str(item.fspath).startswith(here):
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if written:
        terminalreporter.write_sep("-", f"browser screenshots: {len(written)} in {ARTIFACTS}")
        for folder in sorted({str(path.parent) for path in written}):
            terminalreporter.write_line(folder)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One Chromium for the session. Without it the tier is skipped, unless E2E_REQUIRED is set (as
    `make test-e2e` does): then a missing browser fails the run instead of passing it silently."""
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: install Debian's chromium (make system-deps)"
        if os.environ.get("E2E_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions: a step that signs a letter answers in a second or two, more on a
    # busy machine.
    expect.set_options(timeout=TIMEOUT_MS)
    # Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a thread with
    # a running loop unless told that this is a synchronous program (it is).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """pytest-django's live server (threads read and write the sockets), answering one request at a time."""
    from django.core.servers.basehttp import ThreadedWSGIServer
    from pytest_django.live_server_helper import LiveServer

    class Server(ThreadedWSGIServer):
        def set_app(self, application: Any) -> None:
            super().set_app(one_request_at_a_time(application))

    address = (
        request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    )
    server = LiveServer(address, start=False)
    server.thread.server_class = Server  # type: ignore[misc]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    folder = ARTIFACTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)  # a run's screenshots are that run's only
    folder.mkdir(parents=True, exist_ok=True)
    return Shots(folder)


@pytest.fixture
def browsers(chromium: Any, live_server: Any) -> Iterator[Browsers]:
    found = Browsers(chromium=chromium, base_url=live_server.url)
    yield found
    found.close()
