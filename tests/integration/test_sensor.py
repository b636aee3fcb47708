"""Entities created from real telegrams, delivered over real TCP sockets and pseudo-terminals."""

from __future__ import annotations

from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_gateway import async_remove_config_entry_device
from custom_components.energy_gateway.const import DOMAIN

from .conftest import (
    MeterServer,
    PseudoTerminal,
    device_with,
    network_entry,
    reencode,
    serial_entry,
    setup_entry,
    telegram,
    wait_until,
)

PLAIN_VECTORS = [
    "dsmr_v2_2.txt",
    "dsmr_v3.txt",
    "dsmr_v4_2_kaifa.txt",
    "dsmr_v5.txt",
    "dsmr_v5_two_mbus.txt",
    "dsmr_v5_unpadded_crc_warmtelink.txt",
    "eon_hungary_v5.txt",
    "fluvius_v171.txt",
    "fluvius_v171_alt_with_98_1_0_garbage_ts.txt",
    "iskra_ie.txt",
    "q3d_esy5q3da1004_v304.txt",
    "q3d_esy5q3db1024_v304.txt",
    "sagemcom_t210_d_r_plaintext.txt",
]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("vector", PLAIN_VECTORS)
async def test_entities_per_vector(
    hass: HomeAssistant,
    meter_server: MeterServer,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    vector: str,
) -> None:
    """Every value of every vector becomes an entity with the right class, unit and state."""
    meter_server.greeting = telegram(vector)
    entry = network_entry(meter_server.port, unique_id=f"meter-{vector}")
    await setup_entry(hass, entry)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_dsmr5_values_and_devices(
    hass: HomeAssistant,
    meter_server: MeterServer,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Spot checks: energy, power, gas on its own device linked to the meter, totals."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)

    def state_of(key: str) -> str:
        entity_id = entity_registry.async_get_entity_id(
            "sensor", DOMAIN, f"{entry.unique_id}_{key}"
        )
        assert entity_id is not None, key
        state = hass.states.get(entity_id)
        assert state is not None, key
        return state.state

    assert state_of("1-0:1.8.1") == "4.426"
    assert state_of("1-0:1.8.2") == "2.399"
    assert state_of("total_import") == "6.825"
    assert state_of("1-0:32.7.0") == "230.0"
    assert state_of("0-1:24.2.1") == "0.107"
    assert float(state_of("net_power")) == pytest.approx(0.244)

    meter = device_with(device_registry, entry, (DOMAIN, entry.unique_id))
    assert meter is not None
    gas = device_with(device_registry, entry, (DOMAIN, f"{entry.unique_id}_mbus_1"))
    assert gas is not None
    assert gas.via_device_id == meter.id
    gas_entity = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, f"{entry.unique_id}_0-1:24.2.1"
    )
    assert entity_registry.async_get(gas_entity).device_id == gas.id


async def test_serial_meter(hass: HomeAssistant, pseudo_terminal: PseudoTerminal) -> None:
    """Telegrams over a real pseudo-terminal reach the entities; later ones update them."""
    kaifa = telegram("dsmr_v4_2_kaifa.txt")
    pseudo_terminal.send_every(kaifa)
    entry = serial_entry(pseudo_terminal.path, unique_id="kaifa")
    await setup_entry(hass, entry)
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id("sensor", DOMAIN, "kaifa_1-0:1.7.0")
    assert hass.states.get(entity_id).state == "2.027"
    pseudo_terminal.send_every(reencode(kaifa, b"1-0:1.7.0(02.027*kW)", b"1-0:1.7.0(03.500*kW)"))
    await wait_until(lambda: hass.states.get(entity_id).state == "3.5")


async def test_encrypted_meter(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """An encrypted Luxembourg/Austrian-style P1 stream decodes with the key from the entry."""
    meter_server.greeting = telegram("smarty_format_encrypted_synthetic_esphome_libs.bin")
    entry = network_entry(meter_server.port, unique_id="sagemcom", key="aa" * 16)
    await setup_entry(hass, entry)
    registry = er.async_get(hass)
    power = hass.states.get(registry.async_get_entity_id("sensor", DOMAIN, "sagemcom_1-0:1.7.0"))
    assert float(power.state) == 286
    assert power.attributes["unit_of_measurement"] == "W"
    energy = hass.states.get(registry.async_get_entity_id("sensor", DOMAIN, "sagemcom_1-0:1.8.0"))
    assert float(energy.state) == pytest.approx(6545.766)
    assert energy.attributes["unit_of_measurement"] == "kWh"


async def test_empty_register_is_unknown(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """An empty M-Bus slot's reading shows as unknown, not as a 0 m³ spike; others show values."""
    meter_server.greeting = telegram("dsmr_v5_two_mbus.txt")
    entry = network_entry(meter_server.port, unique_id="two-mbus")
    await setup_entry(hass, entry)
    registry = er.async_get(hass)
    gas = hass.states.get(registry.async_get_entity_id("sensor", DOMAIN, "two-mbus_0-2:24.2.1"))
    assert gas.state == "246.138"
    power = hass.states.get(registry.async_get_entity_id("sensor", DOMAIN, "two-mbus_1-0:1.7.0"))
    assert power.state not in (STATE_UNAVAILABLE, STATE_UNKNOWN)


async def test_only_stale_sub_meters_can_be_removed(
    hass: HomeAssistant, meter_server: MeterServer, device_registry: dr.DeviceRegistry
) -> None:
    """A sub-meter the telegram no longer mentions may be deleted; live devices may not."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    meter = device_with(device_registry, entry, (DOMAIN, entry.unique_id))
    gas = device_with(device_registry, entry, (DOMAIN, f"{entry.unique_id}_mbus_1"))
    gone = device_registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={(DOMAIN, f"{entry.unique_id}_mbus_3")}
    )
    assert meter is not None
    assert gas is not None
    assert not await async_remove_config_entry_device(hass, entry, meter)
    assert not await async_remove_config_entry_device(hass, entry, gas)
    assert await async_remove_config_entry_device(hass, entry, gone)


@pytest.mark.parametrize(
    "case",
    [
        ("NL", "dsmr_v5.txt", False),
        (None, "dsmr_v5.txt", False),
        ("BE", "dsmr_v5.txt", True),
        ("NL", "fluvius_v171.txt", True),
    ],
)
async def test_capacity_sensors_enabled_where_the_tariff_is_billed(
    hass: HomeAssistant,
    meter_server: MeterServer,
    entity_registry: er.EntityRegistry,
    case: tuple[str | None, str, bool],
) -> None:
    """A Belgian meter or a Belgian home gets the capacity figures enabled; others get them
    created disabled, and the energy registers stay enabled everywhere."""
    country, vector, enabled = case
    hass.config.country = country
    meter_server.greeting = telegram(vector)
    entry = network_entry(meter_server.port, unique_id=f"meter-{vector}")
    await setup_entry(hass, entry)

    def registry_entry(key: str) -> er.RegistryEntry:
        entity_id = entity_registry.async_get_entity_id(
            "sensor", DOMAIN, f"{entry.unique_id}_{key}"
        )
        assert entity_id is not None, key
        found = entity_registry.async_get(entity_id)
        assert found is not None
        return found

    for key in ("capacity_current_quarter", "capacity_month_peak", "capacity_billing_mean"):
        assert (registry_entry(key).disabled_by is None) is enabled, key
    assert registry_entry("total_import").disabled_by is None
