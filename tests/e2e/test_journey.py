"""A new user's journey in a real browser: from a fresh Home Assistant to meter values on the
Energy dashboard, by clicking only.

Home Assistant runs as a `hass` process with the demo's simulated meters (`scripts/demo`);
headless Chromium does what a person would. Each step leaves a screenshot (see conftest).
"""

from __future__ import annotations

import json
from pathlib import Path
import re
from typing import Any

from playwright.sync_api import Page, expect
import pytest

from .journey import (
    PROBE,
    SHORT,
    Screenshots,
    add_energy_statistic,
    choose,
    dialog,
    element_text,
    entity_row,
    expect_step,
    fill,
    finish,
    network_form,
    onboard,
    open_device,
    start_adding_meter,
    submit,
)
from .live_home_assistant import PORTAL_TOKEN, LiveHomeAssistant

pytestmark = pytest.mark.e2e

WRONG_KEY = "00112233445566778899AABBCCDDEEFF"


def network_answer(live: LiveHomeAssistant, name_part: str) -> dict[str, Any]:
    """The host and port the demo meter named `name_part` serves on."""
    meter = live.meter(name_part)
    return next(s.answer for s in meter.flow_steps() if s.step_id.endswith("_network"))


def key_of(live: LiveHomeAssistant, name_part: str) -> str:
    meter = live.meter(name_part)
    assert meter.key_text is not None
    return meter.key_text


def add_p1(page: Page, live: LiveHomeAssistant, shots: Screenshots) -> None:
    where = network_answer(live, "Belgian P1 meter over TCP")
    start_adding_meter(page, live.url)
    shots.take(page, "add-meter-menu")
    choose(page, "P1 port")
    choose(page, "Network bridge (ser2net")
    expect_step(page, "P1 over the network")
    network_form(page, where["host"], where["port"])
    expect_step(page, "Meter found", PROBE)
    expect(dialog(page)).to_contain_text("Meter id: 1SAG1100000001")
    shots.take(page, "p1-found")
    submit(page)
    finish(page, "1SAG1100000001")


def add_encrypted_mbus(page: Page, live: LiveHomeAssistant, shots: Screenshots) -> None:
    where = network_answer(live, "Netz NÖ")
    start_adding_meter(page, live.url)
    choose(page, "DLMS/COSEM push")
    choose(page, "Network bridge serving the raw push stream")
    expect_step(page, "DLMS/COSEM over the network")
    network_form(page, where["host"], where["port"])
    expect_step(page, "Encrypted meter", PROBE)
    fill(page, "Encryption key", WRONG_KEY)
    submit(page)
    expect(dialog(page)).to_contain_text("The frames do not decrypt with this key", timeout=PROBE)
    shots.take(page, "mbus-wrong-key")
    fill(page, "Encryption key", key_of(live, "Netz NÖ"))
    submit(page)
    expect_step(page, "Meter found", PROBE)
    expect(dialog(page)).to_contain_text("Meter id: 181220004711")
    submit(page)
    finish(page, "181220004711")


def add_modbus_fleet(page: Page, live: LiveHomeAssistant, shots: Screenshots) -> None:
    where = network_answer(live, "Modbus fleet")
    start_adding_meter(page, live.url)
    choose(page, "Modbus meters")
    choose(page, "Network: Modbus TCP")
    expect_step(page, "Modbus over the network")
    fill(page, "Reply timeout", "1")
    network_form(page, where["host"], where["port"])
    expect_step(page, "Find the meters")
    fill(page, "First address", "1")
    fill(page, "Last address", "43")
    submit(page)
    expect_step(page, "Meters found", PROBE)
    # The demo bus: 32 meters of mixed models; every fourth address is empty.
    expect(dialog(page).get_by_role("listitem")).to_have_count(32, timeout=SHORT)
    expect(dialog(page).get_by_text("2: Eastron SDM630, 10000002")).to_be_visible()
    shots.take(page, "modbus-found")
    submit(page)
    finish(page, "Modbus")


