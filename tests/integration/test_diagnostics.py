"""Diagnostics: useful for bug reports, never a key."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .conftest import MeterServer, network_entry, setup_entry, telegram, wait_until

KEY = "aa" * 16
AUTH_KEY = "00112233445566778899aabbccddeeff"


async def test_diagnostics_redact_keys(
    hass: HomeAssistant, hass_client: ClientSessionGenerator, meter_server: MeterServer
) -> None:
    """Keys, host and meter identity are redacted; counters and failed telegrams are there."""
    frame = telegram("smarty_format_encrypted_synthetic_esphome_libs.bin")
    meter_server.greeting = frame
    entry = network_entry(meter_server.port, unique_id="lux", key=KEY, auth_key=AUTH_KEY)
    await setup_entry(hass, entry)
    await meter_server.push(b"/XYZ5 broken\r\n\r\n1-0:1.8.1(1*kWh)\r\n!0000\r\n")
    coordinator = entry.runtime_data.coordinator
    await wait_until(lambda: coordinator.stream.stats.crc_failures == 1)

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
