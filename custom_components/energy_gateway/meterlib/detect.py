"""Tell which wire format a captured byte string holds, and decode it.

A small dispatch table: each format has a cheap probe over the raw bytes and a decoder for the
whole capture. More specific formats must come first (an M-Bus or HDLC frame can carry the same
`DB 08` cipher header that an encrypted P1 stream starts with). When several probes accept a
capture, the first format that decodes it to a snapshot wins: a bare ciphered APDU may hold a
P1 telegram or a DLMS notification, and only decrypting tells.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
import re

from .core.errors import DecodeError
from .core.model import Snapshot
from .cosem.ciphering import GLO_CIPHERING_TAG, apdu_length
from .dlms.decoder import DlmsDecoder
from .dlms.gbt import GBT_TAG, parse_block
from .dlms.hdlc import find_frame as find_hdlc_frame
from .dlms.mbus import find_frame as find_mbus_frame
from .dlms.notification import NOTIFICATION_TAG, parse_notification
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


def _probe_raw_dlms(data: bytes) -> bool:
    """A capture that starts with a whole DLMS APDU: notification, block or ciphered APDU."""
    try:
        if data[0] == NOTIFICATION_TAG:
            parse_notification(data)
            return True
        if data[0] == GBT_TAG:
            parse_block(data)
            return True
        if data[0] == GLO_CIPHERING_TAG:
            length = apdu_length(data)
            return length is not None and length <= len(data)
    except DecodeError:  # the A-XDR TruncatedError included
        return False
    return False


def _decode_dlms(data: bytes, keys: Keys) -> list[Result]:
    decoder = DlmsDecoder(key=keys.key, auth_key=keys.auth_key)
    return decoder.feed(data) + decoder.flush()


FORMATS: tuple[WireFormat, ...] = (
    WireFormat("mbus-dlms", find_mbus_frame, _decode_dlms),
    WireFormat("hdlc-dlms", find_hdlc_frame, _decode_dlms),
    WireFormat("p1", _probe_p1, _decode_p1),
    WireFormat("dlms", _probe_raw_dlms, _decode_dlms),
)


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

    Every format whose probe accepts the capture is tried in order; the first one that yields
    a snapshot wins, and when none does, the first accepted format's errors are returned.
    Raises DecodeError when the input is empty or in no known format.
    """
    payload = unhex_if_text(data)
    if not payload.strip():
        raise DecodeError("input is empty")
    first: tuple[str, list[Result]] | None = None
    for wire_format in FORMATS:
        if not wire_format.probe(payload):
            continue
        results = wire_format.decode(payload, keys or Keys())
        if any(isinstance(result, Snapshot) for result in results):
            return wire_format.name, results
        first = first or (wire_format.name, results)
    if first is None:
        raise DecodeError(
            "input is in no known format (no P1 telegram, encrypted frame or DLMS frame found)"
        )
    return first
