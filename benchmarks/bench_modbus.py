"""Modbus bus time at 9600 8N1: scans, coalesced cycles, dead meters (docs/modbus.md).

Method: the real scanner and poller run against the pymodbus-served simulator on loopback
(RTU frames over TCP, as through a transparent gateway), so every request, exception and
timeout is the one the code really makes. The bus's ledger counts them; the wire time of
a scan or a cycle is then computed for a 9600 Bd 8N1 line with the brief's formula,
T(N) = (13 + 2N)·t_char + 2·t3.5 + turnaround, an unanswered request costing its 8 bytes
plus the timeout actually waited (loopback latencies are far below the 0.1 s minimum
timeout, so the waits are those a real line would get). Turnaround: 20 ms per answered
request or exception (the brief's middle column).

Figures are counts and computed times, identical from round to round; the scans (whose
real timeouts take ~25 s of wall time for 1-247) are therefore measured once per process.

Anchors: the AmpX gateway's one request per value (16 per Meatrol meter, computed, as the
firmware cannot run here); for cycles, the lower bound for the same register set: the
optimal cut into blocks of at most 125 registers, holes allowed; for scans, the brief's
goals (10 s for 1-32, 60 s for 1-247); for dead meters, one timeout per dead meter in
every cycle (no backoff). Dead meters: the first CYCLES cycles after 4 of 32 Meatrol
meters go silent, against the 28 healthy meters polled alone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import logging
from typing import Final

from custom_components.energy_gateway.meterlib.modbus.client import ModbusBus, ModbusBusSettings
from custom_components.energy_gateway.meterlib.modbus.planner import plan_reads
from custom_components.energy_gateway.meterlib.modbus.poller import FleetPoller, MeterAssignment
from custom_components.energy_gateway.meterlib.modbus.scanner import scan_units
from custom_components.energy_gateway.meterlib.modbus.schema import MeterMap, load_maps
from custom_components.energy_gateway.meterlib.modbus.wire import LineTiming
from simulators.modbus_fleet import DEMO_MODELS, ModbusFleet

LINE: Final = LineTiming(9600, "N", 1)
TURNAROUND: Final = 0.020
CYCLES: Final = 20
DEAD: Final = 4
_SCANS: dict[str, dict[str, object]] = {}


def _settings(port: int) -> ModbusBusSettings:
    return ModbusBusSettings(
        host="127.0.0.1", port=port, framing="rtu", baudrate=9600, timeout=1.0, min_timeout=0.1
    )


def figure(
    name: str, unit: str, ours: float, anchor: str, anchor_value: float
) -> dict[str, object]:
    return {
        "name": name,
        "unit": unit,
        "ours": round(ours, 3),
        "anchor": anchor,
        "anchor_value": round(anchor_value, 3),
    }


def _lower_bound(meter_map: MeterMap) -> float:
    """Least wire time one cycle of this map can take: the optimal cut into blocks of at
    most 125 registers, holes allowed, at the same line speed and turnaround."""
    overhead = LINE.request_overhead_registers(TURNAROUND)
    blocks = plan_reads(
        meter_map.registers, max_count=125, read_holes=True, request_overhead=overhead
    )
    return sum(LINE.read_time(block.count, TURNAROUND) for block in blocks)


def _one_per_value(meter_map: MeterMap) -> tuple[int, int, float]:
    """Requests, RTU bytes and wire time of reading every value on its own (AmpX, mbmd);
    the Meatrol anchor also re-reads the serial every cycle, as the AmpX firmware does."""
    counts = [spec.count for spec in meter_map.registers]
    serial = meter_map.identification.serial
    if meter_map.id == "meatrol" and serial is not None:
        counts.append(serial.count)
    wire = sum(LINE.read_time(count, TURNAROUND) for count in counts)
    return len(counts), sum(13 + 2 * count for count in counts), wire


async def _scan(addresses: range) -> dict[str, object]:
    """Scan the 32-meter demo fleet (24 present in 1-32, every fourth address empty)."""
    fleet = ModbusFleet.demo(24)
    port = await fleet.start_tcp(framing="rtu")
    bus = ModbusBus(_settings(port))
    try:
        await bus.connect()
        found = await scan_units(bus, addresses)
    finally:
        await bus.close()
        await fleet.stop()
    return {"found": len(found), "wire": bus.ledger.wire_time(LINE, TURNAROUND)}


async def _cycles(
    placement: dict[int, str], *, dead: int = 0
) -> tuple[float, int, int, list[float]]:
    """Poll CYCLES steady-state cycles; return requests and bytes of one healthy cycle and
    the wire time of every cycle. `dead` meters go silent after the first cycle."""
    fleet = ModbusFleet.of_models(placement)
    port = await fleet.start_tcp(framing="rtu")
    bus = ModbusBus(_settings(port))
    times: list[float] = []
    try:
        await bus.connect()
        poller = FleetPoller(bus, [MeterAssignment(a, m) for a, m in placement.items()])
        await poller.poll_cycle()  # first contact: serial numbers, read once
        for meter in list(fleet.meters.values())[:dead]:
            meter.silence()
        requests = bytes_ = 0
        for _ in range(CYCLES):
            bus.ledger.reset()
            await poller.poll_cycle()
            times.append(bus.ledger.wire_time(LINE, TURNAROUND))
            requests, bytes_ = bus.ledger.requests, bus.ledger.bytes
        silent_wait = bus.timeout_for(1, 36)
    finally:
        await bus.close()
        await fleet.stop()
    return silent_wait, requests, bytes_, times


def _cycle_figures(prefix: str, placement: dict[int, str]) -> list[dict[str, object]]:
    maps = load_maps().maps
    _, requests, bytes_, times = asyncio.run(_cycles(placement))
    meters = len(placement)
    wire = sum(times) / len(times)
    anchor = [_one_per_value(maps[model]) for model in placement.values()]
    bound = sum(_lower_bound(maps[model]) for model in placement.values())
    return [
        figure(
            f"{prefix}_requests_per_meter",
            "requests",
            requests / meters,
            "one request per value (AmpX/mbmd)",
            sum(a[0] for a in anchor) / meters,
        ),
        figure(
            f"{prefix}_bytes_per_cycle",
            "bytes",
            bytes_,
            "one request per value (AmpX/mbmd)",
            sum(a[1] for a in anchor),
        ),
        figure(
            f"{prefix}_cycle_wire_s",
            "s",
            wire,
            "one request per value (AmpX/mbmd)",
            sum(a[2] for a in anchor),
        ),
        figure(
            f"{prefix}_cycle_wire_vs_bound_s",
            "s",
            wire,
            "lower bound: optimal blocks, holes allowed",
            bound,
        ),
    ]


def _dead_figure() -> dict[str, object]:
    """How much longer the healthy meters wait between updates because 4 of the 32 are
    dead: the 32-meter cycle with 4 silent against the 28 healthy meters polled alone."""
    placement = dict.fromkeys(range(1, 33), "meatrol")
    healthy_only = {address: model for address, model in placement.items() if address > DEAD}
    _, _, _, baseline = asyncio.run(_cycles(healthy_only))
    wait, _, _, with_dead = asyncio.run(_cycles(placement, dead=DEAD))
    base = sum(baseline) / len(baseline)
    ours = (sum(with_dead) / len(with_dead) - base) / base * 100
    no_backoff = DEAD * LINE.silent_time(wait) / base * 100
    return figure(
        "modbus_dead_4of32_interval_growth",
        "%",
        ours,
        "no backoff: one timeout per dead meter per cycle",
        no_backoff,
    )


def _scan_figure(name: str, addresses: range, goal: float) -> dict[str, object]:
    if name not in _SCANS:
        _SCANS[name] = asyncio.run(_scan(addresses))
    result = _SCANS[name]
    return figure(
        name,
        "s",
        float(result["wire"]),
        f"goal (docs/modbus.md), {result['found']} meters found",
        goal,
    )  # type: ignore[arg-type]


def figures(wanted: Callable[[str], bool]) -> list[dict[str, object]]:
    """The Modbus figures the runner asked for."""
    logging.getLogger("custom_components.energy_gateway.meterlib.modbus").setLevel(logging.ERROR)
    meatrol = dict.fromkeys(range(1, 33), "meatrol")
    mixed = {address: DEMO_MODELS[address % len(DEMO_MODELS)] for address in range(1, 33)}
    results: list[dict[str, object]] = []
    if wanted("modbus_scan_1_32_s"):
        results.append(_scan_figure("modbus_scan_1_32_s", range(1, 33), 10.0))
    if wanted("modbus_scan_1_247_s"):
        results.append(_scan_figure("modbus_scan_1_247_s", range(1, 248), 60.0))
    for prefix, placement in (("modbus_meatrol32", meatrol), ("modbus_mixed32", mixed)):
        if any(
            wanted(f"{prefix}_{suffix}")
            for suffix in (
                "requests_per_meter",
                "bytes_per_cycle",
                "cycle_wire_s",
                "cycle_wire_vs_bound_s",
            )
        ):
            results += _cycle_figures(prefix, placement)
    if wanted("modbus_dead_4of32_interval_growth"):
        results.append(_dead_figure())
    return results
