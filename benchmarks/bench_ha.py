"""Telegram bytes on a TCP socket to entity states in a running Home Assistant.

Ours (`energy_gateway`) against Home Assistant's own `dsmr` integration (as installed: it
runs on the venv's dsmr_parser), both set up from a config entry in a fresh in-process
Home Assistant (started the way the test plugin starts one, without the recorder) and both
reading the same telegrams from a fake P1 bridge on 127.0.0.1. Setup, the first telegram
(which creates the entities) and a warm-up are not timed.

The fake bridge is a separate process (this file run with `--sender`), so its CPU is not
counted: `time.process_time()` covers Home Assistant's process only, event loop included.
The two run in lock step: the bridge sends one telegram, the integration handles it (read,
parse, publish, write the states), and only then is the next one asked for, so both sides
do the same work per telegram and neither can batch. Asking costs a one-byte pipe write,
the same on both sides. The garbage collector stays on, as in Home Assistant.

The stream is built before timing: a real meter's telegrams, one per second, whose power,
voltage and current change every telegram, whose counters creep up and whose gas reading
moves every five minutes, each with its own CRC.

Figures (CPU microseconds per telegram; each integration's default entities unless noted):
- `ha_path_dsmr5`, `ha_path_fluvius` (core `dsmr_version` "5B"): both write states for
  every telegram (see CORE_DEFAULT_TIME_BETWEEN_UPDATE for core's throttle).
- `ha_path_dsmr5_all_entities`: the same with every entity of both enabled.
- `ha_path_dsmr5_core_defaults`: core with all its defaults, throttle included.
- `ha_path_dsmr5_throttled30`: both throttled to one update per 30 s.

Run this file on its own for a readable summary, or with `--profile` for the cProfile top
functions of our side of `ha_path_dsmr5`.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
import logging
import os
from pathlib import Path
import random
import re
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    import cProfile

    from homeassistant.core import HomeAssistant
    from pytest_homeassistant_custom_component.common import (  # type: ignore[import-untyped]
        MockConfigEntry,
    )

ROOT = Path(__file__).resolve().parent.parent
DSMR_FIXTURES = ROOT / "tests" / "fixtures" / "dsmr"

# Each run times SEGMENTS stretches of telegrams back to back and reports the cheapest
# stretch: load from elsewhere on a shared host only ever adds CPU time (cache misses, a
# busy sibling core), so the minimum is the figure least coloured by it (as `timeit` advises).
SEGMENTS = 5
TIMED_TELEGRAMS = 500  # per stretch, for the main figure (2,500 telegrams in all)
EXTRA_TELEGRAMS = 250  # per stretch, for the others, to keep the whole run near a minute
WARMUP_TELEGRAMS = 100
LOCKSTEP_TIMEOUT = 300.0  # seconds for one stretch; only a lost telegram takes this long
SEED = 20250404

# Core `dsmr` throttles entity updates with its `time_between_update` option: default 30 s
# (`DEFAULT_TIME_BETWEEN_UPDATE`), and the update made on connecting takes the first slot.
# Ours publishes every telegram by default (`publish_interval` 0). For the same work per
# telegram the main figures run core with `time_between_update` 0, a value its options
# flow accepts: every telegram then updates its entities. `ha_path_dsmr5_core_defaults`
# runs core at its default 30 s against ours at its default: in a replay faster than a
# meter, core's throttled update never comes due, so core only reads and parses (what it
# does for 29 telegrams in 30 from a real DSMR 5 meter). `ha_path_dsmr5_throttled30` runs
# ours at `publish_interval` 30 against that: reading, parsing and collecting only.
CORE_DEFAULT_TIME_BETWEEN_UPDATE = 30


# --------------------------------------------------------------------------- the stream


@dataclass
class _Household:
    """A three-phase home drawing power, and its gas and water meters."""

    rng: random.Random
    phases: list[float]  # kW per phase
    baseline: list[float]  # what each phase drifts back to
    volts: list[float]
    imported: list[float]  # kWh per tariff, as the meter counts them
    gas: float
    water: float

    def step(self) -> None:
        """Advance one second: every phase's power moves, counters follow."""
        rng = self.rng
        before = round(sum(self.phases), 3)
        for index, power in enumerate(self.phases):
            pull = (self.baseline[index] - power) / 20
            moved = power + pull + rng.choice((-1, 1)) * rng.randint(1, 40) / 1000
            self.phases[index] = moved if moved >= 0.01 else 0.01 + rng.randint(1, 40) / 1000
        if round(sum(self.phases), 3) == before:
            self.phases[0] += 0.001
        for index, volt in enumerate(self.volts):
            self.volts[index] = min(240.0, max(220.0, volt + rng.gauss(0, 0.3)))
        self.gas += rng.uniform(0, 0.0006)
        self.water += rng.uniform(0, 0.0002)

    def charge(self, tariff: int) -> None:
        self.imported[tariff] += sum(self.phases) / 3600

    @property
    def total(self) -> float:
        return sum(self.phases)

    def amps(self, index: int) -> float:
        return self.phases[index] * 1000 / self.volts[index]


