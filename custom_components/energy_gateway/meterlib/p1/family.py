"""The P1 / DSMR family's registry entry."""

from __future__ import annotations

import re

from ..core.errors import DecodeError
from ..core.family import CaptureFormat, Family, Keys
from .decoder import P1Decoder
from .encrypted import FRAME_START, encrypted_frame_length

_TELEGRAM = re.compile(rb"/[A-Za-z]{3}[^!]*!", re.DOTALL)


def _holds_p1(data: bytes) -> bool:
    """A plain telegram, or the start of an encrypted frame with a plausible header."""
    if _TELEGRAM.search(data):
        return True
    start = data.find(FRAME_START)
    if start < 0:
        return False
    try:
        return encrypted_frame_length(data[start:]) is not None
    except DecodeError:
        return False


def _decoder(keys: Keys) -> P1Decoder:
    return P1Decoder(key=keys.key, auth_key=keys.auth_key)


FAMILY = Family(
    id="p1",
    name="P1 / DSMR",
    delivery="push",
    # DSMR 5, e-MUCS, Smarty first; DSMR 4; DSMR 2.2 and 3.
    serial_presets=("115200_8n1", "115200_7e1", "9600_7e1"),
    make_decoder=_decoder,
    capture_formats=(CaptureFormat(name="p1", title="P1", probe=_holds_p1, order=30),),
)
