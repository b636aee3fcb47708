"""A portal that ingests Energy Gateway batches over real HTTP (aiohttp.web on 127.0.0.1).

For the tests and the soak benchmark. It checks the bearer token, keeps every request it was
sent, deduplicates on the idempotency key the way a real ingest would, and can misbehave on
demand: answer with a given status (and Retry-After), be slow, or store a batch and then
time out before answering.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
import json
from typing import Any

from aiohttp import web

TOKEN = "portal-test-token"  # noqa: S105 - the test portal's own token


@dataclass
class Behaviour:
    """How the portal answers the next requests."""

    status: int = 200
    """Status for requests that pass authentication (200 = store and accept)."""
    retry_after: str | None = None
    delay: float = 0.0
    """Seconds to wait after storing a batch before answering: a slow portal, or (longer
    than the client waits) one that stores and then times out."""
    accept_gzip: bool = True
    refuse_gzip: bool = False
    """Answer 415 to gzipped bodies (while still announcing gzip, as a misconfigured proxy
    in front of a portal might)."""
    statuses: list[int] = field(default_factory=list)
    """One-off statuses used (and removed) before `status`, oldest first."""


class Portal:
    """The ingest endpoint `POST /ingest` and what it received."""

    def __init__(
        self, token: str = TOKEN, keep: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    ) -> None:
        """`keep` reduces each stored body (a long soak keeps only what it checks)."""
        self.token = token
        self._keep = keep
        self.behaviour = Behaviour()
        self.requests = 0
        self.keys_seen: Counter[str] = Counter()
        self.batches: dict[str, Any] = {}
        """Idempotency key → the first body stored under it (insertion order = arrival)."""
        self.gzipped = 0
        self.duplicate_snapshots = 0
        """Snapshots that arrived again under a key already stored (before deduplication)."""
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1 (`port` 0: any free port, see `url`)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/ingest", self._ingest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/ingest"

    async def _ingest(self, request: web.Request) -> web.Response:
        self.requests += 1
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "bad token"}, status=401)
        behaviour = self.behaviour
        status = behaviour.statuses.pop(0) if behaviour.statuses else behaviour.status
        raw = await request.read()
        if behaviour.refuse_gzip and request.headers.get("Content-Encoding") == "gzip":
            return web.json_response({"error": "no gzip"}, status=415)
        if status >= 300:
            headers = {"Retry-After": behaviour.retry_after} if behaviour.retry_after else None
            return web.json_response({"error": "not now"}, status=status, headers=headers)
        if request.headers.get("Content-Encoding") == "gzip":
            self.gzipped += 1  # aiohttp has already inflated `raw`
        key = request.headers["Idempotency-Key"]
        self.keys_seen[key] += 1
        body = json.loads(raw)
        if key in self.batches:
            self.duplicate_snapshots += sum(len(m["snapshots"]) for m in body.get("meters", []))
        self.batches.setdefault(key, self._keep(body) if self._keep else body)
        if behaviour.delay:
            await asyncio.sleep(behaviour.delay)
        headers = {"Accept-Encoding": "gzip"} if behaviour.accept_gzip else {}
        return web.json_response({"stored": key}, headers=headers)

    @property
    def duplicates(self) -> int:
        """Requests that carried a key already stored (what deduplication removes)."""
        return sum(count - 1 for count in self.keys_seen.values())

    def snapshots_by_meter(self) -> dict[str, list[dict[str, Any]]]:
        """Every stored v1 snapshot after deduplication, per meter, in arrival order."""
        meters: dict[str, list[dict[str, Any]]] = {}
        for body in self.batches.values():
            for meter in body.get("meters", []):
                meters.setdefault(meter["meter_id"], []).extend(meter["snapshots"])
        return meters


async def _serve_forever(port: int) -> None:
    portal = Portal()
    await portal.start(port)
    print(portal.port, flush=True)  # the parent process reads the port from here
    await asyncio.Event().wait()


if __name__ == "__main__":
    # A portal in its own process, so a benchmark's process time does not include it.
    import sys

    asyncio.run(_serve_forever(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
