"""DLMS/COSEM push meters (Austrian M-Bus, Nordic and Swiss HDLC) through the whole
integration: detection in the config flow, keys only when needed, entities per family."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
import json
import logging
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_REAUTH, SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import (
    device_registry as dr,
    entity_registry as er,
    issue_registry as ir,
)
import pytest
from pytest_homeassistant_custom_component.common import snapshot_platform
from syrupy.assertion import SnapshotAssertion

from custom_components.energy_gateway.const import CONF_AUTH_KEY, CONF_KEY, DOMAIN
from custom_components.energy_gateway.meterlib.families import FAMILIES as REGISTRY
from simulators.dlms_meter import (
    SimulatedHdlcMeter,
    SimulatedMbusMeter,
)

from ..conftest import FIXTURES
from ..pseudo_terminal import PseudoTerminal
from .conftest import MeterServer, network_entry, serial_entry, setup_entry, wait_until

DLMS = FIXTURES / "dlms"


def _vectors() -> dict[str, dict[str, str | None]]:
    """Keys per vector id, from the fixtures' copy of dlms_vectors.json."""
    data = json.loads((DLMS / "dlms_vectors.json").read_text(encoding="utf-8"))
    return {vector["id"]: vector for vector in data}


def frame(vector_id: str) -> bytes:
    """The wire bytes of one vector."""
    return bytes.fromhex((DLMS / f"{vector_id}.hex").read_text().strip())


@pytest.fixture(autouse=True)
def short_listening() -> None:
    """Listen for a second instead of 20 (the meters here send immediately)."""
    with (
        patch("custom_components.energy_gateway.probe.FIRST_MESSAGE_TIMEOUT", 1.0),
        patch("custom_components.energy_gateway.probe.AUTO_MODE_TIMEOUT", 0.5),
        patch("custom_components.energy_gateway.find_meter.LISTEN_TIMEOUT", 1.0),
        patch("custom_components.energy_gateway.find_meter.LISTEN_TIMEOUT_PER_SETTING", 0.5),
        patch.dict(REGISTRY, {"dlms": replace(REGISTRY["dlms"], identity_grace=1.0)}),
    ):
        yield


async def _network_flow(hass: HomeAssistant, port: int) -> dict:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert "dlms" in result["menu_options"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dlms"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "dlms_network"}
    )
    assert result["step_id"] == "dlms_network"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )


async def test_plain_hdlc_meter_added(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """An unencrypted Aidon HAN port is found and added without any key question."""
    meter_server.greeting = frame("hdlc_norway_han_3phase")
    result = await _network_flow(hass, meter_server.port)
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"]["encrypted"] == "no"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["source"] == "dlms"
    await hass.async_block_till_done()


async def test_encrypted_mbus_meter_asks_for_key(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """An Austrian M-Bus push: the flow says what it sees, refuses a wrong key (no tag to
    check: the plaintext does not parse) and adds the meter with the right one."""
    vector = _vectors()["at_netznoe_kaifa_ma309m_evn_doc_example"]
    meter_server.greeting = frame(vector["id"])
    result = await _network_flow(hass, meter_server.port)
    assert result["step_id"] == "dlms_key"
    placeholders = result["description_placeholders"]
    assert placeholders["framing"] == "M-Bus"
    assert placeholders["security"] == "0x20"
    assert placeholders["manufacturer"] == "Kaifa"
    assert placeholders["system_title"].startswith("4B464D")  # "KFM"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: "00" * 16}
    )
    assert result["errors"] == {CONF_KEY: "dlms_wrong_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: vector["key"]}
    )
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_KEY] == str(vector["key"]).lower()
    await hass.async_block_till_done()


async def test_authenticated_hdlc_meter(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Kamstrup Omnipower with security 0x30: a wrong authentication key is refused at
    its own field, a wrong encryption key at its own."""
    vector = _vectors()["hdlc_kamstrup_omnipower"]
    meter_server.greeting = frame(vector["id"])
    result = await _network_flow(hass, meter_server.port)
    assert result["step_id"] == "dlms_key"
    assert result["description_placeholders"]["security"] == "0x30"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: "22" * 16, CONF_AUTH_KEY: vector["auth_key"]}
    )
    assert result["errors"] == {CONF_KEY: "dlms_wrong_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: vector["key"], CONF_AUTH_KEY: "11" * 16}
    )
    # The frames decrypt with the key alone: the authentication key is the wrong one.
    assert result["errors"] == {CONF_AUTH_KEY: "wrong_auth_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: vector["key"], CONF_AUTH_KEY: vector["auth_key"]}
    )
    assert result["step_id"] == "confirm"


async def test_network_errors_are_worded_for_dlms(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """Silence, broken frames and noise each get an error that speaks of frames and the
    customer interface, not of P1 telegrams, nor of serial settings a bridge does not have;
    the form then succeeds once the meter behaves."""
    good = frame("hdlc_norway_han_3phase")
    result = await _network_flow(hass, meter_server.port)
    assert result["errors"] == {"base": "dlms_no_data"}
    flow_id = result["flow_id"]

    broken = bytearray(good)
    broken[len(good) // 2] ^= 0x01  # the frame check sequence no longer holds
    for greeting, error in (
        (bytes(broken) * 2, "dlms_crc_failures_network"),
        (b"\x00\x01 this is not a meter \xff" * 20, "dlms_not_decodable_network"),
    ):
        meter_server.greeting = greeting
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
        )
        assert result["errors"] == {"base": error}

    meter_server.greeting = good
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["step_id"] == "confirm"


async def test_meters_side_by_side(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Two meters on two bridges become two entries keyed by their meter numbers; one sends
    its meter number only in its second list, so the flow listens on for it; the same meter
    again is refused."""
    netznoe = _vectors()["at_netznoe_kaifa_ma309m_evn_doc_example"]
    meter_server.greeting = frame(netznoe["id"])
    result = await _network_flow(hass, meter_server.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: netznoe["key"]}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "181220000009"

    kaifa = MeterServer()
    await kaifa.start()
    try:
        kaifa.greeting = frame("aviborg_axdr3Data")  # list 1: power only, no meter number
        listening = hass.async_create_task(_network_flow(hass, kaifa.port))
        await wait_until(lambda: kaifa.clients == 1)
        await kaifa.push(frame("aviborg_axdr4Data"))  # list 2 names the meter
        result = await listening
        assert result["step_id"] == "confirm"
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id == "6970631401753985"
    finally:
        await kaifa.stop()
    await hass.async_block_till_done()
    assert len(hass.config_entries.async_entries(DOMAIN)) == 2

    result = await _network_flow(hass, meter_server.port)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: netznoe["key"]}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


