"""The unified entry ("Find my meter"): the flow listens and recognises the family, over a
real TCP bridge and a real pseudo-terminal; a silent link offers the polled families; a wrong
family choice is answered with "this looks like X" and a way there."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USB, SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.usb import UsbServiceInfo
import pytest

from custom_components.energy_gateway.const import (
    CONF_CONNECTION,
    CONF_KEY,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
    DOMAIN,
)
from custom_components.energy_gateway.meterlib.families import FAMILIES
from simulators.dlms_meter import SimulatedHdlcMeter, SimulatedMbusMeter
from simulators.p1_meter import SimulatedP1Meter

from .conftest import MeterServer, PseudoTerminal, telegram

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEY = bytes(range(16))


@dataclass(frozen=True)
class Stream:
    """A meter's wire bytes and what the flow must make of them."""

    family: str
    wire: Callable[[], bytes]
    key: bytes | None = None
    """The key the flow must ask for (None: a plain stream, straight to confirm)."""


STREAMS = {
    "p1_plain": Stream("p1", lambda: telegram("dsmr_v5.txt")),
    "p1_encrypted": Stream("p1", lambda: SimulatedP1Meter(encrypt_key=KEY).telegram(NOW), key=KEY),
    "dlms_mbus": Stream("dlms", lambda: SimulatedMbusMeter(key=KEY).frames(NOW), key=KEY),
    "dlms_hdlc": Stream("dlms", lambda: SimulatedHdlcMeter(seed=3).frames(NOW)),
}


@pytest.fixture(autouse=True)
def short_listening() -> Any:
    """Listen for a second instead of 20 (the meters here send immediately)."""
    with (
        patch("custom_components.energy_gateway.probe.FIRST_MESSAGE_TIMEOUT", 1.0),
        patch("custom_components.energy_gateway.probe.AUTO_MODE_TIMEOUT", 0.5),
        patch("custom_components.energy_gateway.find_meter.LISTEN_TIMEOUT", 1.0),
        patch("custom_components.energy_gateway.find_meter.LISTEN_TIMEOUT_PER_SETTING", 0.5),
        patch.dict(FAMILIES, {"dlms": replace(FAMILIES["dlms"], identity_grace=0.5)}),
    ):
        yield


async def _find(hass: HomeAssistant, where: str) -> dict[str, Any]:
    """Start the flow and take "Find my meter", then the kind of link."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"][0] == "find"
    assert set(FAMILIES) <= set(result["menu_options"])  # the family menu stays
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "find"}
    )
    assert result["menu_options"] == ["find_serial", "find_network"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": f"find_{where}"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == f"find_{where}"
    return result


async def _finish(hass: HomeAssistant, result: dict[str, Any], stream: Stream) -> dict[str, Any]:
    """From what listening found: the key step when encrypted, then confirm, then the entry."""
    if stream.key is not None:
        assert result["step_id"] == f"{stream.family}_key"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_KEY: stream.key.hex()}
        )
    assert result["step_id"] == "confirm", result.get("errors")
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["source"] == stream.family
    await hass.async_block_till_done()
    return result


@pytest.mark.parametrize("name", list(STREAMS))
async def test_recognised_over_tcp(
    hass: HomeAssistant, meter_server: MeterServer, name: str
) -> None:
    """Each push family (plain or encrypted, M-Bus or HDLC) is recognised on a bridge."""
    stream = STREAMS[name]
    meter_server.greeting = stream.wire()
    result = await _find(hass, "network")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    result = await _finish(hass, result, stream)
    assert result["data"][CONF_CONNECTION] == CONNECTION_NETWORK
    assert result["data"][CONF_PORT] == meter_server.port


@pytest.mark.parametrize("name", list(STREAMS))
async def test_recognised_on_a_serial_port(
    hass: HomeAssistant, pseudo_terminal: PseudoTerminal, name: str
) -> None:
    """Each push family is recognised on a serial port, with a serial setting of its own."""
    stream = STREAMS[name]
    pseudo_terminal.send_every(stream.wire())
    result = await _find(hass, "serial")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERIAL_PORT: pseudo_terminal.path}
    )
    result = await _finish(hass, result, stream)
    assert result["data"][CONF_CONNECTION] == CONNECTION_SERIAL
    assert result["data"][CONF_SERIAL_PORT] == pseudo_terminal.path
    assert result["data"][CONF_SERIAL_MODE] in FAMILIES[stream.family].serial_presets


def _suggested(result: dict[str, Any]) -> dict[str, Any]:
    """The values a form starts with."""
    return {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description and "suggested_value" in key.description
    }


def _polled_steps(connection: str) -> list[str]:
    return [f"{fid}_{connection}" for fid, fam in FAMILIES.items() if fam.delivery == "poll"]


async def test_silent_bridge_offers_the_polled_families(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """Nothing heard on a bridge: the flow says so and offers the families that must be
    asked, continuing into their steps with the bridge filled in."""
    result = await _find(hass, "network")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "find_silent_network"
    assert result["menu_options"] == [*_polled_steps("network"), "find"]
    assert result["description_placeholders"]["link"] == f"tcp 127.0.0.1:{meter_server.port}"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "modbus_network"}
    )
    assert result["step_id"] == "modbus_network"
    suggested = _suggested(result)
    assert suggested[CONF_HOST] == "127.0.0.1"
    assert suggested[CONF_PORT] == meter_server.port


async def test_silent_serial_port_offers_the_polled_families(
    hass: HomeAssistant, pseudo_terminal: PseudoTerminal
) -> None:
    """A silent serial port: the MEP and Modbus steps are offered with the port filled in."""
    result = await _find(hass, "serial")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERIAL_PORT: pseudo_terminal.path}
    )
    assert result["step_id"] == "find_silent_serial"
    assert result["menu_options"] == [*_polled_steps("serial"), "find"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "mep_serial"}
    )
    assert result["step_id"] == "mep_serial"
    assert _suggested(result)[CONF_SERIAL_PORT] == pseudo_terminal.path


async def test_unknown_bytes_are_named(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Bytes in no known format are not taken for silence."""
    meter_server.greeting = b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4
    result = await _find(hass, "network")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["step_id"] == "find_network"
    assert result["errors"] == {"base": "find_unknown_format"}


