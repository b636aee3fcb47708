"""Diagnostics: what a user attaches to a bug report, with keys and identities redacted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.const import CONF_HOST
from homeassistant.core import HomeAssistant

from .bus.coordinator import FleetCoordinator
from .bus.diagnostics import fleet_diagnostics
from .const import CONF_AUTH_KEY, CONF_KEY
from .coordinator import EnergyGatewayConfigEntry
from .families import extras_of
from .redaction import redacted_entry, without_host
from .upstream import is_upstream
from .upstream.diagnostics import upstream_diagnostics
from .upstream.pusher import UpstreamConfigEntry

TO_REDACT = {
    CONF_KEY,
    CONF_AUTH_KEY,
    CONF_HOST,
    "unique_id",
    "meter_id",
    "serial_number",
    "system_title",
}


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: EnergyGatewayConfigEntry
) -> dict[str, Any]:
    """Configuration, link counters, the detected dialect and the last failed messages."""
    if is_upstream(entry.data):
        return upstream_diagnostics(cast(UpstreamConfigEntry, entry))
    coordinator = entry.runtime_data.coordinator
    if isinstance(coordinator, FleetCoordinator):
        return fleet_diagnostics(entry, coordinator)
    data = coordinator.data
    snapshot = data.snapshot if data is not None else None
    # Only families whose decoder can meet unknown lists have this section.
    unsupported = (
        {"unsupported_lists": coordinator.unsupported_lists.diagnostics()}
        if extras_of(entry.data).reports_unsupported_lists
        else {}
    )
    return {
        "entry": redacted_entry(entry, TO_REDACT),
        "link": {"description": without_host(coordinator.link_description, entry.data)}
        | coordinator.session.stats.as_dict(),
        "counter_rejections": coordinator.session.counter_rejections,
        "decoder": {
            "format": snapshot.format if snapshot else None,
            "variant": snapshot.variant if snapshot else None,
            "header": snapshot.header if snapshot else None,
            "encrypted": snapshot.encrypted if snapshot else None,
            "readings": len(snapshot.readings) if snapshot else 0,
        }
        | async_redact_data(coordinator.session.diagnostics(), TO_REDACT),
        "capacity": asdict(data.capacity) if data is not None and data.capacity else None,
        "recent_failures": [
            raw.decode("latin-1") if _is_text(raw) else raw.hex()
            for raw in coordinator.session.recent_failures
        ],
    } | unsupported


def _is_text(raw: bytes) -> bool:
    """P1 telegrams are shown as text, binary frames as hex."""
    return raw[:1] == b"/" and all(byte < 0x80 for byte in raw)
