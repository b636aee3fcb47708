"""One session per meter source: the single object a caller holds to get a meter's data.

A session owns everything between the wire and the values to show: the link, the framing and
decoding (push) or the requests (poll), the publish window and the derived values. Two kinds:

* `PushSession` for meters that send on their own (P1, DLMS): `run()` keeps the link alive
  and calls `on_message` for every good message, with the data to show when the publish
  window lets one through.
* `PolledSession` for meters that must be asked (Modbus, MEP): the caller's timer calls
  `poll()`, which (re)opens the source when needed and returns the data to show.

Both expose the same health view: `link_description`, `stats`, `recent_failures`,
`counter_rejections`, `diagnostics()` and the capacity state to save and restore.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from typing import Any

from .core.errors import DecodeError, LinkError
from .core.family import Family, Keys, PolledSource, StreamDecoder
from .core.model import Snapshot
from .derive.deriver import Deriver, MeterData
from .derive.window import PublishWindow
from .links.connections import LinkSettings, create_link, describe_link
from .links.stream import RECENT_FAILURES_KEPT, LinkStats, MeterStream
from .saved_state import SavedState, link_totals, restore_link_totals


class _Derivation:
    """What both kinds share: derived values, their saved state and the health counters."""

    def __init__(self, family: Family, description: str, time_zone: tzinfo, interval: float):
        self.family = family
        self.link_description = description
        self.deriver = Deriver(time_zone, publish_interval=interval)
        self._time_zone = time_zone

    @property
    def counter_rejections(self) -> int:
        """Counter values held back because they went backwards or jumped."""
        return self.deriver.counter_rejections

    @property
    def stats(self) -> LinkStats:
        """Health counters of the link."""
        raise NotImplementedError

    def restore_state(self, saved: Mapping[str, Any] | None) -> None:
        """Restore what `saved_state` returned before a restart (junk is ignored)."""
        state = SavedState.from_stored(saved)
        self.deriver.restore_capacity(state.capacity)
        self.deriver.restore_counters(state.counters)
        restore_link_totals(self.stats, state.link)

    def saved_state(self) -> dict[str, Any]:
        """JSON-safe state worth keeping across restarts."""
        return SavedState(
            capacity=self.deriver.capacity_dict(),
            counters=self.deriver.counters_dict(),
            link=link_totals(self.stats),
        ).as_dict()

    def _derive(self, snapshot: Snapshot) -> MeterData:
        return self.deriver.derive(snapshot, datetime.now(self._time_zone))


class PushSession(_Derivation):
    """A meter that pushes its data over a serial port or a TCP bridge."""

    delivery = "push"

    def __init__(
        self,
        family: Family,
        link: LinkSettings,
        keys: Keys,
        *,
        time_zone: tzinfo,
        publish_interval: float = 0.0,
        idle_timeout: float | None = None,
        on_message: Callable[[MeterData | None], None],
        on_error: Callable[[DecodeError], None] | None = None,
        on_link_state: Callable[[bool, str | None], None] | None = None,
        make_decoder: Callable[[Keys], StreamDecoder] | None = None,
    ) -> None:
        """Prepare the session; nothing is opened until `run()`.

        `on_message` is called for every good message: with the data to show, or None when
        the publish window holds the message back. `make_decoder` replaces the family's own
        factory, for a decoder configured by the caller (DLMS multipliers).
        """
        super().__init__(family, describe_link(link), time_zone, publish_interval)
        make_decoder = make_decoder or family.make_decoder
        if make_decoder is None:
            raise ValueError(f"{family.name} meters are polled, not pushed")
        self.decoder = make_decoder(keys)
        self._window = PublishWindow(publish_interval)
        self._on_message = on_message
        self.stream = MeterStream(
            lambda: create_link(link),
            self.decoder,
            on_snapshot=self._accept,
            on_error=on_error,
            on_state=on_link_state,
            idle_timeout=idle_timeout,
        )

    @property
    def stats(self) -> LinkStats:
        """Health counters of the link."""
        return self.stream.stats

    @property
    def recent_failures(self) -> deque[bytes]:
        """The last messages that could not be decoded, as they arrived."""
        return self.stream.recent_failures

    async def run(self) -> None:
        """Read until `stop()`; reconnects on its own."""
        await self.stream.run()

    async def stop(self) -> None:
        """Stop reading and close the link."""
        await self.stream.stop()

    def diagnostics(self) -> dict[str, object]:
        """The family's link-layer facts (framing, security, counters)."""
        return dict(self.family.diagnostics(self.decoder))

    def _accept(self, snapshot: Snapshot) -> None:
        published = self._window.add(snapshot, asyncio.get_running_loop().time())
        self._on_message(None if published is None else self._derive(published))


class PolledSession(_Derivation):
    """A meter that answers requests; the caller decides when to `poll()`."""

    delivery = "poll"

    def __init__(
        self, family: Family, source: PolledSource, description: str, *, time_zone: tzinfo
    ) -> None:
        """Wrap an unopened source; `poll()` opens it."""
        super().__init__(family, description, time_zone, 0.0)
        self._source = source
        self._open = False
        self._ever_opened = False
        self._stats = LinkStats()
        self.recent_failures: deque[bytes] = deque(maxlen=RECENT_FAILURES_KEPT)
        self.polls = 0
        """Polls finished, good or not."""

    @property
    def stats(self) -> LinkStats:
        """Health counters of the source."""
        return self._stats

    async def poll(self) -> MeterData:
        """Read the meter once and derive what to show.

        Raises LinkError when the source cannot be opened or broke (it is reopened on the
        next poll) and DecodeError when the answer was unusable; both are counted.
        """
        try:
            return await self._poll()
        finally:
            self.polls += 1

    async def _poll(self) -> MeterData:
        if not self._open:
            try:
                await self._source.open()
            except LinkError as err:
                self.stats.open_failures += 1
                self.stats.last_error = str(err)
                raise
            self._open = True
            self.stats.link_open = self.stats.connected = True
            if self._ever_opened:
                self.stats.reconnects += 1
            self._ever_opened = True
        try:
            snapshot = await self._source.read()
        except LinkError as err:
            self.stats.last_error = str(err)
            await self._close()
            raise
        except DecodeError as err:
            self.stats.decode_failures += 1
            self.stats.last_error = str(err)
            if err.raw:
                self.recent_failures.append(err.raw)
            raise
        self.stats.messages_ok += 1
        return self._derive(snapshot)

    async def stop(self) -> None:
        """Close the source."""
        await self._close()

    def diagnostics(self) -> dict[str, object]:
        """The source's protocol facts."""
        return dict(self._source.diagnostics())

    async def _close(self) -> None:
        if self._open:
            self._open = False
            self.stats.link_open = self.stats.connected = False
            await self._source.close()
