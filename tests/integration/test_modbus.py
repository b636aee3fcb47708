"""A Modbus bus in Home Assistant: discovery in the flow, one device per meter, dead meters,
re-scan and removal, user maps, diagnostics; against pymodbus's own server over TCP, RTU
framing over TCP and a pseudo-terminal serial line."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import json
import logging
from pathlib import Path
from typing import Any, Literal

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState, ConfigFlowResult
from homeassistant.const import CONF_HOST, CONF_PORT, STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_gateway import async_remove_config_entry_device
from custom_components.energy_gateway.bus.coordinator import (
    FleetCoordinator,
    meter_device_identifier,
)
from custom_components.energy_gateway.bus.settings import (
    CONF_FRAMING,
    CONF_METERS,
    CONF_TIMEOUT,
    USER_MAPS_DIR,
)
from custom_components.energy_gateway.const import (
    CONF_CONNECTION,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
    DOMAIN,
)
from custom_components.energy_gateway.diagnostics import async_get_config_entry_diagnostics
from custom_components.energy_gateway.meterlib.modbus.schema import BUILTIN_DIR
from simulators.modbus_fleet import ModbusFleet

from .conftest import device_with, setup_entry, wait_until

type Transport = Literal["tcp", "rtu", "serial"]

# Gaps (3, 4, 6, 8), two meters of the same model, and a unit that matches no map.
PLACEMENT = {
    1: "eastron_sdm630",
    2: "eastron_sdm630",
    5: "abb_b23_b24",
    7: "unknown",
    9: "meatrol",
}
KNOWN = (1, 2, 5, 9)
VOLTAGE_L1 = "1-0:32.7.0"
IMPORT_ENERGY = "1-0:1.8.0"


@pytest.fixture
async def fleet(socket_enabled: None) -> AsyncIterator[ModbusFleet]:
    """The simulated fleet, stopped after the test (each test starts its transport)."""
    simulated = ModbusFleet.of_models(PLACEMENT)
    yield simulated
    await simulated.stop()


async def _serve(fleet: ModbusFleet, transport: Transport) -> dict[str, Any]:
    """Serve the fleet; return the bus part of an entry's data."""
    if transport == "serial":
        path = await fleet.start_serial()
        return {CONF_CONNECTION: CONNECTION_SERIAL, CONF_SERIAL_PORT: path, CONF_TIMEOUT: 0.5}
    port = await fleet.start_tcp(framing=transport)
    return {
        CONF_CONNECTION: CONNECTION_NETWORK,
        CONF_HOST: "127.0.0.1",
        CONF_PORT: port,
        CONF_FRAMING: transport,
        CONF_TIMEOUT: 0.5,
    }


def _bus_entry(
    bus: dict[str, Any], addresses: tuple[int, ...] = KNOWN, unique_id: str | None = None
) -> MockConfigEntry:
    meters = [
        {"address": address, "model": PLACEMENT[address], "serial": str(10_000_000 + address)}
        for address in addresses
    ]
    target = bus.get(CONF_SERIAL_PORT) or f"127.0.0.1:{bus[CONF_PORT]}"
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Modbus {target}",
        unique_id=unique_id or f"modbus-{target}",
        data={CONF_SOURCE: "modbus", **bus, CONF_METERS: meters},
    )


def _entity(hass: HomeAssistant, entry: MockConfigEntry, address: int, key: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.unique_id}_{address}_{key}"
    )
    assert entity_id is not None, (address, key)
    return entity_id


async def _cycle(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Let the update interval pass and the cycle's requests finish."""
    coordinator = entry.runtime_data.coordinator
    cycles = coordinator.cycles
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=6))
    await wait_until(lambda: coordinator.cycles > cycles)
    await hass.async_block_till_done()


async def _scan(
    hass: HomeAssistant, flow_id: str, first: int, last: int, *, options: bool = False
) -> ConfigFlowResult:
    """Submit a scan range: the dialog shows the scan's progress, then the flow goes on."""
    manager = hass.config_entries.options if options else hass.config_entries.flow
    result = await manager.async_configure(flow_id, {"first_address": first, "last_address": last})
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["progress_action"] == "modbus_scanning"
    assert result["description_placeholders"]["first"] == str(first)
    await hass.async_block_till_done()
    return await manager.async_configure(flow_id)


