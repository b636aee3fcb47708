"""The DLMS/COSEM push family's registry entry."""

from __future__ import annotations

from collections.abc import Mapping

from ..core.errors import DecodeError
from ..core.family import CaptureFormat, Family, Keys, StreamDecoder
from ..cosem.ciphering import GLO_CIPHERING_TAG, apdu_length
from .decoder import DlmsDecoder
from .gbt import GBT_TAG, parse_block
from .hdlc import find_frame as find_hdlc_frame
from .mbus import find_frame as find_mbus_frame
from .notification import NOTIFICATION_TAG, parse_notification

IDENTITY_GRACE = 12.0
"""Aidon's and Kaifa's short lists name no meter; the list that does comes every 10 s."""


def _starts_with_apdu(data: bytes) -> bool:
    """A capture that starts with a whole DLMS APDU: notification, block or ciphered APDU."""
    try:
        if data[0] == NOTIFICATION_TAG:
            parse_notification(data)
            return True
        if data[0] == GBT_TAG:
            parse_block(data)
            return True
        if data[0] == GLO_CIPHERING_TAG:
            length = apdu_length(data)
            return length is not None and length <= len(data)
    except DecodeError:  # the A-XDR TruncatedError included
        return False
    return False


def _decoder(keys: Keys) -> DlmsDecoder:
    return DlmsDecoder(key=keys.key, auth_key=keys.auth_key)


def _diagnostics(decoder: StreamDecoder) -> Mapping[str, object]:
    return decoder.diagnostics() if isinstance(decoder, DlmsDecoder) else {}


FAMILY = Family(
    id="dlms",
    name="DLMS/COSEM",
    delivery="push",
    # Wired M-Bus pushes (TINETZ, Netz NÖ) first, then the HDLC HAN ports.
    serial_presets=("2400_8e1", "2400_8n1", "9600_8n1", "9600_8e1", "115200_8n1"),
    make_decoder=_decoder,
    # An M-Bus or HDLC frame can carry the `DB 08` header an encrypted P1 stream starts
    # with: the framings are tried before P1, a bare APDU after it.
    capture_formats=(
        CaptureFormat(
            name="mbus-dlms", title="DLMS/COSEM (M-Bus)", probe=find_mbus_frame, order=10
        ),
        CaptureFormat(name="hdlc-dlms", title="DLMS/COSEM (HDLC)", probe=find_hdlc_frame, order=20),
        CaptureFormat(name="dlms", title="DLMS/COSEM", probe=_starts_with_apdu, order=40),
    ),
    identity_grace=IDENTITY_GRACE,
    diagnostics=_diagnostics,
)
