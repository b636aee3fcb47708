"""HDLC frames (IEC 62056-46, frame format type 3) as Nordic and Swiss meters push them.

`7E | format(2) | destination | source | control | HCS(2) | information | FCS(2) | 7E`

The format field is `1010 S LLL LLLLLLLL`: type 3, the segmentation bit S (more frames of
this message follow) and the frame length without the flags. Addresses take one to four
bytes each, the low bit of the last one set. HCS (over format to control; present only when
an information field follows) and FCS (over format to the end of the information) are
CRC-16/X.25, sent low byte first. The first frame of a message opens its information with
the LLC header `E6 E7 00`.

Payloads can hold 0x7E, so the stream is never split on flags: a frame is taken from its
length field and only trusted when the closing flag sits where the length says and both
check sequences match. A candidate whose header check fails is skipped a byte at a time,
which also resynchronises after noise or a mid-frame start. A closing flag may open the
next frame, so it is left in the buffer.
"""

from __future__ import annotations

from typing import NamedTuple

from ..core.crc import crc16_x25
from ..core.errors import ChecksumError, DecodeError
from .framing import NEED_MORE, NO_FRAME, SegmentFramer, find_checked_frame

FLAG = 0x7E
FORMAT_TYPE_3 = 0xA0
_FORMAT_TYPE_MASK = 0xF0
SEGMENTED = 0x08
"""The S bit, in the first byte of the format field."""
_LENGTH_HIGH = 0x07
_MAX_ADDRESS = 4
_MIN_LENGTH = 7  # format(2), destination(1), source(1), control(1), FCS(2)
LLC_HEADERS = (b"\xe6\xe7\x00", b"\xe6\xe6\x00")
MAX_MESSAGE = 16 * 1024
"""Largest message joined from segments."""

BROKEN = -2
"""The header checked out (HCS) but no closing flag where the length puts it: bytes of a real
frame were lost or added on the way."""


class HdlcFrame(NamedTuple):
    """One checked frame."""

    segmented: bool
    """S bit: more frames of this message follow."""
    destination: bytes
    source: bytes
    control: int
    information: bytes
    raw: bytes
    """The frame with both flags."""


class HdlcMessage(NamedTuple):
    """The information fields of one message's frames, joined, without the LLC header."""

    payload: bytes
    raw: bytes
    frames: int
    llc: bool
    """True when the message opened with an LLC header (stripped from `payload`)."""


def _header_end(buffer: bytes | bytearray, pos: int) -> int:
    """Index after the control byte of the frame opening at `pos`, NEED_MORE or NO_FRAME."""
    size = len(buffer)
    index = pos + 3
    for _ in (0, 1):  # destination, then source address: up to 4 bytes, the last one odd
        stop = index + _MAX_ADDRESS
        while True:
            if index >= stop:
                return NO_FRAME
            if index >= size:
                return NEED_MORE
            index += 1
            if buffer[index - 1] & 1:
                break
    return index + 1


def frame_length(buffer: bytes | bytearray, pos: int = 0) -> int:
    """Length (both flags included) of the frame opening at `pos`, NEED_MORE or NO_FRAME.

    Checks the format type, the address ends, the HCS and the closing flag; the FCS is
    left to `parse_frame`. Returns BROKEN for a frame with a good HCS but a misplaced
    closing flag.
    """
    available = len(buffer) - pos
    if available < 3:
        if available >= 1 and buffer[pos] != FLAG:
            return NO_FRAME
        if available >= 2 and buffer[pos + 1] & _FORMAT_TYPE_MASK != FORMAT_TYPE_3:
            return NO_FRAME
        return NEED_MORE
    first = buffer[pos + 1]
    if buffer[pos] != FLAG or first & _FORMAT_TYPE_MASK != FORMAT_TYPE_3:
        return NO_FRAME
    length = (first & _LENGTH_HIGH) << 8 | buffer[pos + 2]
    if length < _MIN_LENGTH:
        return NO_FRAME
    header_end = _header_end(buffer, pos)
    if header_end <= 0:
        return header_end
    header = header_end - pos - 1  # format field through control
    checked = length != header + 2
    if checked:  # an information field follows: the header has a check sequence
        if length < header + 4:
            return NO_FRAME
        if len(buffer) < header_end + 2:
            return NEED_MORE
        sent = buffer[header_end] | buffer[header_end + 1] << 8
        if crc16_x25(buffer[pos + 1 : header_end]) != sent:
            return NO_FRAME
    total = length + 2
    if available < total:
        return NEED_MORE
    if buffer[pos + total - 1] != FLAG:
        return BROKEN if checked else NO_FRAME
    return total


