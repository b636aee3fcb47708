"""Diagnostic sensors of an upstream entry: backlog, its age, last success, drops."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfInformation, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..const import DOMAIN
from .pusher import UpstreamConfigEntry, UpstreamPusher, UpstreamStatus


@dataclass(frozen=True, kw_only=True)
class UpstreamSensorDescription(SensorEntityDescription):
    """A figure of the outbox or of delivery."""

    value_fn: Callable[[UpstreamStatus], StateType | datetime]


DESCRIPTIONS: tuple[UpstreamSensorDescription, ...] = (
    UpstreamSensorDescription(
        key="backlog",
        translation_key="upstream_backlog",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: status.backlog,
    ),
    UpstreamSensorDescription(
        key="oldest_age",
        translation_key="upstream_oldest_age",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        # No backlog: nothing waits, so the age is 0 rather than unknown.
        value_fn=lambda status: round(status.oldest_age or 0.0, 1),
    ),
    UpstreamSensorDescription(
        key="last_success",
        translation_key="upstream_last_success",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: status.last_success,
    ),
    UpstreamSensorDescription(
        key="dropped",
        translation_key="upstream_dropped",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda status: status.dropped,
    ),
    UpstreamSensorDescription(
        key="outbox_size",
        translation_key="upstream_outbox_size",
        device_class=SensorDeviceClass.DATA_SIZE,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfInformation.BYTES,
        suggested_unit_of_measurement=UnitOfInformation.MEGABYTES,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda status: status.outbox_bytes,
    ),
)


async def async_setup_upstream_sensors(
    hass: HomeAssistant,
    entry: UpstreamConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One sensor per description, on the portal's service device."""
    async_add_entities(
        UpstreamSensor(entry.runtime_data, description) for description in DESCRIPTIONS
    )


class UpstreamSensor(CoordinatorEntity[UpstreamPusher], SensorEntity):
    """A diagnostic figure of the push to the portal."""

    _attr_has_entity_name = True
    entity_description: UpstreamSensorDescription

    def __init__(self, pusher: UpstreamPusher, description: UpstreamSensorDescription) -> None:
        """Attach to the entry's service device."""
        super().__init__(pusher)
        self.entity_description = description
        entry = pusher.config_entry
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"upstream-{entry.entry_id}")},
            name=entry.title,
            manufacturer="Energy Gateway",
            model="Upstream portal push",
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    def available(self) -> bool:
        """Always: these figures describe the gateway, not the portal."""
        return self.coordinator.data is not None

    @property
    def native_value(self) -> StateType | datetime:
        """The figure from the last interval."""
        return self.entity_description.value_fn(self.coordinator.data)
