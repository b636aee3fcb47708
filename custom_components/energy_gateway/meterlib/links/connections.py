"""Byte links to a meter: a serial port or a TCP stream (ser2net, ESP serial bridges).

A link only moves bytes. It neither frames nor masks them (7-bit data read through an
8N1 port keeps its parity bit; the decoder deals with that), and it turns every failure
into a `LinkError` whose message can be shown to a user.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
import errno
import os
from pathlib import Path
import socket
import termios
from typing import TYPE_CHECKING, Protocol

from serial.tools import list_ports
import serial_asyncio_fast

from ..core.errors import LinkError, PortNotFoundError, PortPermissionError

if TYPE_CHECKING:
    from collections.abc import Iterable

    from serial.tools.list_ports_common import ListPortInfo

# Large enough that a whole telegram usually arrives in one chunk, so the decoder does
# not re-scan a growing buffer for every few bytes.
READ_CHUNK_SIZE = 65536
DEFAULT_CONNECT_TIMEOUT = 10.0
# A dead TCP peer (bridge lost power, Wi-Fi dropped) is noticed after about
# KEEPIDLE + KEEPINTVL * KEEPCNT seconds of silence instead of the kernel's two hours.
TCP_KEEPALIVE_IDLE = 10
TCP_KEEPALIVE_INTERVAL = 5
TCP_KEEPALIVE_COUNT = 3
BY_ID_DIR = Path("/dev/serial/by-id")

_NOT_FOUND_ERRNOS = frozenset({errno.ENOENT, errno.ENODEV, errno.ENXIO})
_PERMISSION_ERRNOS = frozenset({errno.EACCES, errno.EPERM})


@dataclass(frozen=True, slots=True)
class SerialSettings:
    """A serial port and its line settings."""

    path: str
    baudrate: int = 115200
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1


@dataclass(frozen=True, slots=True)
class TcpSettings:
    """A TCP endpoint that streams the meter's bytes."""

    host: str
    port: int


type LinkSettings = SerialSettings | TcpSettings


@dataclass(frozen=True, slots=True)
class SerialPreset:
    """Line settings without a port, as found on meter data sheets."""

    baudrate: int
    bytesize: int
    parity: str
    stopbits: int


SERIAL_PRESETS: dict[str, SerialPreset] = {
    "115200_8n1": SerialPreset(115200, 8, "N", 1),  # DSMR 5, e-MUCS, Smarty, ...
    "115200_7e1": SerialPreset(115200, 7, "E", 1),  # DSMR 4
    "9600_7e1": SerialPreset(9600, 7, "E", 1),  # DSMR 2.2 / 3
    "2400_8e1": SerialPreset(2400, 8, "E", 1),  # wired M-Bus pushes (TINETZ, Netz NÖ)
    "2400_8n1": SerialPreset(2400, 8, "N", 1),  # some Netz NÖ Kaifa meters
    "9600_8n1": SerialPreset(9600, 8, "N", 1),  # HDLC HAN ports (Aidon, Kaifa, Kamstrup)
    "9600_8e1": SerialPreset(9600, 8, "E", 1),  # HDLC HAN ports with parity
}


def serial_settings_for(path: str, preset: str) -> SerialSettings:
    """Build the settings for `path` from a named preset (a key of SERIAL_PRESETS)."""
    try:
        line = SERIAL_PRESETS[preset]
    except KeyError:
        raise ValueError(f"Unknown serial preset {preset!r}") from None
    return SerialSettings(path, line.baudrate, line.bytesize, line.parity, line.stopbits)


def preset_of(settings: SerialSettings) -> str | None:
    """Return the name of the preset matching the settings' line parameters, if any."""
    line = SerialPreset(settings.baudrate, settings.bytesize, settings.parity, settings.stopbits)
    return next((name for name, preset in SERIAL_PRESETS.items() if preset == line), None)


def describe_link(settings: LinkSettings) -> str:
    """One-line human description, e.g. `serial /dev/ttyUSB0 115200 8N1`."""
    if isinstance(settings, SerialSettings):
        framing = f"{settings.bytesize}{settings.parity.upper()}{settings.stopbits}"
        return f"serial {settings.path} {settings.baudrate} {framing}"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"tcp {host}:{settings.port}"


