"""Keep one meter link alive and turn its bytes into snapshots.

`MeterStream` is the long-running supervisor used by the integration: it reconnects with
exponential backoff, reports each outage once, counts what went wrong instead of logging
every bad frame, and survives anything the decoder or the callbacks raise.
`wait_for_first_snapshot` and `probe_serial` are the one-shot checks used while setting up.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
import logging
import random
import time
from typing import TYPE_CHECKING

from ..core.errors import (
    ChecksumError,
    DecodeError,
    KeyRequiredError,
    LinkError,
    PortNotFoundError,
    PortPermissionError,
    WrongKeyError,
)
from ..core.family import StreamDecoder
from ..core.model import Snapshot
from .connections import SerialSettings, create_link, serial_settings_for

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .connections import Link

_LOGGER = logging.getLogger(__name__)

RECENT_FAILURES_KEPT = 5

RECENT_LINK_SECONDS = 600.0
"""A link that delivered (or was started) this recently is expected back soon..."""
RECENT_LINK_RETRY_CAP = 5.0
"""...so it is retried at least this often: a bridge that restarts is back within seconds,
and one connection attempt every 5 s costs a LAN bridge or a serial port nothing. Links
gone for longer back off to `Backoff.maximum`."""


@dataclass
class LinkStats:
    """Health counters of one stream, for diagnostics and quality sensors."""

    bytes_received: int = 0
    messages_ok: int = 0
    crc_failures: int = 0
    decode_failures: int = 0
    reconnects: int = 0
    """Successful opens after the first one."""
    open_failures: int = 0
    internal_errors: int = 0
    """Exceptions raised by the decoder or a callback (bugs, not bad input)."""
    connected: bool = False
    """True from the first good message after an open until the link fails."""
    link_open: bool = False
    last_error: str | None = None
    """Why the link last failed."""
    last_decode_error: str | None = None
    last_message_monotonic: float | None = None
    last_message_at: datetime | None = None

    def as_dict(self) -> dict[str, object]:
        """Return the counters as a plain dict (datetimes as ISO text)."""
        data: dict[str, object] = asdict(self)
        if self.last_message_at is not None:
            data["last_message_at"] = self.last_message_at.isoformat()
        return data


@dataclass
class Backoff:
    """Exponential retry delay with random spread, never above `maximum`."""

    initial: float = 1.0
    maximum: float = 60.0
    factor: float = 2.0
    jitter: float = 0.2
    """Relative spread: a base delay d is returned as a value in d * (1 ± jitter)."""
    _attempt: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0 < self.initial <= self.maximum:
            raise ValueError("Backoff needs 0 < initial <= maximum")
        if self.factor < 1:
            raise ValueError("Backoff factor must be at least 1")
        if not 0 <= self.jitter < 1:
            raise ValueError("Backoff jitter must be in [0, 1)")

    def next_delay(self) -> float:
        """Return the delay before the next attempt and advance."""
        base = min(self.maximum, self.initial * self.factor**self._attempt)
        if base < self.maximum:  # stop counting at the cap so the power cannot overflow
            self._attempt += 1
        spread = base * self.jitter
        return min(self.maximum, base + random.uniform(-spread, spread))

    def reset(self) -> None:
        """Start again from `initial` (after a connection proved healthy)."""
        self._attempt = 0


class MeterStream:
    """Supervise one link: open, read, decode, dispatch; reconnect when it breaks."""

    def __init__(
        self,
        link_factory: Callable[[], Link],
        decoder: StreamDecoder,
        *,
        on_snapshot: Callable[[Snapshot], None],
        on_error: Callable[[DecodeError], None] | None = None,
        on_state: Callable[[bool, str | None], None] | None = None,
        idle_timeout: float | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._link_factory = link_factory
        self._decoder = decoder
        self._on_snapshot = on_snapshot
        self._on_error = on_error
        self._on_state = on_state
        # None by default: some bridges only send when asked, silence is not death there.
        self._idle_timeout = idle_timeout
        self._backoff = backoff if backoff is not None else Backoff()
        self.stats = LinkStats()
        self.recent_failures: deque[bytes] = deque(maxlen=RECENT_FAILURES_KEPT)
        self._link: Link | None = None
        self._up: bool | None = None  # None until the first outcome, so each change reports once
        self._ever_opened = False
        self._started_monotonic = time.monotonic()
        self._task: asyncio.Task[None] | None = None
        self._stop_requested = asyncio.Event()  # set once by stop(); checked, never awaited
        self._complaints_logged: set[str] = set()

    @property
    def link(self) -> Link | None:
        """The link currently open, for sources that poll by writing to it."""
        return self._link

    async def run(self) -> None:
        """Run until stop() (then return) or cancellation (then raise CancelledError).

        A stopped stream stays stopped: run() returns at once, even when stop() came first.
        """
        if self._task is not None:
            raise RuntimeError("MeterStream is already running")
        if self._stop_requested.is_set():
            return
        task = asyncio.current_task()
        assert task is not None  # run() is a coroutine, so a task is always current
        self._task = task
        self._started_monotonic = time.monotonic()
        try:
            while True:
                reason = await self._session()
                self._report_down(reason)
                delay = self._retry_delay()
                _LOGGER.debug("Link down (%s); retrying in %.1f s", reason, delay)
                await asyncio.sleep(delay)
        except asyncio.CancelledError:
            # Swallow only our own stop() cancellation; anyone else's must propagate.
            if self._stop_requested.is_set() and task.uncancel() == 0:
                return
            raise
        finally:
            self._task = None
            self.stats.connected = False

    def _retry_delay(self) -> float:
        """The backoff's next delay, capped low while the link is expected back soon."""
        delay = self._backoff.next_delay()
        last_good = self.stats.last_message_monotonic or self._started_monotonic
        if time.monotonic() - last_good < RECENT_LINK_SECONDS:
            return min(delay, RECENT_LINK_RETRY_CAP)
        return delay

    async def stop(self) -> None:
        """Stop run() for good and close the link; returns when both are done."""
        first_request = not self._stop_requested.is_set()
        self._stop_requested.set()
        task = self._task
        if task is None or task.done():
            return
        if first_request:  # a second cancel would be taken for someone else's
            task.cancel()
        await asyncio.wait([task])

    async def _session(self) -> str:
        """Open one link and pump it until it fails; return why it failed."""
        try:
            link = self._link_factory()
        except Exception as err:
            self._internal_error("link_factory", "Creating the meter link failed", err)
            return f"Cannot create link: {err!r}"
        try:
            try:
                await link.open()
            except LinkError as err:
                self.stats.open_failures += 1
                return str(err)
            self._link = link
            self.stats.link_open = True
            if self._ever_opened:
                self.stats.reconnects += 1
            self._ever_opened = True
            while True:
                data = await self._read(link)
                self._consume(data)
        except LinkError as err:
            return str(err)
        except Exception as err:
            self._internal_error("link", f"Unexpected error on meter link {link!r}", err)
            return f"Unexpected link error: {err!r}"
        finally:
            self._link = None
            self.stats.link_open = False
            try:
                await link.close()
            except Exception:
                _LOGGER.debug("Closing %r failed", link, exc_info=True)

    async def _read(self, link: Link) -> bytes:
        if self._idle_timeout is None:
            return await link.read()
        try:
            async with asyncio.timeout(self._idle_timeout):
                return await link.read()
        except TimeoutError as err:
            raise LinkError(f"No data received for {self._idle_timeout:g} s") from err

    def _consume(self, data: bytes) -> None:
        self.stats.bytes_received += len(data)
        try:
            results = self._decoder.feed(data)
        except Exception as err:
            self._internal_error("decoder", "The meter decoder raised", err)
            return
        for result in results:
            if isinstance(result, Snapshot):
                self._accept(result)
            else:
                self._reject(result)

    def _accept(self, snapshot: Snapshot) -> None:
        self.stats.messages_ok += 1
        self.stats.last_message_monotonic = time.monotonic()
        self.stats.last_message_at = datetime.now(UTC)
        if self._up is not True:
            self._up = True
            self._complaints_logged.clear()  # a healthy link earns a fresh traceback per bug
            self.stats.connected = True
            self.stats.last_error = None
            self._backoff.reset()
            self._notify_state(True, None)
        try:
            self._on_snapshot(snapshot)
        except Exception as err:
            self._internal_error("on_snapshot", "The snapshot callback raised", err)

    def _reject(self, error: DecodeError) -> None:
        if isinstance(error, ChecksumError):
            self.stats.crc_failures += 1
        else:
            self.stats.decode_failures += 1
        self.stats.last_decode_error = str(error)
        raw = getattr(error, "raw", b"")
        self.recent_failures.append(bytes(raw) if isinstance(raw, bytes | bytearray) else b"")
        # Bad frames are routine on a noisy line: counted, never logged above debug.
        _LOGGER.debug("Message rejected: %s", error)
        if self._on_error is not None:
            try:
                self._on_error(error)
            except Exception as err:
                self._internal_error("on_error", "The decode-error callback raised", err)

    def _report_down(self, reason: str) -> None:
        self.stats.last_error = reason
        self.stats.connected = False
        if self._up is not False:
            self._up = False
            self._notify_state(False, reason)

    def _notify_state(self, up: bool, reason: str | None) -> None:
        if self._on_state is None:
            return
        try:
            self._on_state(up, reason)
        except Exception as err:
            self._internal_error("on_state", "The state callback raised", err)

    def _internal_error(self, source: str, message: str, err: Exception) -> None:
        """Count a bug-level exception; log its traceback once per source and recovery."""
        self.stats.internal_errors += 1
        if source in self._complaints_logged:
            _LOGGER.debug(message, exc_info=err)
        else:
            self._complaints_logged.add(source)
            _LOGGER.error("%s (repeats are logged at debug level)", message, exc_info=err)