def parse_frame(frame: bytes) -> HdlcFrame:
    """Check one whole frame (as `frame_length` delimited it) and take it apart.

    Raises ChecksumError when the FCS does not match.
    """
    header_end = _header_end(frame, 0)
    body_end = len(frame) - 3
    sent = frame[body_end] | frame[body_end + 1] << 8
    computed = crc16_x25(frame[1:body_end])
    if computed != sent:
        raise ChecksumError(
            f"HDLC frame check sequence mismatch: {sent:04X} sent, {computed:04X} computed"
            + _text_mode_hint(frame),
            raw=frame,
        )
    destination_end = 3
    while not frame[destination_end] & 1:
        destination_end += 1
    destination_end += 1
    information_start = header_end if header_end == body_end else header_end + 2
    return HdlcFrame(
        segmented=bool(frame[1] & SEGMENTED),
        destination=frame[3:destination_end],
        source=frame[destination_end : header_end - 1],
        control=frame[header_end - 1],
        information=frame[information_start:body_end],
        raw=frame,
    )


def _header_checked(buffer: bytes | bytearray) -> bool:
    """Whether the frame start in `buffer` got as far as a matching HCS (so is no noise)."""
    header_end = _header_end(buffer, 0) if len(buffer) > 2 else NEED_MORE
    return header_end > 0 and len(buffer) >= header_end + 2


def _text_mode_hint(frame: bytes | bytearray) -> str:
    return " (the frame holds 0D 0A: is a bridge in text mode?)" if b"\r\n" in frame else ""


def find_frame(data: bytes) -> bool:
    """True when `data` holds at least one checked HDLC frame (format detection)."""
    return find_checked_frame(data, FLAG, frame_length, parse_frame, ChecksumError)


class HdlcFramer(SegmentFramer[HdlcFrame, HdlcMessage]):
    """Incremental framer and segment joiner: bytes in, whole messages out.

    `feed` returns each message (as `HdlcMessage`) the chunk completed and a ChecksumError
    for each frame whose header checked out but whose FCS or closing flag did not. Frames without an
    information field (link management) are skipped. Until the first message ends, a
    multi-frame message that does not open with the LLC header is dropped silently: the
    stream started in the middle of it.
    """

    start_byte = FLAG

    def _frame_length(self, buffer: bytearray, start: int) -> int:
        return frame_length(buffer, start)

    def _take_frame(
        self, start: int, length: int, out: list[tuple[int, HdlcMessage | DecodeError]]
    ) -> int:
        if length == BROKEN:
            out.append((self._offset + start + 1, self._broken(start)))
            return start + 1
        frame_bytes = bytes(self._buffer[start : start + length])
        try:
            frame = parse_frame(frame_bytes)
        except ChecksumError as err:
            out.append((self._offset + start + length, err))
            return start + 1
        end = self._offset + start + length
        if self.synced_at is None:
            self.synced_at = end
        message = self._accept(frame)
        if message is not None:
            out.append((end, message))
        return start + length - 1  # the closing flag may open the next frame

    def flush(self) -> list[HdlcMessage | DecodeError]:
        """End of input: report an unfinished frame or message, and reset."""
        out: list[HdlcMessage | DecodeError] = []
        if self._parts:
            out.append(self._cut_off("input ended inside a segmented HDLC message"))
        buffer = self._buffer
        if frame_length(buffer) == NEED_MORE and _header_checked(buffer):
            out.append(DecodeError("input ended inside an HDLC frame", raw=bytes(buffer)))
        buffer.clear()
        return out

    def _broken(self, start: int) -> ChecksumError:
        buffer = self._buffer
        length = (buffer[start + 1] & _LENGTH_HIGH) << 8 | buffer[start + 2]
        raw = bytes(buffer[start : start + length + 2])
        return ChecksumError(
            "HDLC frame does not end where its length says: bytes were lost or added"
            + _text_mode_hint(raw),
            raw=raw,
        )

    def _accept(self, frame: HdlcFrame) -> HdlcMessage | DecodeError | None:
        self._synced = True
        if not frame.information and not self._parts:
            return None
        self._parts.append(frame)
        self._size += len(frame.raw)
        if self._size > MAX_MESSAGE:
            return self._cut_off(f"segmented HDLC message longer than {MAX_MESSAGE} bytes")
        if frame.segmented:
            return None
        parts = self._parts
        self._reset_parts()
        payload = b"".join(part.information for part in parts)
        llc = payload[:3] in LLC_HEADERS
        aligned = self._aligned
        self._aligned = True
        if not aligned and not llc and len(parts) > 1:
            return None
        return HdlcMessage(
            payload[3:] if llc else payload,
            b"".join(part.raw for part in parts),
            len(parts),
            llc,
        )