class Link(Protocol):
    """A bidirectional byte stream to a meter."""

    async def open(self) -> None:
        """Open the link; raise PortNotFoundError, PortPermissionError or LinkError."""
        ...

    async def read(self) -> bytes:
        """Return the next non-empty chunk; raise LinkError on end of stream or failure."""
        ...

    async def write(self, data: bytes) -> None:
        """Send bytes (poll requests); raise LinkError on failure."""
        ...

    async def close(self) -> None:
        """Release the link; safe to call at any time, more than once."""
        ...


def create_link(settings: LinkSettings) -> Link:
    """Return an unopened link for the settings."""
    if isinstance(settings, SerialSettings):
        return SerialLink(settings)
    return TcpLink(settings)


class _StreamLink:
    """Shared read/write/close over an asyncio reader/writer pair."""

    def __init__(self, description: str) -> None:
        self._description = description
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._description}>"

    async def read(self) -> bytes:
        reader = self._require_open()[0]
        try:
            data = await reader.read(READ_CHUNK_SIZE)
        except OSError as err:  # SerialException is an OSError too
            raise LinkError(f"Reading from {self._description} failed: {err}") from err
        if not data:
            raise LinkError(f"{self._description} closed the connection")
        return data

    async def write(self, data: bytes) -> None:
        writer = self._require_open()[1]
        try:
            writer.write(data)
            await writer.drain()
        except OSError as err:
            raise LinkError(f"Writing to {self._description} failed: {err}") from err

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is None:
            return
        # Abort rather than close: nothing we wrote is still pending (write() drains), and
        # a graceful close can hang on a dead peer or flush a serial port that never drains.
        if not writer.transport.is_closing():
            writer.transport.abort()
        with contextlib.suppress(Exception):
            await writer.wait_closed()

    def _attach(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    def _require_open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            raise LinkError(f"{self._description} is not open")
        return self._reader, self._writer


class SerialLink(_StreamLink):
    """A local serial port (USB P1 cable, on-board UART)."""

    def __init__(self, settings: SerialSettings) -> None:
        super().__init__(describe_link(settings))
        self.settings = settings

    async def open(self) -> None:
        await self.close()
        settings = self.settings
        try:
            reader, writer = await serial_asyncio_fast.open_serial_connection(
                url=settings.path,
                baudrate=settings.baudrate,
                bytesize=settings.bytesize,
                parity=settings.parity.upper(),
                stopbits=settings.stopbits,
            )
        except (OSError, ValueError, termios.error) as err:
            raise serial_open_error(settings.path, err) from err
        self._attach(reader, writer)

    async def set_rts(self, active: bool) -> None:
        """Assert (True) or release (False) RTS, e.g. the ENABLE line of an MEP port.

        Raises LinkError when the port has no modem lines (pseudo-terminals, some bridges).
        """
        writer = self._require_open()[1]
        port = getattr(writer.transport, "serial", None)
        if port is None:
            raise LinkError(f"{self._description} is closing")
        try:
            port.rts = active
        except (OSError, ValueError) as err:  # SerialException is an OSError too
            raise LinkError(f"Cannot drive RTS on {self._description}: {err}") from err


def serial_open_error(path: str, err: OSError | ValueError | termios.error) -> LinkError:
    """Translate a failure to open a serial port into the matching LinkError."""
    if isinstance(err, termios.error):
        # The device exists but refuses the line settings (some ptys and adapters reject
        # 7-bit framing or unusual rates); it is not an OSError, so it carries errno in args.
        reason = err.args[1] if len(err.args) > 1 else str(err)
        return LinkError(f"Serial port {path} does not accept these line settings: {reason}")
    code = err.errno if isinstance(err, OSError) else None
    text = str(err)
    if (
        isinstance(err, FileNotFoundError)
        or code in _NOT_FOUND_ERRNOS
        or (code is None and "No such file" in text)
    ):
        return PortNotFoundError(f"Serial port {path} does not exist")
    if (
        isinstance(err, PermissionError)
        or code in _PERMISSION_ERRNOS
        or (code is None and "Permission denied" in text)
    ):
        return PortPermissionError(
            f"No permission to open serial port {path} (is the user in the dialout group?)"
        )
    if code == errno.EBUSY:
        return LinkError(f"Serial port {path} is in use by another program")
    if isinstance(err, ValueError):
        return LinkError(f"Invalid settings for serial port {path}: {text}")
    return LinkError(f"Could not open serial port {path}: {text}")


class TcpLink(_StreamLink):
    """A TCP connection to a network serial bridge."""

    def __init__(
        self, settings: TcpSettings, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    ) -> None:
        super().__init__(describe_link(settings))
        self.settings = settings
        self._connect_timeout = connect_timeout

    async def open(self) -> None:
        await self.close()
        host, port = self.settings.host, self.settings.port
        where = self._description.removeprefix("tcp ")
        if not 0 < port < 65536:
            raise LinkError(f"Invalid TCP port {port} for {host}")
        try:
            async with asyncio.timeout(self._connect_timeout):
                reader, writer = await asyncio.open_connection(host, port)
        except OSError as err:  # includes TimeoutError, refusals and resolver failures
            raise tcp_connect_error(where, err) from err
        sock = writer.get_extra_info("socket")
        if sock is not None:
            enable_keepalive(sock)
        self._attach(reader, writer)


def tcp_connect_error(where: str, err: OSError) -> LinkError:
    """Translate a failed TCP connect to `where` (`host:port`) into a readable LinkError."""
    if isinstance(err, TimeoutError):
        return LinkError(f"Timed out connecting to {where}")
    if isinstance(err, ConnectionRefusedError):
        return LinkError(f"Connection to {where} refused (is the bridge running?)")
    if isinstance(err, socket.gaierror):
        return LinkError(f"Cannot resolve the host of {where}: {err.strerror}")
    if err.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
        return LinkError(f"{where} is unreachable")
    return LinkError(f"Cannot connect to {where}: {err.strerror or err}")


def enable_keepalive(sock: socket.socket) -> None:
    """Make the kernel probe an idle connection so a vanished peer ends the stream."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    # The fine-grained knobs are Linux names; elsewhere the system defaults apply.
    for name, value in (
        ("TCP_KEEPIDLE", TCP_KEEPALIVE_IDLE),
        ("TCP_KEEPINTVL", TCP_KEEPALIVE_INTERVAL),
        ("TCP_KEEPCNT", TCP_KEEPALIVE_COUNT),
    ):
        option = getattr(socket, name, None)
        if option is not None:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)


def list_serial_ports() -> list[tuple[str, str]]:
    """Return (device path, description) of the serial ports present. Blocking.

    Paths are the stable `/dev/serial/by-id/...` names when they exist, so a setup survives
    USB devices being enumerated in another order after a reboot.
    """
    return describe_ports(list_ports.comports(), BY_ID_DIR)


def stable_port_path(device: str, by_id_dir: Path = BY_ID_DIR) -> str:
    """The `/dev/serial/by-id/...` name of a device when it has one, else the device. Blocking."""
    return _stable_names(by_id_dir).get(os.path.realpath(device), device)


def describe_ports(ports: Iterable[ListPortInfo], by_id_dir: Path) -> list[tuple[str, str]]:
    """Pair each port with its stable name (from `by_id_dir`) and a readable description."""
    stable = _stable_names(by_id_dir)
    result: list[tuple[str, str]] = []
    for port in ports:
        device = str(port.device)
        path = stable.get(os.path.realpath(device), device)
        result.append((path, _port_description(port)))
    return sorted(result)


def _stable_names(by_id_dir: Path) -> dict[str, str]:
    """Map resolved device paths to their by-id symlinks."""
    try:
        entries = sorted(by_id_dir.iterdir())
    except OSError:  # no USB serial devices, or not Linux
        return {}
    return {os.path.realpath(entry): str(entry) for entry in entries}


def _port_description(port: ListPortInfo) -> str:
    description = str(port.description)
    if not description or description == "n/a":
        description = str(port.name)
    manufacturer = port.manufacturer
    if manufacturer and str(manufacturer) not in description:
        description = f"{description} - {manufacturer}"
    if port.serial_number:
        description = f"{description}, s/n {port.serial_number}"
    return description
