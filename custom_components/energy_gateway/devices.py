"""Devices of a meter: the meter itself and one per M-Bus sub-meter (gas, water, heat).

The coordinator registers them as data arrives, before any platform adds entities to them.
"""

from __future__ import annotations

from homeassistant.config_entries import ConfigEntry
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from .const import DOMAIN
from .meterlib.core.ids import decode_hex_ascii
from .meterlib.core.meaning import mbus_kind
from .meterlib.core.obis import mbus_channel, sub_meter_code
from .meterlib.derive.deriver import MeterData

_VERSION_CODES = ("1-3:0.2.8", "0-0:96.1.4")
_EQUIPMENT_GROUPS = ("96.1.0", "96.1.1")
_DEVICE_TYPE_GROUPS = "24.1.0"


def device_identifier(entry: ConfigEntry, channel: int) -> tuple[str, str]:
    """Registry identifier of the meter (channel 0) or one of its sub-meters."""
    unique_id = entry.unique_id or entry.entry_id
    return (DOMAIN, unique_id if channel == 0 else f"{unique_id}_mbus_{channel}")


def device_info(entry: ConfigEntry, key: str) -> DeviceInfo:
    """The device the entity for `key` belongs to (registered by `register_devices`)."""
    return DeviceInfo(identifiers={device_identifier(entry, mbus_channel(key))})


def reported_channels(data: MeterData) -> frozenset[int]:
    """0 for the meter itself, and every sub-meter (M-Bus channel) that reports a value.

    Meters also announce empty channels (`0-2:24.1.0(003)` with `0-2:96.1.0()` and nothing
    else): their device type alone is no sub-meter, and a device for it would stay empty.
    """
    channels = {0}
    for key, value in data.values.items():
        channel = mbus_channel(key)
        if channel in channels or value in (None, ""):
            continue
        if key != sub_meter_code(channel, _DEVICE_TYPE_GROUPS):  # not the bare announcement
            channels.add(channel)
    return frozenset(channels)


def meter_name(entry: ConfigEntry) -> str:
    """The meter device's name: the entry title without the meter id that ends it.

    Entity ids are made of the device name and the entity name; the id belongs on the
    device as its serial number, not in every entity id.
    """
    title = entry.title
    if entry.unique_id and title.endswith(f" {entry.unique_id}"):
        return title.removesuffix(f" {entry.unique_id}")
    return title


def register_meter(registry: dr.DeviceRegistry, entry: ConfigEntry) -> None:
    """Create the meter's device before its first message (its link entities sit on it)."""
    registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={device_identifier(entry, 0)},
        name=meter_name(entry),
    )


def register_devices(registry: dr.DeviceRegistry, entry: ConfigEntry, data: MeterData) -> None:
    """Create or refresh the meter's devices and link sub-meters to the meter."""
    channels = reported_channels(data)
    snapshot = data.snapshot
    version = next(
        (str(snapshot.value(code)) for code in _VERSION_CODES if snapshot.value(code) is not None),
        None,
    )
    meter = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={device_identifier(entry, 0)},
        name=meter_name(entry),
        manufacturer=snapshot.manufacturer,
        model=snapshot.model,
        serial_number=snapshot.meter_id,
        sw_version=version,
    )
    for channel in sorted(channels - {0}):
        equipment = next(
            (
                decode_hex_ascii(str(value))
                for groups in _EQUIPMENT_GROUPS
                if (value := snapshot.value(sub_meter_code(channel, groups)))
            ),
            None,
        )
        sub_meter = registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={device_identifier(entry, channel)},
            translation_key=f"mbus_{mbus_kind(data.mbus_types.get(channel))}",
            translation_placeholders={"channel": str(channel)},
            serial_number=equipment,
        )
        # `via_device` in DeviceInfo is deprecated from 2026.8 and `via_device_id` does not
        # exist in 2025.4; updating the registry entry works on both.
        if sub_meter.via_device_id != meter.id:
            registry.async_update_device(sub_meter.id, via_device_id=meter.id)


def is_stale_device(entry: ConfigEntry, device: dr.DeviceEntry, data: MeterData | None) -> bool:
    """True for a sub-meter the meter's latest data no longer mentions."""
    reported = {device_identifier(entry, 0)}
    if data is not None:
        reported |= {device_identifier(entry, channel) for channel in reported_channels(data)}
    return not device.identifiers & reported
