"""Sensors: every value a meter reports, the computed totals and capacity figures, diagnostics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
)
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import StateType

from .coordinator import EnergyGatewayConfigEntry, MeterCoordinator
from .descriptions import Presentation, capacity_tariff_applies, present
from .devices import reported_channels
from .entity import MeterEntity
from .families import extras_of
from .meterlib.core.meaning import (
    CAPACITY_BILLING_MEAN,
    COUNTER_REJECTIONS,
    CRC_FAILURES,
    DECODE_FAILURES,
    MESSAGE_AGE,
    RECONNECTS,
    UNSUPPORTED_LISTS,
    control_state,
    meaning_of,
    tariff_name,
)
from .meterlib.core.model import ReadingValue
from .meterlib.core.obis import mbus_channel
from .meterlib.derive.deriver import MeterData
from .upstream import is_upstream
from .upstream.pusher import UpstreamConfigEntry
from .upstream.sensor import async_setup_upstream_sensors

# Coordinator-driven entities: Home Assistant must not poll or throttle them.
PARALLEL_UPDATES = 0

TARIFF_INDICATOR = "0-0:96.14.0"
AGE_REFRESH = timedelta(seconds=10)

type SensorValue = StateType | datetime


@dataclass(frozen=True, kw_only=True)
class MeterSensorDescription(SensorEntityDescription):
    """A sensor of a meter: where its value comes from and whether it outlives the data."""

    value_fn: Callable[[MeterCoordinator], SensorValue]
    link_diagnostic: bool = False
    """Describes the link itself, so it stays available while the meter is silent."""
    refresh: bool = False
    """Changes with time alone (an age), so it is written on a timer, not only per message."""
    attributes_fn: Callable[[MeterCoordinator], dict[str, Any] | None] | None = None
    """Extra state attributes: the rows of a log (peak history, power failures)."""


def _from_presentation(
    key: str, info: Presentation, value_fn: Callable[[MeterCoordinator], SensorValue]
) -> MeterSensorDescription:
    return MeterSensorDescription(
        key=key,
        translation_key=info.translation_key,
        translation_placeholders=dict(info.placeholders) or None,
        device_class=info.device_class,
        state_class=info.state_class,
        native_unit_of_measurement=info.unit,
        suggested_unit_of_measurement=info.suggested_unit,
        suggested_display_precision=info.precision,
        options=list(info.options) or None,
        entity_category=EntityCategory.DIAGNOSTIC if info.diagnostic else None,
        entity_registry_enabled_default=info.enabled_by_default,
        value_fn=value_fn,
    )


def reading_description(
    key: str, data: MeterData, *, capacity_tariff: bool
) -> MeterSensorDescription:
    """Describe the entity for one published value (an OBIS code or a computed key).

    `capacity_tariff` says whether the capacity figures concern the user (they are created
    disabled where no such tariff is billed; see `capacity_tariff_applies`). Every caller
    says it: a default would let one forget.
    """
    description = _value_description(key, data, capacity_tariff)
    if key == CAPACITY_BILLING_MEAN:
        return replace(description, attributes_fn=_month_peaks)
    reading = data.snapshot.readings.get(key)
    if reading is not None and reading.entries:
        return replace(description, attributes_fn=_log_rows(key))
    return description


def _value_description(key: str, data: MeterData, capacity_tariff: bool) -> MeterSensorDescription:
    value = data.values.get(key)
    meaning = meaning_of(
        key,
        data.units.get(key),
        data.mbus_types.get(mbus_channel(key)),
        text=isinstance(value, str),
        variant=data.snapshot.variant,
    )
    info = present(meaning, capacity_tariff=capacity_tariff)
    if info.device_class == SensorDeviceClass.ENUM:
        return _from_presentation(key, info, _enum_value(key))
    if info.device_class == SensorDeviceClass.TIMESTAMP:
        return _from_presentation(key, info, _timestamp_value(key))
    if isinstance(value, (str, datetime)):
        # Text where the catalogue expects a number (a dialect reusing a code): show the text
        # rather than drop it, without numeric hints Home Assistant would reject.
        text_info = replace(
            info,
            device_class=None,
            state_class=None,
            unit=None,
            precision=None,
            suggested_unit=None,
        )
        return _from_presentation(key, text_info, _plain_value(key))
    return _from_presentation(key, info, _numeric_value(key))


def _numeric_value(key: str) -> Callable[[MeterCoordinator], SensorValue]:
    def value(coordinator: MeterCoordinator) -> SensorValue:
        raw = coordinator.data.values.get(key)
        # A text or time where a number belongs is a meter glitch: show unknown, not garbage.
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            return None
        return raw

    return value


def _timestamp_value(key: str) -> Callable[[MeterCoordinator], SensorValue]:
    def value(coordinator: MeterCoordinator) -> SensorValue:
        raw = coordinator.data.values.get(key)
        return raw if isinstance(raw, datetime) else None

    return value


def _plain_value(key: str) -> Callable[[MeterCoordinator], SensorValue]:
    def value(coordinator: MeterCoordinator) -> SensorValue:
        raw: ReadingValue = coordinator.data.values.get(key)
        return raw.isoformat() if isinstance(raw, datetime) else raw

    return value


def _enum_value(key: str) -> Callable[[MeterCoordinator], SensorValue]:
    def value(coordinator: MeterCoordinator) -> SensorValue:
        raw = coordinator.data.values.get(key)
        if key == TARIFF_INDICATOR:
            return tariff_name(coordinator.data.snapshot.variant, raw)
        return control_state(raw)

    return value


def _month_peaks(coordinator: MeterCoordinator) -> dict[str, Any] | None:
    """The month peaks the billing mean is built from, newest first."""
    capacity = coordinator.data.capacity
    if capacity is None:
        return None
    return {
        "months": [
            {
                "month": peak.month.strftime("%Y-%m"),
                "peak_kw": peak.kw,
                "peak_start": peak.start.isoformat() if peak.start else None,
            }
            for peak in capacity.history
        ]
    }


def _log_rows(key: str) -> Callable[[MeterCoordinator], dict[str, Any] | None]:
    """The rows of a log line as the meter sent them (times as ISO text)."""

    def rows(coordinator: MeterCoordinator) -> dict[str, Any] | None:
        reading = coordinator.data.snapshot.readings.get(key)
        if reading is None:
            return None
        return {
            "entries": [
                [cell.isoformat() if isinstance(cell, datetime) else cell for cell in row]
                for row in reading.entries
            ]
        }

    return rows


def _link_description(
    key: str, value_fn: Callable[[MeterCoordinator], SensorValue], *, refresh: bool = False
) -> MeterSensorDescription:
    description = _from_presentation(key, present(meaning_of(key)), value_fn)
    return replace(description, link_diagnostic=True, refresh=refresh)


def _message_age(coordinator: MeterCoordinator) -> SensorValue:
    age = coordinator.message_age()
    return None if age is None else int(age)


LINK_DESCRIPTIONS: tuple[MeterSensorDescription, ...] = (
    _link_description(MESSAGE_AGE, _message_age, refresh=True),
    _link_description(CRC_FAILURES, lambda coordinator: coordinator.session.stats.crc_failures),
    _link_description(
        DECODE_FAILURES, lambda coordinator: coordinator.session.stats.decode_failures
    ),
    _link_description(RECONNECTS, lambda coordinator: coordinator.session.stats.reconnects),
    _link_description(
        COUNTER_REJECTIONS, lambda coordinator: coordinator.session.counter_rejections
    ),
)

UNSUPPORTED_LISTS_DESCRIPTION = _link_description(
    UNSUPPORTED_LISTS, lambda coordinator: coordinator.unsupported_lists.count
)
"""Messages whose list the decoder does not understand (see `unsupported_lists`)."""


async def async_setup_entry(
    hass: HomeAssistant,
    entry: EnergyGatewayConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Create a sensor for every value the meter reports, and more as new values appear."""
    if is_upstream(entry.data):
        upstream = cast(UpstreamConfigEntry, entry)
        await async_setup_upstream_sensors(hass, upstream, async_add_entities)
        return
    runtime = entry.runtime_data
    if runtime.add_sensors is not None:  # a Modbus bus: one device per meter
        runtime.add_sensors(async_add_entities)
        return
    coordinator = runtime.coordinator
    assert isinstance(coordinator, MeterCoordinator)
    known: set[str] = set()

    @callback
    def add_new_entities() -> None:
        data = coordinator.latest
        if data is None:
            return
        pending = [key for key in data.values if key not in known]
        if not pending:
            return
        # Keys of an announced but empty sub-meter wait until it reports values.
        channels = reported_channels(data)
        new_keys = [key for key in pending if mbus_channel(key) in channels]
        if not new_keys:
            return
        known.update(new_keys)
        capacity_tariff = capacity_tariff_applies(hass.config.country, data.snapshot.variant)
        async_add_entities(
            MeterSensor(
                coordinator, reading_description(key, data, capacity_tariff=capacity_tariff)
            )
            for key in new_keys
        )

    # The coordinator registered the meter's devices with its first data.
    add_new_entities()
    async_add_entities(MeterSensor(coordinator, description) for description in LINK_DESCRIPTIONS)
    if extras_of(entry.data).reports_unsupported_lists:
        async_add_entities([MeterSensor(coordinator, UNSUPPORTED_LISTS_DESCRIPTION)])
    entry.async_on_unload(coordinator.async_add_listener(add_new_entities))


