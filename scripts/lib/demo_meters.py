"""The simulated meters `scripts/demo` serves, and how a user adds each one in the UI.

Every demo meter is a `DemoMeter`: it serves its wire protocol on this machine, knows the
config-flow answers that add it, and names the registers the Energy dashboard should use.
A meter is a simulator (`PushingMeter` subclasses: Belgian P1, Austrian
M-Bus, Nordic HDLC) served over a `Transport` (a TCP server or a pseudo-terminal), or a polled
meter that answers requests on a server of its own (`SimulatedMep`, a Danish NES meter); a
new kind is one more subclass and one more entry in `demo_meters()`.
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
import secrets
import struct
import termios
import tty
from typing import Any, ClassVar, Protocol

from simulators.dlms_meter import (
    SimulatedHdlcMeter,
    SimulatedMbusMeter,
)
from simulators.mep_meter import DEMO_KEY, MepTcpServer, SimulatedMepMeter
from simulators.p1_meter import ReportedValue, SimulatedP1Meter

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

    def units(self) -> dict[str, str | None]:
        """Units of the values `reported` and `history` give (kWh, Wh, ...), where known."""
        return {}

    @property
    def key(self) -> bytes | None:
        """The key the meter encrypts with, None when it sends in the clear."""
        return None

    @property
    def key_text(self) -> str | None:
        """The key as a user types it into the config flow, None when there is none."""
        return None if self.key is None else self.key.hex().upper()

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
DLMS_ENERGY = EnergyRoles(grid_import=("1-0:1.8.0",), grid_export=("1-0:2.8.0",))
NETZNOE_LIVE = (
    "1-0:1.7.0",
    "1-0:2.7.0",
    "1-0:32.7.0",
    "1-0:52.7.0",
    "1-0:72.7.0",
    "1-0:31.7.0",
    "1-0:13.7.0",
)
AIDON_LIVE = (
    "1-0:1.7.0",
    "1-0:2.7.0",
    "1-0:3.7.0",
    "1-0:32.7.0",
    "1-0:52.7.0",
    "1-0:72.7.0",
    "1-0:31.7.0",
)


class Simulation(Protocol):
    """What a meter simulator offers besides producing messages."""

    @property
    def reported(self) -> dict[str, ReportedValue]:
        """The values of the last message sent."""
        ...


# -- where a meter is served -----------------------------------------------------------------


class Transport(ABC):
    """How the meter's bytes reach Home Assistant, and how a user names that place."""

    kind: str
    """The config flow's connection step suffix: `network` or `serial`."""

    @abstractmethod
    async def start(self) -> None:
        """Open the port; returns once a client can connect."""

    @abstractmethod
    async def stop(self) -> None:
        """Close the port."""

    @abstractmethod
    def send(self, data: bytes) -> None:
        """Deliver one message to whoever listens."""

    @abstractmethod
    def answer(self) -> dict[str, Any]:
        """The connection step's answer (valid after `start`)."""

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the meter is served, for people."""


class TcpServer(Transport):
    """A network bridge (ser2net, a Wi-Fi dongle): a TCP server on localhost."""

    kind = "network"

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = 0
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
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
        _LOGGER.debug("%s: client %s connected", self.where, writer.get_extra_info("peername"))
        try:
            # A bridge ignores what the client sends; reading tells us when it leaves.
            while await reader.read(4096):
                pass
        except OSError:
            pass
        finally:
            self._clients.discard(writer)
            writer.close()

    def send(self, data: bytes) -> None:
        for writer in list(self._clients):
            if writer.transport.get_write_buffer_size() > _MAX_CLIENT_BACKLOG:
                self._clients.discard(writer)
                writer.close()
                continue
            writer.write(data)

    def answer(self) -> dict[str, Any]:
        return {"host": self.host, "port": self.port}

    @property
    def where(self) -> str:
        return f"tcp {self.host}:{self.port}"


class PseudoTerminal(Transport):
    """A USB cable: a pseudo-terminal whose other end is the "serial port"."""

    kind = "serial"

    def __init__(self, serial_mode: str = "auto") -> None:
        self.serial_mode = serial_mode
        self.path = ""
        self._master = self._slave = -1

    async def start(self) -> None:
        self._master, self._slave = os.openpty()
        # Raw, like a serial line: no echo, no CR/LF translation. We keep the slave open so
        # the terminal (and these settings) survive while nobody else has the port open.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        # Whatever the reader writes back (nothing, for push meters) is read and dropped.
        asyncio.get_running_loop().add_reader(self._master, self._drain)

    def _drain(self) -> None:
        with contextlib.suppress(OSError):
            os.read(self._master, 4096)

    async def stop(self) -> None:
        if self._master >= 0:
            asyncio.get_running_loop().remove_reader(self._master)
            os.close(self._master)
        if self._slave >= 0:
            os.close(self._slave)
        self._master = self._slave = -1

    def send(self, data: bytes) -> None:
        # A real meter talks whether or not anyone listens; a pty would keep the backlog and
        # hand a reader stale messages, so drop what nobody picked up.
        waiting = struct.unpack(
            "i", fcntl.ioctl(self._slave, termios.FIONREAD, struct.pack("i", 0))
        )[0]
        if waiting > len(data):
            termios.tcflush(self._slave, termios.TCIFLUSH)
        try:
            os.write(self._master, data)
        except BlockingIOError:
            termios.tcflush(self._slave, termios.TCIFLUSH)

    def answer(self) -> dict[str, Any]:
        return {"serial_port": self.path, "serial_mode": self.serial_mode}

    @property
    def where(self) -> str:
        return f"serial {self.path} (pseudo-terminal)"


# -- simulated meters ------------------------------------------------------------------------


@dataclass(eq=False)
class PushingMeter[S: Simulation](DemoMeter):
    """A simulated meter that pushes a message every `interval` seconds over `transport`."""

    transport: Transport = field(kw_only=True)
    seed: int = 0
    source: ClassVar[str] = "p1"
    """The config flow's menu choice for this kind of meter."""
    interval: ClassVar[float] = 1.0
    """Seconds between messages; sent just after each multiple of it, like a meter clock."""
    _meter: S = field(init=False)
    _ticker: asyncio.Task[None] | None = field(default=None, init=False)
    _started: datetime | None = field(default=None, init=False)
    _first: dict[str, ReportedValue] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._meter = self._simulator(None)

    @abstractmethod
    def _simulator(self, start: datetime | None) -> S:
        """A new simulator of this meter, starting at `start` (None: its first message)."""

    @abstractmethod
    def _message(self, meter: S, now: datetime) -> bytes:
        """Advance `meter` to `now` and return the bytes it sends."""

    async def start(self) -> None:
        await self.transport.start()
        self._ticker = asyncio.create_task(self._tick(), name=f"demo meter {self.name}")

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await self.transport.stop()

    async def _tick(self) -> None:
        while True:
            now = datetime.now(UTC)
            message = self._message(self._meter, now)
            if self._started is None:
                self._started, self._first = now, dict(self._meter.reported)
            self.transport.send(message)
            await asyncio.sleep(
                self.interval + 0.02 - datetime.now(UTC).timestamp() % self.interval
            )

    def flow_steps(self) -> list[FlowStep]:
        connection = f"{self.source}_{self.transport.kind}"
        steps = [
            FlowStep("user", {"next_step_id": self.source}),
            FlowStep(self.source, {"next_step_id": connection}),
            FlowStep(connection, self.transport.answer()),
        ]
        if self.key_text is not None:
            steps.append(FlowStep(f"{self.source}_key", {"key": self.key_text}))
        steps.append(FlowStep("confirm", {}))
        return steps

    @property
    def where(self) -> str:
        return self.transport.where

    def reported(self) -> dict[str, ReportedValue]:
        return dict(self._meter.reported)

    def history(self, keys: tuple[str, ...], hours: int) -> dict[str, list[HourRow]]:
        # The household is a pure function of time and seed: a second meter started earlier
        # replays exactly the load the live one would have seen.
        if self._started is None:
            return {}
        start = self._started
        first_hour = start.replace(minute=0, second=0, microsecond=0) - hours * _HOUR
        replay = self._simulator(first_hour)
        ends: list[tuple[datetime, dict[str, ReportedValue]]] = []
        for hour in range(1, hours + 1):
            end = first_hour + hour * _HOUR
            self._message(replay, end)
            ends.append((end, dict(replay.reported)))
        self._message(replay, start)
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
class SimulatedP1(PushingMeter[SimulatedP1Meter]):
    """A Belgian P1 meter sending one telegram a second."""

    energy: EnergyRoles = P1_ENERGY
    live_keys: tuple[str, ...] = P1_LIVE

    def _simulator(self, start: datetime | None) -> SimulatedP1Meter:
        return SimulatedP1Meter(equipment_id=self.meter_id, seed=self.seed, start=start)

    def _message(self, meter: SimulatedP1Meter, now: datetime) -> bytes:
        return meter.telegram(now)

    def units(self) -> dict[str, str | None]:
        return dict.fromkeys((*P1_ENERGY.grid_import, *P1_ENERGY.grid_export), "kWh")


