"""Cut a P1 byte stream into whole messages: plain telegrams and encrypted frames.

Chunks may split a message anywhere. Noise between messages (bridge chatter, the Q3D's trailing
counter line, 0xFF runs) is dropped silently; a telegram that is cut off by the next start or
grows past the size cap becomes a DecodeError. The buffer never holds more than one message
plus one chunk.
"""

from __future__ import annotations

import re

from ..core.errors import DecodeError
from .encrypted import FRAME_START, encrypted_frame_length

MAX_TELEGRAM_LENGTH = 16 * 1024
"""The largest real telegrams are about 3 KiB."""

# A telegram starts with `/` and a three-letter manufacturer flag (IEC 62056-21 identification).
_START = re.compile(rb"/[A-Za-z]{3}|" + re.escape(FRAME_START))
_INSIDE = re.compile(rb"!|/[A-Za-z]{3}|" + re.escape(FRAME_START))
_START_TAIL = 3  # bytes kept after a fruitless search: a start may straddle two chunks

# After `!`: up to four CRC digits, CR and NUL padding, then LF.
_CRC_LINE_BYTES = frozenset(b"0123456789ABCDEFabcdef\r\0")
_MAX_CRC_LINE = 8

type Message = bytes | DecodeError


class P1Framer:
    """Incremental framer: `feed` chunks, get back complete messages (or why one failed)."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._in_telegram = False  # the buffer starts with the `/` of an unfinished telegram
        self._scan_from = 0  # where to resume searching inside that telegram

    @property
    def pending_bytes(self) -> int:
        """Bytes held back waiting for the rest of a message (bounded by the size cap)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Message]:
        """Add a chunk; return the messages it completed, oldest first."""
        self._buffer += data
        messages: list[Message] = []
        while self._step(messages):
            pass
        return messages

    def flush(self) -> list[Message]:
        """End of input: return what is left as a last message, and reset."""
        buffer = self._buffer
        messages: list[Message] = []
        if self._in_telegram:
            if b"!" in buffer:
                messages.append(bytes(buffer))  # only the line end after the CRC is missing
            else:
                messages.append(DecodeError("input ended inside a telegram", raw=bytes(buffer)))
        elif buffer.startswith(FRAME_START):
            messages.append(DecodeError("input ended inside an encrypted frame", raw=bytes(buffer)))
        buffer.clear()
        self._in_telegram = False
        return messages

    def _step(self, messages: list[Message]) -> bool:
        """Make one unit of progress; return False when more input is needed."""
        if self._in_telegram:
            return self._step_telegram(messages)
        return self._step_hunt(messages)

    def _step_hunt(self, messages: list[Message]) -> bool:
        buffer = self._buffer
        match = _START.search(buffer)
        if match is None:
            del buffer[: max(0, len(buffer) - _START_TAIL)]
            return False
        del buffer[: match.start()]
        if buffer[0] == ord("/"):
            self._in_telegram = True
            self._scan_from = 1
            return True
        try:
            length = encrypted_frame_length(buffer)
        except DecodeError:
            del buffer[:1]  # `DB 08` by chance in noise: look further
            return True
        if length is None or len(buffer) < length:
            return False
        messages.append(bytes(buffer[:length]))
        del buffer[:length]
        return True

    def _step_telegram(self, messages: list[Message]) -> bool:
        buffer = self._buffer
        match = _INSIDE.search(buffer, self._scan_from)
        if match is None:
            if len(buffer) > MAX_TELEGRAM_LENGTH:
                messages.append(
                    DecodeError(
                        f"telegram longer than {MAX_TELEGRAM_LENGTH} bytes without end",
                        raw=bytes(buffer[:MAX_TELEGRAM_LENGTH]),
                    )
                )
                del buffer[: len(buffer) - _START_TAIL]
                self._in_telegram = False
                return True
            self._scan_from = max(1, len(buffer) - _START_TAIL)
            return False
        at = match.start()
        if buffer[at] != ord("!"):
            messages.append(DecodeError("telegram cut off by a new start", raw=bytes(buffer[:at])))
            del buffer[:at]
            self._in_telegram = False
            return True
        end = _crc_line_end(buffer, at)
        if end is None:
            self._scan_from = at
            return False
        messages.append(bytes(buffer[:end]))
        del buffer[:end]
        self._in_telegram = False
        return True


def _crc_line_end(buffer: bytearray, bang: int) -> int | None:
    """Index just past the CRC line that starts at `!`, None until it can be told."""
    limit = bang + 1 + _MAX_CRC_LINE
    for pos in range(bang + 1, min(len(buffer), limit)):
        byte = buffer[pos]
        if byte == 0x0A:
            return pos + 1
        if byte not in _CRC_LINE_BYTES:
            return pos  # no line end: the telegram stops here, the rest is noise
    return limit if len(buffer) >= limit else None
