"""The polled coordinator, driven by a small fake polled family over a real TCP socket."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed

from custom_components.energy_gateway.const import (
    CONF_CONNECTION,
    CONF_POLL_INTERVAL,
    CONF_SOURCE,
    CONNECTION_NETWORK,
    DOMAIN,
)
from custom_components.energy_gateway.coordinator import PolledMeterCoordinator
from custom_components.energy_gateway.meterlib.families import FAMILIES

from ..fake_polled_family import FAKE_FAMILY, FAMILY_ID, FakeMeter
from .conftest import device_with, setup_entry, wait_until


@pytest.fixture(autouse=True)
def fake_family_registered() -> Iterator[None]:
    """The fake family joins the registry for these tests only."""
    with patch.dict(FAMILIES, {FAMILY_ID: FAKE_FAMILY}):
        yield


def _entry(port: int) -> MockConfigEntry:
    return MockConfigEntry(
        domain=DOMAIN,
        title="Fake meter FAKE0001",
        unique_id="FAKE0001",
        data={
            CONF_SOURCE: FAMILY_ID,
            CONF_CONNECTION: CONNECTION_NETWORK,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: port,
        },
        options={CONF_POLL_INTERVAL: 5},
    )


def _energy_entity(hass: HomeAssistant) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, "FAKE0001_1-0:1.8.0")
    assert entity_id is not None
    return entity_id


async def _poll(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Let the update interval pass and the poll's socket round trip finish."""
    session = entry.runtime_data.coordinator.session
    polls = session.polls
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await wait_until(lambda: session.polls > polls)
    await hass.async_block_till_done()


async def test_polled_meter_updates_on_its_interval(
    hass: HomeAssistant, fake_meter: FakeMeter
) -> None:
    entry = _entry(fake_meter.port)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, PolledMeterCoordinator)
    assert coordinator.update_interval == timedelta(seconds=5)
    energy = _energy_entity(hass)
    assert float(hass.states.get(energy).state) == pytest.approx(1000.001)

    await _poll(hass, entry)
    assert float(hass.states.get(energy).state) == pytest.approx(1000.002)
    assert fake_meter.reads == 2

    # The coordinator registered the meter's device with what the meter said of itself.
    device = device_with(dr.async_get(hass), entry, (DOMAIN, "FAKE0001"))
    assert device is not None
    assert (device.manufacturer, device.model, device.serial_number) == (
        "Fake",
        "line meter",
        "FAKE0001",
    )


async def test_polled_meter_goes_unavailable_and_comes_back(
    hass: HomeAssistant, fake_meter: FakeMeter
) -> None:
    entry = _entry(fake_meter.port)
    await setup_entry(hass, entry)
    energy = _energy_entity(hass)
    port = fake_meter.port

    await fake_meter.stop()
    await _poll(hass, entry)
    assert hass.states.get(energy).state == STATE_UNAVAILABLE

    await fake_meter.start(port)
    await _poll(hass, entry)
    await _poll(hass, entry)
    assert float(hass.states.get(energy).state) > 1000
    assert entry.runtime_data.coordinator.session.stats.reconnects == 1


async def test_polled_meter_answering_garbage_publishes_nothing(
    hass: HomeAssistant, fake_meter: FakeMeter
) -> None:
    entry = _entry(fake_meter.port)
    await setup_entry(hass, entry)
    energy = _energy_entity(hass)
    fake_meter.garbage = True
    await _poll(hass, entry)
    assert hass.states.get(energy).state == STATE_UNAVAILABLE
    assert entry.runtime_data.coordinator.session.stats.decode_failures == 1


async def test_silent_polled_meter_is_retried(hass: HomeAssistant, fake_meter: FakeMeter) -> None:
    """No meter at setup: the entry waits for it (retry), it does not fail for good."""
    port = fake_meter.port
    await fake_meter.stop()
    entry = _entry(port)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_RETRY
