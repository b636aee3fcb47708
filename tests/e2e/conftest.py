"""Fixtures of the browser journey: a live Home Assistant, headless Chromium, screenshots."""

from __future__ import annotations

from collections.abc import Generator, Iterator
import os
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
import pytest

from .chromium import ensure_chromium
from .journey import Screenshots
from .live_home_assistant import LiveHomeAssistant

SCREENSHOTS_ENV = "E2E_SCREENSHOTS"
"""Folder for the journey's screenshots (CI keeps it as an artefact); a temporary one if unset."""


@pytest.fixture
def live_hass(socket_enabled: None) -> Iterator[LiveHomeAssistant]:
    """Home Assistant as a process, not yet onboarded, with every simulated meter running."""
    live = LiveHomeAssistant.start()
    try:
        yield live
    finally:
        live.stop()


_reports: dict[str, list[pytest.TestReport]] = {}
"""Each test's reports so far (setup, call), for fixtures that keep more when it failed."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    _reports.setdefault(item.nodeid, []).append(report)
    return report


@pytest.fixture
def page(screenshots: Screenshots, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh page of headless Chromium from the distribution's packages; its last view is
    saved as `last.png` among the screenshots, to show where a failed journey stopped. A
    failed journey also leaves a Playwright trace of every action as `trace.zip` (`playwright
    show-trace trace.zip`; tens of megabytes, so only when it is needed)."""
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True)
        context = browser.new_context(
            viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True
        )
        context.tracing.start(screenshots=True, snapshots=True)
        try:
            new_page = context.new_page()
            yield new_page
            new_page.screenshot(path=screenshots.folder / "last.png")
        finally:
            failed = any(report.failed for report in _reports.get(request.node.nodeid, ()))
            context.tracing.stop(path=screenshots.folder / "trace.zip" if failed else None)
            context.close()
            browser.close()


@pytest.fixture
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Screenshots:
    """Where each step's screenshot goes: $E2E_SCREENSHOTS, or a temporary folder."""
    folder = os.environ.get(SCREENSHOTS_ENV)
    path = Path(folder) if folder else tmp_path_factory.mktemp("e2e-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return Screenshots(path)
