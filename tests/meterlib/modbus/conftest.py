"""Fixtures for the Modbus tests: a simulated fleet served by pymodbus, and a bus on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib
from typing import Literal

import pytest

from custom_components.energy_gateway.meterlib.modbus.client import ModbusBus, ModbusBusSettings
from simulators.modbus_fleet import ModbusFleet


@pytest.fixture(autouse=True)
def _loopback_sockets(socket_enabled: None) -> None:
    """The simulator listens on loopback TCP: lift the Home Assistant plugin's socket
    guard (it still applies everywhere else)."""


type Transport = Literal["tcp", "rtu", "serial"]

# Short timeouts keep the folder fast. The simulator answers in well under a millisecond,
# but a CI host running two test workers beside it can starve it for a few hundred
# milliseconds (0.1 s was seen to lose a healthy meter's reply).
FAST = {"min_timeout": 0.3, "timeout": 1.0}


@contextlib.asynccontextmanager
async def serving(
    fleet: ModbusFleet, transport: Transport = "tcp", **settings: float
) -> AsyncIterator[ModbusBus]:
    """Serve `fleet` and yield a connected bus on it."""
    options = {**FAST, **settings}
    if transport == "serial":
        path = await fleet.start_serial()
        bus_settings = ModbusBusSettings(serial_port=path, **options)  # type: ignore[arg-type]
    else:
        port = await fleet.start_tcp(framing=transport)
        bus_settings = ModbusBusSettings(  # type: ignore[misc]
            host="127.0.0.1", port=port, framing=transport, **options
        )
    bus = ModbusBus(bus_settings)
    try:
        await bus.connect()
        yield bus
    finally:
        await bus.close()
        await fleet.stop()
