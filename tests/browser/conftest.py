"""Fixtures for the real-browser journeys (Playwright for Python + Debian's Chromium).

- ``live_server``: the app served by `vae-portal serve` on 127.0.0.1 (a free port), over a
  fresh database prepared with the CLI (see ``server.py``); once per test run.
- ``browser``: headless Chromium at /usr/bin/chromium (``make browser-deps`` installs it; never
  `playwright install`).
- ``page`` / ``nojs_page``: a new context per test (JavaScript on / off) whose relative URLs
  go to the live server; a test fails if the page throws or a sub-resource fails to load.
- ``check_page(page, name)``: the screenshot and the whole accessibility gate for the page as
  it is; call it on every page a journey visits.

Every test in this folder is marked ``browser`` (``pytest -m browser`` / ``-m "not browser"``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.browser.a11y import check_page_a11y
from tests.browser.server import REPO_ROOT, LiveServer
from tests.browser.server import live_server as serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
# Generous: a shared, noisy 2-core machine. Assertions auto-wait up to these, never sleep.
ACTION_TIMEOUT_MS = 30_000
NAVIGATION_TIMEOUT_MS = 60_000
expect.set_options(timeout=20_000)

BROWSER_DIR = Path(__file__).resolve().parent
STATIC_RESOURCES = frozenset({"stylesheet", "script", "image", "font", "media"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if BROWSER_DIR in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serve(tmp_path_factory.mktemp("browser-server")) as server:
        yield server


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser-deps` (apt-get install chromium)")
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


def _new_context(browser: Browser, server: LiveServer, *, javascript: bool) -> BrowserContext:
    context = browser.new_context(
        base_url=server.base_url,
        java_script_enabled=javascript,
        bypass_csp=True,  # lets the gate inject axe whatever Content-Security-Policy says
        locale="fr-FR",
        timezone_id="Europe/Paris",
        viewport=VIEWPORT,  # type: ignore[arg-type]
    )
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    return context


def _watched_page(context: BrowserContext) -> Iterator[Page]:
    """A page of ``context``; the test fails if it throws or a static resource does not load."""
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"uncaught error: {error}"))
    page.on(
        "requestfailed",
        # ERR_ABORTED: a load cut short by the next navigation (a fast journey), not a fault.
        lambda request: (
            problems.append(f"{request.url}: {request.failure}")
            if "ERR_ABORTED" not in (request.failure or "")
            else None
        ),
    )
    page.on(
        "response",
        # Static resources only: an htmx request may well answer 422 with the form's errors.
        lambda response: (
            problems.append(f"{response.url}: HTTP {response.status}")
            if response.status >= 400 and response.request.resource_type in STATIC_RESOURCES
            else None
        ),
    )
    yield page
    context.close()
    assert not problems, "the page had errors:\n  " + "\n  ".join(problems)


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    yield from _watched_page(_new_context(browser, live_server, javascript=True))


@pytest.fixture
def nojs_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page in a context with JavaScript disabled: links and plain forms only."""
    yield from _watched_page(_new_context(browser, live_server, javascript=False))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


_screenshots_taken: list[Path] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _screenshots_taken:
        terminalreporter.write_line(
            f"Screenshots: {SCREENSHOTS} ({len(_screenshots_taken)} taken by this run)"
        )


def screenshot_path(test_name: str, page_name: str) -> Path:
    return SCREENSHOTS / f"{_slug(test_name)}-{_slug(page_name)}.png"


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """``screenshot(page, name)``: full page, to test-artifacts/screenshots/<test>-<name>.png."""

    def take(page: Page, name: str) -> Path:
        page.wait_for_load_state("load")  # stylesheet and fonts in
        path = screenshot_path(request.node.name, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(path), full_page=True)
        _screenshots_taken.append(path)
        return path

    return take


@pytest.fixture
def check_page(screenshot: Callable[[Page, str], Path]) -> Callable[[Page, str], None]:
    """``check_page(page, name)``: the screenshot (taken first, so it is there when the gate
    fails), then the gate: axe (WCAG 2.0/2.1 A and AA), labels, errors tied to their fields,
    visible focus. Call it on every page a journey visits.
    """

    def check(page: Page, name: str) -> None:
        screenshot(page, name)
        check_page_a11y(page, name)

    return check