@dataclass(eq=False)
class SimulatedNetzNoe(PushingMeter[SimulatedMbusMeter]):
    """An Austrian Netz NÖ Kaifa meter: encrypted DLMS pushes in two M-Bus frames every 5 s.

    The key is new for every run, like a key the grid operator hands out per meter.
    """

    energy: EnergyRoles = DLMS_ENERGY
    live_keys: tuple[str, ...] = NETZNOE_LIVE
    encryption_key: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    source: ClassVar[str] = "dlms"
    interval: ClassVar[float] = 5.0

    def _simulator(self, start: datetime | None) -> SimulatedMbusMeter:
        return SimulatedMbusMeter(
            key=self.encryption_key, meter_number=self.meter_id, seed=self.seed, start=start
        )

    def _message(self, meter: SimulatedMbusMeter, now: datetime) -> bytes:
        return meter.frames(now)

    @property
    def key(self) -> bytes | None:
        return self.encryption_key

    def units(self) -> dict[str, str | None]:
        return dict(self._meter.units)


@dataclass(eq=False)
class SimulatedAidon(PushingMeter[SimulatedHdlcMeter]):
    """A Norwegian Aidon 6525 on its HAN port: one plain HDLC frame every 2 s.

    Real Aidon meters send their short list every 2.5 s and the energy registers once an
    hour; the demo sends the full list every time, so the counters move while one watches.
    """

    energy: EnergyRoles = DLMS_ENERGY
    live_keys: tuple[str, ...] = AIDON_LIVE
    source: ClassVar[str] = "dlms"
    interval: ClassVar[float] = 2.0

    def _simulator(self, start: datetime | None) -> SimulatedHdlcMeter:
        return SimulatedHdlcMeter(meter_id=self.meter_id, seed=self.seed, start=start)

    def _message(self, meter: SimulatedHdlcMeter, now: datetime) -> bytes:
        return meter.frames(now)

    def units(self) -> dict[str, str | None]:
        return dict(self._meter.units)


