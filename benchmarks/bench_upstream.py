"""Upstream portal push: a 24-hour soak with outages and restarts, and the push's cost.

Figures:
- `upstream_soak_produced`, `upstream_soak_delivered`, `upstream_soak_duplicates`,
  `upstream_soak_lost`, `upstream_soak_outbox_peak`: 32 meters publish a snapshot every 30 s
  for 24 simulated hours into a real Home Assistant (started the way the test plugin starts
  one) whose upstream entry posts to the aiohttp test portal on 127.0.0.1. A seeded random
  schedule takes the portal down (connection refused), makes it answer 500, 503 or 429 with
  Retry-After, or store a batch and answer too late (the batch is sent again: those are the
  duplicates, removed by the portal's deduplication on the idempotency key), and restarts
  the entry (unload and set up again on the same outbox file). Afterwards the portal comes
  back for good and the backlog drains. `delivered` counts distinct snapshots the portal
  holds; `lost` is produced minus delivered (goal 0) and also counts any snapshot that
  arrived out of its meter's order. The anchor is the AmpX gateway, which posts without
  buffer or retry: it loses every snapshot produced while the portal cannot take it.
  The wall clock is frozen and moved by the benchmark; sockets and the event loop run in
  real time. The soak takes about a minute, so it runs only when named
  (`python benchmarks/run.py upstream`); a plain `run.py` measures the push cost alone.
- `upstream_push_loop_ms_247`: event-loop CPU time per 5 s push for 247 meters: taking
  their 247 snapshots in (the dispatcher signal) and one push interval (outbox, HTTP).
  The portal runs in its own process, and `time.thread_time()` counts the event loop's
  thread only: the outbox, JSON and gzip run in the executor, by design. The anchor is the
  interval itself (5,000 ms): the ratio says how small a share of it the push takes.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import functools
import logging
from pathlib import Path
import random
import subprocess
import sys
import tempfile
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator

    from freezegun.api import FrozenDateTimeFactory
    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
        MockConfigEntry,
    )

    from custom_components.energy_gateway.meterlib.core.model import Snapshot
    from simulators.upstream_portal import Portal

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261203
START = datetime(2026, 12, 3, 0, 0, 0, tzinfo=UTC)
SOAK_METERS = 32
SOAK_INTERVALS = 24 * 120  # 30 s each
COST_METERS = 247
COST_PUSHES = 24
SEQUENCE = "1-0:1.8.0"


def _template() -> Snapshot:
    """A real DSMR 5 telegram's snapshot (about 40 readings), numbered per copy."""
    from custom_components.energy_gateway.meterlib.p1.telegram import parse_telegram

    path = ROOT / "tests" / "fixtures" / "dsmr" / "dsmr_parser_telegram_v5.txt"
    return parse_telegram(path.read_bytes())


def _numbered(template: Snapshot, number: int, moment: datetime) -> Snapshot:
    from custom_components.energy_gateway.meterlib.core.model import Reading

    readings = dict(template.readings)
    readings[SEQUENCE] = Reading(SEQUENCE, float(number), "kWh")
    return replace(template, readings=readings, timestamp=moment)


@contextlib.contextmanager
def _frozen_clock() -> Iterator[FrozenDateTimeFactory]:
    """The wall clock frozen at START, Home Assistant's included; the event loop keeps real
    time (sockets need it). A soak whose clock does not reach Home Assistant would measure
    nothing true, so that is checked."""
    from freezegun import freeze_time
    from homeassistant.util import dt as dt_util

    with freeze_time(START, ignore=["asyncio"]) as clock:
        if dt_util.utcnow() != START:
            raise RuntimeError("bench_upstream: Home Assistant's clock is not the frozen one")
        yield clock


