"""Wired M-Bus long frames (EN 13757-2) that carry DLMS APDU segments (Austrian pushes).

A frame is `68 L L 68 | C A CI STSAP DTSAP data | CS 16`: L counts C through the last data
byte, CS is their sum modulo 256. The CI field segments an APDU that does not fit one frame:
bits 7-5 are zero (no M-Bus data header), bit 4 (FIN) marks the last segment and bits 3-0
number the segments from 0. A lone frame has CI 0x10; Netz NÖ sends CI 0x00 then 0x11.

Sagemcom T210-D units overflow the L byte: `68 01 01 68` opens a 263-byte frame (L = 257).
A real L is at least 3 (C, A, CI), so an L below 3 is read as L + 256.

The framer only trusts a frame whose two L bytes agree, whose stop byte is 0x16 and whose
checksum matches; anything else is skipped a byte at a time, so a stream can start in the
middle of a frame, and 0x68 bytes inside payloads or line noise do no harm.
"""

from __future__ import annotations

from typing import NamedTuple

from ..core.errors import ChecksumError, DecodeError
from .framing import NEED_MORE, NO_FRAME, SegmentFramer, find_checked_frame

START = 0x68
STOP = 0x16
CI_LAST = 0x10
CI_SEGMENT = 0x0F
_CI_NOT_DLMS = 0xE0  # an M-Bus data header (EN 13757-3 application layer), not a DLMS segment
_HEADER = 4  # 68 L L 68
_CI = _HEADER + 2  # position of the CI field
_DLMS_FIELDS = 5  # C, A, CI, STSAP, DTSAP
_MIN_L = 3
_L_OVERFLOW = 256


class MbusFrame(NamedTuple):
    """One checked long frame."""

    control: int
    address: int
    ci: int
    source_tsap: int
    destination_tsap: int
    data: bytes
    """The APDU segment (after STSAP and DTSAP)."""
    raw: bytes

    @property
    def segment(self) -> int:
        """Segment number from the CI field (0 for the first)."""
        return self.ci & CI_SEGMENT

    @property
    def last(self) -> bool:
        """True on the last (or only) segment of an APDU."""
        return bool(self.ci & CI_LAST)


class MbusMessage(NamedTuple):
    """An APDU joined from one or more frames."""

    apdu: bytes
    raw: bytes
    """The frames it came in, back to back, as they were on the wire."""
    frames: int


def _l_field(byte: int) -> int:
    return byte + _L_OVERFLOW if byte < _MIN_L else byte


def frame_length(buffer: bytes | bytearray, pos: int = 0) -> int:
    """Length of the frame whose shape starts at `pos`: `NEED_MORE` or `NO_FRAME` otherwise.

    The shape is `68 L L 68`, L + 4 further bytes, stop byte 0x16; the checksum is left to
    `parse_frame`.
    """
    available = len(buffer) - pos
    if available < _HEADER:
        if available >= 1 and buffer[pos] != START:
            return NO_FRAME
        if available >= 3 and buffer[pos + 1] != buffer[pos + 2]:
            return NO_FRAME
        return NEED_MORE
    if buffer[pos] != START or buffer[pos + 3] != START or buffer[pos + 1] != buffer[pos + 2]:
        return NO_FRAME
    length = _HEADER + _l_field(buffer[pos + 1]) + 2
    if available < length:
        return NEED_MORE
    if buffer[pos + length - 1] != STOP:
        return NO_FRAME
    return length


