"""Meter and sub-meter ids as people read them."""

from __future__ import annotations

import re

_HEX_TEXT = re.compile(r"(?:[0-9A-Fa-f]{2})+", re.ASCII)


def decode_hex_ascii(text: str) -> str:
    """Decode hex-encoded ASCII ids (`4B38...` -> `K8...`); anything else stays as sent.

    P1 meters send their own equipment id and their sub-meters' (gas, water) this way.
    """
    if not _HEX_TEXT.fullmatch(text):
        return text
    decoded = bytes.fromhex(text)
    if decoded.isascii():
        ascii_text = decoded.decode("ascii")
        if ascii_text.isprintable() and ascii_text.strip():
            return ascii_text
    return text