@contextlib.asynccontextmanager
async def _home_assistant(config_dir: str) -> AsyncIterator[HomeAssistant]:
    """A Home Assistant as the test plugin starts one, with custom integrations allowed."""
    from unittest.mock import patch

    from aiohttp.resolver import AsyncResolver
    from homeassistant import loader
    from homeassistant.helpers import frame
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    # Before Home Assistant starts, as the plugin does: its `utcnow` is a partial of the
    # real `datetime.now`, which freezegun cannot reach; this swaps it for a function.
    import pytest_homeassistant_custom_component.patch_time  # noqa: F401

    logging.getLogger("homeassistant.loader").setLevel(logging.ERROR)
    logging.getLogger("custom_components.energy_gateway").setLevel(logging.CRITICAL)
    # As the test plugin does: a plain DNS resolver, not the one that needs zeroconf.
    with patch(
        "homeassistant.helpers.aiohttp_client._async_make_resolver",
        return_value=AsyncResolver(),
    ):
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            frame.async_setup(hass)
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            yield hass


def _meter_entries(hass: HomeAssistant, count: int) -> list[MockConfigEntry]:
    """Disabled meter entries: only their identity is used; the benchmark publishes."""
    from homeassistant.config_entries import ConfigEntryDisabler
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    entries = []
    for number in range(count):
        entry = MockConfigEntry(
            domain="energy_gateway",
            title=f"Meter {number}",
            unique_id=f"M{number:03d}",
            data={"source": "p1"},
            disabled_by=ConfigEntryDisabler.USER,
        )
        entry.add_to_hass(hass)
        entries.append(entry)
    return entries


def _upstream_entry(hass: HomeAssistant, url: str, interval: int) -> MockConfigEntry:
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    from simulators.upstream_portal import TOKEN

    entry = MockConfigEntry(
        domain="energy_gateway",
        title="Upstream soak",
        data={
            "kind": "upstream",
            "url": url,
            "allow_http": True,
            "token": TOKEN,
            "gateway_id": "soak",
            "payload_format": "v1",
            "push_interval": interval,
            "meters": [],
            "retention_days": 7,
        },
    )
    entry.add_to_hass(hass)
    return entry


async def _tick(hass: HomeAssistant, clock: FrozenDateTimeFactory, seconds: float) -> None:
    """Move the wall clock and run what fell due (see tests/integration/upstream_helpers)."""
    from pytest_homeassistant_custom_component.common import async_fire_time_changed

    clock.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass, fire_all=True)
    await hass.async_block_till_done(wait_background_tasks=True)


@dataclass
class _Trouble:
    """One episode of the portal's schedule."""

    start: int
    length: int
    kind: str  # "down", "500", "503", "429", "late"


def _schedule(rng: random.Random) -> tuple[list[_Trouble], set[int]]:
    """About a dozen outages of 1 minute to 3 hours, and six restarts."""
    troubles = []
    at = rng.randrange(60, 240)
    while at < SOAK_INTERVALS - 60:
        kind = rng.choice(["down", "500", "503", "429", "late"])
        length = 2 if kind == "late" else rng.randrange(2, 360)
        troubles.append(_Trouble(at, length, kind))
        at += length + rng.randrange(60, 360)
    restarts = {rng.randrange(10, SOAK_INTERVALS - 10) for _ in range(6)}
    return troubles, restarts


async def _apply(portal: Portal, trouble: _Trouble | None) -> None:
    behaviour = portal.behaviour
    behaviour.status, behaviour.retry_after, behaviour.delay = 200, None, 0.0
    down = trouble is not None and trouble.kind == "down"
    if down and portal.port and portal.running:
        await portal.stop()
    elif not down and not portal.running:
        await portal.start(portal.port)
    if trouble is None or down:
        return
    if trouble.kind == "late":
        behaviour.delay = 0.5  # stored, but answered after the client gave up
    else:
        behaviour.status = int(trouble.kind)
        behaviour.retry_after = "90" if trouble.kind in ("503", "429") else None


