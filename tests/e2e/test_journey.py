"""A new user's journey in a real browser: from a fresh Home Assistant to meter values on the
Energy dashboard, by clicking only.

Home Assistant runs as a `hass` process with the demo's simulated meters (`scripts/demo`);
headless Chromium does what a person would. Each step leaves a screenshot (see conftest).
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect
import pytest

from .journey import (
    PROBE,
    SHORT,
    Screenshots,
    choose,
    dialog,
    expect_step,
    fill,
    finish,
    network_form,
    onboard,
    start_adding_meter,
    submit,
)
from .live_home_assistant import PORTAL_TOKEN, LiveHomeAssistant

pytestmark = pytest.mark.e2e

WRONG_KEY = "00112233445566778899AABBCCDDEEFF"


def network_answer(live: LiveHomeAssistant, name_part: str) -> dict[str, Any]:
    """The host and port the demo meter named `name_part` serves on."""
    meter = next(m for m in live.demo.meters if name_part in m.name)
    return next(s.answer for s in meter.flow_steps() if s.step_id.endswith("_network"))


def key_of(live: LiveHomeAssistant, name_part: str) -> str:
    meter = next(m for m in live.demo.meters if name_part in m.name)
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
    screenshots.take(page, "integration-entries")
    live_hass.ensure_running()
