"""Links against real pseudo-terminals and real loopback TCP sockets."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
from pathlib import Path
import socket
import subprocess
import sys
import termios
from typing import TYPE_CHECKING

import pytest
from pytest_homeassistant_custom_component import plugins as ha_test_plugins
import serial
from serial.tools.list_ports_common import ListPortInfo

from custom_components.energy_gateway.meterlib.core.errors import (
    LinkError,
    PortNotFoundError,
    PortPermissionError,
)
from custom_components.energy_gateway.meterlib.links.connections import (
    SERIAL_PRESETS,
    Link,
    SerialLink,
    SerialSettings,
    TcpLink,
    TcpSettings,
    create_link,
    describe_link,
    describe_ports,
    enable_keepalive,
    list_serial_ports,
    preset_of,
    serial_open_error,
    serial_settings_for,
    tcp_connect_error,
)
from tests.pseudo_terminal import PseudoTerminal as Pty

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

REPO_ROOT = Path(__file__).resolve().parents[3]
# Loopback TCP needs the socket guard of the Home Assistant test plugin lifted; it still
# only lets connections go to 127.0.0.1.
uses_tcp = pytest.mark.usefixtures("socket_enabled")


@pytest.fixture
def pty() -> Iterator[Pty]:
    terminal = Pty()
    yield terminal
    terminal.close()


async def read_exactly(link: Link, size: int) -> bytes:
    data = b""
    async with asyncio.timeout(2):
        while len(data) < size:
            data += await link.read()
    return data


class EchoServer:
    """A loopback TCP server that greets each client and echoes what it receives."""

    def __init__(self, greeting: bytes) -> None:
        self.greeting = greeting
        self.port = 0
        self.client_gone = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._handlers: list[asyncio.Task[object]] = []

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        self._handlers.append(task)
        writer.write(self.greeting)
        with contextlib.suppress(ConnectionResetError):  # the client aborts its end
            while data := await reader.read(1024):
                writer.write(data)
        self.client_gone.set()
        writer.close()

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()
        await asyncio.gather(*self._handlers)


@pytest.fixture
async def echo_server(socket_enabled: None) -> AsyncIterator[EchoServer]:
    server = EchoServer(b"/ISK5\r\n")
    await server.start()
    yield server
    await server.stop()


def test_settings_and_presets() -> None:
    assert SerialSettings("/dev/ttyUSB0") == SerialSettings("/dev/ttyUSB0", 115200, 8, "N", 1)
    assert serial_settings_for("/dev/ttyUSB0", "115200_7e1") == SerialSettings(
        "/dev/ttyUSB0", 115200, 7, "E", 1
    )
    assert serial_settings_for("/dev/ttyS0", "9600_7e1") == SerialSettings(
        "/dev/ttyS0", 9600, 7, "E", 1
    )
    assert set(SERIAL_PRESETS) == {
        "115200_8n1",
        "115200_7e1",
        "9600_7e1",
        "2400_8e1",
        "2400_8n1",
        "9600_8n1",
        "9600_8e1",
    }
    for name in SERIAL_PRESETS:
        assert preset_of(serial_settings_for("/dev/x", name)) == name
    assert preset_of(SerialSettings("/dev/x", baudrate=2400)) == "2400_8n1"
    assert preset_of(SerialSettings("/dev/x", baudrate=4800)) is None
    with pytest.raises(ValueError, match="Unknown serial preset"):
        serial_settings_for("/dev/x", "300_5n2")


def test_describe_link() -> None:
    assert describe_link(SerialSettings("/dev/ttyUSB0")) == "serial /dev/ttyUSB0 115200 8N1"
    assert describe_link(serial_settings_for("/dev/ttyS1", "9600_7e1")) == (
        "serial /dev/ttyS1 9600 7E1"
    )
    assert describe_link(TcpSettings("192.168.1.5", 8088)) == "tcp 192.168.1.5:8088"
    assert describe_link(TcpSettings("fd00::5", 23)) == "tcp [fd00::5]:23"


def test_create_link_picks_the_transport() -> None:
    serial_link = create_link(SerialSettings("/dev/ttyUSB0"))
    tcp_link = create_link(TcpSettings("127.0.0.1", 23))
    assert isinstance(serial_link, SerialLink)
    assert isinstance(tcp_link, TcpLink)
    assert "serial /dev/ttyUSB0" in repr(serial_link)
    assert "tcp 127.0.0.1:23" in repr(tcp_link)


async def test_serial_link_reads_writes_and_closes(pty: Pty) -> None:
    link = create_link(SerialSettings(pty.path))
    with pytest.raises(LinkError, match="not open"):
        await link.write(b"x")
    await link.open()
    try:
        # Bytes with the high bit set pass untouched: masking 7-bit data is the decoder's job.
        payload = b"/XMX5LGBBFG\r\n\xa1\x00!1234\r\n"
        pty.send(payload)
        assert await read_exactly(link, len(payload)) == payload
        await link.write(b"\x2f\x3f\x21\r\n")
        assert pty.receive(64) == b"/?!\r\n"
    finally:
        await link.close()
    await link.close()  # closing twice is harmless
    with pytest.raises(LinkError, match="not open"):
        await link.read()


async def test_serial_link_can_be_reopened(pty: Pty) -> None:
    link = create_link(SerialSettings(pty.path))
    await link.open()
    await link.open()  # reopening releases the first handle instead of leaking it
    try:
        pty.send(b"again")
        assert await read_exactly(link, 5) == b"again"
    finally:
        await link.close()


async def test_serial_hang_up_is_a_link_error(pty: Pty) -> None:
    link = create_link(SerialSettings(pty.path))
    await link.open()
    try:
        pty.hang_up()
        with pytest.raises(LinkError, match=f"Reading from serial {pty.path}"):
            async with asyncio.timeout(2):
                await link.read()
    finally:
        await link.close()


async def write_until_refused(link: Link) -> None:
    # The kernel may still take a write or two before the port reports a hang-up.
    async with asyncio.timeout(2):
        while True:
            await link.write(b"/?!\r\n")
            await asyncio.sleep(0.01)


async def test_serial_write_after_hang_up_is_a_link_error(pty: Pty) -> None:
    link = create_link(SerialSettings(pty.path))
    await link.open()
    try:
        pty.hang_up()
        with pytest.raises(LinkError, match=f"Writing to serial {pty.path}"):
            await write_until_refused(link)
    finally:
        await link.close()


async def test_missing_serial_port(tmp_path: Path) -> None:
    path = str(tmp_path / "ttyUSB9")
    link = create_link(SerialSettings(path))
    with pytest.raises(PortNotFoundError, match=f"{path} does not exist"):
        await link.open()


async def test_not_a_terminal_is_a_plain_link_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a tty")
    with pytest.raises(LinkError, match="Could not open serial port") as caught:
        await create_link(SerialSettings(str(path))).open()
    assert not isinstance(caught.value, PortNotFoundError | PortPermissionError)


async def test_invalid_line_settings(pty: Pty) -> None:
    with pytest.raises(LinkError, match="Invalid settings"):
        await create_link(SerialSettings(pty.path, parity="X")).open()


# Root opens anything, so a root child drops to `nobody` once its imports are done (the
# interpreter itself may live where `nobody` cannot read).
_OPEN_WITHOUT_ACCESS = """
import asyncio, concurrent.futures.thread, os, sys
from custom_components.energy_gateway.meterlib.links.connections import SerialSettings, create_link
if os.geteuid() == 0:
    os.setuid(65534)
