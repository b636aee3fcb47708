"""Config flow: every path, against real TCP bridges and real pseudo-terminals."""

from __future__ import annotations

from dataclasses import replace
import json
from pathlib import Path
from unittest.mock import patch

from homeassistant.config_entries import SOURCE_USB, SOURCE_USER
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.service_info.usb import UsbServiceInfo
import pytest

from custom_components.energy_gateway.const import (
    CONF_AUTH_KEY,
    CONF_CONNECTION,
    CONF_KEY,
    CONF_PUBLISH_INTERVAL,
    CONF_RECONNECT_WHEN_SILENT,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONF_UNAVAILABLE_AFTER,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
    DOMAIN,
)
from custom_components.energy_gateway.meterlib.core.family import Keys, StreamDecoder
from custom_components.energy_gateway.meterlib.families import FAMILIES

from .conftest import (
    MeterServer,
    PseudoTerminal,
    network_entry,
    serial_entry,
    setup_entry,
    telegram,
    wait_until,
)

TRANSLATIONS = Path(__file__).parents[2] / "custom_components" / "energy_gateway" / "translations"
SMARTY_KEY = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
LUX_AUTH_KEY = "00112233445566778899AABBCCDDEEFF"
# A sysfs attribute without write permission refuses O_RDWR even to root: a real EACCES.
UNWRITABLE_DEVICE = "/sys/devices/system/cpu/online"


@pytest.fixture(autouse=True)
def short_listening() -> None:
    """Listen for a second instead of 20 (the meters here send immediately)."""
    with (
        patch("custom_components.energy_gateway.probe.FIRST_MESSAGE_TIMEOUT", 1.0),
        patch("custom_components.energy_gateway.probe.AUTO_MODE_TIMEOUT", 0.5),
        patch("custom_components.energy_gateway.find_meter.LISTEN_TIMEOUT", 1.0),
        patch("custom_components.energy_gateway.find_meter.LISTEN_TIMEOUT_PER_SETTING", 0.5),
    ):
        yield


async def _start_network_flow(hass: HomeAssistant) -> str:
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["find", "p1", "dlms", "modbus", "mep", "upstream"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1"}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1_network"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "p1_network"
    return result["flow_id"]


async def test_network_meter_added(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """A DSMR 5 meter behind a TCP bridge is found, confirmed and added."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    flow_id = await _start_network_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: " 127.0.0.1 ", CONF_PORT: meter_server.port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "confirm"
    placeholders = result["description_placeholders"]
    assert placeholders["meter_id"] == "K8EG004046395507"
    assert placeholders["variant"] == "Dutch DSMR 5 telegram"
    assert placeholders["encrypted"] == "no"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "K8EG004046395507"
    assert result["data"] == {
        "source": "p1",
        CONF_CONNECTION: CONNECTION_NETWORK,
        CONF_HOST: "127.0.0.1",
        CONF_PORT: meter_server.port,
    }
    await hass.async_block_till_done()


async def test_serial_meter_added_with_auto_detection(
    hass: HomeAssistant, pseudo_terminal: PseudoTerminal
) -> None:
    """A meter on a serial port is found with automatic settings; the working mode is stored."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1_serial"}
    )
    assert result["step_id"] == "p1_serial"
    pseudo_terminal.send_every(telegram("dsmr_v5.txt"))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERIAL_PORT: pseudo_terminal.path, CONF_SERIAL_MODE: "auto"}
    )
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CONNECTION] == CONNECTION_SERIAL
    assert result["data"][CONF_SERIAL_PORT] == pseudo_terminal.path
    assert result["data"][CONF_SERIAL_MODE] == "115200_8n1"
    await hass.async_block_till_done()


