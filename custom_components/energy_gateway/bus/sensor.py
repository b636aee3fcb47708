"""Sensors of a Modbus bus: every value of every meter, each bound to its meter's device.

The descriptions are the single-meter ones (`sensor.reading_description`), so a value of a
Modbus meter looks exactly like the same OBIS value of any other meter; only the data they
read and the availability are per meter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, cast

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from ..descriptions import capacity_tariff_applies
from ..meterlib.core.meaning import COUNTER_REJECTIONS, MESSAGE_AGE
from ..meterlib.derive.deriver import MeterData
from ..sensor import ChangeOnlySensor, MeterSensorDescription, SensorValue, reading_description
from .coordinator import FleetCoordinator, meter_device_identifier

if TYPE_CHECKING:
    from ..coordinator import MeterCoordinator

AGE_REFRESH = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class _MeterView:
    """One meter of the bus, seen the way a description's `value_fn` reads a coordinator:
    through `data` (its `MeterData`)."""

    coordinator: FleetCoordinator
    address: int

    @property
    def data(self) -> MeterData:
        return self.coordinator.data.meters[self.address]


type _MeterValue = Callable[[FleetCoordinator, int], SensorValue]


def _meter_diagnostics(data: MeterData) -> tuple[tuple[MeterSensorDescription, _MeterValue], ...]:
    """Per meter: seconds since it last answered, counter values held back."""

    def age(coordinator: FleetCoordinator, address: int) -> SensorValue:
        seconds = coordinator.answer_age(address)
        return None if seconds is None else int(seconds)

    def rejections(coordinator: FleetCoordinator, address: int) -> SensorValue:
        return coordinator.counter_rejections(address)

    # Link figures, never capacity ones: the tariff does not change them.
    return (
        (reading_description(MESSAGE_AGE, data, capacity_tariff=False), age),
        (reading_description(COUNTER_REJECTIONS, data, capacity_tariff=False), rejections),
    )


def async_add_fleet_sensors(
    entry: ConfigEntry,
    coordinator: FleetCoordinator,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create the entities of every meter as its values appear (a meter dead at start-up
    gets its entities when it first answers)."""
    known: set[tuple[int, str]] = set()

    @callback
    def add_new_entities() -> None:
        new: list[FleetMeterSensor] = []
        for address, data in coordinator.data.meters.items():
            if (address, MESSAGE_AGE) not in known:
                for description, value in _meter_diagnostics(data):
                    known.add((address, description.key))
                    new.append(FleetMeterSensor(coordinator, address, description, value))
            fresh = [key for key in data.values if (address, key) not in known]
            if not fresh:  # every cycle of a settled bus
                continue
            capacity_tariff = capacity_tariff_applies(
                coordinator.hass.config.country, data.snapshot.variant
            )
            for key in fresh:
                known.add((address, key))
                description = reading_description(key, data, capacity_tariff=capacity_tariff)
                new.append(FleetMeterSensor(coordinator, address, description))
        if new:
            async_add_entities(new)

    add_new_entities()
    entry.async_on_unload(coordinator.async_add_listener(add_new_entities))


class FleetMeterSensor(ChangeOnlySensor, CoordinatorEntity[FleetCoordinator]):
    """One value of one meter on a bus."""

    _attr_has_entity_name = True
    entity_description: MeterSensorDescription

    def __init__(
        self,
        coordinator: FleetCoordinator,
        address: int,
        description: MeterSensorDescription,
        meter_value: _MeterValue | None = None,
    ) -> None:
        """Bind the description to the meter at `address`; `meter_value` marks a diagnostic
        of the meter's link, which stays available while the meter is silent."""
        super().__init__(coordinator)
        entry = coordinator.config_entry
        self.address = address
        self.entity_description = description
        self._meter_value = meter_value
        self._attr_unique_id = f"{entry.unique_id}_{address}_{description.key}"
        self._attr_device_info = DeviceInfo(identifiers={meter_device_identifier(entry, address)})
        # The descriptions read a coordinator's `data`; the view offers this meter's.
        self._view = cast("MeterCoordinator", _MeterView(coordinator, address))
        self._refresh()

    async def async_added_to_hass(self) -> None:
        """Subscribe to the coordinator, and to a timer for the answer age."""
        await super().async_added_to_hass()
        if self._meter_value is not None:
            self.async_on_remove(
                async_track_time_interval(
                    self.hass, lambda _now: self._handle_coordinator_update(), AGE_REFRESH
                )
            )

    def _refresh(self) -> bool:
        """Compute availability, value and attributes; True when any changed."""
        coordinator = self.coordinator
        description = self.entity_description
        if self._meter_value is not None:
            available = True
            value = self._meter_value(coordinator, self.address)
            attributes = None
        else:
            data = coordinator.data.meters.get(self.address)
            available = (
                data is not None
                and coordinator.meter_available(self.address)
                and description.key in data.values
            )
            value = description.value_fn(self._view) if data is not None else None
            attributes_fn = description.attributes_fn
            attributes = attributes_fn(self._view) if data is not None and attributes_fn else None
        return self._keep(available, value, attributes)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when it changed: most registers repeat every cycle."""
        if self._refresh():
            self.async_write_ha_state()