async def test_flow_discovers_and_adds_the_fleet(hass: HomeAssistant, fleet: ModbusFleet) -> None:
    bus = await _serve(fleet, "tcp")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "modbus" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "modbus"}
    )
    assert result["menu_options"] == ["modbus_serial", "modbus_network"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "modbus_network"}
    )
    assert result["step_id"] == "modbus_network"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: bus[CONF_PORT], CONF_FRAMING: "tcp", "timeout": 0.5},
    )
    assert result["step_id"] == "modbus_scan"
    # An upside-down range is refused before anything is sent.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"first_address": 10, "last_address": 1}
    )
    assert result["errors"] == {"base": "modbus_bad_range"}
    result = await _scan(hass, result["flow_id"], 1, 10)
    assert result["step_id"] == "modbus_meters"
    found = result["description_placeholders"]["found"].splitlines()
    assert found[0] == "- 1: Eastron SDM630, 10000001"
    assert found[1] == "- 2: Eastron SDM630, 10000002"
    assert found[3] == "- 7: ?, -"  # answers, matches no map: the user picks
    assert [line.split(":")[0] for line in found] == ["- 1", "- 2", "- 5", "- 7", "- 9"]
    schema = result["data_schema"].schema
    defaults = {str(key): key.default() if callable(key.default) else None for key in schema}
    assert defaults["unit_1"] == defaults["unit_2"] == "eastron_sdm630"
    assert defaults["unit_9"] == "meatrol"
    assert defaults["unit_7"] is None

    # Nothing chosen: refused. Then: unit 7 skipped, unit 9 corrected to another map.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {f"unit_{a}": "skip" for a in PLACEMENT}
    )
    assert result["errors"] == {"base": "modbus_none_chosen"}
    choice = {f"unit_{a}": PLACEMENT[a] for a in KNOWN} | {"unit_7": "skip"}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], choice)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"Modbus 127.0.0.1:{bus[CONF_PORT]}"
    meters = result["data"][CONF_METERS]
    assert [(m["address"], m["model"], m["serial"]) for m in meters] == [
        (1, "eastron_sdm630", "10000001"),
        (2, "eastron_sdm630", "10000002"),
        (5, "abb_b23_b24", "10000005"),
        (9, "meatrol", "10000009"),
    ]
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    # The same bus cannot be added twice.
    again = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"], {"next_step_id": "modbus"}
    )
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"], {"next_step_id": "modbus_network"}
    )
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: bus[CONF_PORT], CONF_FRAMING: "tcp", "timeout": 0.5},
    )
    again = await hass.config_entries.flow.async_configure(
        again["flow_id"], {"first_address": 1, "last_address": 3}
    )
    assert again["type"] is FlowResultType.ABORT
    assert again["reason"] == "already_configured"


async def test_flow_reports_a_silent_range_and_an_unreachable_host(
    hass: HomeAssistant, fleet: ModbusFleet, unused_tcp_port: int
) -> None:
    bus = await _serve(fleet, "tcp")
    for port, first, last, error in (
        (bus[CONF_PORT], 20, 24, "modbus_no_units"),
        (unused_tcp_port, 1, 2, "modbus_cannot_connect"),
    ):
        result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
        for step in ("modbus", "modbus_network"):
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {"next_step_id": step}
            )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_HOST: "127.0.0.1", CONF_PORT: port, CONF_FRAMING: "tcp", "timeout": 0.3},
        )
        result = await _scan(hass, result["flow_id"], first, last)
        assert result["step_id"] == "modbus_scan"
        assert result["errors"] == {"base": error}


async def test_closing_the_dialog_stops_the_scan(hass: HomeAssistant, fleet: ModbusFleet) -> None:
    """A user who closes the dialog during a long scan leaves no scan running on the bus."""
    bus = await _serve(fleet, "tcp")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    for step in ("modbus", "modbus_network"):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": step}
        )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_HOST: "127.0.0.1", CONF_PORT: bus[CONF_PORT], CONF_FRAMING: "tcp", "timeout": 0.3},
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"first_address": 1, "last_address": 247}
    )
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    await wait_until(lambda: fleet.requests > 0)
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    await asyncio.sleep(0.5)  # a request already on the wire still reaches the fleet
    asked = fleet.requests
    # A scan still running would ask several units per second (present ones answer at once).
    await asyncio.sleep(1.0)
    assert fleet.requests == asked


