"""Listen to a meter before an entry is created: what is on the link, and does the key work?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .const import (
    CONF_CONNECTION,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONF_SOURCE,
    CONNECTION_SERIAL,
    FIRST_MESSAGE_TIMEOUT,
    SERIAL_MODE_AUTO,
    SERIAL_MODES,
    SOURCE_DLMS,
    SOURCE_P1,
)
from .meterlib.core.errors import (
    ChecksumError,
    KeyRequiredError,
    LinkError,
    PortNotFoundError,
    PortPermissionError,
    WrongKeyError,
)
from .meterlib.core.model import Snapshot
from .meterlib.dlms import FrameInfo
from .meterlib.links.connections import create_link, serial_settings_for
from .meterlib.links.stream import FirstResult, wait_for_first_snapshot
from .source import create_decoder, link_settings

AUTO_MODE_TIMEOUT = 12.0
IDENTITY_GRACE = 12.0
"""Seconds a DLMS probe listens on for a list naming the meter (Aidon's comes every 10 s)."""


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """What listening to a link found: a snapshot, or the error key to show in the form."""

    snapshot: Snapshot | None = None
    error: str | None = None
    serial_mode: str | None = None
    """The serial settings that worked, when the user chose automatic detection."""
    frame: FrameInfo | None = None
    """What an encrypted source showed before a key was given (a DLMS `FrameInfo`)."""


def classify(result: FirstResult) -> ProbeOutcome:
    """Turn what the link delivered into a snapshot or a precise error key."""
    if result.snapshot is not None:
        return ProbeOutcome(snapshot=result.snapshot)
    errors = result.errors
    for error in errors:
        if isinstance(error, KeyRequiredError):
            return ProbeOutcome(error="key_required", frame=error.frame)
    if any(isinstance(error, WrongKeyError) for error in errors):
        return ProbeOutcome(error="wrong_key")
    if errors and all(isinstance(error, ChecksumError) for error in errors):
        return ProbeOutcome(error="crc_failures")
    if result.bytes_received == 0:
        return ProbeOutcome(error="no_data")
    return ProbeOutcome(error="not_decodable")


async def probe_meter(data: Mapping[str, Any]) -> ProbeOutcome:
    """Listen with the settings in `data`.

    A serial mode of `auto` tries each mode in turn, each for `AUTO_MODE_TIMEOUT` (a DSMR 4
    meter sends every 10 s, so a shorter try could miss it).
    """
    timeout = FIRST_MESSAGE_TIMEOUT
    modes = [data.get(CONF_SERIAL_MODE, SERIAL_MODE_AUTO)]
    if data[CONF_CONNECTION] != CONNECTION_SERIAL:
        modes = [None]
    elif modes[0] == SERIAL_MODE_AUTO:
        modes = list(SERIAL_MODES[data.get(CONF_SOURCE, SOURCE_P1)])
        timeout = min(timeout, AUTO_MODE_TIMEOUT)
    outcome: ProbeOutcome | None = None
    for mode in modes:
        settings = (
            link_settings(data)
            if mode is None
            else serial_settings_for(data[CONF_SERIAL_PORT], mode)
        )
        try:
            result = await wait_for_first_snapshot(
                create_link(settings),
                create_decoder(data),
                timeout,
                identity_grace=IDENTITY_GRACE if data.get(CONF_SOURCE) == SOURCE_DLMS else 0.0,
            )
        except PortNotFoundError:
            return ProbeOutcome(error="port_not_found")
        except PortPermissionError:
            return ProbeOutcome(error="permission_denied")
        except LinkError:
            # Some ports refuse some line settings (a pseudo-terminal has no parity);
            # automatic detection moves on to the next mode.
            continue
        outcome = classify(result)
        if outcome.snapshot is not None or outcome.error in ("key_required", "wrong_key"):
            return ProbeOutcome(outcome.snapshot, outcome.error, mode, outcome.frame)
    return outcome or ProbeOutcome(error="cannot_connect")


def normalise_key(text: str | None) -> str | None:
    """A key as 32 lower-case hex characters, None for an empty field; ValueError if invalid."""
    if not text:
        return None
    cleaned = "".join(text.split()).lower()
    if len(cleaned) != 32 or any(ch not in "0123456789abcdef" for ch in cleaned):
        raise ValueError("a key is 32 hexadecimal characters")
    return cleaned
