"""Modbus meter fleets: register maps, decoding, read planning, scanning and polling.

RS485 lines (Modbus RTU), Modbus TCP meters and RTU-over-TCP gateways with up to 247 meters,
found and identified from the register maps in `maps/`, polled with coalesced reads.

    bus = ModbusBus(ModbusBusSettings(serial_port="/dev/ttyUSB0", baudrate=9600))
    await bus.connect()                      # LinkError subclasses, one-line reason
    found = await scan_units(bus, range(1, 33))     # [FoundMeter(address, model, serial, ...)]
    poller = FleetPoller(bus, [MeterAssignment(m.address, m.model) for m in found if m.model])
    snapshots = await poller.poll_cycle()    # {address: Snapshot}; absent = no data
    poller.diagnostics()
"""

from __future__ import annotations

from .client import ModbusBus, ModbusBusSettings
from .poller import FleetPoller, MeterAssignment, MeterState
from .scanner import FoundMeter
from .schema import MapCatalogue, MapError, MeterMap, load_maps

__all__ = [
    "FleetPoller",
    "FoundMeter",
    "MapCatalogue",
    "MapError",
    "MeterAssignment",
    "MeterMap",
    "MeterState",
    "ModbusBus",
    "ModbusBusSettings",
    "load_maps",
]