try:
    asyncio.run(create_link(SerialSettings(sys.argv[1])).open())
except Exception as err:
    print(type(err).__name__, err)
"""


def test_serial_permission_denied_for_real(pty: Pty) -> None:
    os.chmod(pty.path, 0o000)
    result = subprocess.run(
        [sys.executable, "-c", _OPEN_WITHOUT_ACCESS, pty.path],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.startswith("PortPermissionError No permission to open serial port")
    assert "dialout" in result.stdout


@pytest.mark.parametrize(
    ("error", "expected", "message"),
    [
        (
            serial.SerialException(
                errno.ENOENT,
                "could not open port /dev/p1: [Errno 2] No such file or directory: '/dev/p1'",
            ),
            PortNotFoundError,
            "does not exist",
        ),
        (
            serial.SerialException("could not open port /dev/p1: No such file or directory"),
            PortNotFoundError,
            "does not exist",
        ),
        (FileNotFoundError("gone"), PortNotFoundError, "does not exist"),
        (OSError(errno.ENXIO, "No such device or address"), PortNotFoundError, "does not exist"),
        (PermissionError(errno.EACCES, "Permission denied"), PortPermissionError, "dialout"),
        (serial.SerialException(errno.EPERM, "not permitted"), PortPermissionError, "dialout"),
        (
            serial.SerialException("could not open port /dev/p1: Permission denied"),
            PortPermissionError,
            "dialout",
        ),
        (OSError(errno.EBUSY, "Device or resource busy"), LinkError, "in use by another program"),
        (ValueError("Not a valid baudrate: -1"), LinkError, "Invalid settings"),
        (serial.SerialException("Could not configure port"), LinkError, "Could not open"),
        (
            termios.error(errno.EINVAL, "Invalid argument"),
            LinkError,
            "does not accept these line settings: Invalid argument",
        ),
    ],
)
def test_serial_open_error_mapping(
    error: OSError | ValueError | termios.error, expected: type[LinkError], message: str
) -> None:
    mapped = serial_open_error("/dev/p1", error)
    assert type(mapped) is expected
    assert message in str(mapped)
    assert "/dev/p1" in str(mapped)


@uses_tcp
async def test_tcp_link_reads_writes_and_closes(echo_server: EchoServer) -> None:
    link = create_link(TcpSettings("127.0.0.1", echo_server.port))
    await link.open()
    try:
        assert await read_exactly(link, 7) == b"/ISK5\r\n"
        await link.write(b"poll")
        assert await read_exactly(link, 4) == b"poll"
    finally:
        await link.close()
    async with asyncio.timeout(2):
        await echo_server.client_gone.wait()


@uses_tcp
async def test_tcp_link_turns_on_keepalive(echo_server: EchoServer) -> None:
    link = TcpLink(TcpSettings("127.0.0.1", echo_server.port))
    await link.open()
    try:
        assert link._writer is not None
        sock = link._writer.get_extra_info("socket")
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE) == 10
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL) == 5
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == 3
    finally:
        await link.close()


@uses_tcp
def test_enable_keepalive_on_a_plain_socket() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0
        enable_keepalive(sock)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1


@uses_tcp
async def test_tcp_peer_closing_is_a_link_error() -> None:
    async def close_at_once(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(close_at_once, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    link = create_link(TcpSettings("127.0.0.1", port))
    try:
        await link.open()
        with pytest.raises(LinkError, match=f"tcp 127.0.0.1:{port} closed the connection"):
            async with asyncio.timeout(2):
                await link.read()
    finally:
        await link.close()
        server.close()
        await server.wait_closed()


@uses_tcp
async def test_tcp_connection_refused() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(LinkError, match=f"Connection to 127.0.0.1:{port} refused"):
        await create_link(TcpSettings("127.0.0.1", port)).open()


@uses_tcp
async def test_tcp_connect_timeout() -> None:
    # A listener that never accepts and whose backlog is full drops further handshakes,
    # which is what a bridge that vanished from the network looks like to the client.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers: list[socket.socket] = []
        try:
            for _ in range(2):
                filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                fillers.append(filler)
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
            link = TcpLink(TcpSettings("127.0.0.1", port), connect_timeout=0.3)
            with pytest.raises(LinkError, match=f"Timed out connecting to 127.0.0.1:{port}"):
                await link.open()
        finally:
            for filler in fillers:
                filler.close()


async def test_tcp_port_zero_is_rejected() -> None:
    with pytest.raises(LinkError, match="Invalid TCP port 0"):
        await create_link(TcpSettings("192.168.1.5", 0)).open()


async def test_tcp_unknown_host(monkeypatch: pytest.MonkeyPatch) -> None:
    # Newer Home Assistant test plugins refuse every name lookup; this test is about a real
    # lookup failing (the `.invalid` domain never resolves), so it uses the real resolver.
    real_getaddrinfo = getattr(ha_test_plugins, "_real_getaddrinfo", socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", real_getaddrinfo)
    link = TcpLink(TcpSettings("meter.invalid", 8088), connect_timeout=2)
    with pytest.raises(LinkError, match=r"meter\.invalid:8088"):
        await link.open()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (TimeoutError(), "Timed out connecting to bridge:23"),
        (ConnectionRefusedError(errno.ECONNREFUSED, "refused"), "bridge:23 refused"),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "Cannot resolve"),
        (OSError(errno.EHOSTUNREACH, "No route to host"), "bridge:23 is unreachable"),
        (OSError(errno.ENETUNREACH, "Network is unreachable"), "bridge:23 is unreachable"),
        (OSError(errno.EADDRNOTAVAIL, "Cannot assign"), "Cannot connect to bridge:23: Cannot"),
    ],
)
def test_tcp_connect_error_mapping(error: OSError, message: str) -> None:
    mapped = tcp_connect_error("bridge:23", error)
    assert type(mapped) is LinkError
    assert message in str(mapped)


def test_describe_ports_prefers_stable_names(tmp_path: Path, pty: Pty) -> None:
    by_id = tmp_path / "by-id"
    by_id.mkdir()
    stable = by_id / "usb-FTDI_FT232R_USB_UART_A10KZ1-if00-port0"
    stable.symlink_to(pty.path)

    usb = ListPortInfo(pty.path)
    usb.description = "FT232R USB UART"
    usb.manufacturer = "FTDI"
    usb.serial_number = "A10KZ1"
    builtin = ListPortInfo("/dev/ttyS0")
    named = ListPortInfo("/dev/ttyACM0")
    named.description = "P1 reader - Acme"
    named.manufacturer = "Acme"

    assert describe_ports([usb, builtin, named], by_id) == [
        ("/dev/ttyACM0", "P1 reader - Acme"),
        ("/dev/ttyS0", "ttyS0"),
        (str(stable), "FT232R USB UART - FTDI, s/n A10KZ1"),
    ]
    # Without a by-id directory the kernel names are used as they are.
    assert describe_ports([usb], tmp_path / "missing") == [
        (pty.path, "FT232R USB UART - FTDI, s/n A10KZ1")
    ]


def test_list_serial_ports_returns_pairs() -> None:
    ports = list_serial_ports()
    assert isinstance(ports, list)
    assert all(isinstance(path, str) and path.startswith("/dev/") for path, _ in ports)
    assert ports == sorted(ports)
