"""NES/Echelon MEP port client: digest-authenticated ANSI C12.19 table reads.

See `client.MepClient`; keys as users type them go through `keys.parse_key`.
"""

from __future__ import annotations

from .client import MepClient, MepStats, RtsMode
from .errors import (
    ByteCountError,
    DigestMismatchError,
    FramingError,
    MeterNotAnsweringError,
    RequestRefusedError,
    SequenceError,
)
from .keys import interpret_key, parse_key
from .tables import MepIdentity

__all__ = [
    "ByteCountError",
    "DigestMismatchError",
    "FramingError",
    "MepClient",
    "MepIdentity",
    "MepStats",
    "MeterNotAnsweringError",
    "RequestRefusedError",
    "RtsMode",
    "SequenceError",
    "interpret_key",
    "parse_key",
]