def _template(name: str) -> list[str]:
    """The fixture's lines before the `!` line (CRLF-separated, as on the wire)."""
    text = (DSMR_FIXTURES / name).read_bytes().decode("ascii")
    return text[: text.index("!")].split("\r\n")[:-1]


def _render(lines: list[str], values: dict[str, tuple[str, ...]]) -> bytes:
    """A telegram from template lines with some lines' values replaced, CRC recomputed."""
    from custom_components.energy_gateway.meterlib.core.crc import crc16_arc

    out = []
    for line in lines:
        obis = line.partition("(")[0]
        groups = values.get(obis)
        out.append(line if groups is None else obis + "".join(f"({g})" for g in groups))
    body = ("\r\n".join(out) + "\r\n!").encode("ascii")
    return body + f"{crc16_arc(body):04X}\r\n".encode("ascii")


def _p1_time(moment: datetime, suffix: str) -> str:
    return f"{moment:%y%m%d%H%M%S}{suffix}"


def _five_minutes(moment: datetime) -> datetime:
    return moment - timedelta(minutes=moment.minute % 5, seconds=moment.second)


def dsmr5_stream(count: int, seed: int = SEED) -> list[bytes]:
    """`count` telegrams of the DSMR 5 fixture's meter, one per second (tariff 2)."""
    lines = _template("dsmr_v5.txt")
    home = _Household(
        rng=random.Random(seed),
        phases=[0.07, 0.032, 0.142],
        baseline=[0.3, 0.2, 0.5],
        volts=[230.0, 230.0, 229.0],
        imported=[4.426, 2.399],
        gas=0.107,
        water=0.0,
    )
    start = datetime(2017, 1, 2, 19, 20, 2)
    telegrams = []
    for second in range(count):
        now = start + timedelta(seconds=second)
        home.step()
        home.charge(1)
        gas_time = _five_minutes(now)
        values = {
            "0-0:1.0.0": (_p1_time(now, "W"),),
            "1-0:1.8.1": (f"{home.imported[0]:010.3f}*kWh",),
            "1-0:1.8.2": (f"{home.imported[1]:010.3f}*kWh",),
            "1-0:1.7.0": (f"{home.total:06.3f}*kW",),
            "0-1:24.2.1": (_p1_time(gas_time, "W"), f"{home.gas:09.3f}*m3"),
        }
        for index, (power, volt, amp) in enumerate(
            (("21", "32", "31"), ("41", "52", "51"), ("61", "72", "71"))
        ):
            values[f"1-0:{power}.7.0"] = (f"{home.phases[index]:06.3f}*kW",)
            values[f"1-0:{volt}.7.0"] = (f"{home.volts[index]:06.1f}*V",)
            values[f"1-0:{amp}.7.0"] = (f"{home.amps(index):.2f}*A",)
        telegrams.append(_render(lines, values))
    return telegrams


