"""The simulated meters `scripts/demo` serves, and how a user adds each one in the UI.

Every demo meter is a `DemoMeter`: it serves its wire protocol on this machine, knows the
config-flow answers that add it, and names the registers the Energy dashboard should use.
A new kind (M-Bus, HDLC, Modbus, ...) is one more subclass and one more entry in
`demo_meters()`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import fcntl
import logging
import os
import struct
import termios
import tty
from typing import Any

from custom_components.energy_gateway.meterlib.simulator import ReportedValue, SimulatedP1Meter

_LOGGER = logging.getLogger("demo")
# Clients that fall this far behind are dropped rather than buffered without end.
_MAX_CLIENT_BACKLOG = 64 * 1024
_HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class FlowStep:
    """One screen of the config flow: the step Home Assistant must show, and the answer."""

    step_id: str
    answer: dict[str, Any]


@dataclass(frozen=True, slots=True)
class EnergyRoles:
    """Entity keys (OBIS codes) that feed the Energy dashboard, by role."""

    grid_import: tuple[str, ...] = ()
    grid_export: tuple[str, ...] = ()
    gas: tuple[str, ...] = ()
    water: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HourRow:
    """One hour of a counter's history, as Home Assistant's long-term statistics hold it."""

    start: datetime
    state: float
    """The counter at the end of the hour."""
    sum: float
    """Growth since a fixed zero point; only differences between rows matter."""


@dataclass(eq=False)
class DemoMeter(ABC):
    """A simulated meter served on this machine."""

    name: str
    meter_id: str
    """The id Home Assistant will know the meter by (its config entry's unique id)."""
    energy: EnergyRoles = field(default_factory=EnergyRoles)
    live_keys: tuple[str, ...] = ()
    """Entity keys whose states should change within seconds while the meter runs."""

    @abstractmethod
    async def start(self) -> None:
        """Start serving; returns once a client can connect."""

    @abstractmethod
    async def stop(self) -> None:
        """Stop serving and release what `start` took."""

    @abstractmethod
    def flow_steps(self) -> list[FlowStep]:
        """The config-flow answers that add this meter (valid after `start`)."""

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the meter is served, for people."""

    def reported(self) -> dict[str, ReportedValue]:
        """The values of the last message sent, for end-to-end checks."""
        return {}

    def history(self, keys: tuple[str, ...], hours: int) -> dict[str, list[HourRow]]:
        """What the counters `keys` did in the `hours` full hours before the meter started.

        Sums end at minus the growth between the last full hour and the start, so that Home
        Assistant's first own statistics (which count from zero at the first state) continue
        them without a jump. Empty when the meter kind cannot tell.
        """
        del keys, hours
        return {}


P1_ENERGY = EnergyRoles(
    grid_import=("1-0:1.8.1", "1-0:1.8.2"),
    grid_export=("1-0:2.8.1", "1-0:2.8.2"),
    gas=("0-1:24.2.3",),
    water=("0-2:24.2.1",),
)
P1_LIVE = ("1-0:1.7.0", "1-0:2.7.0", "1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0", "1-0:31.7.0")


@dataclass(eq=False)
class SimulatedP1(DemoMeter):
    """A Belgian P1 meter sending one telegram a second to whoever listens."""

    seed: int = 0
    energy: EnergyRoles = P1_ENERGY
    live_keys: tuple[str, ...] = P1_LIVE
    _meter: SimulatedP1Meter = field(init=False)
    _ticker: asyncio.Task[None] | None = field(default=None, init=False)
    _started: datetime | None = field(default=None, init=False)
    _first: dict[str, ReportedValue] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._meter = SimulatedP1Meter(equipment_id=self.meter_id, seed=self.seed)

    def _start_ticking(self) -> None:
        self._ticker = asyncio.create_task(self._tick(), name=f"demo meter {self.name}")

    async def _stop_ticking(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None

    async def _tick(self) -> None:
        while True:
            now = datetime.now(UTC)
            telegram = self._meter.telegram(now)
            if self._started is None:
                self._started, self._first = now, dict(self._meter.reported)
            self._send(telegram)
            # Like a real meter: one telegram just after each full second.
            await asyncio.sleep(1.02 - datetime.now(UTC).microsecond / 1e6)

    @abstractmethod
    def _send(self, telegram: bytes) -> None:
        """Deliver one telegram to the listeners."""

    def reported(self) -> dict[str, ReportedValue]:
        return dict(self._meter.reported)

    def history(self, keys: tuple[str, ...], hours: int) -> dict[str, list[HourRow]]:
        # The household is a pure function of time and seed: a second meter started earlier
        # replays exactly the load the live one would have seen.
        if self._started is None:
            return {}
        start = self._started
        first_hour = start.replace(minute=0, second=0, microsecond=0) - hours * _HOUR
        replay = SimulatedP1Meter(equipment_id=self.meter_id, seed=self.seed, start=first_hour)
        ends: list[tuple[datetime, dict[str, ReportedValue]]] = []
        for hour in range(1, hours + 1):
            end = first_hour + hour * _HOUR
            replay.telegram(end)
            ends.append((end, dict(replay.reported)))
        replay.telegram(start)
        at_start = replay.reported
        rows: dict[str, list[HourRow]] = {}
        for key in keys:
            live, replayed = self._first.get(key), at_start.get(key)
            if not isinstance(live, float) or not isinstance(replayed, float):
                continue
            rows[key] = []
            for end, values in ends:
                value = values[key]
                assert isinstance(value, float)
                growth = round(value - replayed, 3)
                rows[key].append(HourRow(end - _HOUR, round(live + growth, 3), growth))
        return rows


@dataclass(eq=False)
class P1OverTcp(SimulatedP1):
    """P1 through a network bridge (ser2net, a Wi-Fi P1 dongle): a TCP server on localhost."""

    host: str = "127.0.0.1"
    _server: asyncio.Server | None = field(default=None, init=False)
    _clients: set[asyncio.StreamWriter] = field(default_factory=set, init=False)
    _port: int = field(default=0, init=False)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, self.host, 0)
        self._port = self._server.sockets[0].getsockname()[1]
        self._start_ticking()

    async def stop(self) -> None:
        await self._stop_ticking()
        if self._server is not None:
            self._server.close()
        for writer in list(self._clients):
            writer.close()
        self._clients.clear()
        if self._server is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()
            self._server = None

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        _LOGGER.debug("%s: client %s connected", self.name, writer.get_extra_info("peername"))
        try:
            # A bridge ignores what the client sends; reading tells us when it leaves.
            while await reader.read(4096):
                pass
        except OSError:
            pass
        finally:
            self._clients.discard(writer)
            writer.close()

    def _send(self, telegram: bytes) -> None:
        for writer in list(self._clients):
            if writer.transport.get_write_buffer_size() > _MAX_CLIENT_BACKLOG:
                self._clients.discard(writer)
                writer.close()
                continue
            writer.write(telegram)

    def flow_steps(self) -> list[FlowStep]:
        return [
            FlowStep("user", {"next_step_id": "p1"}),
            FlowStep("p1", {"next_step_id": "p1_network"}),
            FlowStep("p1_network", {"host": self.host, "port": self._port}),
            FlowStep("confirm", {}),
        ]

    @property
    def where(self) -> str:
        return f"tcp {self.host}:{self._port}"


@dataclass(eq=False)
class P1OverPty(SimulatedP1):
    """P1 through a USB cable: a pseudo-terminal whose other end is the "serial port"."""

    serial_mode: str = "auto"
    _master: int = field(default=-1, init=False)
    _slave: int = field(default=-1, init=False)
    _path: str = field(default="", init=False)

    async def start(self) -> None:
        self._master, self._slave = os.openpty()
        # Raw, like a serial line: no echo, no CR/LF translation. We keep the slave open so
        # the terminal (and these settings) survive while nobody else has the port open.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self._path = os.ttyname(self._slave)
        # Whatever the reader writes back (nothing, for P1) is read and dropped.
        asyncio.get_running_loop().add_reader(self._master, self._drain)
        self._start_ticking()

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            os.read(self._master, 4096)

    async def stop(self) -> None:
        await self._stop_ticking()
        if self._master >= 0:
            asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
        if self._slave >= 0:
            os.close(self._slave)
        self._master = self._slave = -1

    def _send(self, telegram: bytes) -> None:
        # A real meter talks whether or not anyone listens; a pty would keep the backlog and
        # hand a reader stale telegrams, so drop what nobody picked up.
        waiting = struct.unpack(
            "i", fcntl.ioctl(self._slave, termios.FIONREAD, struct.pack("i", 0))
        )[0]
        if waiting > len(telegram):
            termios.tcflush(self._slave, termios.TCIFLUSH)
        try:
            os.write(self._master, telegram)
        except BlockingIOError:
            termios.tcflush(self._slave, termios.TCIFLUSH)

    def flow_steps(self) -> list[FlowStep]:
        return [
            FlowStep("user", {"next_step_id": "p1"}),
            FlowStep("p1", {"next_step_id": "p1_serial"}),
            FlowStep("p1_serial", {"serial_port": self._path, "serial_mode": self.serial_mode}),
            FlowStep("confirm", {}),
        ]

    @property
    def where(self) -> str:
        return f"serial {self._path} (pseudo-terminal)"


def demo_meters() -> list[DemoMeter]:
    """The meters the demo starts, each added to Home Assistant as a user would."""
    return [
        P1OverTcp("Belgian P1 meter over TCP", "1SAG1100000001", seed=1),
        P1OverPty("Belgian P1 meter on a serial port", "1SAG2200000002", seed=2),
    ]