async def _family_flow(hass: HomeAssistant, family: str, port: int) -> dict[str, Any]:
    """The family menu, as a user who thinks they know."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": family}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": f"{family}_network"}
    )
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )


async def test_p1_chosen_for_an_mbus_stream(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """The P1 flow on an Austrian M-Bus push does not ask for a "P1 key" it would then
    refuse: it says the stream looks like DLMS/COSEM over M-Bus and continues as that."""
    stream = STREAMS["dlms_mbus"]
    meter_server.greeting = stream.wire()
    result = await _family_flow(hass, "p1", meter_server.port)
    assert result["step_id"] == "looks_like"
    placeholders = result["description_placeholders"]
    assert placeholders["found"] == "DLMS/COSEM (M-Bus)"
    assert placeholders["chosen"] == "P1 / DSMR"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await _finish(hass, result, stream)


async def test_dlms_chosen_for_a_p1_stream(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """The DLMS flow on a P1 bridge names P1 instead of "no DLMS frame was recognised"."""
    stream = STREAMS["p1_plain"]
    meter_server.greeting = stream.wire()
    result = await _family_flow(hass, "dlms", meter_server.port)
    assert result["step_id"] == "looks_like"
    assert result["description_placeholders"]["found"] == "P1"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await _finish(hass, result, stream)


async def test_dlms_chosen_for_an_encrypted_p1_stream(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """An encrypted P1 frame reads as "key needed" to the DLMS decoder too; the flow still
    tells it is P1 before asking for a key."""
    stream = STREAMS["p1_encrypted"]
    meter_server.greeting = stream.wire()
    result = await _family_flow(hass, "dlms", meter_server.port)
    assert result["step_id"] == "looks_like"
    assert result["description_placeholders"]["found"] == "P1"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await _finish(hass, result, stream)


async def test_discovered_cable_on_an_mbus_meter(
    hass: HomeAssistant, pseudo_terminal: PseudoTerminal
) -> None:
    """A cable announced as P1 but wired to an Austrian M-Bus interface: listening on it
    says the stream looks like DLMS/COSEM and continues there, on the same port and with
    the serial setting that was heard."""
    stream = STREAMS["dlms_mbus"]
    pseudo_terminal.send_every(stream.wire())
    result = await hass.config_entries.flow.async_init(
        DOMAIN,
        context={"source": SOURCE_USB},
        data=UsbServiceInfo(
            device=pseudo_terminal.path,
            vid="0403",
            pid="6001",
            serial_number="P1CABLE02",
            manufacturer="FTDI",
            description="P1 Converter Cable",
        ),
    )
    assert result["step_id"] == "usb_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "looks_like"
    assert result["description_placeholders"]["found"] == "DLMS/COSEM (M-Bus)"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    result = await _finish(hass, result, stream)
    assert result["data"][CONF_SERIAL_PORT] == pseudo_terminal.path
    assert result["data"][CONF_SERIAL_MODE] in FAMILIES["dlms"].serial_presets
