"""DLMS/COSEM push frames: M-Bus and HDLC framing, data-notifications, known list layouts.

The names below load on first use, so that importing one layer (`dlms.hdlc` for the frame
finder) does not pull in the whole decoder and its ciphering.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.lazy import lazy_attributes

if TYPE_CHECKING:
    from ..core.frame import FrameInfo
    from .decoder import DlmsDecoder, decode_message

_LAZY = {"DlmsDecoder": ".decoder", "decode_message": ".decoder", "FrameInfo": "..core.frame"}

__all__ = ["DlmsDecoder", "FrameInfo", "decode_message"]

__getattr__ = lazy_attributes(__name__, _LAZY)