def fluvius_stream(count: int, seed: int = SEED) -> list[bytes]:
    """`count` telegrams of the Fluvius 1.7.1 fixture's meter, one per second (day tariff)."""
    lines = _template("fluvius_v171.txt")
    home = _Household(
        rng=random.Random(seed),
        phases=[0.2, 0.15, 0.3],
        baseline=[0.4, 0.2, 0.6],
        volts=[234.7, 234.7, 234.7],
        imported=[0.034, 15.758],
        gas=112.384,
        water=872.234,
    )
    start = datetime(2020, 5, 12, 13, 54, 9)
    quarter: list[float] = []
    telegrams = []
    for second in range(count):
        now = start + timedelta(seconds=second)
        home.step()
        home.charge(0)
        if now.minute % 15 == 0 and now.second == 0:
            quarter.clear()
        quarter.append(home.total)
        reading_time = _p1_time(_five_minutes(now), "S")
        values = {
            "0-0:1.0.0": (_p1_time(now, "S"),),
            "1-0:1.8.1": (f"{home.imported[0]:010.3f}*kWh",),
            "1-0:1.8.2": (f"{home.imported[1]:010.3f}*kWh",),
            "1-0:1.4.0": (f"{sum(quarter) / len(quarter):06.3f}*kW",),
            "1-0:1.7.0": (f"{home.total:06.3f}*kW",),
            "0-1:24.2.3": (reading_time, f"{home.gas:09.3f}*m3"),
            "0-2:24.2.1": (reading_time, f"{home.water:09.3f}*m3"),
        }
        for index, (power, volt, amp) in enumerate(
            (("21", "32", "31"), ("41", "52", "51"), ("61", "72", "71"))
        ):
            values[f"1-0:{power}.7.0"] = (f"{home.phases[index]:06.3f}*kW",)
            values[f"1-0:{volt}.7.0"] = (f"{home.volts[index]:05.1f}*V",)
            values[f"1-0:{amp}.7.0"] = (f"{home.amps(index):06.2f}*A",)
        telegrams.append(_render(lines, values))
    return telegrams


# --------------------------------------------------------------------------- the bridge

_TELEGRAM = re.compile(rb"/.*?![0-9A-F]{4}\r\n", re.DOTALL)


def _sender_main(paths: list[str]) -> None:
    """The fake P1 bridge (a separate process).

    Prints its TCP port, then obeys one-byte commands on stdin: a digit selects that stream
    and rewinds it, `n` sends the next telegram to the connected client. A client that
    connects gets the selected stream's first telegram at once.
    """
    streams = [_TELEGRAM.findall(Path(path).read_bytes()) for path in paths]
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    print(server.getsockname()[1], flush=True)
    selector = selectors.DefaultSelector()
    selector.register(server, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "command")
    client: socket.socket | None = None
    stream = streams[0]
    position = 0
    while True:
        for key, _ in selector.select():
            if key.data == "accept":
                new, _address = server.accept()
                new.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if client is not None:
                    selector.unregister(client)
                    client.close()
                client = new
                selector.register(client, selectors.EVENT_READ, "client")
                client.sendall(stream[0])
                position = 1
            elif key.data == "client":
                assert client is not None
                if not client.recv(65536):
                    selector.unregister(client)
                    client.close()
                    client = None
            else:
                commands = os.read(sys.stdin.fileno(), 4096)
                if not commands:
                    return
                for command in commands:
                    if command == ord("n"):
                        if client is not None:
                            client.sendall(stream[position])
                        position += 1
                    else:
                        stream = streams[command - ord("0")]
                        position = 0


class _Bridge:
    """Handle on the bridge process: start, command, stop."""

    def __init__(self, streams: list[list[bytes]], directory: str) -> None:
        paths = []
        for index, stream in enumerate(streams):
            path = Path(directory) / f"stream{index}.p1"
            path.write_bytes(b"".join(stream))
            paths.append(str(path))
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sender", *paths],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
        )
        stdout: IO[bytes] | None = self.process.stdout
        assert stdout is not None
        assert self.process.stdin is not None
        self.port = int(stdout.readline())
        self._commands = self.process.stdin.fileno()

    def select(self, stream: int) -> None:
        os.write(self._commands, str(stream).encode())

    def send_next(self) -> None:
        os.write(self._commands, b"n")

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)


class _Lockstep:
    """Ask the bridge for the next telegram each time the integration has handled one."""

    def __init__(self, bridge: _Bridge) -> None:
        self._bridge = bridge
        self._remaining = 0
        self._done: asyncio.Future[None] | None = None
        self.handled = 0

    async def run(self, count: int) -> None:
        """Feed `count` telegrams, one at a time, and return when the last is handled."""
        done = self._done = asyncio.get_running_loop().create_future()
        self._remaining = count
        self._bridge.send_next()
        try:
            async with asyncio.timeout(LOCKSTEP_TIMEOUT):
                await done
        except TimeoutError:
            raise RuntimeError(
                f"bench_ha: {self._remaining} of {count} telegrams were never handled"
            ) from None

    def on_handled(self) -> None:
        self.handled += 1
        if self._done is None:
            return
        self._remaining -= 1
        if self._remaining > 0:
            self._bridge.send_next()
        else:
            self._done.set_result(None)
            self._done = None


