"""Base entity shared by every Energy Gateway entity."""

from __future__ import annotations

from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .coordinator import MeterCoordinator
from .devices import device_info


class MeterEntity(CoordinatorEntity[MeterCoordinator]):
    """An entity fed by one meter's coordinator; `key` is an OBIS code or a computed key."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: MeterCoordinator, key: str) -> None:
        """Attach the entity to the meter's device, or to the M-Bus sub-meter it reports on."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self._attr_unique_id = f"{entry.unique_id}_{key}"
        self._attr_device_info = device_info(entry, key)
