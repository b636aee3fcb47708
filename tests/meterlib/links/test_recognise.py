"""Recognising the push family on a link before any family is chosen: real TCP sockets and
pseudo-terminals, the simulators' byte-exact streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from custom_components.energy_gateway.meterlib.families import FAMILIES
from custom_components.energy_gateway.meterlib.links.connections import TcpSettings, create_link
from custom_components.energy_gateway.meterlib.links.recognise import (
    recognise_bytes,
    recognise_link,
    recognise_serial,
    serial_presets_of,
)
from simulators.dlms_meter import SimulatedHdlcMeter, SimulatedMbusMeter
from simulators.p1_meter import SimulatedP1Meter
from tests.pseudo_terminal import PseudoTerminal

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
KEY = bytes(range(16))
P1_PLAIN = (Path(__file__).parents[2] / "fixtures" / "dsmr" / "dsmr_v5.txt").read_bytes()
FAMILY_LIST = list(FAMILIES.values())

STREAMS = {
    "p1_plain": (P1_PLAIN, "p1", "p1"),
    "p1_encrypted": (SimulatedP1Meter(encrypt_key=KEY).telegram(NOW), "p1", "p1"),
    "dlms_mbus": (SimulatedMbusMeter(key=KEY).frames(NOW), "dlms", "mbus-dlms"),
    "dlms_hdlc": (SimulatedHdlcMeter(seed=3).frames(NOW), "dlms", "hdlc-dlms"),
}


@pytest.mark.parametrize("name", list(STREAMS))
def test_formats_tell_the_families_apart(name: str) -> None:
    """Both decoders read an encrypted P1 frame and an M-Bus push as "key needed"; the
    ordered formats still name the right family."""
    wire, family, format_name = STREAMS[name]
    found = recognise_bytes(wire, FAMILY_LIST)
    assert found is not None
    assert (found[1].id, found[0].name) == (family, format_name)


def test_a_cut_mbus_frame_reads_as_p1_until_it_completes() -> None:
    """Why a later-ordered format must hold for one more chunk: the last bytes of an M-Bus
    frame still missing, its ciphered content passes for an encrypted P1 frame."""
    wire = STREAMS["dlms_mbus"][0]
    cut = recognise_bytes(wire[:-2], FAMILY_LIST)
    assert cut is not None
    assert cut[0].name == "p1"
    whole = recognise_bytes(wire, FAMILY_LIST)
    assert whole is not None
    assert whole[0].name == "mbus-dlms"


def test_garbage_and_silence_are_no_family() -> None:
    """Noise is recognised as nothing, however long it runs."""
    assert recognise_bytes(b"", FAMILY_LIST) is None
    assert recognise_bytes(b"\x00\x01 this is not a meter \xff" * 50, FAMILY_LIST) is None


def test_serial_settings_of_every_push_family_once() -> None:
    """The settings are tried most common first, each once, polled families left out."""
    presets = serial_presets_of(FAMILY_LIST)
    assert presets[: len(FAMILIES["p1"].serial_presets)] == list(FAMILIES["p1"].serial_presets)
    assert set(presets) == set(FAMILIES["p1"].serial_presets) | set(FAMILIES["dlms"].serial_presets)
    assert len(presets) == len(set(presets))


class SplitServer:
    """A bridge that sends an M-Bus push in two writes, cut where P1 would claim it."""

    def __init__(self, wire: bytes) -> None:
        self.wire = wire
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        writer.write(self.wire[:-2])
        await writer.drain()
        await asyncio.sleep(0.2)  # lets the client read the cut frame alone (usually)
        writer.write(self.wire[-2:])
        await writer.drain()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        assert self._server is not None
        for writer in self._writers:
            writer.transport.abort()
        self._server.close()
        await self._server.wait_closed()


@pytest.fixture
async def split_server(socket_enabled: None) -> AsyncIterator[SplitServer]:
    server = SplitServer(STREAMS["dlms_mbus"][0])
    await server.start()
    yield server
    await server.stop()


async def test_mbus_push_cut_in_two_is_dlms_over_tcp(split_server: SplitServer) -> None:
    """However the bytes are cut, the M-Bus push is recognised as DLMS, never as P1."""
    found = await recognise_link(
        create_link(TcpSettings("127.0.0.1", split_server.port)), FAMILY_LIST, 5.0
    )
    assert found.family is FAMILIES["dlms"]
    assert found.format_name == "mbus-dlms"
    assert found.bytes_received == len(STREAMS["dlms_mbus"][0])


@pytest.fixture
def terminal() -> Iterator[PseudoTerminal]:
    pty = PseudoTerminal(blocking=False)
    yield pty
    pty.close()


async def test_hdlc_on_a_serial_port(terminal: PseudoTerminal) -> None:
    """A pseudo-terminal carries an HDLC push: recognised with the first setting tried."""
    terminal.send_every(STREAMS["dlms_hdlc"][0])
    found = await recognise_serial(terminal.path, FAMILY_LIST, 2.0)
    assert found.family is FAMILIES["dlms"]
    assert found.format_name == "hdlc-dlms"
    assert found.serial_preset == serial_presets_of(FAMILY_LIST)[0]


async def test_silent_serial_port(terminal: PseudoTerminal) -> None:
    """Silence is reported as silence (nothing received), not as an unknown format."""
    found = await recognise_serial(terminal.path, FAMILY_LIST, 0.2)
    assert found.family is None
    assert found.bytes_received == 0


async def test_noisy_serial_port(terminal: PseudoTerminal) -> None:
    """Noise under every setting: no family, but what was heard is counted."""
    terminal.send_every(b"\x00\x01 this is not a meter \xff" * 4)
    found = await recognise_serial(terminal.path, FAMILY_LIST, 0.2)
    assert found.family is None
    assert found.bytes_received > 0