@contextlib.contextmanager
def _count_handled(on_handled: Callable[[], None]) -> Iterator[None]:
    """Call `on_handled` after either integration has fully handled a telegram.

    Ours: after `MeterStream._accept` (decode done, snapshot published, states written).
    Core: after `DSMRProtocol.handle_telegram` (parsed, entities updated and written).
    """
    from dsmr_parser.clients.protocol import DSMRProtocol

    from custom_components.energy_gateway.meterlib.links.stream import MeterStream

    accept = MeterStream._accept
    handle = DSMRProtocol.handle_telegram

    def counted_accept(self: MeterStream, snapshot: Any) -> None:
        accept(self, snapshot)
        on_handled()

    def counted_handle(self: Any, telegram: Any) -> None:
        handle(self, telegram)
        on_handled()

    MeterStream._accept = counted_accept  # type: ignore[method-assign]
    DSMRProtocol.handle_telegram = counted_handle
    try:
        yield
    finally:
        MeterStream._accept = accept  # type: ignore[method-assign]
        DSMRProtocol.handle_telegram = handle


# --------------------------------------------------------------------------- the sides


@dataclass(frozen=True)
class _Meter:
    """One stream and what each side needs to know about its meter."""

    name: str
    stream: int
    meter_id: str  # ours: the entry's unique_id
    core_version: str  # core: dsmr_version
    core_serial: str
    core_serial_gas: str
    power_obis: str = "1-0:1.7.0"


# The meter ids: ours keys the entry on the decoded id, core on the raw hex of 0-0:96.1.1
# (and of the gas meter's 0-n:96.1.x), as their config flows store them.
DSMR5 = _Meter(
    name="dsmr5",
    stream=0,
    meter_id="K8EG004046395507",
    core_version="5",
    core_serial="4B384547303034303436333935353037",
    core_serial_gas="3232323241424344313233343536373839",
)
FLUVIUS = _Meter(
    name="fluvius",
    stream=1,
    meter_id="1SAG3101021605",
    core_version="5B",
    core_serial="3153414733313031303231363035",
    core_serial_gas="37464C4F32313139303333373333",
)


def _our_entry(meter: _Meter, port: int, publish_interval: float) -> MockConfigEntry:
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    options = {} if publish_interval == 0 else {"publish_interval": publish_interval}
    return MockConfigEntry(
        domain="energy_gateway",
        title=f"P1 meter {meter.meter_id}",
        unique_id=meter.meter_id,
        data={"source": "p1", "connection": "network", "host": "127.0.0.1", "port": port},
        options=options,
    )


def _core_entry(meter: _Meter, port: int, time_between_update: int) -> MockConfigEntry:
    from pytest_homeassistant_custom_component.common import MockConfigEntry

    options = (
        {}
        if time_between_update == CORE_DEFAULT_TIME_BETWEEN_UPDATE
        else {"time_between_update": time_between_update}
    )
    # What core's config flow stores after validating a TCP meter.
    return MockConfigEntry(
        domain="dsmr",
        title=f"127.0.0.1:{port}",
        unique_id=meter.core_serial,
        data={
            "host": "127.0.0.1",
            "port": port,
            "dsmr_version": meter.core_version,
            "serial_id": meter.core_serial,
            "serial_id_gas": meter.core_serial_gas,
            "protocol": "dsmr_protocol",
        },
        options=options,
    )


def _power_entity(hass: HomeAssistant, domain: str, meter: _Meter) -> str | None:
    """Entity id of the meter's total import power sensor, once it exists."""
    from homeassistant.helpers import entity_registry as er

    unique_id = (
        f"{meter.meter_id}_{meter.power_obis}"
        if domain == "energy_gateway"
        else f"{meter.core_serial}_current_electricity_usage"
    )
    return er.async_get(hass).async_get_entity_id("sensor", domain, unique_id)


async def _wait_for(predicate: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"bench_ha: timed out waiting for {what}")
        await asyncio.sleep(0.005)


@dataclass(frozen=True)
class _Run:
    """One integration, one stream, one setting: what to set up and how long to time it."""

    domain: str  # "energy_gateway" or "dsmr"
    meter: _Meter
    setting: int  # ours: publish_interval; core: time_between_update (seconds)
    telegrams: int
    all_entities: bool = False  # enable the entities each integration disables by default


@dataclass(frozen=True)
class _Result:
    us_per_telegram: float
    sensors: int  # sensor states in Home Assistant at the end
    final_power: str | None


