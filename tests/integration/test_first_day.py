"""Issue 13, the defects a new user met on the first day: each test failed before its fix.

Real Home Assistant, a real TCP bridge (`MeterServer`), time travel for the timers.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from datetime import datetime, timedelta
import logging
from zoneinfo import ZoneInfo

from freezegun import freeze_time
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.loader import async_get_integration
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

# Imported before any clock is frozen (see test_capacity.py).
from custom_components.energy_gateway import sensor  # noqa: F401
from custom_components.energy_gateway.const import CONF_KEY, DOMAIN

from .conftest import MeterServer, network_entry, reencode, setup_entry, telegram, wait_until

POWER_LINE = b"1-0:1.7.0(00.244*kW)"
ENERGY_LINE = b"1-0:1.8.1(000004.426*kWh)"
ENCRYPTED = "smarty_format_encrypted_synthetic_esphome_libs.bin"
ENCRYPTED_METER = "p1-EST5\\253710000_A"  # the unique id of the meter sending ENCRYPTED
BRUSSELS = ZoneInfo("Europe/Brussels")


class FixedPortServer(MeterServer):
    """A bridge that can be switched off and on again on the same port."""

    async def start_on(self, port: int) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)
        self.port = port


@pytest.fixture
async def switchable_bridge(socket_enabled: None) -> AsyncGenerator[FixedPortServer]:
    """A bridge whose port is known but which is off until the test starts it."""
    server = FixedPortServer()
    await server.start()
    await server.stop()  # the port is free again: connections are refused
    yield server
    await server.stop()


def _entity_id(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.unique_id}_{key}")
    assert entity_id is not None, key
    return entity_id


def _state(hass: HomeAssistant, entry: MockConfigEntry, key: str) -> str | None:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{entry.unique_id}_{key}")
    state = None if entity_id is None else hass.states.get(entity_id)
    return None if state is None else state.state


def _issues_of(hass: HomeAssistant, entry: MockConfigEntry) -> list[str]:
    """Every repair issue, of any domain, that is about this entry."""
    return sorted(
        issue_id for (_domain, issue_id) in ir.async_get(hass).issues if entry.entry_id in issue_id
    )


async def _nudge_until(hass: HomeAssistant, predicate: Callable[[], bool], step: float) -> None:
    """Move the timers `step` seconds ahead, over and over, until `predicate` holds."""
    for _ in range(300):
        if predicate():
            return
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=step))
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


# ---- 1. a repair issue outlives its cause ----------------------------------------------


async def test_one_repair_while_the_key_is_asked_and_none_once_it_works(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """A key that stops working shows one repair (the key request), and after the user
    gives a working key no repair about the meter is left, although the repair was raised
    by the coordinator that the reload replaced."""
    frame = telegram(ENCRYPTED)
    meter_server.greeting = frame
    entry = network_entry(meter_server.port, unique_id=ENCRYPTED_METER, key="aa" * 16)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator

    foreign = frame[:30] + bytes(b ^ 0x5A for b in frame[30:-12]) + frame[-12:]
    for _ in range(6):
        await meter_server.push(foreign)
    await wait_until(lambda: coordinator.session.stats.decode_failures >= 6)
    await hass.async_block_till_done()
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert len(_issues_of(hass, entry)) == 1

    result = await hass.config_entries.flow.async_configure(
        flows[0]["flow_id"], {CONF_KEY: "aa" * 16}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator is not coordinator
    await wait_until(lambda: entry.runtime_data.coordinator.latest is not None)
    assert _issues_of(hass, entry) == []


async def test_a_key_that_works_again_closes_the_key_request(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """When good frames return without the user doing anything, the key request and its
    repair go away: what they reported is fixed."""
    frame = telegram(ENCRYPTED)
    meter_server.greeting = frame
    entry = network_entry(meter_server.port, unique_id="lux", key="aa" * 16)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    foreign = frame[:30] + bytes(b ^ 0x5A for b in frame[30:-12]) + frame[-12:]
    for _ in range(6):
        await meter_server.push(foreign)
    await wait_until(lambda: coordinator.session.stats.decode_failures >= 6)
    await hass.async_block_till_done()
    assert len(_issues_of(hass, entry)) == 1

    await meter_server.push(frame)
    await wait_until(lambda: not _issues_of(hass, entry))
    await hass.async_block_till_done()
    assert hass.config_entries.flow.async_progress_by_handler(DOMAIN) == []


# ---- 2 and 7. counters and link counters across a reload ---------------------------------


async def test_counters_never_step_back_across_a_reload(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """After a reload the first, lower energy reading is held back like any other, and the
    CRC and reconnect counters continue from where they were."""
    dsmr5 = telegram("dsmr_v5.txt")
    meter_server.greeting = dsmr5
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await meter_server.push(dsmr5.replace(POWER_LINE, b"1-0:1.7.0(09.999*kW)"))
    await wait_until(lambda: coordinator.session.stats.crc_failures == 1)
    meter_server.drop_clients()
    await _nudge_until(hass, lambda: coordinator.session.stats.reconnects == 1, step=70)
    assert _state(hass, entry, "crc_failures") == "1"
    # The reconnected bridge's greeting may still be on its way (the nudge made the meter
    # silent for longer than the option): wait for it, then the value is the meter's.
    await wait_until(lambda: _state(hass, entry, "1-0:1.8.1") != "unavailable")
    assert _state(hass, entry, "1-0:1.8.1") == "4.426"

    lower = reencode(dsmr5, ENERGY_LINE, b"1-0:1.8.1(000004.377*kWh)")
    meter_server.greeting = reencode(lower, POWER_LINE, b"1-0:1.7.0(00.500*kW)")
    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(lambda: _state(hass, entry, "1-0:1.7.0") == "0.5")
    assert _state(hass, entry, "1-0:1.8.1") == "4.426"
    assert _state(hass, entry, "crc_failures") == "1"
    assert _state(hass, entry, "reconnects") == "1"
    assert entry.runtime_data.coordinator.session.counter_rejections == 1


# ---- 3. the quarter-hour average over the first seconds ---------------------------------


async def test_no_quarter_hour_figure_over_a_second(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """One 1 Wh step one second after setup is not a 3.6 kW quarter-hour average; a
    minute later the average is published."""
    await hass.config.async_set_time_zone("Europe/Brussels")
    hass.config.country = "BE"  # capacity figures are enabled where the tariff is billed
    base = telegram("dsmr_v5.txt")

    def at_tariff_1(kwh: float) -> bytes:
        return reencode(base, ENERGY_LINE, f"1-0:1.8.1({kwh:010.3f}*kWh)".encode())

    with freeze_time(datetime(2026, 3, 31, 10, 7, tzinfo=BRUSSELS), ignore=["asyncio"]) as clock:
        meter_server.greeting = at_tariff_1(100.000)
        entry = network_entry(meter_server.port)
        await setup_entry(hass, entry)
        coordinator = entry.runtime_data.coordinator

        clock.tick(1)
        await meter_server.push(at_tariff_1(100.001))
        await wait_until(lambda: coordinator.latest.values["1-0:1.8.1"] == 100.001)
        await hass.async_block_till_done()
        assert _state(hass, entry, "capacity_current_quarter") == STATE_UNKNOWN

        clock.tick(60)
        await meter_server.push(at_tariff_1(100.011))
        await wait_until(lambda: coordinator.latest.values["1-0:1.8.1"] == 100.011)
        await hass.async_block_till_done()
        assert float(_state(hass, entry, "capacity_current_quarter") or "nan") == pytest.approx(
            0.011 / (61 / 3600), abs=0.001
        )


# ---- 4. a bridge that is off at start-up --------------------------------------------------


async def test_bridge_off_at_start_does_not_hold_setup(
    hass: HomeAssistant,
    switchable_bridge: FixedPortServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Setup finishes without a message from the meter (it cannot have waited for one),
    says once why there is no data, and the data flows when the bridge comes up."""
    caplog.set_level(logging.INFO, logger="custom_components.energy_gateway")
    entry = network_entry(switchable_bridge.port)
    await setup_entry(hass, entry, wait_for_data=False)
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    assert coordinator.latest is None
    await _nudge_until(hass, lambda: coordinator.session.stats.open_failures >= 3, step=6)
    said = [r for r in caplog.records if "cannot reach" in r.getMessage()]
    assert len(said) == 1
    assert said[0].levelno == logging.WARNING

    switchable_bridge.greeting = telegram("dsmr_v5.txt")
    await switchable_bridge.start_on(switchable_bridge.port)
    await _nudge_until(hass, lambda: _state(hass, entry, "1-0:1.7.0") == "0.244", step=6)
    assert entry.state is ConfigEntryState.LOADED


