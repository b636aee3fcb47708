"""Issue 12 through the integration: Landis+Gyr lists that carry their own push-object list,
Netz Burgenland's positional lists, lists nobody understands yet, and per-quantity multipliers.

Meters are the library's simulators, plain and encrypted with a GCM tag (security 0x30) under
keys made fresh for each test, behind a real TCP server or a real pseudo-terminal.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import logging
import secrets
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.helpers import entity_registry as er, issue_registry as ir
from homeassistant.util.unit_conversion import (
    ElectricCurrentConverter,
    ElectricPotentialConverter,
    EnergyConverter,
    PowerConverter,
)
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.energy_gateway.const import (
    CONF_AUTH_KEY,
    CONF_KEY,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    DOMAIN,
)
from custom_components.energy_gateway.coordinator import MeterCoordinator
from custom_components.energy_gateway.layout_names import async_layout_name
from custom_components.energy_gateway.meterlib.dlms import lists
from custom_components.energy_gateway.meterlib.dlms.notification import (
    LAYOUT_PAIRS,
    LAYOUT_POSITIONAL,
    LAYOUT_PUSH_LIST,
    LAYOUT_STRUCTURES,
    LAYOUT_TRIPLES,
)
from custom_components.energy_gateway.meterlib.families import FAMILIES as REGISTRY
from custom_components.energy_gateway.unsupported_lists import RAW_FRAMES_KEPT, issue_id
from simulators.dlms_meter import (
    BURGENLAND_SYSTEM_TITLE,
    HDLC_LLC,
    LANDIS_GYR_DESTINATION,
    LANDIS_GYR_SOURCE,
    SimulatedBurgenlandMeter,
    SimulatedPushListMeter,
    cosem_date_time,
    data_notification,
    glo_ciphered,
    hdlc_frames,
)

from ..pseudo_terminal import PseudoTerminal
from .conftest import MeterServer, network_entry, setup_entry, wait_until

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
type Meter = SimulatedPushListMeter | SimulatedBurgenlandMeter

PUSH_LIST = "push-list"
BURGENLAND_11 = "burgenland-11"
BURGENLAND_14 = "burgenland-14"
LAYOUT_NAMES = {
    PUSH_LIST: "Landis+Gyr list with its own object list",
    BURGENLAND_11: "Netz Burgenland list (11 values)",
    BURGENLAND_14: "Netz Burgenland list (14 values)",
}
_CONVERTERS = (
    EnergyConverter,
    PowerConverter,
    ElectricPotentialConverter,
    ElectricCurrentConverter,
)


@pytest.fixture(autouse=True)
def short_listening() -> Any:
    """Listen for a second instead of 20 (the meters here send immediately)."""
    with (
        patch("custom_components.energy_gateway.probe.FIRST_MESSAGE_TIMEOUT", 1.0),
        patch("custom_components.energy_gateway.probe.AUTO_MODE_TIMEOUT", 0.5),
        patch.dict(REGISTRY, {"dlms": replace(REGISTRY["dlms"], identity_grace=1.0)}),
    ):
        yield


def fresh_keys() -> tuple[bytes, bytes]:
    """An encryption and an authentication key nobody has used before."""
    return secrets.token_bytes(16), secrets.token_bytes(16)


def make_meter(form: str, *, encrypted: bool) -> Meter:
    """A simulated meter of `form`, with fresh keys (security 0x30) when `encrypted`."""
    key, auth_key = fresh_keys() if encrypted else (None, None)
    if form == PUSH_LIST:
        return SimulatedPushListMeter(key=key, auth_key=auth_key, meter_number="71234567")
    return SimulatedBurgenlandMeter(key=key, auth_key=auth_key, extended=form == BURGENLAND_14)


def key_input(meter: Meter) -> dict[str, str]:
    assert meter.key is not None
    assert meter.auth_key is not None
    return {CONF_KEY: meter.key.hex(), CONF_AUTH_KEY: meter.auth_key.hex()}


def as_shown(value: float, unit: str | None, shown: str | None) -> float:
    """A simulator value in the unit Home Assistant shows (Wh as kWh, W as kW)."""
    if unit == shown:
        return value
    for converter in _CONVERTERS:
        if unit in converter.VALID_UNITS and shown in converter.VALID_UNITS:
            return converter.convert(value, unit, shown)
    raise AssertionError(f"no conversion from {unit} to {shown}")


def assert_entities_match(hass: HomeAssistant, unique_id: str, meter: Meter) -> None:
    """Every value of the meter's last push is an entity with exactly that value."""
    registry = er.async_get(hass)
    for code, value in meter.reported.items():
        entity_id = registry.async_get_entity_id("sensor", DOMAIN, f"{unique_id}_{code}")
        assert entity_id is not None, code
        state = hass.states.get(entity_id)
        assert state is not None, code
        if isinstance(value, str):
            assert state.state == value, code
            continue
        shown = state.attributes.get("unit_of_measurement")
        expected = as_shown(value, meter.units[code], shown)
        assert float(state.state) == pytest.approx(expected, rel=1e-9, abs=1e-9), code


