"""Diagnostics: useful for bug reports, never a key."""

from __future__ import annotations

import json

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion
from syrupy.filters import props

from ..conftest import FIXTURES
from .conftest import MeterServer, network_entry, setup_entry, telegram, wait_until

KEY = "aa" * 16
AUTH_KEY = "00112233445566778899aabbccddeeff"


async def test_diagnostics_redact_keys(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    meter_server: MeterServer,
    snapshot: SnapshotAssertion,
) -> None:
    """Keys, host and meter identity are redacted; counters and failed telegrams are there."""
    frame = telegram("smarty_format_encrypted_synthetic_esphome_libs.bin")
    meter_server.greeting = frame
    entry = network_entry(meter_server.port, unique_id="lux", key=KEY, auth_key=AUTH_KEY)
    await setup_entry(hass, entry)
    await meter_server.push(b"/XYZ5 broken\r\n\r\n1-0:1.8.1(1*kWh)\r\n!0000\r\n")
    coordinator = entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.session.stats.crc_failures == 1)

    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    text = str(result)
    assert KEY not in text.lower()
    assert AUTH_KEY not in text.lower()
    assert "127.0.0.1" not in text
    assert result["entry"]["data"]["key"] == "**REDACTED**"
    assert result["link"]["messages_ok"] == 1
    assert result["link"]["crc_failures"] == 1
    assert result["decoder"]["encrypted"] is True
    assert result["decoder"]["variant"] is not None
    assert result["recent_failures"] == ["/XYZ5 broken\r\n\r\n1-0:1.8.1(1*kWh)\r\n!0000\r\n"]
    # The whole report, less what changes from run to run (times, the test server's port).
    volatile = props("last_message_at", "last_message_monotonic", "description", "port")
    assert result == snapshot(exclude=volatile)


async def test_dlms_diagnostics_say_whether_the_tag_was_checked(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, meter_server: MeterServer
) -> None:
    """A Kamstrup entry with only the encryption key: the tag is reported unchecked, the
    framing and security are there, the key and the system title are not."""
    vectors = json.loads((FIXTURES / "dlms" / "dlms_vectors.json").read_text(encoding="utf-8"))
    vector = next(item for item in vectors if item["id"] == "hdlc_kamstrup_omnipower")
    wire = bytes.fromhex((FIXTURES / "dlms" / "hdlc_kamstrup_omnipower.hex").read_text().strip())
    meter_server.greeting = wire
    key = vector["key"].lower()
    entry = network_entry(meter_server.port, unique_id="omnipower", source="dlms", key=key)
    await setup_entry(hass, entry)
    coordinator = entry.runtime_data.coordinator
    await meter_server.push(wire)  # the same frame counter again: one replay
    await wait_until(lambda: coordinator.session.stats.messages_ok == 2)

    result = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    text = str(result).lower()
    assert key not in text
    assert "4b414d4501349083" not in text
    decoder = result["decoder"]
    assert decoder["framing"] == "hdlc"
    assert decoder["security_control"] == "0x30"
    assert decoder["gcm_tag"] == "not checked: no authentication key"
    assert decoder["manufacturer"] == "Kamstrup"
    assert decoder["system_title"] == "**REDACTED**"
    assert decoder["replays"] == 1
    assert decoder["encrypted"] is True
