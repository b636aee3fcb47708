"""Setting up, unloading, reloading and retrying an entry, and the devices it registers."""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_gateway.const import DOMAIN

from .conftest import MeterServer, network_entry, setup_entry, telegram, wait_until


async def test_setup_and_unload(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """A meter that talks sets up; unloading closes its session."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    session = entry.runtime_data.coordinator.session
    assert session.stats.link_open

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not session.stats.link_open


async def test_reload_opens_a_new_session(hass: HomeAssistant, meter_server: MeterServer) -> None:
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    first = entry.runtime_data.coordinator.session

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert entry.runtime_data.coordinator.session is not first
    await wait_until(lambda: meter_server.connections == 2)


async def test_silent_bridge_loads_without_meter_entities(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """A bridge that accepts but sends nothing: the entry loads at once (issue 13) with the
    meter's device and its link entities; the readings wait for the first telegram."""
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry, wait_for_data=False)
    assert entry.state is ConfigEntryState.LOADED
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert [device.identifiers for device in devices] == [{(DOMAIN, "K8EG004046395507")}]
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert {entity.unique_id for entity in entities} == {
        f"K8EG004046395507_{key}"
        for key in (
            "message_age",
            "crc_failures",
            "decode_failures",
            "reconnects",
            "counter_rejections",
        )
    }


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_devices_of_a_meter_with_sub_meters(
    hass: HomeAssistant, meter_server: MeterServer, snapshot: SnapshotAssertion
) -> None:
    """The meter and its M-Bus sub-meters, registered by the coordinator, linked together."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    devices = sorted(
        dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id),
        key=lambda device: sorted(device.identifiers),
    )
    meter = devices[0]
    assert meter.identifiers == {(DOMAIN, "K8EG004046395507")}
    assert (DOMAIN, "K8EG004046395507_mbus_1") in devices[1].identifiers
    assert all(device.via_device_id == meter.id for device in devices[1:])
    assert devices == snapshot
    # Every entity sits on one of them.
    entities = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert {entity.device_id for entity in entities} == {device.id for device in devices}