def published_codes(coordinator: MeterCoordinator) -> set[str]:
    assert coordinator.latest is not None
    return set(coordinator.latest.snapshot.readings)


async def network_flow(hass: HomeAssistant, port: int) -> dict[str, Any]:
    """The DLMS network steps up to what listening found."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dlms"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dlms_network"}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )


async def serial_flow(hass: HomeAssistant, path: str) -> dict[str, Any]:
    """The DLMS serial steps up to what listening found."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dlms"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dlms_serial"}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERIAL_PORT: path, CONF_SERIAL_MODE: "2400_8n1"}
    )


async def finish_flow(
    hass: HomeAssistant, result: dict[str, Any], meter: Meter, form: str
) -> dict[str, Any]:
    """Give the key when asked (after checking what the user is shown), confirm, add."""
    if meter.key is not None:
        assert result["step_id"] == "dlms_key"
        placeholders = result["description_placeholders"]
        assert placeholders["framing"] == "HDLC"
        assert placeholders["security"] == "0x30"
        assert placeholders["manufacturer"] == "Landis+Gyr"
        assert placeholders["system_title"] == meter.system_title.hex().upper()
        result = await hass.config_entries.flow.async_configure(result["flow_id"], key_input(meter))
    assert result["step_id"] == "confirm", result.get("errors")
    placeholders = result["description_placeholders"]
    assert placeholders["variant"] == LAYOUT_NAMES[form]
    assert placeholders["meter_id"] == meter.meter_id
    assert placeholders["encrypted"] == ("yes" if meter.key is not None else "no")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    # Setup does not wait for the meter: the entities follow its first push.
    coordinator = result["result"].runtime_data.coordinator
    await wait_until(lambda: coordinator.latest is not None)
    await hass.async_block_till_done()
    return result


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize("form", [PUSH_LIST, BURGENLAND_11, BURGENLAND_14])
async def test_new_layouts_over_tcp(
    hass: HomeAssistant, meter_server: MeterServer, form: str, encrypted: bool
) -> None:
    """Each new layout is detected, named in words a user knows, added under the meter id
    in its frame, and every value it carries is an entity with the simulator's value."""
    meter = make_meter(form, encrypted=encrypted)
    meter_server.greeting = meter.frames(NOW)
    result = await finish_flow(hass, await network_flow(hass, meter_server.port), meter, form)
    entry = result["result"]
    assert entry.unique_id == meter.meter_id
    assert entry.title == f"Landis+Gyr meter {meter.meter_id}"
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.coordinator
    assert published_codes(coordinator) == set(meter.reported)
    assert_entities_match(hass, entry.unique_id, meter)


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
@pytest.mark.parametrize("form", [PUSH_LIST, BURGENLAND_11, BURGENLAND_14])
async def test_new_layouts_on_a_serial_port(
    hass: HomeAssistant, pseudo_terminal: PseudoTerminal, form: str, encrypted: bool
) -> None:
    """The same through the serial steps over a real pseudo-terminal."""
    meter = make_meter(form, encrypted=encrypted)
    pseudo_terminal.send_every(meter.frames(NOW))
    result = await finish_flow(hass, await serial_flow(hass, pseudo_terminal.path), meter, form)
    entry = result["result"]
    assert entry.unique_id == meter.meter_id
    assert_entities_match(hass, entry.unique_id, meter)
    await hass.config_entries.async_unload(entry.entry_id)