def add_mep(page: Page, live: LiveHomeAssistant, shots: Screenshots) -> None:
    where = network_answer(live, "MEP port")
    start_adding_meter(page, live.url)
    choose(page, "NES/Echelon MEP port")
    choose(page, "Network bridge passing the MEP serial line")
    expect_step(page, "MEP port over the network")
    network_form(page, where["host"], where["port"])
    expect_step(page, "MEP key", PROBE)
    fill(page, "MEP key", key_of(live, "MEP port"))
    submit(page)
    expect_step(page, "MEP meter found", PROBE)
    expect(dialog(page)).to_contain_text("Serial number: 5706567270012345")
    shots.take(page, "mep-found")
    submit(page)
    finish(page, "5706567270012345")


def add_upstream_portal(page: Page, live: LiveHomeAssistant, shots: Screenshots) -> None:
    start_adding_meter(page, live.url)
    choose(page, "Upstream portal")
    expect_step(page, "Upstream portal")
    fill(page, "Portal URL", live.portal.url)
    fill(page, "API token", PORTAL_TOKEN)
    dialog(page).get_by_label("Allow plain HTTP").check()
    shots.take(page, "upstream-form")
    submit(page)
    expect_step(page, "Portal reached", PROBE)
    submit(page)
    finish(page, "")
    assert live.portal.requests >= 1


@pytest.mark.timeout(1800)
def test_new_user_journey(
    live_hass: LiveHomeAssistant, page: Page, screenshots: Screenshots
) -> None:
    """Onboarding, every kind of meter, live values, the Energy dashboard, diagnostics."""
    page.set_default_timeout(SHORT)
    onboard(page, live_hass.url, live_hass.password, screenshots)
    add_p1(page, live_hass, screenshots)
    add_encrypted_mbus(page, live_hass, screenshots)
    add_modbus_fleet(page, live_hass, screenshots)
    add_mep(page, live_hass, screenshots)
    add_upstream_portal(page, live_hass, screenshots)
    page.goto(live_hass.url + "/config/integrations/integration/energy_gateway")
    expect(page.get_by_text("Fluvius P1 meter 1SAG1100000001")).to_be_visible()
    screenshots.take(page, "integration-entries")
    watch_live_values(page, live_hass, screenshots)
    configure_energy(page, live_hass, screenshots)
    check_energy_dashboard(page, live_hass, screenshots)
    check_diagnostics(page, live_hass, screenshots)
    for language in LANGUAGES:
        translated_dialogs(page, live_hass, screenshots, language)
    live_hass.ensure_running()


def watch_live_values(page: Page, live: LiveHomeAssistant, shots: Screenshots) -> None:
    """The P1 meter's device page shows its power, and the value moves."""
    open_device(page, live.url, "Fluvius P1 meter")
    row = entity_row(page, "Power import")
    expect(row).to_contain_text(re.compile(r"\d kW"), timeout=SHORT)
    first = re.search(r"(-?\d[\d.,]*) kW", element_text(row))
    assert first is not None, element_text(row)
    shots.take(page, "p1-device")
    expect(row).not_to_contain_text(
        re.compile(rf"(^|[^\d.,]){re.escape(first.group(1))} kW"), timeout=PROBE
    )


ENERGY_COUNTERS = (
    ("Add consumption", "Fluvius P1 meter Energy import normal tariff"),
    ("Add consumption", "Fluvius P1 meter Energy import low tariff"),
    ("Add return", "Fluvius P1 meter Energy export normal tariff"),
    ("Add return", "Fluvius P1 meter Energy export low tariff"),
)


def configure_energy(page: Page, live: LiveHomeAssistant, shots: Screenshots) -> None:
    """Settings -> Dashboards -> Energy: the P1 meter's four counters as grid in and out."""
    page.goto(live.url + "/config/energy")
    for button, option in ENERGY_COUNTERS:
        add_energy_statistic(page, button, option, row_text=option)
    for _, option in ENERGY_COUNTERS:
        expect(page.get_by_text(option.removeprefix("Fluvius P1 meter ")).first).to_be_visible()
    shots.take(page, "energy-configuration")


def check_energy_dashboard(page: Page, live: LiveHomeAssistant, shots: Screenshots) -> None:
    """The Energy dashboard shows the P1 meter's counters with energy on them."""
    token = page.evaluate(
        "() => JSON.parse(window.localStorage.getItem('hassTokens')).access_token"
    )
    live.replay_history(token, live.meter("Belgian P1 meter over TCP"))
    page.goto(live.url + "/energy")
    table = page.locator("hui-energy-sources-table-card")
    expect(table).to_contain_text("Energy import normal tariff", timeout=PROBE)
    expect(table).to_contain_text(re.compile(r"[1-9][\d.,]* kWh"), timeout=SHORT)
    shots.take(page, "energy-dashboard")


