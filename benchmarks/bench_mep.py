"""MEP client: poll cycle against the simulated meter over TCP, digest cost, corruption run.

No Python MEP client that verifies response digests exists to compare with (the open ESP32
firmwares and the Home Assistant add-on built on them never check them), so the anchors are
budgets instead: the 100 ms the meter needs between requests, and the goal of rejecting
every corrupted response.

Method: the poll cycle is wall time (it is dominated by the 100 ms request spacing the
meter imposes), the mean over consecutive `read()` calls after one `identify()`, on a
loopback socket with the simulator's 117-byte chunking. The digest figure is CPU time, as
in timing.py. The corruption run polls a frozen simulated meter that flips one bit in a
fifth of its replies and counts what the client published that differs from the meter's
truth.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time

from timing import best_us

from custom_components.energy_gateway.meterlib.core.errors import DecodeError, LinkError
from custom_components.energy_gateway.meterlib.links.connections import TcpLink, TcpSettings
from custom_components.energy_gateway.meterlib.mep.client import MIN_INTERVAL, MepClient
from custom_components.energy_gateway.meterlib.mep.digest import (
    continue_digest,
    request_digest,
    request_state,
)
from simulators.mep_meter import FaultPlan, MepTcpServer, SimulatedMepMeter

NO_ANCHOR = "no Python MEP client verifies digests"
CYCLES = 10
VALUE_REQUESTS = 3  # BT23, BT28, BT52
CORRUPT_RATE = 0.2
CORRUPT_POLLS = 12
FROZEN = 1_780_000_000.0


async def _poll_cycle_ms() -> float:
    meter = SimulatedMepMeter()
    server = await MepTcpServer(meter).start()
    client = MepClient(TcpLink(TcpSettings("127.0.0.1", server.port)), meter.key, rts="off")
    try:
        await client.open()
        await client.identify()
        await client.read()  # settle into the request rhythm
        start = time.perf_counter()
        for _ in range(CYCLES):
            await client.read()
        return (time.perf_counter() - start) / CYCLES * 1000
    finally:
        await client.close()
        await server.close()


def _cycle_figure() -> dict[str, object]:
    floor_ms = VALUE_REQUESTS * MIN_INTERVAL * 1000
    return {
        "name": "mep_poll_cycle",
        "unit": "ms",
        "ours": round(asyncio.run(_poll_cycle_ms()), 1),
        "anchor": f"100 ms rule floor for {VALUE_REQUESTS} requests; {NO_ANCHOR}",
        "anchor_value": round(floor_ms, 1),
    }


def _digest_figure() -> dict[str, object]:
    """What the client spends on digests per exchange: a BT28 read of 55 present values."""
    key = bytes(range(16))
    request = bytes.fromhex("3f001c00000700dc01020304")
    reply = bytes(3 + 220)

    def exchange() -> None:
        request_digest(key, request)
        continue_digest(key, request_state(key, request), reply)

    return {
        "name": "mep_digest_exchange",
        "unit": "us",
        "ours": round(best_us(exchange), 1),
        "anchor": f"budget: one request per 100 ms; {NO_ANCHOR}",
        "anchor_value": MIN_INTERVAL * 1e6,
    }


async def _corruption_run() -> tuple[int, int, int, int]:
    """(corrupted replies sent, rejected, snapshots published, snapshots with wrong values)."""
    meter = SimulatedMepMeter(
        clock=lambda: FROZEN, faults=FaultPlan(corrupt_rate=CORRUPT_RATE, seed=5)
    )
    server = await MepTcpServer(meter).start()
    client = MepClient(TcpLink(TcpSettings("127.0.0.1", server.port)), meter.key, rts="off")
    truth = meter.truth()
    published = wrong = 0
    try:
        await client.open()
        for _ in range(CORRUPT_POLLS):
            try:
                snapshot = await client.read()
            except (DecodeError, LinkError):
                continue
            published += 1
            values = {obis: reading.value for obis, reading in snapshot.readings.items()}
            wrong += values != truth
    finally:
        await client.close()
        await server.close()
    return meter.counters.corrupted, client.stats.digest_failures, published, wrong


def _corruption_figure() -> dict[str, object]:
    sent, rejected, published, wrong = asyncio.run(_corruption_run())
    return {
        "name": "mep_corrupted_rejected",
        "unit": "share of corrupted responses rejected",
        "ours": round(rejected / sent, 3) if sent else 1.0,
        "anchor": (
            f"goal: all rejected, none published; this run: {sent} corrupted sent, "
            f"{rejected} rejected, {wrong} published with wrong values "
            f"({published}/{CORRUPT_POLLS} polls published); {NO_ANCHOR}"
        ),
        "anchor_value": 1.0,
        "higher_is_better": True,
    }


def figures(wanted: Callable[[str], bool]) -> list[dict[str, object]]:
    """The MEP figures the runner asked for."""
    measures: list[tuple[str, Callable[[], dict[str, object]]]] = [
        ("mep_poll_cycle", _cycle_figure),
        ("mep_digest_exchange", _digest_figure),
        ("mep_corrupted_rejected", _corruption_figure),
    ]
    return [measure() for name, measure in measures if wanted(name)]
