"""The bus: one pymodbus client for a serial line, a Modbus TCP meter or an RTU gateway.

Every request goes through `ModbusBus.read`, which never raises for a unit's behaviour: it
returns the registers, the unit's exception code, or "silent" after a timeout chosen per
unit and per reply size (adaptive: a multiple of the unit's measured turnaround plus the
reply's wire time, between `min_timeout` and `timeout`). pymodbus retries are off: a dead
meter costs one timeout, and the poller decides what to do about it.
"""

from __future__ import annotations

import asyncio
from collections import deque
import contextlib
from dataclasses import dataclass, field
from enum import Enum
import inspect
import logging
import os
import statistics
import time
from typing import Any, Final, Literal

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.client.mixin import ModbusClientMixin
from pymodbus.exceptions import ConnectionException, ModbusException
from pymodbus.framer import FramerType

from ..core.errors import PortNotFoundError, PortPermissionError
from .choices import (
    DEFAULT_BAUD_RATE,
    DEFAULT_DELAY,
    DEFAULT_PARITY,
    DEFAULT_STOP_BITS,
    DEFAULT_TCP_PORT,
    DEFAULT_TIMEOUT,
)
from .errors import BusUnreachableError, ModbusLinkError
from .schema import FunctionCode, MapCatalogue, load_maps
from .wire import BusLedger, LineTiming, Parity

_LOGGER = logging.getLogger(__name__)

# pymodbus renamed the unit keyword in 3.10 (slave= → device_id=); 3.16 rejects slave=.
UNIT_KEYWORD: Final = (
    "device_id"
    if "device_id" in inspect.signature(ModbusClientMixin.read_holding_registers).parameters
    else "slave"
)
_TURNAROUND_FACTOR: Final = 4.0  # Victron: timeout = 4 x measured latency
_SAMPLES: Final = 8
_NEVER_DISCONNECT: Final = 1_000_000
_URL_PORTS: Final = ("socket://", "rfc2217://")

type Framing = Literal["tcp", "rtu"]


@dataclass(frozen=True, slots=True)
class ModbusBusSettings:
    """Where the meters are and how to talk to them.

    Serial: `serial_port` plus line settings. Network: `host`/`port` with `framing` "tcp"
    (Modbus TCP) or "rtu" (RTU frames over TCP, a transparent gateway). The line settings
    also describe the RS485 line behind an RTU gateway: they size its timeouts.
    """

    serial_port: str | None = None
    host: str | None = None
    port: int = DEFAULT_TCP_PORT
    framing: Framing = "tcp"
    baudrate: int = DEFAULT_BAUD_RATE
    parity: Parity = DEFAULT_PARITY
    stopbits: int = DEFAULT_STOP_BITS
    bytesize: int = 8
    timeout: float = DEFAULT_TIMEOUT
    """Longest wait for any reply (also the first contact with a unit never heard)."""
    min_timeout: float = 0.1
    """Shortest wait: what an absent unit costs during a scan."""
    delay: float = DEFAULT_DELAY
    """Pause after every request, for meters that need one between frames."""

    def __post_init__(self) -> None:
        if (self.serial_port is None) == (self.host is None):
            raise ValueError("give either serial_port or host")
        if not 0 < self.min_timeout <= self.timeout:
            raise ValueError("need 0 < min_timeout <= timeout")

    @property
    def line(self) -> LineTiming:
        """Character timing of the serial line."""
        return LineTiming(self.baudrate, self.parity, self.stopbits, self.bytesize)

    @property
    def rtu_framed(self) -> bool:
        """True when replies cross a serial line: serial port or RTU-over-TCP gateway."""
        return self.serial_port is not None or self.framing == "rtu"

    @property
    def target(self) -> str:
        """The serial port or `host:port`, for messages."""
        return self.serial_port if self.serial_port is not None else f"{self.host}:{self.port}"


class Outcome(Enum):
    """How a unit reacted to one request."""

    DATA = "data"
    EXCEPTION = "exception"
    SILENT = "silent"


@dataclass(frozen=True, slots=True)
class Reply:
    """The answer to one read."""

    outcome: Outcome
    registers: tuple[int, ...] = ()
    exception_code: int | None = None
    elapsed: float = 0.0