def check_diagnostics(page: Page, live: LiveHomeAssistant, shots: Screenshots) -> None:
    """The encrypted meter's diagnostics download, and no key or token is in it."""
    open_device(page, live.url, "Kaifa meter")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download diagnostics").click()
    text = Path(download.value.path()).read_text()
    diagnostics = json.loads(text)
    assert diagnostics["integration_manifest"]["domain"] == "energy_gateway"
    # The entry's key and the meter's identity are there, redacted.
    assert diagnostics["data"]
    assert "**REDACTED**" in text
    secrets = [key_of(live, "Netz NÖ"), key_of(live, "MEP port"), PORTAL_TOKEN]
    for secret in secrets:
        for form in {secret, secret.lower(), secret.upper()}:
            assert form not in text
    shots.take(page, "diagnostics")


TRANSLATIONS = Path(__file__).parents[2] / "custom_components/energy_gateway/translations"
RAW_TEXT = re.compile(r"component\.energy_gateway\.|config\.(step|error|abort)\.|\{[a-z_]+\}")
"""What a dialog shows when a translation is missing or a placeholder was not filled in."""
LANGUAGES = {"nl": "Nederlands", "de": "Deutsch"}


def set_language(page: Page, base: str, language: str) -> None:
    """Profile -> Language, as a user switches the whole UI."""
    page.goto(base + "/profile/general")
    page.locator("ha-pick-language-row ha-language-picker").click()
    page.get_by_role("option", name=LANGUAGES[language], exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", language)


def open_flow(page: Page, base: str) -> None:
    """The link an integration's documentation gives ("add to my Home Assistant"): the frontend
    asks in the user's language whether to set it up; confirm."""
    page.goto(base + "/config/integrations/dashboard/add?domain=energy_gateway")
    page.get_by_role("button", name="OK", exact=True).click()


def assert_translated(page: Page, heading: str) -> None:
    """The dialog shows the step `heading` and nothing untranslated."""
    expect_step(page, heading, PROBE)
    text = element_text(dialog(page))
    assert not RAW_TEXT.search(text), text


def translated_dialogs(
    page: Page, live: LiveHomeAssistant, shots: Screenshots, language: str
) -> None:
    """The journey's dialogs in `language`: menus, connection forms, the wrong-key error."""
    strings = json.loads((TRANSLATIONS / f"{language}.json").read_text())["config"]
    steps = strings["step"]
    set_language(page, live.url, language)
    connections = {
        "p1": ("p1_network", network_answer(live, "Belgian P1 meter over TCP")),
        "dlms": ("dlms_network", network_answer(live, "Netz NÖ")),
        "modbus": ("modbus_network", None),
        "mep": ("mep_network", None),
    }
    for family, (step, answer) in connections.items():
        open_flow(page, live.url)
        assert_translated(page, steps["user"]["title"])
        choose(page, steps["user"]["menu_options"][family])
        assert_translated(page, steps[family]["title"])
        choose(page, steps[family]["menu_options"][step])
        assert_translated(page, steps[step]["title"])
        labels = (steps[step]["data"]["host"], steps[step]["data"]["port"])
        if family == "p1" and answer is not None:
            shots.take(page, f"{language}-p1-network")
            network_form(page, answer["host"], answer["port"], labels)
            expect(dialog(page)).to_contain_text(
                strings["abort"]["already_configured"], timeout=PROBE
            )
        if family == "dlms" and answer is not None:
            network_form(page, answer["host"], answer["port"], labels)
            assert_translated(page, steps["dlms_key"]["title"])
            dialog(page).get_by_role("textbox").first.fill(WRONG_KEY)
            submit(page)
            expect(dialog(page)).to_contain_text(strings["error"]["dlms_wrong_key"], timeout=PROBE)
            assert not RAW_TEXT.search(element_text(dialog(page)))
            shots.take(page, f"{language}-wrong-key")
    open_flow(page, live.url)
    choose(page, steps["user"]["menu_options"]["upstream"])
    assert_translated(page, steps["upstream"]["title"])
