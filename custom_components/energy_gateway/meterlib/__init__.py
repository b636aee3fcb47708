"""Meter library: decode smart-meter messages into OBIS-keyed snapshots (no Home Assistant)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .core.errors import (
    ChecksumError,
    DecodeError,
    EncryptionError,
    KeyRequiredError,
    LinkError,
    MeterLibError,
    PortNotFoundError,
    PortPermissionError,
    UnsupportedListError,
    WrongKeyError,
)
from .core.lazy import lazy_attributes
from .core.model import Reading, ReadingValue, Snapshot

if TYPE_CHECKING:
    from .p1 import P1Decoder, parse_telegram

# Decoders pull in `cryptography`; load them on first use so `import meterlib` stays cheap.
_LAZY = {"P1Decoder": ".p1", "parse_telegram": ".p1"}

__all__ = [
    "ChecksumError",
    "DecodeError",
    "EncryptionError",
    "KeyRequiredError",
    "LinkError",
    "MeterLibError",
    "P1Decoder",
    "PortNotFoundError",
    "PortPermissionError",
    "Reading",
    "ReadingValue",
    "Snapshot",
    "UnsupportedListError",
    "WrongKeyError",
    "parse_telegram",
]

__getattr__ = lazy_attributes(__name__, _LAZY)
