"""The coordinator of a Modbus bus: one per config entry, polling every meter on the bus.

A bus carries many meters, so where a `MeterCoordinator` holds one meter's session this
one holds the bus, the library's `FleetPoller` and one `Deriver` per meter (each meter has
its own counter guard and capacity figures). Its data maps each unit address to that
meter's latest `MeterData`, plus which meters answer: a dead meter keeps its last data but
only its own entities go unavailable. The poller logs a meter going silent and coming back
once each; the whole bus fails an update only when no meter answers at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.storage import Store
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..const import CONF_POLL_INTERVAL, DOMAIN, LOGGER
from ..meterlib.core.errors import LinkError
from ..meterlib.derive.deriver import Deriver, MeterData
from ..meterlib.modbus.client import ModbusBus
from ..meterlib.modbus.family import link_kind
from ..meterlib.modbus.poller import FleetPoller
from ..meterlib.modbus.scanner import FoundMeter, scan_units
from ..meterlib.modbus.schema import MapCatalogue
from ..upstream.const import SIGNAL_SNAPSHOT
from .settings import (
    ConfiguredMeter,
    assignments,
    async_load_catalogue,
    bus_settings,
    configured_meters,
)

DEFAULT_FLEET_POLL_INTERVAL = 5
"""Seconds from the end of one cycle to the start of the next (a 32-meter line at 9600 baud
needs 6 to 9 s for a cycle, depending on the models: see benchmarks/bench_modbus.py)."""
_CAPACITY_SAVE_DELAY = 60
_STORAGE_VERSION = 1


@dataclass(frozen=True, slots=True)
class FleetData:
    """What the entities of a bus show after a cycle."""

    meters: Mapping[int, MeterData] = field(default_factory=dict)
    """Latest data of every meter that ever answered, by unit address."""
    alive: frozenset[int] = frozenset()
    """Meters that answer now; the others' entities are unavailable."""


def meter_device_identifier(entry: ConfigEntry, address: int) -> tuple[str, str]:
    """Registry identifier of the meter at `address` on the entry's bus."""
    return (DOMAIN, f"{entry.unique_id or entry.entry_id}_unit_{address}")


