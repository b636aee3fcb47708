"""NES/Echelon MEP meters in Home Assistant, against the simulated meter over real TCP and a
real pseudo-terminal: the config flow, polling, a key that stops working, corrupted replies,
diagnostics, options and reloads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import json
from typing import Any

from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT, EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry, async_fire_time_changed
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_gateway.const import (
    CONF_CONNECTION,
    CONF_KEY,
    CONF_POLL_INTERVAL,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONF_UNAVAILABLE_AFTER,
    CONNECTION_NETWORK,
    DOMAIN,
)
from custom_components.energy_gateway.coordinator import PolledMeterCoordinator
from custom_components.energy_gateway.meterlib.mep import parse_key
from simulators.mep_meter import (
    DEMO_KEY,
    MODEL,
    SERIAL,
    FaultPlan,
    MepPtyServer,
    MepTcpServer,
    SimulatedMepMeter,
)

from .conftest import setup_entry, wait_until

FROZEN = 1_780_000_000.0
"""The simulated meter's clock stands still: it reports exactly its `truth()` every time."""
KEY_TEXT = DEMO_KEY.decode("ascii")
OTHER_KEY = b"Another:MEP-key-0002"
# A sysfs attribute without write permission refuses O_RDWR even to root: a real EACCES.
UNWRITABLE_DEVICE = "/sys/devices/system/cpu/online"
# Readings whose entities the tests compare with the simulator (counters, powers, phases).
COMPARED = ("1-0:1.8.0", "1-0:2.8.0", "1-0:1.7.0", "1-0:2.7.0", "1-0:32.7.0", "1-0:31.7.0")
_SCALE = {"Wh": 1.0, "kWh": 1000.0, "MWh": 1e6, "W": 1.0, "kW": 1000.0, "V": 1.0, "A": 1.0}


def frozen_meter(**options: Any) -> SimulatedMepMeter:
    """A simulated meter with the demo key whose values never change."""
    return SimulatedMepMeter(clock=lambda: FROZEN, **options)


@pytest.fixture
def meter() -> SimulatedMepMeter:
    return frozen_meter()


@pytest.fixture
async def bridge(socket_enabled: None, meter: SimulatedMepMeter) -> AsyncIterator[MepTcpServer]:
    """The meter behind a TCP serial bridge on 127.0.0.1."""
    server = await MepTcpServer(meter).start()
    yield server
    await server.close()


@pytest.fixture
async def pty_meter(meter: SimulatedMepMeter) -> AsyncIterator[MepPtyServer]:
    """The meter on a pseudo-terminal (no modem lines: ENABLE counts as wired)."""
    server = MepPtyServer(meter).start()
    yield server
    server.close()


def mep_entry(port: int, key: bytes = DEMO_KEY, **options: Any) -> MockConfigEntry:
    """An entry as the config flow makes it for the meter behind `port`."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"NES MEP meter {SERIAL}",
        unique_id=SERIAL,
        data={
            CONF_SOURCE: "mep",
            CONF_CONNECTION: CONNECTION_NETWORK,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: port,
            CONF_KEY: parse_key(key.decode("ascii")).hex(),
        },
        options=options,
    )


def entity_of(hass: HomeAssistant, obis: str) -> str:
    entity_id = er.async_get(hass).async_get_entity_id("sensor", DOMAIN, f"{SERIAL}_{obis}")
    assert entity_id is not None, obis
    return entity_id


def shown_value(hass: HomeAssistant, entity_id: str) -> float:
    """An entity's state in the meter's base unit (Wh, W, V, A)."""
    state = hass.states.get(entity_id)
    assert state is not None
    return float(state.state) * _SCALE[state.attributes["unit_of_measurement"]]


def assert_shows_truth(hass: HomeAssistant, meter: SimulatedMepMeter) -> None:
    truth = meter.truth()
    for obis in COMPARED:
        assert shown_value(hass, entity_of(hass, obis)) == pytest.approx(truth[obis]), obis


async def poll(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Let one poll interval pass and the poll's exchanges finish."""
    session = entry.runtime_data.coordinator.session
    polls = session.polls
    async_fire_time_changed(hass, dt_util.utcnow() + timedelta(seconds=61))
    await wait_until(lambda: session.polls > polls, attempts=1500)
    await hass.async_block_till_done()