@dataclass(slots=True)
class _UnitTiming:
    """Turnarounds measured for one unit, newest last."""

    samples: deque[float] = field(default_factory=lambda: deque(maxlen=_SAMPLES))

    @property
    def turnaround(self) -> float:
        return max(self.samples)


class ModbusBus:
    """One Modbus link and the units on it: reads, adaptive timeouts, scanning."""

    def __init__(self, settings: ModbusBusSettings, maps: MapCatalogue | None = None) -> None:
        self.settings = settings
        self.maps = maps if maps is not None else load_maps()
        self.ledger = BusLedger()
        self._client: AsyncModbusSerialClient | AsyncModbusTcpClient | None = None
        self._lock = asyncio.Lock()
        self._timing: dict[int, _UnitTiming] = {}

    @property
    def connected(self) -> bool:
        """True while the link is open."""
        return self._client is not None and self._client.connected

    async def connect(self) -> None:
        """Open the link; raise a `LinkError` subclass with a one-line reason."""
        settings = self.settings
        if settings.serial_port is not None:
            _check_serial_port(settings.serial_port)
            client: AsyncModbusSerialClient | AsyncModbusTcpClient = AsyncModbusSerialClient(
                settings.serial_port,
                framer=FramerType.RTU,
                baudrate=settings.baudrate,
                bytesize=settings.bytesize,
                parity=settings.parity,
                stopbits=settings.stopbits,
                timeout=settings.timeout,
                retries=0,
            )
        else:
            assert settings.host is not None
            await _check_tcp(settings.host, settings.port, settings.timeout)
            client = AsyncModbusTcpClient(
                settings.host,
                port=settings.port,
                framer=FramerType.RTU if settings.framing == "rtu" else FramerType.SOCKET,
                timeout=settings.timeout,
                retries=0,
                reconnect_delay=0.1,
                reconnect_delay_max=5.0,
            )
        # A dead unit must never make pymodbus drop the connection of the healthy ones.
        # Set before connecting: pymodbus arms its countdown from it on connection.
        client.set_max_no_responses(_NEVER_DISCONNECT)
        _quiet_expected_silence()
        try:
            opened = await client.connect()
        except (OSError, ModbusException) as err:
            raise ModbusLinkError(f"cannot open {settings.target}: {err}") from None
        if not opened:
            client.close()
            if settings.serial_port is not None:
                raise ModbusLinkError(f"cannot open serial port {settings.target}")
            raise BusUnreachableError(f"cannot connect to {settings.target}")

        self._client = client

    async def close(self) -> None:
        """Close the link (idempotent)."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def timeout_for(self, unit: int, count: int, *, ceiling: bool = False) -> float:
        """How long to wait for `unit` to answer a read of `count` registers: the reply's
        wire time plus 4 x its measured turnaround (a unit never heard: the bus's), at
        least `min_timeout`; `ceiling` asks for the configured maximum instead."""
        settings = self.settings
        wire = settings.line.reply_time(count) if settings.rtu_framed else 0.0
        if ceiling:
            return max(settings.timeout, wire + settings.min_timeout)
        timing = self._timing.get(unit)
        turnaround = timing.turnaround if timing is not None else self.bus_turnaround()
        wait = wire + max(settings.min_timeout, _TURNAROUND_FACTOR * turnaround)
        return min(wait, max(settings.timeout, wire + settings.min_timeout))

    def bus_turnaround(self) -> float:
        """Median turnaround of the units heard so far (0 before any)."""
        if not self._timing:
            return 0.0
        return statistics.median(timing.turnaround for timing in self._timing.values())

    def knows(self, unit: int) -> bool:
        """True when `unit` has answered at least once."""
        return unit in self._timing

    async def read(
        self, unit: int, fc: FunctionCode, address: int, count: int, *, wait: float
    ) -> Reply:
        """Read `count` registers, waiting at most `wait` seconds for the answer; raise
        `ModbusLinkError` only when the link itself broke."""
        client = self._client
        if client is None:
            raise ModbusLinkError(f"{self.settings.target} is not connected")
        # Any: the unit keyword is chosen at run time (slave= or device_id=).
        method: Any = client.read_holding_registers if fc == 3 else client.read_input_registers
        async with self._lock:
            _set_request_timeout(client, wait)
            started = time.monotonic()
            try:
                response: Any = await method(address, count=count, **{UNIT_KEYWORD: unit})
            except ModbusException as err:
                # pymodbus 3.13 turns the cancellation of a waiting request into an error of
                # its own ("Request cancelled outside library"): the cancellation must win, or
                # a closed dialog or an unloaded entry would leave its scan or poll running.
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise asyncio.CancelledError from err
                if isinstance(err, ConnectionException):
                    raise ModbusLinkError(
                        f"{self.settings.target}: connection lost ({err})"
                    ) from None
                # No (valid) response in time; a late or garbled frame is flushed before the
                # next request.
                response = None
            elapsed = time.monotonic() - started
            if self.settings.delay:
                await asyncio.sleep(self.settings.delay)
        return self._reply(unit, count, response, elapsed, wait)

    def _reply(self, unit: int, count: int, response: Any, elapsed: float, wait: float) -> Reply:
        if response is None:
            self.ledger.silent += 1
            self.ledger.timeout_waited += wait
            return Reply(Outcome.SILENT, elapsed=elapsed)
        self._learn(unit, count, elapsed)
        if response.isError():
            code = getattr(response, "exception_code", None)
            self.ledger.exceptions += 1
            return Reply(Outcome.EXCEPTION, exception_code=code, elapsed=elapsed)
        registers = tuple(response.registers)
        if len(registers) != count:
            self.ledger.exceptions += 1
            return Reply(Outcome.EXCEPTION, exception_code=None, elapsed=elapsed)
        self.ledger.answered += 1
        self.ledger.registers += count
        return Reply(Outcome.DATA, registers=registers, elapsed=elapsed)

    def _learn(self, unit: int, count: int, elapsed: float) -> None:
        wire = self.settings.line.reply_time(count) if self.settings.rtu_framed else 0.0
        self._timing.setdefault(unit, _UnitTiming()).samples.append(max(0.0, elapsed - wire))


def _set_request_timeout(
    client: AsyncModbusSerialClient | AsyncModbusTcpClient, wait: float
) -> None:
    """Set how long the next request waits for its reply.

    pymodbus (3.8 to 3.16) waits `comm_params.timeout_connect` of its transaction manager
    `ctx`, a copy of the client's parameters made at construction: that copy is the one
    to change. There is no public per-request timeout.
    """
    client.comm_params.timeout_connect = wait
    manager = getattr(client, "ctx", None)
    params = getattr(manager, "comm_params", None)
    if params is not None:
        params.timeout_connect = wait


class _ExpectedSilenceFilter(logging.Filter):
    """Drop pymodbus's error records for what a scan and a fleet expect: every unanswered
    request (with a frame dump) and, in pymodbus 3.8, every exception reply. The poller
    logs a unit going offline once, and a disabled register once."""

    _EXPECTED = ("No response received after", "Exception response ")

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self._EXPECTED)


_SILENCE_FILTER: Final = _ExpectedSilenceFilter()


def _quiet_expected_silence() -> None:
    for name in ("pymodbus", "pymodbus.logging"):
        logger = logging.getLogger(name)
        if _SILENCE_FILTER not in logger.filters:
            logger.addFilter(_SILENCE_FILTER)


def _check_serial_port(path: str) -> None:
    if path.startswith(_URL_PORTS):
        return
    if not os.path.exists(path):
        raise PortNotFoundError(f"serial port {path} does not exist")
    if not os.access(path, os.R_OK | os.W_OK):
        raise PortPermissionError(f"no permission to open serial port {path}")


async def _check_tcp(host: str, port: int, wait: float) -> None:
    """Connect once ourselves: pymodbus only says False, we want the reason."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), wait)
    except TimeoutError:
        raise BusUnreachableError(f"{host}:{port} did not answer within {wait:g} s") from None
    except OSError as err:
        raise BusUnreachableError(
            f"cannot connect to {host}:{port}: {err.strerror or err}"
        ) from None
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