MEP_ENERGY = EnergyRoles(grid_import=("1-0:1.8.0",), grid_export=("1-0:2.8.0",))
MEP_LIVE = ("1-0:1.7.0", "1-0:2.7.0", "1-0:32.7.0", "1-0:52.7.0", "1-0:72.7.0", "1-0:31.7.0")


class _Clock:
    """A settable clock for a replayed meter."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@dataclass(eq=False)
class SimulatedMep(DemoMeter):
    """A Danish NES/Echelon meter on its MEP port behind a TCP serial bridge; Home Assistant
    polls it (every 2 s) with the key the utility would have sent, as 20 characters."""

    energy: EnergyRoles = MEP_ENERGY
    live_keys: tuple[str, ...] = MEP_LIVE
    seed: int = 0
    _server: MepTcpServer | None = field(default=None, init=False)
    _started: float | None = field(default=None, init=False)
    _first: dict[str, float] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self._meter = SimulatedMepMeter(DEMO_KEY, seed=self.seed, serial=self.meter_id)

    async def start(self) -> None:
        self._started = self._meter.clock()
        self._first = self._meter.truth()
        self._server = await MepTcpServer(self._meter).start()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.close()
            self._server = None

    def flow_steps(self) -> list[FlowStep]:
        assert self._server is not None
        return [
            FlowStep("user", {"next_step_id": "mep"}),
            FlowStep("mep", {"next_step_id": "mep_network"}),
            FlowStep("mep_network", {"host": "127.0.0.1", "port": self._server.port}),
            FlowStep("mep_key", {"key": self.key_text}),
            FlowStep("mep_confirm", {}),
        ]

    @property
    def where(self) -> str:
        port = self._server.port if self._server is not None else "-"
        return f"tcp 127.0.0.1:{port} (MEP port behind a serial bridge)"

    @property
    def key(self) -> bytes | None:
        return DEMO_KEY

    @property
    def key_text(self) -> str | None:
        return DEMO_KEY.decode("ascii")

    def reported(self) -> dict[str, ReportedValue]:
        return dict(self._meter.truth())

    def units(self) -> dict[str, str | None]:
        return dict.fromkeys((*MEP_ENERGY.grid_import, *MEP_ENERGY.grid_export), "Wh")

    def history(self, keys: tuple[str, ...], hours: int) -> dict[str, list[HourRow]]:
        # The household is a pure function of time and seed: a meter replayed from a week
        # earlier grows exactly as the live one would have.
        if self._started is None:
            return {}
        start = datetime.fromtimestamp(self._started, UTC)
        first_hour = start.replace(minute=0, second=0, microsecond=0) - hours * _HOUR
        clock = _Clock(first_hour.timestamp())
        replay = SimulatedMepMeter(DEMO_KEY, seed=self.seed, serial=self.meter_id, clock=clock)
        ends: list[tuple[datetime, dict[str, float]]] = []
        for hour in range(1, hours + 1):
            end = first_hour + hour * _HOUR
            clock.now = end.timestamp()
            ends.append((end, replay.truth()))
        clock.now = self._started
        at_start = replay.truth()
        rows: dict[str, list[HourRow]] = {}
        for key in keys:
            if key not in self._first or key not in at_start:
                continue
            rows[key] = [
                HourRow(
                    end - _HOUR,
                    self._first[key] + values[key] - at_start[key],
                    values[key] - at_start[key],
                )
                for end, values in ends
            ]
        return rows


def demo_meters() -> list[DemoMeter]:
    """The meters the demo starts, each added to Home Assistant as a user would."""
    from demo_modbus import SimulatedModbusFleet  # noqa: PLC0415 - it builds on this module

    return [
        SimulatedP1("Belgian P1 meter over TCP", "1SAG1100000001", transport=TcpServer(), seed=1),
        SimulatedP1(
            "Belgian P1 meter on a serial port",
            "1SAG2200000002",
            transport=PseudoTerminal("auto"),
            seed=2,
        ),
        SimulatedNetzNoe(
            "Austrian Netz NÖ M-Bus meter (encrypted) over TCP",
            "181220004711",
            transport=TcpServer(),
            seed=3,
        ),
        SimulatedAidon(
            "Norwegian Aidon HDLC meter on a serial port",
            "7359992890941742",
            transport=PseudoTerminal("auto"),
            seed=4,
        ),
        SimulatedModbusFleet("Modbus fleet of 32 mixed meters over TCP", "modbus"),
        SimulatedMep("Danish NES meter on its MEP port over TCP", "5706567270012345", seed=5),
    ]