class FleetCoordinator(DataUpdateCoordinator[FleetData]):
    """Polls every configured meter of one Modbus bus on the update interval."""

    config_entry: ConfigEntry

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry) -> None:
        """Read the entry; the bus opens on the first cycle."""
        interval = float(entry.options.get(CONF_POLL_INTERVAL, DEFAULT_FLEET_POLL_INTERVAL))
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} {entry.title}",
            update_interval=timedelta(seconds=interval),
        )
        self.settings = bus_settings(entry.data)
        self.meters: list[ConfiguredMeter] = configured_meters(entry.data)
        self._model_names = {meter.address: meter.model_name for meter in self.meters}
        self.catalogue = MapCatalogue()
        self.bus = ModbusBus(self.settings, self.catalogue)
        self.poller = FleetPoller(self.bus, [])
        self._derivers: dict[int, Deriver] = {}
        self._latest: dict[int, MeterData] = {}
        self._last_answer: dict[int, float] = {}
        self._registered: dict[int, tuple[str | None, ...]] = {}
        self._store: Store[dict[str, Any]] = Store(
            hass, _STORAGE_VERSION, f"{DOMAIN}.{entry.entry_id}.capacity"
        )
        self.last_error: str | None = None
        self.reconnects = 0
        self.cycles = 0
        """Cycles finished, good or not."""
        self._ever_connected = False

    @property
    def link_description(self) -> str:
        """The bus in one line, e.g. `modbus rtu 192.0.2.7:502`."""
        settings = self.settings
        kind = link_kind(settings)
        if kind == "serial":
            line = f"{settings.baudrate} 8{settings.parity}{settings.stopbits}"
            return f"modbus {kind} {settings.target} {line}"
        return f"modbus {kind} {settings.target}"

    async def _async_setup(self) -> None:
        """Load the maps (the user's too), plan the reads and restore the capacity history."""
        self.catalogue = await async_load_catalogue(self.hass)
        self.bus = ModbusBus(self.settings, self.catalogue)
        self.poller = FleetPoller(self.bus, assignments(self.meters, self.catalogue))
        missing = [m for m in self.meters if m.model not in self.catalogue.maps]
        for meter in missing:
            LOGGER.error(
                "%s: no register map %r for unit %s; it is not read",
                self.name,
                meter.model,
                meter.address,
            )
        saved = await self._store.async_load() or {}
        time_zone = dt_util.get_default_time_zone()
        for address in self.poller.meters:
            deriver = Deriver(time_zone)
            deriver.restore_capacity(saved.get(str(address)))
            self._derivers[address] = deriver

    async def async_shutdown(self) -> None:
        """Close the bus and save the capacity history."""
        await super().async_shutdown()
        await self.bus.close()
        await self._store.async_save(self._saved_state())

    async def _async_update_data(self) -> FleetData:
        """One cycle over the bus."""
        try:
            return await self._cycle()
        finally:
            self.cycles += 1

    async def _cycle(self) -> FleetData:
        try:
            await self._ensure_connected()
            snapshots = await self.poller.poll_cycle()
        except LinkError as err:
            self.last_error = str(err)
            if not self.bus.connected:
                await self.bus.close()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="no_data",
                translation_placeholders={"link": self.link_description, "error": str(err)},
            ) from err
        now = dt_util.now()
        loop_time = self.hass.loop.time()
        entry_id = self.config_entry.entry_id
        for address, snapshot in snapshots.items():
            self._latest[address] = self._derivers[address].derive(snapshot, now)
            self._last_answer[address] = loop_time
            # The upstream portal push (if set up) stores every meter's snapshot.
            async_dispatcher_send(self.hass, SIGNAL_SNAPSHOT, entry_id, snapshot, str(address))
        self._register_devices()
        self._store.async_delay_save(self._saved_state, _CAPACITY_SAVE_DELAY)
        alive = frozenset(a for a, state in self.poller.meters.items() if state.alive)
        return FleetData(meters=dict(self._latest), alive=alive)

    async def _ensure_connected(self) -> None:
        if self.bus.connected:
            return
        await self.bus.close()
        await self.bus.connect()
        if self._ever_connected:
            self.reconnects += 1
        self._ever_connected = True

    async def async_scan(self, addresses: range) -> list[FoundMeter]:
        """Scan `addresses` on the running bus (between the poll's requests); raises
        LinkError when the bus cannot be used."""
        await self._ensure_connected()
        return await scan_units(self.bus, addresses)

    def meter_available(self, address: int) -> bool:
        """True while the meter at `address` answers."""
        return self.last_update_success and address in self.data.alive

    def answer_age(self, address: int) -> float | None:
        """Seconds since the meter at `address` last answered."""
        last = self._last_answer.get(address)
        return None if last is None else self.hass.loop.time() - last

    def counter_rejections(self, address: int) -> int:
        """Counter values of the meter held back as implausible."""
        deriver = self._derivers.get(address)
        return deriver.counter_rejections if deriver is not None else 0

    def is_removed_meter(self, device: dr.DeviceEntry) -> bool:
        """True for a device of a meter no longer configured on the bus."""
        entry = self.config_entry
        configured = {meter_device_identifier(entry, meter.address) for meter in self.meters}
        return not device.identifiers & configured

    def _register_devices(self) -> None:
        """One device per meter; refreshed only when what it says of itself changes."""
        registry = dr.async_get(self.hass)
        entry = self.config_entry
        names = self._model_names
        for address, state in self.poller.meters.items():
            meter_map = state.meter_map
            model = names.get(address) or meter_map.name
            facts = (meter_map.manufacturer, model, state.serial)
            if address not in self._latest or self._registered.get(address) == facts:
                continue
            self._registered[address] = facts
            short = names.get(address) or "meter"
            registry.async_get_or_create(
                config_entry_id=entry.entry_id,
                identifiers={meter_device_identifier(entry, address)},
                name=f"{meter_map.manufacturer} {short} #{address}",
                manufacturer=meter_map.manufacturer,
                model=model,
                serial_number=state.serial,
            )

    def _saved_state(self) -> dict[str, Any]:
        return {str(address): d.capacity_dict() for address, d in self._derivers.items()}
