"""Streaming DLMS/COSEM push decoder: bytes in, one Snapshot (or why not) per message out.

Layers, outermost first: link framing (wired M-Bus long frames, HDLC, or none), General Block
Transfer, general-glo-ciphering, data-notification, A-XDR body. Each layer lives in its own
module; this one wires them together and keeps the per-stream state (segments and blocks in
progress, frame counters).

The framing is found from the stream itself. The M-Bus and HDLC framers both read every
stream; each only trusts frames whose checksums hold, so each ignores the other's frames,
noise, a mid-frame start and 0x68 / 0x7E bytes inside payloads. A stream whose very first
byte opens an APDU (`DB` ciphered, `0F` notification, `E0` block) is also read as APDUs back
to back without link layer, unless a link frame is recognised before that first APDU ends.
Results are put in stream order (by where their last byte was), so a stream gives the same
results whether it arrives whole or a byte at a time.

Encrypted frames: without a key, KeyRequiredError; with a key, frames without a GCM tag
(security control 0x20/0x21), and tagged frames when no authentication key is set, are
decrypted unchecked and accepted only when the plaintext is a plausible data-notification,
otherwise WrongKeyError. With an authentication key the tag of 0x30 frames is verified.

A message whose list layout is not understood gives UnsupportedListError (with the raw
message and the list's shape): nothing of it is published under guessed codes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import NamedTuple

from ..core.errors import DecodeError, KeyRequiredError, WrongKeyError
from ..core.frame import FrameInfo, title_text
from ..core.manufacturers import manufacturer_from_flag
from ..core.model import Reading, Snapshot
from ..cosem.axdr import CosemDateTime, TruncatedError
from ..cosem.ciphering import (
    GLO_CIPHERING_TAG,
    SC_AUTHENTICATED,
    SC_ENCRYPTED,
    GloDecryptor,
    parse_apdu,
    read_header,
    usual_security,
)
from . import lists
from .fastpath import read_notifications
from .gbt import GBT_TAG, GbtAssembler, parse_block, parse_blocks
from .hdlc import HdlcFramer, HdlcMessage
from .mbus import MbusFramer, MbusMessage
from .multipliers import apply_multipliers, check_multipliers
from .notification import (
    LAYOUT_PUSH_LIST,
    NOTIFICATION_TAG,
    Content,
    Notification,
    parse_notification,
    parse_notifications,
    plausible,
    read_body,
)

MBUS = "mbus"
HDLC = "hdlc"
RAW = "raw"
_FORMATS = {MBUS: "mbus-dlms", HDLC: "hdlc-dlms", RAW: "dlms"}
_RAW_STARTS = frozenset((GLO_CIPHERING_TAG, NOTIFICATION_TAG, GBT_TAG))
_CIPHERED_HEADER = 16  # tag, title length, 8-byte title, length of up to 5 bytes, SC
MAX_APDU = 16 * 1024
"""Largest APDU a raw stream may declare; real pushes stay below 1 KiB."""
_MAX_TITLES = 16  # frame counters remembered (one stream normally has one meter)
_METER_ID_CODES = ("0-0:96.1.0", "0-0:96.1.1")
_LOGICAL_DEVICE_NAME = "0-0:42.0.0"
_METER_NUMBER_SUFFIX = ":0.0.5"  # Kamstrup's meter id (1-1:0.0.5)


_PLAIN_INFO = {
    framing: FrameInfo(framing, False, None, None, None, None, False) for framing in _FORMATS
}
"""What is known of a frame before its APDU is read (FrameInfo is immutable: shared)."""


def _tag_state(frame: FrameInfo, *, authenticates: bool) -> str | None:
    """Whether the last frame's GCM tag was checked, and if not, why not."""
    if frame.security_control is None:
        return None  # not a ciphered frame
    if not frame.security_control & SC_AUTHENTICATED:
        return "not sent"
    if frame.tag_verified:
        return "verified"
    return "mismatch" if authenticates else "not checked: no authentication key"


class _Unit(NamedTuple):
    """A message as the link layer delivered it."""

    framing: str
    payload: bytes
    raw: bytes


type _Framed = _Unit | DecodeError
type Result = Snapshot | DecodeError


