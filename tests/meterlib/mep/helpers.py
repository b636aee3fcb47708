"""Real servers for the MEP client tests: the simulated meter over TCP, and a mute one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from typing import Any

from custom_components.energy_gateway.meterlib.links.connections import TcpLink, TcpSettings
from custom_components.energy_gateway.meterlib.mep import MepClient
from simulators.mep_meter import MepTcpServer, SimulatedMepMeter

FROZEN = 1_780_000_000.0
"""A fixed meter time (2026-05-28): a frozen meter reports exactly its truth."""
PATIENT = 1.5
"""Response timeout of the tests' clients: a busy test host must not look like a lost reply."""


def frozen_meter(**options: Any) -> SimulatedMepMeter:
    """A simulated meter whose clock stands still."""
    return SimulatedMepMeter(clock=lambda: FROZEN, **options)


@contextlib.asynccontextmanager
async def tcp_client(
    meter: SimulatedMepMeter, key: bytes | None = None, **options: Any
) -> AsyncIterator[MepClient]:
    """An opened client talking to `meter` through a real TCP socket."""
    server = await MepTcpServer(meter).start()
    client = MepClient(
        TcpLink(TcpSettings("127.0.0.1", server.port)),
        meter.key if key is None else key,
        rts="off",
        **({"response_timeout": PATIENT} | options),
    )
    await client.open()
    try:
        yield client
    finally:
        await client.close()
        await server.close()


class MuteMeter:
    """A TCP peer that accepts requests and never answers; it keeps what it received."""

    def __init__(self) -> None:
        self.received = bytearray()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> MuteMeter:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self._server.close_clients()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(4096):
            self.received += data
        writer.close()