@pytest.mark.parametrize(
    ("port", "error"),
    [
        ("/dev/does-not-exist-p1", "port_not_found"),
        (UNWRITABLE_DEVICE, "permission_denied"),
    ],
)
async def test_serial_port_errors(hass: HomeAssistant, port: str, error: str) -> None:
    """A missing port and a port that may not be opened get their own messages."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1_serial"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERIAL_PORT: port, CONF_SERIAL_MODE: "115200_8n1"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}


async def test_silent_serial_port(hass: HomeAssistant, pseudo_terminal: PseudoTerminal) -> None:
    """A cable that delivers nothing says so."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "p1_serial"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERIAL_PORT: pseudo_terminal.path, CONF_SERIAL_MODE: "auto"}
    )
    assert result["errors"] == {"base": "no_data"}


async def test_network_errors_then_recovery(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Refused connection, silence, CRC failures and garbage each get a clear error; the
    form then succeeds once the meter behaves."""
    flow_id = await _start_network_flow(hass)
    await meter_server.stop()
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["errors"] == {"base": "cannot_connect"}

    await meter_server.start()
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["errors"] == {"base": "no_data"}

    good = telegram("dsmr_v5.txt")
    meter_server.greeting = good.replace(b"4.426*kWh", b"4.427*kWh") * 2
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["errors"] == {"base": "crc_failures_network"}

    meter_server.greeting = b"\x00\x01 this is not a meter \xff" * 20
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["errors"] == {"base": "not_decodable_network"}

    meter_server.greeting = good
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["step_id"] == "confirm"


async def test_encrypted_meter_asks_for_key(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Encrypted telegrams lead to the key step; a malformed or wrong key is refused, the
    right one adds the meter with its keys."""
    meter_server.greeting = telegram("smarty_format_encrypted_synthetic_esphome_libs.bin")
    flow_id = await _start_network_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "p1_key"
    assert result["errors"] == {}

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: "not hex"})
    assert result["errors"] == {CONF_KEY: "invalid_key"}

    result = await hass.config_entries.flow.async_configure(flow_id, {CONF_KEY: "B" * 32})
    assert result["errors"] == {CONF_KEY: "wrong_key"}

    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_KEY: SMARTY_KEY, CONF_AUTH_KEY: LUX_AUTH_KEY}
    )
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"]["encrypted"] == "yes"
    result = await hass.config_entries.flow.async_configure(flow_id, {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_KEY] == SMARTY_KEY.lower()
    assert result["data"][CONF_AUTH_KEY] == LUX_AUTH_KEY.lower()
    await hass.async_block_till_done()


async def test_same_meter_twice_is_refused(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """The meter id is the unique id: a second entry for it aborts."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    network_entry(meter_server.port).add_to_hass(hass)
    flow_id = await _start_network_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_reconfigure_moves_the_meter(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Reconfigure points the entry at a new bridge after checking it is the same meter."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    other = MeterServer()
    await other.start()
    try:
        result = await entry.start_reconfigure_flow(hass)
        assert result["step_id"] == "reconfigure"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other.port}
        )
        assert result["errors"] == {"base": "no_data"}
        other.greeting = telegram("fluvius_v171.txt")
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other.port}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "wrong_meter"

        other.greeting = telegram("dsmr_v5.txt")
        result = await entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: other.port, CONF_KEY: ""}
        )
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "reconfigure_successful"
        assert entry.data[CONF_PORT] == other.port
        assert CONF_KEY not in entry.data
        await hass.async_block_till_done()
        # The reloaded entry reads the new bridge (setup does not wait for it).
        await wait_until(lambda: entry.runtime_data.coordinator.latest is not None)
    finally:
        await other.stop()


async def test_reconfigure_serial_and_keys(
    hass: HomeAssistant, meter_server: MeterServer, pseudo_terminal: PseudoTerminal
) -> None:
    """A serial entry shows port fields; a malformed key is refused, an empty one keeps the old."""
    entry = serial_entry(pseudo_terminal.path)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert CONF_SERIAL_PORT in result["data_schema"].schema
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_SERIAL_PORT: pseudo_terminal.path, CONF_SERIAL_MODE: "115200_8n1", CONF_KEY: "12"},
    )
    assert result["errors"] == {CONF_KEY: "invalid_key"}
    pseudo_terminal.send_every(telegram("dsmr_v5.txt"))
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_SERIAL_PORT: pseudo_terminal.path, CONF_SERIAL_MODE: "115200_8n1"}
    )
    assert result["reason"] == "reconfigure_successful"


async def test_reauth_with_new_key(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Reauthentication checks the new key against live telegrams before storing it."""
    meter_server.greeting = telegram("smarty_format_encrypted_synthetic_esphome_libs.bin")
    entry = network_entry(meter_server.port, unique_id="p1-EST5\\253710000_A", key="bb" * 16)
    entry.add_to_hass(hass)
    result = await entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {CONF_KEY: "xyz"})
    assert result["errors"] == {CONF_KEY: "invalid_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: "cc" * 16}
    )
    assert result["errors"] == {CONF_KEY: "wrong_key"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_KEY: SMARTY_KEY}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_KEY] == SMARTY_KEY.lower()
    await hass.async_block_till_done()


