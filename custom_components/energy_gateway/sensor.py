"""Sensors: every value a meter reports, the computed totals and capacity figures, diagnostics."""

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
from homeassistant.const import EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.typing import StateType

from .coordinator import EnergyGatewayConfigEntry, MeterCoordinator
from .devices import register_devices
from .entity import MeterEntity
from .meterlib.catalogue import describe, tariff_name
from .meterlib.model import ReadingValue
from .meterlib.publisher import MeterData

# Coordinator-driven entities: Home Assistant must not poll or throttle them.
PARALLEL_UPDATES = 0

TARIFF_INDICATOR = "0-0:96.14.0"
TARIFF_OPTIONS = ["low", "normal"]

type SensorValue = StateType | datetime


@dataclass(frozen=True, kw_only=True)
class MeterSensorDescription(SensorEntityDescription):
    """A sensor of a meter: where its value comes from and whether it outlives the data."""

    value_fn: Callable[[MeterCoordinator], SensorValue]
    link_diagnostic: bool = False
    """Describes the link itself, so it stays available while the meter is silent."""


def reading_description(key: str, data: MeterData) -> MeterSensorDescription:
    """Describe the entity for one published value (an OBIS code or a computed key)."""
    unit = data.units.get(key)
    channel_type = data.mbus_types.get(int(key[2])) if key[2:3].isdigit() else None
    info = describe(key, unit, channel_type)
    device_class = SensorDeviceClass(info.device_class) if info.device_class else None
    if key == TARIFF_INDICATOR:
        return MeterSensorDescription(
            key=key,
            translation_key=info.translation_key,
            device_class=SensorDeviceClass.ENUM,
            options=TARIFF_OPTIONS,
            entity_category=EntityCategory.DIAGNOSTIC if info.diagnostic else None,
            entity_registry_enabled_default=info.enabled_by_default,
            value_fn=lambda coordinator: _tariff(coordinator, key),
        )
    numeric = info.state_class is not None or device_class not in (
        None,
        SensorDeviceClass.TIMESTAMP,
        SensorDeviceClass.ENUM,
    )
    return MeterSensorDescription(
        key=key,
        translation_key=info.translation_key,
        translation_placeholders=dict(info.placeholders) or None,
        device_class=device_class,
        state_class=SensorStateClass(info.state_class) if info.state_class else None,
        native_unit_of_measurement=unit if numeric else None,
        suggested_unit_of_measurement=info.suggested_unit,
        suggested_display_precision=info.precision if numeric else None,
        entity_category=EntityCategory.DIAGNOSTIC if info.diagnostic else None,
        entity_registry_enabled_default=info.enabled_by_default,
        value_fn=_numeric_value(key) if numeric else _plain_value(key, device_class),
    )


def _numeric_value(key: str) -> Callable[[MeterCoordinator], SensorValue]:
    def value(coordinator: MeterCoordinator) -> SensorValue:
        raw = coordinator.data.values.get(key)
        # A text or time where a number belongs is a meter glitch: show unknown, not garbage.
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            return None
        return raw

    return value


def _plain_value(
    key: str, device_class: SensorDeviceClass | None
) -> Callable[[MeterCoordinator], SensorValue]:
    def value(coordinator: MeterCoordinator) -> SensorValue:
        raw: ReadingValue = coordinator.data.values.get(key)
        if isinstance(raw, datetime):
            return raw if device_class is SensorDeviceClass.TIMESTAMP else raw.isoformat()
        if device_class is SensorDeviceClass.TIMESTAMP:
            return None
        return raw

    return value


def _tariff(coordinator: MeterCoordinator, key: str) -> SensorValue:
    return tariff_name(coordinator.data.snapshot.variant, coordinator.data.values.get(key))


LINK_DESCRIPTIONS: tuple[MeterSensorDescription, ...] = (
    MeterSensorDescription(
        key="message_age",
        translation_key="message_age",
        device_class=SensorDeviceClass.DURATION,
        state_class=SensorStateClass.MEASUREMENT,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        link_diagnostic=True,
        value_fn=lambda coordinator: _rounded(coordinator.message_age()),
    ),
    MeterSensorDescription(
        key="crc_failures",
        translation_key="crc_failures",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        link_diagnostic=True,
        value_fn=lambda coordinator: coordinator.stream.stats.crc_failures,
    ),
    MeterSensorDescription(
        key="decode_failures",
        translation_key="decode_failures",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        link_diagnostic=True,
        value_fn=lambda coordinator: coordinator.stream.stats.decode_failures,
    ),
    MeterSensorDescription(
        key="reconnects",
        translation_key="reconnects",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        link_diagnostic=True,
        value_fn=lambda coordinator: coordinator.stream.stats.reconnects,
    ),
    MeterSensorDescription(
        key="counter_rejections",
        translation_key="counter_rejections",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        link_diagnostic=True,
        value_fn=lambda coordinator: coordinator.publisher.counter_rejections,
    ),
)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a sensor for every value the meter reports, and more as new values appear."""
    coordinator = entry.runtime_data.coordinator
    registry = dr.async_get(hass)
    known: set[str] = set()

    @callback
    def add_new_entities() -> None:
        data = coordinator.latest
        if data is None:
            return
        new_keys = [key for key in data.values if key not in known]
        if not new_keys:
            return
        register_devices(entry, registry, data)
        known.update(new_keys)
        async_add_entities(
            MeterSensor(coordinator, reading_description(key, data)) for key in new_keys
        )

    async_add_entities(MeterSensor(coordinator, description) for description in LINK_DESCRIPTIONS)
    add_new_entities()
    entry.async_on_unload(coordinator.async_add_listener(add_new_entities))


class MeterSensor(MeterEntity, SensorEntity):
    """One value of a meter."""

    entity_description: MeterSensorDescription

    def __init__(self, coordinator: MeterCoordinator, description: MeterSensorDescription) -> None:
        """Bind the description to the meter."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        self._written: tuple[bool, SensorValue] | None = None

    @property
    def available(self) -> bool:
        """Unavailable while the meter is silent; link diagnostics always report."""
        if self.entity_description.link_diagnostic:
            return True
        return (
            self.coordinator.available
            and self.entity_description.key in self.coordinator.data.values
        )

    @property
    def native_value(self) -> SensorValue:
        """The value from the last published message."""
        if self.coordinator.latest is None:
            return None
        return self.entity_description.value_fn(self.coordinator)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when it changed: most registers repeat every telegram."""
        current = (self.available, self.native_value)
        if current == self._written:
            return
        self._written = current
        self.async_write_ha_state()
