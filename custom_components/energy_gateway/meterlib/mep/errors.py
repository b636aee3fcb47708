"""Errors of the MEP client, fitted into the library's hierarchy (see `meterlib.core.errors`).

A rejected response is a `DecodeError` (never data); a silent meter is a `LinkError`. A wrong
key is the library's `WrongKeyError`, raised by the client.
"""

from __future__ import annotations

from ..core.errors import ChecksumError, DecodeError, LinkError


class MeterNotAnsweringError(LinkError):
    """No answer to a request, even to its one resend."""


class DigestMismatchError(ChecksumError):
    """A response whose authentication digest does not match: corrupted or forged."""


class ByteCountError(DecodeError):
    """A response whose length or byte count disagrees with what it carries or was asked."""


class FramingError(DecodeError):
    """Bytes that do not form an MEP message (impossible length, cut short)."""


class RequestRefusedError(DecodeError):
    """The meter answered with an error code (01-05) instead of data."""

    def __init__(self, code: int, meaning: str) -> None:
        super().__init__(f"The meter refused the request: response 0x{code:02X} ({meaning})")
        self.code = code


class SequenceError(DecodeError):
    """The meter kept rejecting our sequence number although we adopted its own."""
