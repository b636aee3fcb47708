"""DLMS/COSEM push decoding: wired M-Bus (Austria), HDLC (Nordic HAN ports, Switzerland,
Slovenia) and raw APDUs, plain or general-glo-ciphered."""

from __future__ import annotations

from .decoder import DlmsDecoder, FrameInfo, decode_message

__all__ = ["DlmsDecoder", "FrameInfo", "decode_message"]
