"""The push path: link outages, bad telegrams, counter guard, keys that stop working."""

from __future__ import annotations

from datetime import timedelta
import logging
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.energy_gateway.const import (
    CONF_RECONNECT_WHEN_SILENT,
    CONF_UNAVAILABLE_AFTER,
    DOMAIN,
)

from .conftest import MeterServer, network_entry, reencode, setup_entry, telegram, wait_until

POWER_LINE = b"1-0:1.7.0(00.244*kW)"
ENERGY_LINE = b"1-0:1.8.1(000004.426*kWh)"


def _entity_id(hass: HomeAssistant, unique_id: str, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{unique_id}_{key}")
    assert entity_id is not None
    return entity_id


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def test_link_drop_and_return(
    hass: HomeAssistant, meter_server: MeterServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Entities turn unavailable when the bridge drops and stays silent, and come back with
    the next telegram; the log says so once each way however long the outage lasts."""
    caplog.set_level(logging.INFO, logger="custom_components.energy_gateway")
    dsmr5 = telegram("dsmr_v5.txt")
    meter_server.greeting = dsmr5
    entry = network_entry(
        meter_server.port,
        options={CONF_UNAVAILABLE_AFTER: 0.2, CONF_RECONNECT_WHEN_SILENT: False},
    )
    # Every state written, so the first value is seen even when a busy host lets the
    # 0.2 s silence limit pass before the test looks.
    written: list[tuple[str, str]] = []
    hass.bus.async_listen(
        EVENT_STATE_CHANGED,
        lambda event: written.append((event.data["entity_id"], event.data["new_state"].state)),
    )
    with patch(
        "custom_components.energy_gateway.meterlib.links.stream.Backoff.next_delay",
        return_value=0.05,
    ):
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator
        power = _entity_id(hass, entry.unique_id, "1-0:1.7.0")
        assert [state for entity_id, state in written if entity_id == power][:1] == ["0.244"]

        meter_server.greeting = b""
        meter_server.drop_clients()
        await wait_until(lambda: coordinator.session.stats.reconnects == 1)
        for _ in range(3):
            await wait_until(lambda: coordinator.message_age() > 0.25)
            async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=2))
            await hass.async_block_till_done()
            assert _state(hass, power) == STATE_UNAVAILABLE

        await meter_server.push(reencode(dsmr5, POWER_LINE, b"1-0:1.7.0(01.500*kW)"))
        await wait_until(lambda: _state(hass, power) == "1.5")

    lost = [r for r in caplog.records if "entities are unavailable" in r.getMessage()]
    back = [r for r in caplog.records if "arriving again" in r.getMessage()]
    assert len(lost) == 1
    assert len(back) == 1


async def test_crc_failure_counted_without_state_change(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """A corrupted telegram changes no state and shows up in the CRC counter."""
    dsmr5 = telegram("dsmr_v5.txt")
    meter_server.greeting = dsmr5
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    power = _entity_id(hass, entry.unique_id, "1-0:1.7.0")
    crc = _entity_id(hass, entry.unique_id, "crc_failures")
    assert _state(hass, crc) == "0"

    corrupted = dsmr5.replace(POWER_LINE, b"1-0:1.7.0(09.999*kW)")
    await meter_server.push(corrupted)
    await wait_until(lambda: entry.runtime_data.coordinator.session.stats.crc_failures == 1)
    await meter_server.push(reencode(dsmr5, POWER_LINE, b"1-0:1.7.0(00.300*kW)"))
    await wait_until(lambda: _state(hass, power) == "0.3")
    assert _state(hass, crc) == "1"
    assert list(entry.runtime_data.coordinator.session.recent_failures) == [corrupted]


async def test_counter_guard_holds_back_a_backwards_counter(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """An energy counter that goes backwards is not published; the rejection is counted."""
    dsmr5 = telegram("dsmr_v5.txt")
    meter_server.greeting = dsmr5
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    energy = _entity_id(hass, entry.unique_id, "1-0:1.8.1")
    power = _entity_id(hass, entry.unique_id, "1-0:1.7.0")

    backwards = reencode(dsmr5, ENERGY_LINE, b"1-0:1.8.1(000001.000*kWh)")
    await meter_server.push(reencode(backwards, POWER_LINE, b"1-0:1.7.0(00.500*kW)"))
    await wait_until(lambda: _state(hass, power) == "0.5")
    assert _state(hass, energy) == "4.426"
    assert entry.runtime_data.coordinator.session.counter_rejections == 1


async def test_meter_silent_at_startup_loads_and_waits(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """No telegram during setup: the entry loads without waiting (issue 13), nothing
    crashes, and the meter's entities come with its first telegram."""
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry, wait_for_data=False)
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.latest is None
    await wait_until(lambda: meter_server.clients == 1)
    await meter_server.push(telegram("dsmr_v5.txt"))
    await wait_until(lambda: entry.runtime_data.coordinator.latest is not None)
    await hass.async_block_till_done()
    assert _state(hass, _entity_id(hass, entry.unique_id, "1-0:1.7.0")) == "0.244"


async def test_wrong_key_at_startup_asks_for_a_new_one(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """A key that does not decrypt at setup starts reauthentication."""
    frame = telegram("smarty_format_encrypted_synthetic_esphome_libs.bin")
    meter_server.greeting = frame * 3
    entry = network_entry(meter_server.port, unique_id="lux", key="bb" * 16)
    await setup_entry(hass, entry, wait_for_data=False)
    # Setup does not wait for the meter (issue 13): the key request comes from the session.
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.session.stats.decode_failures >= 3)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert coordinator.latest is None


async def test_key_stops_working_later(
    hass: HomeAssistant, meter_server: MeterServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A meter whose key changes after setup raises one repair (Home Assistant's, for the
    reauth flow; no second one of ours, issue 13) with a single log line however many
    frames fail; a good frame clears the repair."""
    frame = telegram("smarty_format_encrypted_synthetic_esphome_libs.bin")
    meter_server.greeting = frame
    entry = network_entry(meter_server.port, unique_id="lux", key="aa" * 16)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator

    # Same frame with a different key on the meter's side: flip ciphertext bytes.
    foreign = frame[:30] + bytes(b ^ 0x5A for b in frame[30:-12]) + frame[-12:]
    for _ in range(6):
        await meter_server.push(foreign)
    await wait_until(lambda: coordinator.session.stats.decode_failures >= 6)
    await hass.async_block_till_done()

    issues = ir.async_get(hass)
    request = ("homeassistant", f"config_entry_reauth_{DOMAIN}_{entry.entry_id}")
    assert [key for key in issues.issues if entry.entry_id in key[1]] == [request]
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    warnings = [r for r in caplog.records if "no longer decrypt" in r.getMessage()]
    assert len(warnings) == 1

    await meter_server.push(frame)
    await wait_until(lambda: issues.async_get_issue(*request) is None)


async def test_unload_and_reload(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Unload closes the link; reload opens a new one and the entities come back."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    power = _entity_id(hass, entry.unique_id, "1-0:1.7.0")
    stream = entry.runtime_data.coordinator.session

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not stream.stats.link_open
    assert _state(hass, power) == STATE_UNAVAILABLE

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    await wait_until(lambda: _state(hass, power) == "0.244")