class ChangeOnlySensor(SensorEntity):
    """A sensor that works out availability, value and attributes once per update and
    writes its state only when one of them changed (most registers repeat every message)."""

    _attributes: dict[str, Any] | None = None

    @property
    def available(self) -> bool:
        """As last worked out (see `_keep`)."""
        return self._attr_available

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """Rows of a log or the month peaks, for the few sensors that have them."""
        return self._attributes

    def _keep(self, available: bool, value: SensorValue, attributes: dict[str, Any] | None) -> bool:
        """Take the new state; True when it differs from the one shown."""
        if (available, value, attributes) == (
            self._attr_available,
            self._attr_native_value,
            self._attributes,
        ):
            return False
        self._attr_available = available
        self._attr_native_value = value
        self._attributes = attributes
        return True


class MeterSensor(ChangeOnlySensor, MeterEntity):
    """One value of a meter."""

    entity_description: MeterSensorDescription

    def __init__(self, coordinator: MeterCoordinator, description: MeterSensorDescription) -> None:
        """Bind the description to the meter and take the current value."""
        super().__init__(coordinator, description.key)
        self.entity_description = description
        self._refresh_attributes()

    async def async_added_to_hass(self) -> None:
        """Subscribe to the coordinator, and to a timer for values that age."""
        await super().async_added_to_hass()
        if self.entity_description.refresh:
            self.async_on_remove(
                async_track_time_interval(
                    self.hass, lambda _now: self._handle_coordinator_update(), AGE_REFRESH
                )
            )

    def _refresh_attributes(self) -> bool:
        """Compute availability and value once per message; True when either changed."""
        description = self.entity_description
        coordinator = self.coordinator
        if description.link_diagnostic:
            available = True
        else:
            data = coordinator.latest
            available = (
                coordinator.available and data is not None and description.key in data.values
            )
        has_data = coordinator.latest is not None
        value = description.value_fn(coordinator) if has_data else None
        attributes = (
            description.attributes_fn(coordinator)
            if has_data and description.attributes_fn is not None
            else None
        )
        return self._keep(available, value, attributes)

    @callback
    def _handle_coordinator_update(self) -> None:
        """Write the state only when it changed: most registers repeat every telegram."""
        description = self.entity_description
        if (
            description.key not in self.coordinator.changed_keys
            and not description.link_diagnostic
            and description.attributes_fn is None
            and self._attr_available == self.coordinator.available
        ):
            return
        if self._refresh_attributes():
            self.async_write_ha_state()
