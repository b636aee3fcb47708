"""The supervised meter stream, first-snapshot wait and serial probing, on real links."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import contextlib
import logging
from typing import TYPE_CHECKING

import pytest

from custom_components.energy_gateway.meterlib.core.errors import (
    ChecksumError,
    DecodeError,
    KeyRequiredError,
    LinkError,
    PortNotFoundError,
)
from custom_components.energy_gateway.meterlib.core.model import Reading, Snapshot
from custom_components.energy_gateway.meterlib.families import FAMILIES
from custom_components.energy_gateway.meterlib.links.connections import (
    SERIAL_PRESETS,
    Link,
    SerialPreset,
    SerialSettings,
    TcpSettings,
    create_link,
    serial_settings_for,
)
from custom_components.energy_gateway.meterlib.links.stream import (
    Backoff,
    FirstResult,
    MeterStream,
    StreamDecoder,
    probe_serial,
    wait_for_first_snapshot,
)
from tests.pseudo_terminal import PseudoTerminal as Pty

if TYPE_CHECKING:
    from pathlib import Path

uses_tcp = pytest.mark.usefixtures("socket_enabled")
# Guard against a hang only; nothing asserts on how fast anything happens.
GUARD = 2.0
ENERGY = "1-0:1.8.0"
STREAM_LOGGER = "custom_components.energy_gateway.meterlib.links.stream"


class LineDecoder:
    """Stand-in decoder: one message per line.

    `OK <n>` is a snapshot with reading n, `CRC` a checksum failure, `NORAW` a failure
    that carries no raw bytes, `BOOM` makes feed() raise, any other line is a decode failure.
    """

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, data: bytes) -> list[Snapshot | DecodeError]:
        *lines, self._pending = (self._pending + data).split(b"\n")
        results: list[Snapshot | DecodeError] = []
        for line in lines:
            if line == b"BOOM":
                raise RuntimeError("decoder bug")
            if line.startswith(b"OK "):
                value = int(line[3:])
                reading = Reading(ENERGY, value, "kWh")
                results.append(Snapshot("test", "meter-1", None, {ENERGY: reading}))
            elif line == b"CRC":
                results.append(ChecksumError("CRC mismatch", raw=line))
            elif line == b"NOKEY":
                results.append(KeyRequiredError("encrypted", raw=line))
            elif line == b"NORAW":
                results.append(DecodeError("no raw"))
            elif line:
                results.append(DecodeError(f"cannot decode {line!r}", raw=line))
        return results


class RejectingDecoder(LineDecoder):
    """Hears the same bytes but rejects every message: a wrong line setting."""

    def feed(self, data: bytes) -> list[Snapshot | DecodeError]:
        return [
            DecodeError("garbled", raw=b"?") if isinstance(item, Snapshot) else item
            for item in super().feed(data)
        ]


def link_of(stream: MeterStream) -> Link | None:
    """Read the stream's link afresh (keeps the type checker from pinning its value)."""
    return stream.link


def energy(snapshot: Snapshot) -> object:
    return snapshot.value(ENERGY)


async def wait_until(condition: Callable[[], bool], guard: float = GUARD) -> None:
    async with asyncio.timeout(guard):
        # The stream's counters are plain attributes with no event to wait on: poll them.
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