def _reports(state: str | None, telegram: bytes, obis: str) -> bool:
    """Whether a power state shows what `telegram` says for `obis` (in kW or in W)."""
    line = next(raw for raw in telegram.split(b"\r\n") if raw.startswith(obis.encode() + b"("))
    expected = float(line[len(obis) + 1 :].split(b"*")[0])
    try:
        value = float(state) if state is not None else None
    except ValueError:
        return False
    return value is not None and any(abs(value - expected * k) < 1e-6 * k for k in (1, 1000))


@contextlib.contextmanager
def _quiet_loader() -> Iterator[None]:
    """Hide the loader's "custom integration not tested by Home Assistant" warning."""
    logger = logging.getLogger("homeassistant.loader")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def _all_entities_enabled() -> Iterator[None]:
    """Create every entity enabled, as the test suite's fixture of the same purpose does."""
    from unittest.mock import PropertyMock, patch

    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        new_callable=PropertyMock,
        return_value=True,
    ):
        yield


async def _measure(
    bridge: _Bridge, run: _Run, stream: list[bytes], profiler: cProfile.Profile | None = None
) -> _Result:
    """Set up one integration in a fresh Home Assistant and time its telegrams.

    Returns the minimum over SEGMENTS stretches of `run.telegrams` telegrams of the CPU time
    per telegram.
    """
    from homeassistant import loader
    from homeassistant.config_entries import ConfigEntryState
    from homeassistant.helpers import frame
    from pytest_homeassistant_custom_component.common import async_test_home_assistant

    domain, meter = run.domain, run.meter
    lockstep = _Lockstep(bridge)
    bridge.select(meter.stream)
    async with contextlib.AsyncExitStack() as stack:
        config_dir = stack.enter_context(tempfile.TemporaryDirectory())
        stack.enter_context(_count_handled(lockstep.on_handled))
        stack.enter_context(_quiet_loader())
        if run.all_entities:
            stack.enter_context(_all_entities_enabled())
        hass = await stack.enter_async_context(async_test_home_assistant(config_dir=config_dir))
        frame.async_setup(hass)
        # What the test plugin's `enable_custom_integrations` fixture does.
        hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
        if domain == "energy_gateway":
            entry = _our_entry(meter, bridge.port, run.setting)
        else:
            entry = _core_entry(meter, bridge.port, run.setting)
        entry.add_to_hass(hass)
        try:
            # Setup, excluded from the timing. Ours returns after the first telegram; core
            # creates its entities when the first telegram arrives, after setup returned.
            if not await hass.config_entries.async_setup(entry.entry_id):
                raise RuntimeError(f"bench_ha: {domain} did not set up")
            await hass.async_block_till_done()
            if "recorder" in hass.config.components:
                raise RuntimeError("bench_ha: the recorder got loaded")
            if domain == "dsmr" and run.setting > 0:
                # Throttled: the connect-time update took the slot, so no entities for now.
                await _wait_for(lambda: lockstep.handled >= 1, "the first telegram")
            else:
                await _wait_for(
                    lambda: (
                        (entity_id := _power_entity(hass, domain, meter)) is not None
                        and hass.states.get(entity_id) is not None
                    ),
                    f"{domain}'s entities",
                )
            await lockstep.run(WARMUP_TELEGRAMS)
            await hass.async_block_till_done()

            if profiler is not None:
                profiler.enable()
            per_telegram = []
            for _ in range(SEGMENTS):
                started = time.process_time()
                await lockstep.run(run.telegrams)
                await hass.async_block_till_done()
                per_telegram.append((time.process_time() - started) / run.telegrams)
            if profiler is not None:
                profiler.disable()

            entity_id = _power_entity(hass, domain, meter)
            state = hass.states.get(entity_id) if entity_id else None
            final = state.state if state is not None else None
            last = stream[WARMUP_TELEGRAMS + SEGMENTS * run.telegrams]
            publishes = run.setting == 0
            if publishes and not _reports(final, last, meter.power_obis):
                raise RuntimeError(
                    f"bench_ha: {domain} ended at power {final!r}, not the last telegram's"
                )
            sensors = len(hass.states.async_all("sensor"))
        finally:
            if entry.state is ConfigEntryState.LOADED:
                await hass.config_entries.async_unload(entry.entry_id)
            await hass.async_stop(force=True)
    return _Result(min(per_telegram) * 1e6, sensors, final)


@dataclass(frozen=True)
class _Comparison:
    """One reported figure: our run against core's run."""

    name: str
    ours: _Run
    core: _Run


