"""Tell which wire format a captured byte string holds, and decode it.

A small dispatch table: each format has a cheap probe over the raw bytes and a decoder for the
whole capture. More specific formats must come first (an M-Bus or HDLC frame can carry the same
`DB 08` cipher header that an encrypted P1 stream starts with).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import re

from .errors import DecodeError
from .model import Snapshot
from .p1.decoder import P1Decoder
from .p1.encrypted import FRAME_START, encrypted_frame_length

type Result = Snapshot | DecodeError

_HEX_TEXT = re.compile(rb"[0-9A-Fa-f\s]+")
_P1_TELEGRAM = re.compile(rb"/[A-Za-z]{3}[^!]*!", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Keys:
    """Keys for encrypted formats; either may be absent."""

    key: bytes | None = None
    auth_key: bytes | None = None


@dataclass(frozen=True, slots=True)
class WireFormat:
    """One format the detector knows."""

    name: str
    probe: Callable[[bytes], bool]
    decode: Callable[[bytes, Keys], list[Result]]


def _probe_p1(data: bytes) -> bool:
    if _P1_TELEGRAM.search(data):
        return True
    start = data.find(FRAME_START)
    if start < 0:
        return False
    try:
        return encrypted_frame_length(data[start:]) is not None
    except DecodeError:
        return False


def _decode_p1(data: bytes, keys: Keys) -> list[Result]:
    decoder = P1Decoder(key=keys.key, auth_key=keys.auth_key)
    return decoder.feed(data) + decoder.flush()


FORMATS: tuple[WireFormat, ...] = (WireFormat("p1", _probe_p1, _decode_p1),)


def unhex_if_text(data: bytes) -> bytes:
    """Return the bytes a hex dump spells out (whitespace ignored), or `data` if it is not one."""
    if not _HEX_TEXT.fullmatch(data):
        return data
    digits = b"".join(data.split())
    if len(digits) % 2:
        raise DecodeError("hex input has an odd number of digits")
    return bytes.fromhex(digits.decode("ascii"))


def detect_format(data: bytes) -> WireFormat | None:
    """The first known format whose probe accepts `data`, or None."""
    for wire_format in FORMATS:
        if wire_format.probe(data):
            return wire_format
    return None


def decode_capture(data: bytes, keys: Keys | None = None) -> tuple[str, list[Result]]:
    """Decode a capture (raw bytes or a hex dump): the format's name and one result per message.

    Raises DecodeError when the input is empty or in no known format.
    """
    payload = unhex_if_text(data)
    if not payload.strip():
        raise DecodeError("input is empty")
    wire_format = detect_format(payload)
    if wire_format is None:
        raise DecodeError("input is in no known format (no P1 telegram or encrypted frame found)")
    return wire_format.name, wire_format.decode(payload, keys or Keys())