@dataclass
class FirstResult:
    """What a one-shot listen produced."""

    snapshot: Snapshot | None
    errors: list[DecodeError]
    bytes_received: int


async def wait_for_first_snapshot(
    link: Link,
    decoder: StreamDecoder,
    timeout: float,  # noqa: ASYNC109 - the setup flow's signature; applied via asyncio.timeout
    *,
    conclusive: tuple[type[DecodeError], ...] = (KeyRequiredError, WrongKeyError),
    identity_grace: float = 0.0,
) -> FirstResult:
    """Open `link` and read until a snapshot arrives or `timeout` passes; always close.

    Errors from open() and read() propagate as LinkError; decode errors seen before the
    first snapshot (or the timeout) are returned so a setup form can explain the failure.
    A `conclusive` error ends the wait at once: a missing or wrong key will not fix itself,
    and the user should not wait out the timeout to be asked for it.

    With an `identity_grace`, a first snapshot that names no meter is held while listening
    that many seconds more for one that does: a meter's short list may carry no meter id
    while its longer list, a few seconds later, does. Without one, the first is returned.
    """
    errors: list[DecodeError] = []
    received = 0
    unnamed: Snapshot | None = None
    try:
        await link.open()
        async with asyncio.timeout(timeout) as deadline:
            while True:
                data = await link.read()
                received += len(data)
                for result in decoder.feed(data):
                    if isinstance(result, Snapshot):
                        if result.meter_id is not None or identity_grace <= 0:
                            return FirstResult(result, errors, received)
                        if unnamed is None:
                            unnamed = result
                            loop = asyncio.get_running_loop()
                            deadline.reschedule(loop.time() + identity_grace)
                        continue
                    errors.append(result)
                    if unnamed is None and isinstance(result, conclusive):
                        return FirstResult(None, errors, received)
    except TimeoutError:
        return FirstResult(unnamed, errors, received)
    finally:
        await link.close()


