"""Set-up and unload of a meter's config entry (kept out of `__init__` on purpose)."""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from .bus.setup import async_start_bus, is_bus
from .coordinator import EnergyGatewayConfigEntry, EnergyGatewayRuntime, create_coordinator

PLATFORMS: list[Platform] = [Platform.SENSOR]


async def async_setup_meter(hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> bool:
    """Start the meter's session and create its entities (a pushing meter is not waited for)."""
    if is_bus(entry):
        entry.runtime_data = await async_start_bus(hass, entry)
        await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
        return True
    coordinator = create_coordinator(hass, entry)
    await coordinator.async_start()
    entry.runtime_data = EnergyGatewayRuntime(coordinator=coordinator)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    return True


async def async_unload_meter(hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> bool:
    """Remove the meter's entities; the link closes through the coordinator's shutdown."""
    return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)