def parse_frame(frame: bytes) -> MbusFrame:
    """Check one whole frame (as `frame_length` delimited it) and take it apart.

    Raises ChecksumError on a checksum mismatch and DecodeError for a frame that is not a
    DLMS segment (too short for the transport addresses, or an M-Bus data header in CI).
    """
    size = _l_field(frame[1])
    body = frame[_HEADER : _HEADER + size]
    if sum(body) & 0xFF != frame[_HEADER + size]:
        raise ChecksumError(
            f"M-Bus checksum mismatch: 0x{frame[_HEADER + size]:02X} sent, "
            f"0x{sum(body) & 0xFF:02X} computed",
            raw=frame,
        )
    if size < _DLMS_FIELDS:
        raise DecodeError(f"M-Bus frame with L = {size} carries no DLMS segment", raw=frame)
    control, address, ci, source, destination = body[:_DLMS_FIELDS]
    if ci & _CI_NOT_DLMS:
        raise DecodeError(f"M-Bus frame with CI 0x{ci:02X} carries no DLMS segment", raw=frame)
    return MbusFrame(control, address, ci, source, destination, body[_DLMS_FIELDS:], frame)


def find_frame(data: bytes) -> bool:
    """True when `data` holds at least one checked DLMS M-Bus frame (format detection)."""
    return find_checked_frame(data, START, frame_length, parse_frame, DecodeError)


class MbusFramer(SegmentFramer[MbusFrame, MbusMessage]):
    """Incremental framer and segment reassembler: bytes in, whole APDUs out.

    `feed` returns the APDUs (as `MbusMessage`) the chunk completed and a DecodeError for
    each frame with a bad checksum, each non-DLMS frame and each APDU whose segments did not
    arrive in order. Continuation segments seen before the first segment 0 (the stream
    started in the middle of an APDU) are dropped silently. The buffer never holds more than
    one frame.
    """

    start_byte = START

    def _frame_length(self, buffer: bytearray, start: int) -> int:
        return frame_length(buffer, start)

    def _take_frame(
        self, start: int, length: int, out: list[tuple[int, MbusMessage | DecodeError]]
    ) -> int:
        frame_bytes = bytes(self._buffer[start : start + length])
        try:
            frame = parse_frame(frame_bytes)
        except ChecksumError as err:
            out.append((self._offset + start + length, err))
            return start + 1  # the shape may have been chance: look inside it too
        except DecodeError as err:
            out.append((self._offset + start + length, err))
            return start + length
        end = self._offset + start + length
        if self.synced_at is None:
            self.synced_at = end
        out.extend((end, item) for item in self._accept(frame))
        return start + length

    def flush(self) -> list[MbusMessage | DecodeError]:
        """End of input: report an unfinished frame or APDU, and reset."""
        out: list[MbusMessage | DecodeError] = []
        if self._parts:
            out.append(self._cut_off("input ended inside a segmented APDU"))
        buffer = self._buffer
        # Report a cut frame only when its header got as far as a DLMS CI field: a lone 0x68
        # or noise at the end of a capture is no frame.
        if (
            frame_length(buffer) == NEED_MORE
            and len(buffer) > _CI
            and not buffer[_CI] & _CI_NOT_DLMS
        ):
            out.append(DecodeError("input ended inside an M-Bus frame", raw=bytes(buffer)))
        self._buffer.clear()
        return out

    def _accept(self, frame: MbusFrame) -> list[MbusMessage | DecodeError]:
        out: list[MbusMessage | DecodeError] = []
        self._synced = True
        segment = frame.segment
        if segment == 0:
            self._aligned = True
            if self._parts:
                out.append(self._cut_off("APDU cut off: a new first segment arrived"))
        elif segment != len(self._parts):
            if self._aligned:
                expected = len(self._parts)
                self._parts.append(frame)
                out.append(
                    self._cut_off(f"M-Bus segment {segment} arrived, expected segment {expected}")
                )
            return out
        # Four bits of segment number bound an APDU to 16 frames (about 4 KiB): a 17th frame
        # would be number 0 again and start a new APDU.
        self._parts.append(frame)
        self._size += len(frame.raw)
        if frame.last:
            parts = self._parts
            out.append(
                MbusMessage(
                    b"".join(part.data for part in parts),
                    b"".join(part.raw for part in parts),
                    len(parts),
                )
            )
            self._reset_parts()
        return out