async def test_options_flow(hass: HomeAssistant, meter_server: MeterServer) -> None:
    """Options are stored and the entry reloads to apply them."""
    meter_server.greeting = telegram("dsmr_v5.txt")
    entry = network_entry(meter_server.port)
    await setup_entry(hass, entry)
    result = await hass.config_entries.options.async_init(entry.entry_id)
    assert result["step_id"] == "init"
    connections = meter_server.connections
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {CONF_PUBLISH_INTERVAL: 10, CONF_UNAVAILABLE_AFTER: 30, CONF_RECONNECT_WHEN_SILENT: False},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    assert entry.options == {
        CONF_PUBLISH_INTERVAL: 10,
        CONF_UNAVAILABLE_AFTER: 30,
        CONF_RECONNECT_WHEN_SILENT: False,
    }
    assert entry.runtime_data.coordinator.unavailable_after == 30
    await wait_until(lambda: meter_server.connections == connections + 1)


def _plugged_in(path: str, serial_number: str | None = "P1CABLE01") -> UsbServiceInfo:
    return UsbServiceInfo(
        device=path,
        vid="0403",
        pid="6001",
        serial_number=serial_number,
        manufacturer="FTDI",
        description="P1 Converter Cable",
    )


async def test_usb_cable_discovered(hass: HomeAssistant, pseudo_terminal: PseudoTerminal) -> None:
    """A P1 cable plugged in is offered; confirming listens on it and adds its meter."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_plugged_in(pseudo_terminal.path)
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "usb_confirm"
    assert result["description_placeholders"] == {"port": pseudo_terminal.path}
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert flows[0]["context"]["title_placeholders"] == {"name": "P1 Converter Cable"}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["errors"] == {"base": "no_data"}  # the meter was not sending yet

    pseudo_terminal.send_every(telegram("dsmr_v5.txt"))
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["step_id"] == "confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "K8EG004046395507"
    assert result["data"][CONF_SERIAL_PORT] == pseudo_terminal.path
    assert result["data"][CONF_SERIAL_MODE] == "115200_8n1"
    await hass.async_block_till_done()

    # Plugged in again (or found again at start-up): already set up.
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_plugged_in(pseudo_terminal.path)
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"


async def test_usb_cable_discovered_twice_is_offered_once(hass: HomeAssistant) -> None:
    """The same cable announced twice (no serial number) leads to one offer."""
    first = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_plugged_in("/dev/ttyUSB7", None)
    )
    assert first["step_id"] == "usb_confirm"
    second = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USB}, data=_plugged_in("/dev/ttyUSB7", None)
    )
    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"


async def test_unexpected_error_shows_unknown(
    hass: HomeAssistant, meter_server: MeterServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug while listening (here a family whose decoder cannot be built) becomes the
    form's `unknown` error with the traceback in the log; the flow stays usable."""

    def broken_decoder(_keys: Keys) -> StreamDecoder:
        raise RuntimeError("decoder construction bug")

    meter_server.greeting = telegram("dsmr_v5.txt")
    flow_id = await _start_network_flow(hass)
    broken = replace(FAMILIES["p1"], make_decoder=broken_decoder)
    with patch.dict(FAMILIES, {"p1": broken}):
        result = await hass.config_entries.flow.async_configure(
            flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
        )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "unknown"}
    assert "decoder construction bug" in caplog.text
    # With the bug gone, the same form goes on to the meter.
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["step_id"] == "confirm"


