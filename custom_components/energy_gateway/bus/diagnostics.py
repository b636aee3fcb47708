"""Diagnostics of a Modbus bus: per meter state, disabled registers, exception counts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from homeassistant.components.diagnostics import async_redact_data
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_HOST

from ..redaction import redacted_entry, without_host
from .coordinator import FleetCoordinator

# Modbus has no keys; serial numbers and the host are identities.
TO_REDACT = {CONF_HOST, "unique_id", "serial", "serial_number", "meter_id"}


def fleet_diagnostics(entry: ConfigEntry, coordinator: FleetCoordinator) -> dict[str, Any]:
    """The bus, its maps and what the poller knows of every meter."""
    poller = coordinator.poller.diagnostics()
    poller["target"] = without_host(str(poller["target"]), entry.data)
    meters = coordinator.data.meters if coordinator.data is not None else {}
    poller["meters"] = {
        address: {
            **details,
            "counter_rejections": coordinator.counter_rejections(int(address)),
            "values": len(meters[int(address)].values) if int(address) in meters else 0,
            "capacity": _capacity(meters.get(int(address))),
        }
        for address, details in dict(poller["meters"]).items()  # type: ignore[call-overload]
    }
    return {
        "entry": redacted_entry(entry, TO_REDACT),
        "link": {
            "description": without_host(coordinator.link_description, entry.data),
            "last_error": coordinator.last_error,
            "reconnects": coordinator.reconnects,
        },
        "maps": {
            "loaded": sorted(coordinator.catalogue.maps),
            "errors": [str(error) for error in coordinator.catalogue.errors],
        },
        "poller": async_redact_data(poller, TO_REDACT),
    }


def _capacity(data: Any) -> dict[str, Any] | None:
    return asdict(data.capacity) if data is not None and data.capacity else None