def _comparisons() -> list[_Comparison]:
    main, extra = TIMED_TELEGRAMS, EXTRA_TELEGRAMS
    default = CORE_DEFAULT_TIME_BETWEEN_UPDATE
    return [
        # Same work: both write their entities' states for every telegram.
        _Comparison(
            "ha_path_dsmr5",
            _Run("energy_gateway", DSMR5, 0, main),
            _Run("dsmr", DSMR5, 0, main),
        ),
        _Comparison(
            "ha_path_fluvius",
            _Run("energy_gateway", FLUVIUS, 0, extra),
            _Run("dsmr", FLUVIUS, 0, extra),
        ),
        # Same work, and the same values: every entity of both enabled.
        _Comparison(
            "ha_path_dsmr5_all_entities",
            _Run("energy_gateway", DSMR5, 0, extra, all_entities=True),
            _Run("dsmr", DSMR5, 0, extra, all_entities=True),
        ),
        # Defaults against defaults: ours publishes every telegram, core (30 s throttle)
        # only parses until its next update is due.
        _Comparison(
            "ha_path_dsmr5_core_defaults",
            _Run("energy_gateway", DSMR5, 0, main),
            _Run("dsmr", DSMR5, default, extra),
        ),
        # Both throttled to one update per 30 s: reading and parsing only.
        _Comparison(
            "ha_path_dsmr5_throttled30",
            _Run("energy_gateway", DSMR5, default, extra),
            _Run("dsmr", DSMR5, default, extra),
        ),
    ]


def measure_all(comparisons: list[_Comparison]) -> list[tuple[_Comparison, _Result, _Result]]:
    """Run each distinct run once, ours and core alternating, in one bridge process."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    longest = max(max(c.ours.telegrams, c.core.telegrams) for c in comparisons)
    length = 1 + WARMUP_TELEGRAMS + SEGMENTS * longest
    streams = [dsmr5_stream(length), fluvius_stream(length)]
    results: dict[_Run, _Result] = {}
    with tempfile.TemporaryDirectory() as directory:
        bridge = _Bridge(streams, directory)
        try:
            for comparison in comparisons:
                for run in (comparison.ours, comparison.core):
                    if run not in results:
                        stream = streams[run.meter.stream]
                        results[run] = asyncio.run(_measure(bridge, run, stream))
        finally:
            bridge.close()
    return [(c, results[c.ours], results[c.core]) for c in comparisons]


def profile_ours(top: int = 15) -> None:
    """Print the cProfile top functions (own CPU time) of our side of `ha_path_dsmr5`."""
    import cProfile
    import pstats

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    run = _Run("energy_gateway", DSMR5, 0, TIMED_TELEGRAMS)
    stream = dsmr5_stream(1 + WARMUP_TELEGRAMS + SEGMENTS * TIMED_TELEGRAMS)
    profiler = cProfile.Profile(time.process_time)
    with tempfile.TemporaryDirectory() as directory:
        bridge = _Bridge([stream], directory)
        try:
            result = asyncio.run(_measure(bridge, run, stream, profiler))
        finally:
            bridge.close()
    print(f"ours, profiled: {result.us_per_telegram:.0f} us CPU per telegram")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("tottime").print_stats(top)
    stats.sort_stats("cumulative").print_stats(top * 2)


def figures(wanted: Callable[[str], bool]) -> list[dict[str, object]]:
    """The Home Assistant path figures the runner asked for."""
    from homeassistant.const import __version__ as ha_version

    comparisons = [c for c in _comparisons() if wanted(c.name)]
    if not comparisons:
        return []
    return [
        {
            "name": comparison.name,
            "unit": "us_cpu_per_telegram",
            "ours": round(ours.us_per_telegram, 1),
            "anchor": f"homeassistant.components.dsmr {ha_version}",
            "anchor_value": round(core.us_per_telegram, 1),
        }
        for comparison, ours, core in measure_all(comparisons)
    ]


def _main(argv: list[str]) -> None:
    if argv[:1] == ["--sender"]:
        _sender_main(argv[1:])
    elif argv[:1] == ["--profile"]:
        profile_ours()
    else:
        for comparison, ours, core in measure_all(_comparisons()):
            print(
                f"{comparison.name}: ours {ours.us_per_telegram:.0f} us ({ours.sensors} sensors),"
                f" core {core.us_per_telegram:.0f} us ({core.sensors} sensors),"
                f" ratio {core.us_per_telegram / ours.us_per_telegram:.2f}"
            )


if __name__ == "__main__":
    _main(sys.argv[1:])
