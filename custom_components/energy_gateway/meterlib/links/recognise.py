"""Tell which push family a link carries by listening to it, before any family is chosen.

Each family lists the wire formats it recognises (`Family.capture_formats`, tried in their
declared order: M-Bus and HDLC framings before P1, a bare DLMS APDU last). Decoders alone
cannot tell the families apart: an encrypted P1 frame and an M-Bus DLMS push both read as
"encrypted, key needed" to either decoder. So a link is recognised when a format's probe
accepts what was heard AND that format's family decoder makes sense of it (a snapshot, or
a frame it could decrypt with a key). A format preceded by another family's formats must
hold for one more chunk, so a lower-ordered frame still arriving (an M-Bus frame two bytes
short, whose ciphered content passes for encrypted P1) can claim the bytes first.

On a serial port each line setting of the families is tried in turn; a port that stays
silent under the first setting is silent under every other (a wrong setting yields garbage,
not silence), so silence ends the search at once.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..core.errors import KeyRequiredError, LinkError, PortNotFoundError, PortPermissionError
from ..core.family import CaptureFormat, Family, Keys
from ..core.model import Snapshot
from .connections import create_link, serial_settings_for

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .connections import Link

HEARD_KEPT = 8192
"""Bytes kept while listening: several messages of any family, bounded against noise."""


@dataclass(frozen=True, slots=True)
class Recognition:
    """What listening to a link found out."""

    family: Family | None
    """The family the link carries; None when nothing known was heard."""
    format_name: str | None = None
    """The wire format seen (`p1`, `mbus-dlms`, `hdlc-dlms`, `dlms`)."""
    serial_preset: str | None = None
    """The serial setting that carried it (serial ports only)."""
    bytes_received: int = 0
    """How much was heard: 0 means a silent link, more means an unknown format."""


def _formats(families: Sequence[Family]) -> list[tuple[CaptureFormat, Family]]:
    pairs = [
        (fmt, family)
        for family in families
        if family.delivery == "push" and family.make_decoder is not None
        for fmt in family.capture_formats
    ]
    return sorted(pairs, key=lambda pair: pair[0].order)


def _probe_accepts(capture_format: CaptureFormat, heard: bytes) -> bool:
    """The format's cheap check; a check that trips over garbage accepts nothing."""
    try:
        return bool(capture_format.probe(heard))
    except Exception:  # garbage must never stop the search
        return False


def _decoder_agrees(family: Family, heard: bytes) -> bool:
    """The family's decoder reads `heard` as a message of its own (a key may be missing)."""
    assert family.make_decoder is not None
    try:
        results = family.make_decoder(Keys()).feed(heard)
    except Exception:  # garbage must never stop the search
        return False
    return any(isinstance(result, Snapshot | KeyRequiredError) for result in results)


def _unrivalled(
    found: tuple[CaptureFormat, Family], formats: list[tuple[CaptureFormat, Family]]
) -> bool:
    """No other family has a format tried before the one found: nothing still arriving
    could make the bytes another family's."""
    return all(family is found[1] for fmt, family in formats if fmt.order < found[0].order)


def recognise_bytes(
    heard: bytes, families: Sequence[Family]
) -> tuple[CaptureFormat, Family] | None:
    """The first format (in declared order) that `heard` holds, confirmed by its decoder."""
    for capture_format, family in _formats(families):
        if _probe_accepts(capture_format, heard) and _decoder_agrees(family, heard):
            return capture_format, family
    return None


async def recognise_link(
    link: Link,
    families: Sequence[Family],
    timeout: float,  # noqa: ASYNC109 - applied via asyncio.timeout, like wait_for_first_snapshot
) -> Recognition:
    """Open `link`, listen until a family is recognised or `timeout` passes; always close.

    Errors from open() and read() propagate as LinkError.
    """
    formats = _formats(families)
    heard = b""
    received = 0
    candidate: tuple[CaptureFormat, Family] | None = None
    try:
        await link.open()
        async with asyncio.timeout(timeout):
            while True:
                data = await link.read()
                received += len(data)
                heard = (heard + data)[-HEARD_KEPT:]
                found = recognise_bytes(heard, families)
                if found is not None and (found == candidate or _unrivalled(found, formats)):
                    return Recognition(found[1], found[0].name, bytes_received=received)
                candidate = found
    except TimeoutError:
        if candidate is None:
            return Recognition(None, bytes_received=received)
        return Recognition(candidate[1], candidate[0].name, bytes_received=received)
    finally:
        await link.close()


def serial_presets_of(families: Sequence[Family]) -> list[str]:
    """Every push family's serial settings, most common first, each once."""
    presets: dict[str, None] = {}
    for family in families:
        if family.delivery == "push":
            presets.update(dict.fromkeys(family.serial_presets))
    return list(presets)


async def recognise_serial(
    path: str, families: Sequence[Family], timeout_per_setting: float
) -> Recognition:
    """Try each push family's serial settings on `path` until a family is recognised.

    A missing port or a permission problem propagates at once; a setting the port refuses
    is skipped; when the port refused every setting, the last refusal propagates.
    """
    refusal: LinkError | None = None
    heard_garbage: Recognition | None = None
    for preset in serial_presets_of(families):
        try:
            found = await recognise_link(
                create_link(serial_settings_for(path, preset)), families, timeout_per_setting
            )
        except (PortNotFoundError, PortPermissionError):
            raise
        except LinkError as err:
            refusal = err
            continue
        if found.family is not None:
            return Recognition(found.family, found.format_name, preset, found.bytes_received)
        if found.bytes_received == 0:
            return found  # silent under one setting: silent under all
        heard_garbage = found
    if heard_garbage is not None:
        return heard_garbage
    if refusal is not None:
        raise refusal
    return Recognition(None)
