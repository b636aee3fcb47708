"""What a new user does in Home Assistant's UI, one function per step.

Home Assistant's frontend is built from web components with shadow roots; Playwright's role,
label and text locators look inside them. Every wait is on a condition, with a bounded timeout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import re

from playwright.sync_api import Locator, Page, expect

SHORT = 30_000
"""Milliseconds for a page or dialog to show what it should."""
PROBE = 120_000
"""Milliseconds for a config-flow step that listens to or scans a meter."""

# The visible text of the page, shadow roots included (inner_text stops at them).
_DEEP_TEXT = """() => {
  const out = [];
  const walk = (node) => {
    if (node.nodeName === "SCRIPT" || node.nodeName === "STYLE") return;
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.textContent.trim();
      if (text) out.push(text);
    }
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) walk(child);
  };
  walk(document.body);
  return out.join("\\n");
}"""


@dataclass
class Screenshots:
    """Numbered screenshots of the journey's steps in one folder."""

    folder: Path
    taken: list[Path] = field(default_factory=list)

    def take(self, page: Page, name: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=path)
        self.taken.append(path)
        return path


def page_text(page: Page) -> str:
    """Everything the page shows as text, inside shadow roots too."""
    text: str = page.evaluate(_DEEP_TEXT)
    return text


def dialog(page: Page) -> Locator:
    """The open config-flow dialog."""
    return page.locator("dialog-data-entry-flow")


def onboard(page: Page, base: str, password: str, shots: Screenshots) -> None:
    """Onboarding: the owner's account, home location, country, analytics, finish."""
    page.goto(base)
    page.get_by_role("button", name="Create my smart home").click()
    expect(page.get_by_text("Create user")).to_be_visible(timeout=SHORT)
    page.get_by_label("Name", exact=True).fill("Energy Tester")
    page.get_by_label("Username").fill("tester")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Confirm password").fill(password)
    shots.take(page, "onboarding-user")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Home location")).to_be_visible(timeout=SHORT)
    page.get_by_role("button", name="Next").click()
    page.get_by_label("Country").click()
    page.get_by_role("option", name="Belgium", exact=True).click()
    page.get_by_role("button", name="Next").click()
    expect(page.get_by_text("Help us help you")).to_be_visible(timeout=SHORT)
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Finish").click()
    page.wait_for_url(re.compile(r"/lovelace"), timeout=SHORT)
    # Logged in for good once the frontend has stored its tokens and drawn the sidebar.
    expect(page.get_by_role("option", name="Settings").first).to_be_visible(timeout=SHORT)
    page.wait_for_function("() => window.localStorage.getItem('hassTokens') !== null")


def start_adding_meter(page: Page, base: str) -> None:
    """Settings -> Devices & services -> Add integration -> Energy Gateway: the kind menu."""
    page.goto(base + "/config/integrations/dashboard")
    page.get_by_role("button", name="Add integration").click()
    page.get_by_label("Search for a brand name").fill("Energy Gateway")
    page.locator("ha-integration-list-item").get_by_text("Energy Gateway", exact=True).click()
    expect(dialog(page).get_by_text("Add a meter")).to_be_visible(timeout=SHORT)


def choose(page: Page, option: str) -> None:
    """Pick a menu entry of the flow (by the start of its text)."""
    dialog(page).get_by_text(option).first.click()


def fill(page: Page, label: str, value: str) -> None:
    """Type into the flow form's field `label`."""
    dialog(page).get_by_label(label, exact=True).fill(value)


def submit(page: Page) -> None:
    """Press the form's submit button (the last button of the step, in any language)."""
    dialog(page).locator("step-flow-form").get_by_role("button").last.click()


def expect_step(page: Page, title: str, timeout: float = SHORT) -> None:
    """Wait until the dialog shows the step titled `title`."""
    expect(dialog(page).get_by_role("heading", name=title, exact=True)).to_be_visible(
        timeout=timeout
    )


def finish(page: Page, created: str) -> None:
    """The success dialog says what was created; close it."""
    expect(dialog(page).get_by_text("Success")).to_be_visible(timeout=PROBE)
    expect(dialog(page)).to_contain_text(created, timeout=SHORT)
    dialog(page).get_by_role("button", name="Finish").click()
    expect(dialog(page).get_by_role("button", name="Finish")).to_be_hidden(timeout=SHORT)


def network_form(
    page: Page, host: str, port: int, labels: tuple[str, str] = ("Host", "Port")
) -> None:
    """Fill a connection form's host and port (fields named by `labels`) and submit it."""
    fill(page, labels[0], host)
    fill(page, labels[1], str(port))
    submit(page)


def element_text(locator: Locator) -> str:
    """The visible text of one element, inside its shadow roots too."""
    text: str = locator.evaluate(
        _DEEP_TEXT.replace("() =>", "(root) =>").replace("walk(document.body)", "walk(root)")
    )
    return text


def entity_row(page: Page, name: str) -> Locator:
    """The row of the entity called `name` in a device page's entity cards."""
    return page.locator("hui-sensor-entity-row, hui-simple-entity-row").filter(has_text=name).first


def add_energy_statistic(page: Page, button: str, option: str, row_text: str) -> None:
    """Configuration -> Energy: one grid counter through its dialog; returns once the page
    lists it as `row_text`."""
    settings = page.locator("dialog-energy-grid-flow-settings")
    page.get_by_role("button", name=button).click()
    # The picker is drawn only once the recorder has listed the counters it may offer.
    picker = settings.locator("ha-statistic-picker ha-combo-box")
    expect(picker).to_be_visible(timeout=SHORT)
    picker.locator(".toggle-button").click()
    # The list is long (every energy counter of every meter) and only its visible part is
    # drawn: typing filters it, as a user would.
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.click()
    settings.get_by_role("button", name="Save").click()
    expect(settings.get_by_role("button", name="Save")).to_be_hidden(timeout=SHORT)
    # Saving reloads the configuration and redraws the grid card; the next button is clicked
    # on the redrawn card, not on one about to be replaced.
    grid_card = page.locator("ha-energy-grid-settings")
    expect(grid_card.get_by_text(row_text, exact=True)).to_be_visible(timeout=SHORT)


def open_device(page: Page, base: str, name: str) -> None:
    """Settings -> Devices & services -> Devices: search for `name` and open its page."""
    page.goto(base + "/config/devices/dashboard")
    page.get_by_role("textbox", name="Search").first.fill(name)
    page.get_by_text(name, exact=True).first.click()
    expect(page.get_by_text("Device info")).to_be_visible(timeout=SHORT)