def _sequence_only(body: dict[str, Any]) -> dict[str, Any]:
    """What the soak checks of a stored batch: each snapshot's number, per meter."""
    return {
        "meters": [
            {
                "meter_id": meter["meter_id"],
                "snapshots": [
                    {"readings": {SEQUENCE: s["readings"][SEQUENCE]}} for s in meter["snapshots"]
                ],
            }
            for meter in body["meters"]
        ]
    }


@dataclass
class SoakResult:
    produced: int
    delivered: int
    duplicates: int
    lost: int
    ampx_lost: int
    outbox_peak: int


async def _soak_async() -> SoakResult:
    from homeassistant.helpers.dispatcher import async_dispatcher_send

    from custom_components.energy_gateway.upstream import pusher as pusher_module
    from custom_components.energy_gateway.upstream.const import SIGNAL_SNAPSHOT
    from simulators.upstream_portal import Portal

    rng = random.Random(SEED)
    troubles, restarts = _schedule(rng)
    template = _template()
    pusher_module.REQUEST_TIMEOUT = 0.25  # type: ignore[misc]  # "late" answers come at 0.5 s
    produced: dict[str, list[int]] = {}
    ampx_lost = 0
    peak = 0
    with tempfile.TemporaryDirectory() as config_dir:
        async with _home_assistant(config_dir) as hass:
            portal = Portal(keep=_sequence_only)
            await portal.start()
            meters = _meter_entries(hass, SOAK_METERS)
            upstream = _upstream_entry(hass, portal.url, 30)
            with _frozen_clock() as clock:
                if not await hass.config_entries.async_setup(upstream.entry_id):
                    raise RuntimeError("bench_upstream: the upstream entry did not set up")
                number = 0
                for interval in range(SOAK_INTERVALS):
                    trouble = next(
                        (t for t in troubles if t.start <= interval < t.start + t.length), None
                    )
                    await _apply(portal, trouble)
                    now = datetime.now(UTC)
                    for meter in meters:
                        number += 1
                        produced.setdefault(meter.unique_id, []).append(number)
                        snapshot = _numbered(template, number, now)
                        async_dispatcher_send(hass, SIGNAL_SNAPSHOT, meter.entry_id, snapshot)
                    if trouble is not None:
                        ampx_lost += len(meters)
                    if interval in restarts:
                        await hass.config_entries.async_reload(upstream.entry_id)
                    await _tick(hass, clock, 30)
                    peak = max(peak, upstream.runtime_data.data.outbox_bytes)
                await _apply(portal, None)
                for _ in range(2000):
                    await _tick(hass, clock, 30)
                    if upstream.runtime_data.data.backlog == 0:
                        break
            await hass.config_entries.async_unload(upstream.entry_id)
            await portal.stop()
    return _score(portal, produced, ampx_lost, peak)


def _score(portal: Portal, produced: dict[str, list[int]], ampx_lost: int, peak: int) -> SoakResult:
    total = sum(len(numbers) for numbers in produced.values())
    lost = 0
    distinct = 0
    for meter, snapshots in portal.snapshots_by_meter().items():
        numbers = [int(s["readings"][SEQUENCE]["value"]) for s in snapshots]
        distinct += len(set(numbers))
        if numbers != produced.get(meter, []):
            # Missing, repeated after deduplication, or out of order: all count as lost.
            lost += len(set(produced.get(meter, [])) ^ set(numbers)) or len(numbers)
    lost = max(lost, total - distinct)
    return SoakResult(
        produced=total,
        delivered=distinct,
        duplicates=portal.duplicate_snapshots,
        lost=lost,
        ampx_lost=ampx_lost,
        outbox_peak=peak,
    )


@functools.cache
def soak() -> SoakResult:
    """The soak runs once per process (every round reuses it): its figures are counts."""
    return asyncio.run(_soak_async())


