"""Errors raised by the meter library. Every decoding failure is a DecodeError."""

from __future__ import annotations

from .frame import FrameInfo


class MeterLibError(Exception):
    """Base class of every error this library raises on purpose."""


class DecodeError(MeterLibError):
    """Bytes that cannot be turned into a snapshot."""

    frame: FrameInfo | None = None
    """What the decoder saw of the failed message (framing, security, system title), when it
    got that far; None otherwise."""

    def __init__(self, *args: object, raw: bytes = b"") -> None:
        super().__init__(*args)
        # The failed message itself, so diagnostics can show what actually arrived.
        self.raw = raw


class ChecksumError(DecodeError):
    """A frame arrived whole but its checksum (CRC) does not match."""


class UnsupportedListError(DecodeError):
    """A well-formed push whose list layout the decoder does not understand.

    Nothing of it is published: values are never filed under guessed codes. `raw` holds the
    message as it arrived and `shape` a short description of the list (element count and
    types, e.g. `structure(14): u16 x6, u32 x4, u16 x3, octet-string`), for a log line,
    diagnostics and a bug report.
    """

    def __init__(self, *args: object, raw: bytes = b"", shape: str = "") -> None:
        super().__init__(*args, raw=raw)
        self.shape = shape


class EncryptionError(DecodeError):
    """Base class for problems with an encrypted frame."""


class KeyRequiredError(EncryptionError):
    """The frame is encrypted and no key was given."""


class WrongKeyError(EncryptionError):
    """The frame did not decrypt to something valid with the given key(s)."""


class LinkError(MeterLibError):
    """A link (serial port, TCP stream) could not be opened or broke."""


class PortNotFoundError(LinkError):
    """The serial device does not exist."""


class PortPermissionError(LinkError):
    """The serial device exists but may not be opened by this user."""
