"""Start a Modbus bus's config entry: its coordinator, its first cycle, its entity factory."""

from __future__ import annotations

from functools import partial

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant

from ..const import CONF_SOURCE
from ..coordinator import EnergyGatewayRuntime
from .coordinator import FleetCoordinator
from .sensor import async_add_fleet_sensors
from .settings import MODBUS


def is_bus(entry: ConfigEntry) -> bool:
    """True for the entry of a Modbus bus (many meters) rather than of one meter."""
    return bool(entry.data.get(CONF_SOURCE) == MODBUS)


async def async_start_bus(hass: HomeAssistant, entry: ConfigEntry) -> EnergyGatewayRuntime:
    """Poll the bus once (ConfigEntryNotReady while no meter answers) and return the
    runtime data that lets the sensor platform create each meter's entities."""
    coordinator = FleetCoordinator(hass, entry)
    # Not ready (no meter answers yet): Home Assistant runs the entry's unload callbacks,
    # the coordinator's shutdown among them, which closes the bus before the retry.
    await coordinator.async_config_entry_first_refresh()
    return EnergyGatewayRuntime(
        coordinator=coordinator,
        add_sensors=partial(async_add_fleet_sensors, entry, coordinator),
    )