@contextlib.contextmanager
def _portal_process() -> Any:
    """The test portal in a child process; yields its URL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "simulators.upstream_portal"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        yield f"http://127.0.0.1:{port}/ingest"
    finally:
        child.terminate()
        child.wait()


async def _push_cost_async(url: str) -> float:
    from homeassistant.helpers.dispatcher import async_dispatcher_send

    from custom_components.energy_gateway.upstream.const import SIGNAL_SNAPSHOT

    template = _template()
    with tempfile.TemporaryDirectory() as config_dir:
        async with _home_assistant(config_dir) as hass:
            meters = _meter_entries(hass, COST_METERS)
            upstream = _upstream_entry(hass, url, 5)
            with _frozen_clock() as clock:
                if not await hass.config_entries.async_setup(upstream.entry_id):
                    raise RuntimeError("bench_upstream: the upstream entry did not set up")
                snapshots = [_numbered(template, n, START) for n in range(COST_METERS)]
                spent = 0.0
                for push in range(COST_PUSHES + 4):
                    started = time.thread_time()
                    for meter, snapshot in zip(meters, snapshots, strict=True):
                        async_dispatcher_send(hass, SIGNAL_SNAPSHOT, meter.entry_id, snapshot)
                    await _tick(hass, clock, 5)
                    if push >= 4:  # the first pushes warm up (imports, connections)
                        spent += time.thread_time() - started
                data = upstream.runtime_data.data
                if data.backlog or data.last_success is None:
                    raise RuntimeError("bench_upstream: the pushes did not all succeed")
            await hass.config_entries.async_unload(upstream.entry_id)
    return spent / COST_PUSHES * 1000


def push_cost() -> float:
    """Event-loop CPU milliseconds per 5 s push of 247 meters."""
    with _portal_process() as url:
        return asyncio.run(_push_cost_async(url))


def _named_on_command_line() -> bool:
    """The soak takes a minute: only when `upstream` (or a soak figure) is asked for."""
    return any("upstream" in word for word in sys.argv[1:])


def figures(wanted: Callable[[str], bool]) -> list[dict[str, object]]:
    """The upstream figures the runner asked for."""
    results: list[dict[str, object]] = []
    soak_names = [
        "upstream_soak_produced",
        "upstream_soak_delivered",
        "upstream_soak_duplicates",
        "upstream_soak_lost",
        "upstream_soak_outbox_peak",
    ]
    if _named_on_command_line() and any(wanted(name) for name in soak_names):
        result = soak()
        ampx = "AmpX gateway (no buffer, no retry)"
        results += [
            {
                "name": "upstream_soak_produced",
                "unit": "snapshots",
                "ours": result.produced,
                "anchor": ampx,
                "anchor_value": result.produced,
                "higher_is_better": True,
            },
            {
                "name": "upstream_soak_delivered",
                "unit": "snapshots",
                "ours": result.delivered,
                "anchor": ampx,
                "anchor_value": result.produced - result.ampx_lost,
                "higher_is_better": True,
            },
            {
                "name": "upstream_soak_duplicates",
                "unit": "snapshots_before_dedup",
                "ours": result.duplicates,
                "anchor": "snapshots produced",
                "anchor_value": result.produced,
            },
            {
                "name": "upstream_soak_lost",
                "unit": "snapshots",
                "ours": result.lost,
                "anchor": ampx,
                "anchor_value": result.ampx_lost,
            },
            {
                "name": "upstream_soak_outbox_peak",
                "unit": "bytes_on_disk",
                "ours": result.outbox_peak,
                "anchor": "7 days of 32 meters at 30 s, ~300 B each (brief's estimate)",
                "anchor_value": 645_120 * 300,
            },
        ]
    if wanted("upstream_push_loop_ms_247"):
        results.append(
            {
                "name": "upstream_push_loop_ms_247",
                "unit": "ms_loop_cpu_per_push",
                "ours": round(push_cost(), 2),
                "anchor": "the 5 s push interval",
                "anchor_value": 5000.0,
            }
        )
    return [figure for figure in results if wanted(str(figure["name"]))]


if __name__ == "__main__":
    for figure in figures(lambda _name: True):
        print(figure)