class _RawFramer:
    """APDUs back to back without link framing (decrypted captures, some TCP bridges).

    Runs only while the stream is exactly that: it stops for good at the first byte that
    cannot open an APDU, and when its very first APDU is malformed or implausible (see
    `_raw_length`). A well-tagged APDU that is malformed later is reported and skipped.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._offset = 0
        self.synced_at: int | None = None
        """Stream position after the first well-formed APDU."""
        self.stopped = False

    def feed_positions(self, data: bytes) -> list[tuple[int, bytes | DecodeError]]:
        buffer = self._buffer
        buffer += data
        out: list[tuple[int, bytes | DecodeError]] = []
        if self.stopped:
            return out
        # One copy per chunk; APDUs are then found by index, never by re-copying the rest.
        view = bytes(buffer)
        size = len(view)
        pos = 0
        while pos < size:
            if view[pos] not in _RAW_STARTS:
                self._stop()
                return out
            try:
                length = _raw_length(view, pos, first=self.synced_at is None)
            except DecodeError as err:
                if self.synced_at is None:
                    self._stop()
                    return out
                pos = self._skip(view, pos, err, out)
                continue
            if length is None or length > size - pos:
                if size - pos > MAX_APDU:
                    error = DecodeError(f"APDU longer than {MAX_APDU} bytes")
                    pos = self._skip(view, pos, error, out)
                    continue
                break
            end = self._offset + length
            if self.synced_at is None:
                self.synced_at = end
            out.append((end, view[pos : pos + length]))
            pos += length
            self._offset = end
        del buffer[:pos]
        return out

    def flush(self) -> list[bytes | DecodeError]:
        buffer = self._buffer
        out: list[bytes | DecodeError] = []
        if buffer and not self.stopped:
            out.append(DecodeError("input ended inside an APDU", raw=bytes(buffer)))
        buffer.clear()
        return out

    def _skip(
        self, view: bytes, pos: int, err: DecodeError, out: list[tuple[int, bytes | DecodeError]]
    ) -> int:
        """Report the APDU at `pos` as broken and drop it, with any junk after it.

        Dropping runs up to the next APDU tag that does not fail at once as well, so a run
        of junk (tag bytes included) gives one error, and each byte is tried once.
        """
        end = _next_start(view, pos + 1)
        while end < len(view):
            try:
                _raw_length(view, end)
            except DecodeError:
                end = _next_start(view, end + 1)
                continue
            break
        err.raw = view[pos:end]
        self._offset += end - pos
        out.append((self._offset, err))
        return end

    def _stop(self) -> None:
        self.stopped = True
        self._buffer.clear()


def _next_start(view: bytes, pos: int) -> int:
    """Where the next APDU may start at or after `pos` (the length of `view` if nowhere)."""
    size = len(view)
    while pos < size and view[pos] not in _RAW_STARTS:
        pos += 1
    return pos


def _raw_length(buffer: bytes, pos: int = 0, *, first: bool = False) -> int | None:
    """Size of the APDU at `pos` in `buffer`, None while too little of it is there to
    tell (a ciphered APDU's size is known from its header, before its body has arrived).

    The `first` APDU of a stream decides whether the stream is raw APDUs at all, so it must
    also look like a push: a plausible notification, block number 1, or a ciphered header
    with a usual security control byte.
    """
    tag = buffer[pos]
    try:
        if tag == GLO_CIPHERING_TAG:
            # The header fits in its first bytes; only they are copied.
            header = read_header(buffer[pos : pos + _CIPHERED_HEADER])  # DecodeError if it
            if header is None or len(buffer) - pos <= header[0]:  # cannot be a header
                return None
            sc_position, declared = header
            length = sc_position + declared
            if length > MAX_APDU:
                raise DecodeError(f"ciphered APDU of {length} bytes exceeds {MAX_APDU}")
            security_control = buffer[pos + sc_position]
            if first and not usual_security(security_control):
                raise DecodeError(f"unusual security control 0x{security_control:02X}")
            return length
        if tag == GBT_TAG:
            block = parse_block(buffer, pos)
            if first and block.number != 1:
                raise DecodeError("stream starts inside a block transfer")
            return block.length
        notification = parse_notification(buffer, pos)  # rejects any other tag
        if first and not plausible((notification,)):
            raise DecodeError("implausible data-notification")
    except TruncatedError:
        return None
    return notification.length


class DlmsDecoder:
    """Decode a DLMS/COSEM push stream (M-Bus, HDLC or raw APDUs, found automatically).

    `feed` never raises for bad input: a message that cannot be decoded comes back as the
    DecodeError describing why, with the message's bytes in `raw` and what was seen of it
    in `frame` (UnsupportedListError for a well-formed list of an unknown layout).

    `multipliers` corrects a meter whose values are off by a fixed factor (a register sent
    without scaler, a firmware that changed its precision): reported OBIS code as the
    snapshot names it (`1-0:31.7.0`, `1-1:1.8.0`) -> factor, applied to that code's number
    after every other scaling, in every layout. ValueError for a factor that is zero, not
    finite, or not a number, or a code that is not `A-B:C.D.E`.
    """

    def __init__(
        self,
        key: bytes | None = None,
        auth_key: bytes | None = None,
        *,
        multipliers: Mapping[str, float] | None = None,
    ) -> None:
        self._decryptor = GloDecryptor(key, auth_key)  # ValueError for a key that is no AES key
        self._multipliers = check_multipliers(multipliers or {})
        self._layout: str | None = None
        self._mbus = MbusFramer()
        self._hdlc = HdlcFramer()
        self._raw: _RawFramer | None = None
        self._started = False
        self._blocks = GbtAssembler()
        self._block_frames: list[bytes] = []
        self._counters: dict[bytes, int] = {}
        self._replays = 0
        self._last_frame: FrameInfo | None = None

    @property
    def last_frame(self) -> FrameInfo | None:
        """What was seen of the most recent APDU (decoded or not)."""
        return self._last_frame

    @property
    def replays(self) -> int:
        """Frames whose counter did not increase (repeats, replays); they are still decoded."""
        return self._replays

    def diagnostics(self) -> dict[str, object]:
        """What the decoder saw of the link, for a bug report (the system title included:
        callers that publish it redact it)."""
        frame = self._last_frame
        details: dict[str, object] = {"framing": self.framing, "replays": self._replays}
        if self._layout is not None:
            details["layout"] = self._layout
        if self._layout == LAYOUT_PUSH_LIST:
            details["default_scales"] = {
                code: f"10^{scaler} {unit}"
                for code, (scaler, unit) in lists.PUSH_LIST_SCALES.items()
            }
        if self._multipliers:
            details["multipliers"] = dict(self._multipliers)
        if frame is None:
            return details
        security = frame.security_control
        return details | {
            "encrypted": frame.encrypted,
            "security_control": None if security is None else f"0x{security:02X}",
            "gcm_tag": _tag_state(frame, authenticates=self._decryptor.authenticates),
            "manufacturer": frame.manufacturer,
            "system_title": None if frame.system_title is None else frame.system_title.hex(),
            "frame_counter": frame.frame_counter,
        }

    @property
    def framing(self) -> str | None:
        """The framing recognised first (`mbus`, `hdlc`, `raw`), None before any frame."""
        if self._raw is not None and self._raw.synced_at is not None:
            return RAW
        synced = [
            (framer.synced_at, name)
            for name, framer in ((MBUS, self._mbus), (HDLC, self._hdlc))
            if framer.synced_at is not None
        ]
        return min(synced)[1] if synced else None

    def feed(self, data: bytes) -> list[Snapshot | DecodeError]:
        """Add a chunk of the stream; return a result for every message it completed."""
        if not data:
            return []
        if not self._started:
            self._started = True
            if data[0] in _RAW_STARTS:
                self._raw = _RawFramer()
        framed: list[tuple[int, int, _Framed]] = []
        raw = self._raw
        if raw is not None:
            framed += [(end, 0, self._raw_unit(item)) for end, item in raw.feed_positions(data)]
        framed += [(end, 1, self._link_unit(MBUS, i)) for end, i in self._mbus.feed_positions(data)]
        framed += [(end, 2, self._link_unit(HDLC, i)) for end, i in self._hdlc.feed_positions(data)]
        if raw is not None and self._raw_refuted(raw):
            self._raw = None
            framed = [entry for entry in framed if entry[1]]
        elif raw is not None and raw.stopped:
            self._raw = None  # the APDUs it delivered stand; the stream went on differently
        framed.sort(key=lambda entry: entry[:2])
        return [result for _, _, unit in framed for result in self._process(unit)]

    def flush(self) -> list[Snapshot | DecodeError]:
        """End of input: report what is left unfinished, and reset the framing state."""
        framing = self.framing
        framed: list[_Framed] = []
        if self._raw is not None and framing in (RAW, None):
            framed += [self._raw_unit(item) for item in self._raw.flush()]
        if framing in (MBUS, None) or self._mbus.synced:
            framed += [self._link_unit(MBUS, item) for item in self._mbus.flush()]
        if framing in (HDLC, None) or self._hdlc.synced:
            framed += [self._link_unit(HDLC, item) for item in self._hdlc.flush()]
        results = [result for unit in framed for result in self._process(unit)]
        if self._blocks.pending:
            error = DecodeError("input ended inside a general-block-transfer APDU")
            results.append(self._fail(error, _PLAIN_INFO[framing or RAW], self._block_raw()))
            self._blocks.reset()
        return results

    # --- link layer -------------------------------------------------------------------

    def _raw_refuted(self, raw: _RawFramer) -> bool:
        """Whether a link frame was recognised before the stream's first APDU ended.

        The stream then only started with an APDU tag by chance (mid-frame start).
        """
        if raw.stopped and raw.synced_at is None:
            return True
        links = [at for at in (self._mbus.synced_at, self._hdlc.synced_at) if at is not None]
        return bool(links) and (raw.synced_at is None or min(links) < raw.synced_at)

    @staticmethod
    def _raw_unit(item: bytes | DecodeError) -> _Framed:
        if isinstance(item, DecodeError):
            item.frame = _PLAIN_INFO[RAW]
            return item
        return _Unit(RAW, item, item)

    @staticmethod
    def _link_unit(framing: str, item: MbusMessage | HdlcMessage | DecodeError) -> _Framed:
        if isinstance(item, DecodeError):
            item.frame = _PLAIN_INFO[framing]
            return item
        if isinstance(item, MbusMessage):
            return _Unit(framing, item.apdu, item.raw)
        return _Unit(framing, item.payload, item.raw)

    # --- APDUs ------------------------------------------------------------------------

    def _process(self, unit: _Framed) -> list[Result]:
        if isinstance(unit, DecodeError):
            return [unit]
        if not unit.payload:
            return []
        if unit.payload[0] == GBT_TAG:
            return self._blocks_of(unit)
        return [self._decode_apdu(unit.payload, unit.framing, unit.raw)]

    def _blocks_of(self, unit: _Unit) -> list[Result]:
        try:
            blocks = parse_blocks(unit.payload)
        except DecodeError as err:
            return [self._fail(err, _PLAIN_INFO[unit.framing], unit.raw)]
        results: list[Result] = []
        self._block_frames.append(unit.raw)
        for block in blocks:
            for item in self._blocks.add(block):
                raw = self._block_raw()
                if isinstance(item, DecodeError):
                    results.append(self._fail(item, _PLAIN_INFO[unit.framing], raw))
                else:
                    results.append(self._decode_apdu(item, unit.framing, raw))
        if not self._blocks.pending:
            self._block_frames = []
        return results

    def _block_raw(self) -> bytes:
        raw = b"".join(self._block_frames)
        self._block_frames = []
        return raw

    def _decode_apdu(self, apdu: bytes, framing: str, raw: bytes) -> Result:
        info = _PLAIN_INFO[framing]
        try:
            if apdu[0] == GLO_CIPHERING_TAG:
                return self._decode_ciphered(apdu, framing)
            self._last_frame = info
            if apdu[0] != NOTIFICATION_TAG:
                raise DecodeError(
                    f"APDU 0x{apdu[0]:02X} is not a data-notification (0x0F) "
                    "or general-glo-ciphering (0xDB)"
                )
            fast = read_notifications(apdu)
            if fast is not None:
                return self._snapshot(fast, info)
            return self._snapshot(_contents(parse_notifications(apdu)), info)
        except DecodeError as err:
            return self._fail(err, self._last_frame or info, raw)

    def _decode_ciphered(self, apdu: bytes, framing: str) -> Snapshot:
        self._last_frame = _PLAIN_INFO[framing]
        parsed = parse_apdu(apdu)
        title = parsed.system_title
        security_control = parsed.security_control
        info = FrameInfo(
            framing=framing,
            encrypted=bool(security_control & SC_ENCRYPTED),
            security_control=security_control,
            system_title=title,
            manufacturer=manufacturer_from_flag(title[:3].decode("latin-1")),
            frame_counter=parsed.frame_counter,
            tag_verified=False,
        )
        self._last_frame = info
        if parsed.length != len(apdu):
            raise DecodeError(f"{len(apdu) - parsed.length} bytes after the ciphered APDU")
        try:
            decrypted = self._decryptor.decrypt(parsed, apdu)
        except KeyRequiredError:
            raise KeyRequiredError(
                f"frame is encrypted and no key is set ({info.describe()})"
            ) from None
        except WrongKeyError as err:
            raise WrongKeyError(f"{err} ({info.describe()})") from None
        if decrypted.tag_verified:  # else `info` says so already
            info = info._replace(tag_verified=True)
            self._last_frame = info
        fast = read_notifications(decrypted.plaintext)
        if fast is not None and all(
            date_time is None or date_time.plausible() for date_time, _ in fast
        ):
            snapshot = self._snapshot(fast, info)
        else:
            try:
                notifications = parse_notifications(decrypted.plaintext)
                if not plausible(notifications):
                    raise DecodeError("implausible date-time or body")
            except DecodeError as err:
                if decrypted.tag_verified or not info.encrypted:
                    raise
                raise WrongKeyError(
                    f"decrypted frame is not a data-notification ({err}): key probably wrong"
                ) from None
            snapshot = self._snapshot(_contents(notifications), info)
        self._count(title, parsed.frame_counter)
        return snapshot

    def _count(self, title: bytes, counter: int) -> None:
        """Track the frame counter per system title; count ones that did not increase."""
        last = self._counters.pop(title, None)
        if last is not None and counter <= last:
            self._replays += 1
            counter = last
        elif len(self._counters) >= _MAX_TITLES:
            del self._counters[next(iter(self._counters))]
        self._counters[title] = counter

    def _fail(self, err: DecodeError, info: FrameInfo, raw: bytes) -> DecodeError:
        err.raw = raw
        if err.frame is None:
            err.frame = info
        return err

    def _snapshot(
        self, contents: Sequence[tuple[CosemDateTime | None, Content]], info: FrameInfo
    ) -> Snapshot:
        list_id: str | None
        layout: str | None
        maker: str | None
        if len(contents) == 1:  # the usual case: the content's own dict, fresh per message
            content = contents[0][1]
            readings = content.readings
            list_id, layout, maker = content.list_id, content.layout, content.manufacturer
        else:
            readings = {}
            list_id = layout = maker = None
            for _, content in contents:
                for code, reading in content.readings.items():
                    readings.setdefault(code, reading)
                list_id = list_id or content.list_id
                layout = layout or content.layout
                maker = maker or content.manufacturer
        if self._multipliers:
            apply_multipliers(readings, self._multipliers)
        self._layout = layout
        stamp = contents[0][0]
        timestamp = None if stamp is None else stamp.to_datetime()
        clock = readings.get(lists.CLOCK)
        if timestamp is None and clock is not None and isinstance(clock.value, datetime):
            timestamp = clock.value
        return Snapshot(
            format=_FORMATS[info.framing],
            meter_id=_meter_id(readings, info.system_title),
            timestamp=timestamp,
            readings=readings,
            variant=list_id or layout,
            header=info.manufacturer or maker,
            encrypted=info.encrypted,
            manufacturer=info.manufacturer or maker,
            model=list_id,  # the layout is the decoder's word, not the meter's model
        )


def _contents(
    notifications: tuple[Notification, ...],
) -> list[tuple[CosemDateTime | None, Content]]:
    """Each notification's date-time and what its body says (the `Data` path)."""
    return [(note.date_time, read_body(note.body)) for note in notifications]


def _meter_id(readings: dict[str, Reading], title: bytes | None) -> str | None:
    """The meter's serial number where the list carries it, else the system title."""
    for code in _METER_ID_CODES:
        text = _id_text(readings.get(code))
        if text:
            return text
    for code, reading in readings.items():
        if code.endswith(_METER_NUMBER_SUFFIX):
            text = _id_text(reading)
            if text:
                return text
    text = _id_text(readings.get(_LOGICAL_DEVICE_NAME))
    if text:
        return text
    return None if title is None else title_text(title)


def _id_text(reading: Reading | None) -> str | None:
    if reading is None or not isinstance(reading.value, (str, int)):
        return None
    return str(reading.value).strip()


def decode_message(
    data: bytes,
    key: bytes | None = None,
    auth_key: bytes | None = None,
    *,
    multipliers: Mapping[str, float] | None = None,
) -> Snapshot:
    """Decode one whole capture (one message, possibly in several frames).

    Returns the first snapshot it yields; raises the first DecodeError when it yields none.
    """
    decoder = DlmsDecoder(key=key, auth_key=auth_key, multipliers=multipliers)
    results = decoder.feed(data)
    # What the end of input leaves unfinished only matters when no snapshot came before.
    if not any(isinstance(result, Snapshot) for result in results):
        results += decoder.flush()
    errors: list[DecodeError] = []
    for result in results:
        if isinstance(result, Snapshot):
            return result
        errors.append(result)
    if errors:
        raise errors[0]
    error = DecodeError("no DLMS frame or APDU found", raw=data)
    error.frame = None
    raise error