async def test_flow_on_a_serial_line(hass: HomeAssistant, fleet: ModbusFleet) -> None:
    bus = await _serve(fleet, "serial")
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    for step in ("modbus", "modbus_serial"):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": step}
        )
    assert result["step_id"] == "modbus_serial"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            CONF_SERIAL_PORT: bus[CONF_SERIAL_PORT],
            "baudrate": "9600",
            "parity": "none",
            "stopbits": "1",
            "timeout": 0.5,
            "delay": 0,
        },
    )
    result = await _scan(hass, result["flow_id"], 1, 3)
    assert result["step_id"] == "modbus_meters"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"unit_1": "eastron_sdm630", "unit_2": "skip"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SERIAL_PORT] == bus[CONF_SERIAL_PORT]
    assert (result["data"]["baudrate"], result["data"]["parity"]) == (9600, "N")
    assert [m["address"] for m in result["data"][CONF_METERS]] == [1]


@pytest.mark.parametrize("transport", ["tcp", "rtu", "serial"])
async def test_one_device_per_meter_with_the_simulated_values(
    hass: HomeAssistant, fleet: ModbusFleet, transport: Transport
) -> None:
    entry = _bus_entry(await _serve(fleet, transport))
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    assert isinstance(entry.runtime_data.coordinator, FleetCoordinator)
    registry = dr.async_get(hass)
    devices = dr.async_entries_for_config_entry(registry, entry.entry_id)
    assert len(devices) == len(KNOWN)
    first = device_with(registry, entry, meter_device_identifier(entry, 1))
    second = device_with(registry, entry, meter_device_identifier(entry, 2))
    assert first is not None
    assert second is not None
    assert (first.manufacturer, first.model, first.serial_number) == (
        "Eastron",
        first.model,
        "10000001",
    )
    assert second.serial_number == "10000002"
    entities = er.async_get(hass)
    for address in KNOWN:
        voltage = _entity(hass, entry, address, VOLTAGE_L1)
        assert (
            entities.async_get(voltage).device_id
            == device_with(registry, entry, meter_device_identifier(entry, address)).id
        )
        assert float(hass.states.get(voltage).state) == pytest.approx(230.0, rel=0.05)
        energy = float(hass.states.get(_entity(hass, entry, address, IMPORT_ENERGY)).state)
        simulated_kwh = sum(fleet.meters[address].load.import_wh) / 1000
        assert energy == pytest.approx(simulated_kwh, rel=1e-3)


async def test_a_dead_meter_only_takes_its_own_entities_down(
    hass: HomeAssistant, fleet: ModbusFleet, caplog: pytest.LogCaptureFixture
) -> None:
    entry = _bus_entry(await _serve(fleet, "tcp"))
    await setup_entry(hass, entry)
    dead, healthy = _entity(hass, entry, 2, VOLTAGE_L1), _entity(hass, entry, 5, VOLTAGE_L1)
    caplog.set_level(logging.INFO)

    fleet.meters[2].silence()
    await _cycle(hass, entry)
    await _cycle(hass, entry)
    assert hass.states.get(dead).state == STATE_UNAVAILABLE
    assert hass.states.get(healthy).state != STATE_UNAVAILABLE
    gone = [r for r in caplog.records if "Modbus unit 2" in r.getMessage()]
    assert [r.getMessage() for r in gone] == ["Modbus unit 2 (eastron_sdm630) does not answer"]

    fleet.meters[2].wake()
    coordinator = entry.runtime_data.coordinator
    for _ in range(6):  # the backoff lets a few cycles pass before the re-probe
        await _cycle(hass, entry)
        if coordinator.poller.meters[2].alive:
            break
    assert float(hass.states.get(dead).state) == pytest.approx(230.0, rel=0.05)
    back = [r.getMessage() for r in caplog.records if "Modbus unit 2" in r.getMessage()]
    assert back == [
        "Modbus unit 2 (eastron_sdm630) does not answer",
        "Modbus unit 2 (eastron_sdm630) answers again",
    ]