async def start_flow(hass: HomeAssistant, connection: str) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "mep" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mep"}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["mep_serial", "mep_network"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": f"mep_{connection}"}
    )
    assert result["step_id"] == f"mep_{connection}"
    return result["flow_id"]


async def to_key_step(hass: HomeAssistant, port: int) -> str:
    """A network flow up to the key form (an MEP meter always needs its key)."""
    flow_id = await start_flow(hass, "network")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mep_key"
    assert result["errors"] == {}
    # One key field: an MEP key has no separate authentication key.
    assert [str(field) for field in result["data_schema"].schema] == [CONF_KEY]
    return flow_id


async def test_flow_over_tcp_confirms_identity_then_shows_the_meters_values(
    hass: HomeAssistant, bridge: MepTcpServer, meter: SimulatedMepMeter
) -> None:
    flow_id = await to_key_step(hass, bridge.port)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: KEY_TEXT})

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "mep_confirm"
    placeholders = result["description_placeholders"]
    assert (placeholders["meter_id"], placeholders["variant"]) == (SERIAL, MODEL)
    assert hass.config_entries.async_entries(DOMAIN) == []  # nothing created before confirming

    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"NES MEP meter {SERIAL}"
    entry = result["result"]
    assert entry.unique_id == SERIAL
    # Stored as the 16 key bytes in hex, whatever form was typed.
    assert entry.data[CONF_KEY] == DEMO_KEY[:16].hex()
    await hass.async_block_till_done()

    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    assert isinstance(coordinator, PolledMeterCoordinator)
    assert coordinator.update_interval == timedelta(seconds=2)
    assert_shows_truth(hass, meter)
    # Capacity sensors follow the import counter (the Deriver runs for polled meters too).
    assert er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{SERIAL}_capacity_current_quarter"
    )

    await poll(hass, entry)
    assert_shows_truth(hass, meter)
    assert coordinator.session.stats.messages_ok == 2


async def test_flow_on_a_serial_port(
    hass: HomeAssistant, pty_meter: MepPtyServer, meter: SimulatedMepMeter
) -> None:
    """A serial adapter without modem lines works (ENABLE wired); 9600 8N1 is found."""
    flow_id = await start_flow(hass, "serial")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SERIAL_PORT: pty_meter.path, CONF_SERIAL_MODE: "auto"}
    )
    assert result["step_id"] == "mep_key"
    hex_key = "0x" + DEMO_KEY.hex().upper() + "00"  # a firmware's display form
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: hex_key})
    assert result["step_id"] == "mep_confirm"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_SERIAL_MODE] == "9600_8n1"
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED
    assert_shows_truth(hass, meter)


async def test_flow_errors_are_distinct(
    hass: HomeAssistant, bridge: MepTcpServer, meter: SimulatedMepMeter
) -> None:
    """A malformed key, a wrong key and a silent meter each get their own message."""
    flow_id = await to_key_step(hass, bridge.port)

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: "too short"})
    assert result["errors"] == {CONF_KEY: "mep_invalid_key"}

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: OTHER_KEY.decode()})
    assert result["errors"] == {CONF_KEY: "mep_wrong_key"}
    assert meter.counters.wrong_key >= 2  # the meter answered 0x0B

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: KEY_TEXT})
    assert result["step_id"] == "mep_confirm"


