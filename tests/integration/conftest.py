"""Fixtures for the Home Assistant side: real TCP meters, real pseudo-terminals, entries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable, Generator
import contextlib
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_HOST, CONF_PORT
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.energy_gateway.const import (
    CONF_CONNECTION,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONNECTION_NETWORK,
    CONNECTION_SERIAL,
    DOMAIN,
)
from custom_components.energy_gateway.coordinator import MeterCoordinator
from custom_components.energy_gateway.meterlib.core.crc import crc16_arc
from simulators.upstream_portal import Portal

from ..conftest import FIXTURES
from ..pseudo_terminal import PseudoTerminal

DSMR = FIXTURES / "dsmr"


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load integrations from custom_components/ in every test here."""


def telegram(name: str) -> bytes:
    """A P1 vector from tests/fixtures/dsmr."""
    return (DSMR / name).read_bytes()


class MeterServer:
    """A real TCP server standing in for a P1 network bridge."""

    def __init__(self) -> None:
        self.greeting = b""
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self.connections = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        if self.greeting:
            writer.write(self.greeting)
            # Closed while greeting when the test tears the bridge down.
            with contextlib.suppress(ConnectionError):
                await writer.drain()

    async def push(self, data: bytes) -> None:
        """Send bytes to every connected client."""
        for writer in list(self._writers):
            writer.write(data)
            await writer.drain()

    def drop_clients(self) -> None:
        """Close every connection, as a bridge does when it restarts."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    @property
    def clients(self) -> int:
        return len(self._writers)

    async def stop(self) -> None:
        self.drop_clients()
        if self._server is not None:
            self._server.close()
            # Also connections accepted but not yet handed to `_accept` (a meter's link
            # reconnects within seconds): `wait_closed` waits for every one of them.
            self._server.close_clients()
            await self._server.wait_closed()


@pytest.fixture
async def meter_server(socket_enabled: None) -> AsyncGenerator[MeterServer]:
    """A TCP meter that greets each client with `greeting` and sends what a test pushes."""
    server = MeterServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def portal(socket_enabled: None) -> AsyncGenerator[Portal]:
    """The upstream test portal (aiohttp) on 127.0.0.1."""
    server = Portal()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def pseudo_terminal() -> Generator[PseudoTerminal]:
    """A pseudo-terminal pair, closed after the test."""
    terminal = PseudoTerminal()
    yield terminal
    terminal.close()


def network_entry(port: int, unique_id: str = "K8EG004046395507", **extra: Any) -> MockConfigEntry:
    """A config entry for a P1 meter behind a TCP bridge on 127.0.0.1."""
    options = extra.pop("options", {})
    title = extra.pop("title", f"P1 meter {unique_id}")
    return MockConfigEntry(
        domain=DOMAIN,
        title=title,
        unique_id=unique_id,
        data={
            CONF_SOURCE: "p1",
            CONF_CONNECTION: CONNECTION_NETWORK,
            CONF_HOST: "127.0.0.1",
            CONF_PORT: port,
            **extra,
        },
        options=options,
    )


def serial_entry(path: str, unique_id: str = "K8EG004046395507", **extra: Any) -> MockConfigEntry:
    """A config entry for a P1 meter on a serial port."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"P1 meter {unique_id}",
        unique_id=unique_id,
        data={
            CONF_SOURCE: "p1",
            CONF_CONNECTION: CONNECTION_SERIAL,
            CONF_SERIAL_PORT: path,
            CONF_SERIAL_MODE: "115200_8n1",
            **extra,
        },
    )


async def wait_until(predicate: Callable[[], bool], attempts: int = 500) -> None:
    """Let the event loop run until `predicate` holds (socket I/O is not covered by
    `async_block_till_done`). Fails the test if it never does."""
    for _ in range(attempts):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def setup_entry(
    hass: HomeAssistant, entry: MockConfigEntry, *, wait_for_data: bool = True
) -> None:
    """Add and set up an entry and, unless told not to, wait for its first telegram
    (setup itself does not wait for the meter)."""
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if not wait_for_data or entry.state is not ConfigEntryState.LOADED:
        return
    coordinator = entry.runtime_data.coordinator
    # A meter's coordinator; a bus's has polled its meters during setup already.
    if isinstance(coordinator, MeterCoordinator):
        await wait_until(lambda: coordinator.latest is not None)
        await hass.async_block_till_done()


def reencode(telegram_bytes: bytes, old: bytes, new: bytes) -> bytes:
    """A telegram with `old` replaced by `new` and its CRC recomputed, as a meter would send."""
    body = telegram_bytes[: telegram_bytes.index(b"!") + 1].replace(old, new)
    assert old in telegram_bytes
    return body + f"{crc16_arc(body):04X}\r\n".encode()


def device_with(
    registry: dr.DeviceRegistry, entry: MockConfigEntry, identifier: tuple[str, str]
) -> dr.DeviceEntry | None:
    """The entry's device with `identifier` (a lookup that exists on every release we test:
    `async_get_device(identifiers=...)` is deprecated from 2026.8)."""
    return next(
        (
            device
            for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
            if identifier in device.identifiers
        ),
        None,
    )