FAMILIES = [
    "at_netznoe_kaifa_ma309m_evn_doc_example",
    "at_netznoe_sagemcom_t210d_fkw9",
    "hdlc_landis_gyr_e450",
    "hdlc_kamstrup_omnipower",
    "hdlc_kaifa_ma304h3e",
    "hdlc_norway_han_3phase",
    "hdlc_iskra550",
]


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("vector_id", FAMILIES)
async def test_entities_per_family(
    hass: HomeAssistant,
    meter_server: MeterServer,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    vector_id: str,
) -> None:
    """Every value each meter family pushes becomes an entity through the same catalogue."""
    vector = _vectors()[vector_id]
    meter_server.greeting = frame(vector_id)
    keys = {name: vector[name].lower() for name in ("key", "auth_key") if vector.get(name)}
    entry = network_entry(
        meter_server.port,
        unique_id=f"dlms-{vector_id}",
        title=f"Meter {vector_id}",
        source="dlms",
        **keys,
    )
    await setup_entry(hass, entry)
    await snapshot_platform(hass, entity_registry, snapshot, entry.entry_id)


async def test_hdlc_meter_on_a_serial_port(
    hass: HomeAssistant, pseudo_terminal: PseudoTerminal
) -> None:
    """An HDLC HAN stream over a real pseudo-terminal reaches the entities."""
    meter = SimulatedHdlcMeter(seed=3)
    pseudo_terminal.send_every(meter.frames(datetime(2026, 11, 23, 12, 0, tzinfo=UTC)))
    entry = serial_entry(
        pseudo_terminal.path, unique_id="aidon", source="dlms", serial_mode="9600_8n1"
    )
    await setup_entry(hass, entry)
    registry = er.async_get(hass)
    entity_id = registry.async_get_entity_id("sensor", DOMAIN, "aidon_1-0:1.7.0")
    assert entity_id is not None
    assert float(hass.states.get(entity_id).state) == meter.reported["1-0:1.7.0"]


async def test_key_that_stops_working(
    hass: HomeAssistant, meter_server: MeterServer, caplog: pytest.LogCaptureFixture
) -> None:
    """An M-Bus meter whose key changes (meter exchanged, key rotated) asks for the new key
    with one repair, without a log line per frame."""
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    old_key, new_key = bytes(range(16)), bytes(range(16, 32))
    meter_server.greeting = SimulatedMbusMeter(key=old_key).frames(now)
    entry = network_entry(meter_server.port, unique_id="kaifa", source="dlms", key=old_key.hex())
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator

    rotated = SimulatedMbusMeter(key=new_key)
    caplog.clear()
    for second in range(8):
        await meter_server.push(rotated.frames(now + timedelta(seconds=5 * (second + 1))))
    await wait_until(lambda: coordinator.session.stats.decode_failures >= 8)
    await hass.async_block_till_done()
    ours = [
        record
        for record in caplog.records
        if record.name.startswith("custom_components.energy_gateway")
        and record.levelno >= logging.INFO
    ]
    assert len(ours) <= 1, [record.getMessage() for record in ours]
    assert old_key.hex() not in caplog.text
    assert new_key.hex() not in caplog.text

    # One repair: Home Assistant's for the key request, no second one of ours (issue 13).
    issues = ir.async_get(hass).issues
    request = ("homeassistant", f"config_entry_reauth_{DOMAIN}_{entry.entry_id}")
    assert [key for key in issues if entry.entry_id in key[1]] == [request]
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_device_model_is_not_decoder_jargon(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """An Austrian M-Bus meter's device has no model "obis-triples" (the decoder's name for
    the list layout): a model is shown only when the meter's list names one."""
    vector = _vectors()["at_netznoe_kaifa_ma309m_evn_doc_example"]
    meter_server.greeting = frame(vector["id"])
    entry = network_entry(
        meter_server.port, unique_id="netznoe", source="dlms", key=str(vector["key"]).lower()
    )
    await setup_entry(hass, entry)
    devices = dr.async_entries_for_config_entry(dr.async_get(hass), entry.entry_id)
    assert devices
    layout_ids = set(_translated_layouts())
    assert all(device.model not in layout_ids for device in devices)
    assert {device.manufacturer for device in devices} == {"Kaifa"}


def _translated_layouts() -> dict[str, str]:
    """The DLMS layout ids the translations name."""
    path = DLMS.parents[2] / "custom_components" / DOMAIN / "translations" / "en.json"
    return json.loads(path.read_text(encoding="utf-8"))["selector"]["dlms_layout"]["options"]
