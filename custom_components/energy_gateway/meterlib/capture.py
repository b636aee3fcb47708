"""Tell which wire format a captured byte string holds, and decode it (the `decode` command).

Every family lists the formats it recognises (`Family.capture_formats`); they are tried in
their declared order. When several accept a capture, the first that decodes it to a snapshot
wins: a bare ciphered APDU may hold a P1 telegram or a DLMS notification, and only
decrypting tells.
"""

from __future__ import annotations

import re

from .core.errors import DecodeError
from .core.family import CaptureFormat, Family, Keys
from .core.model import Snapshot
from .families import FAMILIES

type Result = Snapshot | DecodeError

_HEX_TEXT = re.compile(rb"[0-9A-Fa-f\s]+")


def _formats() -> list[tuple[CaptureFormat, Family]]:
    pairs = [(fmt, family) for family in FAMILIES.values() for fmt in family.capture_formats]
    return sorted(pairs, key=lambda pair: pair[0].order)


def unhex_if_text(data: bytes) -> bytes:
    """Return the bytes a hex dump spells out (whitespace ignored), or `data` if it is not one."""
    if not _HEX_TEXT.fullmatch(data):
        return data
    digits = b"".join(data.split())
    if len(digits) % 2:
        raise DecodeError("hex input has an odd number of digits")
    return bytes.fromhex(digits.decode("ascii"))


def decode_capture(data: bytes, keys: Keys | None = None) -> tuple[str, list[Result]]:
    """Decode a capture (raw bytes or a hex dump): the format's name and one result per message.

    Every format whose probe accepts the capture is tried in order; the first one that yields
    a snapshot wins, and when none does, the first accepted format's errors are returned.
    Raises DecodeError when the input is empty or in no known format.
    """
    payload = unhex_if_text(data)
    if not payload.strip():
        raise DecodeError("input is empty")
    first: tuple[str, list[Result]] | None = None
    for capture_format, family in _formats():
        if family.make_decoder is None or not capture_format.probe(payload):
            continue
        decoder = family.make_decoder(keys or Keys())
        results = decoder.feed(payload) + decoder.flush()
        if any(isinstance(result, Snapshot) for result in results):
            return capture_format.name, results
        first = first or (capture_format.name, results)
    if first is None:
        raise DecodeError(
            "input is in no known format (no P1 telegram, encrypted frame or DLMS frame found)"
        )
    return first
