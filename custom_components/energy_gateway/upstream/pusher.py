"""The upstream entry's coordinator: takes every meter snapshot into the outbox at once and
delivers the outbox to the portal once per interval.

Everything that touches the disk, JSON or gzip runs in Home Assistant's executor; the event
loop only collects snapshots, awaits the HTTP exchange and updates the diagnostic sensors.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
import sqlite3
from typing import Any

from homeassistant.config_entries import ConfigEntry
from homeassistant.const import CONF_TOKEN, CONF_URL
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator
from homeassistant.util import dt as dt_util

from ..const import CONF_SOURCE, DOMAIN, LOGGER
from ..meterlib.core.model import Snapshot
from . import repairs
from .const import (
    CONF_GATEWAY_ID,
    CONF_METERS,
    CONF_PAYLOAD_FORMAT,
    CONF_PUSH_INTERVAL,
    DEFAULT_PUSH_INTERVAL,
    MAX_BATCHES_PER_PUSH,
    MAX_SNAPSHOTS_PER_BATCH,
    REQUEST_TIMEOUT,
    SIGNAL_SNAPSHOT,
)
from .outbox import Outbox, OutboxStats, PendingBatch, StoredSnapshot
from .payload import FORMAT_V1, MeterIdentity, Request, build_requests, encode_snapshot
from .retry import Backoff, RetryWait
from .sender import Answer, Outcome, post

type UpstreamConfigEntry = ConfigEntry[UpstreamPusher]

_HALTING = {Outcome.AUTH_REJECTED, Outcome.REJECTED, Outcome.BAD_URL}
"""Answers that retrying cannot fix: delivery stops until the entry is fixed and reloads."""


@dataclass(frozen=True, slots=True)
class UpstreamStatus:
    """What the diagnostic sensors show after each interval."""

    backlog: int
    oldest_age: float | None
    """Seconds since the oldest undelivered snapshot was received."""
    last_success: datetime | None
    dropped: int
    outbox_bytes: int
    halted: str | None
    """Why delivery stopped (`auth_rejected`, `rejected`, `bad_url`), None while it runs."""


class UpstreamPusher(DataUpdateCoordinator[UpstreamStatus]):
    """Outbox in, batches out: one per upstream entry."""

    config_entry: UpstreamConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: UpstreamConfigEntry, outbox: Outbox, dropped: int
    ) -> None:
        """Nothing is sent until the first refresh; `dropped` is the outbox's count so far
        (drops from now on raise the repair issue)."""
        interval = float(entry.data.get(CONF_PUSH_INTERVAL, DEFAULT_PUSH_INTERVAL))
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} upstream {entry.title}",
            update_interval=timedelta(seconds=interval),
        )
        self.outbox = outbox
        self._session = async_get_clientsession(hass)
        self._backoff = Backoff()
        self._wait: RetryWait | None = None
        self._use_gzip = False
        self.halted: str | None = None
        self.last_success: datetime | None = None
        self.last_answer: Answer | None = None
        self.counters = {"delivered": 0, "retries": 0, "received": 0, "write_failures": 0}
        self._meters: frozenset[str] = frozenset(entry.data.get(CONF_METERS) or ())
        self._identities: dict[tuple[str, str | None], MeterIdentity] = {}
        self._incoming: list[tuple[MeterIdentity, Snapshot, datetime]] = []
        self._writer: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._dropped_at_start = dropped
        self._unsubscribe: CALLBACK_TYPE | None = None
        self.closed = False
        """Closed for good (unloaded, or Home Assistant's last writes are done)."""

    def subscribe(self, early: list[tuple[str, Snapshot, datetime, str | None]]) -> None:
        """Start taking meter snapshots into the outbox, after those that arrived while
        the outbox was being opened."""
        self._unsubscribe = async_dispatcher_connect(self.hass, SIGNAL_SNAPSHOT, self._on_snapshot)
        for meter_entry_id, snapshot, received, member in early:
            self._accept(meter_entry_id, snapshot, received, member)

    @callback
    def _on_snapshot(
        self, meter_entry_id: str, snapshot: Snapshot, member: str | None = None
    ) -> None:
        """A meter showed a new snapshot: queue it for the disk right away.

        `member` tells the meters of one entry apart (a Modbus bus: the meter's address).
        """
        self._accept(meter_entry_id, snapshot, dt_util.utcnow(), member)

    @callback
    def _accept(
        self,
        meter_entry_id: str,
        snapshot: Snapshot,
        received: datetime,
        member: str | None = None,
    ) -> None:
        if self._meters and meter_entry_id not in self._meters:
            return
        identity = self._identity(meter_entry_id, member)
        self._incoming.append((identity, snapshot, received))
        self.counters["received"] += 1
        self._ensure_writer()

    def _ensure_writer(self) -> None:
        """Start the one writer task, unless it runs or nothing waits for the disk.

        A single writer keeps the snapshots in arrival order. Tasks may start eagerly (Home
        Assistant 2026): one that finished before it returned is not remembered.
        """
        if not self._incoming or self._writer is not None:
            return
        task = self.config_entry.async_create_background_task(
            self.hass, self._write_incoming(), f"{DOMAIN} upstream outbox writer"
        )
        if not task.done():
            self._writer = task

    def _identity(self, meter_entry_id: str, member: str | None) -> MeterIdentity:
        """The meter's id (its entry's unique id, plus its address on a bus) and its source
        kind; the serial is each snapshot's own (see `_store`)."""
        if (known := self._identities.get((meter_entry_id, member))) is not None:
            return known
        entry = self.hass.config_entries.async_get_entry(meter_entry_id)
        meter_id = (entry.unique_id if entry else None) or meter_entry_id
        identity = MeterIdentity(
            meter_id=meter_id if member is None else f"{meter_id}-{member}",
            serial=None,
            source=str(entry.data.get(CONF_SOURCE, "p1")) if entry else "unknown",
        )
        self._identities[(meter_entry_id, member)] = identity
        return identity

    async def _write_incoming(self) -> None:
        """Write what arrived, in arrival order, until nothing is left."""
        try:
            while self._incoming:
                items, self._incoming = self._incoming, []
                try:
                    await self.hass.async_add_executor_job(self._store, items)
                except sqlite3.Error as err:
                    # Disk full, file unwritable...: keep them in memory, in order, and try
                    # again at the next interval rather than lose them.
                    self._incoming[:0] = items
                    self.counters["write_failures"] += 1
                    LOGGER.error("Upstream: the outbox cannot store snapshots (%s)", err)
                    return
        finally:
            if self._writer is asyncio.current_task():
                self._writer = None

    def _store(self, items: list[tuple[MeterIdentity, Snapshot, datetime]]) -> None:
        """Encode and store (executor)."""
        stored: list[StoredSnapshot] = []
        for identity, snapshot, received in items:
            with_serial = MeterIdentity(identity.meter_id, snapshot.meter_id, identity.source)
            try:
                stored.append(encode_snapshot(with_serial, snapshot, received))
            except (TypeError, ValueError):
                # A value JSON cannot carry: never stop the others for it.
                LOGGER.exception("Upstream: snapshot of %s not storable", identity.meter_id)
        self.outbox.add(stored)

    async def async_flush(self) -> None:
        """Wait until every snapshot received so far is on disk (or could not be written)."""
        self._ensure_writer()
        while (writer := self._writer) is not None:
            await writer

    async def async_close(self) -> None:
        """Stop listening and pushing, finish writing, close the outbox (on unload, and at
        Home Assistant's final write)."""
        self.closed = True
        await self.async_shutdown()  # no refresh may start on the closed file
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.async_flush()
        async with self._lock:
            await self.hass.async_add_executor_job(self.outbox.close)

    async def _async_update_data(self) -> UpstreamStatus:
        """One interval: apply retention, deliver what is due, report the outbox."""
        async with self._lock:
            await self.async_flush()
            await self.hass.async_add_executor_job(self.outbox.enforce_retention)
            if self.halted is None and (
                self._wait is None or self._wait.over(dt_util.utcnow().timestamp())
            ):
                await self._deliver()
            stats = await self.hass.async_add_executor_job(self.outbox.stats)
        self._report_drops(stats)
        now = dt_util.utcnow().timestamp()
        return UpstreamStatus(
            backlog=stats.backlog,
            oldest_age=None if stats.oldest_received is None else now - stats.oldest_received,
            last_success=self.last_success,
            dropped=stats.dropped,
            outbox_bytes=stats.file_bytes,
            halted=self.halted,
        )

    async def _deliver(self) -> None:
        """Send the oldest batches, a bounded number per interval, until one fails."""
        data = self.config_entry.data
        for _ in range(MAX_BATCHES_PER_PUSH):
            batch = await self.hass.async_add_executor_job(
                self.outbox.next_batch, MAX_SNAPSHOTS_PER_BATCH
            )
            if batch is None:
                return
            if not await self._send(batch, data):
                return
            await self.hass.async_add_executor_job(self.outbox.acknowledge, batch.key)
            self.counters["delivered"] += len(batch.snapshots)
            self._succeeded()

    async def _send(self, batch: PendingBatch, data: Any) -> bool:
        """Every request of the batch answered 2xx; otherwise schedules the retry."""
        requests: list[Request] = await self.hass.async_add_executor_job(
            lambda: build_requests(
                batch,
                gateway_id=data[CONF_GATEWAY_ID],
                payload_format=data.get(CONF_PAYLOAD_FORMAT, FORMAT_V1),
                use_gzip=self._use_gzip,
            )
        )
        for request in requests:
            answer = await post(
                self._session,
                data[CONF_URL],
                data[CONF_TOKEN],
                request.body,
                key=request.key,
                gzipped=request.gzipped,
                seconds=REQUEST_TIMEOUT,
            )
            self.last_answer = answer
            if answer.outcome is not Outcome.DELIVERED:
                self._failed(answer)
                return False
            self._use_gzip = self._use_gzip or answer.accepts_gzip
        return True

    def _succeeded(self) -> None:
        if self._backoff.failures:
            LOGGER.info("Upstream portal %s accepts data again", self.config_entry.title)
        self._backoff.reset()
        self._wait = None
        self.last_success = dt_util.utcnow()
        repairs.clear_delivery_issues(self.hass, self.config_entry)

    def _failed(self, answer: Answer) -> None:
        """Stop for answers retrying cannot fix; otherwise back off."""
        if answer.outcome is Outcome.ENCODING_REFUSED:
            self._use_gzip = False  # the next interval sends plain JSON
            return
        if answer.outcome in _HALTING:
            self.halted = answer.outcome.value
            LOGGER.error(
                "Upstream portal %s refused the data (%s, HTTP %s); delivery stops until the "
                "entry is fixed. Snapshots keep being stored",
                self.config_entry.title,
                answer.outcome.value,
                answer.status or "-",
            )
            repairs.raise_halt_issue(self.hass, self.config_entry, answer)
            return
        self.counters["retries"] += 1
        delay = self._backoff.next_delay(answer.retry_after or 0.0)
        now = dt_util.utcnow().timestamp()
        self._wait = RetryWait(since=now, until=now + delay)
        log = LOGGER.warning if self._backoff.failures == 1 else LOGGER.debug
        log(
            "Upstream portal %s: %s (HTTP %s); retrying in %.0f s, snapshots stay in the outbox",
            self.config_entry.title,
            answer.outcome.value,
            answer.status or "-",
            delay,
        )

    def _report_drops(self, stats: OutboxStats) -> None:
        if stats.dropped > self._dropped_at_start:
            repairs.raise_dropped_issue(
                self.hass, self.config_entry, stats.dropped - self._dropped_at_start
            )