# ---- 5. silence and reconnect timing --------------------------------------------------------


async def test_unavailable_when_the_option_says(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """With the default of 60 s, entities are available after 59 s of silence and
    unavailable after 61 s, not a check interval later."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    power = _entity_id(hass, entry, "1-0:1.7.0")
    silent_since = dt_util.utcnow()

    async_fire_time_changed(hass, silent_since + timedelta(seconds=58.5))
    await hass.async_block_till_done()
    assert hass.states.get(power).state == "0.244"

    async_fire_time_changed(hass, silent_since + timedelta(seconds=61))
    await hass.async_block_till_done()
    assert hass.states.get(power).state == STATE_UNAVAILABLE


async def test_a_returning_bridge_is_found_within_seconds(
    hass: HomeAssistant, switchable_bridge: FixedPortServer
) -> None:
    """A bridge that was working minutes ago and is gone for several attempts is tried
    again within a few seconds, not after the backoff has grown to a minute."""
    switchable_bridge.greeting = telegram("dsmr_v5.txt")
    await switchable_bridge.start_on(switchable_bridge.port)
    entry = network_entry(switchable_bridge.port)
    await setup_entry(hass, entry)
    await wait_until(lambda: _state(hass, entry, "1-0:1.7.0") == "0.244")
    stats = entry.runtime_data.coordinator.session.stats

    await switchable_bridge.stop()
    await _nudge_until(hass, lambda: stats.open_failures >= 7, step=120)
    await asyncio.sleep(0.05)  # let the last failed attempt settle into its wait

    await switchable_bridge.start_on(switchable_bridge.port)
    await _nudge_until(hass, lambda: stats.reconnects == 1, step=6)
    await wait_until(lambda: _state(hass, entry, "1-0:1.7.0") == "0.244")


# ---- 7. devices, serials, names, integration type ----------------------------------------


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_devices_only_for_sub_meters_with_values(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """dsmr_v5.txt names a channel 2 with no equipment id and no reading: no device and no
    entities for it. The gas meter's serial is decoded like the meter's, and entity ids
    stay short: the serial lives on the device."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    identifiers = sorted(identifier for device in devices for identifier in device.identifiers)
    assert identifiers == [(DOMAIN, "K8EG004046395507"), (DOMAIN, "K8EG004046395507_mbus_1")]
    serials = sorted(device.serial_number or "" for device in devices)
    assert serials == ["2222ABCD123456789", "K8EG004046395507"]

    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    channel_2 = ("0-2:24.1.0", "0-2:96.1.0")
    assert not [entity for entity in entities if entity.unique_id.endswith(channel_2)]
    assert all("k8eg004046395507" not in entity.entity_id for entity in entities)
    gas = _entity_id(hass, entry, "0-1:24.2.1")
    assert gas == "sensor.gas_meter_channel_1_gas_consumption"


async def test_one_meter_per_entry_is_a_device_integration(hass: HomeAssistant) -> None:
    """Meters are not listed as hubs with an "Add hub" button."""
    integration = await async_get_integration(hass, DOMAIN)
    assert integration.integration_type == "device"


# ---- 8. log volume -------------------------------------------------------------------------


async def test_no_debug_line_per_telegram(
    hass: HomeAssistant, meter_server: MeterServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Debug logging stays readable: telegrams are not logged one by one."""
    caplog.set_level(logging.DEBUG, logger="custom_components.energy_gateway")
    dsmr5 = telegram("dsmr_v5.txt")
    meter_server.greeting = dsmr5
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.session.stats.messages_ok == 1)

    def ours() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.name.startswith("custom_components.energy_gateway")]

    before = len(ours())
    for power in (b"0.300", b"0.400", b"0.500"):
        await meter_server.push(reencode(dsmr5, POWER_LINE, b"1-0:1.7.0(0" + power + b"*kW)"))
    await wait_until(lambda: coordinator.session.stats.messages_ok == 4)
    await hass.async_block_till_done()
    assert _state(hass, entry, "1-0:1.7.0") == "0.5"
    assert not [r for r in ours() if "Manually updated" in r.getMessage()]
    assert len(ours()) == before
