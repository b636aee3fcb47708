"""The shape of a meter family: what every family declares for the rest of the code.

The registry of the families themselves is `meterlib.families`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from ..links.connections import LinkSettings
    from .errors import DecodeError
    from .model import Snapshot


class StreamDecoder(Protocol):
    """Incremental decoder: takes chunks, returns one result per complete message."""

    def feed(self, data: bytes) -> list[Snapshot | DecodeError]:
        """Add a chunk of the stream; return a result for every message it completed."""

    def flush(self) -> list[Snapshot | DecodeError]:
        """End of input: decode what is left."""


class PolledSource(Protocol):
    """A meter that answers requests (the polled families implement this)."""

    async def open(self) -> None:
        """Open the link; raises LinkError."""

    async def read(self) -> Snapshot:
        """Ask the meter for its values once; raises LinkError or DecodeError."""

    async def close(self) -> None:
        """Close the link; never raises."""

    def diagnostics(self) -> Mapping[str, object]:
        """Protocol facts for a bug report (identities included: callers redact them)."""


@dataclass(frozen=True, slots=True)
class Keys:
    """Keys for encrypted formats; either may be absent."""

    key: bytes | None = None
    auth_key: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaptureFormat:
    """A wire format a family recognises in a captured byte string (for `decode`)."""

    name: str
    title: str
    """What users call it: names of standards, the same in every language."""
    probe: Callable[[bytes], bool]
    """Cheap check over the raw capture: could it hold this format?"""
    order: int
    """Formats are tried in ascending order: specific framings before looser ones."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Family:
    """One meter family, as the rest of the code needs to know it."""

    id: str
    """Stable id, stored in config entries (`p1`, `dlms`)."""
    name: str
    """What users call it."""
    delivery: Literal["push", "poll"]
    """Push families send on their own; polled ones answer requests."""
    serial_presets: tuple[str, ...]
    """Line settings (keys of `links.connections.SERIAL_PRESETS`), most common first:
    automatic detection tries them in this order."""
    make_decoder: Callable[[Keys], StreamDecoder] | None = None
    """A fresh stream decoder (push families; None for polled ones)."""
    make_source: Callable[[LinkSettings, Keys], PolledSource] | None = None
    """An unopened source for a link (polled families; None for pushed ones)."""
    key_parser: Callable[[str], bytes] | None = None
    """How a key typed by a person becomes key bytes, for families whose keys are not the
    usual 32 hex digits (with an optional authentication key); raises ValueError saying
    what is wrong. None: the usual AES-128 keys."""
    capture_formats: tuple[CaptureFormat, ...] = ()
    identity_grace: float = 0.0
    """Seconds a first listen waits on for a message naming the meter, when the first one
    does not (some meters name themselves only in their longer list)."""
    diagnostics: Callable[[StreamDecoder], Mapping[str, object]] = field(
        default=lambda _decoder: {}
    )
    """Link-layer facts for a bug report (framing, security, counters); may hold identities
    that the caller redacts."""

    def format_title(self, format_name: str | None) -> str:
        """What users call the wire format `format_name` of this family (its name when the
        format is not known)."""
        return next(
            (capture.title for capture in self.capture_formats if capture.name == format_name),
            self.name,
        )