async def test_silent_meter_gets_the_enable_hint(hass: HomeAssistant, socket_enabled: None) -> None:
    """A bridge that takes requests but no meter that answers (ENABLE low, port off)."""

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(4096):
            pass
        writer.close()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    try:
        flow_id = await to_key_step(hass, server.sockets[0].getsockname()[1])
        result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: KEY_TEXT})
    finally:
        server.close()
        await server.wait_closed()
    assert result["errors"] == {"base": "mep_no_data"}


async def test_flow_port_errors(hass: HomeAssistant, socket_enabled: None) -> None:
    """A serial port that may not be opened, and a bridge that refuses the connection,
    are reported before the key is asked for."""
    flow_id = await start_flow(hass, "serial")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_SERIAL_PORT: UNWRITABLE_DEVICE, CONF_SERIAL_MODE: "9600_8n1"}
    )
    assert result["errors"] == {"base": "permission_denied"}

    closed = MepTcpServer(frozen_meter())
    await closed.start()
    port = closed.port
    await closed.close()
    flow_id = await start_flow(hass, "network")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )
    assert result["errors"] == {"base": "cannot_connect"}


async def test_same_meter_twice_is_refused(hass: HomeAssistant, bridge: MepTcpServer) -> None:
    await setup_entry(hass, mep_entry(bridge.port))
    flow_id = await to_key_step(hass, bridge.port)
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: KEY_TEXT})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_key_that_stops_working_raises_a_repair_until_the_new_key_works(
    hass: HomeAssistant,
    bridge: MepTcpServer,
    meter: SimulatedMepMeter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = mep_entry(bridge.port)
    await setup_entry(hass, entry)
    issues = ir.async_get(hass)

    def repairs() -> list[str]:
        """Every repair about this entry, of any domain (the key request is one)."""
        return [issue for (_domain, issue) in issues.issues if entry.entry_id in issue]

    meter.key = OTHER_KEY[:16]  # the utility changed the key
    for _ in range(3):
        await poll(hass, entry)
    assert hass.states.get(entity_of(hass, "1-0:1.7.0")).state == STATE_UNAVAILABLE
    # One repair: Home Assistant's key request, none of ours beside it.
    assert len(repairs()) == 1
    # The meter is no longer pestered every 2 s with a key it refuses.
    assert entry.runtime_data.coordinator.update_interval == timedelta(minutes=1)
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]

    flow_id = flows[0]["flow_id"]
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: KEY_TEXT})
    assert result["step_id"] == "mep_reauth_confirm"
    assert result["errors"] == {CONF_KEY: "mep_wrong_key"}
    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: OTHER_KEY.decode()})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()

    assert entry.data[CONF_KEY] == OTHER_KEY[:16].hex()
    assert entry.state is ConfigEntryState.LOADED
    await wait_until(lambda: not repairs())
    assert_shows_truth(hass, meter)
    warnings = [r for r in caplog.records if "no longer decrypt" in r.getMessage()]
    assert len(warnings) == 1
    for key in (DEMO_KEY, OTHER_KEY):
        for form in (key.decode(), key[:16].decode(), key[:16].hex()):
            assert form not in caplog.text


async def test_reconfigure_keeps_or_replaces_the_key(
    hass: HomeAssistant, bridge: MepTcpServer, meter: SimulatedMepMeter
) -> None:
    """An empty key field keeps the stored key; a new one is checked against the meter."""
    entry = mep_entry(bridge.port)
    await setup_entry(hass, entry)
    result = await entry.start_reconfigure_flow(hass)
    assert result["step_id"] == "mep_reconfigure"
    assert CONF_KEY in {str(field) for field in result["data_schema"].schema}
    assert "auth_key" not in {str(field) for field in result["data_schema"].schema}

    answer = {CONF_HOST: "127.0.0.1", CONF_PORT: bridge.port, CONF_KEY: OTHER_KEY.decode()}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], answer)
    assert result["errors"] == {CONF_KEY: "mep_wrong_key"}

    del answer[CONF_KEY]
    result = await hass.config_entries.flow.async_configure(result["flow_id"], answer)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    assert entry.data[CONF_KEY] == DEMO_KEY[:16].hex()
    assert entry.state is ConfigEntryState.LOADED
    assert_shows_truth(hass, meter)


