"""Devices of a meter: the meter itself and one per M-Bus sub-meter (gas, water, heat)."""

from __future__ import annotations

from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

from .const import DOMAIN
from .coordinator import EnergyGatewayConfigEntry
from .meterlib.core.manufacturers import manufacturer_from_flag
from .meterlib.core.meaning import mbus_kind
from .meterlib.core.model import Snapshot
from .meterlib.derive.deriver import MeterData

_VERSION_CODES = ("1-3:0.2.8", "0-0:96.1.4")


def channel_of(key: str) -> int:
    """M-Bus channel an entity key belongs to (0 for the electricity meter itself)."""
    if key.startswith("0-") and key[2:3].isdigit() and key[3:4] == ":" and key[2] != "0":
        return int(key[2])
    return 0


def device_identifier(entry: EnergyGatewayConfigEntry, channel: int) -> tuple[str, str]:
    """Registry identifier of the meter (channel 0) or one of its sub-meters."""
    unique_id = entry.unique_id or entry.entry_id
    return (DOMAIN, unique_id if channel == 0 else f"{unique_id}_mbus_{channel}")


def device_info(entry: EnergyGatewayConfigEntry, channel: int) -> DeviceInfo:
    """The device an entity belongs to; details are filled in by `register_devices`."""
    return DeviceInfo(identifiers={device_identifier(entry, channel)})


def register_devices(
    entry: EnergyGatewayConfigEntry, registry: dr.DeviceRegistry, data: MeterData
) -> None:
    """Create or refresh the meter's devices and link sub-meters to the meter."""
    snapshot = data.snapshot
    version = next(
        (str(snapshot.value(code)) for code in _VERSION_CODES if snapshot.value(code) is not None),
        None,
    )
    meter = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={device_identifier(entry, 0)},
        name=entry.title,
        # P1 headers start with a FLAG id; DLMS snapshots carry the manufacturer's name and
        # the meter's list identifier instead.
        manufacturer=manufacturer_from_flag(snapshot.header)
        or (snapshot.header if _is_dlms(snapshot) else None),
        model=snapshot.variant if _is_dlms(snapshot) else snapshot.header,
        serial_number=snapshot.meter_id,
        sw_version=version,
    )
    channels = {channel_of(key) for key in data.values} | set(data.mbus_types)
    channels.discard(0)
    for channel in sorted(channels):
        mbus_type = data.mbus_types.get(channel)
        equipment = next(
            (
                str(snapshot.value(f"0-{channel}:{code}"))
                for code in ("96.1.0", "96.1.1")
                if snapshot.value(f"0-{channel}:{code}")
            ),
            None,
        )
        sub_meter = registry.async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={device_identifier(entry, channel)},
            translation_key=f"mbus_{mbus_kind(mbus_type)}",
            translation_placeholders={"channel": str(channel), "meter": entry.title},
            serial_number=equipment,
        )
        # `via_device` in DeviceInfo is deprecated from 2026.8 and `via_device_id` does not
        # exist in 2025.4; updating the registry entry works on both.
        if sub_meter.via_device_id != meter.id:
            registry.async_update_device(sub_meter.id, via_device_id=meter.id)


def _is_dlms(snapshot: Snapshot) -> bool:
    return snapshot.format.endswith("dlms")


def is_stale_device(entry: EnergyGatewayConfigEntry, device: dr.DeviceEntry) -> bool:
    """True for a sub-meter the meter's latest telegram no longer mentions."""
    data = entry.runtime_data.coordinator.latest
    reported = {device_identifier(entry, 0)}
    if data is not None:
        reported |= {device_identifier(entry, channel_of(key)) for key in data.values}
    return not device.identifiers & reported
