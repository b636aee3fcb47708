"""MEP key entry: the forms utilities and tools hand the key out in, normalised to 16 bytes.

Utilities deliver the MEP key as 20 printable ASCII characters; tools show the same bytes as
40 hex digits, sometimes with a `0x` prefix and a trailing `00` (a 21-byte buffer). Only the
first 16 bytes take part in the digest. Length tells the forms apart. Messages never repeat
the key, only its shape.
"""

from __future__ import annotations

from string import hexdigits
from typing import Final, Literal

from .digest import KEY_SIZE

ASCII_LENGTHS: Final = (16, 20)
HEX_LENGTHS: Final = (32, 40)
_HEX_WITH_PAD: Final = 42
_HEX_DIGITS: Final = frozenset(hexdigits)

type KeyForm = Literal["ascii", "hex"]


def interpret_key(text: str) -> tuple[bytes, KeyForm]:
    """Return the 16 key bytes and which form `text` was read as; ValueError when unusable."""
    stripped = text.strip()
    has_prefix = stripped[:2].lower() == "0x"
    digits = stripped[2:] if has_prefix else stripped
    if len(digits) == _HEX_WITH_PAD and digits.endswith("00"):
        digits = digits[:-2]  # a firmware's 21-byte display buffer; no meaning
    if len(digits) in HEX_LENGTHS and _HEX_DIGITS.issuperset(digits):
        return bytes.fromhex(digits)[:KEY_SIZE], "hex"
    if len(stripped) in ASCII_LENGTHS:
        if not all(" " <= char <= "~" for char in stripped):
            raise ValueError(
                "The MEP key contains characters that are not printable ASCII; "
                "type the 20 characters exactly as the utility sent them"
            )
        return stripped.encode("ascii")[:KEY_SIZE], "ascii"
    if has_prefix:
        raise ValueError(
            f"An MEP key written with 0x needs 32 or 40 hex digits (0-9, A-F) after it; "
            f"this one has {len(stripped) - 2} characters there"
        )
    raise ValueError(
        f"An MEP key is 20 characters (as the utility sends it) or 40 hex digits; "
        f"this one has {len(stripped)} characters"
    )


def parse_key(text: str) -> bytes:
    """The 16 key bytes of a key typed in any accepted form; ValueError says what is wrong."""
    return interpret_key(text)[0]