async def test_layout_named_in_the_users_language(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """The confirm step names the layout in Home Assistant's language."""
    hass.config.language = "de"
    meter = make_meter(BURGENLAND_14, encrypted=False)
    meter_server.greeting = meter.frames(NOW)
    result = await network_flow(hass, meter_server.port)
    assert result["description_placeholders"]["variant"] == "Netz-Burgenland-Liste (14 Werte)"


@pytest.mark.parametrize("language", ["en", "da", "de", "nb", "nl", "sv"])
async def test_every_layout_has_a_name(hass: HomeAssistant, language: str) -> None:
    """Each layout the decoder reports is named in words in all six languages."""
    hass.config.language = language
    layouts = (
        LAYOUT_STRUCTURES,
        LAYOUT_TRIPLES,
        LAYOUT_PAIRS,
        LAYOUT_POSITIONAL,
        LAYOUT_PUSH_LIST,
        lists.KAIFA_LIST_1,
        lists.NETZ_BURGENLAND,
        lists.NETZ_BURGENLAND_14,
    )
    names = {layout: await async_layout_name(hass, layout) for layout in layouts}
    assert [layout for layout, name in names.items() if name == layout] == []
    assert len(set(names.values())) == len(layouts)
    assert await async_layout_name(hass, None) == "-"
    assert await async_layout_name(hass, "AIDON_V0001") == "AIDON_V0001"  # a list's own name


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("push_setup", ["0-0:25.9.0", "0-8:25.9.0", "0-11:25.9.0"])
async def test_push_setup_never_becomes_an_entity(
    hass: HomeAssistant, meter_server: MeterServer, push_setup: str
) -> None:
    """Regression: the push setup's own code (0-x:25.9.0) is never a reading or an entity;
    the logical device name is filed under 0-0:42.0.0 and names the meter."""
    meter = SimulatedPushListMeter(push_setup=push_setup)
    meter_server.greeting = meter.frames(NOW)
    entry = network_entry(meter_server.port, unique_id="lgz", source="dlms")
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    codes = published_codes(coordinator)
    assert not any(":25.9." in code for code in codes)
    assert codes == set(meter.reported)
    assert coordinator.latest is not None
    assert coordinator.latest.snapshot.meter_id == meter.device_name
    unique_ids = [
        item.unique_id
        for item in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
    ]
    assert unique_ids
    assert not [unique_id for unique_id in unique_ids if ":25.9." in unique_id]
    assert_entities_match(hass, "lgz", meter)


def unsupported_frames(meter: SimulatedBurgenlandMeter, count: int) -> list[bytes]:
    """Pushes of `meter` whose body no decoder knows: five long-unsigned values without code,
    ciphered like the meter's own frames."""
    assert meter.key is not None
    frames = []
    for number in range(count):
        body = b"\x02\x05" + b"".join(
            b"\x12" + (230 + number + i).to_bytes(2, "big") for i in range(5)
        )
        moment = NOW + timedelta(seconds=number + 1)
        plaintext = data_notification(0x100 + number, cosem_date_time(moment), body)
        meter.frame_counter += 1
        apdu = glo_ciphered(
            plaintext,
            key=meter.key,
            system_title=BURGENLAND_SYSTEM_TITLE,
            frame_counter=meter.frame_counter,
            security_control=0x30,
            auth_key=meter.auth_key,
        )
        frames.append(
            hdlc_frames(
                HDLC_LLC + apdu, destination=LANDIS_GYR_DESTINATION, source=LANDIS_GYR_SOURCE
            )
        )
    return frames


@pytest.fixture
async def burgenland_entry(
    hass: HomeAssistant, meter_server: MeterServer
) -> tuple[SimulatedBurgenlandMeter, Any]:
    """A loaded entry of an encrypted Netz Burgenland meter on the TCP server."""
    meter = make_meter(BURGENLAND_11, encrypted=True)
    assert isinstance(meter, SimulatedBurgenlandMeter)
    meter_server.greeting = meter.frames(NOW)
    assert meter.key is not None
    assert meter.auth_key is not None
    entry = network_entry(
        meter_server.port,
        unique_id=meter.meter_id,
        title=f"Landis+Gyr meter {meter.meter_id}",
        source="dlms",
        key=meter.key.hex(),
        auth_key=meter.auth_key.hex(),
    )
    await setup_entry(hass, entry)
    assert entry.state is ConfigEntryState.LOADED
    return meter, entry


def our_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.energy_gateway")
        and record.levelno >= logging.WARNING
    ]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_unsupported_list(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    meter_server: MeterServer,
    burgenland_entry: tuple[SimulatedBurgenlandMeter, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A list nobody understands: one log line over many frames, a counter, the last raw
    frames (still encrypted, no key) in diagnostics, a repair issue; the entry stays loaded
    with its values, and the issue goes once supported frames flow again. A new failure
    after that is told anew, once."""
    meter, entry = burgenland_entry
    coordinator = entry.runtime_data.coordinator
    registry = ir.async_get(hass)
    before = dict(coordinator.latest.values)
    caplog.clear()

    frames = unsupported_frames(meter, 8)
    for frame in frames:
        await meter_server.push(frame)
    await wait_until(lambda: coordinator.unsupported_lists.count == 8)
    await hass.async_block_till_done()

    warnings = our_warnings(caplog)
    assert len(warnings) == 1, warnings
    assert "long-unsigned x5" in warnings[0]
    issue = registry.async_get_issue(DOMAIN, issue_id(entry.entry_id))
    assert issue is not None
    assert issue.translation_key == "unsupported_list"
    assert issue.translation_placeholders == {
        "title": entry.title,
        "shape": "structure(5): long-unsigned x5",
    }
    assert entry.state is ConfigEntryState.LOADED
    assert coordinator.latest.values == before  # nothing published, nothing lost

    counter = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.unique_id}_unsupported_lists"
    )
    assert counter is not None
    assert hass.states.get(counter).state == "8"
    voltage = er.async_get(hass).async_get_entity_id(
        "sensor", DOMAIN, f"{entry.unique_id}_1-0:32.7.0"
    )
    assert voltage is not None
    assert float(hass.states.get(voltage).state) == meter.reported["1-0:32.7.0"]

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    assert diagnostics["unsupported_lists"] == {
        "count": 8,
        "recent": [
            {"shape": "structure(5): long-unsigned x5", "raw": frame.hex()}
            for frame in frames[-RAW_FRAMES_KEPT:]
        ],
    }
    text = str(diagnostics).lower()
    assert meter.key is not None
    assert meter.auth_key is not None
    assert meter.key.hex() not in text
    assert meter.auth_key.hex() not in text
    assert meter.key.hex() not in caplog.text.lower()

    # Supported frames again: the issue goes, values follow the meter.
    await meter_server.push(meter.frames(NOW + timedelta(seconds=30)))
    await wait_until(lambda: registry.async_get_issue(DOMAIN, issue_id(entry.entry_id)) is None)
    await hass.async_block_till_done()
    assert_entities_match(hass, entry.unique_id, meter)

    # Failing anew is told anew, once.
    caplog.clear()
    for frame in unsupported_frames(meter, 4):
        await meter_server.push(frame)
    await wait_until(lambda: coordinator.unsupported_lists.count == 12)
    await hass.async_block_till_done()
    assert len(our_warnings(caplog)) == 1
    assert registry.async_get_issue(DOMAIN, issue_id(entry.entry_id)) is not None
    assert hass.states.get(counter).state == "12"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_unsupported_list_between_supported_ones(
    hass: HomeAssistant,
    meter_server: MeterServer,
    burgenland_entry: tuple[SimulatedBurgenlandMeter, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A meter whose longer list is unknown sends it between supported ones (here one in
    five): one log line over all cycles, the issue stays while the list keeps coming, the
    supported values keep updating; once the list stops for more than twice its cycle the
    issue goes."""
    meter, entry = burgenland_entry
    coordinator = entry.runtime_data.coordinator
    registry = ir.async_get(hass)
    decoded = coordinator.session.stats.messages_ok
    caplog.clear()
    moment = NOW
    for _ in range(6):
        for _ in range(4):
            moment += timedelta(seconds=2)
            await meter_server.push(meter.frames(moment))
        await meter_server.push(unsupported_frames(meter, 1)[0])
    await wait_until(lambda: coordinator.unsupported_lists.count == 6)
    await wait_until(lambda: coordinator.session.stats.messages_ok == decoded + 24)
    await hass.async_block_till_done()
    assert len(our_warnings(caplog)) == 1, our_warnings(caplog)
    assert registry.async_get_issue(DOMAIN, issue_id(entry.entry_id)) is not None
    assert_entities_match(hass, entry.unique_id, meter)

    for step in range(1, 10):  # the cycle was 4 supported messages: 9 means it stopped
        moment += timedelta(seconds=2)
        await meter_server.push(meter.frames(moment))
        target = decoded + 24 + step
        await wait_until(lambda target=target: coordinator.session.stats.messages_ok == target)
        await hass.async_block_till_done()
        open_issue = registry.async_get_issue(DOMAIN, issue_id(entry.entry_id))
        assert (open_issue is None) == (step == 9), step
    assert len(our_warnings(caplog)) == 1


async def test_unsupported_list_issue_removed_with_the_entry(
    hass: HomeAssistant,
    meter_server: MeterServer,
    burgenland_entry: tuple[SimulatedBurgenlandMeter, Any],
) -> None:
    """Deleting the entry deletes its repair issue."""
    meter, entry = burgenland_entry
    coordinator = entry.runtime_data.coordinator
    for frame in unsupported_frames(meter, 2):
        await meter_server.push(frame)
    await wait_until(lambda: coordinator.unsupported_lists.count == 2)
    registry = ir.async_get(hass)
    assert registry.async_get_issue(DOMAIN, issue_id(entry.entry_id)) is not None
    await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert registry.async_get_issue(DOMAIN, issue_id(entry.entry_id)) is None


async def test_flow_says_the_list_is_unsupported(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """A meter sending only an unknown list cannot be added, and the flow says why."""
    meter = make_meter(BURGENLAND_11, encrypted=True)
    assert isinstance(meter, SimulatedBurgenlandMeter)
    meter_server.greeting = b"".join(unsupported_frames(meter, 2))
    result = await network_flow(hass, meter_server.port)
    assert result["step_id"] == "dlms_key"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], key_input(meter))
    assert result["errors"] == {"base": "unsupported_list"}


async def _options(hass: HomeAssistant, entry: Any) -> dict[str, Any]:
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    return result


def _fields(result: dict[str, Any]) -> set[str]:
    return {str(marker) for marker in result["data_schema"].schema}


async def test_multipliers_change_published_values(
    hass: HomeAssistant,
    meter_server: MeterServer,
    burgenland_entry: tuple[SimulatedBurgenlandMeter, Any],
) -> None:
    """The per-quantity multipliers of the options flow reach the decoder: each quantity's
    values are multiplied, the others stay; zero is refused; diagnostics show the table."""
    meter, entry = burgenland_entry
    result = await _options(hass, entry)
    multipliers = {
        "energy_multiplier",
        "power_multiplier",
        "voltage_multiplier",
        "current_multiplier",
    }
    assert multipliers <= _fields(result)
    base = {"publish_interval": 0, "unavailable_after": 60, "reconnect_when_silent": True}
    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**base, **dict.fromkeys(multipliers, 1), "energy_multiplier": 0}
        )
    result = await _options(hass, entry)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            **base,
            "energy_multiplier": 0.001,
            "power_multiplier": 1,
            "voltage_multiplier": 10,
            "current_multiplier": 1,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    coordinator = entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.latest is not None)
    readings = coordinator.latest.snapshot.readings
    reported = meter.reported
    assert readings["1-0:1.8.0"].value == pytest.approx(_number(reported["1-0:1.8.0"]) * 0.001)
    assert readings["1-0:2.8.0"].value == pytest.approx(_number(reported["1-0:2.8.0"]) * 0.001)
    for code in ("1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0"):
        assert readings[code].value == pytest.approx(_number(reported[code]) * 10)
    for code in ("1-0:1.7.0", "1-0:2.7.0", "1-0:31.7.0", "1-0:51.7.0", "1-0:71.7.0"):
        assert readings[code].value == reported[code]
    registry = er.async_get(hass)
    voltage = registry.async_get_entity_id("sensor", DOMAIN, f"{entry.unique_id}_1-0:32.7.0")
    assert voltage is not None
    assert float(hass.states.get(voltage).state) == pytest.approx(
        _number(reported["1-0:32.7.0"]) * 10
    )