async def test_rescan_adds_and_remove_deletes_a_meter(
    hass: HomeAssistant, fleet: ModbusFleet
) -> None:
    entry = _bus_entry(await _serve(fleet, "tcp"), addresses=(1, 2, 5))
    await setup_entry(hass, entry)
    registry = dr.async_get(hass)
    assert device_with(registry, entry, meter_device_identifier(entry, 9)) is None

    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "modbus_rescan"}
    )
    # A range where nobody answers: said on the form, nothing changes.
    result = await _scan(hass, result["flow_id"], 20, 24, options=True)
    assert result["step_id"] == "modbus_rescan"
    assert result["errors"] == {"base": "modbus_no_units"}
    result = await _scan(hass, result["flow_id"], 5, 9, options=True)
    assert result["step_id"] == "modbus_rescan_meters"
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"unit_5": "abb_b23_b24", "unit_7": "skip", "unit_9": "meatrol"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert [m["address"] for m in entry.data[CONF_METERS]] == [1, 2, 5, 9]
    assert entry.state is ConfigEntryState.LOADED
    assert device_with(registry, entry, meter_device_identifier(entry, 9)) is not None
    assert float(hass.states.get(_entity(hass, entry, 9, VOLTAGE_L1)).state) > 200

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {"next_step_id": "modbus_remove"}
    )
    result = await hass.config_entries.options.async_configure(result["flow_id"], {"remove": ["2"]})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert [m["address"] for m in entry.data[CONF_METERS]] == [1, 5, 9]
    assert device_with(registry, entry, meter_device_identifier(entry, 2)) is None
    assert (
        er.async_get(hass).async_get_entity_id(
            "sensor", DOMAIN, f"{entry.unique_id}_2_{VOLTAGE_L1}"
        )
        is None
    )
    assert hass.states.get(_entity(hass, entry, 1, VOLTAGE_L1)).state != STATE_UNAVAILABLE


def _write_user_maps(folder: Path) -> None:
    """A good user map (the Meatrol map under another id) and one with a bad data type."""
    folder.mkdir(parents=True)
    good = json.loads((BUILTIN_DIR / "meatrol.json").read_text())
    good["id"] = "my_meatrol"
    (folder / "my_meatrol.json").write_text(json.dumps(good))
    broken = dict(good, id="broken_one")
    broken["registers"] = [dict(good["registers"][0], type="u24")]
    (folder / "broken.json").write_text(json.dumps(broken))


async def test_a_broken_user_map_is_a_repair_issue_and_the_rest_works(
    hass: HomeAssistant, fleet: ModbusFleet, tmp_path: Path
) -> None:
    # The test configuration folder is shared: the user maps go to one of the test's own.
    hass.config.config_dir = str(tmp_path)
    maps = Path(hass.config.path(USER_MAPS_DIR))
    await hass.async_add_executor_job(_write_user_maps, maps)

    bus = await _serve(fleet, "tcp")
    entry = _bus_entry(bus, addresses=(1,))
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=entry.title,
        unique_id=entry.unique_id,
        data={
            **entry.data,
            CONF_METERS: [
                {"address": 1, "model": "eastron_sdm630"},
                {"address": 9, "model": "my_meatrol"},
            ],
        },
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    issue = ir.async_get(hass).async_get_issue(DOMAIN, "modbus_map_error_broken.json")
    assert issue is not None
    assert issue.translation_placeholders["file"].endswith("broken.json")
    assert issue.translation_placeholders["field"] == "registers[0].type"
    # The user's good map reads its meter.
    assert float(hass.states.get(_entity(hass, entry, 9, VOLTAGE_L1)).state) > 200
    assert float(hass.states.get(_entity(hass, entry, 1, VOLTAGE_L1)).state) > 200

    # Fixed: the issue goes on the next load.
    await hass.async_add_executor_job((maps / "broken.json").unlink)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert ir.async_get(hass).async_get_issue(DOMAIN, "modbus_map_error_broken.json") is None


async def test_diagnostics_per_meter(hass: HomeAssistant, fleet: ModbusFleet) -> None:
    abb = fleet.meters[5]
    assert abb.meter_map is not None
    abb.refuse = {abb.meter_map.registers[0].address}
    entry = _bus_entry(await _serve(fleet, "tcp"))
    await setup_entry(hass, entry)
    fleet.meters[9].silence()
    await _cycle(hass, entry)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    text = json.dumps(diagnostics)
    assert "127.0.0.1" not in text
    assert "10000001" not in text  # serial numbers are identities
    meters = diagnostics["poller"]["meters"]
    assert set(meters) == {"1", "2", "5", "9"}
    assert meters["9"]["alive"] is False
    assert meters["1"]["alive"] is True
    assert meters["5"]["disabled_registers"] != []
    assert meters["5"]["exceptions"]["2"] >= 1  # illegal data address, per meter
    assert meters["1"]["exceptions"] == {}
    assert diagnostics["poller"]["bus"]["exceptions"] >= 1
    assert "meatrol" in diagnostics["maps"]["loaded"]


