"""Energy Gateway: smart electricity meters as Home Assistant sensors.

This module stays free of top-level Home Assistant imports so the meter library below it
(`meterlib`) can be imported and run from a command line without Home Assistant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.device_registry import DeviceEntry

    from .coordinator import EnergyGatewayConfigEntry


async def async_setup_entry(hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> bool:
    """Set up a meter from a config entry."""
    from .lifecycle import async_setup_meter  # noqa: PLC0415 - see the module docstring

    return await async_setup_meter(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> bool:
    """Unload a meter's config entry."""
    from .lifecycle import async_unload_meter  # noqa: PLC0415 - see the module docstring

    return await async_unload_meter(hass, entry)


async def async_remove_entry(hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> None:
    """The meter is deleted: its repair issues go with it."""
    from .unsupported_lists import async_remove_issue  # noqa: PLC0415 - see the module docstring

    async_remove_issue(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EnergyGatewayConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete a sub-meter that the meter no longer reports, or a meter removed
    from a Modbus bus."""
    from .devices import is_stale_device  # noqa: PLC0415 - see the module docstring
    from .fleet import FleetCoordinator  # noqa: PLC0415 - see the module docstring

    coordinator = entry.runtime_data.coordinator
    if isinstance(coordinator, FleetCoordinator):
        return coordinator.is_removed_meter(device)
    return is_stale_device(entry, device, coordinator.latest)
