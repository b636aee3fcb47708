"""A small polled family for the tests: a meter that answers `READ` over a real TCP socket.

The meter answers `READ\\n` with `<meter id> <import kWh> <power W>\\n`, or `ERR\\n` when told
to misbehave. It exercises the polled session and coordinator the way Modbus and MEP will,
without either protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field

from custom_components.energy_gateway.meterlib.core.errors import DecodeError, LinkError
from custom_components.energy_gateway.meterlib.core.family import Family, Keys, PolledSource
from custom_components.energy_gateway.meterlib.core.model import Reading, Snapshot
from custom_components.energy_gateway.meterlib.links.connections import (
    LinkSettings,
    create_link,
)

FAMILY_ID = "fake_poll"


class LineSource:
    """Asks the fake meter over a real link (TCP here)."""

    def __init__(self, settings: LinkSettings) -> None:
        self._link = create_link(settings)
        self.requests = 0

    async def open(self) -> None:
        await self._link.open()

    async def read(self) -> Snapshot:
        self.requests += 1
        await self._link.write(b"READ\n")
        answer = b""
        async with asyncio.timeout(2):
            while not answer.endswith(b"\n"):
                chunk = await self._link.read()
                if not chunk:
                    raise LinkError("the meter closed the connection")
                answer += chunk
        parts = answer.split()
        if len(parts) != 3:
            raise DecodeError("not a meter answer", raw=answer)
        meter_id, energy, power = parts
        return Snapshot(
            format=FAMILY_ID,
            meter_id=meter_id.decode(),
            timestamp=None,
            readings={
                "1-0:1.8.0": Reading("1-0:1.8.0", float(energy), "kWh"),
                "1-0:1.7.0": Reading("1-0:1.7.0", float(power) / 1000, "kW"),
            },
            manufacturer="Fake",
            model="line meter",
        )

    async def close(self) -> None:
        await self._link.close()

    def diagnostics(self) -> Mapping[str, object]:
        return {"requests": self.requests}


def _source(settings: LinkSettings, _keys: Keys) -> PolledSource:
    return LineSource(settings)


FAKE_FAMILY = Family(
    id=FAMILY_ID,
    name="Fake polled meter",
    delivery="poll",
    serial_presets=("9600_8n1",),
    make_source=_source,
)


@dataclass
class FakeMeter:
    """The meter's side: a real TCP server answering `READ` lines."""

    meter_id: str = "FAKE0001"
    energy_kwh: float = 1000.0
    power_w: int = 500
    garbage: bool = False
    port: int = 0
    reads: int = 0
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the server and every connection (the meter's bridge lost power)."""
        if self._server is not None:
            self._server.close()
            for writer in self._writers:
                writer.close()
            await self._server.wait_closed()
            self._server = None
        self._writers.clear()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            while await reader.readline():
                self.reads += 1
                self.energy_kwh += 0.001
                line = (
                    b"ERR\n"
                    if self.garbage
                    else (f"{self.meter_id} {self.energy_kwh:.3f} {self.power_w}\n".encode())
                )
                writer.write(line)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()
