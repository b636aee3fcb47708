"""Listen to a meter before an entry is created: what is on the link, and does the key work?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .const import (
    CONF_CONNECTION,
    CONF_SERIAL_MODE,
    CONF_SERIAL_PORT,
    CONNECTION_SERIAL,
    FIRST_MESSAGE_TIMEOUT,
    SERIAL_MODE_AUTO,
)
from .families import family_of, keys_of, link_settings
from .link_errors import link_error_key
from .meterlib.core.errors import (
    ChecksumError,
    KeyRequiredError,
    LinkError,
    UnsupportedListError,
    WrongKeyError,
)
from .meterlib.core.frame import FrameInfo
from .meterlib.core.model import Snapshot
from .meterlib.links.connections import create_link, preset_of
from .meterlib.links.stream import FirstResult, probe_serial, wait_for_first_snapshot

AUTO_MODE_TIMEOUT = 12.0
"""Seconds per serial setting in automatic detection (a DSMR 4 meter sends every 10 s)."""


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    """What listening to a link found: a snapshot, or the error key to show in the form."""

    snapshot: Snapshot | None = None
    error: str | None = None
    serial_mode: str | None = None
    """The serial settings that worked, when the user chose automatic detection."""
    frame: FrameInfo | None = None
    """What an encrypted source showed before a key was given."""


def classify(result: FirstResult, serial_mode: str | None = None) -> ProbeOutcome:
    """Turn what the link delivered into a snapshot or a precise error key."""
    if result.snapshot is not None:
        return ProbeOutcome(snapshot=result.snapshot, serial_mode=serial_mode)
    errors = result.errors
    for error in errors:
        if isinstance(error, KeyRequiredError):
            return ProbeOutcome(error="key_required", serial_mode=serial_mode, frame=error.frame)
    if any(isinstance(error, WrongKeyError) for error in errors):
        return ProbeOutcome(error="wrong_key", serial_mode=serial_mode)
    if any(isinstance(error, UnsupportedListError) for error in errors):
        # Decrypted and well-formed, but a layout the decoder does not know yet.
        return ProbeOutcome(error="unsupported_list", serial_mode=serial_mode)
    if errors and all(isinstance(error, ChecksumError) for error in errors):
        return ProbeOutcome(error="crc_failures")
    if result.bytes_received == 0:
        return ProbeOutcome(error="no_data")
    return ProbeOutcome(error="not_decodable")


async def probe_meter(data: Mapping[str, Any]) -> ProbeOutcome:
    """Listen with the settings in `data`; a serial mode of `auto` tries the family's
    presets in turn (the library's one detection loop)."""
    family = family_of(data)
    keys = keys_of(data)
    if family.make_decoder is None:
        raise ValueError(f"{family.name} meters must be asked, not listened to")
    make_decoder = family.make_decoder
    auto = (
        data[CONF_CONNECTION] == CONNECTION_SERIAL
        and data.get(CONF_SERIAL_MODE, SERIAL_MODE_AUTO) == SERIAL_MODE_AUTO
    )
    try:
        if auto:
            settings, result = await probe_serial(
                data[CONF_SERIAL_PORT],
                lambda: make_decoder(keys),
                AUTO_MODE_TIMEOUT,
                presets=family.serial_presets,
                identity_grace=family.identity_grace,
            )
            return classify(result, preset_of(settings))
        result = await wait_for_first_snapshot(
            create_link(link_settings(data)),
            make_decoder(keys),
            FIRST_MESSAGE_TIMEOUT,
            identity_grace=family.identity_grace,
        )
    except LinkError as err:
        return ProbeOutcome(error=link_error_key(err))
    return classify(result)


def normalise_key(text: str | None) -> str | None:
    """A key as 32 lower-case hex characters, None for an empty field; ValueError if invalid."""
    if not text:
        return None
    cleaned = "".join(text.split()).lower()
    if len(cleaned) != 32 or any(ch not in "0123456789abcdef" for ch in cleaned):
        raise ValueError("a key is 32 hexadecimal characters")
    return cleaned