def _number(value: object) -> float:
    assert isinstance(value, float)
    return value


async def test_multipliers_only_for_dlms(hass: HomeAssistant) -> None:
    """A P1 entry's options have no multipliers (the family registry decides, not the id)."""
    entry = network_entry(2001)
    entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert not {field for field in _fields(result) if field.endswith("_multiplier")}


async def test_push_list_defaults_and_multipliers_in_diagnostics(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, meter_server: MeterServer
) -> None:
    """A push-object-list meter with an energy multiplier in its options: its registers are
    scaled by the per-OBIS default table (shown in the diagnostics with the multipliers in
    use), energy on channel 1 (1-1:1.8.0) is multiplied, the rest is as sent."""
    meter = SimulatedPushListMeter(meter_number="71234567")
    meter_server.greeting = meter.frames(NOW)
    entry = network_entry(
        meter_server.port,
        unique_id=meter.meter_id,
        source="dlms",
        options={"energy_multiplier": 10.0, "current_multiplier": 1.0},
    )
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    readings = coordinator.latest.snapshot.readings
    for code, sent in meter.reported.items():
        if code in ("1-1:1.8.0", "1-1:2.8.0"):
            assert readings[code].value == pytest.approx(_number(sent) * 10)
        else:
            assert readings[code].value == sent

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)
    decoder = diagnostics["decoder"]
    assert decoder["layout"] == LAYOUT_PUSH_LIST
    assert decoder["default_scales"]["1-0:1.8.0"] == "10^0 Wh"
    assert decoder["default_scales"]["1-0:31.7.0"] == "10^-2 A"
    assert decoder["multipliers"]["1-1:1.8.0"] == 10.0
    assert "1-0:31.7.0" not in decoder["multipliers"]  # a factor of 1 is no correction
    assert diagnostics["entry"]["options"]["energy_multiplier"] == 10.0
    assert diagnostics["unsupported_lists"] == {"count": 0, "recent": []}


