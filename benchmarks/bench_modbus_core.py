"""One poll cycle of a 32-meter fleet: ours against Home Assistant core's `modbus` integration.

Both read the same simulated fleet (`ModbusFleet.of_models`, the mixed demo models at
addresses 1-32, served by pymodbus as RTU frames over TCP, as through a transparent
gateway) for every register of the same maps.

- Ours: the library's `FleetPoller` (what the Home Assistant side runs each cycle), counted
  by the bus's ledger after the first cycle (which also reads the serial numbers).
- Core: the `modbus` integration configured the way its documentation shows, one YAML
  `sensors:` item per value (`slave`, `address`, `input_type`, `data_type`, `swap`,
  `scale`), loaded into a fresh in-process Home Assistant. Each entity polls on its own
  timer; one cycle is one tick of the common scan interval. Its requests are counted at
  the simulator (every request a meter received), and its reads are one per sensor, of the
  sensor's own width, so its wire time is that of those reads.

Wire times are computed for a 9600 Bd 8N1 line as in `bench_modbus` (the same formula, the
same 20 ms turnaround per answer). Home Assistant 2025.4's core `modbus` calls pymodbus
with `slave=`, which the installed pymodbus (3.16) renamed `device_id=`: the benchmark
renames that one keyword on the way, nothing else.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
import contextlib
from datetime import timedelta
import functools
import inspect
import logging
import tempfile
from typing import Any, Final

from bench_modbus import LINE, TURNAROUND, figure

from custom_components.energy_gateway.meterlib.modbus.client import ModbusBus, ModbusBusSettings
from custom_components.energy_gateway.meterlib.modbus.poller import FleetPoller, MeterAssignment
from custom_components.energy_gateway.meterlib.modbus.schema import DataType, MeterMap, load_maps
from simulators.modbus_fleet import DEMO_MODELS, ModbusFleet

SCAN_INTERVAL: Final = 600
"""Core's timers tick only when the benchmark moves the clock."""
PLACEMENT: Final = {address: DEMO_MODELS[address % len(DEMO_MODELS)] for address in range(1, 33)}
_CORE_TYPES: Final = {
    DataType.U16: "uint16",
    DataType.S16: "int16",
    DataType.U32: "uint32",
    DataType.S32: "int32",
    DataType.U64: "uint64",
    DataType.S64: "int64",
    DataType.F32: "float32",
    DataType.F64: "float64",
}


def core_sensors(placement: dict[int, str], maps: dict[str, MeterMap]) -> list[dict[str, Any]]:
    """The YAML `sensors:` list core's documentation leads to: one item per value."""
    sensors = []
    for address, model in placement.items():
        for spec in maps[model].registers:
            item: dict[str, Any] = {
                "name": f"unit {address} {spec.name}",
                "slave": address,
                "address": spec.address,
                "input_type": "holding" if spec.fc == 3 else "input",
                "data_type": _CORE_TYPES[spec.data_type],
                "scale": spec.scale,
                "precision": 3,
                "scan_interval": SCAN_INTERVAL,
            }
            if spec.word_order == "little" and spec.count > 1:
                item["swap"] = "word"
            if spec.unit:
                item["unit_of_measurement"] = spec.unit
            sensors.append(item)
    return sensors


async def _ours(placement: dict[int, str]) -> tuple[int, float]:
    """Requests and wire time of one steady cycle of our poller."""
    fleet = ModbusFleet.of_models(placement)
    port = await fleet.start_tcp(framing="rtu")
    bus = ModbusBus(ModbusBusSettings(host="127.0.0.1", port=port, framing="rtu"))
    try:
        await bus.connect()
        poller = FleetPoller(bus, [MeterAssignment(a, m) for a, m in placement.items()])
        await poller.poll_cycle()  # first contact: serial numbers, read once
        bus.ledger.reset()
        await poller.poll_cycle()
        return bus.ledger.requests, bus.ledger.wire_time(LINE, TURNAROUND)
    finally:
        await bus.close()
        await fleet.stop()


