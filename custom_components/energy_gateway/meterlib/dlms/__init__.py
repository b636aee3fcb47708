"""DLMS/COSEM push frames: M-Bus and HDLC framing, data-notifications, known list layouts.

The names below load on first use, so that importing one layer (`dlms.hdlc` for the frame
finder) does not pull in the whole decoder and its ciphering.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.frame import FrameInfo
    from .decoder import DlmsDecoder, decode_message

_LAZY = {"DlmsDecoder": ".decoder", "decode_message": ".decoder", "FrameInfo": "..core.frame"}

__all__ = ["DlmsDecoder", "FrameInfo", "decode_message"]


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module, __name__), name)