async def probe_serial(
    path: str,
    decoder_factory: Callable[[], StreamDecoder],
    timeout_per_setting: float = 12.0,
    *,
    presets: Sequence[str],
    identity_grace: float = 0.0,
    conclusive: tuple[type[DecodeError], ...] = (KeyRequiredError, WrongKeyError),
) -> tuple[SerialSettings, FirstResult]:
    """Try the line settings in `presets` in turn, the one loop of automatic detection.

    Returns the first setting that yields a snapshot or a `conclusive` error (the framing
    was understood, only the key is missing or wrong: no other setting would help), else
    the last setting the port accepted with what it heard, so the caller can tell silence
    from garbage. A missing port or a permission problem propagates at once; a setting the
    port refuses is skipped; when the port refused every setting, the last refusal
    propagates (a port that is in use, say).
    """
    refusal: LinkError | None = None
    heard: tuple[SerialSettings, FirstResult] | None = None
    for preset in presets:
        settings = serial_settings_for(path, preset)
        try:
            result = await wait_for_first_snapshot(
                create_link(settings),
                decoder_factory(),
                timeout_per_setting,
                conclusive=conclusive,
                identity_grace=identity_grace,
            )
        except (PortNotFoundError, PortPermissionError):
            raise
        except LinkError as err:
            _LOGGER.debug("Probing %s with %s failed: %s", path, preset, err)
            refusal = err
            continue
        if result.snapshot is not None or any(isinstance(e, conclusive) for e in result.errors):
            return settings, result
        _LOGGER.debug(
            "No snapshot on %s with %s: %d bytes, %d rejected messages",
            path,
            preset,
            result.bytes_received,
            len(result.errors),
        )
        heard = settings, result
    if heard is None:
        assert refusal is not None  # presets is never empty
        raise refusal
    return heard