@contextlib.contextmanager
def _unit_keyword_renamed() -> Iterator[None]:
    """Let core's `slave=` reach a pymodbus that only knows `device_id=`."""
    from pymodbus.client.mixin import ModbusClientMixin

    names = ("read_holding_registers", "read_input_registers")
    originals = {name: getattr(ModbusClientMixin, name) for name in names}
    if "device_id" not in inspect.signature(originals[names[0]]).parameters:
        yield
        return

    def renamed(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            if "slave" in kwargs:
                kwargs["device_id"] = kwargs.pop("slave")
            return method(self, *args, **kwargs)

        return call

    try:
        for name, method in originals.items():
            setattr(ModbusClientMixin, name, renamed(method))
        yield
    finally:
        for name, method in originals.items():
            setattr(ModbusClientMixin, name, method)


async def _settled(fleet: ModbusFleet, expected: int | None = None) -> int:
    """Wait until the fleet has received `expected` requests (or, without it, until no
    request arrived for half a second); return the count."""
    last, quiet = fleet.requests, 0
    for _ in range(3000):
        await asyncio.sleep(0.01)
        count = fleet.requests
        if expected is not None and count >= expected:
            await asyncio.sleep(0.2)
            return fleet.requests
        quiet = quiet + 1 if count == last else 0
        last = count
        if expected is None and quiet >= 50:
            return count
    raise RuntimeError(f"bench_modbus_core: core stopped at {fleet.requests} requests")


async def _core(placement: dict[int, str], sensors: list[dict[str, Any]]) -> int:
    """Requests core's `modbus` sends in one tick of its scan interval."""
    from homeassistant.helpers import frame
    from homeassistant.setup import async_setup_component
    from homeassistant.util import dt as dt_util
    from pytest_homeassistant_custom_component.common import (
        async_fire_time_changed,
        async_test_home_assistant,
    )

    fleet = ModbusFleet.of_models(placement)
    port = await fleet.start_tcp(framing="rtu")
    hub = {
        "name": "fleet",
        "type": "rtuovertcp",
        "host": "127.0.0.1",
        "port": port,
        "timeout": 1,
        "sensors": sensors,
    }
    try:
        with tempfile.TemporaryDirectory() as config_dir, _unit_keyword_renamed():
            async with async_test_home_assistant(config_dir=config_dir) as hass:
                frame.async_setup(hass)
                if not await async_setup_component(hass, "modbus", {"modbus": [hub]}):
                    raise RuntimeError("bench_modbus_core: core modbus did not set up")
                await hass.async_block_till_done()
                before = await _settled(fleet)  # the first reads after setup
                async_fire_time_changed(
                    hass, dt_util.utcnow() + timedelta(seconds=SCAN_INTERVAL + 1)
                )
                after = await _settled(fleet, before + len(sensors))
                await hass.async_stop(force=True)
                return after - before
    finally:
        await fleet.stop()


def figures(wanted: Callable[[str], bool]) -> list[dict[str, object]]:
    """Requests and wire time of one cycle, ours against core `modbus`."""
    names = ("modbus_core_requests_per_cycle", "modbus_core_cycle_wire_s")
    if not any(wanted(name) for name in names):
        return []
    logging.getLogger("custom_components.energy_gateway.meterlib.modbus").setLevel(logging.ERROR)
    logging.getLogger("homeassistant.components.modbus").setLevel(logging.CRITICAL)
    maps = load_maps().maps
    sensors = core_sensors(PLACEMENT, maps)
    requests, wire = asyncio.run(_ours(PLACEMENT))
    core_requests = asyncio.run(_core(PLACEMENT, sensors))
    widths = [spec.count for model in PLACEMENT.values() for spec in maps[model].registers]
    core_wire = sum(LINE.read_time(count, TURNAROUND) for count in widths)
    if core_requests != len(sensors):
        raise RuntimeError(
            f"bench_modbus_core: core sent {core_requests} requests for {len(sensors)} sensors"
        )
    anchor = "Home Assistant core modbus, YAML, one sensor per value"
    return [
        figure(names[0], "requests", requests, anchor, core_requests),
        figure(names[1], "s", wire, anchor, core_wire),
    ]


if __name__ == "__main__":
    for figure in figures(lambda _name: True):
        print(figure)
