"""Streaming P1 decoder: bytes in, one Snapshot (or the reason it failed) per message out."""

from __future__ import annotations

from ..core.errors import DecodeError
from ..core.model import Snapshot
from ..cosem.ciphering import GloDecryptor
from .encrypted import FRAME_START, decrypt_telegram
from .framer import Message, P1Framer
from .telegram import parse_telegram


class P1Decoder:
    """Decode a P1 stream, plain and encrypted telegrams alike (told apart per message).

    `feed` never raises for bad input: a message that cannot be decoded comes back as the
    DecodeError describing why, with the message's bytes in `raw`.
    """

    def __init__(self, key: bytes | None = None, auth_key: bytes | None = None) -> None:
        self._decryptor = GloDecryptor(key, auth_key)  # ValueError for a key that is no AES key
        self._framer = P1Framer()

    def feed(self, data: bytes) -> list[Snapshot | DecodeError]:
        """Add a chunk of the stream; return a result for every message it completed."""
        return [self._decode(message) for message in self._framer.feed(data)]

    def flush(self) -> list[Snapshot | DecodeError]:
        """End of input: decode what is left (e.g. a file whose last CRC line lacks CRLF)."""
        return [self._decode(message) for message in self._framer.flush()]

    def _decode(self, message: Message) -> Snapshot | DecodeError:
        if isinstance(message, DecodeError):
            return message
        try:
            if message.startswith(FRAME_START):
                return decrypt_telegram(message, self._decryptor)
            return parse_telegram(message)
        except DecodeError as err:
            if not err.raw:
                err.raw = message
            return err
