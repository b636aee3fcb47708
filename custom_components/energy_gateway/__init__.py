"""Energy Gateway: smart electricity meters as Home Assistant sensors.

This module stays free of top-level Home Assistant imports so the meter library below it
(`meterlib`) can be imported and run from a command line without Home Assistant.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from homeassistant.core import HomeAssistant
    from homeassistant.helpers.device_registry import DeviceEntry

    from .coordinator import EnergyGatewayConfigEntry
    from .upstream.pusher import UpstreamConfigEntry


def _is_upstream(entry: EnergyGatewayConfigEntry) -> bool:
    """An upstream portal entry (issue 9) rather than a meter."""
    from .upstream import is_upstream  # noqa: PLC0415 - see the module docstring

    return is_upstream(entry.data)


async def async_setup_entry(hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> bool:
    """Set up a meter (or the upstream portal push) from a config entry."""
    if _is_upstream(entry):
        from .upstream.setup import async_setup_upstream  # noqa: PLC0415

        return await async_setup_upstream(hass, cast("UpstreamConfigEntry", entry))
    from .lifecycle import async_setup_meter  # noqa: PLC0415 - see the module docstring

    return await async_setup_meter(hass, entry)


async def async_unload_entry(hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> bool:
    """Unload a meter's (or the upstream portal push's) config entry."""
    if _is_upstream(entry):
        from .upstream.setup import async_unload_upstream  # noqa: PLC0415

        return await async_unload_upstream(hass, cast("UpstreamConfigEntry", entry))
    from .lifecycle import async_unload_meter  # noqa: PLC0415 - see the module docstring

    return await async_unload_meter(hass, entry)


async def async_remove_entry(hass: HomeAssistant, entry: EnergyGatewayConfigEntry) -> None:
    """A deleted entry takes what it left behind along: a meter its repair issues, an
    upstream entry its outbox file."""
    if _is_upstream(entry):
        from .upstream.setup import async_remove_upstream  # noqa: PLC0415

        await async_remove_upstream(hass, cast("UpstreamConfigEntry", entry))
        return
    from .unsupported_lists import async_remove_issue  # noqa: PLC0415 - see the module docstring

    async_remove_issue(hass, entry.entry_id)


async def async_remove_config_entry_device(
    hass: HomeAssistant, entry: EnergyGatewayConfigEntry, device: DeviceEntry
) -> bool:
    """Let the user delete a sub-meter that the meter no longer reports, or a meter removed
    from a Modbus bus."""
    if _is_upstream(entry):
        return False
    from .bus.coordinator import FleetCoordinator  # noqa: PLC0415 - see the module docstring
    from .devices import is_stale_device  # noqa: PLC0415 - see the module docstring

    coordinator = entry.runtime_data.coordinator
    if isinstance(coordinator, FleetCoordinator):
        return coordinator.is_removed_meter(device)
    return is_stale_device(entry, device, coordinator.latest)