# Defect 6 of issue 13: what the forms say, in words a user knows, at the field it concerns.


async def test_confirm_step_names_the_dialect_in_words(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """The confirm step says "Nederlands DSMR 5-telegram" and "nee" to a Dutch user, not
    "dsmr5" and "no"."""
    hass.config.language = "nl"
    meter_server.greeting = telegram("dsmr_v5.txt")
    flow_id = await _start_network_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["step_id"] == "confirm"
    assert result["description_placeholders"]["variant"] == "Nederlands DSMR 5-telegram"
    assert result["description_placeholders"]["encrypted"] == "nee"


def _english_error(key: str) -> str:
    data = json.loads((TRANSLATIONS / "en.json").read_text(encoding="utf-8"))
    return str(data["config"]["error"][key])


@pytest.mark.parametrize("port", [0, 65536, 1.5])
async def test_bad_port_is_a_field_error(hass: HomeAssistant, port: float) -> None:
    """Port 0 is answered at the port field with a translated message, not with the raw
    "Value 0.0 is too small" at the top of the form."""
    flow_id = await _start_network_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: port}
    )
    assert result["step_id"] == "p1_network"
    assert result["errors"] == {CONF_PORT: "invalid_port"}
    assert "1 to 65535" in _english_error("invalid_port")


async def test_bad_port_on_reconfigure_is_a_field_error(hass: HomeAssistant) -> None:
    """The reconfigure form checks its port field the same way, without listening."""
    entry = network_entry(1)
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: 0}
    )
    assert result["errors"] == {CONF_PORT: "invalid_port"}


def test_network_errors_do_not_speak_of_serial_settings() -> None:
    """Every error a network step can show leaves out the serial settings and the
    "Automatic" choice a network form does not have."""
    for key in (
        "not_decodable_network",
        "crc_failures_network",
        "dlms_not_decodable_network",
        "dlms_crc_failures_network",
        "mep_not_decodable_network",
        "mep_crc_failures_network",
    ):
        text = _english_error(key)
        assert "Check the serial settings" not in text
        assert "Automatic" not in text
        assert "bridge" in text


async def test_bad_authentication_key_names_its_field(
    hass: HomeAssistant, meter_server: MeterServer
) -> None:
    """A malformed or wrong authentication key is marked at the authentication key field,
    so it does not read like a bad encryption key."""
    meter_server.greeting = telegram("smarty_format_encrypted_synthetic_esphome_libs.bin")
    flow_id = await _start_network_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_HOST: "127.0.0.1", CONF_PORT: meter_server.port}
    )
    assert result["step_id"] == "p1_key"
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_KEY: SMARTY_KEY, CONF_AUTH_KEY: "xyz"}
    )
    assert result["errors"] == {CONF_AUTH_KEY: "invalid_key"}
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_KEY: SMARTY_KEY, CONF_AUTH_KEY: "11" * 16}
    )
    assert result["errors"] == {CONF_AUTH_KEY: "wrong_auth_key"}
    assert "authentication key" in _english_error("wrong_auth_key")
    result = await hass.config_entries.flow.async_configure(
        flow_id, {CONF_KEY: SMARTY_KEY, CONF_AUTH_KEY: LUX_AUTH_KEY}
    )
    assert result["step_id"] == "confirm"


async def test_bad_port_on_a_modbus_gateway_is_a_field_error(hass: HomeAssistant) -> None:
    """The Modbus TCP form answers port 0 at its port field too."""
    result = await hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "modbus"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "modbus_network"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_HOST: "127.0.0.1", CONF_PORT: 0}
    )
    assert result["step_id"] == "modbus_network"
    assert result["errors"] == {CONF_PORT: "invalid_port"}
