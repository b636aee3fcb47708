"""The MEP client: polls an NES/Echelon meter's tables over a `Link`.

Every exchange is one request and one verified reply. The client

* keeps at least `min_interval` (100 ms) between requests, as the meter serves no more;
* waits `response_timeout` for the first bytes of a reply and `chunk_timeout` between the
  chunks of a long one, then resends the identical packet once (guide p.21);
* adopts the sequence number of a `0C` reply and retries (also when the meter's counter
  jumped mid-session, after which the dimension table BT21 is read again);
* discards and counts every reply whose digest or byte count fails, and retries with a
  fresh sequence number; such a reply is never returned as data;
* takes two `0B` replies in a row as a wrong key.

The ENABLE line of the port is driven through RTS when the link can (serial ports).
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass
import logging
import secrets
from typing import Final, Literal, Protocol, runtime_checkable

from ..core.errors import DecodeError, LinkError, WrongKeyError
from ..core.model import Reading, Snapshot
from ..links.connections import Link
from .cipher import encryption_base_key
from .digest import KEY_SIZE
from .errors import (
    ByteCountError,
    DigestMismatchError,
    FramingError,
    MeterNotAnsweringError,
    RequestRefusedError,
    SequenceError,
)
from .frames import (
    MAX_READ_COUNT,
    RESPONSE_MEANINGS,
    SEQUENCE_MODULUS,
    FrameAssembler,
    Reply,
    Request,
    ResponseCode,
    build_request,
    open_response,
    partial_read,
    read_data,
)
from .tables import (
    BT01,
    BT01_READ,
    BT21,
    BT21_READ,
    BT23,
    BT28,
    BT52,
    BT52_READ,
    ET03,
    ET03_SERIAL_READ,
    Dimensions,
    MepIdentity,
    decode_clock,
    decode_dimensions,
    decode_manufacturer,
    decode_present_values,
    decode_registers,
    decode_serial,
)

_LOGGER = logging.getLogger(__name__)

SNAPSHOT_FORMAT: Final = "mep"
RESPONSE_TIMEOUT: Final = 0.6
"""The guide's 500 ms to the first reply bytes, plus 100 ms for bytes still on their way
through the UART or a network bridge when `write` returns."""
CHUNK_TIMEOUT: Final = 0.1
"""Silence inside a reply that ends it: the meter pauses 25 ms between 117-byte chunks."""
MIN_INTERVAL: Final = 0.1
"""The meter serves at most one request per 100 ms."""
SETTLE_TIME: Final = 1.0
"""Wait after asserting ENABLE before the first request (the guide's field advice: 0.5-1 s)."""
MAX_REJECTED: Final = 2
"""Retries, with fresh sequence numbers, after damaged replies to one read."""
MAX_RESYNCS: Final = 3
"""Sequence adoptions tolerated for one read before giving up."""
WRONG_KEY_REPLIES: Final = 2
"""Consecutive `0B` replies taken as a wrong key (one may be line noise in our request)."""

type RtsMode = Literal["on", "off", "inverted", "auto"]
"""How ENABLE is wired: to RTS (asserted = enabled), not at all, through an inverter, or
`auto`: to RTS when the port has one, else to a supply (ports without modem lines)."""


@runtime_checkable
class RtsControl(Protocol):
    """A link that can drive its RTS line (see `links.SerialLink.set_rts`)."""

    async def set_rts(self, active: bool) -> None:
        """Assert (True) or release (False) RTS; raise LinkError when the port cannot."""
        ...


@dataclass(slots=True)
class MepStats:
    """Counters of one client, for diagnostics."""

    requests: int = 0
    """Requests sent (each resend is counted under `resends` instead)."""
    resends: int = 0
    timeouts: int = 0
    resyncs: int = 0
    digest_failures: int = 0
    byte_count_failures: int = 0
    framing_failures: int = 0
    """Replies cut short or with an impossible length."""
    refusals: int = 0
    """Error codes 01-05 and `0B` replies."""
    discarded_bytes: int = 0
    """Stray bytes dropped between exchanges (late replies, noise)."""

    @property
    def rejected(self) -> int:
        """Every reply discarded as damaged."""
        return self.digest_failures + self.byte_count_failures + self.framing_failures

    def as_dict(self) -> dict[str, int]:
        """The counters by name."""
        return asdict(self)


class MepClient:
    """Reads identity and values from an NES/Echelon meter's MEP port.

    `key` is the MEP key (MBK or MAK); only its first 16 bytes count (see `parse_key` for
    the forms users type). Not safe for reads from several tasks at once; a lock makes
    concurrent calls wait their turn.
    """

    def __init__(
        self,
        link: Link,
        key: bytes,
        *,
        rts: RtsMode = "on",
        settle_time: float = SETTLE_TIME,
        response_timeout: float = RESPONSE_TIMEOUT,
        chunk_timeout: float = CHUNK_TIMEOUT,
        min_interval: float = MIN_INTERVAL,
        encrypt: bool = False,
        initial_sequence: int | None = None,
    ) -> None:
        if len(key) < KEY_SIZE:
            raise ValueError(f"An MEP key has at least {KEY_SIZE} bytes, not {len(key)}")
        if rts not in ("on", "off", "inverted", "auto"):
            raise ValueError(f"rts must be 'on', 'off', 'inverted' or 'auto', not {rts!r}")
        self._link = link
        self._key = bytes(key[:KEY_SIZE])
        self._base_key = encryption_base_key(self._key) if encrypt else None
        self._rts: RtsMode = rts
        self._settle_time = settle_time
        self._response_timeout = response_timeout
        self._chunk_timeout = chunk_timeout
        self._min_interval = min_interval
        self._sequence = (
            secrets.randbelow(SEQUENCE_MODULUS) if initial_sequence is None else initial_sequence
        ) % SEQUENCE_MODULUS
        self._synchronised = False
        self._assembler = FrameAssembler()
        self._last_send = -1e9
        self._lock = asyncio.Lock()
        self._identity: MepIdentity | None = None
        self._dimensions: Dimensions | None = None
        self.stats = MepStats()

    def __repr__(self) -> str:  # never the key
        return f"<MepClient {self._link!r}>"

    @property
    def identity(self) -> MepIdentity | None:
        """What `identify` found, once it ran."""
        return self._identity

    @property
    def encrypted(self) -> bool:
        """True when requests go RC4-encrypted."""
        return self._base_key is not None

    async def open(self) -> None:
        """Open the link, assert ENABLE and let the port settle; raise LinkError."""
        await self._link.open()
        if self._rts != "off":
            try:
                await self._drive_enable(enabled=True)
            except LinkError as err:
                if self._rts != "auto":
                    raise LinkError(
                        f"{err} (choose rts 'off' when ENABLE is not wired to RTS)"
                    ) from err
                # No modem lines (pseudo-terminals, some adapters): ENABLE is then wired to
                # a supply, and a silent meter's error says to check that.
                _LOGGER.debug("%r cannot drive RTS (%s); ENABLE assumed wired", self, err)
            else:
                await asyncio.sleep(self._settle_time)
        await self._discard_pending()

    async def close(self) -> None:
        """Release ENABLE (best effort) and close the link; safe to call more than once."""
        if self._rts != "off" and isinstance(self._link, RtsControl):
            try:
                await self._drive_enable(enabled=False)
            except LinkError as err:
                _LOGGER.debug("Could not release ENABLE: %s", err)
        await self._link.close()

    async def identify(self) -> MepIdentity:
        """Read BT01, ET03 and BT21: who the meter is and how its tables are dimensioned."""
        async with self._lock:
            manufacturer, model, firmware = decode_manufacturer(
                await self._read(BT01, 0, BT01_READ)
            )
            serial = decode_serial(await self._read(ET03, 0, ET03_SERIAL_READ))
            await self._read_dimensions()
            self._identity = MepIdentity(manufacturer, model, firmware, serial)
            return self._identity

    async def read(self) -> Snapshot:
        """Read energy registers, present values and the clock into one snapshot.

        Identifies the meter first when that has not happened yet. Raises DecodeError
        subclasses (WrongKeyError among them) for replies that failed, LinkError (and
        MeterNotAnsweringError) when the meter is silent.
        """
        identity = self._identity or await self.identify()
        async with self._lock:
            readings = await self._read_values()
            clock = decode_clock(await self._read(BT52, 0, BT52_READ))
        return Snapshot(
            format=SNAPSHOT_FORMAT,
            meter_id=identity.serial,
            timestamp=clock,
            readings=readings,
            variant=identity.model,
            header=identity.manufacturer,
            encrypted=self.encrypted,
            manufacturer=identity.manufacturer.strip() or None,
            model=identity.model or None,
        )

    async def _read_values(self) -> dict[str, Reading]:
        """BT23 and BT28 at the offsets BT21 gives, re-reading BT21 after a counter jump."""
        for _ in range(MAX_RESYNCS):
            dimensions = self._dimensions or await self._read_dimensions()
            readings: dict[str, Reading] = {}
            if dimensions.registers_count:
                readings |= decode_registers(
                    await self._read(BT23, dimensions.registers_offset, dimensions.registers_count)
                )
            if dimensions.present_count:
                readings |= decode_present_values(
                    await self._read(BT28, dimensions.present_offset, dimensions.present_count)
                )
            if self._dimensions is not None:
                return readings
            # The meter's counter jumped during these reads (see `_adopt_sequence`): the
            # values count only if the dimensions they were placed by still hold.
            if await self._read_dimensions() == dimensions:
                return readings
        raise SequenceError("The meter's sequence counter keeps jumping; values not trusted")

    async def _read_dimensions(self) -> Dimensions:
        dimensions = decode_dimensions(await self._read(BT21, 0, BT21_READ))
        self._dimensions = dimensions
        return dimensions

    async def read_table(self, table: int, offset: int, count: int) -> bytes:
        """Read `count` bytes of a table from `offset`, in partial reads within 476 bytes."""
        async with self._lock:
            return await self._read(table, offset, count)

    async def _read(self, table: int, offset: int, count: int) -> bytes:
        parts: list[bytes] = []
        while count > 0:
            size = min(count, MAX_READ_COUNT)
            reply, message = await self._transact(partial_read(table, offset, size))
            parts.append(self._checked_data(reply, size, message))
            offset += size
            count -= size
        return b"".join(parts)

    def _checked_data(self, reply: Reply, size: int, message: bytes) -> bytes:
        try:
            return read_data(reply, size, message)
        except ByteCountError:
            self.stats.byte_count_failures += 1
            raise

    async def _transact(self, command: bytes) -> tuple[Reply, bytes]:
        """Send one command until a verified `00` reply; return it and its raw message."""
        rejected = resyncs = auth_failures = 0
        while True:
            request = build_request(self._key, command, self._sequence, base_key=self._base_key)
            self._sequence = (self._sequence + 1) % SEQUENCE_MODULUS
            try:
                reply, message = await self._exchange(request)
            except DecodeError:
                rejected += 1
                if rejected > MAX_REJECTED:
                    raise
                continue
            if reply.code == ResponseCode.AUTHENTICATION_FAILED:
                self.stats.refusals += 1
                auth_failures += 1
                if auth_failures >= WRONG_KEY_REPLIES:
                    raise WrongKeyError(
                        "The meter rejects the MEP key (response 0x0B): check the key and "
                        "that the utility has enabled the MEP port"
                    )
                continue
            auth_failures = 0
            if reply.code == ResponseCode.BAD_SEQUENCE:
                resyncs += 1
                if resyncs > MAX_RESYNCS:
                    raise SequenceError("The meter keeps rejecting the sequence number")
                self._adopt_sequence(reply)
                continue
            if reply.code != ResponseCode.OK:
                self.stats.refusals += 1
                try:
                    meaning = RESPONSE_MEANINGS[ResponseCode(reply.code)]
                except (ValueError, KeyError):
                    meaning = "unknown response code"
                raise RequestRefusedError(reply.code, meaning)
            self._synchronised = True
            return reply, message

    def _adopt_sequence(self, reply: Reply) -> None:
        if len(reply.data) < 4:
            raise ByteCountError("Sequence reply without a sequence number", raw=reply.data)
        self.stats.resyncs += 1
        # The guide's own example sends the returned number + 1 (p.15-16).
        self._sequence = (int.from_bytes(reply.data[:4], "big") + 1) % SEQUENCE_MODULUS
        if self._synchronised:
            # A jump mid-session: uplink traffic, or a reconfiguration (IDT change, +25)
            # that may have resized the tables.
            self._dimensions = None
            self._synchronised = False

    async def _exchange(self, request: Request) -> tuple[Reply, bytes]:
        """Write a request and return its verified reply; resend once on silence."""
        await self._pace()
        await self._discard_pending()
        self.stats.requests += 1
        for attempt in range(2):
            if attempt:
                self.stats.resends += 1
            await self._link.write(request.wire)
            self._last_send = asyncio.get_running_loop().time()
            try:
                return await self._await_reply(request)
            except TimeoutError:
                self.stats.timeouts += 1
        raise MeterNotAnsweringError(
            "The meter does not answer on its MEP port (check wiring, ENABLE, baud rate, "
            "and that the port is enabled)"
        )

    async def _await_reply(self, request: Request) -> tuple[Reply, bytes]:
        """Wait for a reply that verifies against `request`.

        Damaged replies are counted and skipped while the response window lasts (a valid
        one may follow, e.g. after a late reply to an earlier request); at its end the last
        rejection is raised, or TimeoutError when nothing came at all.
        """
        loop = asyncio.get_running_loop()
        deadline = self._last_send + self._response_timeout
        rejection: DecodeError | None = None
        while True:
            if self._assembler.pending:
                deadline = max(deadline, loop.time() + self._chunk_timeout)
            try:
                async with asyncio.timeout_at(deadline):
                    data = await self._link.read()
            except TimeoutError:
                if self._assembler.pending:
                    dropped = self._assembler.reset()
                    self.stats.framing_failures += 1
                    rejection = FramingError(f"Reply cut short after {dropped} bytes")
                if rejection is not None:
                    raise rejection from None
                raise
            discarded = self._assembler.discarded
            messages = self._assembler.feed(data)
            if self._assembler.discarded != discarded:
                self.stats.framing_failures += 1
                rejection = FramingError("Bytes with an impossible MEP length were dropped")
            for message in messages:
                try:
                    return open_response(self._key, request, message), message
                except DigestMismatchError as err:
                    self.stats.digest_failures += 1
                    rejection = err
                except FramingError as err:
                    self.stats.framing_failures += 1
                    rejection = err
                _LOGGER.debug("Discarded a reply: %s", rejection)

    async def _pace(self) -> None:
        wait = self._last_send + self._min_interval - asyncio.get_running_loop().time()
        if wait > 0:
            await asyncio.sleep(wait)

    async def _discard_pending(self) -> None:
        """Drop bytes that arrived outside an exchange (late replies, alerts, noise)."""
        self.stats.discarded_bytes += self._assembler.reset()
        while True:
            try:
                # A zero timeout takes only what the link already holds, never waits.
                async with asyncio.timeout(0):
                    data = await self._link.read()
            except TimeoutError:
                return
            self.stats.discarded_bytes += len(data)

    async def _drive_enable(self, *, enabled: bool) -> None:
        if not isinstance(self._link, RtsControl):
            _LOGGER.debug("%r has no RTS line; ENABLE is assumed wired to a supply", self._link)
            return
        await self._link.set_rts(enabled if self._rts != "inverted" else not enabled)
