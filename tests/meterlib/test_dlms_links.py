"""DLMS push streams over real links: a TCP socket and a pseudo-terminal, the capture sent
whole, one byte per write, and with line noise between the pushes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
import math

import pytest

from custom_components.energy_gateway.meterlib.dlms import DlmsDecoder
from custom_components.energy_gateway.meterlib.links.connections import SerialSettings, create_link
from custom_components.energy_gateway.meterlib.links.stream import wait_for_first_snapshot

from .dlms_fixtures import VECTORS, Vector, wire
from .links.test_stream import (
    Pty,
    Recorder,
    Script,
    ScriptedServer,
    make_stream,
    running,
    servers,  # noqa: F401  (fixture)
    wait_until,
)

PUSHES = 3
HANG_GUARD = 30.0  # a byte per write on a busy machine is slow; this only stops a hang
NOISE = b"\x7e\x68\x00\xff noise \x16\x7e\x7e\x68\x68"  # start bytes of both framings, no frame
CAPTURES = {
    "mbus": "at_netznoe_kaifa_ma309m_evn_doc_example",  # two M-Bus segments, SC 0x20
    "hdlc_tag": "hdlc_kamstrup_omnipower",  # HDLC, SC 0x30 with the tag checked
    "hdlc_plain": "hdlc_norway_han_3phase",
    "hdlc_segments": "hdlc_iskra550",  # three HDLC segments
}


def _capture(name: str) -> tuple[bytes, Vector]:
    vector = VECTORS[CAPTURES[name]]
    return wire(vector.name), vector


def _chunks(data: bytes, delivery: str) -> list[bytes]:
    """The stream as the meter's writes: whole pushes, single bytes, or pushes and noise."""
    if delivery == "whole":
        return [data] * PUSHES
    if delivery == "bytewise":
        return [bytes((byte,)) for byte in data * PUSHES]
    return [NOISE, *[part for _ in range(PUSHES) for part in (data, NOISE)]]


def _check(recorder: Recorder, vector: Vector) -> None:
    assert len(recorder.snapshots) == PUSHES
    for snapshot in recorder.snapshots:
        assert snapshot.meter_id == vector.meter_id
        for code, (value, unit) in vector.values.items():
            reading = snapshot.readings[code]
            assert reading.unit == unit
            if isinstance(value, float):
                assert isinstance(reading.value, float)
                assert math.isclose(reading.value, value)
            else:
                assert reading.value == value


def _decoder(vector: Vector) -> DlmsDecoder:
    return DlmsDecoder(key=vector.key, auth_key=vector.auth_key)


def _send_chunks(chunks: list[bytes]) -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for chunk in chunks:
            writer.write(chunk)
            await writer.drain()
            await asyncio.sleep(0)  # let each write leave as its own segment where it can
        await reader.read()

    return script


@pytest.fixture
def pty() -> Iterator[Pty]:
    terminal = Pty(blocking=True)
    yield terminal
    terminal.close()


@pytest.mark.parametrize("delivery", ["whole", "bytewise", "noisy"])
@pytest.mark.parametrize("name", sorted(CAPTURES))
async def test_over_tcp(
    servers: Callable[..., Awaitable[ScriptedServer]],  # noqa: F811
    name: str,
    delivery: str,
) -> None:
    data, vector = _capture(name)
    chunks = _chunks(data, delivery)
    server = await servers(_send_chunks(chunks))
    recorder = Recorder()
    stream = make_stream(server.link, recorder, _decoder(vector))
    async with running(stream):
        await wait_until(lambda: stream.stats.bytes_received == sum(map(len, chunks)), HANG_GUARD)
        await wait_until(lambda: len(recorder.snapshots) == PUSHES, HANG_GUARD)
    _check(recorder, vector)
    assert stream.stats.crc_failures == 0


@pytest.mark.parametrize("delivery", ["whole", "bytewise", "noisy"])
@pytest.mark.parametrize("name", sorted(CAPTURES))
async def test_over_a_pseudo_terminal(pty: Pty, name: str, delivery: str) -> None:
    data, vector = _capture(name)
    recorder = Recorder()
    stream = make_stream(lambda: create_link(SerialSettings(pty.path)), recorder, _decoder(vector))
    async with running(stream):
        await wait_until(lambda: stream.stats.link_open, HANG_GUARD)
        await asyncio.sleep(0.05)  # opening a serial port flushes what came before
        for chunk in _chunks(data, delivery):
            pty.send(chunk)
            if delivery == "bytewise":
                await asyncio.sleep(0)
        await wait_until(lambda: len(recorder.snapshots) == PUSHES, HANG_GUARD)
    _check(recorder, vector)
    assert stream.stats.crc_failures == 0


def _push_later(first: bytes, later: bytes, delay: float) -> Script:
    async def script(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(first)
        await writer.drain()
        await asyncio.sleep(delay)
        writer.write(later)
        await writer.drain()
        await reader.read()

    return script


async def test_first_listen_waits_for_the_list_that_names_the_meter(
    servers: Callable[..., Awaitable[ScriptedServer]],  # noqa: F811
) -> None:
    """Kaifa's list 1 carries only the power; list 2, pushed later, names the meter."""
    short, named = wire("aviborg_axdr3Data"), wire("aviborg_axdr4Data")
    server = await servers(_push_later(short, named, 0.2))
    result = await wait_for_first_snapshot(server.link(), DlmsDecoder(), 5.0, identity_grace=2.0)
    assert result.snapshot is not None
    assert result.snapshot.meter_id == "6970631401753985"

    server = await servers(_push_later(short, named, 0.2))
    result = await wait_for_first_snapshot(server.link(), DlmsDecoder(), 5.0)
    assert result.snapshot is not None
    assert result.snapshot.meter_id is None  # no grace: the first list is taken as it is


async def test_a_meter_that_never_names_itself_is_taken_after_the_grace(
    servers: Callable[..., Awaitable[ScriptedServer]],  # noqa: F811
) -> None:
    short = wire("aviborg_axdr3Data")
    server = await servers(_push_later(short, short, 0.05))
    result = await wait_for_first_snapshot(server.link(), DlmsDecoder(), 5.0, identity_grace=0.3)
    assert result.snapshot is not None
    assert result.snapshot.meter_id is None
    assert result.snapshot.variant == "kaifa-list-1"