async def test_wrong_key_at_startup_asks_for_a_new_one(
    hass: HomeAssistant, bridge: MepTcpServer
) -> None:
    entry = mep_entry(bridge.port, key=OTHER_KEY)
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_corrupted_replies_are_never_published(
    socket_enabled: None, hass: HomeAssistant
) -> None:
    """A line that damages a fifth of the replies: every value shown is the meter's own."""
    meter = frozen_meter(faults=FaultPlan(corrupt_rate=0.2, seed=7))
    server = await MepTcpServer(meter).start()
    truth = meter.truth()
    shown: list[tuple[str, str, str | None]] = []

    def record(event: Event[Any]) -> None:
        state = event.data["new_state"]
        if state is not None and state.entity_id.startswith("sensor."):
            shown.append(
                (state.entity_id, state.state, state.attributes.get("unit_of_measurement"))
            )

    hass.bus.async_listen(EVENT_STATE_CHANGED, record)
    try:
        entry = mep_entry(server.port)
        await setup_entry(hass, entry)
        for _ in range(12):
            await poll(hass, entry)
        coordinator = entry.runtime_data.coordinator
        stats = coordinator.session.diagnostics()
    finally:
        await server.close()

    assert meter.counters.corrupted > 0
    assert stats["digest_failures"] > 0
    assert coordinator.session.stats.messages_ok > 0
    by_entity = {entity_of(hass, obis): obis for obis in truth}
    compared = 0
    for entity_id, state, unit in shown:
        obis = by_entity.get(entity_id)
        if obis is None or state in (STATE_UNAVAILABLE, "unknown"):
            continue
        scale = _SCALE.get(unit or "", 1.0)
        assert float(state) * scale == pytest.approx(truth[obis], abs=1e-3), entity_id
        compared += 1
    assert compared >= len(COMPARED)


async def test_diagnostics_count_rejections_and_never_hold_the_key(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, bridge: MepTcpServer
) -> None:
    entry = mep_entry(bridge.port)
    await setup_entry(hass, entry)
    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    decoder = result["decoder"]
    for counter in ("digest_failures", "resyncs", "timeouts", "resends", "requests"):
        assert isinstance(decoder[counter], int), counter
    assert decoder["format"] == "mep"
    assert decoder["model"] == MODEL
    assert result["entry"]["data"][CONF_KEY] == "**REDACTED**"
    text = json.dumps(result)
    for form in (KEY_TEXT, KEY_TEXT[:16], DEMO_KEY[:16].hex(), DEMO_KEY.hex(), SERIAL):
        assert form.lower() not in text.lower(), form


async def test_options_set_the_poll_interval(hass: HomeAssistant, bridge: MepTcpServer) -> None:
    entry = mep_entry(bridge.port)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert {str(field) for field in result["data_schema"].schema} == {
        CONF_POLL_INTERVAL,
        CONF_UNAVAILABLE_AFTER,
    }
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {CONF_POLL_INTERVAL: 61, CONF_UNAVAILABLE_AFTER: 60}
        )
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {CONF_POLL_INTERVAL: 5, CONF_UNAVAILABLE_AFTER: 60}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.runtime_data.coordinator.update_interval == timedelta(seconds=5)


async def test_unload_and_reload(
    hass: HomeAssistant, bridge: MepTcpServer, meter: SimulatedMepMeter
) -> None:
    entry = mep_entry(bridge.port)
    await setup_entry(hass, entry)
    power = entity_of(hass, "1-0:1.7.0")
    session = entry.runtime_data.coordinator.session

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.NOT_LOADED
    assert not session.stats.link_open
    assert hass.states.get(power).state == STATE_UNAVAILABLE

    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert_shows_truth(hass, meter)
