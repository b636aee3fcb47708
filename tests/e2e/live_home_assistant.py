"""A real Home Assistant process with the demo's simulated meters, for the browser journey.

It reuses `scripts/demo.py`: the demo's configuration, its simulated meters of every family
and the way it starts `hass`, but stops before onboarding: the journey does everything else
through the UI. The meters and the upstream portal are asyncio servers; they run on an event
loop of their own in a background thread, because Playwright's sync API drives the browser
from the test's thread.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
import socket
import sys
import threading
from typing import Any

import aiohttp

from simulators.upstream_portal import TOKEN as PORTAL_TOKEN, Portal

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO / "scripts"), str(REPO / "scripts" / "lib")]

import demo  # noqa: E402 - scripts/demo.py, found through the path above
from demo_meters import DemoMeter  # noqa: E402

__all__ = ["PORTAL_TOKEN", "LiveHomeAssistant"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveHomeAssistant:
    """`hass` on a throw-away configuration, the demo meters and an upstream portal."""

    demo: demo.Demo
    portal: Portal
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread

    @classmethod
    def start(cls) -> LiveHomeAssistant:
        """Start everything; returns once Home Assistant answers on its HTTP port."""
        args = argparse.Namespace(
            port=_free_port(),
            listen="127.0.0.1",
            keep_config=False,
            no_history=True,
            check=False,
            verbose=False,
        )
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="e2e meters", daemon=True)
        thread.start()
        live = cls(demo.Demo(args), Portal(), loop, thread)
        try:
            live.run(live._start())
        except BaseException:
            live.stop()
            raise
        return live

    async def _start(self) -> None:
        self.demo.write_config()
        await self.portal.start()
        await self.demo.start_meters()
        await self.demo.start_home_assistant()
        async with aiohttp.ClientSession() as http:
            await self.demo.wait_for_api(http)

    def run[T](self, coroutine: Coroutine[Any, Any, T], timeout: float = 600) -> T:
        """Run `coroutine` on the meters' loop and wait for its result."""
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result(timeout)

    @property
    def url(self) -> str:
        return self.demo.base

    @property
    def password(self) -> str:
        return self.demo.password

    @property
    def log_file(self) -> Path:
        return self.demo.log_file

    def meter(self, name_part: str) -> DemoMeter:
        """The demo meter whose name contains `name_part`."""
        return next(m for m in self.demo.meters if name_part in m.name)

    def replay_history(self, token: str, meter: DemoMeter) -> None:
        """Give `meter`'s counters the week before it started, as `scripts/demo` does.

        Home Assistant writes hourly statistics only when an hour is over, so without a past
        the Energy dashboard would show nothing for the first hour. `token` is the browser's
        own access token: this is data, not a step a user would click.
        """
        self.run(self._replay_history(token, meter))

    async def _replay_history(self, token: str, meter: DemoMeter) -> None:
        async with aiohttp.ClientSession() as http:
            session = demo.Session(self.url, token, http)
            ws = await demo.WebSocket.open(session)
            try:
                registry = await ws.call("config/entity_registry/list")
                entry_id = next(
                    entity["config_entry_id"]
                    for entity in registry
                    if entity["platform"] == demo.DOMAIN
                    and entity["unique_id"].startswith(f"{meter.meter_id}_")
                )
                self.demo.added = [demo.AddedMeter(meter, entry_id, meter.name, {})]
                await self.demo.map_entities(ws)
                await self.demo.import_history(ws, session)
            finally:
                await ws.close()

    def ensure_running(self) -> None:
        """Raise with Home Assistant's last log lines if it has exited."""
        self.demo.ensure_running()

    def stop(self) -> None:
        """Stop Home Assistant, the meters and the portal, then the loop and its thread."""
        try:
            self.run(self._stop(), timeout=120)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
            self.loop.close()

    async def _stop(self) -> None:
        await self.demo.stop()
        await self.portal.stop()