type Script = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def send_and_close(payload: bytes) -> Script:
    async def script(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        await writer.drain()
        writer.close()

    return script


def send_and_hold(payload: bytes) -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(payload)
        await writer.drain()
        await reader.read()  # until the client goes away

    return script


class ScriptedServer:
    """Loopback TCP server; connection k follows scripts[k] (the last one repeats)."""

    def __init__(self, *scripts: Script) -> None:
        self.scripts = list(scripts)
        self.connections = 0
        self.clients_gone = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._handlers: list[asyncio.Task[object]] = []

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.append(task)
        self._writers.append(writer)
        script = self.scripts[min(self.connections, len(self.scripts) - 1)]
        self.connections += 1
        with contextlib.suppress(ConnectionError):
            await script(reader, writer)
        self.clients_gone += 1

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        await self._server.wait_closed()
        await asyncio.gather(*self._handlers)
        self._server = None

    def link(self) -> Link:
        return create_link(TcpSettings("127.0.0.1", self.port))


@pytest.fixture
async def servers(socket_enabled: None) -> AsyncIterator[Callable[..., Awaitable[ScriptedServer]]]:
    started: list[ScriptedServer] = []

    async def start(*scripts: Script, port: int = 0) -> ScriptedServer:
        server = ScriptedServer(*scripts)
        await server.start(port)
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


@pytest.fixture
def pty() -> Iterator[Pty]:
    terminal = Pty(blocking=False)
    yield terminal
    terminal.close()


class Recorder:
    """Collects everything a stream reports."""

    def __init__(self) -> None:
        self.snapshots: list[Snapshot] = []
        self.errors: list[DecodeError] = []
        self.states: list[tuple[bool, str | None]] = []

    def on_snapshot(self, snapshot: Snapshot) -> None:
        self.snapshots.append(snapshot)

    def on_error(self, error: DecodeError) -> None:
        self.errors.append(error)

    def on_state(self, up: bool, reason: str | None) -> None:
        self.states.append((up, reason))

    def values(self) -> list[object]:
        return [energy(snapshot) for snapshot in self.snapshots]


def quick_backoff() -> Backoff:
    return Backoff(initial=0.01, maximum=0.08, jitter=0)


def make_stream(
    link_factory: Callable[[], Link],
    recorder: Recorder,
    decoder: StreamDecoder | None = None,
    **options: object,
) -> MeterStream:
    options.setdefault("backoff", quick_backoff())
    return MeterStream(
        link_factory,
        decoder if decoder is not None else LineDecoder(),
        on_snapshot=recorder.on_snapshot,
        on_error=recorder.on_error,
        on_state=recorder.on_state,
        **options,  # type: ignore[arg-type]
    )


@contextlib.asynccontextmanager
async def running(stream: MeterStream) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(stream.run())
    try:
        yield task
    finally:
        await stream.stop()
    assert task.done()
    assert task.result() is None  # stop() ends run() normally


class RecordingBackoff(Backoff):
    """A real Backoff that also remembers the delays it handed out."""

    def __init__(self, **kwargs: float) -> None:
        super().__init__(**kwargs)
        self.delays: list[float] = []

    def next_delay(self) -> float:
        delay = super().next_delay()
        self.delays.append(delay)
        return delay


# --- Backoff ---------------------------------------------------------------------------


def test_backoff_grows_exponentially_within_jitter_and_caps() -> None:
    backoff = Backoff(initial=1.0, maximum=10.0, factor=2.0, jitter=0.2)
    bases = [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0]
    for _ in range(50):
        backoff.reset()
        for base in bases:
            delay = backoff.next_delay()
            assert base * 0.8 <= delay <= min(10.0, base * 1.2)


def test_backoff_without_jitter_is_exact_and_resets() -> None:
    backoff = Backoff(initial=0.5, maximum=3.0, factor=3.0, jitter=0)
    assert [backoff.next_delay() for _ in range(4)] == [0.5, 1.5, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_backoff_stays_at_the_cap_forever() -> None:
    backoff = Backoff(initial=1.0, maximum=60.0, jitter=0)
    delays = [backoff.next_delay() for _ in range(5000)]  # no overflow after many outages
    assert delays[-1] == 60.0
    assert max(delays) == 60.0


def test_backoff_defaults() -> None:
    backoff = Backoff()
    assert (backoff.initial, backoff.maximum, backoff.factor, backoff.jitter) == (
        1.0,
        60.0,
        2.0,
        0.2,
    )
    assert 0.8 <= backoff.next_delay() <= 1.2


@pytest.mark.parametrize(
    "arguments",
    [
        {"initial": 0},
        {"initial": 5, "maximum": 1},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"jitter": -0.1},
    ],
)
def test_backoff_rejects_nonsense(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Backoff"):
        Backoff(**arguments)


# --- MeterStream over TCP ------------------------------------------------------------------


@uses_tcp
async def test_stream_dispatches_and_counts(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    payload = b"OK 1\nBAD\nCRC\nNORAW\nOK 2\n"
    server = await servers(send_and_hold(payload))
    recorder = Recorder()
    stream = make_stream(server.link, recorder)
    assert link_of(stream) is None
    async with running(stream):
        await wait_until(lambda: len(recorder.snapshots) == 2)
        stats = stream.stats
        assert stats.connected
        assert stats.link_open
        assert link_of(stream) is not None
        assert stats.bytes_received == len(payload)
        assert (stats.messages_ok, stats.crc_failures, stats.decode_failures) == (2, 1, 2)
        assert stats.reconnects == 0
        assert stats.last_message_monotonic is not None
        assert stats.last_message_at is not None
        assert stats.last_decode_error == "no raw"
    assert recorder.values() == [1, 2]
    assert [type(error) for error in recorder.errors] == [DecodeError, ChecksumError, DecodeError]
    assert recorder.states == [(True, None)]
    assert list(stream.recent_failures) == [b"BAD", b"CRC", b""]
    # stop() closed the link: the server saw the client leave.
    await wait_until(lambda: server.clients_gone == 1)
    assert not stream.stats.connected
    assert not stream.stats.link_open
    assert link_of(stream) is None

    exported = stream.stats.as_dict()
    assert exported["messages_ok"] == 2
    assert exported["crc_failures"] == 1
    assert isinstance(exported["last_message_at"], str)


@uses_tcp
async def test_stream_reconnects_with_backoff_and_reports_each_change_once(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    server = await servers(
        send_and_close(b"OK 1\n"),
        send_and_close(b""),  # accepted and dropped: the outage goes on
        send_and_close(b"BAD\n"),  # only garbage: still no good message
        send_and_hold(b"OK 2\n"),
    )
    recorder = Recorder()
    backoff = RecordingBackoff(initial=0.01, maximum=1.0, jitter=0)
    stream = make_stream(server.link, recorder, backoff=backoff)
    async with running(stream):
        await wait_until(lambda: recorder.values() == [1, 2])
        assert recorder.states == [
            (True, None),
            (False, f"tcp 127.0.0.1:{server.port} closed the connection"),
            (True, None),
        ]
        assert backoff.delays == [0.01, 0.02, 0.04]  # one growing delay per failed attempt
        assert backoff.next_delay() == 0.01  # the good message reset it
        assert server.connections == 4
        assert stream.stats.reconnects == 3
        assert stream.stats.open_failures == 0
        assert stream.stats.connected
        assert stream.stats.last_error is None


@uses_tcp
async def test_stream_reports_a_refused_start_once_then_recovers(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    probe = await servers(send_and_hold(b""))
    port = probe.port
    await probe.stop()  # the port is free again: connecting is refused

    recorder = Recorder()
    stream = make_stream(lambda: create_link(TcpSettings("127.0.0.1", port)), recorder)
    async with running(stream):
        await wait_until(lambda: stream.stats.open_failures >= 3)
        assert recorder.states == [
            (False, f"Connection to 127.0.0.1:{port} refused (is the bridge running?)")
        ]
        assert not stream.stats.link_open
        assert stream.stats.last_error is not None
        assert "refused" in stream.stats.last_error

        await servers(send_and_hold(b"OK 5\n"), port=port)
        await wait_until(lambda: recorder.values() == [5])
        assert recorder.states[1:] == [(True, None)]
        assert stream.stats.reconnects == 0  # the first successful open is not a reconnect


@uses_tcp
async def test_idle_timeout_replaces_a_silent_connection(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    server = await servers(send_and_hold(b"OK 1\n"), send_and_hold(b""), send_and_hold(b"OK 2\n"))
    recorder = Recorder()
    stream = make_stream(server.link, recorder, idle_timeout=0.2)
    async with running(stream):
        await wait_until(lambda: recorder.values() == [1, 2])
        assert recorder.states == [
            (True, None),
            (False, "No data received for 0.2 s"),
            (True, None),
        ]
        assert server.connections == 3
    await wait_until(lambda: server.clients_gone == 3)


@uses_tcp
async def test_without_idle_timeout_a_quiet_gateway_is_kept(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    async def answer_when_asked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert await reader.readexactly(4) == b"/?!\n"
        writer.write(b"OK 9\n")
        await reader.read()

    server = await servers(answer_when_asked)
    recorder = Recorder()
    stream = make_stream(server.link, recorder)
    async with running(stream):
        await wait_until(lambda: stream.link is not None)
        await asyncio.sleep(0.2)  # silence is not a failure on an on-request gateway
        assert stream.link is not None
        await stream.link.write(b"/?!\n")
        await wait_until(lambda: recorder.values() == [9])
    assert server.connections == 1
    assert recorder.states == [(True, None)]


@uses_tcp
async def test_decoder_exception_does_not_stop_the_stream(
    servers: Callable[..., Awaitable[ScriptedServer]], caplog: pytest.LogCaptureFixture
) -> None:
    stream: MeterStream | None = None

    async def crash_then_recover(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # One line per chunk: each crash is handled before the next line is sent.
        def crashes() -> int:
            return 0 if stream is None else stream.stats.internal_errors

        for count in (1, 2):
            writer.write(b"BOOM\n")
            await writer.drain()
            await wait_until(lambda: crashes() == count)  # noqa: B023 - awaited in the loop
        writer.write(b"OK 3\n")
        await reader.read()

    server = await servers(crash_then_recover)
    recorder = Recorder()
    stream = make_stream(server.link, recorder)
    with caplog.at_level(logging.DEBUG):
        async with running(stream):
            await wait_until(lambda: recorder.values() == [3])
    assert server.connections == 1  # the link was kept
    assert recorder.states == [(True, None)]
    crashes = [record for record in caplog.records if "decoder raised" in record.getMessage()]
    assert [record.levelno for record in crashes] == [logging.ERROR, logging.DEBUG]
    assert crashes[0].exc_info is not None


@uses_tcp
async def test_callback_exceptions_do_not_stop_the_stream(
    servers: Callable[..., Awaitable[ScriptedServer]], caplog: pytest.LogCaptureFixture
) -> None:
    server = await servers(send_and_hold(b"OK 1\nBAD\nOK 2\nBAD\nOK 3\n"))
    delivered: list[object] = []

    def broken_snapshot(snapshot: Snapshot) -> None:
        delivered.append(energy(snapshot))
        raise RuntimeError("entity update failed")

    def broken_error(_: DecodeError) -> None:
        raise RuntimeError("counter update failed")

    def broken_state(_up: bool, _reason: str | None) -> None:
        raise RuntimeError("availability update failed")

    stream = MeterStream(
        server.link,
        LineDecoder(),
        on_snapshot=broken_snapshot,
        on_error=broken_error,
        on_state=broken_state,
        backoff=quick_backoff(),
    )
    with caplog.at_level(logging.DEBUG):
        async with running(stream):
            await wait_until(lambda: delivered == [1, 2, 3])
            assert stream.stats.messages_ok == 3
            assert stream.stats.decode_failures == 2
            assert stream.stats.internal_errors == 3 + 2 + 1
    assert server.connections == 1
    errors = [
        record
        for record in caplog.records
        if record.name == STREAM_LOGGER and record.levelno >= logging.WARNING
    ]
    # One error (with traceback) per failing callback, however often it fails.
    assert sorted(record.getMessage() for record in errors) == [
        "The decode-error callback raised (repeats are logged at debug level)",
        "The snapshot callback raised (repeats are logged at debug level)",
        "The state callback raised (repeats are logged at debug level)",
    ]
    assert all(record.exc_info is not None for record in errors)


@uses_tcp
async def test_bad_frames_are_not_logged_above_debug(
    servers: Callable[..., Awaitable[ScriptedServer]], caplog: pytest.LogCaptureFixture
) -> None:
    server = await servers(send_and_hold(b"BAD\n" * 20 + b"CRC\n" * 20 + b"OK 1\n"))
    recorder = Recorder()
    stream = make_stream(server.link, recorder)
    with caplog.at_level(logging.DEBUG):
        async with running(stream):
            await wait_until(lambda: recorder.values() == [1])
    assert stream.stats.decode_failures == 20
    assert stream.stats.crc_failures == 20
    ours = [record for record in caplog.records if record.name == STREAM_LOGGER]
    assert len(ours) == 40  # each rejection is visible at debug level
    assert all(record.levelno == logging.DEBUG for record in ours)


@uses_tcp
async def test_recent_failures_keeps_the_last_five(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    lines = b"".join(b"BAD %d\n" % n for n in range(1, 8))
    server = await servers(send_and_hold(lines + b"OK 1\n"))
    recorder = Recorder()
    # Only the snapshot callback: errors and state changes are optional to listen to.
    stream = MeterStream(server.link, LineDecoder(), on_snapshot=recorder.on_snapshot)
    async with running(stream):
        await wait_until(lambda: recorder.values() == [1])
    assert list(stream.recent_failures) == [b"BAD 3", b"BAD 4", b"BAD 5", b"BAD 6", b"BAD 7"]
    assert stream.stats.decode_failures == 7


@uses_tcp
async def test_cancelling_run_closes_the_link(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    server = await servers(send_and_hold(b"OK 1\n"))
    recorder = Recorder()
    stream = make_stream(server.link, recorder)
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: recorder.values() == [1])
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await wait_until(lambda: server.clients_gone == 1)
    assert not stream.stats.link_open
    assert not stream.stats.connected
    await stream.stop()  # nothing left to stop


async def test_stop_during_backoff_and_double_run(tmp_path: Path) -> None:
    missing = SerialSettings(str(tmp_path / "ttyUSB7"))
    recorder = Recorder()
    stream = make_stream(lambda: create_link(missing), recorder, backoff=Backoff(initial=30))
    async with running(stream):
        await wait_until(lambda: stream.stats.open_failures == 1)
        with pytest.raises(RuntimeError, match="already running"):
            await stream.run()
        # Two stop() calls at once both wait, and neither turns into a plain cancellation.
        await asyncio.gather(stream.stop(), stream.stop())
    assert recorder.states == [(False, f"Serial port {missing.path} does not exist")]
    await stream.run()  # stopped for good: returns at once
    assert stream.stats.open_failures == 1


async def test_stop_before_run_starts(pty: Pty) -> None:
    recorder = Recorder()
    stream = make_stream(lambda: create_link(SerialSettings(pty.path)), recorder)
    task = asyncio.create_task(stream.run())  # scheduled, not started yet
    await stream.stop()
    await task
    assert stream.stats.open_failures == 0
    assert not stream.stats.link_open
    assert recorder.states == []


class ExplodingLink:
    """A link implementation with bugs: open works, read and close raise plain errors."""

    def __init__(self) -> None:
        self.closed = False

    async def open(self) -> None:
        return None

    async def read(self) -> bytes:
        raise RuntimeError("driver bug")

    async def write(self, data: bytes) -> None:
        raise RuntimeError("driver bug")

    async def close(self) -> None:
        self.closed = True
        raise RuntimeError("close bug")


async def test_link_factory_and_link_bugs_are_survived(caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[ExplodingLink] = []

    def factory() -> Link:
        if not attempts:
            attempts.append(ExplodingLink())
            raise OSError("factory bug")
        link = ExplodingLink()
        attempts.append(link)
        return link

    recorder = Recorder()
    stream = make_stream(factory, recorder)
    async with running(stream):
        await wait_until(lambda: len(attempts) >= 3)
    assert recorder.states == [(False, "Cannot create link: OSError('factory bug')")]
    assert stream.stats.last_error == "Unexpected link error: RuntimeError('driver bug')"
    assert all(link.closed for link in attempts[1:])
    # Each bug is logged with its traceback once, not on every retry.
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert [record.getMessage().split(" (")[0][:30] for record in errors] == [
        "Creating the meter link failed",
        "Unexpected error on meter link",
    ]
    assert all(record.exc_info for record in errors)


# --- MeterStream over a serial port ----------------------------------------------------


async def test_stream_over_serial_reports_a_hang_up(pty: Pty) -> None:
    recorder = Recorder()
    stream = make_stream(lambda: create_link(SerialSettings(pty.path)), recorder)
    async with running(stream):
        await wait_until(lambda: stream.stats.link_open)
        pty.send(b"OK 1\n")
        await wait_until(lambda: recorder.values() == [1])
        pty.hang_up()
        await wait_until(lambda: len(recorder.states) == 2)
    assert recorder.states[0] == (True, None)
    up, reason = recorder.states[1]
    assert not up
    assert reason is not None
    assert reason.startswith(f"Reading from serial {pty.path} 115200 8N1 failed")


# --- wait_for_first_snapshot ---------------------------------------------------------------


@uses_tcp
async def test_first_snapshot_collects_earlier_errors(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    prefix = b"BAD\nCRC\nOK 7\n"
    server = await servers(send_and_hold(prefix + b"OK 8\n"))
    result = await wait_for_first_snapshot(server.link(), LineDecoder(), GUARD)
    assert result.snapshot is not None
    assert energy(result.snapshot) == 7
    assert [type(error) for error in result.errors] == [DecodeError, ChecksumError]
    assert len(prefix) <= result.bytes_received <= len(prefix) + 5
    await wait_until(lambda: server.clients_gone == 1)  # the link was closed


@uses_tcp
async def test_first_snapshot_stops_at_a_missing_key(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    """A key that is missing will not appear by waiting: the wait ends at that error, before
    the snapshot that follows it on the wire."""
    server = await servers(send_and_hold(b"CRC\nNOKEY\nOK 9\n"))
    result = await wait_for_first_snapshot(server.link(), LineDecoder(), GUARD)
    assert result.snapshot is None
    assert [type(error) for error in result.errors] == [ChecksumError, KeyRequiredError]
    await wait_until(lambda: server.clients_gone == 1)


@uses_tcp
async def test_first_snapshot_times_out(servers: Callable[..., Awaitable[ScriptedServer]]) -> None:
    server = await servers(send_and_hold(b"BAD\n"))
    result = await wait_for_first_snapshot(server.link(), LineDecoder(), 0.5)
    assert result.snapshot is None
    assert [str(error) for error in result.errors] == ["cannot decode b'BAD'"]
    assert result.bytes_received == 4
    await wait_until(lambda: server.clients_gone == 1)


@uses_tcp
async def test_first_snapshot_link_failures_propagate(
    servers: Callable[..., Awaitable[ScriptedServer]],
) -> None:
    server = await servers(send_and_close(b"BAD\n"))
    with pytest.raises(LinkError, match="closed the connection"):
        await wait_for_first_snapshot(server.link(), LineDecoder(), GUARD)
    port = server.port
    await server.stop()
    with pytest.raises(LinkError, match="refused"):
        await wait_for_first_snapshot(
            create_link(TcpSettings("127.0.0.1", port)), LineDecoder(), GUARD
        )


# --- probe_serial ----------------------------------------------------------------------------

P1_PRESETS = FAMILIES["p1"].serial_presets


@contextlib.asynccontextmanager
async def meter_talking(pty: Pty, payload: bytes) -> AsyncIterator[None]:
    """Play a meter that repeats its message every few milliseconds."""

    async def talk() -> None:
        while True:
            pty.send(payload)
            await asyncio.sleep(0.02)

    task = asyncio.create_task(talk())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def decoders_succeeding_on(attempt: int, made: list[StreamDecoder]) -> Callable[[], StreamDecoder]:
    """Decoder factory whose `attempt`-th decoder understands the meter (0: none does)."""

    def factory() -> StreamDecoder:
        decoder = LineDecoder() if len(made) + 1 == attempt else RejectingDecoder()
        made.append(decoder)
        return decoder

    return factory


@pytest.fixture
def extra_presets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Presets a pseudo-terminal accepts everywhere (some kernels refuse 7-bit framing on
    ptys), plus one no port accepts."""
    monkeypatch.setitem(SERIAL_PRESETS, "57600_8n1", SerialPreset(57600, 8, "N", 1))
    monkeypatch.setitem(SERIAL_PRESETS, "9600_8n1", SerialPreset(9600, 8, "N", 1))
    monkeypatch.setitem(SERIAL_PRESETS, "115200_9n1", SerialPreset(115200, 9, "N", 1))


async def test_probe_with_the_p1_presets(pty: Pty) -> None:
    made: list[StreamDecoder] = []
    async with meter_talking(pty, b"OK 4\n"):
        found = await probe_serial(
            pty.path, decoders_succeeding_on(1, made), GUARD, presets=P1_PRESETS
        )
    settings, result = found
    assert settings == SerialSettings(pty.path, 115200, 8, "N", 1)
    assert isinstance(result, FirstResult)
    assert result.snapshot is not None
    assert energy(result.snapshot) == 4
    assert len(made) == 1


@pytest.mark.usefixtures("extra_presets")
async def test_probe_picks_the_first_setting_that_decodes(pty: Pty) -> None:
    made: list[StreamDecoder] = []
    async with meter_talking(pty, b"OK 4\n"):
        found = await probe_serial(
            pty.path,
            decoders_succeeding_on(2, made),
            0.5,
            presets=("115200_8n1", "57600_8n1", "9600_8n1"),
        )
    settings, result = found
    assert settings == serial_settings_for(pty.path, "57600_8n1")
    assert result.snapshot is not None
    assert energy(result.snapshot) == 4
    assert result.errors == []
    assert len(made) == 2  # the third setting was never tried


@pytest.mark.usefixtures("extra_presets")
async def test_probe_skips_a_setting_the_port_refuses(pty: Pty) -> None:
    made: list[StreamDecoder] = []
    async with meter_talking(pty, b"OK 4\n"):
        found = await probe_serial(
            pty.path, decoders_succeeding_on(2, made), GUARD, presets=("115200_9n1", "9600_8n1")
        )
    assert found[0] == SerialSettings(pty.path, 9600, 8, "N", 1)


@pytest.mark.usefixtures("extra_presets")
async def test_probe_gives_up_when_nothing_decodes(pty: Pty) -> None:
    made: list[StreamDecoder] = []
    async with meter_talking(pty, b"OK 4\n"):
        found = await probe_serial(
            pty.path,
            decoders_succeeding_on(0, made),
            0.15,
            presets=("115200_9n1", "115200_8n1", "9600_8n1"),
        )
    # Opened, heard bytes, understood nothing: the last setting tried says so.
    settings, result = found
    assert settings == serial_settings_for(pty.path, "9600_8n1")
    assert result.snapshot is None
    assert result.bytes_received > 0
    assert result.errors
    assert len(made) == 3


@pytest.mark.usefixtures("extra_presets")
async def test_probe_reports_a_port_that_refuses_everything(pty: Pty) -> None:
    made: list[StreamDecoder] = []
    with pytest.raises(LinkError, match="Invalid settings"):
        await probe_serial(pty.path, decoders_succeeding_on(1, made), presets=("115200_9n1",))


async def test_probe_of_a_missing_port_fails_at_once(tmp_path: Path) -> None:
    made: list[StreamDecoder] = []
    with pytest.raises(PortNotFoundError):
        await probe_serial(
            str(tmp_path / "ttyACM3"), decoders_succeeding_on(1, made), presets=P1_PRESETS
        )
    assert len(made) == 1  # the other settings were not tried