async def test_unsupported_list_at_startup(
    hass: HomeAssistant, meter_server: MeterServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A meter sending only an unknown list when Home Assistant starts: the entry loads (setup
    does not wait for the meter), the repair issue is raised with one log line over a reload,
    and the issue goes once the meter sends a supported list."""
    meter = make_meter(BURGENLAND_14, encrypted=True)
    assert isinstance(meter, SimulatedBurgenlandMeter)
    assert meter.key is not None
    assert meter.auth_key is not None
    meter_server.greeting = b"".join(unsupported_frames(meter, 3))
    entry = network_entry(
        meter_server.port,
        unique_id=meter.meter_id,
        source="dlms",
        key=meter.key.hex(),
        auth_key=meter.auth_key.hex(),
    )
    registry = ir.async_get(hass)
    caplog.clear()
    await setup_entry(hass, entry, wait_for_data=False)
    assert entry.state is ConfigEntryState.LOADED
    await wait_until(lambda: registry.async_get_issue(DOMAIN, issue_id(entry.entry_id)) is not None)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(lambda: entry.runtime_data.coordinator.unsupported_lists.count >= 3)
    assert entry.runtime_data.coordinator.latest is None  # nothing published under guesses
    warnings = [line for line in our_warnings(caplog) if "does not understand" in line]
    assert len(warnings) == 1, warnings

    meter_server.greeting = meter.frames(NOW)
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    await wait_until(lambda: entry.runtime_data.coordinator.latest is not None)
    assert entry.state is ConfigEntryState.LOADED
    assert registry.async_get_issue(DOMAIN, issue_id(entry.entry_id)) is None