async def test_reconfigure_changes_the_connection_and_keeps_the_meters(
    hass: HomeAssistant, fleet: ModbusFleet, unused_tcp_port: int
) -> None:
    bus = await _serve(fleet, "tcp")
    entry = _bus_entry(bus)
    await setup_entry(hass, entry)
    answer = {CONF_HOST: "127.0.0.1", CONF_FRAMING: "tcp", "timeout": 0.4}

    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "modbus_reconfigure"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**answer, CONF_PORT: unused_tcp_port}
    )
    assert result["errors"] == {"base": "modbus_cannot_connect"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**answer, CONF_PORT: bus[CONF_PORT]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_TIMEOUT] == 0.4
    assert [m["address"] for m in entry.data[CONF_METERS]] == list(KNOWN)
    assert entry.state is ConfigEntryState.LOADED
    assert float(hass.states.get(_entity(hass, entry, 1, VOLTAGE_L1)).state) > 200


async def test_only_a_removed_meters_device_can_be_deleted(
    hass: HomeAssistant, fleet: ModbusFleet
) -> None:
    entry = _bus_entry(await _serve(fleet, "tcp"))
    await setup_entry(hass, entry)
    registry = dr.async_get(hass)
    configured = device_with(registry, entry, meter_device_identifier(entry, 1))
    assert configured is not None
    leftover = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={meter_device_identifier(entry, 42)}
    )
    assert not await async_remove_config_entry_device(hass, entry, configured)
    assert await async_remove_config_entry_device(hass, entry, leftover)


async def test_a_silent_bus_retries_and_a_late_meter_gets_its_entities(
    hass: HomeAssistant, fleet: ModbusFleet
) -> None:
    bus = await _serve(fleet, "tcp")
    for meter in fleet.meters.values():
        meter.silence()
    silent = _bus_entry(bus)
    await setup_entry(hass, silent)
    assert silent.state is ConfigEntryState.SETUP_RETRY
    await hass.config_entries.async_unload(silent.entry_id)
    await hass.config_entries.async_remove(silent.entry_id)

    for address in (1, 2, 5):
        fleet.meters[address].wake()
    entry = _bus_entry(bus)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    registry = er.async_get(hass)
    late_id = f"{entry.unique_id}_9_{VOLTAGE_L1}"
    assert registry.async_get_entity_id("sensor", DOMAIN, late_id) is None

    fleet.meters[9].wake()
    coordinator = entry.runtime_data.coordinator
    for _ in range(6):  # meter 9 is re-probed on its backoff schedule
        await _cycle(hass, entry)
        if coordinator.poller.meters[9].alive:
            break
    assert float(hass.states.get(_entity(hass, entry, 9, VOLTAGE_L1)).state) > 200
    assert device_with(dr.async_get(hass), entry, meter_device_identifier(entry, 9)) is not None


async def test_entities_per_meter_snapshot(
    hass: HomeAssistant, fleet: ModbusFleet, snapshot: SnapshotAssertion
) -> None:
    """What each model's meter becomes (names, classes, units; values move with time, so
    only the registry entries are pinned)."""
    # A fixed unique id: the simulator's port changes from run to run.
    entry = _bus_entry(await _serve(fleet, "tcp"), unique_id="modbus-test-bus")
    await setup_entry(hass, entry)
    entries = er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    assert sorted(entries, key=lambda item: item.unique_id) == snapshot


@pytest.mark.parametrize(("country", "enabled"), [("BE", True), ("NL", False)])
async def test_capacity_figures_follow_the_tariff_on_a_bus(
    hass: HomeAssistant, fleet: ModbusFleet, country: str, enabled: bool
) -> None:
    """A bus's meters get the capacity figures enabled where the capacity tariff is billed
    and created disabled elsewhere, as a single meter does; energy stays enabled."""
    hass.config.country = country
    entry = _bus_entry(await _serve(fleet, "tcp"), addresses=(1,))
    await setup_entry(hass, entry)
    registry = er.async_get(hass)
    for key in ("capacity_current_quarter", "capacity_month_peak", "capacity_billing_mean"):
        found = registry.async_get(_entity(hass, entry, 1, key))
        assert found is not None
        assert (found.disabled_by is None) is enabled, key
    energy = registry.async_get(_entity(hass, entry, 1, "1-0:1.8.0"))
    assert energy is not None
    assert energy.disabled_by is None
