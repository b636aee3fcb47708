"""The scan-check-reassemble loop the M-Bus and HDLC framers share.

Both link layers find a start byte, ask their own `frame_length` whether a whole frame is
there, check it, and join segments into one message. Only those per-layer steps differ.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..core.errors import DecodeError

NEED_MORE = 0
NO_FRAME = -1


def find_checked_frame(
    data: bytes,
    start_byte: int,
    frame_length: Callable[[bytes, int], int],
    parse_frame: Callable[[bytes], object],
    rejected: type[DecodeError],
) -> bool:
    """True when `data` holds at least one frame that parses (format detection)."""
    pos = data.find(start_byte)
    while pos >= 0:
        length = frame_length(data, pos)
        if length > 0:
            try:
                parse_frame(data[pos : pos + length])
            except rejected:
                pass
            else:
                return True
        pos = data.find(start_byte, pos + 1)
    return False


class _Segment(Protocol):
    @property
    def raw(self) -> bytes: ...


class SegmentFramer[FrameT: _Segment, MessageT]:
    """Incremental framer: bytes in, whole messages (and DecodeErrors) out, in stream order."""

    start_byte: int
    """The byte every frame of this link layer starts with."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._parts: list[FrameT] = []
        self._size = 0
        self._synced = False
        self._aligned = False  # a message boundary has been seen: the next frame starts one
        self._offset = 0  # stream position of the buffer's first byte
        self.synced_at: int | None = None
        """Stream position just after the first checked frame, None before one arrived."""

    @property
    def synced(self) -> bool:
        """True once a checked frame arrived: the stream uses this link layer."""
        return self._synced

    @property
    def pending_bytes(self) -> int:
        """Bytes held back: an unfinished frame and the segments of an unfinished message."""
        return len(self._buffer) + self._size

    def feed(self, data: bytes) -> list[MessageT | DecodeError]:
        """Add a chunk; return what it completed, oldest first."""
        return [item for _, item in self.feed_positions(data)]

    def feed_positions(self, data: bytes) -> list[tuple[int, MessageT | DecodeError]]:
        """Like `feed`, each result paired with the stream position just after its bytes."""
        buffer = self._buffer
        buffer += data
        out: list[tuple[int, MessageT | DecodeError]] = []
        pos = 0
        while True:
            start = buffer.find(self.start_byte, pos)
            if start < 0:
                pos = len(buffer)
                break
            length = self._frame_length(buffer, start)
            if length == NEED_MORE:
                pos = start
                break
            if length == NO_FRAME:
                pos = start + 1
                continue
            pos = self._take_frame(start, length, out)
        del buffer[:pos]
        self._offset += pos
        return out

    def _frame_length(self, buffer: bytearray, start: int) -> int:
        """Length of the frame at `start`, NEED_MORE, NO_FRAME or a layer's own code."""
        raise NotImplementedError

    def _take_frame(
        self, start: int, length: int, out: list[tuple[int, MessageT | DecodeError]]
    ) -> int:
        """Check and accept the frame at `start`; append results; return where to go on."""
        raise NotImplementedError

    def _cut_off(self, reason: str) -> DecodeError:
        error = DecodeError(reason, raw=b"".join(part.raw for part in self._parts))
        self._reset_parts()
        return error

    def _reset_parts(self) -> None:
        self._parts = []
        self._size = 0
